// Package samples embeds the sample feed and configuration so that
// `importer demo` runs from any directory with nothing but the binary.
package samples

import _ "embed"

// StaffCSV is samples/staff.csv.
//
//go:embed staff.csv
var StaffCSV []byte

// ImporterYAML is samples/importer.yaml.
//
//go:embed importer.yaml
var ImporterYAML []byte
