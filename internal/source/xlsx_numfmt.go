package source

import (
	"cmp"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// Number formats decide what a numeric cell means, but excelize's Rows
// iterator hands out strings and never the cell's style. So instead of
// looking at styles per cell, OpenXLSX rewrites the workbook's style table
// in memory (it is never saved) before streaming:
//
//   - a format that shows a date or time becomes a marker format: a
//     private-use character naming the kind, then the serial number with
//     ten decimals. The reader turns that into an ISO date itself, because
//     excelize's own date formatting costs ~30 µs a cell (it walks its
//     locale tables every time) and would blow the 6 s budget for 100,000
//     rows on its own;
//   - a zero-padding format ("000000" for employee numbers) is kept;
//   - every other format points at a format id that does not exist, which
//     makes excelize return the stored number as is: no grouping, no
//     currency, no exponent.
//
// Text cells never reach a number format's numeric section, so the marker
// can only appear in front of a number.

// fmtKind is what a number format shows.
type fmtKind int

const (
	fmtRaw      fmtKind = iota // the stored value: General, text, currency, grouping, scientific…
	fmtZeroPad                 // "0", "000000": an integer padded to a width, as the person sees it
	fmtDate                    // a date without time of day
	fmtDateTime                // a date with time of day
	fmtTime                    // a time of day only
)

// Markers of the date kinds: Unicode private-use characters, which no
// number format would print.
const (
	markDate     = '\uE001'
	markDateTime = '\uE002'
	markTime     = '\uE003'
)

// markerCodes are the format codes the date kinds are rewritten to.
var markerCodes = map[fmtKind]string{
	fmtDate:     `"` + string(markDate) + `"0.##########`,
	fmtDateTime: `"` + string(markDateTime) + `"0.##########`,
	fmtTime:     `"` + string(markTime) + `"0.##########`,
}

// builtinKinds are the built-in number format ids (ECMA-376 §18.8.30, plus
// the East Asian ids 27–36 and 50–58, which are dates and times in every
// East Asian locale) that are not fmtRaw.
var builtinKinds = map[int]fmtKind{
	1:  fmtZeroPad,
	14: fmtDate, 15: fmtDate, 16: fmtDate, 17: fmtDate,
	18: fmtTime, 19: fmtTime, 20: fmtTime, 21: fmtTime,
	22: fmtDateTime,
	27: fmtDate, 28: fmtDate, 29: fmtDate, 30: fmtDate, 31: fmtDate,
	32: fmtTime, 33: fmtTime, 34: fmtTime, 35: fmtTime, 36: fmtDate,
	45: fmtTime, 46: fmtTime, 47: fmtTime,
	50: fmtDate, 51: fmtDate, 52: fmtDate, 53: fmtDate, 54: fmtDate,
	55: fmtDate, 56: fmtDate, 57: fmtDate, 58: fmtDate,
}

var zeroPad = regexp.MustCompile(`^0+$`)

// classifyFormat reads a custom format code the way Excel does: literal
// text in quotes, escaped characters, fill and padding characters and
// [bracketed] colours and locales say nothing about the value; y, d and m
// on their own are date parts; h and s are time parts ([h] elapsed hours
// too). Only the first section counts: it is the one positive numbers use.
func classifyFormat(code string) fmtKind {
	if zeroPad.MatchString(code) {
		return fmtZeroPad
	}
	var date, tod, month bool
	rs := []rune(strings.ToLower(code))
	for i := 0; i < len(rs); i++ {
		switch r := rs[i]; r {
		case ';':
			i = len(rs)
		case '"':
			for i++; i < len(rs) && rs[i] != '"'; i++ {
			}
		case '\\', '_', '*':
			i++ // the next character is literal, a width, or a fill
		case '[':
			end := i + 1
			for end < len(rs) && rs[end] != ']' {
				end++
			}
			inner := string(rs[i+1 : min(end, len(rs))])
			if strings.Trim(inner, "hms") == "" && inner != "" {
				tod = true // [h]:mm elapsed time
			}
			i = end
		case 'y', 'd':
			date = true
		case 'h', 's':
			tod = true
		case 'm':
			month = true
		}
	}
	switch {
	case date && tod:
		return fmtDateTime
	case date || (month && !tod):
		return fmtDate
	case tod:
		return fmtTime
	}
	return fmtRaw
}

// rewriteNumberFormats applies the plan in the comment at the top of this
// file to f's in-memory style table.
func rewriteNumberFormats(f *excelize.File) error {
	if f.Styles == nil || f.Styles.CellXfs == nil {
		return nil // no styles: every cell is General, which is already raw
	}
	xfs := len(f.Styles.CellXfs.Xf)
	custom := map[int]string{}
	if f.Styles.NumFmts != nil {
		for _, nf := range f.Styles.NumFmts.NumFmt {
			custom[nf.NumFmtID] = cmp.Or(nf.FormatCode16, nf.FormatCode)
		}
	}
	kinds := make([]fmtKind, xfs)
	for i := range xfs {
		id := 0
		if p := f.Styles.CellXfs.Xf[i].NumFmtID; p != nil {
			id = *p
		}
		if code, ok := custom[id]; ok {
			kinds[i] = classifyFormat(code)
		} else {
			kinds[i] = builtinKinds[id]
		}
	}

	// NewStyle is the only public way to add a number format; it appends
	// a cell format whose numFmtId is the id we want to point at.
	markerIDs := map[fmtKind]int{}
	for kind, code := range markerCodes {
		idx, err := f.NewStyle(&excelize.Style{CustomNumFmt: &code})
		if err != nil {
			return fmt.Errorf("add number format %s: %w", code, err)
		}
		markerIDs[kind] = *f.Styles.CellXfs.Xf[idx].NumFmtID
	}
	// An id no format has: formattedValue finds no code for it and hands
	// back the stored value.
	unused := 163 // custom ids start at 164
	for _, nf := range f.Styles.NumFmts.NumFmt {
		unused = max(unused, nf.NumFmtID)
	}
	unused++

	for i, kind := range kinds {
		switch kind {
		case fmtRaw:
			id := unused
			f.Styles.CellXfs.Xf[i].NumFmtID = &id
		case fmtDate, fmtDateTime, fmtTime:
			id := markerIDs[kind]
			f.Styles.CellXfs.Xf[i].NumFmtID = &id
		}
	}
	return nil
}

// expForm is what excelize makes of a stored number with more than 15
// significant digits (strconv 'G' with precision 15). Excel itself keeps
// only 15, so this is how an 18-digit ID card number typed as a number
// comes out.
var expForm = regexp.MustCompile(`^-?[1-9](\.[0-9]{1,14})?E[+-][0-9]{2,3}$`)

// plainNumber rewrites excelize's exponent form of a number in positional
// notation, so an id or mobile is never "1.38001380001E+17". Only that
// exact form with an exponent 'G' formatting produces (≥ 15 or < -4) is
// touched, so text such as "3E12" in a string cell is left alone.
func plainNumber(v string) string {
	if len(v) < 5 || !expForm.MatchString(v) {
		return v
	}
	i := strings.IndexByte(v, 'E')
	exp, err := strconv.Atoi(v[i+1:])
	if err != nil || (exp < 15 && exp >= -4) {
		return v
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsInf(f, 0) {
		return v
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// Day 0 of the two spreadsheet date systems. The 1900 system counts from
// 1899-12-30 for serials from 61 on, because Excel (after Lotus 1-2-3)
// believes 1900 was a leap year; below 61 the epoch is a day later.
var (
	epoch1900 = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)
	epoch1904 = time.Date(1904, 1, 1, 0, 0, 0, 0, time.UTC)
)

// unmark turns a marker-formatted serial into an ISO date, date-time or
// time; anything else is returned unchanged.
func unmark(v string, date1904 bool) string {
	if len(v) < 4 {
		return v
	}
	r, size := utf8.DecodeRuneInString(v)
	if r != markDate && r != markDateTime && r != markTime {
		return v
	}
	serial, err := strconv.ParseFloat(v[size:], 64)
	if err != nil || serial < 0 || serial > 2958465 { // 9999-12-31
		return v[size:]
	}
	epoch := epoch1900
	switch {
	case date1904:
		epoch = epoch1904
	case serial < 61:
		epoch = epoch.AddDate(0, 0, 1)
	}
	days := math.Floor(serial)
	// Round to the second: ten decimals of a day are 8.64 µs.
	secs := math.Round((serial - days) * 86400)
	t := epoch.AddDate(0, 0, int(days)).Add(time.Duration(secs) * time.Second)
	switch r {
	case markDate:
		return t.Format(time.DateOnly)
	case markDateTime:
		return t.Format(time.DateTime)
	}
	return t.Format(time.TimeOnly)
}
