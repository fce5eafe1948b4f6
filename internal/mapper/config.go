package mapper

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hrfeed/importer/internal/member"
	"github.com/hrfeed/importer/internal/quote"
)

// Config maps source columns to WeCom members and departments. It knows
// nothing of YAML: internal/config reads a job's mapping key and
// translates it into this type.
type Config struct {
	Fields      map[string]Field // member field -> source
	Departments DeptConfig
	// Status is optional: its value after transforms and map must be
	// "active" or "leaver". Without it every row is active.
	Status *Field
	// ExtAttr maps extattr names, as defined in the WeCom admin console,
	// to their source. WeCom silently ignores a name it does not know, so
	// a typo here shows up only as an attribute that never fills.
	ExtAttr map[string]AttrSource
	// OnUnknownLeader says what a direct_leader naming someone the feed
	// cannot vouch for (not in the feed, a leaver, a rejected row) does to
	// the member: LeaderKeep (default) applies the rest of the row and
	// leaves direct_leader as WeCom holds it, LeaderDrop applies the row
	// with that leader removed, LeaderReject rejects the row (which then
	// holds the member, and spreads to the rows it leads).
	OnUnknownLeader string
	// Tags give members WeCom tags from their row. Without rules the job
	// leaves tags alone: it neither adds members to tags nor removes any.
	Tags []TagRule
	// MaxDirectLeaders is how many direct leaders a member may have:
	// WeCom's create, update and get pages say one today (errcode 60257's
	// text still says five); 0 means the pages' 1, and a corp whose WeCom
	// still takes five sets 5.
	MaxDirectLeaders int
}

// On-unknown-leader policies (Config.OnUnknownLeader).
const (
	LeaderKeep   = "keep"
	LeaderDrop   = "drop"
	LeaderReject = "reject"
)

// DeptConfig says where members' departments come from: a path column in
// the member rows (PathColumn), or a separate department table (Table)
// that member rows reference by HR code (DepartmentCodeColumn).
type DeptConfig struct {
	PathColumn  string // e.g. 部门, value "总部/研发中心/后端组"
	Separator   string // default "/"
	StripPrefix string // optional leading path to drop (e.g. the corp name)
	// Multi separates several values in one cell, e.g. ";": several paths
	// or codes, and the matching per-department values of is_leader, order
	// and code_column.
	Multi    string
	MaxDepth int // default 14 (WeCom allows 15 levels counting the root)
	NameMax  int // default 32 chars: the stricter of WeCom's documented 32 and 64
	// CodeColumn (path mode, optional) holds the HR code of the
	// department each path ends in, parallel to the path cell. The code
	// becomes that department's Key, so a rename or a move in HR is an
	// update of one department rather than a new one.
	CodeColumn string
	// Table reads departments from their own source, fed through
	// Mapper.AddDepartmentRow; the Key of each is its HR id.
	Table *DeptTable
	// DepartmentCodeColumn (table mode, required) is the member column
	// holding the HR ids of the member's departments (several with Multi).
	DepartmentCodeColumn string
}

// DeptTable names the columns of a department table: one row per
// department, with its HR id and its parent's.
type DeptTable struct {
	IDColumn     string
	ParentColumn string // empty value: a top-level department
	NameColumn   string
	OrderColumn  string // optional; larger sorts first in WeCom
	// RootID is the HR id standing for WeCom's root (the corp itself),
	// often listed as the table's top row. That row, if present, is not a
	// department, and its children are top-level. Members cannot be placed
	// in it, as in path mode.
	RootID string
}

// Defaults and hard limits of DeptConfig.
const (
	DefaultSeparator = "/"
	DefaultMaxDepth  = 14
	DefaultNameMax   = 32
	maxNameMax       = 64
	statusActive     = "active"
	statusLeaver     = "leaver"
)

