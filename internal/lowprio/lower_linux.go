package lowprio

import (
	"runtime"
	"syscall"
	"unsafe"
)

// Lower runs the calling goroutine, for the rest of its life, on an OS thread of its own
// at niceness nice (Linux sets it per thread): the kernel then gives the cores to the
// server's other threads (webhook handlers, the inbox committer, page handlers) first.
// The goroutine must not unlock the thread: when it ends, the thread ends with it, so no
// thread of lowered priority goes back to the runtime's pool (raising it again would need
// CAP_SYS_NICE). nice <= 0 leaves the goroutine as it is.
func Lower(nice int) {
	if nice <= 0 {
		return
	}
	runtime.LockOSThread()
	_ = syscall.Setpriority(syscall.PRIO_PROCESS, syscall.Gettid(), nice) // best effort: at worst the work runs at the server's priority
}

// Idle runs the calling goroutine, for the rest of its life, on an OS thread of its own
// under the SCHED_IDLE policy: the kernel runs the thread only when no other thread wants
// the core, and preempts it as soon as one does (a thread at a niceness of 10 or 19 still
// gets its slice first). As with Lower, the goroutine must not unlock the thread. Only for
// work that holds no lock anyone waits for: a starved holder would hold it.
func Idle() {
	runtime.LockOSThread()
	var param struct{ priority int32 }
	_, _, _ = syscall.RawSyscall(syscall.SYS_SCHED_SETSCHEDULER, 0, schedIdle, uintptr(unsafe.Pointer(&param))) // best effort
}

const schedIdle = 5 // SCHED_IDLE, linux/sched.h
