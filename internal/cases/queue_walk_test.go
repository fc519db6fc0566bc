package cases_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
)

// TestQueueSearchWalkIsBounded: a search that walks the queue checks at most maxSearchWalk
// cases per request. A walk that finds fewer than a page of matches in them returns those
// found, marked Partial, with a Next that continues after the last case checked: paging to
// the end lists exactly the cases, in the same order, of an unbounded walk.
func TestQueueSearchWalkIsBounded(t *testing.T) {
	e := newQueueEnv(t)
	const n = 250
	for i := range n {
		name := "Khách hàng"
		if i%9 == 0 {
			name = "Hoàng Yến"
		} else if i%4 == 0 {
			name = "Nguyễn Hoàng"
		}
		caseID := e.seed(e.src, fmt.Sprintf("vrf-%04d", i), name, "", cases.RiskLow)
		e.exec(`UPDATE cases SET sla_due = ? WHERE id = ?`, db.Millis(e.now.Add(time.Duration(n-i/10)*time.Minute)), caseID)
		if i%5 == 0 {
			e.set(caseID, cases.StatusApproved, 0)
			e.exec(`UPDATE cases SET decided_at = ? WHERE id = ?`, db.Millis(e.now.Add(time.Duration(i/10)*time.Second)), caseID)
		}
	}
	// pages lists the search's pages, walking the queue, with at most walk cases per request.
	pages := func(p cases.QueueParams, size, walk int) (refs []string, partial int) {
		t.Helper()
		defer cases.SetSearchWalk(walk)()
		for range 1000 {
			page, err := e.store.ListQueue(e.ctx, e.filter(p, e.ana).ForceWalk(), size)
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) > size || page.Partial && (len(page.Items) >= size || page.Next == "") {
				t.Fatalf("page of %d (limit %d), partial %v, next %q", len(page.Items), size, page.Partial, page.Next)
			}
			if page.Partial {
				partial++
			}
			for _, it := range page.Items {
				refs = append(refs, it.Reference)
			}
			if page.Next == "" {
				return refs, partial
			}
			p.After = page.Next
		}
		t.Fatal("paging does not end")
		return nil, 0
	}
	for _, q := range []string{cases.QueueUnassigned, cases.QueueDecided} {
		p := cases.QueueParams{Queue: q, Q: "Hoàng Yến"}
		want, partial := pages(p, 7, 100000)
		if partial != 0 || len(want) == 0 {
			t.Fatalf("%s: unbounded walk: %d matches, %d partial pages", q, len(want), partial)
		}
		for _, walk := range []int{1, 5, 20} {
			for _, size := range []int{1, 3, 50} {
				got, partial := pages(p, size, walk)
				if !slices.Equal(got, want) {
					t.Errorf("%s walk %d size %d: got %q, want %q", q, walk, size, got, want)
				}
				if partial == 0 && size > walk {
					t.Errorf("%s walk %d size %d: no page stopped at the bound", q, walk, size)
				}
			}
		}
	}
}

// TestRareSearchesTakeNoSlot: a search for a term held by a handful of cases (a reference)
// answers while every search slot is held by costly searches; a search that must walk the
// queue waits for a slot.
func TestRareSearchesTakeNoSlot(t *testing.T) {
	e := newQueueEnv(t)
	for i := range 300 {
		e.seed(e.src, fmt.Sprintf("vrf-2026-%04d", i), "Nguyễn Văn An", "", cases.RiskLow)
	}
	release := cases.HoldSearchSlots()
	defer release()
	ctx, cancel := context.WithTimeout(e.ctx, 2*time.Second)
	defer cancel()
	page, err := e.store.ListQueue(ctx, e.filter(cases.QueueParams{Queue: cases.QueueUnassigned, Q: "vrf-2026-0042"}, e.ana), 50)
	if err != nil || len(page.Items) != 1 || page.Items[0].Reference != "vrf-2026-0042" {
		t.Fatalf("rare search with the slots held: %v, %d items", err, len(page.Items))
	}
	if _, err := e.store.QueueCounts(ctx, e.filter(cases.QueueParams{Queue: cases.QueueUnassigned, Q: "vrf-2026-0042"}, e.ana)); err != nil {
		t.Fatalf("rare search's counts with the slots held: %v", err)
	}
	short, stop := context.WithTimeout(e.ctx, 200*time.Millisecond)
	defer stop()
	if _, err := e.store.ListQueue(short, e.filter(cases.QueueParams{Queue: cases.QueueUnassigned, Q: "Nguyễn"}, e.ana), 50); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a common word's search with the slots held: %v, want it to wait for a slot", err)
	}
}