// Member field names, the keys of Config.Fields.
const (
	FieldUserID       = "userid"
	FieldName         = "name"
	FieldAlias        = "alias"
	FieldMobile       = "mobile"
	FieldEmail        = "email"
	FieldBizMail      = "biz_mail"
	FieldPosition     = "position"
	FieldGender       = "gender"
	FieldTelephone    = "telephone"
	FieldAddress      = "address"
	FieldEnable       = "enable"
	FieldIsLeader     = "is_leader"
	FieldOrder        = "order"
	FieldDirectLeader = "direct_leader"
	FieldToInvite     = "to_invite"
	// FieldMainDepartment names one of the member's departments: a path
	// in path mode, an HR id in table mode.
	FieldMainDepartment   = "main_department"
	FieldExternalPosition = "external_position"
)

// memberFields is every key Config.Fields accepts, in the order a row's
// fields are checked, so the first failing rule is always the same one:
// userid, the text fields of the member table in its order, then the
// fields with rules of their own.
var memberFields = func() []string {
	f := []string{FieldUserID}
	for _, t := range member.TextFields {
		f = append(f, t.Name)
	}
	return append(f, FieldEnable, FieldIsLeader, FieldOrder, FieldMainDepartment, FieldDirectLeader, FieldToInvite)
}()

// perDepartment are the fields whose cell may hold one value per
// department, split with DeptConfig.Multi.
var perDepartment = []string{FieldIsLeader, FieldOrder}

// enums are the fields whose final value is one of a few words; a map or
// default that yields anything else is a config mistake, caught before a
// single row is read.
var enums = map[string][]string{
	FieldGender:   {"1", "2"},
	FieldEnable:   {"0", "1"},
	FieldIsLeader: {"0", "1"},
	FieldToInvite: {"true", "false"},
	"status":      {statusActive, statusLeaver},
}

// withDefaults fills the zero values of DeptConfig.
func (d DeptConfig) withDefaults() DeptConfig {
	if d.Separator == "" {
		d.Separator = DefaultSeparator
	}
	if d.MaxDepth == 0 {
		d.MaxDepth = DefaultMaxDepth
	}
	if d.NameMax == 0 {
		d.NameMax = DefaultNameMax
	}
	return d
}

// Validate reports every mistake in the config at once, each naming the
// config key, so one edit fixes them all.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var unknown []string
	for name := range c.Fields {
		if !slices.Contains(memberFields, name) {
			unknown = append(unknown, name)
		}
	}
	sort.Strings(unknown)
	for _, name := range unknown {
		bad("fields.%s: unknown member field (want one of %s)", name, strings.Join(memberFields, ", "))
	}
	for _, name := range []string{FieldUserID, FieldName} {
		if _, ok := c.Fields[name]; !ok {
			bad("fields.%s: required", name)
		}
	}
	_, mobile := c.Fields[FieldMobile]
	_, email := c.Fields[FieldEmail]
	if !mobile && !email {
		bad("fields: map mobile or email: WeCom rejects a member with neither (60129)")
	}
	for _, name := range memberFields {
		if f, ok := c.Fields[name]; ok {
			errs = append(errs, f.validate("fields."+name, enums[name])...)
		}
	}
	if c.MaxDirectLeaders < 0 || c.MaxDirectLeaders > maxDirectLeadersEver {
		bad("max_direct_leaders %d: want 1 to %d", c.MaxDirectLeaders, maxDirectLeadersEver)
	}
	switch c.OnUnknownLeader {
	case "", LeaderKeep, LeaderDrop, LeaderReject:
	default:
		bad("on_unknown_leader %q: want keep, drop or reject", c.OnUnknownLeader)
	}
	if c.Status != nil {
		errs = append(errs, c.Status.validate("status", enums["status"])...)
	}
	attrNames := make([]string, 0, len(c.ExtAttr))
	for name := range c.ExtAttr {
		attrNames = append(attrNames, name)
	}
	sort.Strings(attrNames)
	for _, name := range attrNames {
		if strings.TrimSpace(name) == "" {
			bad("extattr: an attribute needs a name")
			continue
		}
		errs = append(errs, c.ExtAttr[name].validate("extattr."+name)...)
	}
	for i, r := range c.Tags {
		errs = append(errs, r.validate(fmt.Sprintf("tags[%d]", i))...)
	}
	errs = append(errs, c.Departments.validate()...)
	return errors.Join(errs...)
}

