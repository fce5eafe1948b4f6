// Package source streams rows out of HR exports with a reference a person
// can find each row by, and knows nothing about WeCom.
//
// A Reader never holds the whole input: CSV is decoded on the fly and read
// record by record. Faults come in two sizes. A fault that makes the rest
// of the input unreadable (malformed quoting, an I/O error) ends the
// stream and is returned by Err with file:line:column. A fault confined to
// one row (a field count that differs from the header, bytes that do not
// decode in the file's encoding) is reported on that Row as Problem, so
// the mapper can reject the row and the run can go on.
//
// CSV encoding is sniffed when not given, because HR systems in China
// still export GBK by default while spreadsheets save UTF-8 with a BOM or
// UTF-16: a BOM decides; otherwise the first 64 KiB are checked for valid
// UTF-8; otherwise the file is read as GB18030, the superset of GBK. A
// file that sniffs as UTF-8 but turns invalid later yields rows with an
// "invalid_encoding" Problem rather than silently garbled names.
//
// Workbooks (.xlsx) are read with excelize's streaming Rows iterator;
// worksheets and shared-string tables over 1 MiB are spilled to temporary
// files rather than held in memory, and Close removes them. A cell's value
// is what the mapper needs rather than what a display format shows: date
// cells become ISO dates, numbers are the stored number in positional
// notation (zero-padding formats kept), formulas give their cached result.
// The header is the first row holding every mapped column unless
// configured, so title rows above it need no setting. Old binary .xls
// files and password-protected workbooks, which share the OLE2 container,
// are named as such (ErrLegacyXLS, ErrEncrypted). A vertically merged data
// cell is read in its top row only: merge ranges follow the rows in the
// sheet XML, so a streaming reader learns of them too late to fill the
// rows below.
//
// A PostgreSQL view is read with pgx in one read-only REPEATABLE READ
// transaction, SELECT * ordered by the key column, names quoted as
// identifiers. Values arrive in PostgreSQL's text form, with DateStyle set
// to ISO; the connection string and its password are scrubbed from every
// error (SafeError).
//
// Open picks the reader from a Spec, the one shape the runner and the
// config share.
package source
