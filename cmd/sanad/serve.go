package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/sanad-id/sanad/idrepo"
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
	eng, err := web.New(web.Options{
		Logger:         log,
		MaxBodyBytes:   cfg.HTTP.MaxBodyBytes,
		HSTS:           u.Scheme == "https",
		TrustedProxies: cfg.HTTP.TrustedProxies,
		Ready: []web.Check{
			{Name: "store", Ping: db.Ping},
			{Name: "state", Ping: state.Ping},
		},
	})
	if err != nil {
		return fmt.Errorf("http.trusted_proxies: %w", err)
	}
	components := cfg.ResolvedComponents()
	var bankURL string
	admin := registerAdmin(eng, ks, sec.adminToken)

	notifier, err := openNotifier(cfg)
	if err != nil {
		return err
	}
	repo, err := openRepo(cfg, db, ks, log)
	if err != nil {
		return err
	}
	// Close flushes the audit log; it runs after the server has drained.
	defer repo.Close()
	auth, err := openAuthn(cfg, repo, db, state, notifier, ks, log)
	if err != nil {
		return err
	}
	if cfg.Runs("idrepo") {
		repo.RegisterAdmin(admin)
	}
	// The issuer and the provider need each other: the provider redeems the
	// issuer's pre-authorized codes and puts its scopes in access tokens;
	// the issuer verifies those tokens with the provider. A process that
	// runs either builds both (they share the database and the state
	// store) and serves the routes of the components it runs.
	var is *issuerParts
	if cfg.Runs("issuer") || cfg.Runs("oidc") {
		if is, err = openIssuer(cfg, db, state, ks, repo, notifier, log); err != nil {
			return err
		}
		provider, err := openProvider(cfg, db, state, ks, auth, is.issuer, log)
		if err != nil {
			return err
		}
		is.tokens.Provider = provider
		if cfg.Runs("issuer") {
			is.issuer.Register(eng, admin)
		}
	}
	if cfg.Runs("oidc") {
		provider := is.tokens.Provider
		provider.Register(eng)
		oidc.NewClientRegistry(db, nil).RegisterClientAdmin(admin)
		if cfg.Demo && !cfg.OIDC.DisableDemoBank {
			if bankURL, err = startDemoBank(ctx, cfg, eng, db, log); err != nil {
				return err
			}
		}
	}
	var demo []idrepo.DemoResident
	if cfg.Demo {
		created, err := seedDemo(ctx, repo, auth)
		if err != nil {
			return err
		}
		if len(created) > 0 {
			// Hashing the demo PINs and passwords (Argon2id, 19 MiB each)
			// grew the heap; give that memory back before idling.
			debug.FreeOSMemory()
		}
		demo = idrepo.DemoResidents()
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	if cfg.HTTP.PprofAddr != "" {
		stop, err := servePprof(cfg.HTTP.PprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
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
	printBanner(e, cfg, ln.Addr().String(), components, demo, bankURL)
	return web.Serve(ctx, ln, eng, web.ServerOptions{
		ReadHeaderTimeout: cfg.HTTP.ReadHeaderTimeout,
		ReadTimeout:       cfg.HTTP.ReadTimeout,
		WriteTimeout:      cfg.HTTP.WriteTimeout,
		IdleTimeout:       cfg.HTTP.IdleTimeout,
		ShutdownTimeout:   cfg.HTTP.ShutdownTimeout,
	}, log)
}

// printBanner tells the person at the terminal what to open.
func printBanner(e env, cfg config.Config, addr string, components []string, demo []idrepo.DemoResident, bankURL string) {
	base := strings.TrimRight(cfg.PublicURL, "/")
	mode := ""
	if cfg.Demo {
		mode = " (demo)"
	}
	fmt.Fprintf(e.stdout, "\nSanad %s is running%s on %s, components: %s\n", versionString(), mode, addr, strings.Join(components, ", "))
	if cfg.Runs("oidc") {
		fmt.Fprintf(e.stdout, "  OpenID provider:          %s/.well-known/openid-configuration\n", base)
		fmt.Fprintf(e.stdout, "  OIDC signing keys (JWKS): %s/.well-known/jwks.json\n", base)
	}
	if cfg.Runs("issuer") {
		id := cfg.IssuerID()
		u, _ := url.Parse(id)
		fmt.Fprintf(e.stdout, "  Credential issuer:        %s/.well-known/openid-credential-issuer%s\n", base, strings.TrimRight(u.EscapedPath(), "/"))
		fmt.Fprintf(e.stdout, "  Credential offers:        %s/v1/credential-offers (admin token; docs/issuer.md)\n", base)
		fmt.Fprintf(e.stdout, "  Issued credentials:       %s/v1/credentials (admin token; revoke, suspend, reinstate: docs/api/issuer-admin.yaml)\n", base)
	}
	if bankURL != "" {
		fmt.Fprintf(e.stdout, "  Demo bank (log in here):  %s\n", bankURL)
	}
	fmt.Fprintf(e.stdout, "  Admin API:                %s/admin/v1/keys (Authorization: Bearer <admin token>)\n", base)
	if cfg.Runs("idrepo") {
		fmt.Fprintf(e.stdout, "  ID repository admin API:  %s/v1/identities (docs/api/idrepo.yaml)\n", base)
	}
	if cfg.Runs("oidc") {
		fmt.Fprintf(e.stdout, "  Client management API:    %s/client-mgmt/client (eSignet's v3 shape)\n", base)
	}
	fmt.Fprintf(e.stdout, "  Health, readiness:        %s/healthz  %s/readyz\n", base, base)
	fmt.Fprintf(e.stdout, "  Metrics (Prometheus):     %s/metrics\n", base)
	fmt.Fprintf(e.stdout, "  Data:                     %s (%s), state: %s\n", cfg.DataDir, cfg.Storage.Driver, cfg.State.Driver)
	if len(demo) > 0 {
		fmt.Fprintf(e.stdout, "  Demo residents (public test data; OTPs go to %s):\n", cfg.OutboxFile())
		for _, r := range demo {
			fmt.Fprintf(e.stdout, "    UIN %s  PIN %s  password %s  %s\n", r.UIN, r.PIN, r.Password, demoName(r))
		}
	}
	fmt.Fprintln(e.stdout, "Stop with Ctrl-C (in-flight requests finish first).")
}

// demoName is the English full name of a demo resident, for the banner.
func demoName(r idrepo.DemoResident) string {
	names, _ := r.Identity["fullName"].([]any)
	for _, n := range names {
		if m, ok := n.(map[string]any); ok && m["language"] == "eng" {
			s, _ := m["value"].(string)
			return s
		}
	}
	return ""
}
