// Package mapper turns source rows into the directory WeCom should hold:
// members, the department tree their paths imply, and a RowError for every
// row that cannot be sent. It is pure: no I/O, no clock, no WeCom calls.
//
// # Fields
//
// Config.Fields maps each member field to a source column (or a const).
// A value is produced as: raw cell (or const) → transforms in order → map
// (an unmapped non-empty value is the row error "unmapped_value") →
// default when still empty. The default is taken literally, not mapped.
//
// # Row rules
//
// Each row is checked against WeCom's own field rules (wecom-api.md §3) so
// bad data never costs an API call. The checks run in a fixed order and
// only the first failure is reported, so a row's reject is the same on
// every run: source problem (ragged_row, invalid_encoding) → userid →
// status → name, alias, mobile, email, position, gender, telephone,
// address, enable, is_leader, order, direct_leader, to_invite (each:
// unmapped_value, then the field's own rule) → each direct leader (format,
// self, count) → department path → mobile_or_email → duplicates. The Rule*
// constants list every rule id.
//
// A row whose status is "leaver" is only checked for its userid and
// status: it exists to switch an account off, and a stale phone number
// must not keep a departed employee's account alive. Leavers create no
// departments and claim no mobile or email.
//
// # Feed rules
//
// Duplicates are judged on accepted rows only (a rejected row claims
// nothing): userid case-insensitively, as WeCom does; mobile after the
// "mobile" normalisation, so "+86 138…" equals "138…"; email
// case-insensitively. The later row is rejected with a message naming the
// earlier row's ref, with one exception: when a leaver row and an active
// row share a userid (a rehire exported twice), the active row wins and
// the leaver row is the reject.
//
// direct_leader must name a userid accepted as an active member of the
// same feed, because WeCom rejects a leader it does not know and the
// planner sets leaders only after every member exists. This needs the
// whole feed, so Directory applies it, transitively, since rejecting a row
// can orphan the rows it leads ("unknown_leader"). Rows rejected there
// keep the mobile and email they claimed in Add: an earlier duplicate was
// already turned away, and re-admitting it would make the outcome depend on
// row order in a way nobody could read from the rejects.
//
// # Departments
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
package mapper
