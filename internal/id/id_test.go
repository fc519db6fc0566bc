package id

import "testing"

func TestNewAndShort(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		n, s := New(), Short()
		if len(n) != 26 || len(s) != 12 || !Valid(n) || !Valid(s) {
			t.Fatalf("New %q Short %q", n, s)
		}
		if seen[n] || seen[s] {
			t.Fatalf("repeated id")
		}
		seen[n], seen[s] = true, true
	}
}

func TestValid(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"", false},
		{"abc", false},
		{"0123456789abcdefghjkmnpqrs", true},
		{"0123456789ABCDEFGHJKMNPQRS", false}, // upper case is not ours
		{"0123456789abcdefghjkmnpqri", false}, // i is not in the alphabet
		{"../../etc/passwd/aaaaaaaaaa", false},
		{"0123456789ab", true},
	} {
		if got := Valid(tt.in); got != tt.want {
			t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
