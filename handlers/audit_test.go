package handlers

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/kycdesk/kycdesk/internal/audit"
	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/report/reporttest"
)

var seqRe = regexp.MustCompile(`data-seq="(\d+)"`)

func pageSeqs(body string) string {
	var out []string
	for _, m := range seqRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return strings.Join(out, ",")
}

func TestAuditTrailPage(t *testing.T) {
	env := newTestEnv(t)
	auditor := env.signIn(auth.Auditor)
	ctx := context.Background()
	var total int64
	env.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&total)
	// 120 case entries on top of the sign-in's own.
	for i := range 120 {
		err := env.db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := audit.Append(ctx, tx, audit.Entry{At: env.now, Actor: "ana@example.com", Action: "case.note_added",
				Subject: fmt.Sprintf("vrf-%03d", i%7), Details: map[string]any{"n": i}})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	total += 120

	_, body := auditor.get("/audit")
	seqs := strings.Split(pageSeqs(body), ",")
	if len(seqs) != auditPageSize || seqs[0] != fmt.Sprint(total) || seqs[49] != fmt.Sprint(total-49) {
		t.Fatalf("first page: %d rows from %s to %s", len(seqs), seqs[0], seqs[len(seqs)-1])
	}
	next := fmt.Sprintf(`href="/audit?before=%d"`, total-49)
	if !strings.Contains(body, next) {
		t.Fatalf("no link %s", next)
	}
	_, body = auditor.get(fmt.Sprintf("/audit?before=%d", total-49))
	if s := strings.Split(pageSeqs(body), ","); s[0] != fmt.Sprint(total-50) {
		t.Errorf("second page starts at %s", s[0])
	}
	_, body = auditor.get("/audit?before=4")
	if pageSeqs(body) != "3,2,1" || strings.Contains(body, `id="older"`) {
		t.Errorf("last page: %s", pageSeqs(body))
	}

	tests := []struct {
		name, query, want string
	}{
		{"actor", "actor=" + auditor.user.Email, ""},
		{"action prefix", "action=auth.", ""},
		{"subject", "subject=vrf-003", ""},
		{"subject, keyset", "subject=vrf-003&before=40", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := auditor.get("/audit?" + tt.query)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d", resp.StatusCode)
			}
			rows := seqRe.FindAllStringSubmatch(body, -1)
			if len(rows) == 0 {
				t.Fatal("no rows")
			}
			// Every row shown matches the filter: check against the store.
			for _, m := range rows {
				var actor, action, subject string
				env.db.Read.QueryRow(`SELECT actor, action, subject FROM audit_log WHERE seq = ?`, m[1]).Scan(&actor, &action, &subject)
				ok := strings.Contains(tt.query, "actor=") && actor == auditor.user.Email ||
					strings.Contains(tt.query, "action=") && strings.HasPrefix(action, "auth.") ||
					strings.Contains(tt.query, "subject=") && subject == "vrf-003"
				if !ok {
					t.Errorf("row %s (%s %s %s) does not match %s", m[1], actor, action, subject, tt.query)
				}
			}
		})
	}
	if resp, _ := auditor.get("/audit?before=abc"); resp.StatusCode != 400 {
		t.Errorf("bad before: %d", resp.StatusCode)
	}
	// Filters survive paging.
	_, body = auditor.get("/audit?action=case.&actor=ana@example.com")
	if !regexp.MustCompile(`href="/audit\?action=case\.&amp;actor=ana%40example.com&amp;before=\d+"`).MatchString(body) || !strings.Contains(body, `value="case."`) {
		t.Error("filter not kept on the page")
	}
}

