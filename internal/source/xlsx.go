package source

import (
	"archive/zip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/xuri/excelize/v2"

	"github.com/hrfeed/importer/internal/quote"
)

// XLSXOptions tells OpenXLSX which sheet to read and where its header is;
// the zero value reads the first visible sheet and finds the header.
type XLSXOptions struct {
	// Sheet is a sheet name, "#N" for the N-th sheet in workbook order
	// (1-based, hidden sheets counted), or "" for the first visible sheet.
	Sheet string
	// HeaderRow is the 1-based sheet row of the header; 0 finds it.
	HeaderRow int
	// Columns are the column names the mapping needs. With HeaderRow 0
	// the header is the first row holding all of them, so title rows and
	// merged banners above the header need no configuration.
	Columns []string
	// TmpDir is where large parts spill; "" is the system default.
	TmpDir string

	limits *limits // nil: the defaults
}

// xlsxInMemory is the memory bound handed to excelize: a worksheet or
// shared-strings part bigger than this is unzipped to a temporary file
// and streamed from there (the shared strings through an offset index),
// so memory does not grow with the workbook. The zip bombs excelize's own
// unzip limit would let through are refused by checkZipSizes first.
const xlsxInMemory = 1 << 20

// headerScan is how far down OpenXLSX looks for the header: title rows,
// notes and blank rows above a header are a handful, not hundreds.
const headerScan = 50

// XLSX reads one sheet of an Office Open XML workbook with excelize's
// streaming row iterator. It implements Reader.
type XLSX struct {
	name   string // file base name, for errors
	sheet  string
	tmpDir string // excelize's temporary files, all of them: Close removes it
	lim    limits
	n      int // data rows yielded
	f      *excelize.File
	rows   *excelize.Rows
	line   int  // sheet row number of the row the iterator is on
	d1904  bool // the workbook counts dates from 1904 (old Mac Excel)

	header []string // "" for a column without a title: its cells are ignored
	row    Row
	err    error
}

var _ Reader = (*XLSX)(nil)

// OpenXLSX opens the workbook at path, picks the sheet and reads its
// header. Refs are "Sheet!row" with the row number Excel shows.
func OpenXLSX(path string, opts XLSXOptions) (*XLSX, error) {
	name := filepath.Base(path)
	if opts.HeaderRow < 0 {
		return nil, fmt.Errorf("%s: header row %d: must be 1 or more", name, opts.HeaderRow)
	}
	lim := opts.limits.or()
	// A workbook is read by random access, so never from a pipe.
	file, _, err := openFile(path, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	defer file.Close()
	zr, err := openZip(file, lim)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// excelize leaves the files it spilled behind when opening fails, and
	// more than one when a workbook repeats a part: a directory of our own
	// is what Close can be sure to remove.
	tmp, err := os.MkdirTemp(opts.TmpDir, "hrfeed-xlsx-")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f, err := excelize.OpenFile(path, excelize.Options{
		UnzipXMLSizeLimit: xlsxInMemory,
		UnzipSizeLimit:    lim.workbookBytes,
		TmpDir:            tmp,
	})
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		_ = os.RemoveAll(tmp)
		return nil, fmt.Errorf("%s: open workbook: %w", name, clip(err))
	}
	x := &XLSX{name: name, f: f, tmpDir: tmp, lim: lim}
	if err := x.open(opts, zr); err != nil {
		_ = x.Close()
		return nil, err
	}
	return x, nil
}

// openZip checks that file is a workbook within the limits and returns
// its zip directory, before excelize unzips any of it.
func openZip(file *os.File, lim limits) (*zip.Reader, error) {
	if err := checkWorkbook(file); err != nil {
		return nil, err
	}
	fi, err := file.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > lim.workbookBytes {
		return nil, fmt.Errorf("the workbook is %s, over the %s limit for one workbook: this is not an HR export", byteSize(fi.Size()), byteSize(lim.workbookBytes))
	}
	if err := checkZipDirectory(file, fi.Size(), lim); err != nil {
		return nil, err
	}
	zr, err := zip.NewReader(file, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("open workbook: %w", err)
	}
	if err := checkZipSizes(zr, lim); err != nil {
		return nil, err
	}
	return zr, nil
}

