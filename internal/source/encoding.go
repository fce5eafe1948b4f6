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

// decode wraps r so that it yields UTF-8 without a BOM, and names the
// encoding it settled on. want is CSVOptions.Encoding.
func decode(r io.Reader, want string) (io.Reader, string, error) {
	br := bufio.NewReaderSize(r, sniffSize)
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", err
	}
	full := len(head) == sniffSize

	switch strings.ToLower(strings.TrimSpace(want)) {
	case "", "auto":
		return sniff(br, head, full)
	case "utf-8", "utf8":
		if bytes.HasPrefix(head, bomUTF8) {
			_, _ = br.Discard(len(bomUTF8))
		}
		return br, EncodingUTF8, nil
	case "gb18030", "gbk", "gb2312", "cp936":
		// GB18030 decodes every GBK and GB2312 byte sequence the same way
		// and also covers the characters GBK lacks (rare surnames).
		return withDecoder(br, simplifiedchinese.GB18030), EncodingGB18030, nil
	case "utf-16", "utf16":
		// Without a BOM, little-endian: that is what Windows writes.
		if bytes.HasPrefix(head, bomUTF16BE) {
			return withDecoder(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM)), EncodingUTF16BE, nil
		}
		return withDecoder(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)), EncodingUTF16LE, nil
	case "utf-16le", "utf16le":
		return withDecoder(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM)), EncodingUTF16LE, nil
	case "utf-16be", "utf16be":
		return withDecoder(br, unicode.UTF16(unicode.BigEndian, unicode.UseBOM)), EncodingUTF16BE, nil
	default:
		return nil, "", fmt.Errorf("unknown encoding %q (want auto, utf-8, gb18030, gbk or utf-16)", want)
	}
}

func sniff(br *bufio.Reader, head []byte, full bool) (io.Reader, string, error) {
	switch {
	case bytes.HasPrefix(head, bomUTF8):
		_, _ = br.Discard(len(bomUTF8))
		return br, EncodingUTF8, nil
	case bytes.HasPrefix(head, bomUTF16LE):
		return withDecoder(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM)), EncodingUTF16LE, nil
	case bytes.HasPrefix(head, bomUTF16BE):
		return withDecoder(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM)), EncodingUTF16BE, nil
	case validUTF8Prefix(head, full):
		return br, EncodingUTF8, nil
	default:
		return withDecoder(br, simplifiedchinese.GB18030), EncodingGB18030, nil
	}
}

// validUTF8Prefix reports whether head is valid UTF-8. When head is a
// prefix of a longer input (full), a character cut by the sniff window is
// forgiven: its remaining bytes are simply not in view.
func validUTF8Prefix(head []byte, full bool) bool {
	if full {
		for i := len(head) - 1; i >= 0 && i >= len(head)-utf8.UTFMax; i-- {
			if utf8.RuneStart(head[i]) {
				if !utf8.FullRune(head[i:]) {
					head = head[:i]
				}
				break
			}
		}
	}
	return utf8.Valid(head)
}

func withDecoder(r io.Reader, e encoding.Encoding) io.Reader {
	return transform.NewReader(r, e.NewDecoder())
}
