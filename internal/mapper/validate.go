package mapper

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Rule ids of RowError, stable: the journal stores them and operators
// filter on them. Within one row the checks run in the order listed and
// the first failure is reported.
const (
	RuleRaggedRow         = "ragged_row" // and whatever rule a source sets on a row Problem
	RuleUnmappedValue     = "unmapped_value"
	RuleUseridRequired    = "userid_required"
	RuleUseridLength      = "userid_length"
	RuleUseridFormat      = "userid_format"
	RuleStatusValue       = "status_value"
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
	RuleEnableValue       = "enable_value"
	RuleIsLeaderValue     = "is_leader_value"
	RuleOrderValue        = "order_value"
	RuleExternalPosLength = "external_position_length"
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

// WeCom limits (wecom-api.md §2.1, §3).
const (
	maxUseridBytes    = 64
	maxNameChars      = 64
	maxAliasChars     = 64
	maxPositionChars  = 128
	maxAddressChars   = 128
	maxTelephoneBytes = 32
	minEmailBytes     = 6
	maxEmailBytes     = 64
	maxExternalPos    = 12  // characters; documented as "12 Chinese characters"
	maxDirectLeaders  = 5   // errcode 60257; some 2025 copies say 1 [?]
	maxDepartments    = 100 // per member; older docs say 20 [?]
)

var (
	useridRe    = regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_\-@.]*$`)
	telephoneRe = regexp.MustCompile(`^[0-9+\-,]*$`)
	// Deliberately simple: WeCom's own check is undocumented, and the aim
	// is to catch typos (missing @, spaces, a trailing dot), not to
	// implement RFC 5322.
	emailRe = regexp.MustCompile(`^[A-Za-z0-9._%+\-']+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$`)
)

// forbiddenDeptChars are rejected by department/create (60009); the docs
// print the full-width ｜ and the errcode text the ASCII |, so both go.
const forbiddenDeptChars = `\:*?"<>|｜`

func chars(s string) int { return utf8.RuneCountInString(s) }

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
	switch name {
	case FieldUserID:
		return checkUserid(v)
	case FieldName:
		switch {
		case v == "":
			return RuleNameRequired, "name is empty"
		case chars(v) > maxNameChars:
			return RuleNameLength, fmt.Sprintf("name is %d characters, WeCom allows %d", chars(v), maxNameChars)
		}
	case FieldAlias:
		if chars(v) > maxAliasChars {
			return RuleAliasLength, fmt.Sprintf("alias is %d characters, WeCom allows %d", chars(v), maxAliasChars)
		}
	case FieldMobile:
		if v != "" {
			if msg := checkMobile(v); msg != "" {
				return RuleMobileFormat, fmt.Sprintf("mobile %q: %s", v, msg)
			}
		}
	case FieldEmail:
		switch {
		case v == "":
		case len(v) < minEmailBytes || len(v) > maxEmailBytes:
			return RuleEmailLength, fmt.Sprintf("email is %d bytes, WeCom wants %d to %d", len(v), minEmailBytes, maxEmailBytes)
		case !emailRe.MatchString(v):
			return RuleEmailFormat, fmt.Sprintf("email %q is not a valid address", v)
		}
	case FieldBizMail:
		switch {
		case v == "":
		case len(v) < minEmailBytes || len(v) > maxEmailBytes:
			return RuleBizMailLength, fmt.Sprintf("biz_mail is %d bytes, WeCom wants %d to %d", len(v), minEmailBytes, maxEmailBytes)
		case !emailRe.MatchString(v):
			return RuleBizMailFormat, fmt.Sprintf("biz_mail %q is not a valid address", v)
		}
	case FieldExternalPosition:
		if chars(v) > maxExternalPos {
			return RuleExternalPosLength, fmt.Sprintf("external_position is %d characters, WeCom allows %d", chars(v), maxExternalPos)
		}
	case FieldPosition:
		if chars(v) > maxPositionChars {
			return RulePositionLength, fmt.Sprintf("position is %d characters, WeCom allows %d", chars(v), maxPositionChars)
		}
	case FieldGender:
		if v != "" && v != "1" && v != "2" {
			return RuleGenderValue, fmt.Sprintf("gender %q: want 1 (male) or 2 (female); map the source's words", v)
		}
	case FieldTelephone:
		if len(v) > maxTelephoneBytes || !telephoneRe.MatchString(v) {
			return RuleTelephoneFormat, fmt.Sprintf("telephone %q: want at most %d digits, +, - and ,", v, maxTelephoneBytes)
		}
	case FieldAddress:
		if chars(v) > maxAddressChars {
			return RuleAddressLength, fmt.Sprintf("address is %d characters, WeCom allows %d", chars(v), maxAddressChars)
		}
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

// mobileKey and emailKey are what uniqueness is judged on: WeCom treats
// "+86 138…" and "138…" as one number and addresses case-insensitively.
func mobileKey(v string) string { return normalizeMobile(v) }
func emailKey(v string) string  { return strings.ToLower(v) }

// UniqueKey is the form in which WeCom compares a value of a field it
// keeps unique per corp (mobile, email, biz_mail), so the planner can tell
// when a value moves from one member to another.
func UniqueKey(field, v string) string {
	if field == FieldMobile {
		return mobileKey(v)
	}
	return emailKey(v)
}
func useridKey(v string) string { return strings.ToLower(v) }