func (x *XLSX) open(opts XLSXOptions, zr *zip.Reader) error {
	sheet, err := pickSheet(x.f, opts.Sheet)
	if err != nil {
		return fmt.Errorf("%s: %w", x.name, err)
	}
	x.sheet = sheet
	if err := x.scan(zr); err != nil {
		return fmt.Errorf("%s: %w", x.name, err)
	}
	if err := rewriteNumberFormats(x.f); err != nil {
		return fmt.Errorf("%s: %w", x.name, err)
	}
	props, err := x.f.GetWorkbookProps()
	if err != nil {
		return fmt.Errorf("%s: %w", x.name, err)
	}
	x.d1904 = props.Date1904 != nil && *props.Date1904

	at := opts.HeaderRow
	if at == 0 {
		if at, err = x.findHeader(opts.Columns); err != nil {
			return err
		}
	}
	// Start (again) from the top: finding the header may have read past it.
	if err := x.restart(); err != nil {
		return err
	}
	var cells []string
	for x.line < at {
		if !x.rows.Next() {
			if err := x.rows.Error(); err != nil {
				return x.readErr(err)
			}
			return fmt.Errorf("%s: sheet %s: header row %d is past the end of the sheet", x.name, x.sheet, at)
		}
		x.line++
		if cells, err = x.rows.Columns(); err != nil {
			return x.readErr(err)
		}
	}
	return x.setHeader(cells)
}

// scan streams the shared strings and the sheet's part through the
// limits before excelize reads any row (see xlsx_scan.go). When the
// sheet's part cannot be told, every worksheet is scanned.
func (x *XLSX) scan(zr *zip.Reader) error {
	var big map[int]int64
	for _, f := range zr.File {
		if strings.EqualFold(partName(f), sharedStringsPart) {
			var err error
			if big, err = scanSharedStrings(f, x.lim); err != nil {
				return err
			}
		}
	}
	part := sheetPart(zr, x.sheet)
	for _, f := range zr.File {
		name := partName(f)
		switch {
		case part != "" && name == part:
			if err := scanSheet(f, x.sheet, big, x.lim); err != nil {
				return err
			}
		case part == "" && isWorksheet(name):
			if err := scanSheet(f, name, big, x.lim); err != nil {
				return err
			}
		}
	}
	return nil
}

// restart opens a fresh iterator at the top of the sheet.
func (x *XLSX) restart() error {
	if x.rows != nil {
		_ = x.rows.Close()
	}
	rows, err := x.f.Rows(x.sheet)
	if err != nil {
		return fmt.Errorf("%s: sheet %s: %w", x.name, x.sheet, err)
	}
	x.rows, x.line = rows, 0
	return nil
}

// findHeader returns the row number of the first row among the first
// headerScan rows that holds every wanted column. Failing that it settles
// for the row holding most of them, and without any, for the first
// non-blank row: CheckColumns then names what is missing and what the
// header does hold, which says more than "no header found".
func (x *XLSX) findHeader(want []string) (int, error) {
	if err := x.restart(); err != nil {
		return 0, err
	}
	best, bestHits, firstFilled := 0, 0, 0
	for x.line < headerScan && x.rows.Next() {
		x.line++
		cells, err := x.rows.Columns()
		if err != nil {
			return 0, x.readErr(err)
		}
		if blank(cells) {
			continue
		}
		if firstFilled == 0 {
			firstFilled = x.line
		}
		hits := 0
		for _, w := range want {
			if slices.ContainsFunc(cells, func(c string) bool { return strings.TrimSpace(c) == w }) {
				hits++
			}
		}
		if hits > bestHits {
			best, bestHits = x.line, hits
		}
		if len(want) > 0 && hits == len(want) {
			break
		}
	}
	if err := x.rows.Error(); err != nil {
		return 0, x.readErr(err)
	}
	switch {
	case best > 0:
		return best, nil
	case firstFilled > 0:
		return firstFilled, nil
	}
	return 0, fmt.Errorf("%s: sheet %s: no header: the first %d rows are empty", x.name, x.sheet, headerScan)
}

func (x *XLSX) setHeader(cells []string) error {
	x.header = make([]string, len(cells))
	seen := map[string]int{}
	for i, c := range cells {
		h := strings.TrimSpace(plainNumber(unmark(c, x.d1904)))
		if h == "" {
			// Spreadsheets have spacer and notes columns without a title;
			// nothing can map them, so their cells are skipped rather than
			// refusing the sheet as the CSV reader does.
			continue
		}
		if rule, msg := vetCell(h, colName(i), x.lim); rule != "" {
			return fmt.Errorf("%s: %s!%d: header: %s", x.name, x.sheet, x.line, msg)
		}
		if j, dup := seen[h]; dup {
			return fmt.Errorf("%s: %s!%d: header column %s %s duplicates column %s", x.name, x.sheet, x.line, colName(i), quote.Excerpt(h), colName(j))
		}
		seen[h] = i
		x.header[i] = h
	}
	if len(seen) == 0 {
		return fmt.Errorf("%s: %s!%d: the header row is empty", x.name, x.sheet, x.line)
	}
	if len(seen) > x.lim.columns {
		return errTooManyColumns(fmt.Sprintf("%s: %s!%d", x.name, x.sheet, x.line), len(seen), x.lim.columns, x.Columns())
	}
	return nil
}

