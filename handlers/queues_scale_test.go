package handlers

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
	"github.com/kycdesk/kycdesk/internal/cases"
)

var tabCount = regexp.MustCompile(`id="tab-(\w+)"[^>]*>[^<]*<span class="count" data-count="(\d+)"`)

// TestQueueCountsAtScale: the tabs' numbers come from the tallies (and agree with the
// cases); a search is counted exactly, from the in-memory index, even when it matches
// every case; a search of short words (run in SQLite) with more possible matches than
// cases.SearchCountLimit is listed but not counted, and the page says so.
func TestQueueCountsAtScale(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	n := cases.SearchCountLimit + 100 // every one named Nguyễn Thu Hương, a seventh of them new
	if _, err := caseapitest.Seed(context.Background(), env.db, n, env.now.Add(-time.Hour), time.Millisecond, "vrf-"); err != nil {
		t.Fatal(err)
	}
	counts := func(path string) (map[string]int, string) {
		t.Helper()
		resp, body := analyst.get(path)
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: %d", path, resp.StatusCode)
		}
		out := map[string]int{}
		for _, m := range tabCount.FindAllStringSubmatch(body, -1) {
			out[m[1]], _ = strconv.Atoi(m[2])
		}
		return out, body
	}
	// Seed cycles through the seven statuses: new, in_review, pending_info, escalated,
	// awaiting_second_approval, approved, rejected (none assigned).
	perStatus := func(i int) int { return (n - i + 6) / 7 }
	want := map[string]int{cases.QueueUnassigned: perStatus(0), cases.QueueMine: 0, cases.QueueEscalated: perStatus(3),
		cases.QueuePendingInfo: perStatus(2), cases.QueueSecondApproval: perStatus(4), cases.QueueDecided: perStatus(5) + perStatus(6)}
	got, body := counts("/queues")
	for q, w := range want {
		if got[q] != w {
			t.Errorf("/queues: %s count %d, want %d", q, got[q], w)
		}
	}
	if strings.Contains(body, `id="counts-note"`) {
		t.Error("/queues: counts note without a search")
	}

	// One reference: counted exactly.
	got, body = counts("/queues?q=vrf-000007")
	if got[cases.QueueUnassigned] != 1 || got[cases.QueueDecided] != 0 || strings.Contains(body, `id="counts-note"`) {
		t.Errorf("search for one reference: counts %v", got)
	}
	// Everyone is a Hương: answered from the in-memory index, listed and counted exactly.
	got, body = counts("/queues?q=H%C6%B0%C6%A1ng")
	for q, w := range want {
		if got[q] != w {
			t.Errorf("search for Hương: %s count %d, want %d", q, got[q], w)
		}
	}
	if strings.Contains(body, `id="counts-note"`) {
		t.Error("search for Hương: counts note shown, but the tabs are counted")
	}
	if ids := caseIDsOf(body); len(ids) != queuePageSize {
		t.Errorf("search for Hương lists %d cases, want a full page of %d", len(ids), queuePageSize)
	}
	// A word of one letter is searched in SQLite: listed, not counted (more than
	// cases.SearchCountLimit may match), and the page says why.
	got, body = counts("/queues?q=H")
	if len(got) != 0 || !strings.Contains(body, `id="counts-note"`) || !strings.Contains(body, "Too many cases may match") {
		t.Errorf("broad search: counts %v, note shown %v", got, strings.Contains(body, `id="counts-note"`))
	}
	if ids := caseIDsOf(body); len(ids) != queuePageSize {
		t.Errorf("broad search lists %d cases, want a full page of %d", len(ids), queuePageSize)
	}
}