func (d DeptConfig) validate() []error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if t := d.Table; t != nil {
		for _, kv := range [][2]string{{"path_column", d.PathColumn}, {"separator", d.Separator}, {"strip_prefix", d.StripPrefix}, {"code_column", d.CodeColumn}} {
			if kv[1] != "" {
				bad("departments.%s: only for a path column; with departments.table members name departments by department_code_column", kv[0])
			}
		}
		for _, kv := range [][2]string{{"id_column", t.IDColumn}, {"parent_column", t.ParentColumn}, {"name_column", t.NameColumn}} {
			if strings.TrimSpace(kv[1]) == "" {
				bad("departments.table.%s: required", kv[0])
			}
		}
		if strings.TrimSpace(d.DepartmentCodeColumn) == "" {
			bad("departments.department_code_column: required with departments.table")
		}
	} else {
		if strings.TrimSpace(d.PathColumn) == "" {
			bad("departments.path_column: required (or departments.table)")
		}
		if d.DepartmentCodeColumn != "" {
			bad("departments.department_code_column: only with departments.table; in path mode use code_column")
		}
		if d.Multi != "" && d.Multi == d.withDefaults().Separator {
			bad("departments.multi: %q is also the path separator", d.Multi)
		}
	}
	if d.MaxDepth < 0 || d.MaxDepth > DefaultMaxDepth {
		bad("departments.max_depth: %d: want 1 to %d (WeCom allows 15 levels counting the root)", d.MaxDepth, DefaultMaxDepth)
	}
	if d.NameMax < 0 || d.NameMax > maxNameMax {
		bad("departments.name_max: %d: want 1 to %d", d.NameMax, maxNameMax)
	}
	return errs
}

func (f Field) validate(key string, enum []string) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	sources := 0
	for _, set := range []bool{f.Column != "", len(f.OneOf) > 0, f.Const != "", f.Template != ""} {
		if set {
			sources++
		}
	}
	switch {
	case sources == 0:
		bad("needs a column, a const or a template")
	case sources > 1:
		bad("give only one of column %q, const %q and template %q; use default for a fallback", strings.Join(f.columns(), "|"), f.Const, f.Template)
	}
	if f.Optional && f.Const != "" {
		bad("optional is for a field read from columns; a const is always there")
	}
	if f.Template != "" {
		if _, err := parseTemplate(f.Template); err != nil {
			bad("%v", err)
		}
	}
	for _, t := range f.Transform {
		if _, err := compileStep(t); err != nil {
			bad("%v", err)
		}
	}
	if enum != nil {
		keys := make([]string, 0, len(f.Map))
		for k := range f.Map {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if v := f.Map[k]; v != "" && !slices.Contains(enum, v) {
				bad("map %q: %q: want one of %s", k, v, strings.Join(enum, ", "))
			}
		}
		if f.Default != "" && !slices.Contains(enum, f.Default) {
			bad("default %q: want one of %s", f.Default, strings.Join(enum, ", "))
		}
	}
	return errs
}

// Columns lists the member-source columns the config reads, sorted, so a
// caller can check them against a source's header before reading any row.
func (c Config) Columns() []string {
	set := map[string]bool{}
	add := func(f Field) {
		for _, col := range f.columns() {
			set[col] = true
		}
	}
	for _, f := range c.Fields {
		add(f)
	}
	if c.Status != nil {
		add(*c.Status)
	}
	for _, a := range c.ExtAttr {
		if a.Web != nil {
			add(a.Web.URL)
			add(a.Web.Title)
		} else {
			add(a.Field)
		}
	}
	for _, r := range c.Tags {
		for _, col := range r.columns() {
			set[col] = true
		}
	}
	d := c.Departments
	for _, col := range []string{d.PathColumn, d.CodeColumn, d.DepartmentCodeColumn} {
		if col != "" {
			set[col] = true
		}
	}
	return sortedKeys(set)
}

