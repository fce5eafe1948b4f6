package scaffold

import (
	"strings"
	"unicode"
)

// A known column: the member field a header names, by the spellings HR
// systems and WeCom's own exports use. Spellings are compared after
// normalise, so "手机号码（必填）", "E-Mail" and "Employee ID" match.
type known struct {
	field     string
	spellings []string
}

// Pseudo-fields for columns that are not member fields of Config.Fields.
const (
	fieldStatus      = "status"
	fieldDepartments = "departments"
)

// knownColumns is tried in order, and a column goes to the first field
// that claims it, so the more specific field comes first: 企业邮箱 is
// biz_mail before 邮箱 could be email, and WeCom's own 帐号 is the userid
// before an HR 工号 is.
var knownColumns = []known{
	{"userid", []string{"帐号", "账号", "userid", "成员帐号", "成员账号", "工号", "员工工号", "员工编号", "员工号", "职工号", "人员编号", "员工id", "employeeid", "employeeno", "employeenumber", "empid", "empno", "staffid", "staffno"}},
	{"name", []string{"姓名", "员工姓名", "成员姓名", "名字", "name", "fullname", "employeename"}},
	{"alias", []string{"别名", "英文名", "alias", "englishname"}},
	{"mobile", []string{"手机", "手机号", "手机号码", "移动电话", "mobile", "mobilephone", "cellphone", "cell"}},
	{"biz_mail", []string{"企业邮箱", "企业邮件", "bizmail"}},
	{"email", []string{"邮箱", "个人邮箱", "电子邮箱", "电子邮件", "邮件", "工作邮箱", "email", "mail", "personalemail", "workemail"}},
	{"position", []string{"职务", "职位", "岗位", "职位名称", "岗位名称", "position", "title", "jobtitle"}},
	{"gender", []string{"性别", "gender", "sex"}},
	{"telephone", []string{"座机", "办公电话", "固定电话", "电话", "分机", "telephone", "tel", "officephone", "landline"}},
	{"address", []string{"地址", "办公地址", "办公地点", "address", "officeaddress"}},
	{"external_position", []string{"对外职务", "externalposition"}},
	{"direct_leader", []string{"直属上级", "直接上级", "直属领导", "直接主管", "直属主管", "汇报对象", "汇报人", "上级工号", "直属上级工号", "directleader", "manager", "managerid", "reportsto"}},
	{"is_leader", []string{"是否领导", "是否部门负责人", "部门负责人", "是否负责人", "isleader", "isleaderindept"}},
	{"order", []string{"排序", "次序", "order"}},
	{"main_department", []string{"主部门", "maindepartment"}},
	{fieldStatus, []string{"状态", "在职状态", "员工状态", "人员状态", "任职状态", "雇佣状态", "status", "employmentstatus"}},
	{fieldDepartments, []string{"部门", "所在部门", "所属部门", "部门路径", "部门全称", "部门名称", "组织", "组织架构", "department", "departments", "dept", "departmentpath", "orgpath"}},
}

// normalise folds a header cell to the form knownColumns spells: lower
// case, no spaces, dashes, underscores or dots, no marks such as "*" and
// no parenthesised note ("（必填）", "(optional)").
func normalise(h string) string {
	var b strings.Builder
	depth := 0
	for _, r := range strings.ToLower(h) {
		switch r {
		case '(', '（', '[', '【':
			depth++
			continue
		case ')', '）', ']', '】':
			if depth > 0 {
				depth--
			}
			continue
		}
		if depth > 0 || unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// recognise assigns header columns to fields: each field gets the column
// of its earliest spelling that the header has, each column at most one
// field. It returns field → column.
func recognise(header []string) map[string]string {
	byNorm := map[string]string{}
	for _, h := range header {
		n := normalise(h)
		if _, dup := byNorm[n]; n != "" && !dup {
			byNorm[n] = h
		}
	}
	taken := map[string]bool{}
	out := map[string]string{}
	for _, k := range knownColumns {
		for _, s := range k.spellings {
			if col, ok := byNorm[s]; ok && !taken[col] {
				out[k.field] = col
				taken[col] = true
				break
			}
		}
	}
	return out
}

// Score is how many of header's cells name a known column: a caller
// looking for the header row below a banner takes the first row that
// names a few.
func Score(header []string) int {
	return len(recognise(header))
}