// Columns is the header, without untitled columns.
func (x *XLSX) Columns() []string {
	cols := make([]string, 0, len(x.header))
	for _, h := range x.header {
		if h != "" {
			cols = append(cols, h)
		}
	}
	return cols
}

// Sheet is the name of the sheet being read.
func (x *XLSX) Sheet() string { return x.sheet }

// Next reads the next row that has any value. Blank rows, including the
// formatted-but-empty rows spreadsheets leave at the end, are skipped.
func (x *XLSX) Next() bool {
	if x.err != nil || x.rows == nil {
		return false
	}
	for x.rows.Next() {
		// Next yields every row number in turn, empty gaps included, so
		// counting calls gives the row number Excel shows.
		x.line++
		cells, err := x.rows.Columns()
		if err != nil {
			x.err = x.readErr(err)
			return false
		}
		if blank(cells) {
			continue
		}
		ref := x.sheet + "!" + strconv.Itoa(x.line)
		if x.n == x.lim.rows {
			x.err = errTooManyRows(x.name+": "+ref, x.lim.rows)
			return false
		}
		x.n++
		x.row = Row{Ref: ref, Values: make(map[string]string, len(x.header))}
		for i, h := range x.header {
			if h == "" {
				continue
			}
			v := ""
			if i < len(cells) {
				v = plainNumber(unmark(cells[i], x.d1904))
			}
			x.row.Values[h] = v
		}
		vet(&x.row, x.header, x.lim)
		return true
	}
	if err := x.rows.Error(); err != nil {
		x.err = x.readErr(err)
	}
	return false
}

func (x *XLSX) readErr(err error) error {
	return fmt.Errorf("%s: %s!%d: %w", x.name, x.sheet, x.line, clip(err))
}

// Row is the row Next just read. Its Values map is the caller's to keep.
func (x *XLSX) Row() Row { return x.row }

// Err is the fatal error that ended the stream, if any.
func (x *XLSX) Err() error { return x.err }

// Close releases the workbook and removes its temporary files; it is safe
// to call twice.
func (x *XLSX) Close() error {
	var errs []error
	if x.rows != nil {
		// Rows.Close also returns the iterator's error, which Err
		// already reported.
		if err := x.rows.Close(); err != nil && x.err == nil {
			errs = append(errs, err)
		}
		x.rows = nil
	}
	if x.f != nil {
		errs = append(errs, x.f.Close())
		x.f = nil
	}
	if x.tmpDir != "" {
		errs = append(errs, os.RemoveAll(x.tmpDir))
		x.tmpDir = ""
	}
	return errors.Join(errs...)
}

// pickSheet resolves XLSXOptions.Sheet to a sheet name. Hidden sheets are
// addressable by name and number (HR tools hide their raw export sheet
// behind a pretty one) but never picked by default.
func pickSheet(f *excelize.File, want string) (string, error) {
	list := f.GetSheetList()
	if len(list) == 0 {
		return "", errors.New("the workbook has no sheets")
	}
	switch {
	case want == "":
		for _, s := range list {
			if visible, err := f.GetSheetVisible(s); err == nil && visible {
				return s, nil
			}
		}
		return "", fmt.Errorf("every sheet is hidden; name one with source.sheet (sheets: %s)", describeSheets(f, list))
	case strings.HasPrefix(want, "#"):
		n, err := strconv.Atoi(want[1:])
		if err != nil || n < 1 {
			return "", fmt.Errorf("sheet %q: want a name or #N with N from 1", want)
		}
		if n > len(list) {
			return "", fmt.Errorf("sheet %s: the workbook has %d sheets: %s", want, len(list), describeSheets(f, list))
		}
		return list[n-1], nil
	}
	for _, s := range list {
		if s == want {
			return s, nil
		}
	}
	// Excel treats sheet names case-insensitively; so does an operator.
	for _, s := range list {
		if strings.EqualFold(s, want) {
			return s, nil
		}
	}
	return "", fmt.Errorf("no sheet %q; sheets: %s", want, describeSheets(f, list))
}

// describeSheets lists sheet names, quoted, marking the hidden ones.
func describeSheets(f *excelize.File, list []string) string {
	parts := make([]string, len(list))
	for i, s := range list {
		parts[i] = strconv.Quote(s)
		if visible, err := f.GetSheetVisible(s); err == nil && !visible {
			parts[i] += " (hidden)"
		}
	}
	return strings.Join(parts, ", ")
}

// colName is a column's spreadsheet letter (0 → "A").
func colName(i int) string {
	if s, err := excelize.ColumnNumberToName(i + 1); err == nil {
		return s
	}
	return strconv.Itoa(i + 1)
}
