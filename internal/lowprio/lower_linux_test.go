package lowprio

import (
	"syscall"
	"testing"
)

func TestLowerSetsTheThreadsNiceness(t *testing.T) {
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

func TestIdleSetsTheThreadsPolicy(t *testing.T) {
	got := make(chan uintptr, 1)
	go func() {
		Idle()
		policy, _, _ := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0)
		got <- policy
	}()
	if p := <-got; p != schedIdle {
		t.Fatalf("policy %d after Idle, want SCHED_IDLE (%d)", p, schedIdle)
	}
	if p, _, _ := syscall.RawSyscall(syscall.SYS_SCHED_GETSCHEDULER, 0, 0, 0); p == schedIdle {
		t.Fatal("the caller's thread became SCHED_IDLE")
	}
}
