package source

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/hrfeed/importer/internal/quote"
)

// PostgresOptions tells OpenPostgres what to read.
type PostgresOptions struct {
	DSN  string // connection string; never echoed in an error
	View string // view or table: "staff_v", "hr.staff_v"; matched exactly, case included
	Key  string // key column: rows come ordered by it and are referred to by it

	limits *limits // nil: the defaults
}

// RuleMissingKey is the Row.ProblemRule of a PostgreSQL row whose key
// column is NULL or empty: it has no reference a person could find.
const RuleMissingKey = "missing_key"

// Postgres streams a view or table from one read-only REPEATABLE READ
// transaction, so every row comes from one consistent snapshot of the HR
// database however long the sync takes. It implements Reader.
type Postgres struct {
	view   string
	key    string
	conn   *pgx.Conn
	tx     pgx.Tx
	rows   pgx.Rows
	cols   []string
	oids   []uint32
	keyCol int
	lim    limits
	n      int // rows yielded

	secrets []string // the DSN and its password, scrubbed from every error
	row     Row
	err     error
}

var _ Reader = (*Postgres)(nil)

// OpenPostgres connects, starts the snapshot transaction and runs
//
//	SELECT * FROM <view> ORDER BY <key>
//
// with both names quoted as identifiers, so nothing in the config or on
// the command line can add SQL. Rows arrive as Next is called: pgx reads
// them off the socket one at a time. ctx bounds the whole read.
func OpenPostgres(ctx context.Context, opts PostgresOptions) (*Postgres, error) {
	view, err := parseIdentifier(opts.View)
	if err != nil {
		return nil, fmt.Errorf("postgres source: %w", err)
	}
	if opts.Key == "" {
		return nil, fmt.Errorf("postgres source %s: no key column", opts.View)
	}
	p := &Postgres{view: opts.View, key: opts.Key, lim: opts.limits.or()}
	cfg, err := pgx.ParseConfig(opts.DSN)
	if err != nil {
		// pgx's message quotes the connection string with the password
		// masked on a best-effort basis; the rest of it is still private.
		return nil, fmt.Errorf("postgres source %s: the connection string is not valid (not shown: it may hold a password)", opts.View)
	}
	p.secrets = []string{opts.DSN}
	if len(cfg.Password) >= 3 { // shorter ones would scrub ordinary words
		p.secrets = append(p.secrets, cfg.Password)
	}
	// Dates as 2006-01-02 whatever the server's default DateStyle, which
	// may be "SQL, DMY" on a European install.
	cfg.RuntimeParams["DateStyle"] = "ISO, YMD"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "hrfeed-importer"
	}

	if p.conn, err = pgx.ConnectConfig(ctx, cfg); err != nil {
		return nil, p.fail("connect", err)
	}
	if err := p.start(ctx, view); err != nil {
		_ = p.Close()
		return nil, err
	}
	return p, nil
}

func (p *Postgres) start(ctx context.Context, view pgx.Identifier) error {
	var err error
	p.tx, err = p.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return p.fail("begin", err)
	}
	from := view.Sanitize()

	// Look at the columns first, in the same snapshot, to name a missing
	// key column together with the columns there are.
	probe, err := p.tx.Query(ctx, "SELECT * FROM "+from+" LIMIT 0")
	if err != nil {
		return p.fail("read columns", err)
	}
	fields := probe.FieldDescriptions()
	probe.Close()
	if err := probe.Err(); err != nil {
		return p.fail("read columns", err)
	}
	p.keyCol = -1
	for i, fd := range fields {
		p.cols = append(p.cols, fd.Name)
		p.oids = append(p.oids, fd.DataTypeOID)
		if fd.Name == p.key {
			p.keyCol = i
		}
	}
	if len(p.cols) > p.lim.columns {
		return errTooManyColumns("postgres source "+p.view, len(p.cols), p.lim.columns, p.cols)
	}
	if p.keyCol < 0 {
		return fmt.Errorf("postgres source %s: no key column %s (columns: %s)", p.view, quote.Excerpt(p.key), quote.Columns(p.cols))
	}

	// Text results: PostgreSQL's own text forms are what the mapper
	// wants for nearly every type (numeric never uses an exponent), and
	// render below fixes the rest.
	p.rows, err = p.tx.Query(ctx, "SELECT * FROM "+from+" ORDER BY "+pgx.Identifier{p.key}.Sanitize(),
		pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		return p.fail("query", err)
	}
	return nil
}

