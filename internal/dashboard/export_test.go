package dashboard

// SetOverdueCap lets tests walk every path of overdue with a small data set; it returns the
// function that restores the cap.
func SetOverdueCap(n int) func() {
	old := overdueCap
	overdueCap = n
	return func() { overdueCap = old }
}
