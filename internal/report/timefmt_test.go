package report

import (
	"database/sql"
	"math/rand/v2"
	"testing"
	"time"
)

func TestAppendISOMatchesTime(t *testing.T) {
	cases := []int64{0, 1, 999, 1000, -1, 951782400000, 4107542399999, time.Date(2026, 11, 20, 8, 14, 41, 7e6, time.UTC).UnixMilli(),
		time.Date(2000, 2, 29, 23, 59, 59, 999e6, time.UTC).UnixMilli(), time.Date(1900, 3, 1, 0, 0, 0, 0, time.UTC).UnixMilli()}
	r := rand.New(rand.NewPCG(1, 2))
	for range 100_000 {
		cases = append(cases, r.Int64N(253402300799999+62135596800000)-62135596800000)
	}
	for _, ms := range cases {
		if got, want := string(appendISO(nil, ms)), Time(sql.NullInt64{Int64: ms, Valid: true}); got != want {
			t.Fatalf("%d: %s, want %s", ms, got, want)
		}
	}
}
