package cases_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kycdesk/kycdesk/db"
	"github.com/kycdesk/kycdesk/internal/cases"
	"github.com/kycdesk/kycdesk/internal/crypto"
)

func TestZZTerms(t *testing.T) {
	dir := os.Getenv("KYCDESK_BENCH_DATA")
	if dir == "" {
		t.Skip()
	}
	ctx := context.Background()
	r, _ := sql.Open("sqlite3", "file:"+filepath.Join(dir, db.FileName)+"?mode=ro&_query_only=1&_busy_timeout=10000&_cache_size=-32000")
	r.SetMaxOpenConns(4)
	d := &db.DB{Read: r, Write: r, Path: filepath.Join(dir, db.FileName)}
	key, _ := crypto.LoadMasterKey(dir)
	sealer, _ := crypto.NewSealer(key)
	s := &cases.Store{DB: d, Sealer: sealer}
	terms := []string{"Nguyễn Thị Hương", "Trần Văn Dũng", "Lê Minh Khánh", "Phạm Thu Trang", "Hoàng Yến",
		"Bích Ngọc", "Võ Quốc Huy", "Đặng Hải", "Bùi Thanh Tâm", "Ngô Gia Bảo", "Thảo", "Quân", "Khánh Linh",
		"Nguyễn", "nguyen", "Trần", "Lê", "huong", "Hương", "Thị", "van", "ương", "anh", "Đức", "duc", "Phạm Văn"}
	for _, term := range terms {
		var line string
		var sum time.Duration
		for _, q := range cases.Queues {
			f, err := s.ParseQueueFilter(cases.QueueParams{Queue: q, Q: term}, 3)
			if err != nil {
				t.Fatal(err)
			}
			s.ListQueue(ctx, f, 50)
			t0 := time.Now()
			const n = 5
			var items int
			var partial bool
			for range n {
				f, _ := s.ParseQueueFilter(cases.QueueParams{Queue: q, Q: term}, 3)
				p, err := s.ListQueue(ctx, f, 50)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := s.QueueCounts(ctx, f); err != nil {
					t.Fatal(err)
				}
				items, partial = len(p.Items), p.Partial
			}
			el := time.Since(t0) / n
			sum += el
			pp := ""
			if partial {
				pp = "P"
			}
			line += fmt.Sprintf(" %5.1f(%d%s)", float64(el.Microseconds())/1000, items, pp)
		}
		fmt.Printf("%-18s avg %5.1f |%s\n", term, float64(sum.Microseconds())/1000/float64(len(cases.Queues)), line)
	}
}