// TestSearchFindsCasesBeforeTheirTermsMove: a new case's search terms wait in
// case_search_queue until its write transaction moves them into the full-text index (db.Tx,
// migration 00015). A case written outside such a transaction is found all the same, under
// its new name once renamed, and the next transaction moves its terms.
func TestSearchFindsCasesBeforeTheirTermsMove(t *testing.T) {
	e := newQueueEnv(t)
	e.seed(e.src, "vrf-flushed", "Nguyễn Văn An", "", cases.RiskLow)
	if n := e.count(`SELECT count(*) FROM case_search_queue`); n != 0 {
		t.Fatalf("after the store's transaction, %d terms wait in the queue", n)
	}
	if n := e.count(`SELECT count(*) FROM case_search WHERE case_search MATCH 'nguyen'`); n != 1 {
		t.Fatalf("the index holds %d cases for nguyen, want 1", n)
	}
	search := func(q string) []string {
		t.Helper()
		page, err := e.store.ListQueue(e.ctx, e.filter(cases.QueueParams{Queue: cases.QueueUnassigned, Q: q}, e.ana), 50)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, it := range page.Items {
			refs = append(refs, it.Reference)
		}
		slices.Sort(refs)
		return refs
	}
	// Written by a statement of its own: no db.Tx moves its terms.
	e.exec(`INSERT INTO cases (id, integration_id, provider, reference, status, result, risk_level, result_at,
		full_name, sla_due, created_at, updated_at) SELECT 'raw-1', integration_id, provider, 'vrf-raw', 'new', 'review',
		'low', result_at, 'Phùng Thị Xuân', sla_due, created_at, updated_at FROM cases WHERE reference = 'vrf-flushed'`)
	if n := e.count(`SELECT count(*) FROM case_search_queue`); n != 1 {
		t.Fatalf("%d terms wait in the queue, want 1", n)
	}
	if got := search("xuan"); !slices.Equal(got, []string{"vrf-raw"}) {
		t.Fatalf("search xuan = %v before the terms moved", got)
	}
	if got := search("vrf"); !slices.Equal(got, []string{"vrf-flushed", "vrf-raw"}) {
		t.Fatalf("search vrf = %v before the terms moved", got)
	}
	e.exec(`UPDATE cases SET full_name = 'Phùng Thị Thu' WHERE id = 'raw-1'`)
	if got := search("xuan"); len(got) != 0 {
		t.Fatalf("search xuan = %v after the rename", got)
	}
	e.seed(e.src, "vrf-next", "Lê Văn Bình", "", cases.RiskLow) // its transaction moves the queue
	if n := e.count(`SELECT count(*) FROM case_search_queue`); n != 0 {
		t.Fatalf("after the next transaction, %d terms wait in the queue", n)
	}
	if got := search("phung thu"); !slices.Equal(got, []string{"vrf-raw"}) {
		t.Fatalf("search phung thu = %v after the terms moved", got)
	}
	// A rename of an indexed case replaces its terms.
	e.exec(`UPDATE cases SET full_name = 'Trịnh Văn Bình' WHERE reference = 'vrf-next'`)
	e.seed(e.src, "vrf-last", "Đỗ Văn Cường", "", cases.RiskLow)
	if got := search("trinh"); !slices.Equal(got, []string{"vrf-next"}) {
		t.Fatalf("search trinh = %v after the rename", got)
	}
	if got := search("le van"); len(got) != 0 {
		t.Fatalf("search le van = %v after the rename", got)
	}
}

// TestRememberedCountsNeverHideACase: how many cases hold a common word is remembered for a
// minute (it only steers how a search runs); a case written since is found all the same,
// through the index and through the walk, and a word that has become common is still found.
func TestRememberedCountsNeverHideACase(t *testing.T) {
	e := newQueueEnv(t)
	for i := range 150 { // "nguyen" is then common: held by more than termProbe cases
		e.seed(e.src, fmt.Sprintf("vrf-old-%03d", i), "Nguyễn Văn Cũ", "", cases.RiskLow)
	}
	search := func(q string, mod func(cases.QueueFilter) cases.QueueFilter) []string {
		t.Helper()
		page, err := e.store.ListQueue(e.ctx, mod(e.filter(cases.QueueParams{Q: q}, e.ana)), 500)
		if err != nil {
			t.Fatal(err)
		}
		var refs []string
		for _, it := range page.Items {
			if it.FullName != "Nguyễn Văn Cũ" {
				refs = append(refs, it.Reference)
			}
		}
		return refs
	}
	same := func(f cases.QueueFilter) cases.QueueFilter { return f }
	if got := search("Nguyễn Thị Mới", same); len(got) != 0 {
		t.Fatalf("before: %v", got)
	}
	e.seed(e.src, "vrf-new", "Nguyễn Thị Mới", "", cases.RiskLow)
	for _, mod := range []func(cases.QueueFilter) cases.QueueFilter{same, cases.QueueFilter.ForceWalk} {
		if got := search("Nguyễn Thị Mới", mod); !slices.Equal(got, []string{"vrf-new"}) {
			t.Fatalf("after a case was written: %v", got)
		}
	}
	// "mới" was rare when first counted (never remembered); now common, still found.
	for i := range 120 {
		e.seed(e.src, fmt.Sprintf("vrf-moi-%03d", i), "Trần Mới", "", cases.RiskLow)
	}
	if got := search("mới", same); len(got) != 121 {
		t.Fatalf("a word become common: %d cases found, want 121", len(got))
	}
}
