// Package member owns what a WeCom member is to the importer: the record
// the journal keeps of each member (Record) and the table of the member
// fields WeCom stores as text (TextFields), with each field's config name,
// WeCom JSON key, record key, validation, and how an update sends it. The
// mapper validates with the table, the planner diffs and describes with
// it, the executor builds payloads from it, and a test checks that every
// field in it reaches WeCom and comes back.
//
// The fields that are not plain text (departments with their order and
// leader flags, enable, main_department, direct_leader, extattr,
// to_invite) have code of their own in each layer; Structured lists them,
// so the same test can check that no layer forgets one.
//
// Adding a text field: a Record field with `json:",omitempty"` (so
// existing records keep their digest), one TextFields entry, the
// emulator's rule for it, and the golden plans that show it.
//
// The package depends on nothing but the standard library, so the pure
// packages (mapper, plan) that import it stay free of I/O.
package member
