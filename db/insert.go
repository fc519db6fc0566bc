package db

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// InsertRows writes rows (each one value per column of cols) into table with as few
// multi-row INSERT statements as SQLite's limit on bound parameters allows. For seeding
// large tables (benchmarks, test fixtures): table and cols are trusted names.
func InsertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	per := 30000 / len(cols)
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for start := 0; start < len(rows); start += per {
		batch := rows[start:min(start+per, len(rows))]
		var sb strings.Builder
		sb.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES ")
		args := make([]any, 0, len(batch)*len(cols))
		for i, r := range batch {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(tuple)
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, sb.String(), args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	return nil
}
