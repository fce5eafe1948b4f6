// Package mapper turns source rows into the directory WeCom should hold:
// members, the department tree, and a RowError for every row that cannot
// be sent. It is pure: no I/O, no clock, no WeCom calls.
//
// # Fields
//
// Config.Fields maps each member field WeCom accepts (docs/wecom.md §3:
// the text fields of the member table in internal/member, and userid,
// enable, is_leader, order, main_department, direct_leader, to_invite) to
// a source: a column, a const, or a template of columns ("{姓}{名}").
// A value is produced as: raw cell (or const, or filled template) →
// transforms in order → map (an unmapped non-empty value is the row error
// "unmapped_value") → default when still empty. The default is taken
// literally, not mapped.
//
// Transforms are trim, collapse_spaces, lower, upper, halfwidth, mobile,
// {regex, replace}, and date ({date: LAYOUT}, or "date" for YYYY-MM-DD).
// date reads year-first dates in the spellings HR exports use and fails
// the row ("date_format") on anything else, day-first included, because
// guessing between 01/05 as January or May would corrupt data quietly.
// A feed that is not year first names its layouts ({date: LAYOUT,
// formats: [MM/DD/YY]}), tried in order before the year-first spellings.
// Regexes and layouts are checked by Config.Validate, before any row.
//
// Config.ExtAttr fills extattr (custom fields defined in the admin
// console): a text attribute is a Field; a web attribute has a url and a
// title, each a Field. Every configured attribute is sent, empty ones
// too, because an emptied HR cell should clear the attribute.
//
// A Member is a member.Record (the record the journal keeps) plus what
// only the plan needs: whether the row is a leaver, its ref, and whether
// its direct leader is kept as WeCom has it. main_department is
// Record.MainDept, a department Key the planner turns into an id.
//
// # Row rules
//
// Each row is checked against WeCom's own field rules (docs/wecom.md §3;
// the member table's checks for the text fields) so bad data never costs
// an API call. The checks run in a fixed order and
// only the first failure is reported, so a row's reject is the same on
// every run: source problem (ragged_row, invalid_encoding) → userid →
// status → the member table's text fields in its order (name, alias,
// mobile, email, biz_mail, position, gender, telephone, address,
// external_position, nickname) → enable, is_leader, order,
// main_department, direct_leader, to_invite (each: unmapped_value or
// date_format, then the field's own rule) → extattr, by name → each direct
// leader (format, self, count) → departments (path or codes) → the
// per-department counts (is_leader_count, order_count,
// department_code_count) → main_department_not_member → mobile_or_email →
// the feed rules below. The Rule* constants list every rule id; RowError
// names the row, the column (a template's columns joined with ",", ""
// for a const or a whole-row rule) and the rule.
//
// A row whose status is "leaver" is only checked for its userid and
// status: it exists to switch an account off, and a stale phone number
// must not keep a departed employee's account alive. Leavers create no
// departments and claim no mobile, email, biz_mail or department code.
//
// # Feed rules
//
// Duplicates are judged on accepted rows only (a rejected row claims
// nothing): userid case-insensitively, as WeCom does; mobile after the
// "mobile" normalisation, so "+86 138…" equals "138…"; email and biz_mail
// case-insensitively. The earlier row wins and the later row is rejected
// with a message naming the earlier row's ref, with one exception: when a
// leaver row and an active row share a userid (a rehire exported twice),
// the active row wins wherever it is, and the leaver row is the reject.
// The same first-row-wins rule settles department codes (below) and
// duplicate ids and sibling names in a department table.
//
// direct_leader names the member's leader by userid. A leader the feed
// cannot vouch for (no row, a leaver, a row that was itself rejected) is a
// problem of the direct_leader field, not of the member: with
// on_unknown_leader keep (the default) the row is applied and
// direct_leader stays as WeCom has it (Member.LeaderKept), with drop it is
// applied without that leader, both with a warning (leader_kept,
// leader_dropped) naming the row. Only with reject is the row rejected
// ("unknown_leader"), transitively, since rejecting a row can orphan the
// rows it leads. The message says whether the manager is missing from the
// feed altogether, is a leaver, or is on a row that was itself rejected
// (naming that row and its rule), because the fix differs. Rows rejected
// there keep the mobile, email and codes they claimed in Add: an earlier
// duplicate was already turned away, and re-admitting it would make the
// outcome depend on row order in a way nobody could read from the rejects.
//
// Every reject names the member it is about (RowError.UserID) when its
// userid could be read, so the planner can hold that member rather than
// take them for absent.
//
// # Departments from a path
//
// The path column names each member's departments ("总部/研发中心/后端组";
// several per cell with DeptConfig.Multi). Segments are trimmed; a leading
// or trailing separator is ignored; StripPrefix drops a leading path such
// as the corp's own name. Every prefix of a path is a Department whose Key
// is the normalised path joined with "/", whatever the feed's separator.
// Only departments of accepted active members exist, listed parents first
// (by depth, then first appearance). Members of the root itself (a path
// that is only the stripped prefix) are rejected as department_missing:
// the importer places members only in departments it manages.
//
// With code_column, the HR code of the department each path ends in
// becomes that department's Key, in every row that names the path,
// including as an ancestor of a deeper path; uncoded departments keep
// path keys. So HR can rename or move a coded department and the planner
// sees an update, not a delete and a create. A path and a code are paired
// by the first row that pairs them; a later row pairing either differently
// is rejected (department_code_conflict), as is a code that spells an
// uncoded department's path key, since the two would share a Key.
//
// # Departments from a table
//
// With DeptConfig.Table, departments come from their own source through
// Mapper.AddDepartmentRow, before any member row, and each department's
// Key is its HR id. Member rows name departments by id in
// department_code_column. The first member row (or Directory) checks the
// table as a tree: an unknown parent, a cycle (every department on it is
// rejected, the message listing the cycle's rows), depth beyond max_depth
// and duplicate sibling names reject a department, and a department whose
// parent was rejected is rejected too (department_parent_rejected), since
// it could not be created. Every accepted department is in the Directory,
// members or not: the table is the org chart. The row whose id is
// root_id stands for WeCom's root and is not a department.
//
// # Several departments
//
// is_leader and order may hold one value, for every department, or one
// per entry of the department cell, in the same positions (split with
// Multi; a trailing separator is ignored). Any other count rejects the
// row naming the column, as WeCom rejects mismatched lists (60132). When a
// cell lists a department twice the first entry and its values are kept.
// main_department names one of the member's departments by path (path
// mode, normalised like the path column) or by id (table mode).
package mapper
