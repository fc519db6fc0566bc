package auth

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewTOTPKey(t *testing.T) {
	key, err := NewTOTPKey("kycdesk", "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if key.Issuer() != "kycdesk" || key.AccountName() != "ana@example.com" {
		t.Errorf("issuer %q, account %q", key.Issuer(), key.AccountName())
	}
	if key.Period() != 30 || key.Digits() != otp.DigitsSix || key.Algorithm() != otp.AlgorithmSHA1 {
		t.Errorf("key is not SHA1/6/30: %s", key.URL())
	}
	if len(key.Secret()) != 32 { // 20 bytes in base32
		t.Errorf("secret %d characters, want 32", len(key.Secret()))
	}
	other, _ := NewTOTPKey("kycdesk", "ana@example.com")
	if other.Secret() == key.Secret() {
		t.Error("two keys share a secret")
	}
}

func TestValidateTOTP(t *testing.T) {
	key, err := NewTOTPKey("kycdesk", "ana@example.com")
	if err != nil {
		t.Fatal(err)
	}
	secret := key.Secret()
	now := time.Date(2026, 11, 20, 8, 14, 41, 0, time.UTC)
	step := now.Unix() / 30
	at := func(steps int64) time.Time { return time.Unix((step+steps)*30, 0) }
	current := codeAt(t, secret, now)
	spaced := current[:3] + " " + current[3:]

	tests := []struct {
		name     string
		secret   string
		code     string
		lastUsed int64
		wantStep int64
		wantOK   bool
	}{
		{"current step", secret, current, 0, step, true},
		{"with a space in the middle", secret, spaced, 0, step, true},
		{"with surrounding spaces", secret, "  " + current + " ", 0, step, true},
		{"previous step (skew)", secret, codeAt(t, secret, at(-1)), 0, step - 1, true},
		{"next step (skew)", secret, codeAt(t, secret, at(1)), 0, step + 1, true},
		{"two steps back", secret, codeAt(t, secret, at(-2)), 0, 0, false},
		{"two steps ahead", secret, codeAt(t, secret, at(2)), 0, 0, false},
		{"replay in the same step", secret, current, step, 0, false},
		{"older step after a newer one was used", secret, codeAt(t, secret, at(-1)), step, 0, false},
		{"next step after the current one was used", secret, codeAt(t, secret, at(1)), step, step + 1, true},
		{"current step after the previous one was used", secret, current, step - 1, step, true},
		{"wrong code", secret, wrongCode(current), 0, 0, false},
		{"letters", secret, "12a456", 0, 0, false},
		{"five digits", secret, current[:5], 0, 0, false},
		{"seven digits", secret, current + "0", 0, 0, false},
		{"full-width digits", secret, "１２３４５６", 0, 0, false},
		{"signed", secret, "+" + current[1:], 0, 0, false},
		{"empty", secret, "", 0, 0, false},
		{"secret not base32", "not a secret!", current, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gotStep, ok := ValidateTOTP(tt.secret, tt.code, now, tt.lastUsed)
			if ok != tt.wantOK || gotStep != tt.wantStep {
				t.Fatalf("ValidateTOTP = (%d, %v), want (%d, %v)", gotStep, ok, tt.wantStep, tt.wantOK)
			}
		})
	}
}

// The flow a sign-in goes through: use a code, store its step, try it again.
func TestTOTPReplayAcrossSignIns(t *testing.T) {
	key, _ := NewTOTPKey("kycdesk", "ana@example.com")
	now := time.Date(2026, 11, 20, 8, 14, 41, 0, time.UTC)
	code := codeAt(t, key.Secret(), now)
	var lastUsed int64
	step, ok := ValidateTOTP(key.Secret(), code, now, lastUsed)
	if !ok {
		t.Fatal("first use refused")
	}
	lastUsed = step
	if _, ok := ValidateTOTP(key.Secret(), code, now.Add(20*time.Second), lastUsed); ok {
		t.Fatal("the same code accepted twice")
	}
	next := codeAt(t, key.Secret(), now.Add(30*time.Second))
	if _, ok := ValidateTOTP(key.Secret(), next, now.Add(30*time.Second), lastUsed); !ok {
		t.Fatal("the next step's code refused")
	}
}

func wrongCode(code string) string {
	var b strings.Builder
	for _, c := range code {
		b.WriteRune('0' + (c-'0'+5)%10)
	}
	return b.String()
}
