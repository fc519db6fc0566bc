// Package lowprio runs background work (the inbox worker, report exports) behind requests.
//
// The kernel schedules threads, the Go runtime schedules goroutines on GOMAXPROCS Ps, and
// the runtime knows nothing of niceness. Lowering the niceness of a goroutine's thread is
// therefore only half of it: while that goroutine runs Go code it holds a P, and with one
// P per core a request's goroutine waits for a P however low the holder's priority. So
// Reserve gives the runtime spare Ps, as many as background goroutines may hold at once,
// and the kernel, which does know niceness, decides who gets the cores.
package lowprio

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Nice is the niceness background threads run at: with it the kernel gives a thread at
// niceness 0 about nine times their share of a core when both want it (weights 1024 : 110).
const Nice = 10

// Spare is how many Ps Reserve adds: the inbox worker's committer and a few of its
// goroutines, or an export's workers, running Go code at once.
const Spare = 4

var reserve sync.Once

// Reserve raises GOMAXPROCS, once per process, from the runtime's default (one P per
// usable core) by Spare, so that goroutines on lowered threads never hold the Ps that
// requests need. Call it before starting background work; a GOMAXPROCS set in the
// environment is left as it is.
func Reserve(getenv func(string) string) {
	reserve.Do(func() {
		if getenv("GOMAXPROCS") != "" {
			return
		}
		runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + Spare)
	})
}

// GCPercent is the collector's target in serve (GOGC 400 instead of 100): the server's live
// heap is small besides the queue index (tens of megabytes) and acknowledgements allocate
// per request, so collecting four times less often buys CPU at the price of a larger heap.
// MemoryLimit keeps that heap bounded: near it the collector runs as often as it must. The
// queue index (cases.SearchIndex) holds about 400 MB at a million cases; with 1 GiB the
// collector ran twice as often at that size (BENCHMARKS.md, "Queues from memory").
const (
	GCPercent   = 400
	MemoryLimit = 2 << 30
)

// TuneGC sets GCPercent and MemoryLimit, each unless the environment sets it (GOGC,
// GOMEMLIMIT).
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(MemoryLimit)
	}
}
