package db

import (
	"strings"
	"testing"
)

func TestMigrationSection(t *testing.T) {
	sql, err := MigrationSection("00011_dashboard_rollups.sql", "rebuild")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sql, "-- Every tally recomputed") || !strings.Contains(sql, "INSERT INTO dash_durations_coarse") ||
		strings.Contains(sql, "rebuild:") || strings.Contains(sql, "goose") {
		t.Errorf("section is not the lines between the markers:\n%s", sql)
	}
	for _, tt := range []struct{ file, name string }{{"00011_dashboard_rollups.sql", "nothing"}, {"99999_none.sql", "rebuild"}} {
		if _, err := MigrationSection(tt.file, tt.name); err == nil {
			t.Errorf("MigrationSection(%s, %s) found something", tt.file, tt.name)
		}
	}
}
