package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sanad-id/sanad/keys"
)

func migrate(ctx context.Context, e env, args []string) error {
	var c commonFlags
	fs := newFlagSet("migrate", e.stderr, &c)
	if err := parse(fs, args); err != nil {
		return err
	}
	t, err := openTool(ctx, e, &c, fs, needDB)
	if err != nil {
		return err
	}
	defer t.close()
	cfg, db, applied := t.cfg, t.db, t.applied
	v, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(e.stdout, "%s schema is up to date (version %d)\n", cfg.Storage.Driver, v)
		return nil
	}
	for _, m := range applied {
		fmt.Fprintf(e.stdout, "applied %s\n", m)
	}
	fmt.Fprintf(e.stdout, "%s schema is at version %d\n", cfg.Storage.Driver, v)
	return nil
}

func keysCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || (args[0] != "list" && args[0] != "rotate") {
		return usageError{fmt.Errorf("want `keys list` or `keys rotate`")}
	}
	sub := args[0]
	var (
		c          commonFlags
		purpose    string
		prepublish time.Duration
		asJSON     bool
	)
	fs := newFlagSet("keys "+sub, e.stderr, &c)
	fs.StringVar(&purpose, "purpose", "", "key set `purpose` ("+strings.Join(purposes(), ", ")+")")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	if sub == "rotate" {
		fs.DurationVar(&prepublish, "prepublish", defaultPrepublish,
			"publish the new signing keys this long before they start signing (relying parties cache JWKS)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if sub == "rotate" && purpose == "" {
		return usageError{fmt.Errorf("--purpose is required (one of %s)", strings.Join(purposes(), ", "))}
	}
	needs := needKeys
	if sub == "list" {
		needs = needDB // listing shows public data only: no master key needed
	}
	t, err := openTool(ctx, e, &c, fs, needs)
	if err != nil {
		return err
	}
	defer t.close()
	cfg := t.cfg
	var infos []keys.KeyInfo
	if sub == "list" {
		infos, err = keys.ListKeys(ctx, t.db, purpose, time.Now())
	} else if t.keys.secrets.IsSecretPurpose(purpose) {
		var info keys.KeyInfo
		info, err = t.keys.secrets.Rotate(ctx, purpose)
		infos = []keys.KeyInfo{info}
	} else {
		infos, err = t.keys.Rotate(ctx, purpose, prepublish)
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(infos)
	}
	if sub == "rotate" {
		fmt.Fprintf(e.stdout, "rotated %s: running servers pick the new keys up within %s (keys.refresh_interval)", purpose, cfg.Keys.RefreshInterval)
		if prepublish > 0 {
			fmt.Fprintf(e.stdout, "; new signing keys are published now and sign from %s", time.Now().Add(prepublish).UTC().Format(time.RFC3339))
		}
		fmt.Fprintln(e.stdout)
	}
	printKeys(e, infos)
	return nil
}

// defaultPrepublish outlasts the JWKS cache lifetime (5 min) plus the
// servers' key refresh interval, so no relying party meets a kid it cannot
// find in the JWKS it cached.
const defaultPrepublish = 6 * time.Minute

func purposes() []string {
	var out []string
	for _, s := range keys.DefaultSets() {
		out = append(out, s.Purpose)
	}
	for _, s := range keys.DefaultSecretPurposes() {
		if s.Use == keys.UseWrap {
			out = append(out, s.Purpose)
		}
	}
	return out
}

func printKeys(e env, infos []keys.KeyInfo) {
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tPURPOSE\tALG\tSTATUS\tCREATED\tNOT BEFORE\tPUBLISHED UNTIL")
	day := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.UTC().Format(time.RFC3339)
	}
	for _, k := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.KID, k.Purpose, k.Alg, k.Status,
			day(k.CreatedAt), day(k.NotBefore), day(k.PublishUntil))
	}
	tw.Flush()
}

// healthcheck probes a URL for container health checks (the image has no curl).
func healthcheck(ctx context.Context, e env, args []string) error {
	fs := flag.NewFlagSet("sanad healthcheck", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	u := fs.String("url", "http://127.0.0.1:8080/readyz", "`URL` that must answer 200")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := parse(fs, args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *u, nil)
	if err != nil {
		return usageError{err}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *u, resp.Status)
	}
	return nil
}
