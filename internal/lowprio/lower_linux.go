package lowprio

import (
	"runtime"
	"syscall"
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
