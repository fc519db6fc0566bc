package generic

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/provider"
)

// TestParseRefusesOverLimits: an event over a case limit is refused with a reason that
// names the field and the limit; one exactly at the limits is accepted whole.
func TestParseRefusesOverLimits(t *testing.T) {
	example := func(change func(app, ver map[string]any)) []byte {
		var m map[string]any
		if err := json.Unmarshal(readExample(t), &m); err != nil {
			t.Fatal(err)
		}
		change(m["applicant"].(map[string]any), m["verification"].(map[string]any))
		b, _ := json.Marshal(m)
		return b
	}
	checks := func(n int, message string, details map[string]any) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"kind": "aml", "result": "pass", "message": message, "details": details}
		}
		return out
	}
	docs := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"kind": "selfie", "url": "https://example.com/" + strings.Repeat("a", i+1)}
		}
		return out
	}
	ư := func(n int) string { return strings.Repeat("ư", n) }
	tests := []struct {
		name   string
		change func(app, ver map[string]any)
		reason string // "" when accepted
	}{
		{"12,000 checks", func(_, v map[string]any) { v["checks"] = checks(12_000, "", nil) },
			"verification.checks: at most 200 checks per event"},
		{"201 checks", func(_, v map[string]any) { v["checks"] = checks(cases.MaxChecks+1, "", nil) },
			"verification.checks: at most 200 checks per event"},
		{"21 documents", func(_, v map[string]any) { v["documents"] = docs(cases.MaxDocuments + 1) },
			"verification.documents: at most 20 documents per event"},
		{"1 MiB given name", func(a, _ map[string]any) { a["given_name"] = strings.Repeat("x", 1<<20) },
			"applicant.given_name: at most 256 characters"},
		{"257-character family name", func(a, _ map[string]any) { a["family_name"] = ư(cases.MaxNameLen + 1) },
			"applicant.family_name: at most 256 characters"},
		{"long address", func(a, _ map[string]any) { a["address"] = ư(cases.MaxAddressLen + 1) },
			"applicant.address: at most 1000 characters"},
		{"long id number", func(a, _ map[string]any) { a["id_number"] = ư(cases.MaxShortLen + 1) },
			"applicant.id_number: at most 128 characters"},
		{"long check message", func(_, v map[string]any) { v["checks"] = checks(1, ư(cases.MaxTextLen+1), nil) },
			"verification.checks[0].message: at most 256 characters"},
		{"large check details", func(_, v map[string]any) {
			v["checks"] = checks(1, "", map[string]any{"x": strings.Repeat("y", cases.MaxDetailsBytes)})
		}, "verification.checks[0].details: at most 2048 bytes"},
		{"checks' text over the budget", func(_, v map[string]any) {
			v["checks"] = checks(cases.MaxChecks, ư(cases.MaxTextLen), map[string]any{"x": strings.Repeat("y", 100)})
		}, "verification.checks: details and messages of at most 32 KiB per event"},
		{"at every limit", func(a, v map[string]any) {
			a["given_name"], a["family_name"], a["address"] = ư(cases.MaxNameLen), ư(cases.MaxNameLen), ư(cases.MaxAddressLen)
			v["checks"] = checks(cases.MaxChecks, ư(40), map[string]any{"x": strings.Repeat("y", 60)}) // 30 KiB in all
			v["documents"] = docs(cases.MaxDocuments)
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(example(tt.change))
			if tt.reason == "" {
				if err != nil {
					t.Fatal(err)
				}
				r := e.Result()
				if len(r.Checks) != cases.MaxChecks || len(r.Documents) != cases.MaxDocuments {
					t.Errorf("%d checks, %d documents", len(r.Checks), len(r.Documents))
				}
				return
			}
			var se *provider.ShapeError
			if !errors.As(err, &se) || se.Reason != tt.reason {
				t.Fatalf("err = %v, want %q", err, tt.reason)
			}
		})
	}
}
