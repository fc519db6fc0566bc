package cases_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
)

// BenchmarkQueueQueriesAtScale times one queue request's store work (search candidates,
// the page, the tab counts) on a data dir seeded by `kycdesk bench queues --data DIR`
// (a million cases), one request at a time:
// KYCDESK_BENCH_DATA=DIR go test -run '^$' -bench QueueQueriesAtScale -benchtime 20x ./internal/cases/
// Each request runs from SQLite alone (sqlite/...) and with the in-memory search index
// (memory/...; plain pages are the same in both).
func BenchmarkQueueQueriesAtScale(b *testing.B) {
	dir := os.Getenv("KYCDESK_BENCH_DATA")
	if dir == "" {
		b.Skip("KYCDESK_BENCH_DATA is not set (a data dir seeded by kycdesk bench queues)")
	}
	ctx := context.Background()
	// Read-only and without migrating: the seeded dir may hold an older schema (the queue
	// reads need only 00001-00006 and 00009), and a benchmark must not change it.
	r, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, db.FileName)+
		"?mode=ro&_query_only=1&_busy_timeout=10000&_cache_size=-32000")
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	r.SetMaxOpenConns(4)
	r.SetMaxIdleConns(4)
	d := &db.DB{Read: r, Write: r, Path: filepath.Join(dir, db.FileName)}
	key, err := crypto.LoadMasterKey(dir)
	if err != nil {
		b.Fatal(err)
	}
	sealer, err := crypto.NewSealer(key)
	if err != nil {
		b.Fatal(err)
	}
	// The same requests from SQLite alone, then with the in-memory search index (built
	// first; its build time and heap are logged).
	sql := &cases.Store{DB: d, Sealer: sealer}
	mem := &cases.Store{DB: d, Sealer: sealer, Search: cases.NewSearchIndex(d)}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	built := time.Now()
	mem.Search.Start(ctx, 0)
	mem.Search.Wait()
	took := time.Since(built)
	runtime.GC()
	runtime.ReadMemStats(&after)
	if !mem.Search.Ready() {
		b.Fatal("the search index was not built")
	}
	b.Logf("search index: %d cases in %.1fs, heap %+.0f MiB", mem.Search.Cases(), took.Seconds(),
		(float64(after.HeapAlloc)-float64(before.HeapAlloc))/(1<<20))
	for _, store := range []struct {
		name string
		s    *cases.Store
	}{{"sqlite", sql}, {"memory", mem}} {
		s := store.s
		b.Run(store.name, func(b *testing.B) { benchmarkQueueRequests(ctx, b, s) })
	}
}

// benchmarkQueueRequests times queue requests of every kind on s, one at a time.
func benchmarkQueueRequests(ctx context.Context, b *testing.B, s *cases.Store) {
	for _, tc := range []struct {
		name string
		p    cases.QueueParams
	}{
		{"unassigned", cases.QueueParams{}},
		{"decided", cases.QueueParams{Queue: "decided"}},
		{"mine", cases.QueueParams{Queue: "mine"}},
		{"unassigned/risk=high", cases.QueueParams{Risk: "high"}},
		{"decided/high+generic", cases.QueueParams{Queue: "decided", Risk: "high", Provider: "generic"}},
		{"q=reference", cases.QueueParams{Q: "vrf-2026-0123456"}},
		{"q=reference-middle", cases.QueueParams{Q: "0123456"}},
		{"q=Nguyễn", cases.QueueParams{Q: "Nguyễn"}},
		{"q=huong", cases.QueueParams{Q: "huong"}},
		{"q=ương", cases.QueueParams{Q: "ương"}},
		{"q=Lý", cases.QueueParams{Q: "Lý"}},
		{"q=Nguyễn Thị Hương", cases.QueueParams{Q: "Nguyễn Thị Hương"}},
		{"q=Trần Văn Dũng", cases.QueueParams{Q: "Trần Văn Dũng"}},
		{"q=Hoàng Yến", cases.QueueParams{Q: "Hoàng Yến"}},
		{"decided/q=Thảo", cases.QueueParams{Queue: "decided", Q: "Thảo"}},
		{"q=Lê", cases.QueueParams{Q: "Lê"}},
		{"q=Thị", cases.QueueParams{Q: "Thị"}},
		{"q=anh", cases.QueueParams{Q: "anh"}},
		{"q=Phạm Văn", cases.QueueParams{Q: "Phạm Văn"}},
		{"q=Khánh Linh", cases.QueueParams{Q: "Khánh Linh"}},
		{"decided/q=Bùi Thanh Tâm", cases.QueueParams{Queue: "decided", Q: "Bùi Thanh Tâm"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				f, err := s.ParseQueueFilter(tc.p, 1)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.ListQueue(ctx, f, 50); err != nil {
					b.Fatal(err)
				}
				if _, err := s.QueueCounts(ctx, f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
