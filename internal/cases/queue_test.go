package cases_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/caseapi/caseapitest"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/errs"
	"github.com/kycdesk/kycdesk/internal/integration"
	"github.com/kycdesk/kycdesk/internal/testkit"
)

// queueEnv is a case store with a second integration (FPT.AI) and two reviewers, for the
// queue tests. Cases are opened through Apply; their review state (claimed, escalated,
// decided) is set with UPDATE, standing in for the review actions of a later release.
type queueEnv struct {
	*env
	fpt      cases.Source
	ana, leo int64 // user ids
}

func newQueueEnv(t *testing.T) *queueEnv {
	t.Helper()
	e := &queueEnv{env: newEnv(t)}
	in, _, err := integration.NewStore(e.db, e.store.Sealer).Create(e.ctx, "test", integration.Spec{
		Name: "acme-fptai", Provider: integration.FPTAI, AuthMode: integration.AuthToken})
	if err != nil {
		t.Fatal(err)
	}
	e.fpt = cases.Source{IntegrationID: in.ID, IntegrationName: in.Name, Provider: in.Provider}
	e.ana, e.leo = e.user("ana@example.com", "analyst"), e.user("leo@example.com", "lead")
	return e
}

func (e *queueEnv) user(email, role string) int64 {
	e.t.Helper()
	res, err := e.db.Write.ExecContext(e.ctx, `INSERT INTO users (email, name, role, password_hash, created_at, updated_at)
		VALUES (?, ?, ?, 'x', 0, 0)`, email, strings.Split(email, "@")[0], role)
	if err != nil {
		e.t.Fatal(err)
	}
	n, _ := res.LastInsertId()
	return n
}

// seed opens a case through Apply with the given reference, name and risk.
func (e *queueEnv) seed(src cases.Source, ref, name, externalID, risk string) string {
	e.t.Helper()
	r := cases.Result{Reference: ref, Round: ref, OccurredAt: e.now, Result: cases.ResultReview, RiskLevel: risk,
		Applicant: cases.Applicant{FullName: name, ExternalID: externalID}}
	out, err := e.store.Apply(e.ctx, src, 0, r)
	if err != nil {
		e.t.Fatal(err)
	}
	return out.CaseID
}

// set puts a case into a review state directly.
func (e *queueEnv) set(caseID, status string, assignee int64) {
	e.t.Helper()
	var a any
	if assignee != 0 {
		a = assignee
	}
	var decision, decidedAt any
	if cases.Decided(status) {
		decision, decidedAt = map[string]string{cases.StatusApproved: "approve", cases.StatusRejected: "reject"}[status], db.Millis(e.now)
	}
	e.exec(`UPDATE cases SET status = ?, assignee_id = ?, decision = ?, decided_at = ? WHERE id = ?`,
		status, a, decision, decidedAt, caseID)
}

func (e *queueEnv) filter(p cases.QueueParams, user int64) cases.QueueFilter {
	e.t.Helper()
	f, err := e.store.ParseQueueFilter(p, user)
	if err != nil {
		e.t.Fatalf("ParseQueueFilter(%+v): %v", p, err)
	}
	return f
}

// refs lists every page of the queue and returns the references in order.
func (e *queueEnv) refs(p cases.QueueParams, user int64, pageSize int) []string {
	e.t.Helper()
	return e.refsWith(p, user, pageSize, func(f cases.QueueFilter) cases.QueueFilter { return f })
}

// refsWith is refs with each page's filter passed through mod.
func (e *queueEnv) refsWith(p cases.QueueParams, user int64, pageSize int, mod func(cases.QueueFilter) cases.QueueFilter) []string {
	e.t.Helper()
	var out []string
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatal("paging does not end")
		}
		page, err := e.store.ListQueue(e.ctx, mod(e.filter(p, user)), pageSize)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(page.Items) > pageSize {
			e.t.Fatalf("page of %d rows, limit %d", len(page.Items), pageSize)
		}
		for _, it := range page.Items {
			out = append(out, it.Reference)
		}
		if page.Next == "" {
			return out
		}
		p.After = page.Next
	}
}

