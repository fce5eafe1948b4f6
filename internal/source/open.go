package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// Source types, the values of Spec.Type.
const (
	TypeCSV      = "csv"
	TypeXLSX     = "xlsx"
	TypePostgres = "postgres"
)

// Spec says which source to open and how; the config package builds it
// from a job. Fields a type does not use are ignored.
type Spec struct {
	Type string // TypeCSV (also ""), TypeXLSX or TypePostgres

	Path      string // csv, xlsx
	Encoding  string // csv: see CSVOptions
	Delimiter rune   // csv: 0 = sniff
	HeaderRow int    // csv, xlsx: 1-based; 0 = csv's first line, xlsx finds it
	Sheet     string // xlsx: name, "#N" (1-based), "" = first visible sheet
	Columns   []string

	// DSN is the PostgreSQL connection string, resolved by the caller from
	// the environment. It is never put in an error or a log line.
	DSN  string
	View string // postgres: view or table, optionally schema-qualified
	Key  string // postgres: key column, the row order and the row ref

	// AllowNonRegular lets a csv source be a named pipe, a device or a
	// socket (process substitution, /dev/stdin). Without it Open refuses
	// anything but a regular file, because reading a FIFO nobody writes
	// to, or /dev/zero, hangs or never ends. A directory is always refused,
	// and so is a workbook that is not a regular file: the xlsx reader
	// needs random access.
	AllowNonRegular bool
}

// Open opens the source spec names. ctx bounds opening and, for
// PostgreSQL, the whole read: the query runs until the Reader is closed.
func Open(ctx context.Context, spec Spec) (Reader, error) {
	switch strings.ToLower(spec.Type) {
	case "", TypeCSV:
		return OpenCSV(spec.Path, CSVOptions{Encoding: spec.Encoding, Delimiter: spec.Delimiter, HeaderRow: spec.HeaderRow, AllowNonRegular: spec.AllowNonRegular})
	case TypeXLSX:
		return OpenXLSX(spec.Path, XLSXOptions{Sheet: spec.Sheet, HeaderRow: spec.HeaderRow, Columns: spec.Columns})
	case TypePostgres:
		return OpenPostgres(ctx, PostgresOptions{DSN: spec.DSN, View: spec.View, Key: spec.Key})
	}
	return nil, fmt.Errorf("unknown source type %q (want csv, xlsx or postgres)", spec.Type)
}

// File signatures. An OLE2 compound file is both the old binary .xls and
// the container Office wraps a password-protected .xlsx in; the names of
// the streams inside tell them apart.
var (
	sigZip = []byte("PK\x03\x04")
	sigOLE = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}

	// Directory entry names in an OLE2 file are UTF-16LE.
	oleEncryptedPackage = utf16le("EncryptedPackage")
	oleEncryptionInfo   = utf16le("EncryptionInfo")
)

// Typed errors for workbooks the XLSX reader cannot read, so a caller can
// tell an operator what to do with the file.
var (
	ErrLegacyXLS = errors.New("this is an old binary Excel 97-2003 workbook (.xls), which is not supported: open it in Excel, WPS or LibreOffice and save it as .xlsx")
	ErrEncrypted = errors.New("the workbook is password-protected (encrypted): save a copy without a password")
)

// openFile opens path for reading. Unless allowNonRegular, anything but
// a regular file is refused before it is opened, as opening a FIFO waits
// for a writer and reading a device may never end; the file is then
// opened without blocking and checked again, in case a pipe took its
// place in between. regular reports what was opened.
func openFile(path string, allowNonRegular bool) (f *os.File, regular bool, err error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	kind := fileKind(fi.Mode())
	switch {
	case fi.IsDir():
		return nil, false, fmt.Errorf("%s is a directory, not a file: give the path of the export file", path)
	case kind != "" && !allowNonRegular:
		return nil, false, errNotRegular(path, kind)
	case kind != "":
		f, err = os.Open(path)
		return f, false, err
	}
	f, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, false, err
	}
	now, err := f.Stat()
	if err == nil && !now.Mode().IsRegular() {
		err = errNotRegular(path, fileKind(now.Mode()))
	}
	if err != nil {
		_ = f.Close()
		return nil, false, err
	}
	return f, true, nil
}

