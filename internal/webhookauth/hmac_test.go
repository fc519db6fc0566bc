package webhookauth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 20, 8, 14, 41, 0, time.UTC)

func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func mustSecret(t testing.TB, s string) []byte {
	t.Helper()
	b, err := ParseSecret(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// wantReason fails the test unless err is an *AuthError with the given reason ("" means no error).
func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if reason == "" {
		if err != nil {
			t.Fatalf("refused: %v", err)
		}
		return
	}
	var ae *AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v, want AuthError %q", err, reason)
	}
	if ae.Reason != reason {
		t.Fatalf("reason = %q, want %q", ae.Reason, reason)
	}
}

func TestHMACVerify(t *testing.T) {
	// The example secret from the Standard Webhooks specification.
	oldSecret := mustSecret(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	newSecret := mustSecret(t, NewSecret())
	otherSecret := mustSecret(t, NewSecret())
	body := []byte(`{"type":"verification.completed","verification":{"reference":"vrf-2026-000187"}}`)
	const msgID = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"
	ts := testNow.Add(-30 * time.Second)
	tsText := strconv.FormatInt(ts.Unix(), 10)
	good := Sign(newSecret, msgID, ts, body)

	tests := []struct {
		name    string
		secrets [][]byte
		id, ts  string
		sig     string
		body    []byte
		want    string
	}{
		{"valid", [][]byte{newSecret}, msgID, tsText, good, body, ""},
		{"wrong secret", [][]byte{otherSecret}, msgID, tsText, good, body, ReasonNoMatchingSignature},
		{"body changed", [][]byte{newSecret}, msgID, tsText, good, append(body[:len(body):len(body)], ' '), ReasonNoMatchingSignature},
		{"id changed", [][]byte{newSecret}, "msg_other", tsText, good, body, ReasonNoMatchingSignature},
		{"timestamp changed within tolerance", [][]byte{newSecret}, msgID, strconv.FormatInt(ts.Unix()+1, 10), good, body, ReasonNoMatchingSignature},
		{"stale timestamp", [][]byte{newSecret}, msgID, unix(testNow.Add(-5*time.Minute - time.Second)),
			Sign(newSecret, msgID, testNow.Add(-5*time.Minute-time.Second), body), body, ReasonOutsideTolerance},
		{"oldest accepted timestamp", [][]byte{newSecret}, msgID, unix(testNow.Add(-5 * time.Minute)),
			Sign(newSecret, msgID, testNow.Add(-5*time.Minute), body), body, ""},
		{"future timestamp", [][]byte{newSecret}, msgID, unix(testNow.Add(5*time.Minute + time.Second)),
			Sign(newSecret, msgID, testNow.Add(5*time.Minute+time.Second), body), body, ReasonOutsideTolerance},
		{"timestamp in milliseconds", [][]byte{newSecret}, msgID, strconv.FormatInt(ts.UnixMilli(), 10), good, body, ReasonOutsideTolerance},
		{"several signatures, one valid", [][]byte{newSecret}, msgID, tsText,
			Sign(otherSecret, msgID, ts, body) + " " + good + " " + Sign(oldSecret, msgID, ts, body), body, ""},
		{"rotation: old secret still valid", [][]byte{oldSecret, newSecret}, msgID, tsText, Sign(oldSecret, msgID, ts, body), body, ""},
		{"rotation: new secret valid", [][]byte{oldSecret, newSecret}, msgID, tsText, good, body, ""},
		{"rotation over: old secret refused", [][]byte{newSecret}, msgID, tsText, Sign(oldSecret, msgID, ts, body), body, ReasonNoMatchingSignature},
		{"empty secret ignored", [][]byte{nil}, msgID, tsText, Sign(nil, msgID, ts, body), body, ReasonNoMatchingSignature},
		{"no secrets configured", nil, msgID, tsText, good, body, ReasonNotConfigured},
		{"missing id", [][]byte{newSecret}, "", tsText, good, body, ReasonMissingID},
		{"missing timestamp", [][]byte{newSecret}, msgID, "", good, body, ReasonMissingTimestamp},
		{"missing signature", [][]byte{newSecret}, msgID, tsText, "", body, ReasonMissingSignature},
		{"blank signature", [][]byte{newSecret}, msgID, tsText, "   ", body, ReasonMissingSignature},
		{"signed timestamp", [][]byte{newSecret}, msgID, "+" + tsText, good, body, ReasonMalformedTimestamp},
		{"fractional timestamp", [][]byte{newSecret}, msgID, tsText + ".0", good, body, ReasonMalformedTimestamp},
		{"timestamp as a date", [][]byte{newSecret}, msgID, ts.Format(time.RFC3339), good, body, ReasonMalformedTimestamp},
		{"huge timestamp", [][]byte{newSecret}, msgID, "999999999999999999", good, body, ReasonOutsideTolerance},
		{"malformed entries only", [][]byte{newSecret}, msgID, tsText, "v1 v1, v1,!!!! ,abc v1,AAAA", body, ReasonNoV1Signature},
		{"malformed entries beside a valid one", [][]byte{newSecret}, msgID, tsText, "v1,!!!! garbage " + good, body, ""},
		{"non-v1 entries only", [][]byte{newSecret}, msgID, tsText,
			"v1a," + strings.TrimPrefix(good, "v1,") + " v2," + strings.TrimPrefix(good, "v1,"), body, ReasonNoV1Signature},
		{"upper-case version", [][]byte{newSecret}, msgID, tsText, "V1," + strings.TrimPrefix(good, "v1,"), body, ReasonNoV1Signature},
		{"url-safe base64", [][]byte{newSecret}, msgID, tsText, "v1," + urlSafe(good), body, ReasonNoV1Signature},
		{"truncated signature", [][]byte{newSecret}, msgID, tsText, "v1," + base64.StdEncoding.EncodeToString(mac(newSecret, msgID, tsText, body)[:16]), body, ReasonNoV1Signature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range map[string]string{"webhook-id": tt.id, "webhook-timestamp": tt.ts, "webhook-signature": tt.sig} {
				if v != "" {
					h.Set(k, v)
				}
			}
			v := &HMACVerifier{Secrets: tt.secrets, Now: fixedClock(testNow)}
			err := v.Verify(h.Get, tt.body)
			wantReason(t, err, tt.want)
			if err != nil && strings.Contains(err.Error(), string(body)) {
				t.Error("error message contains the body")
			}
		})
	}
}