func TestQueuesListTheirCases(t *testing.T) {
	e := newQueueEnv(t)
	ids := map[string]string{}
	add := func(ref, status string, assignee int64, due time.Duration) {
		ids[ref] = e.seed(e.src, ref, "Người "+ref, "ext-"+ref, cases.RiskMedium)
		e.set(ids[ref], status, assignee)
		e.exec(`UPDATE cases SET sla_due = ? WHERE id = ?`, db.Millis(e.now.Add(due)), ids[ref])
	}
	add("new-late", cases.StatusNew, 0, 2*time.Hour)
	add("new-soon", cases.StatusNew, 0, -20*time.Minute) // overdue first
	add("ana-review", cases.StatusInReview, e.ana, time.Hour)
	add("ana-escalated", cases.StatusEscalated, e.ana, 3*time.Hour)
	add("ana-info", cases.StatusPendingInfo, e.ana, 30*time.Minute)
	add("leo-review", cases.StatusInReview, e.leo, time.Hour)
	add("leo-second", cases.StatusAwaitingSecondApproval, e.leo, 5*time.Hour)
	add("esc-unassigned", cases.StatusEscalated, 0, 4*time.Hour)
	add("approved-old", cases.StatusApproved, e.ana, 0)
	e.now = e.now.Add(time.Minute)
	add("rejected-new", cases.StatusRejected, e.ana, 0)
	add("approved-nodate", cases.StatusApproved, 0, 0)
	// A decided case without a recorded decision time sorts by its last update.
	e.exec(`UPDATE cases SET decided_at = NULL, updated_at = ? WHERE id = ?`, db.Millis(e.now.Add(-time.Hour)), ids["approved-nodate"])

	tests := []struct {
		queue string
		user  int64
		want  []string
	}{
		{"", e.ana, []string{"new-soon", "new-late"}},
		{cases.QueueUnassigned, e.ana, []string{"new-soon", "new-late"}},
		{cases.QueueMine, e.ana, []string{"ana-info", "ana-review", "ana-escalated"}},
		{cases.QueueMine, e.leo, []string{"leo-review", "leo-second"}},
		{cases.QueueMine, 0, nil},
		{cases.QueueEscalated, e.ana, []string{"ana-escalated", "esc-unassigned"}},
		{cases.QueuePendingInfo, e.leo, []string{"ana-info"}},
		{cases.QueueSecondApproval, e.ana, []string{"leo-second"}},
		{cases.QueueDecided, e.ana, []string{"rejected-new", "approved-old", "approved-nodate"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.queue, tt.user), func(t *testing.T) {
			if got := e.refs(cases.QueueParams{Queue: tt.queue}, tt.user, 50); !slices.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}

	counts, err := e.store.QueueCounts(e.ctx, e.filter(cases.QueueParams{}, e.ana))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{cases.QueueUnassigned: 2, cases.QueueMine: 3, cases.QueueEscalated: 2,
		cases.QueuePendingInfo: 1, cases.QueueSecondApproval: 1, cases.QueueDecided: 3}
	for q, n := range want {
		if counts[q] != n {
			t.Errorf("count %s = %d, want %d", q, counts[q], n)
		}
	}

	page, err := e.store.ListQueue(e.ctx, e.filter(cases.QueueParams{Queue: cases.QueueMine}, e.ana), 10)
	if err != nil {
		t.Fatal(err)
	}
	it := page.Items[0]
	if it.AssigneeEmail != "ana@example.com" || it.IntegrationName != "acme-generic" || it.Provider != "generic" ||
		it.FullName != "Người ana-info" || it.ExternalID != "ext-ana-info" || it.RiskLevel != cases.RiskMedium || it.Round != 1 {
		t.Errorf("item = %+v", it)
	}
}

func TestQueueFilters(t *testing.T) {
	e := newQueueEnv(t)
	e.seed(e.src, "vrf-2026-000187", "Nguyễn Thu Hương", "cust-42", cases.RiskHigh)
	e.seed(e.fpt, "cust-2026-000188", "NGUYỄN THỊ THU HƯƠNG", "", cases.RiskLow)
	e.seed(e.src, "vrf-2026-000189", "Trần Văn Hướng", "cust-43", cases.RiskMedium)
	e.seed(e.fpt, "cust-2026-000190", "Đặng Minh Đức", "", cases.RiskHigh)
	e.seed(e.src, "vrf-2026-000191", "Lê Thị Bích Ngọc", "KH*01", cases.RiskLow)
	e.seed(e.src, "vrf-2026-000192", "John O'Brien", "cust-44", cases.RiskMedium)

	tests := []struct {
		name string
		p    cases.QueueParams
		want []string
	}{
		{"risk high", cases.QueueParams{Risk: "high"}, []string{"vrf-2026-000187", "cust-2026-000190"}},
		{"provider fptai", cases.QueueParams{Provider: "fptai"}, []string{"cust-2026-000188", "cust-2026-000190"}},
		{"risk and provider", cases.QueueParams{Risk: "low", Provider: "fptai"}, []string{"cust-2026-000188"}},
		{"name as typed, diacritics", cases.QueueParams{Q: "Hương"}, []string{"vrf-2026-000187", "cust-2026-000188"}},
		{"lower case finds upper case", cases.QueueParams{Q: "nguyễn thị"}, []string{"cust-2026-000188"}},
		{"upper case finds mixed case", cases.QueueParams{Q: "HƯƠNG"}, []string{"vrf-2026-000187", "cust-2026-000188"}},
		{"typed tone mark is kept", cases.QueueParams{Q: "hướng"}, []string{"vrf-2026-000189"}},
		{"no marks typed finds all", cases.QueueParams{Q: "huong"}, []string{"vrf-2026-000187", "cust-2026-000188", "vrf-2026-000189"}},
		{"a missing tone mark is a tone", cases.QueueParams{Q: "ương"}, []string{"vrf-2026-000187", "cust-2026-000188"}},
		{"unmarked word beside a marked one", cases.QueueParams{Q: "thi hương"}, []string{"cust-2026-000188"}},
		{"d finds đ", cases.QueueParams{Q: "duc"}, []string{"cust-2026-000190"}},
		{"đ typed", cases.QueueParams{Q: "đức"}, []string{"cust-2026-000190"}},
		{"words in any order", cases.QueueParams{Q: "hương nguyễn"}, []string{"vrf-2026-000187", "cust-2026-000188"}},
		{"decomposed input (NFD)", cases.QueueParams{Q: "Ngo\u0323c"}, []string{"vrf-2026-000191"}},
		{"reference prefix", cases.QueueParams{Q: "VRF-2026-00018"}, []string{"vrf-2026-000187", "vrf-2026-000189"}},
		{"reference contains", cases.QueueParams{Q: "000190"}, []string{"cust-2026-000190"}},
		{"external id", cases.QueueParams{Q: "cust-42"}, []string{"vrf-2026-000187"}},
		{"glob star is literal", cases.QueueParams{Q: "KH*"}, []string{"vrf-2026-000191"}},
		{"glob star alone matches no wildcard", cases.QueueParams{Q: "*"}, []string{"vrf-2026-000191"}},
		{"question mark is literal", cases.QueueParams{Q: "?"}, nil},
		{"apostrophe", cases.QueueParams{Q: "o'brien"}, []string{"vrf-2026-000192"}},
		{"search with risk", cases.QueueParams{Q: "huong", Risk: "medium"}, []string{"vrf-2026-000189"}},
		{"no match", cases.QueueParams{Q: "Phạm"}, nil},
	}
	for _, tt := range tests {
		// Both ways of finding a search's page give the same answer: the candidates the
		// full-text index proposes, and the walk over the queue's index (which a search
		// with too many candidates, or none usable, takes).
		for _, route := range []string{"index", "walk"} {
			t.Run(tt.name+"/"+route, func(t *testing.T) {
				mod := func(f cases.QueueFilter) cases.QueueFilter { return f }
				if route == "walk" {
					mod = cases.QueueFilter.ForceWalk
				}
				got := e.refsWith(tt.p, e.ana, 50, mod)
				slices.Sort(got)
				want := slices.Clone(tt.want)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("got %q, want %q", got, want)
				}
				f := mod(e.filter(tt.p, e.ana))
				counts, err := e.store.QueueCounts(e.ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				few, _, err := e.store.SearchCandidates(f)
				switch {
				case err != nil:
					t.Fatal(err)
				case counts == nil && (few || tt.p.Q == ""):
					t.Errorf("not counted, though the search has few candidates (or there is none)")
				case counts != nil && counts[cases.QueueUnassigned] != len(tt.want):
					t.Errorf("unassigned count %d, want %d", counts[cases.QueueUnassigned], len(tt.want))
				}
			})
		}
	}
}

func TestQueuePagination(t *testing.T) {
	e := newQueueEnv(t)
	const n = 250
	var want, decided []string
	for i := range n {
		ref := fmt.Sprintf("vrf-%04d", i)
		caseID := e.seed(e.src, ref, "Khách hàng", "", cases.RiskLow)
		// Groups of ten share an SLA due time (and a decision time), so the id breaks ties.
		e.exec(`UPDATE cases SET sla_due = ? WHERE id = ?`, db.Millis(e.now.Add(time.Duration(n-i/10)*time.Minute)), caseID)
		if i%5 == 0 {
			e.set(caseID, cases.StatusApproved, 0)
			e.exec(`UPDATE cases SET decided_at = ? WHERE id = ?`, db.Millis(e.now.Add(time.Duration(i/10)*time.Second)), caseID)
			decided = append(decided, ref)
		} else {
			want = append(want, ref)
		}
	}
	for _, size := range []int{1, 7, 50, 300} {
		t.Run(fmt.Sprint("open/", size), func(t *testing.T) {
			got := e.refs(cases.QueueParams{}, e.ana, size)
			if len(got) != len(want) {
				t.Fatalf("%d cases listed, want %d", len(got), len(want))
			}
			assertSameSet(t, got, want)
		})
		t.Run(fmt.Sprint("decided/", size), func(t *testing.T) {
			got := e.refs(cases.QueueParams{Queue: cases.QueueDecided}, e.ana, size)
			assertSameSet(t, got, decided)
		})
		// A search pages through its candidates the same way.
		t.Run(fmt.Sprint("search/", size), func(t *testing.T) {
			if few, _, err := e.store.SearchCandidates(e.filter(cases.QueueParams{Q: "khách"}, e.ana)); err != nil || !few {
				t.Fatalf("search does not read its candidates: %v %v", few, err)
			}
			assertSameSet(t, e.refs(cases.QueueParams{Q: "khách"}, e.ana, size), want)
			assertSameSet(t, e.refs(cases.QueueParams{Queue: cases.QueueDecided, Q: "khách"}, e.ana, size), decided)
		})
	}
	// Order: SLA due ascending; decided: decision time descending.
	page, err := e.store.ListQueue(e.ctx, e.filter(cases.QueueParams{}, e.ana), 300)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(page.Items); i++ {
		a, b := page.Items[i-1], page.Items[i]
		if a.SLADue.After(b.SLADue) || a.SLADue.Equal(b.SLADue) && a.ID >= b.ID {
			t.Fatalf("rows %d and %d out of order: %s/%s then %s/%s", i-1, i, a.SLADue, a.ID, b.SLADue, b.ID)
		}
	}
	page, err = e.store.ListQueue(e.ctx, e.filter(cases.QueueParams{Queue: cases.QueueDecided}, e.ana), 300)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(page.Items); i++ {
		a, b := page.Items[i-1], page.Items[i]
		if a.DecidedAt.Before(b.DecidedAt) || a.DecidedAt.Equal(b.DecidedAt) && a.ID <= b.ID {
			t.Fatalf("decided rows %d and %d out of order", i-1, i)
		}
	}
}

func assertSameSet(t *testing.T, got, want []string) {
	t.Helper()
	seen := map[string]int{}
	for _, r := range got {
		seen[r]++
		if seen[r] > 1 {
			t.Errorf("%s listed twice", r)
		}
	}
	for _, r := range want {
		if seen[r] == 0 {
			t.Errorf("%s missing", r)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d listed, want %d", len(got), len(want))
	}
}

func TestQueueBadParameters(t *testing.T) {
	e := newQueueEnv(t)
	for i := range 3 {
		e.seed(e.src, fmt.Sprint("ref-", i), "A", "", cases.RiskLow)
	}
	page, err := e.store.ListQueue(e.ctx, e.filter(cases.QueueParams{}, e.ana), 1)
	if err != nil || page.Next == "" {
		t.Fatalf("first page: %+v %v", page, err)
	}
	tampered := []byte(page.Next)
	tampered[len(tampered)/2] ^= 1
	tests := []struct {
		p     cases.QueueParams
		param string
	}{
		{cases.QueueParams{Queue: "all"}, "queue"},
		{cases.QueueParams{Queue: "Unassigned"}, "queue"},
		{cases.QueueParams{Risk: "critical"}, "risk"},
		{cases.QueueParams{Risk: "HIGH"}, "risk"},
		{cases.QueueParams{Provider: "onfido"}, "provider"},
		{cases.QueueParams{Q: strings.Repeat("a", cases.MaxSearchRunes+1)}, "q"},
		{cases.QueueParams{Q: "a b c d e f g"}, "q"},
		{cases.QueueParams{Q: "\xff"}, "q"},
		{cases.QueueParams{After: "not-a-cursor"}, "after"},
		{cases.QueueParams{After: string(tampered)}, "after"},
		{cases.QueueParams{After: page.Next, Queue: cases.QueueDecided}, "after"},
	}
	for _, tt := range tests {
		t.Run(tt.param+"="+tt.p.Queue+tt.p.Risk+tt.p.Provider+tt.p.After, func(t *testing.T) {
			_, err := e.store.ParseQueueFilter(tt.p, e.ana)
			var de *errs.Error
			if !errors.As(err, &de) || de.Code != errs.Invalid || !strings.HasPrefix(de.Message, tt.param+":") {
				t.Errorf("err = %v, want Invalid naming %q", err, tt.param)
			}
		})
	}
	if got := e.refs(cases.QueueParams{Q: "  ", Risk: "", Provider: ""}, e.ana, 10); len(got) != 3 {
		t.Errorf("empty values must mean no filter: %q", got)
	}
}

// TestQueuePlans holds every queue page and the tab counts to an index: SQLite must read a
// range of an index in the page's order, never scan the cases table nor sort in a temp b-tree.
func TestQueuePlans(t *testing.T) {
	e := newQueueEnv(t)
	// Two cases in each queue, so that every queue's first page has a Next to follow:
	// without one, the deep-page variants below would plan the first page again.
	inQueue := map[string]struct {
		status   string
		assignee int64
	}{
		cases.QueueUnassigned: {cases.StatusNew, 0}, cases.QueueMine: {cases.StatusInReview, e.ana},
		cases.QueueEscalated: {cases.StatusEscalated, e.leo}, cases.QueuePendingInfo: {cases.StatusPendingInfo, e.leo},
		cases.QueueSecondApproval: {cases.StatusAwaitingSecondApproval, e.leo}, cases.QueueDecided: {cases.StatusApproved, e.ana},
	}
	deep := map[string]string{}
	for _, q := range cases.Queues {
		for i := range 2 {
			e.set(e.seed(e.src, fmt.Sprintf("vrf-%s-%d", q, i), "Nguyễn Trần", "", cases.RiskHigh), inQueue[q].status, inQueue[q].assignee)
		}
		page, err := e.store.ListQueue(e.ctx, e.filter(cases.QueueParams{Queue: q}, e.ana), 1)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next == "" {
			t.Fatalf("%s: no page position to follow", q)
		}
		deep[q] = page.Next
	}
	usesIndex := regexp.MustCompile(`^(SEARCH|SCAN) c USING (COVERING )?INDEX (\w+)`)
	check := func(t *testing.T, q string, args []any, wantIndex string) {
		t.Helper()
		plan := testkit.QueryPlan(t, e.db, q, args...)
		joined := strings.Join(plan, " | ")
		var indexes []string
		for _, line := range plan {
			switch {
			case strings.Contains(line, "TEMP B-TREE"):
				t.Errorf("sorts in a temp b-tree: %s", joined)
			case strings.HasPrefix(line, "SCAN c") && !usesIndex.MatchString(line):
				t.Errorf("scans the cases table: %s", joined)
			}
			if m := usesIndex.FindStringSubmatch(line); m != nil {
				indexes = append(indexes, m[3])
			}
		}
		if wantIndex != "" && !slices.Contains(indexes, wantIndex) {
			t.Errorf("plan does not use %s: %s", wantIndex, joined)
		}
	}
	// Each queue x filter combination has its own index (00003, 00009): read in order, the
	// range holds only matching rows, so a deep page is a seek, not a walk.
	wantIndex := func(q, risk, provider string) string {
		family := map[string][4]string{
			cases.QueueMine:    {"cases_open_assignee_due", "cases_mine_risk_due", "cases_mine_provider_due", "cases_mine_risk_provider_due"},
			cases.QueueDecided: {"cases_decided", "cases_decided_risk", "cases_decided_provider", "cases_decided_risk_provider"},
			"open":             {"cases_status_due", "cases_open_risk_due", "cases_open_provider_due", "cases_open_risk_provider_due"},
		}
		f, ok := family[q]
		if !ok {
			f = family["open"]
		}
		if q == cases.QueueUnassigned {
			f[0] = "cases_unassigned_due" // the queue alone (00016)
		}
		i := 0
		if risk != "" {
			i++
		}
		if provider != "" {
			i += 2
		}
		return f[i]
	}
	// A query over a search's candidates looks each up by rowid: never a scan of cases.
	checkCandidates := func(t *testing.T, q string, args []any) {
		t.Helper()
		plan := testkit.QueryPlan(t, e.db, q, args...)
		joined := strings.Join(plan, " | ")
		if !strings.Contains(joined, "SEARCH c USING INTEGER PRIMARY KEY (rowid=?)") || !strings.HasPrefix(joined, "SCAN j") {
			t.Errorf("candidates are not looked up by rowid: %s", joined)
		}
		for _, line := range plan {
			if strings.HasPrefix(line, "SCAN c") {
				t.Errorf("scans the cases table: %s", joined)
			}
		}
	}
	// A search whose words are too short for the full-text index walks the queue's index
	// like a plain page; a longer one reads its candidates (few, here) instead.
	few, cand, err := e.store.SearchCandidates(e.filter(cases.QueueParams{Q: "nguyễn"}, e.ana))
	if err != nil || !few || cand == "[]" {
		t.Fatalf("search candidates: few %v, %s, %v", few, cand, err)
	}
	for _, q := range cases.Queues {
		after := deep[q]
		for _, risk := range append([]string{""}, cases.RiskLevels...) {
			for _, provider := range append([]string{""}, cases.Providers...) {
				for _, search := range []string{"", "ng"} {
					for _, pos := range []string{"", after} {
						p := cases.QueueParams{Queue: q, Risk: risk, Provider: provider, Q: search, After: pos}
						name := fmt.Sprintf("%s/risk=%s/provider=%s/q=%s/deep=%v", q, risk, provider, search, pos != "")
						t.Run(name, func(t *testing.T) {
							f := e.filter(p, e.ana)
							sql, args := f.QueueSQL(51)
							check(t, sql, args, wantIndex(q, risk, provider))
							if search != "" {
								// The bounded walk of a search reads the same range, from the
								// index alone: each case it checks is looked up in case_text,
								// never in cases.
								for _, walk := range []func() (string, []any){func() (string, []any) { return f.WalkPageSQL(51) }, f.WalkEndSQL} {
									sql, args = walk()
									check(t, sql, args, wantIndex(q, risk, provider))
									for _, line := range testkit.QueryPlan(t, e.db, sql, args...) {
										if strings.HasPrefix(line, "SEARCH c") || strings.HasPrefix(line, "SCAN c") {
											if !strings.Contains(line, "USING COVERING INDEX") {
												t.Errorf("the walk reads rows of cases: %s", line)
											}
										}
									}
								}
							}
							// The same page over the search's candidates: rowid lookups of at
							// most SearchCountLimit cases, then a sort of those.
							sql, args = f.CandidateSQL(cand, 51)
							checkCandidates(t, sql, args)
						})
					}
				}
			}
		}
	}
	t.Run("counts", func(t *testing.T) {
		for _, risk := range append([]string{""}, cases.RiskLevels...) {
			for _, provider := range append([]string{""}, cases.Providers...) {
				f := e.filter(cases.QueueParams{Risk: risk, Provider: provider, Q: "nguyễn"}, e.ana)
				sql, args := f.TallySQL()
				plan := strings.Join(testkit.QueryPlan(t, e.db, sql, args...), " | ")
				if strings.Contains(plan, " cases") || !strings.Contains(plan, "SEARCH queue_tallies USING PRIMARY KEY") ||
					strings.Contains(plan, "SCAN queue_tallies") {
					t.Errorf("tally count of risk=%s provider=%s: %s", risk, provider, plan)
				}
				sql, args = f.CandidateCountSQL(cand)
				checkCandidates(t, sql, args)
			}
		}
		plan := strings.Join(testkit.QueryPlan(t, e.db, `SELECT docid FROM case_search WHERE case_search MATCH ? LIMIT ?`,
			`"nguyen*"`, 2001), " | ")
		if !strings.Contains(plan, "VIRTUAL TABLE INDEX 3:") {
			t.Errorf("search candidates do not use the full-text index: %s", plan)
		}
	})
	// The in-memory index (memsearch.go) answers pages with two queries per request: the
	// cases changed since it last looked, a range of cases_change in its order, and the
	// names of the page's users and integrations, by primary key.
	t.Run("memory index", func(t *testing.T) {
		plan := strings.Join(testkit.QueryPlan(t, e.db, cases.CatchUpSQL, 0), " | ")
		if !strings.Contains(plan, "SEARCH c USING INDEX cases_change (change_seq>?)") || strings.Contains(plan, "TEMP B-TREE") ||
			strings.Contains(plan, "SCAN c") {
			t.Errorf("catch-up: %s", plan)
		}
		plan = strings.Join(testkit.QueryPlan(t, e.db, cases.QueueNamesSQL, "[1,2]", `["a"]`), " | ")
		if !strings.Contains(plan, "SEARCH users USING INTEGER PRIMARY KEY") || !strings.Contains(plan, "SEARCH integrations USING") ||
			strings.Contains(plan, "SCAN users") || strings.Contains(plan, "SCAN integrations") || strings.Contains(plan, "cases") {
			t.Errorf("names: %s", plan)
		}
	})
}

// TestQueueTallies holds the tallies kept by 00009's triggers to COUNT(*) of each queue's
// condition, under every filter, through inserts, review moves, reassignment, a change of
// risk and provider, and deletes.
func TestQueueTallies(t *testing.T) {
	e := newQueueEnv(t)
	statuses := []string{cases.StatusNew, cases.StatusInReview, cases.StatusPendingInfo, cases.StatusEscalated,
		cases.StatusAwaitingSecondApproval, cases.StatusApproved, cases.StatusRejected}
	var ids []string
	for i := range 60 {
		src := e.src
		if i%2 == 1 {
			src = e.fpt
		}
		ids = append(ids, e.seed(src, fmt.Sprint("t-", i), "Tên", "", cases.RiskLevels[i%3]))
	}
	compare := func(step string) {
		t.Helper()
		for _, user := range []int64{e.ana, e.leo} {
			for _, risk := range append([]string{""}, cases.RiskLevels...) {
				for _, provider := range append([]string{""}, cases.Providers...) {
					f := e.filter(cases.QueueParams{Risk: risk, Provider: provider}, user)
					got, err := e.store.QueueCounts(e.ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, q := range cases.Queues {
						g := f
						g.Queue = q
						where, args := g.Where()
						var want int
						if err := e.db.Read.QueryRow(`SELECT COUNT(*) FROM cases c WHERE `+where, args...).Scan(&want); err != nil {
							t.Fatal(err)
						}
						if got[q] != want {
							t.Errorf("%s: user %d risk=%s provider=%s: %s tally %d, COUNT(*) %d", step, user, risk, provider, q, got[q], want)
						}
					}
				}
			}
		}
	}
	compare("inserted")
	for i, caseID := range ids {
		assignee := []int64{0, e.ana, e.leo}[i%3]
		e.set(caseID, statuses[i%len(statuses)], assignee)
	}
	compare("moved")
	for i, caseID := range ids[:20] {
		e.exec(`UPDATE cases SET assignee_id = ?, risk_level = ?, provider = ? WHERE id = ?`,
			[]any{nil, e.leo}[i%2], cases.RiskLevels[(i+1)%3], cases.Providers[i%3], caseID)
	}
	compare("reassigned")
	e.exec(`UPDATE cases SET updated_at = updated_at + 1`) // no key changes: nothing moves
	compare("touched")
	for _, caseID := range ids[40:] {
		e.exec(`DELETE FROM case_events WHERE case_id = ?`, caseID)
		e.exec(`DELETE FROM case_checks WHERE case_id = ?`, caseID)
		e.exec(`DELETE FROM case_documents WHERE case_id = ?`, caseID)
		e.exec(`DELETE FROM case_api_parts WHERE case_id = ?`, caseID)
		e.exec(`DELETE FROM cases WHERE id = ?`, caseID)
	}
	compare("deleted")
}

// BenchmarkQueuePages times the queue page queries on 50,000 cases (a seventh of them in
// each status): go test -run '^$' -bench QueuePages ./internal/cases/
func BenchmarkQueuePages(b *testing.B) {
	ctx := context.Background()
	d, sealer := testkit.Store(b)
	if _, err := caseapitest.Seed(ctx, d, 50_000, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Minute, "vrf-"); err != nil {
		b.Fatal(err)
	}
	store := &cases.Store{DB: d, Sealer: sealer}
	filter := func(p cases.QueueParams) cases.QueueFilter {
		f, err := store.ParseQueueFilter(p, 1)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	// A cursor deep into each list: the 20th page.
	deep := func(queue string) string {
		f := filter(cases.QueueParams{Queue: queue})
		var next string
		for range 20 {
			page, err := store.ListQueue(ctx, f, 50)
			if err != nil {
				b.Fatal(err)
			}
			next = page.Next
			f = filter(cases.QueueParams{Queue: queue, After: next})
		}
		return next
	}
	pages := map[string]cases.QueueParams{
		"unassigned/first":      {},
		"unassigned/page20":     {After: deep(cases.QueueUnassigned)},
		"decided/first":         {Queue: cases.QueueDecided},
		"decided/page20":        {Queue: cases.QueueDecided, After: deep(cases.QueueDecided)},
		"unassigned/risk+prov":  {Risk: "high", Provider: "fptai"},
		"unassigned/q-matches":  {Q: "hương"},
		"unassigned/q-no-match": {Q: "zzz"}, // reads the whole queue
	}
	for name, p := range pages {
		f := filter(p)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if _, err := store.ListQueue(ctx, f, 50); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("counts", func(b *testing.B) {
		f := filter(cases.QueueParams{})
		for b.Loop() {
			if _, err := store.QueueCounts(ctx, f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
