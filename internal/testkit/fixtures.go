package testkit

import (
	"embed"
	"os"
	"path/filepath"
	"testing"
)

// The provider sample payloads: ../shared/fixtures is the source of truth (revised with the
// providers' documentation); snapshot is a copy kept in the repo so that a clone without
// shared/ beside it still runs every test. TestSnapshotMatchesShared keeps the two equal.
//
//go:embed fixtures
var snapshot embed.FS

// SharedDir returns <repo>/../shared (or KYCDESK_SHARED), or "" when there is none.
func SharedDir() string {
	if d := os.Getenv("KYCDESK_SHARED"); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for d := wd; filepath.Dir(d) != d; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			shared := filepath.Join(filepath.Dir(d), "shared")
			if st, err := os.Stat(filepath.Join(shared, "fixtures")); err == nil && st.IsDir() {
				return shared
			}
			return ""
		}
	}
	return ""
}

// Fixture returns one sample payload by its path under fixtures/ ("fptai/callback_success.json"):
// from ../shared/fixtures when it is there, else from the repo's snapshot.
func Fixture(tb testing.TB, name string) []byte {
	tb.Helper()
	if shared := SharedDir(); shared != "" {
		b, err := os.ReadFile(filepath.Join(shared, "fixtures", filepath.FromSlash(name)))
		if err != nil {
			tb.Fatalf("fixture: %v", err)
		}
		return b
	}
	b, err := snapshot.ReadFile("fixtures/" + name)
	if err != nil {
		tb.Fatalf("fixture %s: %v", name, err)
	}
	return b
}
