package handlers

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsHideVersions: anonymous GET /metrics serves the runtime's metrics but not
// go_info, whose label is the exact Go version.
func TestMetricsHideVersions(t *testing.T) {
	env := newTestEnv(t)
	resp, body := env.do(httptest.NewRequest("GET", "/metrics", nil))
	if resp.StatusCode != 200 || !strings.Contains(body, "go_goroutines") || !strings.Contains(body, "kycdesk_") {
		t.Fatalf("GET /metrics: %d, want 200 with the runtime and kycdesk metrics", resp.StatusCode)
	}
	for _, leak := range []string{"go_info", `version="go`} {
		if strings.Contains(body, leak) {
			t.Errorf("/metrics shows %q", leak)
		}
	}
}
