package source

// Limits on what one source may hold. An HR export that breaks one is
// either not what it claims to be or built to hurt the importer, so a
// reader refuses it with a short error instead of trying to hold it.
// doc.go says which limits end the stream and which reject a row.
const (
	// MaxCellBytes caps one cell's value, in bytes of UTF-8. Excel's own
	// cell limit is 32,767 characters, and the longest WeCom member field
	// (an address or an extended attribute) is a few hundred, so a bigger
	// cell is never a real value; the row is rejected (RuleCellTooLarge).
	MaxCellBytes = 32 << 10

	// MaxRecordBytes caps one CSV record (a physical line, or the lines of
	// one quoted record). A real HR record is well under 1 KiB; 1 MiB holds
	// 32 full cells and is still a buffer the reader can afford. Over it
	// the stream ends: the reader cannot tell where the next record starts
	// without holding this one.
	MaxRecordBytes = 1 << 20

	// MaxColumns caps the header. HR exports have tens of columns; a header
	// of more than 1,024 is the wrong line taken for the header, or noise.
	MaxColumns = 1024

	// MaxRows caps the data rows of one source: twice Excel's 1,048,576-row
	// sheet, so no export a spreadsheet can write trips it, and twenty
	// times the 100,000-member feed the importer is benchmarked at. The
	// runner holds the mapped directory in memory (docs/performance.md), so
	// a feed past this would exhaust the machine long before WeCom refused
	// it.
	MaxRows = 2_000_000
)

// limits is the set of limits a reader applies. Tests lower them to
// prove a limit with a small input; everything else uses defaultLimits.
type limits struct {
	cellBytes   int
	recordBytes int
	columns     int
	rows        int
}

var defaultLimits = limits{
	cellBytes:   MaxCellBytes,
	recordBytes: MaxRecordBytes,
	columns:     MaxColumns,
	rows:        MaxRows,
}

// or is l, or the defaults when no test set it.
func (l *limits) or() limits {
	if l == nil {
		return defaultLimits
	}
	return *l
}