// DepartmentColumns lists the department-table columns the config reads,
// sorted; nil without departments.table.
func (c Config) DepartmentColumns() []string {
	t := c.Departments.Table
	if t == nil {
		return nil
	}
	set := map[string]bool{}
	for _, col := range []string{t.IDColumn, t.ParentColumn, t.NameColumn, t.OrderColumn} {
		if col != "" {
			set[col] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// CheckColumns reports the configured columns missing from the member
// source's header. A missing column would otherwise read as empty on every
// row and reject (or, worse, blank a field of) the whole feed.
func (c Config) CheckColumns(header []string) error {
	_, err := c.ForHeader(header)
	return err
}

// ForHeader is the config as it reads a source with this header: a field
// naming several spellings of its column (OneOf) reads the first the
// header has, and an optional field whose columns the header lacks is
// left out — not mapped, so WeCom keeps what it holds, where mapping it to
// empty cells would clear it. It fails naming every required column the
// header lacks, each field's spellings together.
func (c Config) ForHeader(header []string) (Config, error) {
	has := map[string]bool{}
	for _, h := range header {
		has[h] = true
	}
	var missing []string
	seen := map[string]bool{}
	lack := func(what string) {
		if !seen[what] {
			seen[what] = true
			missing = append(missing, what)
		}
	}
	// resolve returns f as it reads this header, and false when f is
	// optional and the header lacks its columns.
	resolve := func(f Field) (Field, bool) {
		if len(f.OneOf) > 0 {
			i := slices.IndexFunc(f.OneOf, func(col string) bool { return has[col] })
			if i < 0 {
				if !f.Optional {
					q := make([]string, len(f.OneOf))
					for j, col := range f.OneOf {
						q[j] = fmt.Sprintf("%q", col)
					}
					lack(strings.Join(q, " or "))
				}
				return f, false
			}
			f.Column, f.OneOf = f.OneOf[i], nil
			return f, true
		}
		for _, col := range f.columns() {
			if !has[col] {
				if !f.Optional {
					lack(fmt.Sprintf("%q", col))
				}
				return f, false
			}
		}
		return f, true
	}
	out := c
	out.Fields = make(map[string]Field, len(c.Fields))
	for _, name := range slices.Sorted(maps.Keys(c.Fields)) {
		if f, ok := resolve(c.Fields[name]); ok {
			out.Fields[name] = f
		}
	}
	if c.Status != nil {
		out.Status = nil
		if f, ok := resolve(*c.Status); ok {
			out.Status = &f
		}
	}
	if c.ExtAttr != nil {
		out.ExtAttr = make(map[string]AttrSource, len(c.ExtAttr))
		for _, name := range slices.Sorted(maps.Keys(c.ExtAttr)) {
			a := c.ExtAttr[name]
			if a.Web != nil {
				url, okURL := resolve(a.Web.URL)
				title, okTitle := resolve(a.Web.Title)
				if okURL && okTitle {
					out.ExtAttr[name] = AttrSource{Web: &WebSource{URL: url, Title: title}}
				}
				continue
			}
			if f, ok := resolve(a.Field); ok {
				out.ExtAttr[name] = AttrSource{Field: f}
			}
		}
	}
	d := c.Departments
	cols := []string{d.PathColumn, d.CodeColumn, d.DepartmentCodeColumn}
	for _, r := range c.Tags {
		cols = append(cols, r.columns()...)
	}
	for _, col := range cols {
		if col != "" && !has[col] {
			lack(fmt.Sprintf("%q", col))
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		// The header is cut short: it may be thousands of columns of noise.
		return c, fmt.Errorf("source has no column %s (header: %s)", strings.Join(missing, ", "), quote.Columns(header))
	}
	return out, nil
}

// CheckDepartmentColumns is CheckColumns for the department table's source.
func (c Config) CheckDepartmentColumns(header []string) error {
	return missingColumns(c.DepartmentColumns(), header)
}

func missingColumns(want, header []string) error {
	var missing []string
	for _, col := range want {
		if !slices.Contains(header, col) {
			missing = append(missing, fmt.Sprintf("%q", col))
		}
	}
	if len(missing) > 0 {
		// The header is cut short: it may be thousands of columns of noise.
		return fmt.Errorf("source has no column %s (header: %s)", strings.Join(missing, ", "), quote.Columns(header))
	}
	return nil
}
