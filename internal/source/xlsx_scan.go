package source

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/hrfeed/importer/internal/quote"
)

// A workbook is checked in two steps before excelize reads a row of it.
// First the zip directory: what each part declares it unzips to, a size
// archive/zip does not let the part's data exceed. That alone refuses the
// zip bomb (a 2 MB file holding a 2 GiB cell) and is what keeps excelize
// from allocating or spilling more than the limits, as it sizes buffers
// by the declared size. Then the shared strings and the sheet to be read
// are streamed once through xmlScanner, which measures every token and
// every row without holding more than one token: excelize's decoder holds
// a whole text node, and a whole row's cells, so a part within the size
// limits can still hold one text node big enough to exhaust memory.

// maxDirectoryPerPart bounds the zip's central directory per entry
// (header, name, extra fields): the zip reader holds all of it.
const maxDirectoryPerPart = 1 << 10

// maxXMLPartBytes caps an XML part excelize parses whole (the workbook,
// styles, the calculation chain): Excel's most bloated style tables are a
// few MB, the calculation chain of a million formula cells ~22 MB, and
// decoding a part costs several times its size.
const maxXMLPartBytes = 32 << 20

// trackedStringBytes is the size from which the scan remembers a shared
// string's size, to count it against the rows that use it. Smaller ones
// are not tracked: even a row of 16,384 of them is 16 MiB at most, and
// remembering every string would cost what excelize's own index does.
const trackedStringBytes = 1 << 10

const sharedStringsPart = "xl/sharedStrings.xml"

// maxEscapes caps the _xHHHH_ escapes (how OOXML writes a control
// character) in one text. excelize decodes them by appending to a string
// once per escape, so a text of many costs time quadratic in its length;
// a cell from a spreadsheet has one per line break at most.
const maxEscapes = 256

