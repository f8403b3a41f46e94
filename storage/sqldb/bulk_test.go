package sqldb

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/sanad-id/sanad/storage"
)

func TestInsertSQL(t *testing.T) {
	tt := table{name: "t", columns: []string{"a", "b"}}
	tests := []struct {
		rows   int
		params string
		want   string
	}{
		{1, "$", "INSERT INTO t (a, b) VALUES ($1, $2)"},
		{3, "$", "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4), ($5, $6)"},
		{1, "?", "INSERT INTO t (a, b) VALUES (?, ?)"},
		{2, "?", "INSERT INTO t (a, b) VALUES (?, ?), (?, ?)"},
	}
	for _, tt2 := range tests {
		if got := insertSQL(tt, tt2.rows, tt2.params); got != tt2.want {
			t.Errorf("insertSQL(t, %d, %q) = %q, want %q", tt2.rows, tt2.params, got, tt2.want)
		}
	}
}

// TestInsertRows checks that insertRows writes every row once, in order,
// whatever the chunking, and that a failed chunk fails the call.
func TestInsertRows(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "test.db"), fstest.MapFS{
		"0001_t.sql": file(`CREATE TABLE t (n INTEGER PRIMARY KEY NOT NULL, s TEXT NOT NULL, b BLOB NOT NULL) STRICT`),
	})
	if _, err := db.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	tt := table{name: "t", columns: []string{"n", "s", "b"}}
	next := 0
	for _, tc := range []struct {
		maxParams, rows int
	}{
		{3, 1},        // one row per statement
		{7, 5},        // two rows per statement, one in the last
		{9, 6},        // three rows per statement, the last full
		{32766, 1234}, // maxRowsPerInsert per statement
		{32766, 0},
	} {
		t.Run(fmt.Sprintf("maxParams %d, %d rows", tc.maxParams, tc.rows), func(t *testing.T) {
			d := *db
			d.dialect.maxParams = tc.maxParams
			first := next
			err := d.insertRows(t.Context(), db.db, tt, tc.rows, func(i int, args []any) []any {
				n := first + i
				return append(args, n, fmt.Sprint("row ", n), []byte{byte(n)})
			})
			if err != nil {
				t.Fatalf("insertRows(%d rows) = %v, want nil", tc.rows, err)
			}
			next += tc.rows
			rows, err := db.db.QueryContext(t.Context(), `SELECT n, s, b FROM t WHERE n >= $1 ORDER BY n`, first)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var got []int
			for rows.Next() {
				var (
					n int
					s string
					b []byte
				)
				if err := rows.Scan(&n, &s, &b); err != nil {
					t.Fatal(err)
				}
				if s != fmt.Sprint("row ", n) || len(b) != 1 || b[0] != byte(n) {
					t.Errorf("row %d = %q, %x, want %q, %x", n, s, b, fmt.Sprint("row ", n), byte(n))
				}
				got = append(got, n)
			}
			want := make([]int, tc.rows)
			for i := range want {
				want[i] = first + i
			}
			if !slices.Equal(got, want) {
				t.Errorf("insertRows(%d rows) stored rows %d…, want %d…", tc.rows, got, want)
			}
		})
	}

	t.Run("a failing chunk fails the call", func(t *testing.T) {
		d := *db
		d.dialect.maxParams = 6
		err := d.insertRows(t.Context(), db.db, tt, 5, func(i int, args []any) []any {
			return append(args, next+i%3, "dup", []byte{})
		})
		if !errors.Is(db.mapErr(err), storage.ErrAlreadyExists) {
			t.Errorf("insertRows(duplicate keys) = %v, want %v", err, storage.ErrAlreadyExists)
		}
	})
	t.Run("wrong number of values", func(t *testing.T) {
		err := db.insertRows(t.Context(), db.db, tt, 2, func(i int, args []any) []any { return append(args, i) })
		if err == nil || !strings.Contains(err.Error(), "values") {
			t.Errorf("insertRows(1 value a row for 3 columns) = %v, want an error about values", err)
		}
	})
}
