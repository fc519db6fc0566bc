package lowprio

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

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
