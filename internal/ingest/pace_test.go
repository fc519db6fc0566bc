package ingest

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// TestPacerPacesOnlyWhileDeliveriesArriveFast: slow arrivals leave the worker alone; fast
// ones space its rows at the set rate, shared by all its goroutines; a nil pacer (no
// inbox to watch, or pacing off) never waits.
func TestPacerPacesOnlyWhileDeliveriesArriveFast(t *testing.T) {
	var n atomic.Int64
	p := newPacer(n.Load, nil, 100) // one row per 10 ms while busy
	ctx := context.Background()

	p.wait(ctx) // first sample
	time.Sleep(paceSample)
	n.Add(1) // 1 arrival in ≥ 50 ms: slow
	for range 20 {
		p.wait(ctx)
	}
	if p.busy || !p.next.IsZero() {
		t.Fatalf("paced while arrivals were slow: busy %v, next %v", p.busy, p.next)
	}

	time.Sleep(paceSample)
	n.Add(1_000_000) // a million arrivals since the last sample: fast, however late the sleep ended
	start := time.Now()
	p.wait(ctx)
	if !p.busy {
		t.Fatal("not busy after a million arrivals")
	}
	for range 5 {
		if !p.wait(ctx) {
			t.Fatal("wait gave up without a cancelled context")
		}
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("6 paced rows at 100/s took %s, want at least 50 ms", took)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	p.busy, p.sampled, p.next = true, time.Now(), time.Now().Add(time.Hour)
	if p.wait(cctx) {
		t.Error("a paced wait did not end with its context")
	}

	var none *pacer
	if !none.wait(cctx) || newPacer(nil, nil, 100) != nil || newPacer(n.Load, nil, -1) != nil {
		t.Error("a pacer without arrivals or with pacing off must never wait")
	}
}

// TestPacerSlowsToTheFloorWhileAcknowledgementsWait: when a delivery waited longer than
// paceStrain for its commit, the worker's rows are spaced at the floor rate (600/s), not
// the set rate.
func TestPacerSlowsToTheFloorWhileAcknowledgementsWait(t *testing.T) {
	var n atomic.Int64
	p := newPacer(n.Load, func() time.Duration { return time.Second }, 100_000)
	ctx := context.Background()
	p.wait(ctx)
	time.Sleep(paceSample)
	n.Add(1_000_000)
	start := time.Now()
	p.wait(ctx)
	if !p.busy || !p.strained {
		t.Fatalf("busy %v strained %v, want both", p.busy, p.strained)
	}
	for range 6 {
		p.wait(ctx)
	}
	if took, want := time.Since(start), 6*time.Second/paceFloorRows; took < want {
		t.Errorf("7 strained rows took %s, want at least %s (the floor rate)", took, want)
	}
}
