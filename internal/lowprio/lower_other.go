//go:build !linux

package lowprio

// Lower does nothing where threads have no niceness of their own.
func Lower(int) {}
