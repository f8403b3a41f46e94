package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sanad-id/sanad/idrepo"
)

// residentsCommand: `sanad residents import FILE`.
func residentsCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		return usageError{fmt.Errorf("want `residents import FILE`")}
	}
	var (
		c         commonFlags
		format    string
		batchSize int
	)
	fs := newFlagSet("residents import", e.stderr, &c)
	fs.StringVar(&format, "format", "", "csv or jsonl (default: from the file name)")
	fs.IntVar(&batchSize, "batch", 500, "residents written per transaction")
	// The file name comes last, or first: accept both orders.
	rest := args[1:]
	var file string
	if len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		file, rest = rest[0], rest[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return usageError{err}
	}
	if file == "" && fs.NArg() == 1 {
		file = fs.Arg(0)
	} else if fs.NArg() > 0 || file == "" {
		return usageError{fmt.Errorf("want exactly one FILE")}
	}
	if format == "" {
		switch strings.ToLower(filepath.Ext(file)) {
		case ".csv":
			format = idrepo.FormatCSV
		case ".jsonl", ".ndjson":
			format = idrepo.FormatJSONL
		default:
			return usageError{fmt.Errorf("cannot tell the format of %s: pass --format csv or --format jsonl", file)}
		}
	}
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	t, err := openTool(ctx, e, &c, fs, needRepo)
	if err != nil {
		return err
	}
	defer t.close()
	cfg, repo := t.cfg, t.repo
	start := time.Now()
	last := start
	writers := 1 // SQLite has one writer at a time
	if cfg.Storage.Driver == "postgres" {
		writers = 2
	}
	report, err := repo.Import(ctx, f, format, idrepo.ImportOptions{
		BatchSize: batchSize,
		Writers:   writers,
		Progress: func(done, bad int) {
			if time.Since(last) < time.Second {
				return
			}
			last = time.Now()
			fmt.Fprintf(e.stderr, "\rimported %d, rejected %d (%.0f/s)", done, bad, float64(done)/time.Since(start).Seconds())
		},
	})
	if cerr := t.close(); err == nil {
		err = cerr // the audit entries of the import are flushed here
	}
	elapsed := time.Since(start)
	fmt.Fprint(e.stderr, "\r")
	for _, b := range report.Bad {
		var why []string
		for _, fe := range b.Errors {
			field := fe.Field
			if field == "" {
				field = "(row)"
			}
			why = append(why, fmt.Sprintf("%s: %s", field, fe.Message))
		}
		fmt.Fprintf(e.stdout, "line %d: %s\n", b.Line, strings.Join(why, "; "))
	}
	fmt.Fprintf(e.stdout, "imported %d residents, rejected %d rows, in %s (%.0f/s)\n",
		report.Imported, len(report.Bad), elapsed.Round(time.Millisecond), float64(report.Imported)/elapsed.Seconds())
	if err != nil {
		return err
	}
	if len(report.Bad) > 0 {
		return fmt.Errorf("%d rows rejected (listed above); the other rows were imported", len(report.Bad))
	}
	return nil
}

// auditCommand: `sanad audit verify`.
func auditCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{fmt.Errorf("want `audit verify`")}
	}
	var c commonFlags
	fs := newFlagSet("audit verify", e.stderr, &c)
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	t, err := openTool(ctx, e, &c, fs, needDB)
	if err != nil {
		return err
	}
	defer t.close()
	report, err := idrepo.VerifyAudit(ctx, t.db, nil)
	if err != nil {
		return err
	}
	if p := report.Problem; p != nil {
		return fmt.Errorf("audit log damaged at entry %d (%s): %s; %d entries before it verified", p.Seq, p.Kind, p.Detail, report.Checked)
	}
	fmt.Fprintf(e.stdout, "audit log intact: %d entries verified, last entry %d, hash %x\n", report.Checked, report.LastSeq, report.LastHash)
	return nil
}
