package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/integration"
)

// viewEntries are the document.viewed entries of the audit trail for a case reference.
func (e *testEnv) viewEntries(reference string) []audit.Entry {
	e.t.Helper()
	entries, err := audit.List(context.Background(), e.db.Read, audit.Filter{Subject: reference, Action: "document.viewed", Limit: 100})
	if err != nil {
		e.t.Fatal(err)
	}
	return entries
}

func TestDocumentEndpoint(t *testing.T) {
	env := newTestEnv(t)
	src := env.caseSource(integration.Generic)
	caseID := env.applyResult(src, genericResult(t, "vrf-doc-1", env.now))
	otherID := env.applyResult(src, genericResult(t, "vrf-doc-2", env.now))
	docs, err := env.srv.caseStore().Documents(context.Background(), caseID)
	if err != nil || len(docs) != 3 {
		t.Fatalf("documents: %v %v", docs, err)
	}
	otherDocs, _ := env.srv.caseStore().Documents(context.Background(), otherID)
	analyst := env.signIn(auth.Analyst)

	for _, d := range docs {
		resp, body := analyst.get("/cases/" + caseID + "/documents/" + d.ID)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", d.Kind, resp.StatusCode)
		}
		sum := sha256.Sum256([]byte(body))
		if hex.EncodeToString(sum[:]) != d.SHA256 || int64(len(body)) != d.Size {
			t.Errorf("%s: bytes differ from the stored document (sha256 %x)", d.Kind, sum)
		}
		for h, want := range map[string]string{
			"Content-Type":           d.ContentType,
			"Cache-Control":          "no-store",
			"X-Content-Type-Options": "nosniff",
			"Content-Disposition":    "inline",
		} {
			if got := resp.Header.Get(h); got != want {
				t.Errorf("%s: %s = %q, want %q", d.Kind, h, got, want)
			}
		}
	}
	entries := env.viewEntries("vrf-doc-1")
	if len(entries) != 3 {
		t.Fatalf("%d document.viewed entries, want one per view (3)", len(entries))
	}
	seen := map[string]string{}
	for _, e := range entries {
		if e.Actor != analyst.user.Email || e.Subject != "vrf-doc-1" {
			t.Errorf("entry actor %q subject %q", e.Actor, e.Subject)
		}
		id, _ := e.Details["document_id"].(string)
		kind, _ := e.Details["kind"].(string)
		seen[id] = kind
	}
	for _, d := range docs {
		if seen[d.ID] != d.Kind {
			t.Errorf("no audit entry names document %s (%s): %v", d.ID, d.Kind, seen)
		}
	}
	// Viewing again is another entry: the trail counts views, not documents.
	analyst.get("/cases/" + caseID + "/documents/" + docs[0].ID)
	if n := len(env.viewEntries("vrf-doc-1")); n != 4 {
		t.Errorf("%d entries after a second view, want 4", n)
	}

	refused := []struct {
		name string
		who  *testClient
		path string
		want int
	}{
		{"another case's document", analyst, "/cases/" + caseID + "/documents/" + otherDocs[0].ID, 404},
		{"unknown document", analyst, "/cases/" + caseID + "/documents/01JD0000000000000000000000", 404},
		{"malformed document id", analyst, "/cases/" + caseID + "/documents/..%2f..", 404},
		{"unknown case", analyst, "/cases/01JD0000000000000000000000/documents/" + docs[0].ID, 404},
		{"admin", env.signIn(auth.Admin), "/cases/" + caseID + "/documents/" + docs[0].ID, 403},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := tt.who.get(tt.path)
			if resp.StatusCode != tt.want {
				t.Errorf("%d, want %d", resp.StatusCode, tt.want)
			}
			if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || len(body) > 0 && body[0] != '<' {
				t.Errorf("refusal served %s", resp.Header.Get("Content-Type"))
			}
		})
	}
	if n := len(env.viewEntries("vrf-doc-1")); n != 4 {
		t.Errorf("refused requests wrote audit entries: %d, want 4", n)
	}
	if n := len(env.viewEntries("vrf-doc-2")); n != 0 {
		t.Errorf("the other case's document was recorded as viewed")
	}

	auditor := env.signIn(auth.Auditor)
	if resp, _ := auditor.get("/cases/" + caseID + "/documents/" + docs[2].ID); resp.StatusCode != 200 {
		t.Errorf("auditor: %d, want 200", resp.StatusCode)
	}
	if _, err := audit.Verify(context.Background(), env.db.Read); err != nil {
		t.Errorf("audit chain: %v", err)
	}
}
