package member

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Text is one member field WeCom stores as text.
type Text struct {
	// Name is the field's key in a job's mapping, in user/create and
	// user/update bodies, in user/get answers and in the journal's record.
	Name string
	Get  func(*Record) string
	Set  func(*Record, string)
	// Check applies WeCom's rule to a final value; "" rule means fine.
	// Empty values of optional fields are fine: the field is not sent.
	Check func(v string) (rule, msg string)
	// NoClear is set where WeCom refuses an empty value on update, so an
	// update leaves the field as WeCom has it instead of clearing it:
	// gender takes only 1 or 2, biz_mail may be set but never cleared.
	NoClear bool
	// Taken is WeCom's errcode when another member holds the value (the
	// field is unique per corp); 0 when it is not unique.
	Taken int
	// Examples are two different valid values, for the test that walks
	// the table through every layer to WeCom and back.
	Examples [2]string
	// Shown is where user/get answers the field, when not under Name at
	// the top of the member object.
	Shown []string
}

// Rule ids of the text fields' checks, stable: the journal stores them.
const (
	RuleNameRequired      = "name_required"
	RuleNameLength        = "name_length"
	RuleAliasLength       = "alias_length"
	RuleMobileFormat      = "mobile_format"
	RuleEmailLength       = "email_length"
	RuleEmailFormat       = "email_format"
	RuleBizMailLength     = "biz_mail_length"
	RuleBizMailFormat     = "biz_mail_format"
	RulePositionLength    = "position_length"
	RuleGenderValue       = "gender_value"
	RuleTelephoneFormat   = "telephone_format"
	RuleAddressLength     = "address_length"
	RuleExternalPosLength = "external_position_length"
	RuleNicknameLength    = "nickname_length"
)

// WeCom's limits on the text fields (user/create, developer.work.weixin.qq.com
// document path 90195).
const (
	maxNameChars      = 64
	maxAliasChars     = 64
	maxPositionChars  = 128
	maxAddressChars   = 128
	maxTelephoneBytes = 32
	minEmailBytes     = 6
	maxEmailBytes     = 64
	maxExternalPos    = 12 // characters; documented as "12 Chinese characters"
)

var (
	telephoneRe = regexp.MustCompile(`^[0-9+\-,]*$`)
	// Deliberately simple: WeCom's own check is undocumented, and the aim
	// is to catch typos (missing @, spaces, a trailing dot), not to
	// implement RFC 5322.
	emailRe = regexp.MustCompile(`^[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$`)
)

// Errcodes WeCom answers for a unique value another member holds.
const (
	takenMobile  = 60104
	takenEmail   = 60106
	takenBizMail = 60145
)

