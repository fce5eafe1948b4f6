// Package source streams rows out of HR exports with a reference a person
// can find each row by, and knows nothing about WeCom.
//
// A Reader never holds the whole input: CSV is decoded on the fly and read
// record by record. Faults come in two sizes. A fault that makes the rest
// of the input unreadable (malformed quoting, an I/O error, a limit
// below that only holding the input would get past) ends the stream and
// is returned by Err with file:line:column. A fault confined to one row
// (a field count that differs from the header, bytes that do not decode
// in the file's encoding, a cell over the size limit, a control
// character) is reported on that Row as Problem, so the mapper can
// reject the row and the run can go on.
//
// # Hostile input
//
// An export may be broken, or built to hurt the importer, so every limit
// below is checked before the thing it limits is held in memory, and
// every error quotes at most a 64-byte excerpt of what it is about, and
// at most ten column names (QuoteColumns). The limits (limits.go says why
// each value):
//
//   - MaxCellBytes, 32 KiB: a bigger cell rejects its row
//     (RuleCellTooLarge).
//   - MaxRecordBytes, 1 MiB: a CSV record (a physical line, or the lines
//     of one quoted record) or a worksheet row (its XML and the shared
//     strings it uses) bigger than this ends the stream: without holding
//     it, a reader cannot tell where the next one starts. encoding/csv
//     would hold any record whole, so a guard in front of it counts.
//   - MaxColumns, 1,024 header columns: more end the read.
//   - MaxRows, 2,000,000 data rows per source: the stream ends at the
//     next. A worksheet with rows past Excel's last (MaxSheetRows,
//     1,048,576), numbered or not, is refused before its first row.
//   - A workbook is refused before it is unzipped when its zip directory
//     declares more than MaxWorkbookParts entries, MaxWorkbookBytes
//     (1 GiB) in all, MaxSharedStringsBytes (256 MiB) of shared strings,
//     or MaxWorkbookMemoryBytes (128 MiB) of the parts excelize holds in
//     memory (styles, pictures, small sheets); then the shared strings and
//     the sheet are streamed once through a scanner that holds no more
//     than one XML token, and refuses a token or a row over
//     MaxRecordBytes, more than MaxSharedStrings strings, or a text of
//     more escapes than excelize can decode in reasonable time. Only
//     then does excelize read the sheet.
//   - A C0 control character other than tab, line feed and carriage
//     return, or DEL, in any cell of any source rejects the row
//     (RuleControlCharacter), naming it as U+0000: NUL cannot be stored
//     in a PostgreSQL journal and must not reach WeCom.
//
// Open refuses a path that is not a regular file (a FIFO nobody writes
// to, /dev/zero, a directory, a socket) before opening it, as reading one
// may hang or never end; Spec.AllowNonRegular lets a CSV source be a pipe
// or a device, where the record limit still ends an endless line.
//
// # Encodings
//
// CSV encoding is sniffed when not given, because HR systems in China
// still export GBK by default while spreadsheets save UTF-8 with a BOM or
// UTF-16: a BOM decides; otherwise the first 64 KiB are weighed. Valid
// UTF-8 is UTF-8, and so is UTF-8 with a few stray bytes among many
// multibyte characters (at most 4, or 0.1% of them, and ten characters
// for each), or with bytes GB18030 cannot decode either; otherwise the
// file is read as GB18030, the superset of GBK. A stray byte thus rejects
// its row rather than garbling the file.
// A byte that does not decode, wherever it is, rejects its row with an
// "invalid_encoding" Problem naming the byte in hex, its line and column,
// and the source.encoding setting to change; a header that is UTF-8 in a
// file read as GB18030 is named as such.
//
// # Workbooks
//
// Workbooks (.xlsx) are read with excelize's streaming Rows iterator;
// worksheets and shared-string tables over 1 MiB are spilled to temporary
// files rather than held in memory, in a directory of the reader's own
// that Close removes. A cell's value is what the mapper needs rather than
// what a display format shows: date
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
// # PostgreSQL
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
