// Package plan turns the desired directory (from the mapper) and the known
// state (the journal's last-applied records, checked against what WeCom
// lists live) into the smallest ordered set of WeCom writes.
//
// It is pure: no I/O, so every ordering and safety rule is testable in
// isolation. Comparison is field-level against the journal's record of what
// was last pushed, never against user/get, because a contacts-sync secret
// calling from a new IP may not read member details (48009).
//
// Order: departments parent-first, members (create/update without
// direct_leader), leaders (direct_leader once every leader exists), leavers
// (disable or delete per policy), then departments this importer created
// that the feed dropped, deepest first.
//
// Departments are keyed by their HR path, so a rename in HR is a new
// department plus the removal of the old one once it is empty.
package plan
