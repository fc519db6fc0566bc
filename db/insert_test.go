package db

import (
	"context"
	"database/sql"
	"testing"
)

// More rows than one statement can bind (30000 parameters) land, each once and in order.
func TestInsertRowsSplitsAtTheParameterLimit(t *testing.T) {
	ctx := context.Background()
	d, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := d.Write.ExecContext(ctx, `CREATE TABLE seed_probe (a INTEGER, b TEXT, c INTEGER)`); err != nil {
		t.Fatal(err)
	}
	const n = 25_001 // 10,000 rows a statement: three statements
	rows := make([][]any, n)
	for i := range rows {
		rows[i] = []any{i, "row", i * 2}
	}
	if err := d.Tx(ctx, func(tx *sql.Tx) error {
		return InsertRows(ctx, tx, "seed_probe", []string{"a", "b", "c"}, rows)
	}); err != nil {
		t.Fatal(err)
	}
	var count, sumA, bad int
	if err := d.Read.QueryRowContext(ctx, `SELECT count(*), sum(a), sum(c != 2*a OR b != 'row') FROM seed_probe`).Scan(&count, &sumA, &bad); err != nil {
		t.Fatal(err)
	}
	if count != n || sumA != n*(n-1)/2 || bad != 0 {
		t.Errorf("count %d sum(a) %d bad %d, want %d, %d, 0", count, sumA, bad, n, n*(n-1)/2)
	}
	err = d.Tx(ctx, func(tx *sql.Tx) error {
		return InsertRows(ctx, tx, "no_such_table", []string{"a"}, [][]any{{1}})
	})
	if err == nil {
		t.Error("insert into a missing table: no error")
	}
}
