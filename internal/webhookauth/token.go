package webhookauth

import (
	"crypto/sha256"
	"crypto/subtle"
)

// DefaultTokenHeader is the header a fixed-token integration reads unless configured otherwise.
const DefaultTokenHeader = "X-Webhook-Token"

// TokenVerifier checks a fixed shared token in a header, as FPT.AI's callback sends it.
// Tokens holds every active token, so one can be rotated without refusing deliveries.
type TokenVerifier struct {
	Header string // empty means DefaultTokenHeader
	Tokens []string
}

// Verify looks the header up with headers (http.Header.Get, fiber's c.Get) and compares
// it with every active token.
func (v *TokenVerifier) Verify(headers func(string) string) error {
	if len(v.Tokens) == 0 {
		return refuse(ReasonNotConfigured)
	}
	name := v.Header
	if name == "" {
		name = DefaultTokenHeader
	}
	got := headers(name)
	if got == "" {
		return refuse(ReasonMissingToken)
	}
	// Comparing SHA-256 digests keeps the comparison constant-time in the token length
	// too, which subtle.ConstantTimeCompare on the raw strings would leak.
	gotSum := sha256.Sum256([]byte(got))
	match := 0
	for _, tok := range v.Tokens {
		if tok == "" {
			continue // an empty token would otherwise be a way to configure "no check"
		}
		want := sha256.Sum256([]byte(tok))
		match |= subtle.ConstantTimeCompare(gotSum[:], want[:])
	}
	if match != 1 {
		return refuse(ReasonWrongToken)
	}
	return nil
}
