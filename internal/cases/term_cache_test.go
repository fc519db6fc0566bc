package cases

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestTermCacheCountsATermOnce: searches that need the same word's count at once (the first
// seconds after a start) wait for one count instead of each reading the word's whole list.
func TestTermCacheCountsATermOnce(t *testing.T) {
	c := termCache{m: map[termKey]*termEstimate{}}
	ctx := context.Background()
	var counts atomic.Int32
	release := make(chan struct{})
	slow := func() (float64, error) {
		counts.Add(1)
		<-release
		return 5000, nil
	}
	var wg sync.WaitGroup
	got := make([]float64, 20)
	for i := range got {
		wg.Go(func() {
			n, err := c.count(ctx, nil, "nguyen", slow)
			if err != nil {
				t.Error(err)
			}
			got[i] = n
		})
	}
	time.Sleep(50 * time.Millisecond) // let them all ask
	close(release)
	wg.Wait()
	if n := counts.Load(); n != 1 {
		t.Fatalf("the word was counted %d times, want once", n)
	}
	for i, n := range got {
		if n != 5000 {
			t.Fatalf("search %d got %v, want 5000", i, n)
		}
	}
	// Remembered: no count at all now.
	if n, _ := c.count(ctx, nil, "nguyen", func() (float64, error) { t.Fatal("counted again"); return 0, nil }); n != 5000 {
		t.Fatalf("remembered %v, want 5000", n)
	}
}

// TestTermCacheRecountsAnOldCountOnce: once a count is older than termCacheTTL, one search
// counts again while the others plan with the old count, never waiting.
func TestTermCacheRecountsAnOldCountOnce(t *testing.T) {
	c := termCache{m: map[termKey]*termEstimate{}}
	ctx := context.Background()
	c.m[termKey{nil, "thi"}] = &termEstimate{n: 100, at: time.Now().Add(-2 * termCacheTTL)}
	started, release := make(chan struct{}), make(chan struct{})
	done := make(chan float64)
	go func() {
		n, _ := c.count(ctx, nil, "thi", func() (float64, error) {
			close(started)
			<-release
			return 900, nil
		})
		done <- n
	}()
	<-started
	type answer struct {
		n   float64
		err error
	}
	during := make(chan answer, 1)
	go func() {
		n, err := c.count(ctx, nil, "thi", func() (float64, error) { t.Error("a second count of the same word"); return 0, nil })
		during <- answer{n, err}
	}()
	select {
	case a := <-during:
		if a.err != nil || a.n != 100 {
			t.Fatalf("during the recount: %v, %v; want the old 100", a.n, a.err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a search waited for the recount instead of planning with the old count")
	}
	close(release)
	if n := <-done; n != 900 {
		t.Fatalf("the recount returned %v, want 900", n)
	}
	if n, _ := c.count(ctx, nil, "thi", nil); n != 900 {
		t.Fatalf("after the recount: %v, want 900", n)
	}
}

// TestTermCacheForgetsRareTermsAndFailures: a term held by fewer than termProbe cases is
// never remembered (a new case's reference is counted afresh each time); a failed count is
// not remembered, and those that waited for it count for themselves.
func TestTermCacheForgetsRareTermsAndFailures(t *testing.T) {
	c := termCache{m: map[termKey]*termEstimate{}}
	ctx := context.Background()
	var counts atomic.Int32
	rare := func() (float64, error) { counts.Add(1); return termProbe - 1, nil }
	for range 3 {
		if n, err := c.count(ctx, nil, "0123456", rare); err != nil || n != termProbe-1 {
			t.Fatalf("rare: %v, %v", n, err)
		}
	}
	if n := counts.Load(); n != 3 {
		t.Fatalf("a rare term was counted %d times in 3 searches, want 3 (never remembered)", n)
	}

	release := make(chan struct{})
	failing := func() (float64, error) { <-release; return 0, errors.New("disk gone") }
	errc := make(chan error)
	go func() { _, err := c.count(ctx, nil, "huong", failing); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	waiter := make(chan float64)
	go func() {
		n, _ := c.count(ctx, nil, "huong", func() (float64, error) { return 777, nil })
		waiter <- n
	}()
	time.Sleep(20 * time.Millisecond)
	close(release)
	if err := <-errc; err == nil {
		t.Fatal("the failed count reported no error")
	}
	if n := <-waiter; n != 777 {
		t.Fatalf("the waiter got %v, want its own count 777", n)
	}
	if _, err := c.count(ctx, nil, "huong", func() (float64, error) { return 0, errors.New("again") }); err == nil {
		t.Fatal("a failure was remembered as a count")
	}
}

// TestTermCacheWaitEndsWithTheRequest: a search waiting for another's count gives up when
// its own request ends.
func TestTermCacheWaitEndsWithTheRequest(t *testing.T) {
	c := termCache{m: map[termKey]*termEstimate{}}
	release := make(chan struct{})
	defer close(release)
	go c.count(context.Background(), nil, "van", func() (float64, error) { <-release; return 500, nil }) //nolint:errcheck // released at the end
	time.Sleep(20 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := c.count(ctx, nil, "van", func() (float64, error) { return 500, nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the request's deadline", err)
	}
}
