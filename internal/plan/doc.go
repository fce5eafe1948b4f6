// Package plan turns the desired directory (from the mapper) and the known
// state (the journal's last-applied records, checked against what WeCom
// lists live) into the smallest ordered set of WeCom writes.
//
// It is pure: no I/O, so every ordering and safety rule is testable in
// isolation. Comparison is field-level against the journal's record of what
// was last pushed, never against user/get, because a contacts-sync secret
// calling from a new IP may not read member details (48009).
//
// Order: departments parent-first; release (mobiles and addresses that
// move to another member, freed first); members (create/update, with
// direct_leader when every leader already exists); leaders (direct_leader
// once every leader exists); leavers (disable or delete per policy); then
// departments this importer created that the feed dropped, deepest first.
//
// A member whose row was rejected is held: in the feed, so never absent,
// and left as WeCom has it, with the departments they sit in. A rejected
// row that names no one suspends leavers and cleanup (Plan.Suspended).
// Two guards refuse a plan: too many members removed, too many rows
// rejected.
//
// Departments are keyed by their HR path, or by an HR code (code_column,
// a department table), so a rename in HR is a new department plus the
// removal of the old one once it is empty, or, with a code, an update.
package plan
