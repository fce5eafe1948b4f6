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
	// one quoted record) and one worksheet row (its XML plus the shared
	// strings it uses). A real HR record is well under 1 KiB; 1 MiB holds
	// 32 full cells and is still a buffer the readers can afford. Over it
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

	// MaxSheetRows is Excel's last row. A worksheet numbering a row past it
	// was not written by a spreadsheet (excelize refuses numbered rows past
	// it too; unnumbered ones are counted here).
	MaxSheetRows = 1_048_576

	// MaxWorkbookBytes caps the declared uncompressed size of a whole
	// workbook. The 100,000-row, 12-column benchmark workbook unzips to
	// 53 MB, so a sheet as long as Excel allows is ~560 MB; this leaves
	// room for wider rows. Each worksheet over 1 MiB and the shared strings
	// are unzipped to temporary files, so this is also the disk a workbook
	// may take.
	MaxWorkbookBytes = 1 << 30

	// MaxSharedStringsBytes caps xl/sharedStrings.xml, which excelize
	// unzips to a temporary file and indexes. The benchmark workbook's is
	// 12 MB, ~120 bytes a row: twice what a sheet at Excel's row limit
	// would need.
	MaxSharedStringsBytes = 256 << 20

	// MaxSharedStrings caps the number of shared strings. excelize keeps an
	// index entry of about 50 bytes per string in memory, so this is
	// ~250 MB at most; the benchmark workbook has 0.4 million, 4 a row.
	MaxSharedStrings = 5_000_000

	// MaxWorkbookMemoryBytes caps the parts excelize unzips into memory
	// rather than to a temporary file: styles, the workbook, relations,
	// worksheets and shared strings under 1 MiB, pictures. A roster with a
	// photo per person is tens of MB.
	MaxWorkbookMemoryBytes = 128 << 20

	// MaxWorkbookParts caps the zip entries of a workbook. A workbook has
	// tens of parts, a few hundred with many sheets or pictures; the zip
	// reader holds every entry's header in memory.
	MaxWorkbookParts = 10_000
)

// limits is the set of limits a reader applies. Tests lower them to
// prove a limit with a small input; everything else uses defaultLimits.
type limits struct {
	cellBytes   int
	recordBytes int
	columns     int
	rows        int

	workbookBytes, sharedStringsBytes, workbookMemoryBytes int64
	sharedStrings, workbookParts                           int
}

var defaultLimits = limits{
	cellBytes:           MaxCellBytes,
	recordBytes:         MaxRecordBytes,
	columns:             MaxColumns,
	rows:                MaxRows,
	workbookBytes:       MaxWorkbookBytes,
	sharedStringsBytes:  MaxSharedStringsBytes,
	workbookMemoryBytes: MaxWorkbookMemoryBytes,
	sharedStrings:       MaxSharedStrings,
	workbookParts:       MaxWorkbookParts,
}

// or is l, or the defaults when no test set it.
func (l *limits) or() limits {
	if l == nil {
		return defaultLimits
	}
	return *l
}
