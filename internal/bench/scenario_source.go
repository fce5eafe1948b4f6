package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
)

// sourceRead reads the same 12-column feed as UTF-8 CSV, GB18030 CSV, an
// xlsx workbook with shared strings and a PostgreSQL view, each in a fresh
// importer process whose peak RSS the kernel reports when it exits.
func (b *bench) sourceRead(ctx context.Context) error {
	n := b.sizes.SourceRows
	dir, err := b.workDir("source")
	if err != nil {
		return err
	}
	b.logf("source: writing %s rows as CSV (UTF-8, GB18030) and xlsx", num(n))
	utf8Path, gbPath, xlsxPath := filepath.Join(dir, "staff-utf8.csv"), filepath.Join(dir, "staff-gb18030.csv"), filepath.Join(dir, "staff.xlsx")
	if err := writeWideCSV(utf8Path, n, false); err != nil {
		return err
	}
	if err := writeWideCSV(gbPath, n, true); err != nil {
		return err
	}
	if err := writeWideXLSX(xlsxPath, n); err != nil {
		return err
	}
	type readCase struct {
		name string
		args ReadArgs
		dsn  string
	}
	cases := []readCase{
		{"baseline (process only)", ReadArgs{Type: "none"}, ""},
		{"csv utf-8", ReadArgs{Type: "csv", Path: utf8Path}, ""},
		{"csv gb18030", ReadArgs{Type: "csv", Path: gbPath}, ""},
		{"xlsx shared strings", ReadArgs{Type: "xlsx", Path: xlsxPath}, ""},
	}
	size := fmt.Sprintf("%s rows × %d columns", num(n), len(wideColumns))
	if pg, err := b.postgres(); err != nil {
		defer b.add(skippedPostgres("source read: postgres view", size, err))
	} else {
		b.logf("source: loading %s rows into a PostgreSQL table behind a view", num(n))
		dsn, err := loadWideView(ctx, pg, n)
		if err != nil {
			return err
		}
		cases = append(cases, readCase{"postgres view", ReadArgs{Type: "postgres", View: "hr.staff_v", Key: "工号"}, dsn})
	}

	for _, c := range cases {
		b.logf("source: reading %s", c.name)
		env := childEnv()
		if c.dsn != "" {
			env = childEnv(SourceDSNEnv + "=" + c.dsn)
		}
		args := []string{"bench", "read-source", "--type", c.args.Type}
		for flag, v := range map[string]string{"--path": c.args.Path, "--view": c.args.View, "--key": c.args.Key} {
			if v != "" {
				args = append(args, flag, v)
			}
		}
		ch, err := b.runChild(ctx, env, args...)
		if err != nil {
			return err
		}
		setup := size
		switch {
		case c.args.Type == "none":
			setup = "the importer process starting, reading nothing"
		case c.args.Path != "":
			if fi, err := os.Stat(c.args.Path); err == nil {
				setup += ", " + mb(fi.Size()) + " file"
			}
		}
		row := Row{Scenario: "source read: " + c.name, Setup: setup}
		var res readResult
		if ch.Exit != 0 || json.Unmarshal(ch.Stdout, &res) != nil {
			row.Result, row.Check, row.Failed = "—", fmt.Sprintf("FAIL: reader exited %d: %s", ch.Exit, firstLine(ch.Stderr)), true
			b.add(row)
			continue
		}
		row.Result = fmt.Sprintf("read %s (process %s), peak RSS %s", secs(time.Duration(res.MS)*time.Millisecond), secs(ch.Wall), rss(max(res.PeakRSS, ch.MaxRSS)))
		want := n
		if c.args.Type == "none" {
			want = 0
		}
		var problems []string
		if res.Rows != want {
			problems = append(problems, fmt.Sprintf("read %s rows, want %s", num(res.Rows), num(want)))
		}
		row.Check, row.Failed = verdict(num(res.Rows)+" rows", problems)
		b.add(row)
	}
	return nil
}

func rss(bytes int64) string {
	if bytes == 0 {
		return "n/a"
	}
	return mb(bytes)
}

// loadWideView puts the feed in a table of a fresh database, with the hire
// date as a real date column, behind the view a job would name.
func loadWideView(ctx context.Context, pg *pgCluster, n int) (string, error) {
	dsn, err := pg.createDB(ctx, "hr_source")
	if err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	var cols string
	for i, c := range wideColumns {
		typ := "text"
		switch i {
		case 0:
			typ = "text PRIMARY KEY"
		case 9:
			typ = "date"
		}
		if i > 0 {
			cols += ", "
		}
		cols += pgx.Identifier{c}.Sanitize() + " " + typ
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA hr; CREATE TABLE hr.staff ("+cols+"); CREATE VIEW hr.staff_v AS SELECT * FROM hr.staff"); err != nil {
		return "", fmt.Errorf("create the source view: %w", err)
	}
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{"hr", "staff"}, wideColumns, pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		r := wideRow(i)
		i++
		vals := make([]any, len(r))
		for j, v := range r {
			vals[j] = v
		}
		hired, err := time.Parse(time.DateOnly, r[9])
		if err != nil {
			return nil, err
		}
		vals[9] = hired
		return vals, nil
	}))
	if err != nil {
		return "", fmt.Errorf("load the source table: %w", err)
	}
	_, err = conn.Exec(ctx, "ANALYZE hr.staff")
	return dsn, err
}
