package source

// Row is one data row of a source, with a stable reference a person can
// find it by: "staff.csv:12" (physical line of the row's first line),
// "Sheet1!12", or "hr.staff_v:E1001".
type Row struct {
	Ref    string
	Values map[string]string // by header text as written in the source

	// Problem is set when the source could read the row but not trust it
	// (wrong field count, bytes that do not decode). It is a row-level
	// fault, not a fatal one: the mapper rejects the row and the run goes
	// on, so one bad line in an HR export does not stop a whole sync.
	Problem string
	// ProblemRule is the stable rule id of Problem ("ragged_row",
	// "invalid_encoding"); "" with a Problem means "ragged_row".
	ProblemRule string
	// ProblemColumn is the column the Problem is about, "" for the row.
	ProblemColumn string
}

// Rule ids a source puts in Row.ProblemRule.
const (
	RuleRaggedRow       = "ragged_row"
	RuleInvalidEncoding = "invalid_encoding"
)

// Reader streams rows with bounded memory, in the shape of pgx's
// CopyFromSource: call Next until it returns false, then check Err.
type Reader interface {
	// Columns is the header as read from the source.
	Columns() []string
	Next() bool
	Row() Row
	Err() error
	Close() error
}
