package scaffold

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Input is what Write needs: the file as the config should name it, its
// header and a sample of its rows (a few thousand are plenty).
type Input struct {
	Path      string // as the config names it, relative to the config's directory
	From      string // the file as the admin named it, for the config's first comment
	Type      string // "csv" or "xlsx"
	HeaderRow int    // csv: 1-based line of the header when not the first; 0 otherwise
	Sheet     string // xlsx: the sheet read, "" for the first visible one
	Header    []string
	Rows      []map[string]string
	Job       string // "" = "staff"
	CorpID    string // "" = a placeholder the admin must replace
}

// Result is the starting config and what the admin should know of it.
type Result struct {
	YAML []byte
	// Mapped is each config key written from a recognised column:
	// "fields.userid" → "工号", "status" → "状态", "departments" → "部门".
	Mapped map[string]string
	// Missing are the config keys written with a placeholder column, as
	// the header had none: `importer check` names them until fixed.
	Missing []string
	// Unused are the header's columns no key reads, in header order.
	Unused []string
	// Notes are decisions to review: a guessed separator, values left
	// unmapped, a leader column that does not hold userids.
	Notes []string
}

// PlaceholderCorpID stands for the corp id in a config written without one.
const PlaceholderCorpID = "CHANGE-ME"

// fieldOrder is the order fields are written in: the mapper's own.
var fieldOrder = []string{"userid", "name", "alias", "mobile", "email", "biz_mail", "position", "gender",
	"telephone", "address", "external_position", "is_leader", "order", "main_department", "direct_leader"}

// placeholders are the columns written for required keys the header
// lacks: the spelling a Chinese HR export most often uses.
var placeholders = map[string]string{"userid": "工号", "name": "姓名", "mobile": "手机", fieldDepartments: "部门"}

