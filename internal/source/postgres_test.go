package source

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hrfeed/importer/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// hrDatabase creates a database with schema hr, a table of mixed types
// (inserted out of key order, with NULLs), a view over it, a view with a
// name that would be SQL if it were pasted into a query, and a bystander
// table x that name would drop.
func hrDatabase(t *testing.T) (dsn string, conn *pgx.Conn) {
	t.Helper()
	dsn = pgtest.DSN(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	_, err = conn.Exec(ctx, `
CREATE SCHEMA hr;
CREATE TABLE hr.staff (
	emp_no    text PRIMARY KEY,
	name      text NOT NULL,
	mobile    bigint,
	level     smallint,
	salary    numeric(12,2),
	big       numeric,
	score     double precision,
	joined    date,
	updated   timestamp,
	active    boolean,
	grade     char(4),
	note      text
);
-- A European server default, to prove dates come out ISO regardless.
SET DateStyle = 'SQL, DMY';
INSERT INTO hr.staff VALUES
	('E003', '王五', 13800000003, 3, 8800.50, 12345678901234567890, 1e20, '2024-01-05', '2024-03-01 09:30:00', false, 'P3', NULL),
	('E001', '张三', 13800000001, 1, 12000, 0.1, 0.5, '1999-12-31', NULL, true, 'P10', 'first'),
	('E002', '李四', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
CREATE VIEW hr.staff_v AS
	SELECT emp_no AS "工号", name AS "姓名", mobile AS "手机", level, salary, big, score, joined, updated, active, grade, note
	FROM hr.staff;
CREATE TABLE x (id int);
CREATE VIEW "weird""name; drop table x" AS SELECT emp_no, name FROM hr.staff;
CREATE VIEW "Staff" AS SELECT emp_no FROM hr.staff WHERE emp_no = 'E001';
`)
	if err != nil {
		t.Fatal(err)
	}
	return dsn, conn
}

func TestPostgres(t *testing.T) {
	dsn, conn := hrDatabase(t)
	ctx := context.Background()

	vals := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	cols := []string{"工号", "姓名", "手机", "level", "salary", "big", "score", "joined", "updated", "active", "grade", "note"}
	tests := []struct {
		name    string
		opts    PostgresOptions
		columns []string
		rows    []Row
		openErr string // substring of the OpenPostgres error
	}{
		{
			name: "mixed types in key order", opts: PostgresOptions{View: "hr.staff_v", Key: "工号"}, columns: cols,
			rows: []Row{
				{Ref: "hr.staff_v:E001", Values: vals("工号", "E001", "姓名", "张三", "手机", "13800000001", "level", "1", "salary", "12000.00", "big", "0.1",
					"score", "0.5", "joined", "1999-12-31", "updated", "", "active", "true", "grade", "P10", "note", "first")},
				{Ref: "hr.staff_v:E002", Values: vals("工号", "E002", "姓名", "李四", "手机", "", "level", "", "salary", "", "big", "",
					"score", "", "joined", "", "updated", "", "active", "", "grade", "", "note", "")},
				{Ref: "hr.staff_v:E003", Values: vals("工号", "E003", "姓名", "王五", "手机", "13800000003", "level", "3", "salary", "8800.50", "big", "12345678901234567890",
					"score", "100000000000000000000", "joined", "2024-01-05", "updated", "2024-03-01 09:30:00", "active", "false", "grade", "P3", "note", "")},
			},
		},
		{
			name: "ordered by another key", opts: PostgresOptions{View: "hr.staff", Key: "mobile"},
			columns: []string{"emp_no", "name", "mobile", "level", "salary", "big", "score", "joined", "updated", "active", "grade", "note"},
			rows:    nil, // checked below by ref order only
		},
		{
			name: "hostile name is only a name", opts: PostgresOptions{View: `weird"name; drop table x`, Key: "emp_no"}, columns: []string{"emp_no", "name"},
			rows: []Row{
				{Ref: `weird"name; drop table x:E001`, Values: vals("emp_no", "E001", "name", "张三")},
				{Ref: `weird"name; drop table x:E002`, Values: vals("emp_no", "E002", "name", "李四")},
				{Ref: `weird"name; drop table x:E003`, Values: vals("emp_no", "E003", "name", "王五")},
			},
		},
		{
			name: "case is kept", opts: PostgresOptions{View: "Staff", Key: "emp_no"}, columns: []string{"emp_no"},
			rows: []Row{{Ref: "Staff:E001", Values: vals("emp_no", "E001")}},
		},
		{name: "missing key column", opts: PostgresOptions{View: "hr.staff_v", Key: "emp_no"}, openErr: `postgres source hr.staff_v: no key column "emp_no" (columns: "工号", "姓名", "手机", "level", "salary", "big", "score", "joined", "updated", "active", … and 2 more)`},
		{name: "missing view", opts: PostgresOptions{View: "hr.nope", Key: "id"}, openErr: "postgres source hr.nope: no such view or table (names are matched exactly, case included)"},
		{name: "wrong case", opts: PostgresOptions{View: "staff", Key: "emp_no"}, openErr: "postgres source staff: no such view or table"},
		{name: "injection through the key", opts: PostgresOptions{View: "hr.staff", Key: "emp_no; drop table x"}, openErr: `no key column "emp_no; drop table x"`},
		{name: "empty name part", opts: PostgresOptions{View: "hr..staff", Key: "emp_no"}, openErr: `view "hr..staff": empty name part`},
		{name: "no key", opts: PostgresOptions{View: "hr.staff"}, openErr: "postgres source hr.staff: no key column"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.DSN = dsn
			p, err := OpenPostgres(ctx, tt.opts)
			if tt.openErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.openErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.openErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			if diff := cmp.Diff(tt.columns, p.Columns()); diff != "" {
				t.Errorf("Columns (-want +got):\n%s", diff)
			}
			rows, err := readAll(p)
			if err != nil {
				t.Fatal(err)
			}
			if tt.rows == nil {
				// Numbers, not text, so no collation decides the order;
				// a NULL key sorts last and is a row problem.
				var refs []string
				for _, r := range rows {
					refs = append(refs, r.Ref+" "+r.ProblemRule)
				}
				if diff := cmp.Diff([]string{"hr.staff:13800000001 ", "hr.staff:13800000003 ", "hr.staff: missing_key"}, refs); diff != "" {
					t.Errorf("order (-want +got):\n%s", diff)
				}
				return
			}
			if diff := cmp.Diff(tt.rows, rows); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
		})
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM x").Scan(&n); err != nil {
		t.Fatalf("table x is gone: %v", err)
	}
}

