package mapper

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Config maps source columns to WeCom members and departments. The lead's
// loader decodes it with KnownFields, hence the yaml tags.
type Config struct {
	Fields      map[string]Field `yaml:"fields"` // member field -> source
	Departments DeptConfig       `yaml:"departments"`
	// Status is optional: its value after transforms and map must be
	// "active" or "leaver". Without it every row is active.
	Status *Field `yaml:"status"`
}

// DeptConfig says how the department path column is read.
type DeptConfig struct {
	PathColumn  string `yaml:"path_column"`  // e.g. 部门, value "总部/研发中心/后端组"
	Separator   string `yaml:"separator"`    // default "/"
	StripPrefix string `yaml:"strip_prefix"` // optional leading path to drop (e.g. the corp name)
	Multi       string `yaml:"multi"`        // optional separator between several paths in one cell, e.g. ";"
	MaxDepth    int    `yaml:"max_depth"`    // default 14 (WeCom allows 15 levels counting the root)
	NameMax     int    `yaml:"name_max"`     // default 32 chars: the stricter of WeCom's documented 32 and 64
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
	FieldPosition     = "position"
	FieldGender       = "gender"
	FieldTelephone    = "telephone"
	FieldAddress      = "address"
	FieldEnable       = "enable"
	FieldIsLeader     = "is_leader"
	FieldOrder        = "order"
	FieldDirectLeader = "direct_leader"
	FieldToInvite     = "to_invite"
)

// memberFields is every key Config.Fields accepts, in the order a row's
// fields are checked, so the first failing rule is always the same one.
var memberFields = []string{
	FieldUserID, FieldName, FieldAlias, FieldMobile, FieldEmail, FieldPosition,
	FieldGender, FieldTelephone, FieldAddress, FieldEnable, FieldIsLeader,
	FieldOrder, FieldDirectLeader, FieldToInvite,
}

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
	if c.Status != nil {
		errs = append(errs, c.Status.validate("status", enums["status"])...)
	}

	d := c.Departments
	if strings.TrimSpace(d.PathColumn) == "" {
		bad("departments.path_column: required")
	}
	if d.Multi != "" && d.Multi == d.withDefaults().Separator {
		bad("departments.multi: %q is also the path separator", d.Multi)
	}
	if d.MaxDepth < 0 || d.MaxDepth > DefaultMaxDepth {
		bad("departments.max_depth: %d: want 1 to %d (WeCom allows 15 levels counting the root)", d.MaxDepth, DefaultMaxDepth)
	}
	if d.NameMax < 0 || d.NameMax > maxNameMax {
		bad("departments.name_max: %d: want 1 to %d", d.NameMax, maxNameMax)
	}
	return errors.Join(errs...)
}

func (f Field) validate(key string, enum []string) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	switch {
	case f.Column == "" && f.Const == "":
		bad("needs a column or a const")
	case f.Column != "" && f.Const != "":
		bad("has both column %q and const %q; use default for a fallback", f.Column, f.Const)
	}
	for _, t := range f.Transform {
		if _, ok := transforms[t]; !ok {
			bad("unknown transform %q (want trim, collapse_spaces, lower, upper, halfwidth or mobile)", t)
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

// Columns lists the source columns the config reads, sorted, so a caller
// can check them against a source's header before reading any row.
func (c Config) Columns() []string {
	set := map[string]bool{}
	for _, f := range c.Fields {
		if f.Column != "" {
			set[f.Column] = true
		}
	}
	if c.Status != nil && c.Status.Column != "" {
		set[c.Status.Column] = true
	}
	if c.Departments.PathColumn != "" {
		set[c.Departments.PathColumn] = true
	}
	cols := make([]string, 0, len(set))
	for col := range set {
		cols = append(cols, col)
	}
	sort.Strings(cols)
	return cols
}

// CheckColumns reports the configured columns missing from header. A
// missing column would otherwise read as empty on every row and reject
// (or, worse, blank a field of) the whole feed.
func (c Config) CheckColumns(header []string) error {
	var missing []string
	for _, col := range c.Columns() {
		if !slices.Contains(header, col) {
			missing = append(missing, fmt.Sprintf("%q", col))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("source has no column %s (header: %s)", strings.Join(missing, ", "), strings.Join(header, ", "))
	}
	return nil
}
