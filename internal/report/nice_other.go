//go:build !linux

package report

// lowerPriority does nothing where threads have no niceness of their own.
func lowerPriority(int) {}
