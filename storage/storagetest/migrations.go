package storagetest

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/storage/sqldb"
)

// RunMigrations checks a SQL backend's migrations: a new database migrates
// to the newest version, migrating again applies nothing, also from another
// connection pool (a restarted process), and processes migrating an empty
// database at once apply each migration exactly once between them.
//
// newDatabase makes a new, empty database and returns a function that opens
// it without migrating (as OpenNoMigrate does). Every call of that function
// opens a separate connection pool, as a separate process would; the pools
// are closed and the database removed when t ends.
func RunMigrations(t *testing.T, newDatabase func(t *testing.T) (open func() *sqldb.DB)) {
	t.Run("migrate then migrate again", func(t *testing.T) {
		open := newDatabase(t)
		db := open()
		ctx := t.Context()
		if v, err := db.Version(ctx); v != 0 || err != nil {
			t.Errorf("Version() before Migrate = %d, %v, want 0, nil", v, err)
		}
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate() = %v, want nil", err)
		}
		if len(applied) == 0 || applied[0] != "0001_keys" {
			t.Fatalf("Migrate() = %q, want the migrations from 0001_keys on", applied)
		}
		if !slices.IsSortedFunc(applied, func(a, b string) int { return cmp.Compare(versionOf(t, a), versionOf(t, b)) }) {
			t.Errorf("Migrate() = %q, want in version order", applied)
		}
		want := versionOf(t, applied[len(applied)-1])
		if v, err := db.Version(ctx); v != want || err != nil {
			t.Errorf("Version() = %d, %v, want %d, nil", v, err, want)
		}
		if again, err := db.Migrate(ctx); len(again) != 0 || err != nil {
			t.Errorf("Migrate() again = %q, %v, want none, nil", again, err)
		}
		reopened := open()
		if again, err := reopened.Migrate(ctx); len(again) != 0 || err != nil {
			t.Errorf("Migrate() from a new pool = %q, %v, want none, nil", again, err)
		}
		if v, err := reopened.Version(ctx); v != want || err != nil {
			t.Errorf("Version() from a new pool = %d, %v, want %d, nil", v, err, want)
		}
		if _, err := reopened.ListKeys(ctx, ""); err != nil {
			t.Errorf("ListKeys() after Migrate = %v, want nil", err)
		}
	})
	t.Run("concurrent migrations", func(t *testing.T) {
		open := newDatabase(t)
		const n = 4
		dbs := make([]*sqldb.DB, n)
		for i := range dbs {
			dbs[i] = open()
		}
		applied := make([][]string, n)
		errs := concurrently(n, func(i int) error {
			var err error
			applied[i], err = dbs[i].Migrate(t.Context())
			return err
		})
		var all []string
		for i, err := range errs {
			if err != nil {
				t.Errorf("Migrate() in process %d = %v, want nil", i, err)
			}
			all = append(all, applied[i]...)
		}
		slices.Sort(all)
		if len(all) == 0 || all[0] != "0001_keys" || len(slices.Compact(slices.Clone(all))) != len(all) {
			t.Errorf("Migrate() in %d processes at once applied %q between them, want each migration once", n, all)
		}
	})
}

// versionOf returns the version of a migration named NNNN_name.
func versionOf(t *testing.T, name string) int64 {
	t.Helper()
	digits, _, _ := strings.Cut(name, "_")
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		t.Fatalf("migration %q: name does not start with a version", name)
	}
	return v
}
