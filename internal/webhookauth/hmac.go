package webhookauth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultTolerance is how far a webhook-timestamp may be from our clock, either way, as
// the Standard Webhooks specification recommends: it bounds how long a captured delivery
// can be replayed, while the inbox's deduplication on webhook-id covers the window itself.
const DefaultTolerance = 5 * time.Minute

const secretPrefix = "whsec_"

// minSecretBytes refuses secrets too short to resist guessing; Standard Webhooks asks for 24 to 64.
const minSecretBytes = 16

// HMACVerifier checks Standard Webhooks signatures (https://www.standardwebhooks.com).
// Secrets holds every active secret: during a rotation both the old and the new one,
// so deliveries signed with either pass until the sender has switched.
type HMACVerifier struct {
	Secrets   [][]byte
	Tolerance time.Duration    // zero means DefaultTolerance
	Now       func() time.Time // nil means time.Now; tests inject a clock
}

// Verify checks the webhook-id, webhook-timestamp and webhook-signature headers against
// the body. headers looks a header up by name, as http.Header.Get or fiber's c.Get do.
func (v *HMACVerifier) Verify(headers func(string) string, body []byte) error {
	if len(v.Secrets) == 0 {
		return refuse(ReasonNotConfigured)
	}
	msgID := headers("webhook-id")
	if msgID == "" {
		return refuse(ReasonMissingID)
	}
	tsText := headers("webhook-timestamp")
	if tsText == "" {
		return refuse(ReasonMissingTimestamp)
	}
	ts, err := parseUnixSeconds(tsText)
	if err != nil {
		return refuse(ReasonMalformedTimestamp)
	}
	tolerance := v.Tolerance
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	// Compare in seconds: a time.Duration would overflow for absurd timestamps.
	toleranceSec := int64(tolerance / time.Second)
	if nowSec := now().Unix(); ts < nowSec-toleranceSec || ts > nowSec+toleranceSec {
		return refuse(ReasonOutsideTolerance)
	}
	sigHeader := headers("webhook-signature")
	if strings.TrimSpace(sigHeader) == "" {
		return refuse(ReasonMissingSignature)
	}

	var candidates [][]byte
	for _, entry := range strings.Fields(sigHeader) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue // other versions (v1a, future schemes) are not ours to check
		}
		raw, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(raw) != sha256.Size {
			continue
		}
		candidates = append(candidates, raw)
	}
	if len(candidates) == 0 {
		return refuse(ReasonNoV1Signature)
	}

	// The signed content uses the timestamp exactly as sent, not re-formatted.
	matched := false
	for _, secret := range v.Secrets {
		if len(secret) == 0 {
			continue
		}
		want := mac(secret, msgID, tsText, body)
		for _, got := range candidates {
			// No early exit: the time taken does not tell which secret or entry matched.
			if hmac.Equal(want, got) {
				matched = true
			}
		}
	}
	if !matched {
		return refuse(ReasonNoMatchingSignature)
	}
	return nil
}

// parseUnixSeconds accepts only plain decimal digits: strconv would also take a sign.
func parseUnixSeconds(s string) (int64, error) {
	if len(s) == 0 || len(s) > 18 {
		return 0, errors.New("bad length")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errors.New("not a number")
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func mac(secret []byte, msgID, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(msgID))
	h.Write([]byte{'.'})
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Sign returns the webhook-signature header value ("v1,<base64>") for a delivery sent at
// ts; the sender also sets webhook-id to msgID and webhook-timestamp to ts in unix seconds.
// The simulator and the outbox sign with it.
func Sign(secret []byte, msgID string, ts time.Time, body []byte) string {
	sum := mac(secret, msgID, strconv.FormatInt(ts.Unix(), 10), body)
	return "v1," + base64.StdEncoding.EncodeToString(sum)
}

// ParseSecret decodes a Standard Webhooks secret, "whsec_" followed by base64. Like the
// reference libraries it also takes the bare base64 part.
func ParseSecret(s string) ([]byte, error) {
	b64 := strings.TrimPrefix(strings.TrimSpace(s), secretPrefix)
	secret, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		secret, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil {
		// The input is not quoted: it is meant to be a secret.
		return nil, errors.New("webhook secret must be whsec_ followed by base64")
	}
	if len(secret) < minSecretBytes {
		return nil, fmt.Errorf("webhook secret must decode to at least %d bytes, got %d", minSecretBytes, len(secret))
	}
	return secret, nil
}

// NewSecret returns a fresh secret of 32 random bytes in the whsec_ form.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails since Go 1.24
	return secretPrefix + base64.StdEncoding.EncodeToString(b)
}
