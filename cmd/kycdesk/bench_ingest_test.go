package main

import (
	"regexp"
	"testing"
)

// TestBenchIngestPrintsBurstSustainedAndDrains: `bench ingest` with the worker on prints the
// burst, its drain, the sustained run and the sustained run's drain, every delivery
// acknowledged (a short, slow run: the figures themselves are for BENCHMARKS.md).
func TestBenchIngestPrintsBurstSustainedAndDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two servers for a few seconds")
	}
	code, out, errOut := runMain(t, "", nil, "bench", "ingest", "--skip-baseline", "--rate", "200", "--sustain", "300", "--seconds", "1")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, re := range []string{
		`(?m)^burst: offered 200 deliveries/s for 1s: 200 acknowledged, 0 not, `,
		`(?m)^burst: drain: 200 cases \(\d+ made during the burst\) `,
		`(?m)^sustained: offered 300 deliveries/s for 1s: 300 acknowledged, 0 not, .* the worker made \d+ cases`,
		`(?m)^sustained: drained \S+ after its start$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("no line matching %s in:\n%s", re, out)
		}
	}
}
