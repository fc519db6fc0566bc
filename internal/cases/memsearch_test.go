package cases_test

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
)

// memSearchEnv is a queue env whose cases have names drawn from a small pool (so that
// searches match many), several cases per SLA millisecond (ties broken by id), every
// status, two assignees, three risks and two providers; memStore answers searches from
// an in-memory index, e.store from SQLite alone.
type memSearchEnv struct {
	*queueEnv
	rng      *rand.Rand
	memStore *cases.Store
	ids      []string
}

var (
	memFamily = []string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Đặng", "Võ"}
	memMiddle = []string{"Thị", "Văn", "Thu", "Minh", "Đức", "Hữu", ""}
	memGiven  = []string{"Hương", "Hướng", "Hường", "Dũng", "Yến", "Anh", "Ánh", "Đức", "Trang", "Thảo", "Khánh Linh"}
)

func newMemSearchEnv(t *testing.T, n int) *memSearchEnv {
	e := &memSearchEnv{queueEnv: newQueueEnv(t), rng: rand.New(rand.NewPCG(11, 12))}
	e.memStore = &cases.Store{DB: e.db, Sealer: e.store.Sealer, Now: e.store.Now, Routing: e.store.Routing,
		Search: cases.NewSearchIndex(e.db)}
	for range n {
		e.add()
	}
	return e
}

func (e *memSearchEnv) name() string {
	parts := []string{memFamily[e.rng.IntN(len(memFamily))], memMiddle[e.rng.IntN(len(memMiddle))], memGiven[e.rng.IntN(len(memGiven))]}
	return joinFields(parts)
}

func joinFields(p []string) string {
	out := ""
	for _, s := range p {
		if s != "" {
			if out != "" {
				out += " "
			}
			out += s
		}
	}
	return out
}

// add opens a case with a random name, source, risk, review state and SLA.
func (e *memSearchEnv) add() string {
	i := len(e.ids)
	src := e.src
	if i%3 == 1 {
		src = e.fpt
	}
	caseID := e.seed(src, fmt.Sprintf("vrf-%05d", i), e.name(), fmt.Sprintf("CUST-%d", 1000+i*7), cases.RiskLevels[e.rng.IntN(3)])
	e.ids = append(e.ids, caseID)
	e.mutate(caseID)
	return caseID
}

// mutate gives caseID a random review state and SLA (a few SLA values only, so that
// many cases tie on it and on the decision time).
func (e *memSearchEnv) mutate(caseID string) {
	statuses := []string{cases.StatusNew, cases.StatusNew, cases.StatusInReview, cases.StatusPendingInfo, cases.StatusEscalated,
		cases.StatusAwaitingSecondApproval, cases.StatusApproved, cases.StatusRejected}
	status := statuses[e.rng.IntN(len(statuses))]
	var assignee int64
	switch e.rng.IntN(3) {
	case 1:
		assignee = e.ana
	case 2:
		assignee = e.leo
	}
	e.set(caseID, status, assignee)
	e.exec(`UPDATE cases SET sla_due = ?, risk_derived = ?, four_eyes = ?, round = ?, updated_at = ? WHERE id = ?`,
		db.Millis(e.now.Add(time.Duration(e.rng.IntN(40))*time.Minute)), e.rng.IntN(2), e.rng.IntN(2), 1+e.rng.IntN(3),
		db.Millis(e.now.Add(time.Duration(e.rng.IntN(1000))*time.Millisecond)), caseID)
	if cases.Decided(status) {
		e.exec(`UPDATE cases SET decided_at = ? WHERE id = ?`, db.Millis(e.now.Add(-time.Duration(e.rng.IntN(30))*time.Second)), caseID)
	}
}

// memSearches are searches of every kind: none (a plain page), marked and unmarked words,
// parts of words, two words, words of two runes (a bigram), a word of one rune (searched
// in SQLite), a reference, an external id, one that matches nothing.
var memSearches = []string{"", "Hương", "huong", "HƯƠNG", "ương", "Nguyễn Thị", "nguyen van", "Lê Hường", "Đức",
	"duc", "anh", "Ánh", "Lê", "Võ", "an", "a", "Khánh Linh", "vrf-0001", "vrf-00042", "CUST-10", "cust-1007", "Trần Yến", "zzz", "Thị Dũng"}

