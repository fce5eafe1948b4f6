package member

import "testing"

func TestMobileRule(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"13800138006", true},
		{"+86 138 0013 8006", true},
		{"0086-13800138006", true},
		{"+852 5123 4567", true},
		{"+1 415 555 0100", true},
		{"+49 1512 3456789", true},
		{"+380 501234567", true}, // a code not in the table: E.164 bounds only
		{"13800138006x", false},
		{"1380013", false},            // seven digits
		{"1380013800", false},         // ten digits without a country code
		{"23800138006", false},        // mainland mobiles start with 1
		{"51234567", false},           // Hong Kong without +852
		{"+86 1380013800", false},     // +86 and ten digits
		{"+852 512345678", false},     // nine digits after +852
		{"+1 415 555 010", false},     // nine digits after +1
		{"+380 1234567890123", false}, // over 15 digits
		{"+99 123", false},
	}
	for _, tt := range tests {
		f, _ := TextField("mobile")
		rule, msg := f.Check(tt.in)
		if (rule == "") != tt.ok {
			t.Errorf("mobile %q: rule %q (%s), want ok=%v", tt.in, rule, msg, tt.ok)
		}
		if rule != "" && rule != RuleMobileFormat {
			t.Errorf("mobile %q: rule %q, want %s", tt.in, rule, RuleMobileFormat)
		}
	}
}
