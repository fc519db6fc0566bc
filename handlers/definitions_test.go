package handlers

import (
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/auth"
)

// TestPagesShowDefinitions: the dashboard and the reports page say how their figures are
// counted, in the same words (views.MetricDefinitions), for leads and auditors.
func TestPagesShowDefinitions(t *testing.T) {
	env := newTestEnv(t)
	for _, r := range []auth.Role{auth.Lead, auth.Auditor} {
		c := env.signIn(r)
		for _, path := range []string{"/dashboard", "/reports"} {
			resp, body := c.get(path)
			if resp.StatusCode != 200 {
				t.Fatalf("%s GET %s = %d", r, path, resp.StatusCode)
			}
			defs := dashElement(t, body, `id="definitions"`, "</details>")
			for _, want := range []string{"Final decision", "second approval", "Time to decision", "paused", "SLA breached", "never counted twice", "not a final decision"} {
				if !strings.Contains(defs, want) {
					t.Errorf("%s %s: the definitions lack %q", r, path, want)
				}
			}
		}
	}
}