// TextFields is the table, in the order a row's fields are checked, so the
// first failing rule of a row is always the same one.
var TextFields = []Text{
	{Name: "name", Examples: [2]string{"张伟", "张伟伟"}, Get: func(r *Record) string { return r.Name }, Set: func(r *Record, v string) { r.Name = v },
		Check: func(v string) (string, string) {
			switch {
			case v == "":
				return RuleNameRequired, "name is empty"
			case chars(v) > maxNameChars:
				return RuleNameLength, fmt.Sprintf("name is %d characters, WeCom allows %d", chars(v), maxNameChars)
			}
			return "", ""
		}},
	{Name: "alias", Examples: [2]string{"Zhang Wei", "Wei"}, Get: func(r *Record) string { return r.Alias }, Set: func(r *Record, v string) { r.Alias = v },
		Check: maxChars(RuleAliasLength, "alias", maxAliasChars)},
	{Name: "mobile", Examples: [2]string{"13800138001", "+852 51234567"}, Get: func(r *Record) string { return r.Mobile }, Set: func(r *Record, v string) { r.Mobile = v },
		Taken: takenMobile,
		Check: func(v string) (string, string) {
			if v != "" {
				if msg := checkMobile(v); msg != "" {
					return RuleMobileFormat, fmt.Sprintf("mobile %q: %s", v, msg)
				}
			}
			return "", ""
		}},
	{Name: "email", Examples: [2]string{"zw@example.com", "wei.zhang@example.com"}, Get: func(r *Record) string { return r.Email }, Set: func(r *Record, v string) { r.Email = v },
		Taken: takenEmail, Check: checkAddress("email", RuleEmailLength, RuleEmailFormat)},
	{Name: "biz_mail", Examples: [2]string{"zw@corp.example.com", "wei@corp.example.com"}, Get: func(r *Record) string { return r.BizMail }, Set: func(r *Record, v string) { r.BizMail = v },
		Taken: takenBizMail, NoClear: true, Check: checkAddress("biz_mail", RuleBizMailLength, RuleBizMailFormat)},
	{Name: "position", Examples: [2]string{"工程师", "高级工程师"}, Get: func(r *Record) string { return r.Position }, Set: func(r *Record, v string) { r.Position = v },
		Check: maxChars(RulePositionLength, "position", maxPositionChars)},
	{Name: "gender", Examples: [2]string{"1", "2"}, Get: func(r *Record) string { return r.Gender }, Set: func(r *Record, v string) { r.Gender = v },
		NoClear: true,
		Check: func(v string) (string, string) {
			if v != "" && v != "1" && v != "2" {
				return RuleGenderValue, fmt.Sprintf("gender %q: want 1 (male) or 2 (female); map the source's words", v)
			}
			return "", ""
		}},
	{Name: "telephone", Examples: [2]string{"010-12345678", "021-87654321"}, Get: func(r *Record) string { return r.Telephone }, Set: func(r *Record, v string) { r.Telephone = v },
		Check: func(v string) (string, string) {
			if len(v) > maxTelephoneBytes || !telephoneRe.MatchString(v) {
				return RuleTelephoneFormat, fmt.Sprintf("telephone %q: want at most %d digits, +, - and ,", v, maxTelephoneBytes)
			}
			return "", ""
		}},
	{Name: "address", Examples: [2]string{"北京市朝阳区", "上海市浦东新区"}, Get: func(r *Record) string { return r.Address }, Set: func(r *Record, v string) { r.Address = v },
		Check: maxChars(RuleAddressLength, "address", maxAddressChars)},
	{Name: "external_position", Examples: [2]string{"销售", "区域经理"}, Get: func(r *Record) string { return r.ExternalPosition }, Set: func(r *Record, v string) { r.ExternalPosition = v },
		Check: maxChars(RuleExternalPosLength, "external_position", maxExternalPos)},
	// The video-channel (视频号) name; user/get answers it inside
	// external_profile. WeCom documents no length for it: it is held to the
	// name's 64 characters, so a stray cell cannot carry a whole page.
	{Name: "nickname", Examples: [2]string{"张伟的视频号", "伟哥说"}, Shown: []string{"external_profile", "wechat_channels", "nickname"},
		Get: func(r *Record) string { return r.Nickname }, Set: func(r *Record, v string) { r.Nickname = v },
		Check: maxChars(RuleNicknameLength, "nickname", maxNameChars)},
}

// Structured names the member fields that are not plain text, as the
// planner and the executor name them in a plan's field list. department
// carries order and is_leader_in_dept with it, because WeCom reads both
// against the department list sent beside them.
var Structured = []string{"department", "enable", "main_department", "extattr", "direct_leader"}

// TextField finds a text field by name.
func TextField(name string) (Text, bool) {
	for _, f := range TextFields {
		if f.Name == name {
			return f, true
		}
	}
	return Text{}, false
}

// UniqueKey is the form in which WeCom compares a value of a unique field
// (mobile, email, biz_mail), so a planner can tell when a value moves from
// one member to another: "+86 138…" and "138…" are one number, addresses
// ignore case.
func UniqueKey(field, v string) string {
	if field == "mobile" {
		return NormalizeMobile(v)
	}
	return strings.ToLower(v)
}

func chars(s string) int { return utf8.RuneCountInString(s) }

func maxChars(rule, name string, limit int) func(string) (string, string) {
	return func(v string) (string, string) {
		if chars(v) > limit {
			return rule, fmt.Sprintf("%s is %d characters, WeCom allows %d", name, chars(v), limit)
		}
		return "", ""
	}
}

func checkAddress(name, lengthRule, formatRule string) func(string) (string, string) {
	return func(v string) (string, string) {
		switch {
		case v == "":
		case len(v) < minEmailBytes || len(v) > maxEmailBytes:
			return lengthRule, fmt.Sprintf("%s is %d bytes, WeCom wants %d to %d", name, len(v), minEmailBytes, maxEmailBytes)
		case !emailRe.MatchString(v):
			return formatRule, fmt.Sprintf("%s %q is not a valid address", name, v)
		}
		return "", ""
	}
}
