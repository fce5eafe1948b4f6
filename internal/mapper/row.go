package mapper

// Row is one data row of a feed as the mapper reads it. It has the fields
// of source.Row, so a reader's row converts to it directly
// (mapper.Row(r)), and the mapper needs none of the readers' code.
type Row struct {
	Ref    string            // "staff.csv:12", "花名册!5", "hr.staff_v:E1001"
	Values map[string]string // by header text as written in the source
	// Problem is set when the source could read the row but not trust it;
	// ProblemRule is its rule id ("" means ragged_row), ProblemColumn the
	// column it is about ("" for the whole row).
	Problem, ProblemRule, ProblemColumn string
}
