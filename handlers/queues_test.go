package handlers

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/internal/auth"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/integration"
)

var nextPage = regexp.MustCompile(`<a href="([^"]+)" id="next-page"`)

// simpleResult is a result with only what the queue list shows.
func simpleResult(ref, name, risk string, at time.Time) cases.Result {
	return cases.Result{Reference: ref, Round: ref, OccurredAt: at, Result: cases.ResultReview, RiskLevel: risk,
		Applicant: cases.Applicant{FullName: name, ExternalID: "ext-" + ref}}
}

// queueRefs fetches a queue page and returns the references listed, in order.
func queueRefs(t *testing.T, env *testEnv, c *testClient, path string) []string {
	t.Helper()
	resp, body := c.get(path)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	return refsOf(env, caseIDsOf(body))
}

func TestQueuesListWhatTheyShould(t *testing.T) {
	env := newTestEnv(t)
	analyst, lead := env.signIn(auth.Analyst), env.signIn(auth.Lead)
	src := env.caseSource(integration.Generic)
	add := func(ref, status string, assignee int64, due time.Duration) {
		id := env.applyResult(src, simpleResult(ref, "Người "+ref, cases.RiskMedium, env.now))
		env.setCase(id, status, assignee)
		env.exec(`UPDATE cases SET sla_due = ? WHERE id = ?`, env.now.Add(due).UnixMilli(), id)
	}
	add("new-late", cases.StatusNew, 0, 3*time.Hour+10*time.Minute)
	add("new-overdue", cases.StatusNew, 0, -20*time.Minute)
	add("mine-review", cases.StatusInReview, analyst.user.ID, time.Hour)
	add("mine-info", cases.StatusPendingInfo, analyst.user.ID, 2*time.Hour)
	add("lead-escalated", cases.StatusEscalated, lead.user.ID, time.Hour)
	add("lead-second", cases.StatusAwaitingSecondApproval, lead.user.ID, time.Hour)
	add("approved", cases.StatusApproved, analyst.user.ID, 0)
	env.advance(time.Minute)
	add("rejected", cases.StatusRejected, lead.user.ID, 0)

	tests := []struct {
		who  *testClient
		path string
		want []string
	}{
		{analyst, "/queues", []string{"new-overdue", "new-late"}},
		{analyst, "/queues?queue=unassigned", []string{"new-overdue", "new-late"}},
		{analyst, "/queues?queue=mine", []string{"mine-review", "mine-info"}},
		{lead, "/queues?queue=mine", []string{"lead-escalated", "lead-second"}},
		{analyst, "/queues?queue=escalated", []string{"lead-escalated"}},
		{analyst, "/queues?queue=pending_info", []string{"mine-info"}},
		{analyst, "/queues?queue=second_approval", []string{"lead-second"}},
		{analyst, "/queues?queue=decided", []string{"rejected", "approved"}},
	}
	for _, tt := range tests {
		t.Run(tt.who.user.Email+" "+tt.path, func(t *testing.T) {
			if got := queueRefs(t, env, tt.who, tt.path); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	_, body := analyst.get("/queues")
	for _, want := range []string{
		`<time class="overdue"`, "overdue by 21 min", "in 3 h", // SLA relative (a minute has passed), overdue in red
		`id="tab-unassigned"`, `data-count="2"`, // counts in tabs
		`id="tab-mine"`, "Người new-late", "ext-new-late", "Medium",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("unassigned page lacks %q", want)
		}
	}
	if _, body := analyst.get("/queues?queue=mine"); !strings.Contains(body, analyst.user.Email) {
		t.Error("assignee column does not show the assignee")
	}

	auditor := env.signIn(auth.Auditor)
	_, body = auditor.get("/queues?queue=decided")
	if strings.Contains(body, `id="tab-mine"`) {
		t.Error("auditors are never assigned: no Mine tab")
	}
	if got := refsOf(env, caseIDsOf(body)); len(got) != 2 {
		t.Errorf("auditor decided queue: %q", got)
	}
}

func TestQueueEmptyStates(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	_, body := analyst.get("/queues")
	if !strings.Contains(body, "No cases waiting — new verifications appear here as providers send them.") {
		t.Error("empty unassigned queue lacks its explanation")
	}
	env.applyResult(env.caseSource(integration.Generic), simpleResult("vrf-1", "Trần Văn An", cases.RiskLow, env.now))
	_, body = analyst.get("/queues?q=" + url.QueryEscape("Phạm"))
	if !strings.Contains(body, "No cases in this queue match these filters.") || !strings.Contains(body, `id="clear-filters"`) {
		t.Error("filtered empty state lacks its message or the Clear link")
	}
}

func TestQueueFiltersAndSearch(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	gen, fpt := env.caseSource(integration.Generic), env.caseSource(integration.FPTAI)
	env.applyResult(gen, simpleResult("vrf-2026-000187", "Nguyễn Thu Hương", cases.RiskHigh, env.now))
	env.applyResult(fpt, simpleResult("cust-2026-000188", "NGUYỄN THỊ THU HƯƠNG", cases.RiskLow, env.now))
	env.applyResult(gen, simpleResult("vrf-2026-000189", "Trần Văn Hướng", cases.RiskMedium, env.now))
	env.applyResult(fpt, simpleResult("cust-2026-000190", "Đặng Minh Đức", cases.RiskHigh, env.now))

	tests := []struct {
		query string
		want  []string
	}{
		{"risk=high", []string{"vrf-2026-000187", "cust-2026-000190"}},
		{"provider=fptai", []string{"cust-2026-000188", "cust-2026-000190"}},
		{"risk=high&provider=generic", []string{"vrf-2026-000187"}},
		{"q=" + url.QueryEscape("nguyễn"), []string{"vrf-2026-000187", "cust-2026-000188"}},
		{"q=" + url.QueryEscape("Hương"), []string{"vrf-2026-000187", "cust-2026-000188"}},
		{"q=" + url.QueryEscape("hướng"), []string{"vrf-2026-000189"}},
		{"q=huong", []string{"vrf-2026-000187", "cust-2026-000188", "vrf-2026-000189"}},
		{"q=" + url.QueryEscape("ĐỨC"), []string{"cust-2026-000190"}},
		{"q=VRF-2026", []string{"vrf-2026-000187", "vrf-2026-000189"}},
		{"q=ext-cust-2026-000190", []string{"cust-2026-000190"}},
		{"q=&risk=&provider=", []string{"vrf-2026-000187", "cust-2026-000188", "vrf-2026-000189", "cust-2026-000190"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := queueRefs(t, env, analyst, "/queues?"+tt.query)
			slices.Sort(got)
			want := slices.Clone(tt.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("got %q, want %q", got, want)
			}
		})
	}
	// The form keeps what was typed, Vietnamese included, and tab links keep the filters.
	_, body := analyst.get("/queues?risk=high&q=" + url.QueryEscape("Đức"))
	if !strings.Contains(body, `value="Đức"`) || !strings.Contains(body, `<option value="high" selected>`) {
		t.Error("filter form does not keep its values")
	}
	if !strings.Contains(body, `href="/queues?q=%C4%90%E1%BB%A9c&amp;queue=decided&amp;risk=high"`) {
		t.Error("tab links do not keep the filters")
	}
}

func TestQueuePagination(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	src := env.caseSource(integration.Generic)
	const n = 250
	rs := make([]cases.Result, n)
	for i := range rs {
		rs[i] = simpleResult(fmt.Sprintf("vrf-%04d", i), "Khách hàng", cases.RiskLow, env.now)
	}
	ids := env.applyMany(src, rs)
	for i, id := range ids {
		// Groups of ten share a due time: the id breaks the tie. Every fifth is decided.
		env.exec(`UPDATE cases SET sla_due = ? WHERE id = ?`, env.now.Add(time.Duration(i/10)*time.Minute).UnixMilli(), id)
		if i%5 == 0 {
			env.setCase(id, cases.StatusApproved, 0)
			env.exec(`UPDATE cases SET decided_at = ? WHERE id = ?`, env.now.Add(time.Duration(i/10)*time.Second).UnixMilli(), id)
		}
	}
	for _, queue := range []string{"unassigned", "decided"} {
		t.Run(queue, func(t *testing.T) {
			seen := map[string]int{}
			var order []string
			path := "/queues?queue=" + queue
			for pages := 0; path != ""; pages++ {
				if pages > 10 {
					t.Fatal("paging does not end")
				}
				resp, body := analyst.get(path)
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: %d", path, resp.StatusCode)
				}
				page := caseIDsOf(body)
				if len(page) > queuePageSize {
					t.Fatalf("%d rows on a page", len(page))
				}
				for _, id := range page {
					seen[id]++
					order = append(order, id)
				}
				path = ""
				if m := nextPage.FindStringSubmatch(body); m != nil {
					path = html.UnescapeString(m[1])
				}
			}
			want := 0
			for i, id := range ids {
				inQueue := (i%5 == 0) == (queue == "decided")
				if inQueue {
					want++
					if seen[id] != 1 {
						t.Errorf("case %d listed %d times", i, seen[id])
					}
				} else if seen[id] != 0 {
					t.Errorf("case %d listed in %s", i, queue)
				}
			}
			if len(order) != want {
				t.Errorf("%d rows over all pages, want %d", len(order), want)
			}
		})
	}
}

func TestQueueBadParameters(t *testing.T) {
	env := newTestEnv(t)
	analyst := env.signIn(auth.Analyst)
	src := env.caseSource(integration.Generic)
	for i := range queuePageSize + 1 {
		env.applyResult(src, simpleResult(fmt.Sprint("vrf-", i), "A", cases.RiskLow, env.now))
	}
	_, body := analyst.get("/queues")
	m := nextPage.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no next page link")
	}
	next, _ := url.Parse(html.UnescapeString(m[1]))
	cursor := next.Query().Get("after")

	tests := []struct {
		query, param string
	}{
		{"queue=all", "queue"},
		{"queue=%3Cscript%3E", "queue"},
		{"risk=critical", "risk"},
		{"provider=onfido", "provider"},
		{"q=" + strings.Repeat("x", 101), "q"},
		{"q=%FF", "q"},
		{"after=garbage", "after"},
		{"after=" + url.QueryEscape(cursor[:len(cursor)-2]+"AA"), "after"},
		{"queue=decided&after=" + url.QueryEscape(cursor), "after"},
	}
	for _, tt := range tests {
		t.Run(tt.query[:min(len(tt.query), 30)], func(t *testing.T) {
			resp, body := analyst.get("/queues?" + tt.query)
			if resp.StatusCode != 400 {
				t.Fatalf("%d, want 400", resp.StatusCode)
			}
			if !regexp.MustCompile(`id="error-message">` + regexp.QuoteMeta(tt.param) + `:`).MatchString(body) {
				t.Errorf("400 page does not name %q", tt.param)
			}
			if strings.Contains(body, "<script>") {
				t.Error("parameter echoed unescaped")
			}
		})
	}
	if resp, _ := analyst.get("/queues?" + next.RawQuery); resp.StatusCode != 200 {
		t.Errorf("the issued cursor: %d", resp.StatusCode)
	}
}
