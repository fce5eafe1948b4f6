package member

import (
	"fmt"
	"strings"
	"unicode"
)

// WeCom's create-user page: a mainland China number may be given without
// a country code; any other number must carry one ("+852 51234567"), and
// 60103 answers a number that is not a valid mobile. Its own errcode text
// asks only for at most 32 digits, + and -, which lets a seven-digit typo
// through; so the rule here is the one WeCom applies to the number itself.
//
// National lengths of mobile numbers, per country code, from the ITU-T
// E.164 national numbering plans of the countries Chinese companies most
// often employ from. A code not listed is held to E.164 alone: at most 15
// digits with the code, and a national part of at least 6.
var mobileLengths = map[string][2]int{
	"1":   {10, 10}, // North America (NANP)
	"7":   {10, 10}, // Russia, Kazakhstan
	"33":  {9, 9},   // France
	"44":  {10, 10}, // United Kingdom
	"49":  {10, 11}, // Germany
	"60":  {9, 10},  // Malaysia
	"61":  {9, 9},   // Australia
	"62":  {9, 12},  // Indonesia
	"63":  {10, 10}, // Philippines
	"65":  {8, 8},   // Singapore
	"66":  {9, 9},   // Thailand
	"81":  {10, 10}, // Japan
	"82":  {9, 10},  // South Korea
	"84":  {9, 9},   // Vietnam
	"91":  {10, 10}, // India
	"852": {8, 8},   // Hong Kong
	"853": {8, 8},   // Macau
	"886": {9, 9},   // Taiwan
}

const (
	maxMobileDigits      = 15 // E.164, country code included
	minForeignNationalNo = 6
)

// checkMobile says what is wrong with a mobile number, or "".
func checkMobile(v string) string {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, v)
	intl, hasCode := strings.CutPrefix(s, "+")
	if !hasCode {
		intl, hasCode = strings.CutPrefix(s, "00")
	}
	if !allDigits(intl) {
		return "want digits, spaces and -, with an optional leading + and country code"
	}
	if !hasCode {
		if !isCNMobile(intl) {
			return "a number without a country code must be a mainland China mobile: 11 digits starting with 1; add +CC for any other country"
		}
		return ""
	}
	if national, ok := strings.CutPrefix(intl, "86"); ok {
		if !isCNMobile(national) {
			return "+86 numbers must be mainland mobiles: 11 digits starting with 1"
		}
		return ""
	}
	if len(intl) > maxMobileDigits {
		return fmt.Sprintf("%d digits with the country code; E.164 allows %d", len(intl), maxMobileDigits)
	}
	for n := 3; n >= 1; n-- {
		if n >= len(intl) {
			continue
		}
		if l, ok := mobileLengths[intl[:n]]; ok {
			if got := len(intl) - n; got < l[0] || got > l[1] {
				want := fmt.Sprint(l[0])
				if l[1] != l[0] {
					want = fmt.Sprintf("%d to %d", l[0], l[1])
				}
				return fmt.Sprintf("+%s numbers have %s digits after the country code, this one has %d", intl[:n], want, got)
			}
			return ""
		}
	}
	if len(intl) < 1+minForeignNationalNo {
		return "too short for an international number"
	}
	return ""
}

// NormalizeMobile strips spaces and dashes and drops the +86/0086 country
// code from an 11-digit mainland number, which WeCom accepts bare; other
// countries keep their code because WeCom needs it.
func NormalizeMobile(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '-' || unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
	for _, cc := range []string{"+86", "0086"} {
		if rest, ok := strings.CutPrefix(s, cc); ok && isCNMobile(rest) {
			return rest
		}
	}
	return s
}

func isCNMobile(s string) bool {
	return len(s) == 11 && s[0] == '1' && allDigits(s)
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}
