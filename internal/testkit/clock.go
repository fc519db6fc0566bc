package testkit

import (
	"context"
	"sync"
	"testing"
	"time"
)

// Clock is a settable clock for code under test that takes a Now func: tests hand it
// Clock.Now and move time with Advance. Safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock is a Clock standing at now.
func NewClock(now time.Time) *Clock { return &Clock{now: now} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock on by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Drain runs w.Drain (a worker working off all it has to do) within a minute of ctx and
// fails the test if it returns an error.
func Drain(t testing.TB, ctx context.Context, w interface{ Drain(context.Context) error }) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if err := w.Drain(ctx); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}
