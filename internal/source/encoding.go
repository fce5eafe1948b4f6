package source

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encoding names as reported by (*CSV).Encoding.
const (
	EncodingUTF8    = "utf-8"
	EncodingUTF16LE = "utf-16le"
	EncodingUTF16BE = "utf-16be"
	EncodingGB18030 = "gb18030"
)

// sniffSize is how much of the input decides the encoding: enough to
// cover the header and many rows of any real export, small enough to keep
// memory bounded.
const sniffSize = 64 << 10

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// encodingNote says how decode settled on an encoding, so that a message
// about bytes that do not decode can say why the file was read that way
// and what to configure instead.
type encodingNote struct {
	configured string // CSVOptions.Encoding as given, "" when sniffed

	// What the sniff window showed; zero when the encoding was configured
	// or a BOM decided.
	notUTF8    int  // bytes in the window that are not UTF-8
	firstLine  int  // the line of the first of them
	firstByte  byte // and the byte itself
	headerUTF8 bool // the header line is UTF-8 with non-ASCII text in it
}

// hint is what to tell a person whose file has bytes that do not decode
// in enc: how the encoding was chosen and the setting that changes it.
func (n encodingNote) hint(enc string) string {
	if n.configured != "" {
		return fmt.Sprintf("the job's config sets source: {encoding: %s}; if the file is in another encoding, change it (utf-8, gb18030 or utf-16)", n.configured)
	}
	other := EncodingGB18030
	if enc != EncodingUTF8 {
		other = EncodingUTF8
	}
	return fmt.Sprintf("the encoding was sniffed; if the file is not %s, set it in the job's config: source: {encoding: %s} (or utf-16)", enc, other)
}

// decode wraps r so that it yields UTF-8 without a BOM, and names the
// encoding it settled on. want is CSVOptions.Encoding; headerRow (1-based)
// is where the header is, so the sniff can judge it apart from the rows.
func decode(r io.Reader, want string, headerRow int) (io.Reader, string, encodingNote, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", encodingNote{}, err
	}
	full := len(head) == sniffSize

	note := encodingNote{configured: want}
	switch strings.ToLower(strings.TrimSpace(want)) {
	case "", "auto":
		note.configured = ""
		dec, enc := sniff(br, head, full, headerRow, &note)
		return dec, enc, note, nil
	case "utf-8", "utf8":
		if bytes.HasPrefix(head, bomUTF8) {
			_, _ = br.Discard(len(bomUTF8))
		}
		return br, EncodingUTF8, note, nil
	case "gb18030", "gbk", "gb2312", "cp936":
		// GB18030 decodes every GBK and GB2312 byte sequence the same way
		// and also covers the characters GBK lacks (rare surnames).
		return transform.NewReader(br, newGB18030Raw()), EncodingGB18030, note, nil
	case "utf-16", "utf16":
		// Without a BOM, little-endian: that is what Windows writes.
		if bytes.HasPrefix(head, bomUTF16BE) {
			return withDecoder(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM)), EncodingUTF16BE, note, nil
		}
		return withDecoder(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)), EncodingUTF16LE, note, nil
	case "utf-16le", "utf16le":
		return withDecoder(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)), EncodingUTF16LE, note, nil
	case "utf-16be", "utf16be":
		return withDecoder(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM)), EncodingUTF16BE, note, nil
	default:
		return nil, "", encodingNote{}, fmt.Errorf("unknown encoding %q (want auto, utf-8, gb18030, gbk or utf-16)", want)
	}
}

// sniff decides between UTF-8 and GB18030 on the evidence of the window,
// not on its first bad byte: an HR export that is UTF-8 but for a stray
// byte (a Latin-1 é pasted into one name) must not be read as GB18030,
// which garbles every Chinese cell of it and blames a header that is
// fine. A GBK file, read as UTF-8, has invalid bytes in nearly every
// Chinese character and very few valid multibyte sequences; a UTF-8 file
// with a stray byte has the opposite.
func sniff(br *bufio.Reader, head []byte, full bool, headerRow int, note *encodingNote) (io.Reader, string) {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		_, _ = br.Discard(len(bomUTF8))
		return br, EncodingUTF8
	case bytes.HasPrefix(head, bomUTF16LE):
		return withDecoder(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)), EncodingUTF16LE
	case bytes.HasPrefix(head, bomUTF16BE):
		return withDecoder(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)), EncodingUTF16BE
	}
	if full {
		head = head[:completeRunes(head)]
	}
	st := utf8Evidence(head, headerRow)
	note.notUTF8, note.firstLine, note.firstByte, note.headerUTF8 = st.invalid, st.firstLine, st.firstByte, st.headerUTF8
	if st.invalid == 0 || st.strays() || gb18030Failures(head, full) >= st.invalid {
		// Reading as GB18030 would explain no more of the window: the
		// bytes that are not UTF-8 become invalid_encoding rows.
		return br, EncodingUTF8
	}
	return transform.NewReader(br, newGB18030Raw()), EncodingGB18030
}

// completeRunes is the length of head without a UTF-8 character cut by
// the end of the sniff window: its remaining bytes are simply not in view.
func completeRunes(head []byte) int {
	for i := len(head) - 1; i >= 0 && i >= len(head)-utf8.UTFMax; i-- {
		if utf8.RuneStart(head[i]) {
			if !utf8.FullRune(head[i:]) {
				return i
			}
			break
		}
	}
	return len(head)
}

type utf8Stats struct {
	invalid    int // bytes that are not part of a valid UTF-8 sequence
	multibyte  int // valid sequences of more than one byte
	firstLine  int
	firstByte  byte
	headerUTF8 bool
}

