package main

import (
	"regexp"
	"testing"
)

// TestBenchQueuesReportsTheWarmUpApart: the load's first seconds are reported on a line of
// their own and the table holds the measured run alone; --case-rate 0 sends no case pages.
func TestBenchQueuesReportsTheWarmUpApart(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database and runs a server for a few seconds")
	}
	code, out, errOut := runMain(t, "", nil, "bench", "queues", "--cases", "1000", "--rate", "40",
		"--case-rate", "0", "--deliveries", "20", "--warmup", "1", "--seconds", "2")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	// Counts are not checked: the sender catches up after a stall of the machine.
	for _, re := range []string{
		`(?m)^bench queues: 1000 cases; .* 40 page requests/s \+ 0 case pages/s, 20 deliveries/s, 2s after 1s of warm-up;`,
		`(?m)^all pages +\d+ +\d+ +0 \|`,
		`(?m)^warm-up \(not above\): \d+ pages, 0 errors, server p50 / p95 / p99 `,
		`(?m)^deliveries: \d+/s acknowledged \(\d+\), 0 failed;`,
		`(?m)^CPU \(client and server in this process\): \S+ cores busy over 2(\.\d+)?s$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s in:\n%s", re, out)
		}
	}
	if regexp.MustCompile(`(?m)^case `).MatchString(out) {
		t.Errorf("case pages were sent with --case-rate 0:\n%s", out)
	}
}