// Write builds a starting config for in.
func Write(in Input) Result {
	cols := recognise(in.Header)
	res := Result{Mapped: map[string]string{}}
	g := &guesser{in: in, cols: cols, res: &res}

	_, email := cols["email"]
	var fields []string
	for _, f := range fieldOrder {
		col, ok := cols[f]
		switch {
		case ok:
			if entry, keep := g.field(f, col); keep {
				res.Mapped["fields."+f] = col
				fields = append(fields, fmt.Sprintf("        %s: %s", f, entry))
			}
		case f == "userid" || f == "name":
			fields = append(fields, fmt.Sprintf("        %s: %s   # not in the header: name the column", f, yamlString(placeholders[f])))
			res.Missing = append(res.Missing, "fields."+f)
		case f == "mobile" && !email:
			fields = append(fields, fmt.Sprintf("        mobile: {column: %s, transform: [mobile]}   # not in the header: WeCom needs a mobile or an email", yamlString(placeholders[f])))
			res.Missing = append(res.Missing, "fields.mobile")
		}
	}

	var b strings.Builder
	from := in.From
	if from == "" {
		from = in.Path
	}
	fmt.Fprintf(&b, "# hrfeed importer: a starting config written by `importer init --from %s`.\n", from)
	b.WriteString("# Review it (the comments below say what was guessed), then run\n")
	b.WriteString("#   importer check --config FILE   and   importer plan --config FILE\n")
	b.WriteString("wecom:\n")
	b.WriteString("  # 企业ID (corp id): WeCom admin console → 我的企业 → 企业信息.\n")
	corp := in.CorpID
	if corp == "" {
		corp = PlaceholderCorpID
		res.Notes = append(res.Notes, "wecom.corp_id is a placeholder: write your corp id (我的企业 → 企业信息 → 企业ID)")
	}
	fmt.Fprintf(&b, "  corp_id: %s\n", yamlString(corp))
	b.WriteString("  # The contacts-sync secret is read from this environment variable; it is\n")
	b.WriteString("  # never written in this file.\n")
	b.WriteString("  secret_env: WECOM_SECRET\n\n")
	b.WriteString("journal:\n")
	b.WriteString("  # A PostgreSQL URL in this variable selects the PostgreSQL journal;\n")
	b.WriteString("  # otherwise the embedded journal file below is used.\n")
	b.WriteString("  dsn_env: DATABASE_URL\n")
	b.WriteString("  path: hrfeed-journal.db\n\n")
	b.WriteString("jobs:\n")
	job := in.Job
	if job == "" {
		job = "staff"
	}
	fmt.Fprintf(&b, "  - name: %s\n", yamlString(job))
	b.WriteString("    # Used by `importer serve`; `importer run` runs the job at once.\n")
	b.WriteString("    schedule: \"CRON_TZ=Asia/Shanghai 0 2 * * *\"\n")
	b.WriteString("    source:\n")
	fmt.Fprintf(&b, "      type: %s\n", in.Type)
	fmt.Fprintf(&b, "      path: %s\n", yamlString(in.Path))
	if in.Sheet != "" {
		fmt.Fprintf(&b, "      sheet: %s\n", yamlString(in.Sheet))
	}
	if in.HeaderRow > 1 {
		fmt.Fprintf(&b, "      header_row: %d   # the lines above it are a title or notes\n", in.HeaderRow)
	}
	b.WriteString("    mapping:\n")
	b.WriteString("      fields:\n")
	for _, f := range fields {
		b.WriteString(f + "\n")
	}
	if col, ok := cols[fieldStatus]; ok {
		if entry := g.status(col); entry != "" {
			res.Mapped["status"] = col
			fmt.Fprintf(&b, "      status: %s\n", entry)
		}
	} else {
		b.WriteString("      # No status column: every row is an active member; a member the file no\n")
		b.WriteString("      # longer lists is a leaver (policy.leavers) if this importer created or\n")
		b.WriteString("      # adopted them (policy.scope: managed).\n")
	}
	b.WriteString("      departments:\n")
	if col, ok := cols[fieldDepartments]; ok {
		res.Mapped["departments"] = col
		g.departments(&b, col)
	} else {
		fmt.Fprintf(&b, "        path_column: %s   # not in the header: the column holding each member's department path\n", yamlString(placeholders[fieldDepartments]))
		b.WriteString("        separator: /\n")
		res.Missing = append(res.Missing, "departments.path_column")
	}
	b.WriteString("    policy:\n")
	b.WriteString("      leavers: disable       # a leaver is disabled, not deleted: their chats and files stay\n")
	b.WriteString("      scope: managed         # only members this importer created or adopted are ever disabled\n")
	b.WriteString("      max_delete_ratio: 0.2  # refuse a run that would disable more than a fifth of the directory\n")

	used := map[string]bool{}
	for _, col := range res.Mapped {
		used[col] = true
	}
	for _, h := range in.Header {
		if h != "" && !used[h] {
			res.Unused = append(res.Unused, h)
		}
	}
	if len(res.Unused) > 0 {
		quoted := make([]string, len(res.Unused))
		for i, u := range res.Unused {
			quoted[i] = yamlString(u)
		}
		b.WriteString("# Columns not read: " + strings.Join(quoted, ", ") + ".\n")
		b.WriteString("# Map one under mapping.fields, or under mapping.extattr for an attribute\n")
		b.WriteString("# defined in the admin console (README \"Configuration\").\n")
	}
	res.YAML = []byte(b.String())
	return res
}

type guesser struct {
	in   Input
	cols map[string]string // field -> the header column recognised for it
	res  *Result
}

func (g *guesser) note(format string, args ...any) {
	g.res.Notes = append(g.res.Notes, fmt.Sprintf(format, args...))
}

