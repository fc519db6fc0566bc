// Package webhookauth verifies that a webhook comes from the integration's provider before
// anything is stored: Standard Webhooks HMAC, FrankieOne's RS256 JWT, a fixed token, an IP allowlist.
package webhookauth

// AuthError is the one error every verifier returns when a request is refused. Its Reason
// is short and fixed (one of the Reason constants) so that it can be logged and used as a
// metrics label; it never holds a secret, a signature or the body.
type AuthError struct {
	Reason string
}

func (e *AuthError) Error() string { return "webhook authentication failed: " + e.Reason }

// Reasons for refusing a delivery. Callers compare with errors.As and AuthError.Reason.
const (
	ReasonNotConfigured       = "authentication not configured"
	ReasonMissingID           = "missing webhook-id"
	ReasonMissingTimestamp    = "missing timestamp"
	ReasonMalformedTimestamp  = "malformed timestamp"
	ReasonOutsideTolerance    = "timestamp outside tolerance"
	ReasonMissingSignature    = "missing signature"
	ReasonNoV1Signature       = "no v1 signature"
	ReasonNoMatchingSignature = "no matching signature"
	ReasonMissingToken        = "missing token"
	ReasonMalformedToken      = "malformed token"
	ReasonAlgorithm           = "algorithm not allowed"
	ReasonBadSignature        = "bad signature"
	ReasonInvalidClaims       = "invalid claims"
	ReasonIssuerMismatch      = "issuer mismatch"
	ReasonMissingIAT          = "missing iat"
	ReasonIATTooOld           = "iat too old"
	ReasonIATInFuture         = "iat in the future"
	ReasonWrongToken          = "wrong token"
	ReasonAddressNotAllowed   = "address not allowed"
)

func refuse(reason string) error { return &AuthError{Reason: reason} }
