package testkit

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestSnapshotMatchesShared fails when ../shared/fixtures was revised and the repo's copy was
// not: refresh it with `cp -r ../shared/fixtures/* internal/testkit/fixtures/`.
func TestSnapshotMatchesShared(t *testing.T) {
	shared := SharedDir()
	if shared == "" {
		t.Skip("no ../shared beside the repo: the snapshot is all there is")
	}
	root := filepath.Join(shared, "fixtures")
	seen := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		want, _ := os.ReadFile(path)
		got, err := snapshot.ReadFile("fixtures/" + filepath.ToSlash(rel))
		if err != nil || string(got) != string(want) {
			t.Errorf("internal/testkit/fixtures/%s differs from ../shared/fixtures: refresh the snapshot", rel)
		}
		seen++
		return nil
	})
	if err != nil || seen == 0 {
		t.Fatalf("walked %d shared fixtures: %v", seen, err)
	}
}

func TestFixtureReadsEachFile(t *testing.T) {
	for _, name := range []string{"fptai/callback_success.json", "frankieone/webhook_workflow_complete.json"} {
		if b := Fixture(t, name); len(b) == 0 || b[0] != '{' {
			t.Errorf("%s: %q", name, b)
		}
	}
}