// compare lists every page of each queue under each search and filter with both stores
// and fails on any difference of cases, order or count. The counts of the in-memory
// store must be those of its own listing (SQLite's are often not counted).
func (e *memSearchEnv) compare(t *testing.T, pageSize int) {
	t.Helper()
	mem := 0
	for _, q := range memSearches {
		for _, risk := range []string{"", cases.RiskHigh} {
			for _, provider := range []string{"", "fptai"} {
				listed := map[string]int{}
				for _, queue := range cases.Queues {
					for _, user := range []int64{e.ana, e.leo} {
						if queue != cases.QueueMine && user == e.leo {
							continue
						}
						p := cases.QueueParams{Queue: queue, Q: q, Risk: risk, Provider: provider}
						want := e.items(e.store, p, user, 1000)
						got, inMem := e.memItems(p, user, pageSize)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("%+v as %d: from memory %v\nfrom SQLite %v", p, user, refsOf(got), refsOf(want))
						}
						if inMem {
							mem++
						}
						if user == e.ana {
							listed[queue] = len(want)
						}
					}
				}
				f := e.filter(cases.QueueParams{Q: q, Risk: risk, Provider: provider}, e.ana)
				counts, err := e.memStore.QueueCounts(e.ctx, f)
				if err != nil {
					t.Fatal(err)
				}
				if (q == "" || f.SearchedInMemory()) && !mapsEqual(counts, listed) {
					t.Fatalf("q=%q risk=%q provider=%q: counts %v, listed %v", q, risk, provider, counts, listed)
				}
			}
		}
	}
	if mem == 0 {
		t.Fatal("no search was answered from memory")
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func refsOf(items []cases.QueueItem) []string {
	var refs []string
	for _, it := range items {
		refs = append(refs, it.Reference)
	}
	return refs
}

// items lists every page of p from store (SQLite alone: a search walks the queue).
func (e *memSearchEnv) items(store *cases.Store, p cases.QueueParams, user int64, pageSize int) []cases.QueueItem {
	e.t.Helper()
	var out []cases.QueueItem
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatal("paging does not end")
		}
		page, err := store.ListQueue(e.ctx, e.filter(p, user).ForceWalk(), pageSize)
		if err != nil {
			e.t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.Next == "" {
			return out
		}
		p.After = page.Next
	}
}

// memItems lists every page of p with the in-memory store, and reports whether its
// search was answered from memory.
func (e *memSearchEnv) memItems(p cases.QueueParams, user int64, pageSize int) (items []cases.QueueItem, inMem bool) {
	e.t.Helper()
	for pages := 0; ; pages++ {
		if pages > 1000 {
			e.t.Fatal("paging does not end")
		}
		f := e.filter(p, user)
		page, err := e.memStore.ListQueue(e.ctx, f, pageSize)
		if err != nil {
			e.t.Fatal(err)
		}
		if len(page.Items) > pageSize || page.Partial || (page.Next != "" && len(page.Items) != pageSize) {
			e.t.Fatalf("%+v: page of %d rows (limit %d), partial %v, next %q", p, len(page.Items), pageSize, page.Partial, page.Next)
		}
		inMem = f.SearchedInMemory()
		items = append(items, page.Items...)
		if page.Next == "" {
			return items, inMem
		}
		p.After = page.Next
	}
}

// TestSearchIndexAgreesWithSQLite: every queue page listed from memory, with or without a
// search, holds the same cases in the same order, with the same fields, as SQLite's,
// page after page, and a search counts exactly what it lists; then, after renames,
// moves between queues, new cases and renamed reviewers and integrations, it still does
// (the index catches up with the cases table on each request).
func TestSearchIndexAgreesWithSQLite(t *testing.T) {
	for _, remember := range []bool{false, true} {
		t.Run(map[bool]string{false: "checking texts", true: "remembering words"}[remember], func(t *testing.T) {
			if remember {
				defer cases.SetMemLimits(20_000, 1, 100_000)() // every word's exact set, kept by each change
			}
			testSearchIndexAgrees(t)
		})
	}
}

func testSearchIndexAgrees(t *testing.T) {
	e := newMemSearchEnv(t, 400)
	e.compare(t, 7)
	if !e.memStore.Search.Ready() || e.memStore.Search.Cases() != 400 {
		t.Fatalf("index ready %v with %d cases, want 400", e.memStore.Search.Ready(), e.memStore.Search.Cases())
	}
	for i, caseID := range e.ids {
		switch i % 5 {
		case 0:
			e.mutate(caseID)
		case 1:
			e.exec(`UPDATE cases SET full_name = ? WHERE id = ?`, e.name(), caseID)
		}
	}
	for range 60 {
		e.add()
	}
	// A reviewer renamed and an integration renamed: their names show at once.
	e.exec(`UPDATE users SET name = 'Ana Trần', email = 'ana.tran@example.com' WHERE id = ?`, e.ana)
	e.exec(`UPDATE integrations SET name = 'acme-fptai-2' WHERE id = ?`, e.fpt.IntegrationID)
	e.compare(t, 5)
	if n := e.memStore.Search.Cases(); n != 460 {
		t.Fatalf("index holds %d cases, want 460", n)
	}
}