// values are the distinct trimmed non-empty values of col in the sample,
// in the order first seen.
func (g *guesser) values(col string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range g.in.Rows {
		v := strings.TrimSpace(r[col])
		if v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// field returns the config entry for field f read from col; keep false
// leaves the field out (a note says why).
func (g *guesser) field(f, col string) (entry string, keep bool) {
	c := yamlString(col)
	switch f {
	case "name":
		return fmt.Sprintf("{column: %s, transform: [trim]}", c), true
	case "mobile":
		return fmt.Sprintf("{column: %s, transform: [mobile]}", c), true
	case "email", "biz_mail":
		return fmt.Sprintf("{column: %s, transform: [trim, lower]}", c), true
	case "gender":
		return g.enum(col, genderWords, "1 (male) or 2 (female)"), true
	case "is_leader":
		return g.enum(col, yesNoWords, "1 (leads the department) or 0"), true
	case "direct_leader":
		return g.leader(col)
	}
	return c, true
}

// Words a value is recognised by, folded to lower case, and what each
// group maps to.
var (
	genderWords = map[string]string{"男": "1", "男性": "1", "m": "1", "male": "1", "1": "1",
		"女": "2", "女性": "2", "f": "2", "female": "2", "2": "2"}
	yesNoWords = map[string]string{"是": "1", "y": "1", "yes": "1", "true": "1", "1": "1", "负责人": "1",
		"否": "0", "n": "0", "no": "0", "false": "0", "0": "0"}
	statusWords = map[string]string{
		"在职": "active", "正式": "active", "试用": "active", "试用期": "active", "实习": "active", "实习期": "active",
		"待离职": "active", "active": "active", "employed": "active",
		"离职": "leaver", "已离职": "leaver", "退休": "leaver", "辞退": "leaver", "辞职": "leaver",
		"leaver": "leaver", "left": "leaver", "terminated": "leaver", "inactive": "leaver",
	}
)

// enum maps the sample's values of col through words. Values already in
// WeCom's form need no map; values no word knows are left unmapped, and a
// run rejects their rows (rule unmapped_value) until the admin maps them.
func (g *guesser) enum(col string, words map[string]string, want string) string {
	var pairs, unknown []string
	plain := true
	for _, v := range g.values(col) {
		to, ok := words[strings.ToLower(v)]
		if !ok {
			unknown = append(unknown, v)
			continue
		}
		if v != to {
			plain = false
		}
		pairs = append(pairs, fmt.Sprintf("%s: %s", yamlString(v), yamlString(to)))
	}
	if len(unknown) > 0 {
		g.note("%s: values %s are not mapped (want %s): add them to the map, or their rows are rejected", col, quoteList(unknown), want)
	}
	if plain && len(unknown) == 0 {
		return yamlString(col)
	}
	return fmt.Sprintf("{column: %s, map: {%s}}", yamlString(col), strings.Join(pairs, ", "))
}

// status maps the status column's values to active and leaver.
func (g *guesser) status(col string) string {
	var pairs, unknown []string
	for _, v := range g.values(col) {
		if to, ok := statusWords[strings.ToLower(v)]; ok {
			pairs = append(pairs, fmt.Sprintf("%s: %s", yamlString(v), to))
		} else {
			unknown = append(unknown, v)
		}
	}
	if len(unknown) > 0 {
		g.note("%s: values %s are neither active nor leaver: add them to status.map, or their rows are rejected", col, quoteList(unknown))
	}
	if len(pairs) == 0 {
		g.note("%s: no value reads as active or leaver, so the column is not mapped as the status", col)
		return ""
	}
	return fmt.Sprintf("{column: %s, map: {%s}}", yamlString(col), strings.Join(pairs, ", "))
}

// leader keeps the leader column when most of its values are userids of
// the sample: a column of names would make every leader unknown.
func (g *guesser) leader(col string) (string, bool) {
	idCol, ok := g.cols["userid"]
	vals := g.values(col)
	if !ok || len(vals) == 0 {
		return yamlString(col), true
	}
	ids := map[string]bool{}
	for _, r := range g.in.Rows {
		ids[strings.TrimSpace(r[idCol])] = true
	}
	hits := 0
	for _, v := range vals {
		if ids[v] {
			hits++
		}
	}
	if hits*2 < len(vals) {
		g.note("%s: most values are not userids of %s (names?), so direct_leader is not mapped: direct_leader needs the leader's userid", col, idCol)
		return "", false
	}
	return yamlString(col), true
}

// separators a path column may use, in the order ties are broken.
var separators = []string{"/", "／", ">", "\\", "|", "-"}

// departments writes the path settings read from the sample's values:
// the separator most values use, ";" (or "；", ",") for several
// departments in a cell, and the corp's name as a common first segment.
func (g *guesser) departments(b *strings.Builder, col string) {
	vals := g.values(col)
	fmt.Fprintf(b, "        path_column: %s\n", yamlString(col))

	multi := ""
	for _, m := range []string{";", "；", ","} {
		if countContaining(vals, m) > 0 {
			multi = m
			break
		}
	}
	var paths []string
	for _, v := range vals {
		if multi == "" {
			paths = append(paths, v)
			continue
		}
		for _, p := range strings.Split(v, multi) {
			if p = strings.TrimSpace(p); p != "" {
				paths = append(paths, p)
			}
		}
	}
	sep, best := "/", 0
	for _, s := range separators {
		n := countContaining(paths, s)
		// A dash is a path separator only when nearly every path has one:
		// it is common inside names (研发-北京).
		if s == "-" && n*10 < len(paths)*9 {
			continue
		}
		if n > best {
			sep, best = s, n
		}
	}
	fmt.Fprintf(b, "        separator: %s\n", yamlString(sep))
	if best == 0 && len(paths) > 0 {
		g.note("%s: no value holds a separator, so every department is top-level; if your paths use another separator, set departments.separator", col)
	}
	if multi != "" {
		fmt.Fprintf(b, "        multi: %s   # several departments in one cell\n", yamlString(multi))
	}
	if first, all := commonFirst(paths, sep); first != "" {
		if all {
			fmt.Fprintf(b, "        strip_prefix: %s   # every path starts with it: WeCom's root, the corp itself\n", yamlString(first))
			g.note("%s: every path starts with %q, taken for the corp's name and stripped (departments.strip_prefix); remove it if %q is a real department", col, first, first)
		} else {
			fmt.Fprintf(b, "        # Every path starts with %s; if that is the corp's name (WeCom's root)\n", yamlString(first))
			b.WriteString("        # set strip_prefix to it: members listed in it alone then need a department.\n")
		}
	}
}

// commonFirst returns the first segment every path shares, when paths
// nest at all; all reports that no path is that segment alone.
func commonFirst(paths []string, sep string) (first string, all bool) {
	nested := false
	all = true
	for i, p := range paths {
		seg, _, deeper := strings.Cut(p, sep)
		seg = strings.TrimSpace(seg)
		if i == 0 {
			first = seg
		} else if seg != first {
			return "", false
		}
		nested = nested || deeper
		all = all && deeper
	}
	if !nested {
		return "", false
	}
	return first, all
}

func countContaining(vals []string, sub string) int {
	n := 0
	for _, v := range vals {
		if strings.Contains(v, sub) {
			n++
		}
	}
	return n
}

func quoteList(vals []string) string {
	sort.Strings(vals)
	const most = 8
	q := make([]string, 0, most+1)
	for i, v := range vals {
		if i == most {
			q = append(q, fmt.Sprintf("and %d more", len(vals)-most))
			break
		}
		q = append(q, fmt.Sprintf("%q", v))
	}
	return strings.Join(q, ", ")
}

// plainScalar is a string YAML reads back as itself without quotes.
var (
	plainScalar = regexp.MustCompile(`^[\p{L}\p{N}_][\p{L}\p{N}_./]*$`)
	yamlWords   = regexp.MustCompile(`(?i)^(y|n|yes|no|on|off|true|false|null|~|[-+]?[0-9][0-9_.eE+-]*)$`)
)

// yamlString writes s as a YAML scalar that reads back as the string s:
// bare when that is safe, else double-quoted (a JSON string is valid YAML).
func yamlString(s string) string {
	if plainScalar.MatchString(s) && !yamlWords.MatchString(s) {
		return s
	}
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}