// partName is a zip entry's name as excelize keys it.
func partName(f *zip.File) string { return strings.ReplaceAll(f.Name, `\`, "/") }

func isWorksheet(name string) bool {
	return strings.HasPrefix(strings.ToLower(name), "xl/worksheets/sheet")
}

// checkZipDirectory refuses a zip whose directory declares more entries
// than lim allows, before archive/zip reads the directory into memory.
func checkZipDirectory(r io.ReaderAt, size int64, lim limits) error {
	const eocdLen = 22
	n := min(size, eocdLen+0xFFFF)
	buf := make([]byte, n)
	if _, err := r.ReadAt(buf, size-n); err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	at := -1
	for i := len(buf) - eocdLen; i >= 0; i-- {
		if string(buf[i:i+4]) == "PK\x05\x06" {
			if i+eocdLen+int(binary.LittleEndian.Uint16(buf[i+20:])) <= len(buf) {
				at = i
			}
			break
		}
	}
	if at < 0 {
		return nil // not a zip: archive/zip says so in its words
	}
	entries := uint64(binary.LittleEndian.Uint16(buf[at+10:]))
	dirSize := uint64(binary.LittleEndian.Uint32(buf[at+12:]))
	if entries == 0xFFFF || dirSize == 0xFFFFFFFF || binary.LittleEndian.Uint32(buf[at+16:]) == 0xFFFFFFFF {
		// ZIP64: the real figures are in the ZIP64 end record, which the
		// locator just before this record points at.
		loc := size - n + int64(at) - 20
		var l [20]byte
		if loc < 0 {
			return nil
		}
		if _, err := r.ReadAt(l[:], loc); err != nil || string(l[:4]) != "PK\x06\x07" {
			return nil
		}
		var rec [56]byte
		if _, err := r.ReadAt(rec[:], int64(binary.LittleEndian.Uint64(l[8:]))); err != nil || string(rec[:4]) != "PK\x06\x06" {
			return nil
		}
		entries = binary.LittleEndian.Uint64(rec[32:])
		dirSize = binary.LittleEndian.Uint64(rec[40:])
	}
	if entries > uint64(lim.workbookParts) {
		return fmt.Errorf("the workbook's zip has %s parts, over the limit of %s: this is not a workbook an HR system wrote",
			countBig(entries), count(lim.workbookParts))
	}
	if dirSize > uint64(lim.workbookParts)*maxDirectoryPerPart {
		return fmt.Errorf("the workbook's zip directory is %s, over the %s limit: this is not a workbook an HR system wrote",
			byteSize(clampInt64(dirSize)), byteSize(int64(lim.workbookParts)*maxDirectoryPerPart))
	}
	return nil
}

// checkZipSizes refuses a workbook whose parts declare more than the
// limits, whole or one by one, before any part is unzipped.
func checkZipSizes(zr *zip.Reader, lim limits) error {
	var total, inMemory uint64
	var largest *zip.File
	for _, f := range zr.File {
		size := f.UncompressedSize64
		name := partName(f)
		if largest == nil || size > largest.UncompressedSize64 {
			largest = f
		}
		total += min(size, 1<<62) // no wrap-around: one is enough to refuse
		switch {
		case strings.EqualFold(name, sharedStringsPart):
			if size > uint64(lim.sharedStringsBytes) {
				return fmt.Errorf("the shared strings (%s) unzip to %s, over the %s limit: this is not a workbook an HR system wrote",
					quote.Excerpt(name), byteSize(clampInt64(size)), byteSize(lim.sharedStringsBytes))
			}
			if size <= xlsxInMemory {
				inMemory += size
			}
		case isWorksheet(name):
			if size <= xlsxInMemory {
				inMemory += size
			}
		default:
			if size > maxXMLPartBytes && isXMLPart(name) {
				return fmt.Errorf("part %s unzips to %s, over the %s limit for a part read whole: this is not a workbook an HR system wrote",
					quote.Excerpt(name), byteSize(clampInt64(size)), byteSize(maxXMLPartBytes))
			}
			inMemory += min(size, 1<<62)
		}
	}
	if total > uint64(lim.workbookBytes) {
		return fmt.Errorf("the workbook unzips to %s, over the %s limit for one workbook (the largest part, %s, is %s): this is not an HR export",
			byteSize(clampInt64(total)), byteSize(lim.workbookBytes), quote.Excerpt(partName(largest)), byteSize(clampInt64(largest.UncompressedSize64)))
	}
	if inMemory > uint64(lim.workbookMemoryBytes) {
		return fmt.Errorf("the workbook's parts that are read into memory (styles, pictures, small sheets) unzip to %s, over the %s limit: remove the pictures, or save the sheet alone",
			byteSize(clampInt64(inMemory)), byteSize(lim.workbookMemoryBytes))
	}
	return nil
}

func isXMLPart(name string) bool {
	n := strings.ToLower(name)
	return strings.HasSuffix(n, ".xml") || strings.HasSuffix(n, ".rels") || strings.HasSuffix(n, ".vml")
}

func clampInt64(n uint64) int64 { return int64(min(n, 1<<62)) }

func countBig(n uint64) string {
	if n > 1<<62 {
		return "billions of"
	}
	return count(int(n))
}

// sheetPart finds the worksheet part of the sheet named sheet the way
// excelize does: the workbook's sheet entry, its relationship, the
// target resolved against the workbook's folder. "" when it cannot tell.
func sheetPart(zr *zip.Reader, sheet string) string {
	parts := map[string]*zip.File{}
	for _, f := range zr.File {
		parts[partName(f)] = f
	}
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	if parseXMLPart(parts["_rels/.rels"], &rels) != nil {
		return ""
	}
	book := ""
	for _, r := range rels.Rel {
		if strings.HasSuffix(r.Type, "/officeDocument") {
			book = strings.TrimPrefix(r.Target, "/")
			break
		}
	}
	var wb struct {
		Sheets []struct {
			Name  string     `xml:"name,attr"`
			Attrs []xml.Attr `xml:",any,attr"`
		} `xml:"sheets>sheet"`
	}
	if book == "" || parseXMLPart(parts[book], &wb) != nil {
		return ""
	}
	rels.Rel = nil
	if parseXMLPart(parts[path.Join(path.Dir(book), "_rels", path.Base(book)+".rels")], &rels) != nil {
		return ""
	}
	for _, s := range wb.Sheets {
		if !strings.EqualFold(s.Name, sheet) {
			continue
		}
		for _, a := range s.Attrs {
			if a.Name.Local != "id" || a.Name.Space == "" {
				continue
			}
			for _, r := range rels.Rel {
				if r.ID == a.Value {
					if strings.HasPrefix(r.Target, "/") {
						return path.Clean(strings.TrimPrefix(r.Target, "/"))
					}
					return path.Join(path.Dir(book), r.Target)
				}
			}
		}
	}
	return ""
}

// parseXMLPart decodes a small part; checkZipSizes has bounded it.
func parseXMLPart(f *zip.File, v any) error {
	if f == nil {
		return errors.New("no such part")
	}
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	return xml.NewDecoder(rc).Decode(v)
}

// scanSharedStrings streams the shared strings part: it refuses a string
// of more than lim.recordBytes of XML, or more than lim.sharedStrings of
// them, and returns the sizes of those over trackedStringBytes by index.
func scanSharedStrings(f *zip.File, lim limits) (map[int]int64, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	s := newXMLScanner(rc, partName(f), lim.recordBytes)
	big := map[int]int64{}
	index, start := 0, int64(-1)
	for {
		tok, err := s.next()
		if err != nil {
			if start >= 0 {
				return nil, fmt.Errorf("shared string %d cannot be read within the limits: %w", index-1, err)
			}
			return nil, fmt.Errorf("the shared strings cannot be read within the limits: %w", err)
		}
		switch {
		case tok == tokEOF:
			return big, nil
		case start < 0 && (tok == tokStart || tok == tokEmpty) && s.is("si"):
			// excelize numbers the <si> elements in document order.
			if index++; index > lim.sharedStrings {
				return nil, fmt.Errorf("more than %s shared strings, the limit for one workbook: this is not a workbook an HR system wrote", count(lim.sharedStrings))
			}
			if tok == tokStart {
				start = s.tokStart
			}
		case start >= 0 && tok == tokEnd && s.is("si"):
			if n := s.off - start; n > trackedStringBytes {
				big[index-1] = n
			}
			start = -1
		}
		if start >= 0 && s.off-start > int64(lim.recordBytes) {
			return nil, fmt.Errorf("shared string %d is more than %s of XML, the limit for one row's cells: no HR cell is that big, and reading it would hold it all in memory",
				index-1, byteSize(int64(lim.recordBytes)))
		}
	}
}

// scanSheet streams a worksheet part and refuses a row whose XML and the
// tracked shared strings it uses come to more than lim.recordBytes, and a
// row numbered past Excel's last. where names the sheet in errors.
func scanSheet(f *zip.File, where string, big map[int]int64, lim limits) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	s := newXMLScanner(rc, partName(f), lim.recordBytes)
	var (
		row          int   // number of the current or last row
		start        int64 // where the current row's XML starts, -1 outside one
		strs         int64 // bytes of tracked shared strings the row uses
		inCell, inV  bool
		sharedString bool   // the current cell's value is a shared string index
		v            []byte // the text of the current <v>, up to textKept
		plain        bool   // and it is plain text, as a spreadsheet writes it
		largest      int64  // the largest tracked shared string
	)
	for _, n := range big {
		largest = max(largest, n)
	}
	// Without a tracked string, which cell uses which string is moot.
	track := len(big) > 0
	start = -1
	for {
		tok, err := s.next()
		if err != nil {
			if start >= 0 {
				return fmt.Errorf("%s!%d: the row cannot be read within the limits: %w", where, row, err)
			}
			return fmt.Errorf("sheet %s cannot be read within the limits: %w", where, err)
		}
		switch tok {
		case tokEOF:
			return nil
		case tokStart, tokEmpty:
			switch {
			case s.is("row") && start < 0:
				// Rows without a number follow the one before, as in
				// excelize's iterator.
				if r, ok := atoi(s.attr("r")); ok && r > 0 {
					row = r
				} else {
					row++
				}
				if row > MaxSheetRows {
					return fmt.Errorf("%s!%d: the sheet has rows past %s, Excel's last: this is not a workbook a spreadsheet wrote", where, row, count(MaxSheetRows))
				}
				if tok == tokStart {
					start, strs = s.tokStart, 0
				}
			case s.is("c") && start >= 0 && track:
				inCell = tok == tokStart
				sharedString = string(s.attr("t")) == "s"
			case s.is("v") && inCell && tok == tokStart:
				inV, v, plain = true, v[:0], true
			}
		case tokText:
			if inV {
				v = append(v, s.text...)
				plain = plain && !s.cdata && len(v) < textKept && bytes.IndexByte(s.text, '&') < 0
			}
		case tokOther:
			plain = false
		case tokEnd:
			switch {
			case s.is("v") && inV:
				inV = false
				if !sharedString {
					break
				}
				// An index written any other way than digits (entities,
				// CDATA, padding) is not what a spreadsheet writes: count
				// it as the largest string, which excelize may resolve it
				// to.
				if i, ok := atoi(bytes.TrimSpace(v)); ok && plain {
					strs += big[i]
				} else {
					strs += largest
				}
			case s.is("c"):
				inCell, inV = false, false
			case s.is("row") && start >= 0:
				start = -1
			}
		}
		if start >= 0 && s.off-start+strs > int64(lim.recordBytes) {
			return fmt.Errorf("%s!%d: the row holds more than %s of cells (its XML and the shared strings it uses), the limit for one row: no HR row is that big, and reading it would hold it all in memory",
				where, row, byteSize(int64(lim.recordBytes)))
		}
	}
}

// xmlToken is what xmlScanner.next found.
type xmlToken int

const (
	tokEOF   xmlToken = iota
	tokStart          // <name …>
	tokEmpty          // <name …/>
	tokEnd            // </name>
	tokText           // character data or a CDATA section
	tokOther          // a comment, processing instruction or directive
)

// xmlScanner walks XML markup as bytes, holding at most one token of at
// most max bytes. It knows just enough XML to find where tokens and
// elements start and end; a part it cannot make sense of is left for
// excelize to refuse in its own words.
type xmlScanner struct {
	r    *bufio.Reader
	part string // the part's name, for errors
	max  int

	off      int64  // bytes consumed
	tokStart int64  // where the last token started
	lt       bool   // the '<' of the next token is consumed
	cdata    bool   // the last text token was a CDATA section
	tag      []byte // the last tag, '<' to '>'
	name     []byte // its local name
	text     []byte // the first textKept bytes of the last text token
	escapes  int    // _x in the last text token
}

// textKept is how much of a text token the scanner keeps: a shared
// string index is a few digits.
const textKept = 32

func newXMLScanner(r io.Reader, part string, max int) *xmlScanner {
	return &xmlScanner{r: bufio.NewReaderSize(r, 64<<10), part: part, max: max}
}

func (s *xmlScanner) is(local string) bool { return string(s.name) == local }

func (s *xmlScanner) tooBig() error {
	return fmt.Errorf("more than %s in one XML text or tag (at byte %d of %s)", byteSize(int64(s.max)), s.tokStart, quote.Excerpt(s.part))
}

func (s *xmlScanner) next() (xmlToken, error) {
	s.tokStart, s.escapes = s.off, 0
	if s.lt {
		s.tokStart-- // its '<'
	} else {
		if s.off == 0 {
			if head, _ := s.r.Peek(2); bytes.Equal(head, bomUTF16LE) || bytes.Equal(head, bomUTF16BE) || (len(head) == 2 && head[1] == 0) {
				return 0, fmt.Errorf("%s is UTF-16, which no spreadsheet writes", quote.Excerpt(s.part))
			}
		}
		n, found, err := s.textUntilTag()
		if err != nil {
			return 0, err
		}
		s.lt = found
		if n > 0 {
			return tokText, nil
		}
		if !found {
			return tokEOF, nil
		}
		s.tokStart = s.off - 1
	}
	s.lt, s.cdata = false, false
	c, err := s.r.ReadByte()
	if err != nil {
		return 0, s.eof(err)
	}
	s.off++
	s.tag = append(s.tag[:0], '<', c)
	switch c {
	case '/':
		if err := s.rest('>'); err != nil {
			return 0, err
		}
		s.setName(2)
		return tokEnd, nil
	case '?':
		return tokOther, s.through("?>")
	case '!':
		head, _ := s.r.Peek(7)
		switch {
		case bytes.HasPrefix(head, []byte("--")):
			return tokOther, s.through("-->")
		case bytes.HasPrefix(head, []byte("[CDATA[")):
			s.text = s.text[:0]
			err := s.through("]]>")
			s.text = bytes.TrimSuffix(bytes.TrimPrefix(s.text, []byte("[CDATA[")), []byte("]]>"))
			s.cdata = true
			return tokText, err
		}
		return tokOther, s.rest('>')
	}
	if err := s.rest('>'); err != nil {
		return 0, err
	}
	s.setName(1)
	if bytes.HasSuffix(s.tag, []byte("/>")) {
		return tokEmpty, nil
	}
	return tokStart, nil
}

// textUntilTag consumes character data through the '<' that ends it, or
// to the end of the input, keeping the first bytes of it in s.text; it
// returns how many bytes of text there were.
func (s *xmlScanner) textUntilTag() (int, bool, error) {
	s.text = s.text[:0]
	n := 0
	for {
		chunk, err := s.r.ReadSlice('<')
		s.off += int64(len(chunk))
		found := err == nil
		if found {
			chunk = chunk[:len(chunk)-1]
		}
		n += len(chunk)
		if len(s.text) < textKept {
			s.text = append(s.text, chunk[:min(len(chunk), textKept-len(s.text))]...)
		}
		if n > s.max {
			return 0, false, s.tooBig()
		}
		if err := s.countEscapes(chunk); err != nil {
			return 0, false, err
		}
		switch {
		case found:
			return n, true, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return n, false, nil
		default:
			return 0, false, err
		}
	}
}

// rest reads the rest of a tag into s.tag, through the end delimiter
// that is outside quoted attribute values.
func (s *xmlScanner) rest(end byte) error {
	quote := byte(0)
	for {
		chunk, err := s.r.ReadSlice(end)
		s.off += int64(len(chunk))
		if len(s.tag)+len(chunk) > s.max {
			return s.tooBig()
		}
		s.tag = append(s.tag, chunk...)
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return s.eof(err)
		}
		for _, c := range chunk {
			switch {
			case quote == 0 && (c == '"' || c == '\''):
				quote = c
			case c == quote:
				quote = 0
			}
		}
		if err == nil && quote == 0 {
			return nil
		}
	}
}

// through skips to the end of a comment, processing instruction or CDATA
// section, counting its bytes against the limit.
func (s *xmlScanner) through(end string) error {
	last := end[len(end)-1]
	for {
		chunk, err := s.r.ReadSlice(last)
		s.off += int64(len(chunk))
		if s.off-s.tokStart > int64(s.max) {
			return s.tooBig()
		}
		if err := s.countEscapes(chunk); err != nil {
			return err
		}
		if len(s.text) < textKept {
			s.text = append(s.text, chunk[:min(len(chunk), textKept-len(s.text))]...)
		}
		// Keep the tail, for an end marker split between chunks.
		s.tag = append(s.tag, chunk...)
		if len(s.tag) > 2*len(end) {
			s.tag = append(s.tag[:0], s.tag[len(s.tag)-len(end):]...)
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return s.eof(err)
		}
		if err == nil && bytes.HasSuffix(s.tag, []byte(end)) {
			return nil
		}
	}
}

func (s *xmlScanner) countEscapes(chunk []byte) error {
	if s.escapes += bytes.Count(chunk, []byte("_x")); s.escapes > maxEscapes {
		return fmt.Errorf("more than %d _xHHHH_ escapes in one XML text (at byte %d of %s)", maxEscapes, s.tokStart, quote.Excerpt(s.part))
	}
	return nil
}

func (s *xmlScanner) eof(err error) error {
	if errors.Is(err, io.EOF) {
		return nil // truncated: excelize reports it
	}
	return err
}

// setName sets s.name to the local name of the tag, whose name starts at
// from.
func (s *xmlScanner) setName(from int) {
	name := s.tag[from:]
	for i, c := range name {
		if isSpace(c) || c == '/' || c == '>' {
			name = name[:i]
			break
		}
	}
	if i := bytes.LastIndexByte(name, ':'); i >= 0 {
		name = name[i+1:]
	}
	s.name = name
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func skipSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	return b
}

// atoi is strconv.Atoi on bytes, for digits only.
func atoi(b []byte) (int, bool) {
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// attr is the value of the last attribute of the last tag whose local
// name is name, as encoding/xml, which excelize decodes cells with,
// would set it. It is nil when there is none, and valid until the next
// token.
func (s *xmlScanner) attr(name string) []byte {
	if len(s.tag) < 2 {
		return nil
	}
	t := s.tag[1:]
	for len(t) > 0 && !isSpace(t[0]) { // the element name
		t = t[1:]
	}
	var value []byte
	for {
		t = skipSpace(t)
		eq := bytes.IndexByte(t, '=')
		if eq < 0 {
			return value
		}
		key := t[:eq]
		for len(key) > 0 && isSpace(key[len(key)-1]) {
			key = key[:len(key)-1]
		}
		if i := bytes.LastIndexByte(key, ':'); i >= 0 {
			key = key[i+1:]
		}
		t = skipSpace(t[eq+1:])
		if len(t) == 0 || (t[0] != '"' && t[0] != '\'') {
			return value
		}
		end := bytes.IndexByte(t[1:], t[0])
		if end < 0 {
			return value
		}
		if string(key) == name {
			value = t[1 : 1+end]
		}
		t = t[end+2:]
	}
}
