package main

// One signed delivery must not stall everyone (issue 13): an event over the limits is
// refused at the webhook, and the largest event the limits allow is applied by the worker
// while other integrations' deliveries go on being acknowledged.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// genericSender posts Standard Webhooks signed generic events to one integration.
type genericSender struct {
	url    string
	key    []byte
	client *http.Client
}

// newGenericIntegration registers a generic integration on srv and returns its sender.
func newGenericIntegration(t testing.TB, srv *kycdeskServer, name string) *genericSender {
	t.Helper()
	out := srv.cli(t, "", "integration", "add", "--provider", "generic", "--auth", "hmac", "--name", name)
	u, err := url.Parse(field(out, "webhook_url"))
	if err != nil || u.Path == "" {
		t.Fatalf("integration add printed no webhook_url:\n%s", out)
	}
	key, err := webhookauth.ParseSecret(field(out, "secret"))
	if err != nil {
		t.Fatalf("secret: %v", err)
	}
	return &genericSender{url: srv.URL + u.Path, key: key, client: &http.Client{Timeout: 30 * time.Second}}
}

// post sends body and returns the status, the answer and how long the acknowledgement took.
func (g *genericSender) post(body []byte) (int, string, time.Duration, error) {
	msgID := "msg_" + randomHex(10)
	now := time.Now()
	resp, err := g.client.Do(signedRequest(g.url, g.key, msgID, now, body))
	if err != nil {
		return 0, "", 0, err
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp.StatusCode, string(answer), time.Since(now), nil
}

// waitLoaded posts body until the server has loaded the new integration (it reloads
// within a second) and returns the first non-401 status.
func (g *genericSender) waitLoaded(t testing.TB, body []byte) (int, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, answer, _, err := g.post(body)
		if err != nil {
			t.Fatal(err)
		}
		if status != http.StatusUnauthorized && status != http.StatusNotFound || time.Now().After(deadline) {
			return status, answer
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// genericEvent is a generic event with n checks, each carrying message and details of the
// given sizes, and docs inline images; names and address at their limits when atLimits.
func genericEvent(ref string, n, messageRunes, detailBytes, docs int, atLimits bool) []byte {
	applicant := map[string]any{"external_id": "cust-" + ref, "given_name": "Thu Hương", "family_name": "Nguyễn", "nationality": "VNM"}
	if atLimits {
		applicant["given_name"] = strings.Repeat("Hương", cases.MaxNameLen/5)
		applicant["family_name"] = strings.Repeat("ễ", cases.MaxNameLen)
		applicant["address"] = strings.Repeat("Lê Lợi ", cases.MaxAddressLen/7)
	}
	checks := make([]map[string]any, n)
	for i := range checks {
		c := map[string]any{"kind": "aml", "result": "pass", "score": 0.5}
		if messageRunes > 0 {
			c["message"] = strings.Repeat("ư", messageRunes)
		}
		if detailBytes > 0 {
			c["details"] = map[string]any{"note": strings.Repeat("x", detailBytes-len(`{"note":""}`))}
		}
		checks[i] = c
	}
	documents := make([]map[string]any, docs)
	for i := range documents {
		documents[i] = map[string]any{"id": fmt.Sprintf("doc-%d", i), "kind": "id_front", "content_type": "image/png",
			"data_base64": tinyPNG}
	}
	body, _ := json.Marshal(map[string]any{
		"type": "verification.completed", "occurred_at": time.Now().UTC().Format(time.RFC3339Nano),
		"applicant":    applicant,
		"verification": map[string]any{"reference": ref, "result": "review", "risk_level": "medium", "checks": checks, "documents": documents},
	})
	return body
}

// worstAllowedEvent is the largest generic event the limits let through: 200 checks whose
// messages and details fill the 32 KiB budget, 20 documents, names and address at their limits.
func worstAllowedEvent(ref string) []byte {
	per := cases.MaxCheckTextBytes / cases.MaxChecks // bytes of message and details per check
	return genericEvent(ref, cases.MaxChecks, per/4, per/2, cases.MaxDocuments, true)
}

const tinyPNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"

// apiCase reads one case through the JSON API by reference; ok is false while it does not exist.
func apiCase(t testing.TB, srv *kycdeskServer, token, ref string) (c struct {
	Checks    []json.RawMessage `json:"checks"`
	Documents []json.RawMessage `json:"documents"`
}, ok bool) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/v1/cases?reference="+url.QueryEscape(ref), nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var page struct {
		Cases []json.RawMessage `json:"cases"`
	}
	if resp.StatusCode != 200 || json.NewDecoder(resp.Body).Decode(&page) != nil {
		t.Fatalf("GET /api/v1/cases: %d", resp.StatusCode)
	}
	if len(page.Cases) == 0 {
		return c, false
	}
	if err := json.Unmarshal(page.Cases[0], &c); err != nil {
		t.Fatal(err)
	}
	return c, true
}

// TestWorstEventDoesNotStallOthers, against a real `kycdesk serve` with its worker: the
// 12,000-check event of the report is refused with 400 naming the limit; three events at
// every limit and fifty ordinary deliveries of another integration sent at the same time
// are all acknowledged and all become cases, the large ones whole. (How fast the others
// are acknowledged is measured by BenchmarkAckBesideWorstEvent, not asserted here.)
func TestWorstEventDoesNotStallOthers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	t.Parallel()
	srv := startServer(t)
	big := newGenericIntegration(t, srv, "big-sender")
	other := newGenericIntegration(t, srv, "other-sender")
	token := field(srv.cli(t, "", "apitoken", "create", "--name", "test"), "token")

	status, answer := big.waitLoaded(t, genericEvent("vrf-12000", 12_000, 0, 0, 0, false))
	if status != http.StatusBadRequest || !strings.Contains(answer, "verification.checks: at most 200 checks per event") {
		t.Fatalf("12,000 checks: %d %s, want 400 naming the limit", status, answer)
	}
	if status, answer := other.waitLoaded(t, genericEvent("vrf-other-warmup", 2, 0, 0, 0, false)); status/100 != 2 {
		t.Fatalf("other integration: %d %s", status, answer)
	}

	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	refs := []string{"vrf-other-warmup"}
	send := func(g *genericSender, ref string, body []byte) {
		defer wg.Done()
		status, answer, _, err := g.post(body)
		mu.Lock()
		defer mu.Unlock()
		if err != nil || status/100 != 2 {
			failures = append(failures, fmt.Sprintf("%s: %d %v %s", ref, status, err, answer))
		}
	}
	for i := range 3 {
		ref := fmt.Sprintf("vrf-worst-%d", i)
		refs = append(refs, ref)
		wg.Add(1)
		go send(big, ref, worstAllowedEvent(ref))
	}
	for i := range 50 {
		ref := fmt.Sprintf("vrf-other-%d", i)
		refs = append(refs, ref)
		wg.Add(1)
		go send(other, ref, genericEvent(ref, 2, 0, 0, 0, false))
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("deliveries not acknowledged: %q", failures)
	}

	deadline := time.Now().Add(60 * time.Second)
	for _, ref := range refs {
		for {
			c, ok := apiCase(t, srv, token, ref)
			if ok {
				if strings.HasPrefix(ref, "vrf-worst-") && (len(c.Checks) != cases.MaxChecks || len(c.Documents) != cases.MaxDocuments) {
					t.Errorf("%s: %d checks, %d documents in the API, want all %d and %d", ref, len(c.Checks), len(c.Documents),
						cases.MaxChecks, cases.MaxDocuments)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s is not a case 60 s after it was acknowledged", ref)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// BenchmarkAckBesideWorstEvent: per iteration, one event at every limit goes to one
// integration while another integration sends 20 ordinary deliveries beside it; reports
// the other integration's acknowledgement latency (p50, p99, max) over all iterations.
// The "alone" run sends the same 20 ordinary deliveries without the large event: the
// difference is what the large event costs the others.
//
//	go test -run '^$' -bench AckBesideWorstEvent -benchtime 20x ./cmd/kycdesk/
func BenchmarkAckBesideWorstEvent(b *testing.B) {
	for _, withWorst := range []bool{true, false} {
		name := "beside-worst"
		if !withWorst {
			name = "alone"
		}
		b.Run(name, func(b *testing.B) { benchAckBeside(b, withWorst) })
	}
}

func benchAckBeside(b *testing.B, withWorst bool) {
	srv := startServer(b)
	big := newGenericIntegration(b, srv, "big-sender")
	other := newGenericIntegration(b, srv, "other-sender")
	if status, _ := big.waitLoaded(b, worstAllowedEvent("vrf-warm-big")); status/100 != 2 {
		b.Fatalf("warm-up: %d", status)
	}
	if status, _ := other.waitLoaded(b, genericEvent("vrf-warm-other", 2, 0, 0, 0, false)); status/100 != 2 {
		b.Fatalf("warm-up: %d", status)
	}
	var lat []time.Duration
	var mu sync.Mutex
	b.ResetTimer()
	for i := range b.N {
		var wg sync.WaitGroup
		if withWorst {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if status, answer, _, err := big.post(worstAllowedEvent(fmt.Sprintf("vrf-big-%d", i))); err != nil || status/100 != 2 {
					b.Errorf("worst event: %d %v %s", status, err, answer)
				}
			}()
		}
		for j := range 20 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, _, took, err := other.post(genericEvent(fmt.Sprintf("vrf-o-%d-%d", i, j), 2, 0, 0, 0, false))
				if err != nil || status/100 != 2 {
					b.Errorf("other delivery: %d %v", status, err)
					return
				}
				mu.Lock()
				lat = append(lat, took)
				mu.Unlock()
			}()
			time.Sleep(2 * time.Millisecond)
		}
		wg.Wait()
		time.Sleep(20 * time.Millisecond) // the worker's share of the large event falls inside the next round
	}
	b.StopTimer()
	slices.Sort(lat)
	if len(lat) > 0 {
		q := func(p float64) float64 {
			return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
		}
		b.ReportMetric(q(0.5), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	}
}
