package ingest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Acknowledgements come first. The inbox and the cases are separate files with separate
// writers, so a case transaction never holds up an acknowledgement on a lock; but both halves
// share the machine's cores, and a worker that takes every core it can (it can: turning a
// delivery into a case costs several times what taking it in does) leaves the webhook
// handlers waiting in the scheduler's run queue. So while deliveries are arriving fast the
// worker paces itself to a set rate of rows per second, well above the 500 cases/s it must
// keep up with, and runs at full speed again as soon as they slow down: after a burst the
// backlog drains with every core.

// arrivals counts submitted deliveries, for the worker's pacing.
type arrivals struct {
	n atomic.Int64
}

// Arrivals is how many deliveries were submitted so far (a monotonic count).
func (ib *Inbox) Arrivals() int64 { return ib.arrivals.n.Load() }

// pacer spaces the worker's rows while deliveries arrive faster than busyRate.
type pacer struct {
	arrivals func() int64
	every    time.Duration // one row per every while busy
	busyRate float64       // arrivals/s above which the worker paces itself

	mu      sync.Mutex
	next    time.Time // when the next paced row may start
	sampled time.Time // when arrivals was last read
	seen    int64
	busy    bool
}

const (
	paceSample   = 50 * time.Millisecond
	paceBusyRate = 500 // deliveries/s
)

func newPacer(arrivals func() int64, rowsPerSecond float64) *pacer {
	if arrivals == nil || rowsPerSecond <= 0 {
		return nil
	}
	return &pacer{arrivals: arrivals, every: time.Duration(float64(time.Second) / rowsPerSecond), busyRate: paceBusyRate}
}

// wait returns when the next row may start: at once when deliveries arrive slowly, else at
// the paced rate (shared by all of the worker's goroutines). False when ctx ended.
func (p *pacer) wait(ctx context.Context) bool {
	if p == nil {
		return true
	}
	p.mu.Lock()
	now := time.Now()
	if now.Sub(p.sampled) >= paceSample {
		n := p.arrivals()
		p.busy = float64(n-p.seen) > p.busyRate*now.Sub(p.sampled).Seconds()
		p.seen, p.sampled = n, now
	}
	if !p.busy {
		p.mu.Unlock()
		return true
	}
	if p.next.Before(now) {
		p.next = now
	}
	at := p.next
	p.next = p.next.Add(p.every)
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
