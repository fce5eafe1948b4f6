//go:build linux

package source

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// TestPeakRSS measures the peak resident memory (VmHWM) of reading each
// input in a fresh process, so that neither the generated input nor a
// previous case is counted, and fails when a case passes its bound: the
// 100,000-row benchmark inputs against the budgets (CSV 50 MB, xlsx
// 100 MB), and the hostile inputs of the findings, which must be refused
// within 64 MB. It is slow (it builds ~2.5 GB of input, most of it
// compressed away), so it runs only when asked:
//
//	HRFEED_RSS=1 CI=true go test -run TestPeakRSS -v ./internal/source/
func TestPeakRSS(t *testing.T) {
	if os.Getenv(rssChildEnv) != "" {
		rssChild(t)
		return
	}
	if os.Getenv("HRFEED_RSS") == "" {
		t.Skip("set HRFEED_RSS=1 to measure peak RSS")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("no /proc: peak RSS is read from /proc/self/status")
	}
	dir := t.TempDir()
	utf8 := bigCSV(benchRows)
	gb, err := simplifiedchinese.GB18030.NewEncoder().Bytes(utf8)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	xlsx := filepath.Join(dir, "staff.xlsx")
	writeStaffWorkbook(t, xlsx, benchRows)
	fifo := filepath.Join(dir, "staff.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	const hostile = 64 // MB
	cases := []struct {
		name, typ, arg string
		allow          bool    // Spec.AllowNonRegular
		refused        string  // the start of the error a hostile input must get
		maxMB          float64 // peak RSS bound
	}{
		{name: "baseline (no read)", typ: "none", maxMB: 30},
		{name: "csv utf-8", typ: TypeCSV, arg: write("utf8.csv", utf8), maxMB: 50},
		{name: "csv gb18030", typ: TypeCSV, arg: write("gb.csv", gb), maxMB: 50},
		{name: "xlsx shared strings", typ: TypeXLSX, arg: xlsx, maxMB: 100},
		{name: "postgres view", typ: TypePostgres, arg: pgStaff(t, benchRows), maxMB: 50},

		{name: "csv 200 MB line", typ: TypeCSV, refused: "long.csv:1: line longer than 1 MiB", maxMB: hostile,
			arg: writeFile(t, "long.csv", func(w *bufio.Writer) { repeat(w, "x", 200<<20) })},
		{name: "csv 10,000-column header", typ: TypeCSV, refused: "wide.csv:1: the header has 10,000 columns", maxMB: hostile,
			arg: writeFile(t, "wide.csv", func(w *bufio.Writer) {
				for i := range 10_000 {
					if i > 0 {
						w.WriteByte(',')
					}
					fmt.Fprintf(w, "column_%d", i)
				}
				w.WriteString("\n")
			})},
		{name: "/dev/zero", typ: TypeCSV, arg: "/dev/zero", refused: "open csv: /dev/zero is not a regular file (character device)", maxMB: hostile},
		{name: "/dev/zero, allowed", typ: TypeCSV, arg: "/dev/zero", allow: true, refused: "zero:1: line longer than 1 MiB", maxMB: hostile},
		{name: "FIFO, no writer", typ: TypeCSV, arg: fifo, refused: "open csv: " + fifo + " is not a regular file (named pipe (FIFO))", maxMB: hostile},
		{name: "xlsx 2 GiB cell", typ: TypeXLSX, refused: "bomb.xlsx: the workbook unzips to 2.0 GiB, over the 1 GiB limit", maxMB: hostile,
			arg: rssBook(t, "bomb.xlsx", func(w *bufio.Writer) {
				w.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>`)
				repeat(w, "x", 2<<30)
				w.WriteString(`</t></is></c></row>`)
			})},
		{name: "xlsx 256 MiB cell", typ: TypeXLSX, refused: "cell.xlsx: Sheet1!2: the row cannot be read within the limits", maxMB: hostile,
			arg: rssBook(t, "cell.xlsx", func(w *bufio.Writer) {
				w.WriteString(`<row r="1"><c r="A1" t="inlineStr"><is><t>工号</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>`)
				repeat(w, "x", 256<<20)
				w.WriteString(`</t></is></c></row>`)
			})},
		{name: "xlsx 4 million rows", typ: TypeXLSX, refused: "rows.xlsx: Sheet1!1048577: the sheet has rows past 1,048,576", maxMB: hostile,
			arg: rssBook(t, "rows.xlsx", func(w *bufio.Writer) {
				w.WriteString(`<row><c t="inlineStr"><is><t>工号</t></is></c></row>`)
				repeat(w, `<row><c t="inlineStr"><is><t>E1</t></is></c></row>`, 4_000_000*50)
			})},
	}
	for _, c := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^TestPeakRSS$", "-test.count=1")
		cmd.Env = append(os.Environ(), rssChildEnv+"="+c.typ, rssArgEnv+"="+c.arg, rssAllowEnv+"="+strconv.FormatBool(c.allow))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", c.name, err, out)
		}
		var hwm, rows int
		var ms, cpu int
		outcome := ""
		for sc := bufio.NewScanner(strings.NewReader(string(out))); sc.Scan(); {
			if _, err := fmt.Sscanf(sc.Text(), "RSS %d kB %d rows %d ms %d cpu-ms", &hwm, &rows, &ms, &cpu); err == nil {
				outcome, _ = strings.CutPrefix(sc.Text()[strings.Index(sc.Text(), "cpu-ms")+len("cpu-ms"):], " ")
				break
			}
		}
		if hwm == 0 {
			t.Fatalf("%s: no measurement in\n%s", c.name, out)
		}
		mb := float64(hwm) / 1024
		input := ""
		if fi, err := os.Stat(c.arg); err == nil && fi.Mode().IsRegular() {
			input = fmt.Sprintf("%.1f MB file", float64(fi.Size())/1e6)
		}
		// CPU time (user+system, all threads) next to wall time: on a
		// busy machine the wall time says more about the neighbours.
		t.Logf("%-26s %-13s %7d rows  peak RSS %6.1f MB (bound %3.0f)  wall %6d ms  cpu %6d ms  %.70s", c.name, input, rows, mb, c.maxMB, ms, cpu, outcome)
		switch {
		case c.refused == "" && outcome != "ok":
			t.Errorf("%s: %s", c.name, outcome)
		case c.refused != "" && !strings.HasPrefix(outcome, "refused: "+c.refused):
			t.Errorf("%s: %s\nwant refused: %s", c.name, outcome, c.refused)
		}
		if mb > c.maxMB {
			t.Errorf("%s: peak RSS %.1f MB, over the %.0f MB bound", c.name, mb, c.maxMB)
		}
	}
}

// rssBook writes a workbook whose one sheet holds the rows rows writes,
// deflated as Excel would, so a 2 GiB cell takes a 2 MB file.
func rssBook(t *testing.T, name string, rows func(w *bufio.Writer)) string {
	path := filepath.Join(t.TempDir(), name)
	writeBook(t, path, bookPart{name: "xl/worksheets/sheet1.xml", write: func(w *bufio.Writer) {
		w.WriteString(sheetHead)
		rows(w)
		w.WriteString(sheetTail)
	}})
	return path
}

const (
	rssChildEnv = "HRFEED_RSS_CHILD"
	rssArgEnv   = "HRFEED_RSS_ARG"
	rssAllowEnv = "HRFEED_RSS_ALLOW"
)

func rssChild(t *testing.T) {
	typ, arg := os.Getenv(rssChildEnv), os.Getenv(rssArgEnv)
	start := time.Now()
	rows := 0
	outcome := "ok"
	if typ != "none" {
		spec := Spec{Type: typ, Path: arg, Columns: bigColumns, AllowNonRegular: os.Getenv(rssAllowEnv) == "true"}
		if typ == TypePostgres {
			spec = Spec{Type: typ, DSN: arg, View: "hr.staff_v", Key: "emp_no"}
		}
		// A refusal is an outcome here, not a failure: the parent judges.
		if r, err := Open(context.Background(), spec); err != nil {
			outcome = "refused: " + err.Error()
		} else {
			for r.Next() {
				rows++
			}
			if err := r.Err(); err != nil {
				outcome = "refused: " + err.Error()
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
	took := time.Since(start)
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(status)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.Atoi(f[1])
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
				t.Fatal(err)
			}
			cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			fmt.Printf("RSS %d kB %d rows %d ms %d cpu-ms %s\n", kb, rows, took.Milliseconds(), cpu.Milliseconds(), strings.ReplaceAll(outcome, "\n", " "))
			return
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
}