func TestAuditVerifyPage(t *testing.T) {
	env := newTestEnv(t)
	lead := env.signIn(auth.Lead)
	var n int64
	env.db.Read.QueryRow(`SELECT COUNT(*) FROM audit_log`).Scan(&n)
	_, body := lead.get("/audit/verify")
	if want := fmt.Sprintf("Chain intact: %d entries", n); !strings.Contains(body, want) {
		t.Fatalf("verify page lacks %q", want)
	}
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 2`} {
		if _, err := env.db.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, body = lead.get("/audit/verify")
	if want := "Broken at seq 2: hash does not match the entry&#39;s contents"; !strings.Contains(body, want) {
		t.Fatalf("verify page lacks %q: %s", want, body)
	}
	analyst := env.signIn(auth.Analyst)
	if resp, _ := analyst.get("/audit/verify"); resp.StatusCode != 403 {
		t.Errorf("analyst on /audit/verify: %d", resp.StatusCode)
	}
}

// TestAuditTrailLinksDetailsAndDays: entries about a case link to it, entries about a user
// to that user's trail; details read as key: value lines; the days filter and the exact
// action filter select by index; bad days are a 400.
func TestAuditTrailLinksDetailsAndDays(t *testing.T) {
	env := newTestEnv(t)
	g := reporttest.NewIngest(t, env.db, env.sealer, "acme", env.now)
	caseID := g.Case(t, "vrf-link-1", "Nguyễn Thu Hương", "low")
	auditor := env.signIn(auth.Auditor)
	ctx := context.Background()
	// An entry about a case that carries no case_id: found by its reference.
	if err := env.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := audit.Append(ctx, tx, audit.Entry{At: env.now, Actor: auditor.user.Email, Action: "case.viewed", Subject: "vrf-link-1",
			Details: map[string]any{"reason_code": "verified", "count": 3, "nested": map[string]any{"a": 1}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	g.Now = env.now.AddDate(0, 0, 2)
	g.Case(t, "vrf-link-2", "Lê Văn Tám", "low")
	_, body := auditor.get("/audit?action=case.viewed")
	if !strings.Contains(body, fmt.Sprintf(`href="/cases/%s" class="case-link"`, caseID)) {
		t.Errorf("no link to the case:\n%s", body)
	}
	for _, want := range []string{"<dt>reason code</dt><dd>verified</dd>", "<dt>count</dt><dd>3</dd>", `<dt>nested</dt><dd>{&#34;a&#34;:1}</dd>`} {
		if !strings.Contains(body, want) {
			t.Errorf("details lack %s", want)
		}
	}
	if strings.Contains(body, "<code>case.created</code>") {
		t.Error("the exact action filter let another action through")
	}
	_, body = auditor.get("/audit?action=auth.login")
	if !strings.Contains(body, fmt.Sprintf(`class="user-link" title="Entries about this user">%s</a>`, auditor.user.Email)) {
		t.Errorf("no link to the user's trail")
	}
	// Days: the second case was created two days later.
	_, body = auditor.get("/audit?action=case.created&from=2026-11-22&to=2026-11-22")
	if strings.Count(body, "data-seq=") != 1 || !strings.Contains(body, "vrf-link-2") {
		t.Errorf("one day: %s", pageSeqs(body))
	}
	_, body = auditor.get("/audit?subject=vrf-link-1&to=2026-11-21")
	if strings.Count(body, "data-seq=") != 2 {
		t.Errorf("up to a day: %s", pageSeqs(body))
	}
	for _, q := range []string{"from=20-11-2026", "to=tomorrow", "from=2026-11-22&to=2026-11-21"} {
		if resp, _ := auditor.get("/audit?" + q); resp.StatusCode != 400 {
			t.Errorf("%s: %d", q, resp.StatusCode)
		}
	}
}

func TestAuditVerifyShowsCheckpoints(t *testing.T) {
	env := newTestEnv(t)
	auditor := env.signIn(auth.Auditor)
	ctx := context.Background()
	_, body := auditor.get("/audit/verify")
	if !strings.Contains(body, `id="no-checkpoints"`) {
		t.Error("no word that there are no checkpoints")
	}
	var cp audit.Checkpoint
	if err := env.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		cp, err = audit.TakeCheckpoint(ctx, tx, "cli", env.now)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	_, body = auditor.get("/audit/verify")
	if !strings.Contains(body, cp.String()) || !strings.Contains(body, `data-intact="true"`) {
		t.Fatalf("checkpoint %s not shown as held", cp)
	}
	// Cut the chain back below the checkpoint: it verifies alone, not against the checkpoint.
	for _, q := range []string{`DROP TRIGGER audit_log_no_delete`, fmt.Sprintf(`DELETE FROM audit_log WHERE seq >= %d`, cp.Seq)} {
		if _, err := env.db.Write.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, body = auditor.get("/audit/verify")
	if want := fmt.Sprintf("Broken at seq %d: entry missing: the chain ends at seq %d", cp.Seq, cp.Seq-1); !strings.Contains(body, want) {
		t.Fatalf("verify page lacks %q", want)
	}
}