// The specification's published test vector, so we interoperate with its libraries.
func TestHMACStandardWebhooksVector(t *testing.T) {
	secret := mustSecret(t, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	body := []byte(`{"test": 2432232314}`)
	ts := time.Unix(1614265330, 0)
	const want = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	if got := Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, body); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
	headers := map[string]string{"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330", "webhook-signature": want}
	v := &HMACVerifier{Secrets: [][]byte{secret}, Now: fixedClock(ts.Add(time.Minute))}
	if err := v.Verify(func(k string) string { return headers[k] }, body); err != nil {
		t.Fatal(err)
	}
}

func TestHMACCustomTolerance(t *testing.T) {
	secret := mustSecret(t, NewSecret())
	ts := testNow.Add(-2 * time.Minute)
	h := http.Header{}
	h.Set("webhook-id", "m1")
	h.Set("webhook-timestamp", unix(ts))
	h.Set("webhook-signature", Sign(secret, "m1", ts, nil))
	v := &HMACVerifier{Secrets: [][]byte{secret}, Tolerance: time.Minute, Now: fixedClock(testNow)}
	wantReason(t, v.Verify(h.Get, nil), ReasonOutsideTolerance)
}

func TestParseSecret(t *testing.T) {
	tests := []struct {
		name, in string
		wantLen  int
	}{
		{"whsec form", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
		{"bare base64", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 24},
		{"surrounding whitespace", " whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 24},
		{"generated", NewSecret(), 32},
		{"too short", "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 8)), 0},
		{"not base64", "whsec_not*base64!", 0},
		{"empty", "", 0},
		{"prefix only", "whsec_", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSecret(tt.in)
			if tt.wantLen == 0 {
				if err == nil {
					t.Fatalf("accepted %q", tt.in)
				}
				return
			}
			if err != nil || len(got) != tt.wantLen {
				t.Fatalf("len %d, err %v", len(got), err)
			}
		})
	}
	if !strings.HasPrefix(NewSecret(), "whsec_") || NewSecret() == NewSecret() {
		t.Error("NewSecret is not a fresh whsec_ secret")
	}
}

func unix(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

func urlSafe(sig string) string {
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(sig, "v1,"))
	return base64.RawURLEncoding.EncodeToString(raw)
}

func FuzzHMACVerify(f *testing.F) {
	secret := []byte("fuzzing secret of enough length!")
	body := []byte(`{"type":"verification.completed"}`)
	now := time.Unix(1_800_000_000, 0)
	f.Add("msg_1", "1800000000", Sign(secret, "msg_1", now, body), body)
	f.Add("msg_1", "1800000000", "v1,"+strings.Repeat("A", 44)+" v1a,xyz", body)
	f.Add("", "", "", []byte(nil))
	f.Add("m", "-1", "v1,", []byte("x"))
	f.Add("m.1", "99999999999999999999", ",,, v1 ,v1,==", []byte{0xff, 0x00})
	v := &HMACVerifier{Secrets: [][]byte{secret, []byte("second secret, also long enough")}, Now: fixedClock(now)}
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		headers := map[string]string{"webhook-id": id, "webhook-timestamp": ts, "webhook-signature": sig}
		err := v.Verify(func(k string) string { return headers[k] }, body)
		if err == nil {
			// Acceptance must mean that a real signature by one of the secrets was present.
			if !carriesSignature(sig, mac(v.Secrets[0], id, ts, body)) && !carriesSignature(sig, mac(v.Secrets[1], id, ts, body)) {
				t.Fatalf("accepted without a valid signature: id=%q ts=%q sig=%q", id, ts, sig)
			}
			return
		}
		var ae *AuthError
		if !errors.As(err, &ae) || ae.Reason == "" {
			t.Fatalf("error %v is not an AuthError with a reason", err)
		}
	})
}

func carriesSignature(header string, want []byte) bool {
	for _, entry := range strings.Fields(header) {
		if raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(entry, "v1,")); err == nil && string(raw) == string(want) {
			return true
		}
	}
	return false
}
