package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"

	"github.com/sanad-id/sanad/internal/config"
	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/oidc"
)

func serve(ctx context.Context, e env, args []string) error {
	var c commonFlags
	fs := newFlagSet("serve", e.stderr, &c)
	c.serveFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := c.load(fs, e.environ)
	if err != nil {
		return err
	}
	sec, err := resolveSecrets(&cfg, true)
	if err != nil {
		return err
	}
	log, err := web.NewLogger(e.stderr, cfg.Log.Format, cfg.Log.Level)
	if err != nil {
		return err
	}
	for _, n := range sec.notes {
		if strings.HasPrefix(n, "generated an admin API token") {
			// The token itself is printed for the person at the terminal, never logged.
			fmt.Fprintln(e.stdout, n)
			continue
		}
		log.Warn(n)
	}

	db, applied, err := openDurable(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if len(applied) > 0 {
		log.Info("applied database migrations", "driver", cfg.Storage.Driver, "migrations", applied)
	}
	state, err := openState(ctx, cfg)
	if err != nil {
		return err
	}
	defer state.Close()
	ks, err := openKeys(ctx, cfg, db, sec.master, log)
	if err != nil {
		return err
	}

	u, _ := url.Parse(cfg.PublicURL)
	eng := web.New(web.Options{
		Logger:       log,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		HSTS:         u.Scheme == "https",
		Ready: []web.Check{
			{Name: "store", Ping: db.Ping},
			{Name: "state", Ping: state.Ping},
		},
	})
	components := cfg.ResolvedComponents()
	if cfg.Runs("oidc") {
		oidc.RegisterJWKS(eng, ks)
	}
	registerAdmin(eng, ks, sec.adminToken)

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	runCtx, stopBackground := context.WithCancel(ctx)
	wg.Go(func() { ks.Run(runCtx) })
	defer func() {
		stopBackground()
		wg.Wait()
	}()

	log.Info("sanad serving", "version", versionString(), "addr", ln.Addr().String(),
		"public_url", cfg.PublicURL, "components", components,
		"storage", cfg.Storage.Driver, "state", cfg.State.Driver, "demo", cfg.Demo)
	printBanner(e, cfg, ln.Addr().String(), components)
	return web.Serve(ctx, ln, eng, web.ServerOptions{
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ShutdownTimeout:   cfg.HTTP.ShutdownTimeout,
	}, log)
}

// printBanner tells the person at the terminal what to open.
func printBanner(e env, cfg config.Config, addr string, components []string) {
	base := strings.TrimRight(cfg.PublicURL, "/")
	mode := ""
	if cfg.Demo {
		mode = " (demo)"
	}
	fmt.Fprintf(e.stdout, "\nSanad %s is running%s on %s, components: %s\n", versionString(), mode, addr, strings.Join(components, ", "))
	if cfg.Runs("oidc") {
		fmt.Fprintf(e.stdout, "  OIDC signing keys (JWKS): %s/.well-known/jwks.json\n", base)
	}
	fmt.Fprintf(e.stdout, "  Admin API:                %s/admin/v1/keys (Authorization: Bearer <admin token>)\n", base)
	fmt.Fprintf(e.stdout, "  Health, readiness:        %s/healthz  %s/readyz\n", base, base)
	fmt.Fprintf(e.stdout, "  Metrics (Prometheus):     %s/metrics\n", base)
	fmt.Fprintf(e.stdout, "  Data:                     %s (%s), state: %s\n", cfg.DataDir, cfg.Storage.Driver, cfg.State.Driver)
	fmt.Fprintln(e.stdout, "Stop with Ctrl-C (in-flight requests finish first).")
}