// strays reports a window that is UTF-8 text with a few stray bytes: no
// more than 4 of them, or 0.1% of the multibyte characters, and at least
// ten multibyte characters for each. A GBK window cannot pass: its
// accidental UTF-8 sequences are a fraction of its invalid bytes.
func (s utf8Stats) strays() bool {
	return s.invalid <= max(4, s.multibyte/1000) && s.multibyte >= 10*s.invalid
}

func utf8Evidence(head []byte, headerRow int) utf8Stats {
	var st utf8Stats
	line := 1
	headerRow = max(headerRow, 1)
	headerValid, headerWide := true, 0
	for i := 0; i < len(head); {
		r, size := utf8.DecodeRune(head[i:])
		switch {
		case r == '\n':
			if line == headerRow {
				st.headerUTF8 = headerValid && headerWide >= 3
			}
			line++
		case r == utf8.RuneError && size == 1:
			if st.invalid == 0 {
				st.firstLine, st.firstByte = line, head[i]
			}
			st.invalid++
			if line == headerRow {
				headerValid = false
			}
		case size > 1:
			st.multibyte++
			if line == headerRow {
				headerWide++
			}
		}
		i += size
	}
	return st
}

// gb18030Failures counts what GB18030 cannot decode in the window. A
// GB18030 character cut by the end of a full window is not counted.
func gb18030Failures(head []byte, full bool) int {
	if full && len(head) > 3 {
		head = head[:len(head)-3]
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(head)
	if err != nil {
		return len(head)
	}
	return bytes.Count(out, replacementChar)
}

var replacementChar = []byte(string(utf8.RuneError))

func withDecoder(r io.Reader, e encoding.Encoding) io.Reader {
	return transform.NewReader(r, e.NewDecoder())
}

// gb18030Raw decodes GB18030 as x/text does, except that a byte which
// does not decode passes through unchanged instead of becoming U+FFFD.
// It is then invalid UTF-8 in the output, which the CSV reader finds and
// names by its hex value, as it does for a UTF-8 file; U+FFFD alone would
// have lost which byte it was. No byte passed through can form a valid
// character with its neighbours: a lone lead byte is followed by the byte
// that could not follow it (ASCII or 0xFF), and a pair with no character
// passes its lead byte, which is never a UTF-8 lead there (0xA1 to 0xAF,
// 0xD7, 0xF8 to 0xFE), followed by U+FFFD for the second.
type gb18030Raw struct {
	transform.NopResetter
	dec transform.Transformer
}

func newGB18030Raw() *gb18030Raw {
	return &gb18030Raw{dec: simplifiedchinese.GB18030.NewDecoder()}
}

// gbReplacement is U+FFFD itself encoded in GB18030, the one sequence
// that decodes to U+FFFD and is not a failure.
var gbReplacement = []byte{0x84, 0x31, 0xA4, 0x37}

func (g *gb18030Raw) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	nDst, nSrc, err = g.dec.Transform(dst, src, atEOF)
	if !bytes.Contains(dst[:nDst], replacementChar) {
		return nDst, nSrc, err
	}
	// Rare: decode again one character at a time to find the bytes.
	nDst, nSrc = 0, 0
	var tmp [utf8.UTFMax]byte
	for nSrc < len(src) {
		if c := src[nSrc]; c < utf8.RuneSelf {
			if nDst == len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = c
			nDst++
			nSrc++
			continue
		}
		size := gb18030Size(src[nSrc:], atEOF)
		if size == 0 {
			return nDst, nSrc, transform.ErrShortSrc
		}
		k, _, _ := g.dec.Transform(tmp[:], src[nSrc:nSrc+size], true)
		out := tmp[:k]
		if r, n := utf8.DecodeRune(out); r == utf8.RuneError && !bytes.Equal(src[nSrc:nSrc+size], gbReplacement) {
			// x/text consumes a failing pair whole, anything else one byte.
			if size == 2 {
				out = append(tmp[:0], src[nSrc])
				out = append(out, replacementChar...)
			} else {
				size = 1
				out = src[nSrc : nSrc+1]
			}
		} else {
			out = out[:n]
		}
		if nDst+len(out) > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], out)
		nSrc += size
	}
	return nDst, nSrc, nil
}

// gb18030Size is how many bytes of b the x/text GB18030 decoder takes for
// the character at b[0] (when it decodes), or 0 when it needs more input.
func gb18030Size(b []byte, atEOF bool) int {
	c0 := b[0]
	if c0 <= 0x80 || c0 == 0xFF {
		return 1
	}
	if len(b) < 2 {
		if atEOF {
			return 1
		}
		return 0
	}
	switch c1 := b[1]; {
	case 0x40 <= c1 && c1 < 0x7F, 0x80 <= c1 && c1 < 0xFF:
		return 2
	case 0x30 <= c1 && c1 < 0x40:
		if len(b) < 4 {
			if atEOF {
				return 1
			}
			return 0
		}
		if b[2] < 0x81 || b[2] == 0xFF || b[3] < 0x30 || b[3] >= 0x3A {
			return 1
		}
		return 4
	}
	return 1
}

// invalidAt finds the first character of s that did not decode: a byte
// that is not UTF-8, or U+FFFD, which the UTF-16 decoders put in place of
// what they cannot read. It returns its index and a description, or -1.
func invalidAt(s string) (int, string) {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError {
			if size == 1 {
				return i, fmt.Sprintf("byte 0x%02X", s[i])
			}
			return i, "U+FFFD (a character that did not decode)"
		}
		i += size
	}
	return -1, ""
}