// parseIdentifier splits a possibly qualified name on dots. Quoting each
// part keeps its case and any character in it, so "Staff" and "staff" are
// different views, as they are to PostgreSQL when quoted.
func parseIdentifier(name string) (pgx.Identifier, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("no view or table name")
	}
	parts := strings.Split(name, ".")
	if len(parts) > 3 {
		return nil, fmt.Errorf("view %q: want view, schema.view or database.schema.view", name)
	}
	for _, s := range parts {
		if s == "" {
			return nil, fmt.Errorf("view %q: empty name part", name)
		}
	}
	return pgx.Identifier(parts), nil
}

// Columns is the view's column names in order.
func (p *Postgres) Columns() []string { return p.cols }

// Next reads the next row in key order.
func (p *Postgres) Next() bool {
	if p.err != nil || p.rows == nil {
		return false
	}
	if !p.rows.Next() {
		p.rows.Close()
		if err := p.rows.Err(); err != nil {
			p.err = p.fail("read", err)
		}
		p.rows = nil
		return false
	}
	raw := p.rows.RawValues()
	if p.n == p.lim.rows {
		p.err = errTooManyRows("postgres source "+p.view, p.lim.rows)
		p.rows.Close()
		p.rows = nil
		return false
	}
	p.n++
	row := Row{Values: make(map[string]string, len(p.cols))}
	for i, name := range p.cols {
		v := ""
		if i < len(raw) && raw[i] != nil {
			v = render(p.oids[i], raw[i])
		}
		row.Values[name] = v
	}
	key := row.Values[p.key]
	row.Ref = p.view + ":" + key
	if len(key) > quote.ExcerptBytes || controlAt(key) >= 0 {
		// The ref is in every message about the row: keep it one short
		// line that cannot drive a terminal.
		row.Ref = p.view + ":" + quote.Excerpt(key)
	}
	if strings.TrimSpace(key) == "" {
		row.Problem = fmt.Sprintf("key column %s is empty", p.key)
		row.ProblemRule = RuleMissingKey
		row.ProblemColumn = p.key
	}
	vet(&row, p.cols, p.lim)
	p.row = row
	return true
}

// render turns PostgreSQL's text form of a value into what the mapper
// understands: booleans as true/false, floats without an exponent, char(n)
// without its padding. Dates are already ISO (DateStyle is set on
// connect), numerics never use an exponent, and everything else is left
// as the server wrote it.
func render(oid uint32, b []byte) string {
	s := string(b)
	switch oid {
	case pgtype.BoolOID:
		switch s {
		case "t":
			return "true"
		case "f":
			return "false"
		}
	case pgtype.Float4OID, pgtype.Float8OID:
		if f, err := strconv.ParseFloat(s, 64); err == nil && !isInfOrNaN(s) {
			return strconv.FormatFloat(f, 'f', -1, 64)
		}
	case pgtype.BPCharOID:
		return strings.TrimRight(s, " ")
	}
	return s
}

func isInfOrNaN(s string) bool {
	return strings.Contains(s, "Infinity") || s == "NaN"
}

// Row is the row Next just read. Its Values map is the caller's to keep.
func (p *Postgres) Row() Row { return p.row }

// Err is the fatal error that ended the stream, if any.
func (p *Postgres) Err() error { return p.err }

// Close ends the transaction and the connection; it is safe to call twice.
func (p *Postgres) Close() error {
	if p.rows != nil {
		p.rows.Close()
		p.rows = nil
	}
	// The caller's ctx may be what ended the read; ending the
	// transaction and saying goodbye must not depend on it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	if p.tx != nil {
		if err := p.tx.Rollback(ctx); err != nil && !errors.Is(err, pgx.ErrTxClosed) && !p.conn.IsClosed() {
			errs = append(errs, p.fail("end transaction", err))
		}
		p.tx = nil
	}
	if p.conn != nil {
		if err := p.conn.Close(ctx); err != nil {
			errs = append(errs, p.fail("close", err))
		}
		p.conn = nil
	}
	return errors.Join(errs...)
}

// SafeError is an error whose text has been scrubbed of the connection
// string and password. Unwrap still reaches the driver's error, so a
// caller can errors.As it to a *pgconn.PgError.
type SafeError struct {
	msg string
	err error
}

func (e *SafeError) Error() string { return e.msg }
func (e *SafeError) Unwrap() error { return e.err }

func (p *Postgres) fail(op string, err error) error {
	msg := fmt.Sprintf("postgres source %s: %s: %v", p.view, op, err)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" {
		msg = fmt.Sprintf("postgres source %s: no such view or table (names are matched exactly, case included): %v", p.view, err)
	}
	for _, s := range p.secrets {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "xxxxx")
		}
	}
	// Scrubbed before it is cut, so no part of a secret survives the cut.
	return &SafeError{msg: clip(errors.New(msg)).Error(), err: err}
}
