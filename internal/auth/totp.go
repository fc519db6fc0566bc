package auth

import (
	"crypto/subtle"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: SHA-1, 6 digits, 30-second steps are what every authenticator app
// accepts; other values are silently ignored by some (Google Authenticator among them),
// which would enrol users into codes that never match.
const (
	totpPeriod = 30
	totpDigits = otp.DigitsSix
	totpAlgo   = otp.AlgorithmSHA1
	// totpSkew is how many steps either side of now are accepted, for phone clocks that drift.
	totpSkew = 1
)

// NewTOTPKey makes a new TOTP secret for enrolment; key.Secret() is what to store
// (sealed), key.URL() and key.Image() what to show.
func NewTOTPKey(issuer, accountEmail string) (*otp.Key, error) {
	opts := totpOpts(issuer, accountEmail)
	opts.SecretSize = 20 // 160 bits, as RFC 4226 recommends for HMAC-SHA1
	return totp.Generate(opts)
}

// totpOpts are the settings every key is made with, new (NewTOTPKey) or rebuilt (TOTPKey).
func totpOpts(issuer, accountEmail string) totp.GenerateOpts {
	return totp.GenerateOpts{Issuer: issuer, AccountName: accountEmail, Period: totpPeriod, Digits: totpDigits, Algorithm: totpAlgo}
}

// ValidateTOTP checks a code against the base32 secret at now, accepting the current
// 30-second step and one either side. A step at or below lastUsedStep is refused, so a
// code cannot be replayed, not even within its own step, and after a newer code has been
// used an older one is not accepted. On success it returns the step to store as the
// user's new lastUsedStep (0 when none was used yet).
func ValidateTOTP(secret, code string, now time.Time, lastUsedStep int64) (step int64, ok bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' {
			return -1 // apps show "123 456"; people type it that way
		}
		return r
	}, code)
	if len(code) != 6 {
		return 0, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return 0, false
		}
	}
	current := now.Unix() / totpPeriod
	// The current step first: it is the likeliest, and the step stored should be the one
	// the code was made for when, rarely, a code matches two steps.
	for _, s := range []int64{current, current - totpSkew, current + totpSkew} {
		if s <= lastUsedStep || s < 0 {
			continue
		}
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totp.ValidateOpts{
			Period:    totpPeriod,
			Digits:    totpDigits,
			Algorithm: totpAlgo,
		})
		if err != nil {
			return 0, false // not a valid base32 secret
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}
