package lowprio

import (
	"math"
	"runtime"
	"runtime/debug"
	"syscall"
	"testing"
)

func TestLowerSetsTheThreadsNiceness(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("threads have a niceness of their own on Linux only")
	}
	before, err := syscall.Getpriority(syscall.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	go func() {
		Lower(Nice)
		// The raw getpriority system call returns 20 - niceness.
		p, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
		if err != nil {
			t.Error(err)
		}
		got <- p
	}()
	if p := <-got; p != before-Nice {
		t.Fatalf("thread niceness %d, want %d", 20-p, 20-before+Nice)
	}
	// The test's own thread is untouched.
	if after, _ := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid()); after != before {
		t.Fatalf("the caller's thread priority changed: %d -> %d", before, after)
	}
}

func TestReserveAddsSparePsOnce(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	n := runtime.GOMAXPROCS(0)
	env := func(string) string { return "" }
	Reserve(env)
	Reserve(env)
	if got := runtime.GOMAXPROCS(0); got != n+Spare {
		t.Fatalf("GOMAXPROCS %d after Reserve twice, want %d", got, n+Spare)
	}
}

func TestTuneGCLeavesTheEnvironmentsChoice(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	TuneGC(func(k string) string { return map[string]string{"GOGC": "150"}[k] })
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("GOGC set in the environment, yet the percent became %d", got)
	}
	if got := debug.SetMemoryLimit(-1); got != MemoryLimit {
		t.Fatalf("memory limit %d, want %d", got, MemoryLimit)
	}
	TuneGC(func(string) string { return "" })
	if got := debug.SetGCPercent(100); got != GCPercent {
		t.Fatalf("GC percent %d, want %d", got, GCPercent)
	}
}
