package dashboard

import (
	"fmt"
	"time"
)

// Durations are kept as a histogram per day (a median cannot be summed across days, a
// histogram can). The buckets, as in migration 00011: one minute wide below 24 hours, one
// hour wide from 24 hours to 30 days, and one open bucket beyond.
const (
	minuteBuckets = 1440
	hourBuckets   = 29 * 24
	// OverflowBucket holds every duration of 30 days or more.
	OverflowBucket = minuteBuckets + hourBuckets
	overflowFrom   = 30 * Day
)

// BucketOf is the bucket of a duration (the triggers compute the same in SQL).
func BucketOf(d time.Duration) int {
	switch {
	case d < 0:
		return 0
	case d < Day:
		return int(d / time.Minute)
	case d < overflowFrom:
		return minuteBuckets + int((d-Day)/time.Hour)
	}
	return OverflowBucket
}

// BucketBounds is the range [lo, hi) of durations in bucket b; hi is 0 for the open last bucket.
func BucketBounds(b int) (lo, hi time.Duration) {
	switch {
	case b < minuteBuckets:
		return time.Duration(b) * time.Minute, time.Duration(b+1) * time.Minute
	case b < OverflowBucket:
		lo = Day + time.Duration(b-minuteBuckets)*time.Hour
		return lo, lo + time.Hour
	}
	return overflowFrom, 0
}

// Histogram counts durations per bucket.
type Histogram struct {
	counts map[int]int64
	n      int64
}

// Add counts n more durations in bucket b.
func (h *Histogram) Add(b int, n int64) {
	if h.counts == nil {
		h.counts = map[int]int64{}
	}
	h.counts[b] += n
	h.n += n
}

// Median is the bucket holding the (lower) median duration: the true median lies in [Lo, Hi).
type Median struct {
	N      int64 // how many durations
	Bucket int
	Lo, Hi time.Duration // Hi is 0 for the open last bucket (30 days or more)
}

// Median finds the bucket of the lower median, the ((N-1)/2)-th duration in ascending order.
func (h *Histogram) Median() Median {
	if h.n == 0 {
		return Median{}
	}
	k := (h.n - 1) / 2
	var seen int64
	for b := 0; b <= OverflowBucket; b++ {
		seen += h.counts[b]
		if seen > k {
			return medianAt(h.n, b)
		}
	}
	return Median{N: h.n} // unreachable: every bucket is within range
}

// Minutes is the median's midpoint in minutes, for plotting (the open bucket plots at its start).
func (m Median) Minutes() float64 {
	if m.Hi == 0 {
		return m.Lo.Minutes()
	}
	return (m.Lo + m.Hi).Minutes() / 2
}

// String is the median as the page says it, with its precision: "42–43 min", "26–27 h", "≥ 30 days".
func (m Median) String() string {
	switch {
	case m.N == 0:
		return "—"
	case m.Hi == 0:
		return "≥ 30 days"
	case m.Lo < Day:
		return fmt.Sprintf("%d–%d min", int(m.Lo.Minutes()), int(m.Hi.Minutes()))
	}
	return fmt.Sprintf("%d–%d h", int(m.Lo.Hours()), int(m.Hi.Hours()))
}

func medianAt(n int64, b int) Median {
	lo, hi := BucketBounds(b)
	return Median{N: n, Bucket: b, Lo: lo, Hi: hi}
}
