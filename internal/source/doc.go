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
package source
