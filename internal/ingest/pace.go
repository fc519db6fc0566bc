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

// arrivals counts submitted deliveries and keeps the longest a committed delivery waited
// for its commit, for the worker's pacing.
type arrivals struct {
	n       atomic.Int64
	maxWait atomic.Int64 // ns, since the last AckWait
	busyAt  atomic.Int64 // unix ns of the last commit that carried more than one delivery
}

// busyFor is how long after a commit of several deliveries Busy stays true.
const busyFor = 250 * time.Millisecond

// Busy reports whether deliveries are arriving faster than one per commit: a commit in the
// last quarter second carried more than one (at a few hundred a second, with the commits
// 4 ms apart: committer.go). Background work that can wait (a CSV export's reading:
// internal/report) rests while it is true, so acknowledgements keep the machine.
func (ib *Inbox) Busy() bool {
	at := ib.arrivals.busyAt.Load()
	return at != 0 && time.Since(time.Unix(0, at)) < busyFor
}

func (a *arrivals) waited(d time.Duration) {
	for {
		old := a.maxWait.Load()
		if int64(d) <= old || a.maxWait.CompareAndSwap(old, int64(d)) {
			return
		}
	}
}

// Arrivals is how many deliveries were submitted so far (a monotonic count).
func (ib *Inbox) Arrivals() int64 { return ib.arrivals.n.Load() }

// AckWait is the longest a delivery waited from Submit to its commit since the last call.
func (ib *Inbox) AckWait() time.Duration { return time.Duration(ib.arrivals.maxWait.Swap(0)) }

// pacer spaces the worker's rows while deliveries arrive faster than busyRate: at the set
// rate, or at the floor rate while acknowledgements are strained (a delivery waited longer
// than paceStrain for its commit in the last sample).
type pacer struct {
	arrivals func() int64
	ackWait  func() time.Duration // nil: never strained
	every    time.Duration        // one row per every while busy
	floor    time.Duration        // one row per floor while strained
	busyRate float64              // arrivals/s above which the worker paces itself

	mu       sync.Mutex
	next     time.Time // when the next paced row may start
	sampled  time.Time // when arrivals was last read
	seen     int64
	busy     bool
	strained bool
}

const (
	paceSample   = 50 * time.Millisecond
	paceBusyRate = 500 // deliveries/s
	paceStrain   = 10 * time.Millisecond
	// paceFloorRows is the worker's rate while acknowledgements are strained: what it must
	// keep making whatever the arrivals (500 cases/s), with a margin.
	paceFloorRows = 600
)

func newPacer(arrivals func() int64, ackWait func() time.Duration, rowsPerSecond float64) *pacer {
	if arrivals == nil || rowsPerSecond <= 0 {
		return nil
	}
	return &pacer{arrivals: arrivals, ackWait: ackWait, busyRate: paceBusyRate,
		every: time.Duration(float64(time.Second) / rowsPerSecond),
		floor: time.Duration(float64(time.Second) / min(rowsPerSecond, paceFloorRows))}
}

// active reports whether the worker is being paced (deliveries arrived fast at the last sample).
func (p *pacer) active() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy
}

// strainedNow reports whether acknowledgements were strained at the last sample (a delivery
// waited longer than paceStrain for its commit) while deliveries arrived fast.
func (p *pacer) strainedNow() bool {
	if p == nil {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.busy && p.strained
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
		p.strained = p.ackWait != nil && p.ackWait() > paceStrain
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
	if p.strained {
		p.next = p.next.Add(p.floor)
	} else {
		p.next = p.next.Add(p.every)
	}
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
