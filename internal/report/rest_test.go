package report

import (
	"context"
	"testing"
	"time"
)

// TestRestWhileBusy: a cases report's worker rests restRatio times its chunk's work while
// deliveries arrive fast, not at all otherwise, and never past its context.
func TestRestWhileBusy(t *testing.T) {
	busy := func() bool { return true }
	idle := func() bool { return false }
	ctx := context.Background()
	took := func(rp *Reporter, ctx context.Context, worked time.Duration) time.Duration {
		t0 := time.Now()
		rp.rest(ctx, worked)
		return time.Since(t0)
	}
	if d := took(&Reporter{Busy: busy}, ctx, 20*time.Millisecond); d < restRatio*20*time.Millisecond {
		t.Errorf("busy: rested %s after 20ms of work, want at least %s", d, restRatio*20*time.Millisecond)
	}
	// A second of work would mean restRatio seconds of rest: these must not rest at all.
	if d := took(&Reporter{Busy: idle}, ctx, time.Second); d > 500*time.Millisecond {
		t.Errorf("not busy: rested %s", d)
	}
	if d := took(&Reporter{}, ctx, time.Second); d > 500*time.Millisecond {
		t.Errorf("no Busy: rested %s", d)
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if d := took(&Reporter{Busy: busy}, cancelled, time.Second); d > 500*time.Millisecond {
		t.Errorf("cancelled: rested %s", d)
	}
}
