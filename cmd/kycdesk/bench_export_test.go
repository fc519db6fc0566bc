package main

import (
	"regexp"
	"strconv"
	"testing"
)

// TestBenchExportDownloadsBesideDeliveries: `bench export` signs in as a lead and downloads
// the cases report over HTTP while deliveries are acknowledged, and says how many rows came.
func TestBenchExportDownloadsBesideDeliveries(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds a database and runs a server for a few seconds")
	}
	code, out, errOut := runMain(t, "", nil, "bench", "export", "--cases", "3000", "--seconds", "1", "--concurrency", "4")
	if code != 0 {
		t.Fatalf("exit %d: %s %s", code, out, errOut)
	}
	for _, re := range []string{`ingest alone: \d+ deliveries/s .*\(([1-9]\d*) acknowledged, 0 not\)`,
		`ingest during export: \d+ deliveries/s .*\(([1-9]\d*) acknowledged, 0 not\); downloads beside it: (\d+) rows`} {
		m := regexp.MustCompile(re).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no line matching %s in:\n%s", re, out)
		}
		if len(m) == 3 {
			if rows, _ := strconv.Atoi(m[2]); rows < 3000 {
				t.Errorf("%d rows downloaded beside the deliveries, want at least one whole report (3000):\n%s", rows, out)
			}
		}
	}
}
