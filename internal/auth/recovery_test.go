package auth

import (
	"regexp"
	"strings"
	"testing"
)

func TestNewRecoveryCodes(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$`)
	if got := len(NewRecoveryCodes(0)); got != DefaultRecoveryCodes {
		t.Fatalf("NewRecoveryCodes(0) gave %d codes, want %d", got, DefaultRecoveryCodes)
	}
	seen := map[string]bool{}
	for range 100 {
		for _, c := range NewRecoveryCodes(10) {
			if !shape.MatchString(c) {
				t.Fatalf("code %q is not xxxxx-xxxxx from the alphabet", c)
			}
			if !LooksLikeRecoveryCode(c) {
				t.Fatalf("LooksLikeRecoveryCode(%q) = false", c)
			}
			if seen[c] {
				t.Fatalf("code %q generated twice", c)
			}
			seen[c] = true
		}
	}
	// 32 symbols, 10 characters: 50 bits.
	if len(recoveryAlphabet) != 32 || recoveryLen != 10 {
		t.Fatal("recovery codes carry fewer than 50 bits")
	}
}

func TestHashRecoveryCode(t *testing.T) {
	code := NewRecoveryCodes(1)[0]
	want := HashRecoveryCode(code)
	if len(want) != 64 {
		t.Fatalf("hash %q is not hex SHA-256", want)
	}
	if HashRecoveryCode(code) != want {
		t.Fatal("hash not stable")
	}
	plain := strings.ReplaceAll(code, "-", "")
	same := []string{
		strings.ToUpper(code),
		plain,
		" " + code[:5] + " " + code[6:] + " ",
		code[:2] + "-" + code[2:],
	}
	for _, s := range same {
		if HashRecoveryCode(s) != want {
			t.Errorf("%q hashes differently from %q", s, code)
		}
	}
	// Crockford look-alikes fold together.
	if HashRecoveryCode("abcde-fgh1k") != HashRecoveryCode("ABCDE-FGHIK") || HashRecoveryCode("00000-11111") != HashRecoveryCode("oOooo-iIlL1") {
		t.Error("look-alike characters are not folded")
	}
	if HashRecoveryCode("abcde-fghjk") == HashRecoveryCode("abcde-fghjm") {
		t.Error("different codes hash alike")
	}
	// The stored form: SHA-256 of the normalised code.
	if got := HashRecoveryCode("ABCDE-FGHJK"); got != "22f3f00d7f9cfe6eeefa9b71bdcb093a9080fcf4981d2dbf932648fa15a2d793" {
		t.Errorf("HashRecoveryCode changed: %s", got)
	}
}

func TestLooksLikeRecoveryCode(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"abcde-fghjk", true},
		{"ABCDE FGHJK", true},
		{"abcdefghjk", true},
		{"123456", false}, // a TOTP code
		{"123 456", false},
		{"abcde-fghj", false},
		{"abcde-fghjkm", false},
		{"abcde-fghju", false}, // u is not in the alphabet
		{"abcde_fghjk", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := LooksLikeRecoveryCode(tt.in); got != tt.want {
			t.Errorf("LooksLikeRecoveryCode(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
