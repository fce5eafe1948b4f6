package mapper

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hrfeed/importer/internal/member"
)

// Rule ids of RowError, stable: the journal stores them and operators
// filter on them. Within one row the checks run in the order listed and
// the first failure is reported.
const (
	RuleRaggedRow      = "ragged_row" // and whatever rule a source sets on a row Problem
	RuleUnmappedValue  = "unmapped_value"
	RuleUseridRequired = "userid_required"
	RuleUseridLength   = "userid_length"
	RuleUseridFormat   = "userid_format"
	RuleStatusValue    = "status_value"
	// The text fields' rules are the member package's, with the field table.
	RuleNameRequired      = member.RuleNameRequired
	RuleNameLength        = member.RuleNameLength
	RuleAliasLength       = member.RuleAliasLength
	RuleMobileFormat      = member.RuleMobileFormat
	RuleEmailLength       = member.RuleEmailLength
	RuleEmailFormat       = member.RuleEmailFormat
	RuleBizMailLength     = member.RuleBizMailLength
	RuleBizMailFormat     = member.RuleBizMailFormat
	RulePositionLength    = member.RulePositionLength
	RuleGenderValue       = member.RuleGenderValue
	RuleTelephoneFormat   = member.RuleTelephoneFormat
	RuleAddressLength     = member.RuleAddressLength
	RuleExternalPosLength = member.RuleExternalPosLength
	RuleEnableValue       = "enable_value"
	RuleIsLeaderValue     = "is_leader_value"
	RuleOrderValue        = "order_value"
	RuleDateFormat        = "date_format" // a date transform could not read the value
	RuleExtAttrTextLength = "extattr_text_length"
	RuleExtAttrWebURL     = "extattr_web_url"
	RuleExtAttrWebTitle   = "extattr_web_title_length"
	// RuleExtAttrWebIncomplete: a web attribute has a url but no title
	// (WeCom wants both or neither; a title without a url is dropped).
	RuleExtAttrWebIncomplete = "extattr_web_incomplete"
	RuleDirectLeaderFormat   = "direct_leader_format"
	RuleDirectLeaderSelf     = "direct_leader_self"
	RuleDirectLeaderCount    = "direct_leader_count"
	RuleToInviteValue        = "to_invite_value"
	RuleDepartmentMissing    = "department_missing"
	RuleDepartmentEmpty      = "department_name_empty"
	RuleDepartmentChars      = "department_name_chars"
	RuleDepartmentLength     = "department_name_length"
	RuleDepartmentDepth      = "department_depth"
	RuleDepartmentCount      = "department_count"
	// Per-department values and codes whose count does not match the
	// department cell's (is_leader_in_dept: WeCom's 60132).
	RuleIsLeaderCount       = "is_leader_count"
	RuleOrderCount          = "order_count"
	RuleDepartmentCodeCount = "department_code_count"
	// Table mode: a member's department code.
	RuleDepartmentUnknown  = "department_unknown"
	RuleDepartmentRejected = "department_rejected"
	// main_department is not one of the member's departments.
	RuleMainDepartmentNotMember = "main_department_not_member"
	RuleMobileOrEmail           = "mobile_or_email"
	RuleDuplicateUserid         = "duplicate_userid"
	RuleDuplicateMobile         = "duplicate_mobile"
	RuleDuplicateEmail          = "duplicate_email"
	RuleDuplicateBizMail        = "duplicate_biz_mail"
	// RuleDepartmentCodeConflict: code_column pairs a path and a code
	// differently from an earlier row, or a code spells another
	// department's path key.
	RuleDepartmentCodeConflict = "department_code_conflict"
	RuleUnknownLeader          = "unknown_leader"
	// Warnings, not rejects: the row is applied (Directory.Warnings).
	RuleLeaderKept    = "leader_kept"
	RuleLeaderDropped = "leader_dropped"
	// RuleSeparatorInFewRows: only a minority of the path column's values
	// hold the separator, so it may be part of names (IT/IS).
	RuleSeparatorInFewRows = "separator_in_few_rows"
)

