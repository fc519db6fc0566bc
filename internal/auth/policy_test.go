package auth

import (
	"errors"
	"strings"
	"testing"

	"github.com/trustelem/zxcvbn/frequency"
)

func TestCheckPassword(t *testing.T) {
	tests := []struct {
		name, password, email string
		want                  string // "" means accepted
	}{
		{"strong passphrase", "plum Orbit kettle 42", "ana@example.com", ""},
		{"classic passphrase", "correct horse battery staple", "ana@example.com", ""},
		{"random", "f7#Qz!9vLm2@xR", "ana@example.com", ""},
		{"exactly 12 characters", "vk3-Pq9x-Lm2", "ana@example.com", ""},
		{"12 Vietnamese characters", "Hương-Lê-Lợi", "ana@example.com", ""},
		{"short local part is not checked", "banana split sundae", "an@example.com", ""},

		{"11 characters", "Tr0ub4dor&3", "ana@example.com", reasonTooShort},
		{"11 characters, more than 12 bytes", "Nguyễn-Hươn", "ana@example.com", reasonTooShort},
		{"empty", "", "ana@example.com", reasonTooShort},
		{"too long", strings.Repeat("plum orbit ", 24), "ana@example.com", reasonTooLong},

		{"password1234", "password1234", "ana@example.com", reasonTooCommon},
		{"upper case", "PASSWORD1234", "ana@example.com", reasonTooCommon},
		{"symbols after", "Password1234!", "ana@example.com", reasonTooCommon},
		{"digits before", "1234password", "ana@example.com", reasonTooCommon},
		{"in the list as is", "qwertyuiop123", "ana@example.com", reasonTooCommon},
		{"look-alike substitutions", "p4ssw0rd1234", "ana@example.com", reasonTooCommon},
		{"look-alikes with @", "P@ssw0rd2024!", "ana@example.com", reasonTooCommon},
		{"season and year", "Summer2024!!", "ana@example.com", reasonTooCommon},
		{"dictionary word and digits", "elephant1234", "ana@example.com", reasonTooCommon},
		{"long dictionary word", "International", "ana@example.com", reasonTooCommon},
		{"word repeated", "passwordpassword", "ana@example.com", reasonTooCommon},
		{"short unit repeated", "abcabcabcabc", "ana@example.com", reasonTooCommon},
		{"one character repeated", "aaaaaaaaaaaa", "ana@example.com", reasonTooCommon},

		{"contains the local part", "ana.nguyen-rocks-2026", "ana.nguyen@example.com", reasonHasEmail},
		{"contains the local part, other case", "xx-ANA.NGUYEN-xx", "Ana.Nguyen@Example.com", reasonHasEmail},
		{"contains the local part without dots", "ananguyen-rocks-2026", "ana.nguyen@example.com", reasonHasEmail},
		{"contains the local part before a tag", "kettle-ana.nguyen-plum", "ana.nguyen+kyc@example.com", reasonHasEmail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPassword(tt.password, tt.email)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) || pe.Reason != tt.want {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// The design asks for a list of at least 10,000 common passwords.
func TestCommonPasswordListSize(t *testing.T) {
	if n := len(frequency.FrequencyLists["passwords"]); n < 10000 {
		t.Fatalf("zxcvbn's passwords list has %d entries", n)
	}
	if n := len(commonPasswords()); n < 10000 {
		t.Fatalf("the set has %d entries", n)
	}
	// Every listed password long enough to pass the length rule is refused.
	for _, p := range frequency.FrequencyLists["passwords"] {
		if len([]rune(p)) >= MinPasswordLength && CheckPassword(p, "") == nil {
			t.Fatalf("listed password %q accepted", p)
		}
	}
}
