package ingest

import (
	"runtime"
	"syscall"
	"testing"
)

// A commit runs on the lowered thread once the worker has made its floor in the last
// second, and at the process's priority while it is below it, unless acknowledgements are
// strained.
func TestFloorLanes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("threads have a niceness of their own on Linux only")
	}
	own, err := syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid())
	if err != nil {
		t.Fatal(err)
	}
	strained := false
	l := newFloorLanes(7, 100, func() bool { return strained })
	defer l.close()
	lowered := func(rows int) bool {
		var p int
		l.run(rows, func() { p, _ = syscall.Getpriority(syscall.PRIO_PROCESS, syscall.Gettid()) })
		return p != own
	}
	if lowered(60) {
		t.Fatal("below the floor (nothing made yet), the commit ran lowered")
	}
	if lowered(60) {
		t.Fatal("below the floor (60 of 100 rows made), the commit ran lowered")
	}
	if !lowered(10) {
		t.Fatal("at the floor (120 of 100 rows made), the commit ran at the process's priority")
	}
	// Acknowledgements strained: below the floor or not, the worker stays lowered.
	l.made = nil
	strained = true
	if !lowered(10) {
		t.Fatal("below the floor with acknowledgements strained, the commit ran at the process's priority")
	}
}
