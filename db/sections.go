package db

import (
	"fmt"
	"io/fs"
	"strings"
)

// MigrationSection returns the SQL between the lines "-- NAME:begin" and "-- NAME:end" of
// the embedded migration file, so that Go code can run the very statements a migration ran
// (for example to rebuild tallies the migration first filled) instead of a copy that drifts.
func MigrationSection(file, name string) (string, error) {
	b, err := fs.ReadFile(migrations, "migrations/"+file)
	if err != nil {
		return "", fmt.Errorf("migration %s: %w", file, err)
	}
	text := string(b)
	begin, end := "-- "+name+":begin\n", "-- "+name+":end\n"
	i := strings.Index(text, begin)
	j := strings.Index(text, end)
	if i < 0 || j < i {
		return "", fmt.Errorf("migration %s: no section %q", file, name)
	}
	return text[i+len(begin) : j], nil
}
