package auth

import (
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn/frequency"
)

// Password length bounds, in characters (runes). The upper bound only stops absurd
// input; NIST SP 800-63B asks that at least 64 be allowed, and passphrases are welcome.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 256
)

// minLocalPartRunes: a one- or two-letter email local part ("an@…") would otherwise
// forbid every password containing those letters.
const minLocalPartRunes = 3

// PolicyError says in plain words why a password was refused; the sign-up and reset
// forms show Reason as it is.
type PolicyError struct {
	Reason string
}

func (e *PolicyError) Error() string { return e.Reason }

const (
	reasonTooShort  = "Choose a password of at least 12 characters."
	reasonTooLong   = "Choose a password of at most 256 characters."
	reasonTooCommon = "This password is too common: choose another."
	reasonHasEmail  = "Choose a password that does not contain your email address."
)

// CheckPassword applies the sign-in policy to a new password: at least 12 characters,
// not a common password or dictionary word (also once digits and symbols around it are
// stripped, so "password1234" and "Summer2024!!" are refused), and not containing the
// email's local part. The lists are zxcvbn's: 30,000 leaked passwords, plus English
// words, names and surnames, about 90,000 entries in all.
func CheckPassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return &PolicyError{Reason: reasonTooShort}
	}
	if n > MaxPasswordLength {
		return &PolicyError{Reason: reasonTooLong}
	}
	lower := strings.ToLower(string(normalize(password)))
	if isCommon(lower) {
		return &PolicyError{Reason: reasonTooCommon}
	}
	if local := emailLocalPart(email); utf8.RuneCountInString(local) >= minLocalPartRunes {
		squeezed := strings.NewReplacer(".", "", "_", "", "-", "").Replace(local)
		if strings.Contains(lower, local) || (utf8.RuneCountInString(squeezed) >= minLocalPartRunes && strings.Contains(lower, squeezed)) {
			return &PolicyError{Reason: reasonHasEmail}
		}
	}
	return nil
}

// isCommon reports whether the password, or its letters once the digits and symbols
// people add at either end are stripped, is in the lists, as is or with the usual
// look-alike substitutions undone ("p@ssw0rd"), or is one short unit repeated.
func isCommon(lower string) bool {
	set := commonPasswords()
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, candidate := range []string{lower, core, unleet(core, 'i'), unleet(core, 'l')} {
		if candidate == "" {
			continue
		}
		if _, ok := set[candidate]; ok {
			return true
		}
		if unit, ok := repeatedUnit(candidate); ok {
			if _, common := set[unit]; common || utf8.RuneCountInString(unit) <= 4 {
				return true
			}
		}
	}
	return false
}

// unleet undoes common look-alike substitutions; '1' stands for i or l, so both are tried.
func unleet(s string, one rune) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '0':
			return 'o'
		case '1':
			return one
		case '3':
			return 'e'
		case '4', '@':
			return 'a'
		case '5', '$':
			return 's'
		case '7':
			return 't'
		case '!':
			return 'i'
		}
		return r
	}, s)
}

// repeatedUnit finds the shortest unit s is made of when s repeats it at least twice
// ("abcabcabcabc" → "abc", "passwordpassword" → "password").
func repeatedUnit(s string) (string, bool) {
	for size := 1; size <= len(s)/2; size++ {
		if len(s)%size == 0 && strings.Repeat(s[:size], len(s)/size) == s {
			return s[:size], true
		}
	}
	return "", false
}

func emailLocalPart(email string) string {
	local := strings.TrimSpace(email)
	if at := strings.LastIndexByte(local, '@'); at >= 0 {
		local = local[:at]
	}
	if plus := strings.IndexByte(local, '+'); plus >= 0 { // ana+kyc@ is still ana
		local = local[:plus]
	}
	return strings.ToLower(local)
}

// commonPasswords builds, once and on first use, the read-only set of zxcvbn's lists;
// it is the package's only global state and is never written after the build.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	size := 0
	for _, list := range frequency.FrequencyLists {
		size += len(list)
	}
	set := make(map[string]struct{}, size)
	for _, list := range frequency.FrequencyLists {
		for _, w := range list {
			set[strings.ToLower(w)] = struct{}{}
		}
	}
	return set
})
