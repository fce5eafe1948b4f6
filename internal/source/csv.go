package source

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hrfeed/importer/internal/quote"
)

// CSVOptions tells OpenCSV and NewCSV how to read a file; the zero value
// sniffs everything.
type CSVOptions struct {
	Encoding  string // "" or "auto" (sniff), "utf-8", "gb18030"/"gbk", "utf-16"
	Delimiter rune   // 0 = auto among ',', '\t', ';' from the header line
	HeaderRow int    // 1-based line of the header; 0 = 1
	// AllowNonRegular lets OpenCSV read a pipe or a device; see
	// Spec.AllowNonRegular.
	AllowNonRegular bool

	limits *limits // nil: the defaults
}

// CSV reads delimited text. It implements Reader.
type CSV struct {
	name     string
	closer   io.Closer
	r        *csv.Reader
	guard    *recordGuard
	offset   int // physical lines consumed before the csv.Reader started
	header   []string
	encoding string
	note     encodingNote
	delim    rune
	lim      limits
	rows     int // data rows yielded

	row Row
	err error
}

var _ Reader = (*CSV)(nil)

// OpenCSV opens path and reads its header. Refs name the file by its base
// name, which is what an operator sees in the drop folder.
func OpenCSV(path string, opts CSVOptions) (*CSV, error) {
	name := filepath.Base(path)
	f, regular, err := openFile(path, opts.AllowNonRegular)
	if err != nil {
		return nil, fmt.Errorf("open csv: %w", err)
	}
	if regular {
		if err := checkText(f); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	c, err := newCSV(name, f, opts)
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	c.closer = f
	return c, nil
}

// NewCSV reads the header from r. name is used in refs and errors as
// given. Close does not close r: the caller owns it.
func NewCSV(name string, r io.Reader, opts CSVOptions) (*CSV, error) {
	return newCSV(name, r, opts)
}

func newCSV(name string, r io.Reader, opts CSVOptions) (*CSV, error) {
	if opts.HeaderRow < 0 {
		return nil, fmt.Errorf("%s: header row %d: must be 1 or more", name, opts.HeaderRow)
	}
	dec, enc, note, err := decode(r, opts.Encoding, opts.HeaderRow)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	br := bufio.NewReaderSize(dec, sniffSize)

	c := &CSV{name: name, encoding: enc, note: note, lim: opts.limits.or()}
	for c.offset+1 < opts.HeaderRow {
		if err := skipLine(br); err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("%s: header row %d is past the end of the file", name, opts.HeaderRow)
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		c.offset++
	}

	c.delim = opts.Delimiter
	if c.delim == 0 {
		c.delim = sniffDelimiter(br)
	}
	if c.delim == '"' || c.delim == '\r' || c.delim == '\n' || c.delim == utf8.RuneError || !utf8.ValidRune(c.delim) {
		return nil, fmt.Errorf("%s: invalid delimiter %q", name, c.delim)
	}

	// encoding/csv holds a whole record however long it is; the guard
	// ends the stream instead once a record passes the limit.
	c.guard = &recordGuard{r: br, max: c.lim.recordBytes}
	c.r = csv.NewReader(c.guard)
	c.r.Comma = c.delim
	c.r.FieldsPerRecord = -1 // a ragged row is a row problem, not the end of the file
	c.r.ReuseRecord = true

	if err := c.readHeader(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *CSV) readHeader() error {
	rec, err := c.r.Read()
	if errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: no header: the file is empty", c.name)
	}
	if err != nil {
		return c.readErr(err)
	}
	line := c.line()
	if len(rec) > c.lim.columns {
		return errTooManyColumns(fmt.Sprintf("%s:%d", c.name, line), len(rec), c.lim.columns, rec)
	}
	if c.encoding == EncodingGB18030 && c.note.headerUTF8 {
		// Read as GB18030 the header is garbled without a byte that fails
		// to decode, so nothing below would say what went wrong.
		return fmt.Errorf("%s:%d: the header is UTF-8 text, but %d bytes in the first 64 KiB are not UTF-8 (the first is 0x%02X on line %d), "+
			"so the file was read as GB18030 and the header came out garbled: set encoding: utf-8 under source: in the job's config "+
			"to read it as UTF-8 and reject the rows with other bytes, or fix the export", c.name, line, c.note.notUTF8, c.note.firstByte, c.note.firstLine)
	}
	c.header = make([]string, len(rec))
	seen := make(map[string]int, len(rec))
	for i, h := range rec {
		h = strings.TrimSpace(h)
		if h == "" {
			return fmt.Errorf("%s:%d: header column %d is empty", c.name, line, i+1)
		}
		if err := c.checkHeaderName(line, i, h); err != nil {
			return err
		}
		if j, dup := seen[h]; dup {
			return fmt.Errorf("%s:%d: header column %d %s duplicates column %d", c.name, line, i+1, quote.Excerpt(h), j+1)
		}
		seen[h] = i
		c.header[i] = h
	}
	return nil
}

// checkHeaderName refuses a header name no mapping could match: one that
// does not decode, or that breaks a cell rule. A bad header spoils every
// row, so it ends the read rather than rejecting rows one by one.
func (c *CSV) checkHeaderName(line, i int, h string) error {
	if at, what := invalidAt(h); at >= 0 {
		return fmt.Errorf("%s:%d: header column %d %s has %s, which is not valid %s; %s", c.name, line, i+1, quote.ExcerptAt(h, at), what, c.encoding, c.note.hint(c.encoding))
	}
	if rule, msg := vetCell(h, strconv.Itoa(i+1), c.lim); rule != "" {
		return fmt.Errorf("%s:%d: header: %s", c.name, line, msg)
	}
	return nil
}

// Columns is the trimmed header.
func (c *CSV) Columns() []string { return c.header }

// Encoding names the encoding the file is read in, sniffed or given.
func (c *CSV) Encoding() string { return c.encoding }

// Delimiter is the field delimiter, sniffed or given.
func (c *CSV) Delimiter() rune { return c.delim }

// Next reads the next non-blank record. It returns false at the end of the
// file or on a fatal error (see Err).
func (c *CSV) Next() bool {
	if c.err != nil || c.r == nil {
		return false
	}
	for {
		rec, err := c.r.Read()
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil {
			c.err = c.readErr(err)
			return false
		}
		// Spreadsheet exports pad the end with rows of empty cells; they
		// carry nothing and are not worth a reject each.
		if blank(rec) {
			continue
		}
		if c.rows == c.lim.rows {
			c.err = errTooManyRows(fmt.Sprintf("%s:%d", c.name, c.line()), c.lim.rows)
			return false
		}
		c.rows++
		c.row = c.makeRow(rec)
		return true
	}
}

func (c *CSV) makeRow(rec []string) Row {
	row := Row{
		Ref:    fmt.Sprintf("%s:%d", c.name, c.line()),
		Values: make(map[string]string, len(c.header)),
	}
	for i, v := range rec {
		if i >= len(c.header) {
			break
		}
		row.Values[c.header[i]] = v
		if row.Problem == "" {
			if at, what := invalidAt(v); at >= 0 {
				row.Problem = c.encodingProblem(i, v, at, what)
				row.ProblemRule = RuleInvalidEncoding
				row.ProblemColumn = c.header[i]
			}
		}
	}
	vet(&row, c.header, c.lim)
	// A field-count mismatch outranks the rest: with fields shifted, the
	// column another problem names may not be the right one.
	if len(rec) != len(c.header) {
		row.Problem = fmt.Sprintf("row has %d fields, header has %d", len(rec), len(c.header))
		row.ProblemRule = RuleRaggedRow
		row.ProblemColumn = ""
	}
	return row
}

// encodingProblem describes the character at byte at of field i, value v,
// that did not decode: where it is, down to the line of a multi-line
// cell, and what to configure if the file is not in the encoding it was
// read in.
func (c *CSV) encodingProblem(i int, v string, at int, what string) string {
	line, _ := c.r.FieldPos(i)
	line += c.offset + strings.Count(v[:at], "\n")
	return fmt.Sprintf("%s in column %s (line %d, byte %d of the cell) is not valid %s; %s", what, c.header[i], line, at+1, c.encoding, c.note.hint(c.encoding))
}

// line is the physical line where the last record read started.
func (c *CSV) line() int {
	l, _ := c.r.FieldPos(0)
	return c.offset + l
}

func (c *CSV) readErr(err error) error {
	if errors.Is(err, errRecordTooLong) {
		return c.guard.describe(c.name, c.offset)
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		if pe.StartLine != pe.Line {
			// An unclosed quote is noticed lines later; where the record
			// starts is where a person has to look.
			return fmt.Errorf("%s:%d:%d: %w (the record starts on line %d)", c.name, c.offset+pe.Line, pe.Column, pe.Err, c.offset+pe.StartLine)
		}
		return fmt.Errorf("%s:%d:%d: %w", c.name, c.offset+pe.Line, pe.Column, pe.Err)
	}
	return fmt.Errorf("read %s: %w", c.name, err)
}

// Row is the record Next just read. Its Values map is the caller's to keep.
func (c *CSV) Row() Row { return c.row }

// Err is the fatal error that ended the stream, if any.
func (c *CSV) Err() error { return c.err }

// Close closes the file OpenCSV opened; it is safe to call twice.
func (c *CSV) Close() error {
	if c.closer == nil {
		return nil
	}
	err := c.closer.Close()
	c.closer = nil
	return err
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// skipLine consumes one physical line, however long.
func skipLine(br *bufio.Reader) error {
	for {
		_, err := br.ReadSlice('\n')
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			// Even a last line without a newline leaves nothing to be the
			// header, so both cases mean the header row is past the end.
			return io.EOF
		default:
			return err
		}
	}
}

// delimiters are the candidates sniffDelimiter chooses from, in the order
// that breaks ties.
var delimiters = []rune{',', '\t', ';'}

// sniffDelimiter picks the candidate that occurs most often, outside
// quotes, in the header line. A header has no empty names, so the true
// delimiter is there once per column boundary.
func sniffDelimiter(br *bufio.Reader) rune {
	head, _ := br.Peek(sniffSize)
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	counts := map[rune]int{}
	inQuote := false
	for _, r := range string(head) {
		if r == '"' {
			inQuote = !inQuote
			continue
		}
		if !inQuote {
			counts[r]++
		}
	}
	best := delimiters[0]
	for _, d := range delimiters[1:] {
		if counts[d] > counts[best] {
			best = d
		}
	}
	return best
}

// errRecordTooLong is what the guard fails the csv.Reader with; the CSV
// reader turns it into recordGuard.describe.
var errRecordTooLong = errors.New("csv record too long")

// recordGuard passes the decoded text through to encoding/csv, counting
// the bytes of the current record, and fails the read once they pass max,
// so that neither a line without a newline (a binary file, /dev/zero) nor
// a quote that never closes can make encoding/csv buffer the whole input.
// It tracks quotes as RFC 4180 does to know where a record ends: a line
// break ends a record outside quotes only. A stray quote can fool it, but
// encoding/csv refuses that record anyway.
type recordGuard struct {
	r   io.Reader
	max int

	n      int    // bytes of the current record so far
	quoted bool   // inside a quoted field
	line   int    // line breaks passed
	start  int    // line breaks passed when the current record started
	head   []byte // the first bytes of the current record, for the error
	failed bool
}

func (g *recordGuard) Read(p []byte) (int, error) {
	if g.failed {
		return 0, errRecordTooLong
	}
	n, err := g.r.Read(p)
	for i, b := range p[:n] {
		switch b {
		case '"':
			g.quoted = !g.quoted
		case '\n':
			g.line++
			if !g.quoted {
				g.n, g.start, g.head = 0, g.line, g.head[:0]
				continue
			}
		}
		if len(g.head) <= quote.ExcerptBytes+utf8.UTFMax { // enough for excerpt to see it is cut
			g.head = append(g.head, b)
		}
		if g.n++; g.n > g.max {
			g.failed = true
			return i, errRecordTooLong
		}
	}
	return n, err
}

// describe is the error for the record the guard stopped; offset is the
// lines before the guard's first.
func (g *recordGuard) describe(name string, offset int) error {
	first := offset + g.start + 1
	if g.line == g.start {
		return fmt.Errorf("%s:%d: line longer than %s, the limit for one CSV record (it starts %s): this is not a CSV export",
			name, first, byteSize(int64(g.max)), quote.Excerpt(string(g.head)))
	}
	return fmt.Errorf("%s:%d: record longer than %s, the limit for one CSV record: a quoted field is still open on line %d (a missing closing quote?); it starts %s",
		name, first, byteSize(int64(g.max)), offset+g.line+1, quote.Excerpt(string(g.head)))
}
