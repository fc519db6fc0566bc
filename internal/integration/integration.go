// Package integration is a provider account sending webhooks to kycdesk: which provider,
// how its sender is authenticated, and how the worker reaches the provider's API.
package integration

import "time"

// Providers.
const (
	FrankieOne = "frankieone"
	FPTAI      = "fptai"
	Generic    = "generic"
)

// Authentication modes.
const (
	AuthHMAC  = "hmac"  // Standard Webhooks signature
	AuthToken = "token" // fixed token in a header (FPT.AI)
	AuthJWT   = "jwt"   // FrankieOne RS256 JWT (plus the allowlist when set)
	AuthIP    = "ip"    // the allowlist alone (FrankieOne without JWT)
)

// Integration is one provider account. Secrets (webhook secrets, tokens, the API key)
// are sealed at rest; APIKey here is already opened for the worker's use.
type Integration struct {
	ID          string // part of the webhook URL: /webhooks/{provider}/{id}
	Name        string
	Provider    string
	AuthMode    string
	TokenHeader string   // AuthToken: the header that carries the token
	AllowIPs    []string // CIDRs; applies in every mode when non-empty
	JWTKeyPEM   string   // AuthJWT: FrankieOne's RS256 public key
	JWTIssuer   string

	APIURL     string // provider API base (FrankieOne: the v2 base including /v2)
	APIKey     string // opened by Store.Get and FindByName; "" from List
	HasAPIKey  bool   // an API key is stored (List leaves APIKey empty)
	CustomerID string
	DataKey    string // FPT.AI "callback data key" the result is wrapped in, "" for none

	Queue       string // routing default for new cases
	AutoApprove bool   // approve provider-pass low-risk cases without review (off by default)

	UnhealthyReason string    // set when the provider API refused our credentials
	UnhealthyUntil  time.Time // the worker backs off this integration's fetches until then

	CreatedAt time.Time
	UpdatedAt time.Time

	// DecisionSecret is the outgoing secret Store.Create made for Spec.DecisionURL, to be
	// shown once; "" everywhere else (Store.DecisionTarget reads it when needed).
	DecisionSecret string
}

// WebhookPath is the path a provider posts to (FrankieOne appends /{requestID}).
func (i *Integration) WebhookPath() string { return "/webhooks/" + i.Provider + "/" + i.ID }