// Rule ids of department-table rows (AddDepartmentRow). A row's own
// fields are checked first, then its place in the tree. The name rules
// (department_name_empty, _chars, _length) and department_depth are
// shared with path mode.
const (
	RuleDepartmentIDRequired    = "department_id_required"
	RuleDuplicateDepartmentID   = "duplicate_department_id"
	RuleDepartmentOrderValue    = "department_order_value"
	RuleDepartmentParentUnknown = "department_parent_unknown"
	RuleDepartmentCycle         = "department_cycle"
	// RuleDepartmentParentRejected: the parent exists but was itself
	// rejected, so this department could not be created under it.
	RuleDepartmentParentRejected = "department_parent_rejected"
	RuleDuplicateDepartmentName  = "duplicate_department_name"
)

// WeCom limits of the fields that are not in the member table (user/create,
// developer.work.weixin.qq.com document path 90195).
const (
	maxUseridBytes = 64
	// Direct leaders per member: today's user pages say 1, the default;
	// errcode 60257's text, and older pages, say 5, the most a config may ask.
	defaultMaxDirectLeaders = 1
	maxDirectLeadersEver    = 5
	maxDepartments          = 100 // per member; older docs say 20 [?]
)

var useridRe = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_\-@.]*$`)

// forbiddenDeptChars are rejected by department/create (60009); the docs
// print the full-width ｜ and the errcode text the ASCII |, so both go.
const forbiddenDeptChars = `\:*?"<>|｜`

// checkUserid applies WeCom's userid rules; it is shared by the userid
// field and by each direct_leader entry.
func checkUserid(v string) (rule, msg string) {
	switch {
	case v == "":
		return RuleUseridRequired, "userid is empty"
	case len(v) > maxUseridBytes:
		return RuleUseridLength, fmt.Sprintf("userid is %d bytes, WeCom allows %d", len(v), maxUseridBytes)
	case !useridRe.MatchString(v):
		return RuleUseridFormat, fmt.Sprintf("userid %q: letters, digits, _ - @ . only, starting with a letter or digit", v)
	}
	return "", ""
}

// checkValue applies the row-independent rule of one member field to its
// final value; "" rule means the value is fine. Empty values of optional
// fields are fine: the field is then simply not sent.
func checkValue(name, v string) (rule, msg string) {
	if f, ok := member.TextField(name); ok {
		return f.Check(v)
	}
	switch name {
	case FieldUserID:
		return checkUserid(v)
	case FieldEnable:
		if v != "" && v != "0" && v != "1" {
			return RuleEnableValue, fmt.Sprintf("enable %q: want 1 or 0", v)
		}
	case FieldIsLeader:
		if v != "" && v != "0" && v != "1" {
			return RuleIsLeaderValue, fmt.Sprintf("is_leader %q: want 1 or 0", v)
		}
	case FieldOrder:
		if v != "" {
			if _, err := strconv.ParseUint(v, 10, 32); err != nil {
				return RuleOrderValue, fmt.Sprintf("order %q: want a whole number from 0 to 4294967295", v)
			}
		}
	case FieldToInvite:
		if v != "" && v != "true" && v != "false" {
			return RuleToInviteValue, fmt.Sprintf("to_invite %q: want true or false", v)
		}
	}
	return "", ""
}

// splitLeaders reads a direct_leader cell. Full-width separators are
// accepted because Chinese input methods type them by default.
func splitLeaders(v string) []string {
	parts := strings.FieldsFunc(v, func(r rune) bool {
		return strings.ContainsRune(",;|，；｜", r)
	})
	out := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func chars(s string) int { return utf8.RuneCountInString(s) }

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// mobileKey and emailKey are what uniqueness is judged on.
func mobileKey(v string) string { return member.UniqueKey(FieldMobile, v) }
func emailKey(v string) string  { return member.UniqueKey(FieldEmail, v) }
func useridKey(v string) string { return strings.ToLower(v) }
