package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/idrepo/idgen"
)

// benchCommand: `sanad bench idrepo`, the load tool of the ID repository. It
// runs against the configured store (use SANAD_STORAGE_DRIVER=postgres for
// the production profile) and writes synthetic residents into it. `sanad
// bench login` (benchlogin.go) drives a running server instead.
func benchCommand(ctx context.Context, e env, args []string) error {
	if len(args) > 0 && args[0] == "login" {
		return benchLogin(ctx, e, args[1:])
	}
	if len(args) > 0 && args[0] == "credential" {
		return benchCredential(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "idrepo" {
		return usageError{fmt.Errorf("want `bench idrepo`, `bench login` or `bench credential`")}
	}
	var (
		c                   commonFlags
		residents, lookups  int
		vids, concurrency   int
		batch, importWriter int
		skipImport          bool
	)
	fs := newFlagSet("bench idrepo", e.stderr, &c)
	fs.IntVar(&residents, "residents", 100_000, "synthetic residents to import")
	fs.IntVar(&lookups, "lookups", 20_000, "lookups per kind (UIN, VID, phone)")
	fs.IntVar(&vids, "vids", 2_000, "perpetual VIDs to create for the VID lookups")
	fs.IntVar(&concurrency, "concurrency", 8, "concurrent lookups")
	fs.IntVar(&batch, "batch", 1000, "import batch size")
	fs.IntVar(&importWriter, "writers", 2, "concurrent import writers")
	fs.BoolVar(&skipImport, "skip-import", false, "reuse residents of an earlier run with the same --residents (same seed)")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	t, err := openTool(ctx, e, &c, fs, needRepo)
	if err != nil {
		return err
	}
	defer t.close()
	cfg, repo := t.cfg, t.repo

	// Synthetic residents: a fixed seed gives the same UINs and phones each
	// run, so --skip-import can reuse a loaded database.
	uins, phones, err := synthIDs(residents)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "sanad bench idrepo: %d residents, store %s, GOMAXPROCS %d\n", residents, cfg.Storage.Driver, runtime.GOMAXPROCS(0))
	if !skipImport {
		pr, pw := io.Pipe()
		go func() { pw.CloseWithError(writeSynthCSV(pw, uins, phones)) }()
		start := time.Now()
		report, err := repo.Import(ctx, pr, idrepo.FormatCSV, idrepo.ImportOptions{BatchSize: batch, Writers: importWriter,
			Progress: func(done, _ int) {
				if done%100_000 < batch {
					fmt.Fprintf(e.stderr, "\r  imported %d (%.0f/s)", done, float64(done)/time.Since(start).Seconds())
				}
			}})
		d := time.Since(start)
		fmt.Fprintln(e.stderr)
		if err != nil {
			return err
		}
		if len(report.Bad) > 0 {
			return fmt.Errorf("synthetic data rejected: line %d: %v", report.Bad[0].Line, report.Bad[0].Errors)
		}
		fmt.Fprintf(e.stdout, "import: %d residents in %s: %.0f residents/s (validate, seal, hash, write, audit)\n",
			report.Imported, d.Round(time.Millisecond), float64(report.Imported)/d.Seconds())
	}

	vidList := make([]string, 0, vids)
	for i := 0; i < vids && i < len(uins); i++ {
		v, err := repo.CreateVID(ctx, "bench", uins[i*len(uins)/vids], idrepo.VIDPerpetual)
		if err != nil {
			return fmt.Errorf("create VID: %w", err)
		}
		vidList = append(vidList, v.VID)
	}
	rng := rand.New(rand.NewPCG(2, 3))
	for _, kind := range []struct {
		name string
		ids  []string
	}{{"UIN", uins}, {"VID", vidList}, {"phone", phones}} {
		sample := make([]string, lookups)
		for i := range sample {
			sample[i] = kind.ids[rng.IntN(len(kind.ids))]
		}
		lat, d, err := measure(ctx, concurrency, sample, func(ctx context.Context, id string) error {
			_, err := repo.Lookup(ctx, id)
			return err
		})
		if err != nil {
			return fmt.Errorf("lookup by %s: %w", kind.name, err)
		}
		fmt.Fprintf(e.stdout, "lookup by %-5s %d lookups, concurrency %d: %.0f/s  p50 %s  p99 %s  max %s\n",
			kind.name, len(sample), concurrency, float64(len(sample))/d.Seconds(),
			pct(lat, 50), pct(lat, 99), lat[len(lat)-1].Round(time.Microsecond))
	}
	return nil
}

// measure runs fn over ids with the given concurrency and returns the sorted
// latencies and the wall time.
func measure(ctx context.Context, concurrency int, ids []string, fn func(context.Context, string) error) ([]time.Duration, time.Duration, error) {
	lat := make([]time.Duration, len(ids))
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ids) {
					return
				}
				t := time.Now()
				if err := fn(ctx, ids[i]); err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				lat[i] = time.Since(t)
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	slices.Sort(lat)
	return lat, d, firstErr
}

func pct(sorted []time.Duration, p int) time.Duration {
	return sorted[(len(sorted)-1)*p/100].Round(time.Microsecond)
}

// synthIDs makes n distinct valid UINs and phone numbers from a fixed seed.
func synthIDs(n int) (uins, phones []string, err error) {
	gen, err := idgen.New(idgen.DefaultUINRules(), seededReader{rand.New(rand.NewPCG(1, uint64(n)))})
	if err != nil {
		return nil, nil, err
	}
	seen := make(map[string]struct{}, n)
	for len(uins) < n {
		u, err := gen.Next()
		if err != nil {
			return nil, nil, err
		}
		if _, dup := seen[u]; dup {
			continue
		}
		seen[u] = struct{}{}
		uins = append(uins, u)
		phones = append(phones, fmt.Sprintf("+2547%08d", len(phones)))
	}
	return uins, phones, nil
}

type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(s.r.Uint32())
	}
	return len(p), nil
}

var (
	synthGiven  = []string{"Amina", "Jean", "Fatima", "Kwame", "Wanjiru", "Omar", "Chloé", "Tendai", "Lina", "Yusuf"}
	synthFamily = []string{"Diallo", "Dupont", "El Amrani", "Mensah", "Kamau", "Haddad", "Martin", "Moyo", "Okafor", "Traoré"}
)

// writeSynthCSV writes residents in the import format, in two languages.
func writeSynthCSV(w io.Writer, uins, phones []string) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"uin", "fullName#eng", "fullName#fra", "givenName#eng", "familyName#eng", "gender#eng",
		"dateOfBirth", "phone", "email", "addressLine1#eng", "city#eng", "postalCode"})
	for i, u := range uins {
		g, f := synthGiven[i%len(synthGiven)], synthFamily[(i/len(synthGiven))%len(synthFamily)]
		name := g + " " + f
		if err := cw.Write([]string{u, name, name, g, f, []string{"Female", "Male"}[i%2],
			fmt.Sprintf("%04d/%02d/%02d", 1940+i%60, 1+i%12, 1+i%28), phones[i],
			fmt.Sprintf("resident%d@example.org", i), fmt.Sprintf("%d Market Street", 1+i%300),
			"Nairobi", fmt.Sprintf("%05d", i%100000)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
