package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/kycdesk/kycdesk/internal/webhookauth"
)

// decisionBackend is a customer's backend behind an integration's decision URL: it checks
// every delivery's signature against the secret it trusts (401 and counted as refused when
// it does not verify), keeps the bodies it accepts and answers them with a status it is
// told (200 at first). It closes when the test ends.
type decisionBackend struct {
	URL string

	mu      sync.Mutex
	secrets [][]byte
	status  int
	events  []string
	refused int
}

func newDecisionBackend(t *testing.T) *decisionBackend {
	t.Helper()
	d := &decisionBackend{status: http.StatusOK}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		_, _ = body.ReadFrom(r.Body)
		d.mu.Lock()
		defer d.mu.Unlock()
		if err := (&webhookauth.HMACVerifier{Secrets: d.secrets}).Verify(r.Header.Get, body.Bytes()); err != nil {
			d.refused++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		d.events = append(d.events, body.String())
		w.WriteHeader(d.status)
	}))
	t.Cleanup(srv.Close)
	d.URL = srv.URL
	return d
}

// trust sets the decision signing secret the backend verifies with.
func (d *decisionBackend) trust(secret []byte) {
	d.mu.Lock()
	d.secrets = [][]byte{secret}
	d.mu.Unlock()
}

// answer sets the status the backend answers verified deliveries with.
func (d *decisionBackend) answer(status int) {
	d.mu.Lock()
	d.status = status
	d.mu.Unlock()
}

// received returns the bodies accepted so far and how many deliveries failed the
// signature check.
func (d *decisionBackend) received() ([]string, int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.events...), d.refused
}
