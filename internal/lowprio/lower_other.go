//go:build !linux

package lowprio

// Lower does nothing where threads have no niceness of their own.
func Lower(int) {}

// Idle does nothing where threads have no scheduling policy of their own.
func Idle() {}
