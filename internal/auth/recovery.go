package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// DefaultRecoveryCodes is how many codes a user gets at enrolment.
const DefaultRecoveryCodes = 10

// recoveryAlphabet is Crockford's base32: no i, l, o or u, so a code read aloud or copied
// by hand is not misread; normalisation folds i and l to 1 and o to 0 the way Crockford
// decoding does. 32 symbols make each character exactly 5 bits.
const recoveryAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// recoveryLen is 10 characters, 50 random bits: with ten codes per user and a sign-in
// lockout after 10 failures, guessing one is hopeless.
const recoveryLen = 10

// NewRecoveryCodes returns n distinct codes shaped "xxxxx-xxxxx" (n ≤ 0 means
// DefaultRecoveryCodes). They are shown once and stored only as HashRecoveryCode.
func NewRecoveryCodes(n int) []string {
	if n <= 0 {
		n = DefaultRecoveryCodes
	}
	codes := make([]string, 0, n)
	seen := make(map[string]bool, n)
	buf := make([]byte, recoveryLen)
	for len(codes) < n {
		_, _ = rand.Read(buf) // never fails since Go 1.24
		var b strings.Builder
		for i, x := range buf {
			if i == recoveryLen/2 {
				b.WriteByte('-')
			}
			b.WriteByte(recoveryAlphabet[x&31]) // 256 is a multiple of 32: no bias
		}
		if code := b.String(); !seen[code] {
			seen[code] = true
			codes = append(codes, code)
		}
	}
	return codes
}

// normalizeRecoveryCode lower-cases, drops spaces and dashes, and folds Crockford's
// look-alikes, so "ABCDE FGHJK", "abcde-fghjk" and "abcdefghjk" are the same code.
func normalizeRecoveryCode(code string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '-':
			return -1
		case 'o', 'O':
			return '0'
		case 'i', 'I', 'l', 'L':
			return '1'
		}
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, code)
}

// HashRecoveryCode returns the hex SHA-256 of the normalised code, the form stored and
// looked up. A fast hash is enough, unlike for passwords: a code is 50 random bits, so
// a stolen hash table cannot be reversed by guessing, and a slow hash would only make
// checking a user's ten codes slow.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte(normalizeRecoveryCode(code)))
	return hex.EncodeToString(sum[:])
}

// LooksLikeRecoveryCode tells a recovery code from a TOTP code in the MFA form's one
// field: ten characters of the alphabet once normalised.
func LooksLikeRecoveryCode(s string) bool {
	n := normalizeRecoveryCode(s)
	if len(n) != recoveryLen {
		return false
	}
	for i := 0; i < len(n); i++ {
		if strings.IndexByte(recoveryAlphabet, n[i]) < 0 {
			return false
		}
	}
	return true
}