// TestSearchIndexSeesEveryCommittedCase: a case committed before a search began is in its
// page and its counts, however recently, and a case that left the queue is not.
func TestSearchIndexSeesEveryCommittedCase(t *testing.T) {
	defer cases.SetMemLimits(20_000, 1, 100_000)() // the words' exact sets are remembered, and kept
	e := newMemSearchEnv(t, 30)
	search := func() ([]string, map[string]int) {
		t.Helper()
		f := e.filter(cases.QueueParams{Queue: cases.QueueUnassigned, Q: "Phùng Quang"}, e.ana)
		page, err := e.memStore.ListQueue(e.ctx, f, 50)
		if err != nil {
			t.Fatal(err)
		}
		counts, err := e.memStore.QueueCounts(e.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		if !f.SearchedInMemory() {
			t.Fatal("the search was not answered from memory")
		}
		var refs []string
		for _, it := range page.Items {
			refs = append(refs, it.Reference)
		}
		return refs, counts
	}
	if refs, counts := search(); len(refs) != 0 || counts[cases.QueueUnassigned] != 0 {
		t.Fatalf("before: %v, counts %v", refs, counts)
	}
	caseID := e.seed(e.src, "vrf-new", "Phùng Quang Vinh", "", cases.RiskLow)
	if refs, counts := search(); !slices.Equal(refs, []string{"vrf-new"}) || counts[cases.QueueUnassigned] != 1 {
		t.Fatalf("after the case was opened: %v, counts %v", refs, counts)
	}
	e.set(caseID, cases.StatusEscalated, 0)
	if refs, counts := search(); len(refs) != 0 || counts[cases.QueueUnassigned] != 0 || counts[cases.QueueEscalated] != 1 {
		t.Fatalf("after it was escalated: %v, counts %v", refs, counts)
	}
	e.exec(`UPDATE cases SET full_name = 'Phan Quang Vinh', status = 'new' WHERE id = ?`, caseID)
	if refs, counts := search(); len(refs) != 0 || counts[cases.QueueUnassigned] != 0 {
		t.Fatalf("after it was renamed: %v, counts %v", refs, counts)
	}
}

// TestSearchIndexCountsUpToItsLimit: a search with more possible matches than the index
// checks for counts, of words too common to remember, is listed but not counted, unless
// its words are exact grams.
func TestSearchIndexCountsUpToItsLimit(t *testing.T) {
	e := newMemSearchEnv(t, 120)
	defer cases.SetMemLimits(10, 1, 10)()
	count := func(q string) map[string]int {
		t.Helper()
		f := e.filter(cases.QueueParams{Q: q}, e.ana)
		counts, err := e.memStore.QueueCounts(e.ctx, f)
		if err != nil || !f.SearchedInMemory() {
			t.Fatalf("q=%q: %v, from memory %v", q, err, f.SearchedInMemory())
		}
		return counts
	}
	if c := count("Nguyễn"); c != nil {
		t.Errorf("Nguyễn counted %v past the limit", c)
	}
	// "vrf" is a trigram of every reference, unmarked: its candidates are its matches,
	// counted without a check.
	c := count("vrf")
	for _, q := range cases.Queues {
		p := cases.QueueParams{Queue: q, Q: "vrf"}
		if n := len(e.refsWith(p, e.ana, 1000, func(f cases.QueueFilter) cases.QueueFilter { return f.ForceWalk() })); c == nil || c[q] != n {
			t.Errorf("vrf: %s counted %v, lists %d", q, c, n)
		}
	}
}

// TestSearchIndexUnderConcurrentWrites: searches and pages run while cases are opened,
// moved and renamed (go test -race checks the index's locking); once the writes stop,
// every page agrees with SQLite again.
func TestSearchIndexUnderConcurrentWrites(t *testing.T) {
	e := newMemSearchEnv(t, 150)
	stop := make(chan struct{})
	errc := make(chan error, 8)
	for g := range 6 {
		go func() {
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			for {
				select {
				case <-stop:
					errc <- nil
					return
				default:
				}
				f, err := e.memStore.ParseQueueFilter(cases.QueueParams{Queue: cases.Queues[rng.IntN(len(cases.Queues))],
					Q: memSearches[rng.IntN(len(memSearches))]}, e.ana)
				if err == nil {
					_, err = e.memStore.ListQueue(e.ctx, f, 5)
				}
				if err == nil {
					_, err = e.memStore.QueueCounts(e.ctx, f)
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for i := range 80 {
		caseID := e.add()
		if i%3 == 0 {
			e.exec(`UPDATE cases SET full_name = ? WHERE id = ?`, e.name(), e.ids[e.rng.IntN(len(e.ids))])
		}
		e.mutate(caseID)
	}
	close(stop)
	for range 6 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	e.compare(t, 9)
}