// Rows committed by someone else after the read began are not seen: the
// whole read is one snapshot.
func TestPostgresSnapshot(t *testing.T) {
	dsn, conn := hrDatabase(t)
	ctx := context.Background()
	p, err := OpenPostgres(ctx, PostgresOptions{DSN: dsn, View: "hr.staff_v", Key: "工号"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !p.Next() {
		t.Fatalf("no first row: %v", p.Err())
	}
	if _, err := conn.Exec(ctx, `INSERT INTO hr.staff (emp_no, name) VALUES ('E000', '新人'), ('E999', '新人');
		UPDATE hr.staff SET name = '改名' WHERE emp_no = 'E003'`); err != nil {
		t.Fatal(err)
	}
	refs := []string{p.Row().Ref}
	for p.Next() {
		refs = append(refs, p.Row().Ref)
		if p.Row().Values["姓名"] == "改名" {
			t.Errorf("%s: saw an update committed after the read began", p.Row().Ref)
		}
	}
	if err := p.Err(); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"hr.staff_v:E001", "hr.staff_v:E002", "hr.staff_v:E003"}, refs); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
}

func TestPostgresReadOnly(t *testing.T) {
	dsn, _ := hrDatabase(t)
	ctx := context.Background()
	p, err := OpenPostgres(ctx, PostgresOptions{DSN: dsn, View: "hr.staff_v", Key: "工号"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	// The connection is busy until the stream ends; the transaction
	// stays open until Close.
	if _, err := readAll(p); err != nil {
		t.Fatal(err)
	}
	var iso, ro string
	if err := p.tx.QueryRow(ctx, "SELECT current_setting('transaction_isolation'), current_setting('transaction_read_only')").Scan(&iso, &ro); err != nil {
		t.Fatal(err)
	}
	if iso != "repeatable read" || ro != "on" {
		t.Errorf("transaction is %s, read only %s; want repeatable read, on", iso, ro)
	}
}

func TestPostgresMissingKeyValue(t *testing.T) {
	dsn, conn := hrDatabase(t)
	ctx := context.Background()
	if _, err := conn.Exec(ctx, `CREATE VIEW hr.nokey AS SELECT NULL::text AS id, 'x' AS name`); err != nil {
		t.Fatal(err)
	}
	p, err := OpenPostgres(ctx, PostgresOptions{DSN: dsn, View: "hr.nokey", Key: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rows, err := readAll(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []Row{{Ref: "hr.nokey:", Values: map[string]string{"id": "", "name": "x"}, Problem: "key column id is empty", ProblemRule: RuleMissingKey, ProblemColumn: "id"}}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

// No error may carry the connection string or its password, whatever
// fails: parsing, connecting, or the query.
func TestPostgresErrorsHideTheDSN(t *testing.T) {
	const pw = "hunter2-Secret"
	base, _ := hrDatabase(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword(u.User.Username(), pw)
	withPW := u.String()

	tests := []struct {
		name string
		dsn  string
		view string
	}{
		{"unparsable", "postgres://hr:" + pw + "@db.example:notaport/hr", "hr.staff_v"},
		{"keyword form unparsable", "host=db.example password=" + pw + " port=notaport", "hr.staff_v"},
		{"refused", "postgres://hr:" + pw + "@127.0.0.1:1/hr?connect_timeout=5", "hr.staff_v"},
		{"query fails", withPW, "hr.nope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenPostgres(context.Background(), PostgresOptions{DSN: tt.dsn, View: tt.view, Key: "工号"})
			if err == nil {
				t.Fatal("opened")
			}
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				if msg := e.Error(); strings.Contains(msg, pw) || strings.Contains(msg, tt.dsn) {
					t.Errorf("error leaks the DSN: %s", msg)
				}
			}
			if !strings.Contains(err.Error(), tt.view) {
				t.Errorf("error does not name the view: %v", err)
			}
		})
	}

	// The driver's typed error stays reachable.
	_, err = OpenPostgres(context.Background(), PostgresOptions{DSN: withPW, View: "hr.nope", Key: "id"})
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Errorf("errors.As PgError: %v", err)
	}
}

// PostgreSQL text cannot hold NUL, but it holds every other control
// character, and cells of any size: the shared rules apply to a view as
// they do to a file.
func TestPostgresCellRules(t *testing.T) {
	dsn, conn := hrDatabase(t)
	ctx := context.Background()
	_, err := conn.Exec(ctx, `CREATE VIEW hr.ctl AS SELECT * FROM (VALUES
		('E1', E'two\nlines\tand a tab'), ('E2', E'bell\x07'), ('E3', repeat('长', 15000)), (E'E4\x1b[2J', 'x')) v(id, note)`)
	if err != nil {
		t.Fatal(err)
	}
	p, err := OpenPostgres(ctx, PostgresOptions{DSN: dsn, View: "hr.ctl", Key: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rows, err := readAll(p)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct{ ref, rule, problem string }{
		{"hr.ctl:E1", "", ""},
		{"hr.ctl:E2", RuleControlCharacter, `control character U+0007 in column note, byte 5 of "bell\a"`},
		{"hr.ctl:E3", RuleCellTooLarge, `the cell in column note is 43.9 KiB, over the 32 KiB limit for one cell (it starts "长长长长长长长长长长长长长长长长长长长长长"…)`},
		// The ref of a key no terminal should print is quoted.
		{`hr.ctl:"E4\x1b[2J"`, RuleControlCharacter, `control character U+001B in column id, byte 3 of "E4\x1b[2J"`},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		if r := rows[i]; r.Ref != w.ref || r.ProblemRule != w.rule || r.Problem != w.problem {
			t.Errorf("row %d = %s %q %q\nwant %s %q %q", i, r.Ref, r.ProblemRule, r.Problem, w.ref, w.rule, w.problem)
		}
	}

	lim := defaultLimits
	lim.rows = 3
	p, err = OpenPostgres(ctx, PostgresOptions{DSN: dsn, View: "hr.ctl", Key: "id", limits: &lim})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	rows, err = readAll(p)
	if len(rows) != 3 || err == nil || err.Error() != "postgres source hr.ctl: more than 3 data rows, the limit for one source: this is not one HR export" {
		t.Fatalf("rows %d, err %v", len(rows), err)
	}
}
