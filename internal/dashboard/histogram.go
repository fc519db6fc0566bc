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

// Coarse buckets (dash_durations_coarse): an hour wide below 24 hours (0-23), a day wide up
// to 30 days (24-52), and 53 for the open bucket. Each holds whole fine buckets.
const coarseBuckets = 54

// CoarseOf is the coarse bucket holding fine bucket b.
func CoarseOf(b int) int {
	switch {
	case b < minuteBuckets:
		return b / 60
	case b < OverflowBucket:
		return 24 + (b-minuteBuckets)/24
	}
	return coarseBuckets - 1
}

// FineRange is the first and last fine bucket of coarse bucket cb.
func FineRange(cb int) (first, last int) {
	switch {
	case cb < 24:
		return cb * 60, cb*60 + 59
	case cb < coarseBuckets-1:
		first = minuteBuckets + (cb-24)*24
		return first, first + 23
	}
	return OverflowBucket, OverflowBucket
}

// coarseMedian finds, in a coarse histogram, the bucket holding the lower median and the
// median's rank within that bucket (0-based); ok is false for an empty histogram.
func coarseMedian(h *[coarseBuckets]int64) (total int64, cb int, rank int64, ok bool) {
	for _, n := range h {
		total += n
	}
	if total == 0 {
		return 0, 0, 0, false
	}
	k := (total - 1) / 2
	var seen int64
	for b, n := range h {
		if seen+n > k {
			return total, b, k - seen, true
		}
		seen += n
	}
	return 0, 0, 0, false // unreachable
}
