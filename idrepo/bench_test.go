package idrepo

import (
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// Run with, for example:
//
//	SANAD_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable \
//	  go test -run '^$' -bench . -benchtime 3s ./idrepo/

func benchStores(b *testing.B, f func(b *testing.B, db *sqldb.DB)) {
	b.Run("sqlite", func(b *testing.B) { f(b, storagetest.OpenSQLite(b)) })
	b.Run("postgres", func(b *testing.B) { f(b, storagetest.OpenPostgres(b)) })
}

func benchRepo(b *testing.B, db *sqldb.DB) *Repository {
	return newTestRepo(b, db, Config{Logger: slog.New(slog.DiscardHandler)})
}

// benchParallelism is how many goroutines per CPU the parallel benchmarks
// run: a server answers many requests at once, and each waits for its audit
// entry, which the group commit writes with the others. 4 per CPU stays
// within the PostgreSQL pool's idle connections (storage/postgres keeps
// 10), beyond which every burst opens new connections.
const benchParallelism = 4

// seq makes unique phone numbers and e-mail addresses across a benchmark
// binary's runs.
var seq atomic.Int64

func uniqueIdentity() map[string]any {
	n := seq.Add(1)
	return identityWith(fmt.Sprintf("Bench Person %d", n), fmt.Sprintf("+449%010d", n), fmt.Sprintf("bench%d@example.org", n))
}

func BenchmarkCreate(b *testing.B) {
	benchStores(b, func(b *testing.B, db *sqldb.DB) {
		r := benchRepo(b, db)
		b.SetParallelism(benchParallelism)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := r.Create(b.Context(), "bench", uniqueIdentity()); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkLookup(b *testing.B) {
	benchStores(b, func(b *testing.B, db *sqldb.DB) {
		r := benchRepo(b, db)
		ctx := b.Context()
		var uin, phone, email string
		for i := range 1000 {
			id := uniqueIdentity()
			res, err := r.Create(ctx, "bench", id)
			if err != nil {
				b.Fatal(err)
			}
			if i == 500 {
				uin, phone, email = res.UIN, id["phone"].(string), id["email"].(string)
			}
		}
		v, err := r.CreateVID(ctx, "bench", uin, VIDPerpetual)
		if err != nil {
			b.Fatal(err)
		}
		for _, tt := range []struct{ name, loginID string }{
			{"uin", uin}, {"vid", v.VID}, {"phone", phone}, {"email", email},
		} {
			b.Run(tt.name, func(b *testing.B) {
				b.SetParallelism(benchParallelism)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := r.Lookup(ctx, tt.loginID); err != nil {
							b.Fatal(err)
						}
					}
				})
			})
		}
		b.Run("get", func(b *testing.B) {
			b.SetParallelism(benchParallelism)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := r.Get(ctx, "bench", uin); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	})
}

// importCSV returns n rows of CSV with unique handles.
func importCSV(n int) string {
	var sb strings.Builder
	sb.WriteString("fullName#eng,fullName#fra,givenName#eng,familyName#eng,gender#eng,dateOfBirth,city#eng,postalCode,phone,email\n")
	for range n {
		k := seq.Add(1)
		fmt.Fprintf(&sb, "Bench Person %d,Personne %d,Bench,Person %d,Female,1990/01/%02d,Dakar,10200,+449%010d,bench%d@example.org\n",
			k, k, k, k%28+1, k, k)
	}
	return sb.String()
}

// BenchmarkImport reports rows/s for an import of 20,000 CSV rows per
// iteration, with a phone number and an e-mail address each, with one
// writer on SQLite (which serialises writers anyway) and two on PostgreSQL.
func BenchmarkImport(b *testing.B) {
	const rows = 20000
	benchStores(b, func(b *testing.B, db *sqldb.DB) {
		r := benchRepo(b, db)
		opts := ImportOptions{Writers: 1}
		if strings.HasSuffix(b.Name(), "postgres") {
			opts.Writers = 2
		}
		total := 0
		for b.Loop() {
			b.StopTimer()
			data := importCSV(rows)
			b.StartTimer()
			rep, err := r.Import(b.Context(), strings.NewReader(data), FormatCSV, opts)
			if err != nil || rep.Imported != rows {
				b.Fatalf("Import = %d imported, %d bad, %v", rep.Imported, len(rep.Bad), err)
			}
			total += rows
		}
		b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkImportPrepare measures what Import does to a CSV row before
// writing it (build the identity, validate it, seal it, hash its handles),
// without a database: the CPU part of an import.
func BenchmarkImportPrepare(b *testing.B) {
	r := benchRepo(b, storagetest.OpenSQLite(b))
	data := importCSV(1)
	rec := strings.Split(strings.TrimSpace(strings.SplitN(data, "\n", 2)[1]), ",")
	cols, err := r.csvColumns(strings.Split(strings.SplitN(data, "\n", 2)[0], ","))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		id, _, cerrs := csvIdentity(cols, rec)
		if len(cerrs) > 0 {
			b.Fatal(cerrs)
		}
		ident, errs := r.check(id)
		if len(errs) > 0 {
			b.Fatal(errs)
		}
		if _, err := r.sealNew(b.Context(), ident, "9169748726", r.clock()); err != nil {
			b.Fatal(err)
		}
	}
}