// fileKind names a mode that is not a regular file, or "".
func fileKind(m os.FileMode) string {
	switch {
	case m.IsRegular():
		return ""
	case m&os.ModeDir != 0:
		return "directory"
	case m&os.ModeNamedPipe != 0:
		return "named pipe (FIFO)"
	case m&os.ModeSocket != 0:
		return "socket"
	case m&os.ModeCharDevice != 0:
		return "character device"
	case m&os.ModeDevice != 0:
		return "block device"
	}
	return "irregular file"
}

func errNotRegular(path, kind string) error {
	return fmt.Errorf("%s is not a regular file (%s); a pipe or device may never end or never be written to: give the path of the export file", path, kind)
}

// checkWorkbook names the common ways a file given as .xlsx is not one.
func checkWorkbook(f io.ReaderAt) error {
	head, err := readHead(f, 512)
	if err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(head, sigZip):
		return nil
	case bytes.HasPrefix(head, sigOLE):
		enc, err := oleEncrypted(f)
		if err != nil {
			return err
		}
		if enc {
			return ErrEncrypted
		}
		return ErrLegacyXLS
	case len(head) == 0:
		return errors.New("the file is empty, not an .xlsx workbook")
	case looksLikeText(head):
		// HR systems often export HTML tables or tab-separated text
		// with an Excel file name.
		return errors.New("this is text (CSV, tab-separated or HTML), not an .xlsx workbook: if it is delimited text, use source.type csv")
	}
	return errors.New("this is not an .xlsx workbook (no ZIP signature)")
}

// checkText refuses workbooks handed to the CSV reader, which would
// otherwise decode a ZIP or OLE file as GB18030 garbage and complain about
// the header.
func checkText(f io.ReaderAt) error {
	head, err := readHead(f, 8)
	if err != nil {
		return err
	}
	switch {
	case bytes.HasPrefix(head, sigZip):
		return errors.New("this is an .xlsx workbook (or another ZIP file), not CSV: use source.type xlsx")
	case bytes.HasPrefix(head, sigOLE):
		return errors.New("this is a binary Excel workbook (.xls, or an encrypted .xlsx), not CSV: save it as .xlsx or CSV")
	}
	return nil
}

// readHead reads the first n bytes of f, or fewer if it is shorter,
// without moving its offset.
func readHead(f io.ReaderAt, n int) ([]byte, error) {
	buf := make([]byte, n)
	k, err := f.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:k], nil
}

// oleEncrypted scans an OLE2 file for the stream names of an encrypted
// OOXML package. A plain scan, in bounded chunks, is enough: the names
// live in the directory sectors, and a legacy .xls has neither.
func oleEncrypted(f io.ReaderAt) (bool, error) {
	const chunk = 64 << 10
	overlap := len(oleEncryptedPackage)
	buf := make([]byte, overlap+chunk)
	keep := 0
	for off := int64(0); ; {
		n, err := f.ReadAt(buf[keep:], off)
		off += int64(n)
		data := buf[:keep+n]
		if bytes.Contains(data, oleEncryptedPackage) || bytes.Contains(data, oleEncryptionInfo) {
			return true, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return false, nil
			}
			return false, err
		}
		keep = copy(buf, data[len(data)-overlap:])
	}
}

func utf16le(s string) []byte {
	b := make([]byte, 0, 2*len(s))
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

// looksLikeText: text in any of the encodings HR exports use has no NUL
// bytes, except UTF-16, which starts with a BOM when Excel writes it.
func looksLikeText(head []byte) bool {
	return bytes.HasPrefix(head, bomUTF16LE) || bytes.HasPrefix(head, bomUTF16BE) || bytes.IndexByte(head, 0) < 0
}
