package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/internal/config"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/oidctest"
)

const benchLoginUsage = `Usage: sanad bench login [flags]

Runs complete "Login with National ID" flows against a running server, as
relying party and browser at once (oidctest.RP): PAR or oauth-details,
send-otp, authenticate, claim-details (first sign-in of a resident),
auth-code, token with private_key_jwt (and DPoP), userinfo. It plays the SMS
gateway too: the server must send phone OTPs to --webhook-listen, so start it
with

  SANAD_NOTIFY_PHONE=webhook SANAD_NOTIFY_WEBHOOK_URL=http://127.0.0.1:9999/otp \
  SANAD_OIDC_LOGIN_RATE_LIMIT=-1 sanad serve --demo --data-dir /tmp/sanad-bench

The tool creates --residents synthetic residents (phone numbers +999…, a
range per --run-id; reused by a later run with the same id) and registers a
new client, deleted at the end. Every worker signs in with its own residents,
so no phone has two OTPs in flight.

--factor PIN signs the demo residents in with their PINs instead (the server
needs --demo): there is no admin API to set a PIN, so OTP is the factor of
synthetic residents.

Flags:
`

// benchLogin: `sanad bench login`, the load tool of the OpenID provider.
func benchLogin(ctx context.Context, e env, args []string) error {
	o, err := parseLoginBench(e, args)
	if err != nil {
		return err
	}
	_, err = o.run(ctx, e)
	return err
}

// loginBench is a run of `sanad bench login`.
type loginBench struct {
	url, adminToken    string
	flows, warmup      int
	duration           time.Duration
	concurrency        int
	rate               float64
	par, dpop          bool
	alg, factor, runID string
	residents          int
	webhookListen      string
	webhookSecret      string
	otpTimeout         time.Duration
	serverPID          int
	maxErrors          int

	// gw and gwURL are a gateway already listening (tests start it before
	// the server); nil: run starts one on webhookListen.
	gw    *otpGateway
	gwURL string
}

var runIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)

func parseLoginBench(e env, args []string) (*loginBench, error) {
	o := &loginBench{}
	fs := flag.NewFlagSet("sanad bench login", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchLoginUsage)
		fs.PrintDefaults()
	}
	var tokenFile string
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the server's public `URL` (its issuer)")
	fs.StringVar(&tokenFile, "admin-token-file", "", "`file` holding the admin API token (default: $SANAD_ADMIN_TOKEN)")
	fs.IntVar(&o.flows, "flows", 0, "complete flows to run (default 1000 without --duration)")
	fs.DurationVar(&o.duration, "duration", 0, "run for this long instead of a number of flows")
	fs.IntVar(&o.warmup, "warmup", -1, "flows run first and not measured (default: 2 × --concurrency)")
	fs.IntVar(&o.concurrency, "concurrency", 8, "flows in flight at most (workers)")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: start this many flows per second, late or not; 0: closed loop")
	fs.BoolVar(&o.par, "par", false, "push authorization requests (the client requires PAR)")
	fs.BoolVar(&o.dpop, "dpop", false, "DPoP-bound tokens (the client requires DPoP)")
	fs.StringVar(&o.alg, "alg", "ES256", "the client's ID token and userinfo `algorithm`: ES256, RS256, PS256 or EdDSA")
	fs.StringVar(&o.factor, "factor", "OTP", "OTP (synthetic residents, OTPs by webhook) or PIN (demo residents)")
	fs.IntVar(&o.residents, "residents", 0, "synthetic residents to sign in (default: --concurrency, at least 1 per worker)")
	fs.StringVar(&o.runID, "run-id", "bench", "names the residents' phone range: a later run with the same id reuses them")
	fs.StringVar(&o.webhookListen, "webhook-listen", "127.0.0.1:9999", "`address` of the SMS gateway webhook the server posts OTPs to (path /otp)")
	fs.StringVar(&o.webhookSecret, "webhook-secret", "", "check the webhook's HMAC signature with this secret (the server's notify.webhook.hmac_secret)")
	fs.DurationVar(&o.otpTimeout, "otp-timeout", 10*time.Second, "how long a flow waits for its OTP webhook")
	fs.IntVar(&o.serverPID, "server-pid", 0, "report this process's CPU time and memory (VmHWM, VmRSS)")
	fs.IntVar(&o.maxErrors, "max-errors", 100, "stop after this many failed flows")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	var bad []string
	if o.flows > 0 && o.duration > 0 {
		bad = append(bad, "give --flows or --duration, not both")
	}
	if o.flows < 0 || o.duration < 0 {
		bad = append(bad, "--flows and --duration must not be negative")
	}
	if o.flows == 0 && o.duration == 0 {
		o.flows = 1000
	}
	if o.concurrency < 1 {
		bad = append(bad, "--concurrency must be at least 1")
	}
	if o.rate < 0 || math.IsInf(o.rate, 0) || math.IsNaN(o.rate) {
		bad = append(bad, "--rate must be 0 (closed loop) or positive")
	}
	if o.warmup < 0 {
		o.warmup = 2 * o.concurrency
	}
	if o.residents == 0 {
		o.residents = o.concurrency
	}
	if o.factor != "OTP" && o.factor != "PIN" {
		bad = append(bad, "--factor must be OTP or PIN")
	}
	if o.factor == "OTP" && o.residents < o.concurrency {
		bad = append(bad, "--residents must be at least --concurrency: a phone has one OTP in flight at a time")
	}
	if !slices.Contains([]string{"ES256", "RS256", "PS256", "EdDSA"}, o.alg) {
		bad = append(bad, "--alg must be ES256, RS256, PS256 or EdDSA")
	}
	if !runIDPattern.MatchString(o.runID) {
		bad = append(bad, "--run-id must be 1 to 32 lower-case letters, digits and hyphens")
	}
	if o.webhookSecret != "" && len(o.webhookSecret) < 16 {
		bad = append(bad, "--webhook-secret must be at least 16 characters, as the server requires")
	}
	if len(bad) > 0 {
		return nil, usageError{errors.New(strings.Join(bad, "; "))}
	}
	o.url = strings.TrimRight(o.url, "/")
	if tokenFile != "" {
		tok, err := config.ReadSecretFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--admin-token-file: %w", err)
		}
		o.adminToken = tok.Reveal()
	} else {
		o.adminToken = lookupEnv(e.environ, "SANAD_ADMIN_TOKEN")
	}
	if o.adminToken == "" {
		return nil, usageError{errors.New("the admin API token is needed: --admin-token-file (with --demo: <data-dir>/admin-token) or SANAD_ADMIN_TOKEN")}
	}
	return o, nil
}

func lookupEnv(environ []string, name string) string {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v
		}
	}
	return ""
}

// loginFlow is one sign-in a worker can run: the login ID and, for PIN,
// the secret.
type loginFlow struct {
	loginID, secret string
}

// run sets up (gateway, residents, client), checks one flow, warms up, runs
// the measured flows and prints the report.
func (o *loginBench) run(ctx context.Context, e env) (*loginReport, error) {
	httpc := &http.Client{Timeout: 30 * time.Second}
	api := adminAPI{base: o.url, token: o.adminToken, client: httpc}

	issuer, err := discoverIssuer(ctx, httpc, o.url)
	if err != nil {
		return nil, err
	}
	mode := "closed loop"
	if o.rate > 0 {
		mode = fmt.Sprintf("open loop at %g flows/s", o.rate)
	}
	amount := fmt.Sprintf("%d flows", o.flows)
	if o.duration > 0 {
		amount = o.duration.String()
	}
	fmt.Fprintf(e.stdout, "sanad bench login: %s, %s, concurrency %d, %s; client %s, PAR %t, DPoP %t, factor %s; GOMAXPROCS %d\n",
		issuer, amount, o.concurrency, mode, o.alg, o.par, o.dpop, o.factor, runtime.GOMAXPROCS(0))

	// Who signs in: each worker gets its own list.
	var users []loginFlow
	switch o.factor {
	case "OTP":
		if o.gw == nil {
			o.gw = newOTPGateway(o.webhookSecret)
			url, stop, err := listenGateway(o.gw, o.webhookListen)
			if err != nil {
				return nil, err
			}
			defer stop()
			o.gwURL = url
		}
		start := time.Now()
		phones, created, reused, err := ensureResidents(ctx, api, o.runID, o.residents, min(o.concurrency, 8))
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(e.stdout, "residents: %d (%d created, %d reused from run %q) in %s; OTP webhook at %s\n",
			len(phones), created, reused, o.runID, time.Since(start).Round(time.Millisecond), o.gwURL)
		for _, p := range phones {
			users = append(users, loginFlow{loginID: p})
		}
	case "PIN":
		for _, r := range idrepo.DemoResidents() {
			if r.PIN != "" {
				users = append(users, loginFlow{loginID: r.UIN, secret: r.PIN})
			}
		}
		fmt.Fprintf(e.stdout, "residents: the %d demo residents, with their PINs\n", len(users))
	}
	if len(users) == 0 {
		return nil, errors.New("nobody to sign in")
	}

	cl, err := registerBenchClient(ctx, api, o.alg, o.dpop, o.par)
	if err != nil {
		return nil, err
	}
	defer func() {
		// The context may be cancelled (Ctrl-C): still remove the client.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := deleteBenchClient(dctx, api, cl.ID); err != nil {
			fmt.Fprintf(e.stderr, "sanad bench login: delete client %s: %v\n", cl.ID, err)
		}
	}()
	rp := &oidctest.RP{Issuer: issuer, Client: &oidctest.Client{ID: cl.ID, Key: cl.Key, RedirectURI: cl.RedirectURI}}
	if issuer != o.url {
		// Behind a proxy, or serving on another address than its public
		// URL: send to --url what the driver addresses to the issuer.
		fmt.Fprintf(e.stdout, "note: the issuer is %s; requests go to %s\n", issuer, o.url)
		if rp.HTTP, err = redirectIssuer(issuer, o.url, o.concurrency); err != nil {
			return nil, err
		}
	}
	if o.dpop {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, err
		}
		if rp.DPoPKey, err = jwk.Import(priv); err != nil {
			return nil, err
		}
	}
	fmt.Fprintf(e.stdout, "client: %s (private_key_jwt ES256, ID token and userinfo %s)\n", cl.ID, o.alg)

	r := &flowRunner{o: o, rp: rp, users: users}
	// One flow first, so that a deployment that cannot work says why at once.
	if rec := r.flow(ctx, users[0]); rec.err != nil {
		return nil, o.explain(rec.err)
	}
	if o.warmup > 0 {
		warm := r.runClosed(ctx, o.warmup, 0)
		if n := warm.failed(); n > 0 {
			return nil, fmt.Errorf("warm-up: %d of %d flows failed, first: %w", n, o.warmup, o.explain(warm.firstErr()))
		}
	}

	before := sampleUsage(o.serverPID)
	var res *runResult
	if o.rate > 0 {
		n := o.flows
		if o.duration > 0 {
			n = int(o.rate * o.duration.Seconds())
		}
		res = r.runOpen(ctx, n, o.rate)
	} else {
		res = r.runClosed(ctx, o.flows, o.duration)
	}
	after := sampleUsage(o.serverPID)
	rep := newLoginReport(res, before, after)
	rep.print(e.stdout, o)
	if o.gw != nil && o.gw.refused.Load() > 0 {
		fmt.Fprintf(e.stdout, "webhook: %d requests refused (bad signature or not a login OTP)\n", o.gw.refused.Load())
	}
	if ctx.Err() != nil {
		return rep, ctx.Err()
	}
	if rep.Failed > 0 {
		return rep, fmt.Errorf("%d of %d flows failed", rep.Failed, rep.Failed+rep.Completed)
	}
	return rep, nil
}

// discoverIssuer reads the provider's issuer from its discovery document:
// the driver sends every request to it and checks iss against it.
func discoverIssuer(ctx context.Context, c *http.Client, base string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+oidc.PathDiscoveryOIDC, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("is the server running? %w", err)
	}
	defer resp.Body.Close()
	var d struct {
		Issuer string `json:"issuer"`
	}
	if resp.StatusCode != http.StatusOK || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&d) != nil || d.Issuer == "" {
		return "", fmt.Errorf("GET %s%s: %d: not an OpenID provider (does the server run the oidc component?)", base, oidc.PathDiscoveryOIDC, resp.StatusCode)
	}
	return d.Issuer, nil
}

// redirectIssuer returns a client that sends requests for the issuer's
// host to base instead. It has no cookie jar: the driver then sends the
// CSRF cookie itself, per flow.
func redirectIssuer(issuer, base string, conns int) (*http.Client, error) {
	from, err := url.Parse(issuer)
	if err != nil {
		return nil, fmt.Errorf("issuer %q: %w", issuer, err)
	}
	to, err := url.Parse(base)
	if err != nil || to.Host == "" {
		return nil, fmt.Errorf("--url %q is not an absolute URL", base)
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = max(conns, 2) * 2
	return &http.Client{Timeout: time.Minute, Transport: hostRewriter{from: from.Host, to: to, next: t}}, nil
}

type hostRewriter struct {
	from string
	to   *url.URL
	next http.RoundTripper
}

func (h hostRewriter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host == h.from {
		req = req.Clone(req.Context())
		req.Host = h.from
		req.URL.Scheme, req.URL.Host = h.to.Scheme, h.to.Host
	}
	return h.next.RoundTrip(req)
}

// explain adds to err what to change in the deployment, when the error
// says.
func (o *loginBench) explain(err error) error {
	var oe *oidctest.Error
	switch {
	case errors.Is(err, errNoOTP):
		return fmt.Errorf("%w at %s: the server does not send phone OTPs to this tool. Start it with\n  %s",
			err, o.gwURL, serverCommand(o.gwURL, o.webhookSecret))
	case errors.As(err, &oe) && (oe.Status == http.StatusTooManyRequests || oe.Code == "rate_limited"):
		return fmt.Errorf("%w: the server limits sign-ins per IP address; start it with SANAD_OIDC_LOGIN_RATE_LIMIT=-1", err)
	case errors.As(err, &oe) && o.factor == "PIN" && oe.Code == "auth_failed":
		return fmt.Errorf("%w: --factor PIN signs in the demo residents: start the server with --demo", err)
	}
	return err
}

// flowRecord is one measured flow.
type flowRecord struct {
	total   time.Duration
	steps   []oidctest.StepTiming
	consent string
	err     error
}

// runResult is what a run measured.
type runResult struct {
	records []flowRecord
	wall    time.Duration
	late    int // open loop: flows that started more than 1 ms after their time
}

func (r *runResult) failed() int {
	n := 0
	for _, rec := range r.records {
		if rec.err != nil {
			n++
		}
	}
	return n
}

func (r *runResult) firstErr() error {
	for _, rec := range r.records {
		if rec.err != nil {
			return rec.err
		}
	}
	return nil
}

// flowRunner runs flows with the workers' residents.
type flowRunner struct {
	o     *loginBench
	rp    *oidctest.RP
	users []loginFlow
}

// flow runs one complete sign-in of u.
func (r *flowRunner) flow(ctx context.Context, u loginFlow) flowRecord {
	opts := oidctest.LoginOptions{PAR: r.o.par, Factor: r.o.factor, LoginID: u.loginID, Secret: u.secret}
	if r.o.factor == "OTP" {
		opts.ACRValues = acrOTP
		r.o.gw.forget(u.loginID)
		opts.OTP = func(ctx context.Context, loginID string) (string, error) {
			return r.o.gw.wait(ctx, loginID, r.o.otpTimeout)
		}
	} else {
		opts.ACRValues = acrPIN
	}
	start := time.Now()
	res, err := r.rp.Login(ctx, opts)
	rec := flowRecord{total: time.Since(start), err: err}
	if err == nil {
		rec.steps, rec.consent = res.Steps, res.ConsentAction
		if res.IDToken == "" || len(res.Userinfo) == 0 {
			rec.err = &oidctest.Error{Endpoint: "client", Code: oidctest.CodeBadResponse, Description: "no ID token or userinfo"}
		}
	}
	return rec
}

// usersOf is worker w's share of the residents: a phone is only ever in one
// worker's hands, so never has two OTPs in flight.
func (r *flowRunner) usersOf(w, workers int) []loginFlow {
	if r.o.factor == "PIN" {
		return r.users // no OTP: residents can be shared
	}
	var out []loginFlow
	for i := w; i < len(r.users); i += workers {
		out = append(out, r.users[i])
	}
	return out
}

// runClosed runs n flows (or, with d > 0, flows until d has passed) on the
// workers, each starting its next flow when the last one ends.
func (r *flowRunner) runClosed(ctx context.Context, n int, d time.Duration) *runResult {
	workers := r.o.concurrency
	if d == 0 {
		workers = min(workers, n)
	}
	var next, errs atomic.Int64
	per := make([][]flowRecord, workers)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			mine := r.usersOf(w, workers)
			for j := 0; ctx.Err() == nil && errs.Load() < int64(r.o.maxErrors); j++ {
				if d > 0 && !time.Now().Before(deadline) {
					return
				}
				if d == 0 && int(next.Add(1)) > n {
					return
				}
				rec := r.flow(ctx, mine[j%len(mine)])
				if rec.err != nil {
					errs.Add(1)
				}
				per[w] = append(per[w], rec)
			}
		})
	}
	wg.Wait()
	return &runResult{records: slices.Concat(per...), wall: time.Since(start)}
}

// runOpen starts n flows at rate per second whether or not earlier ones have
// ended (an open loop), on at most concurrency workers. A flow's latency
// counts from its scheduled start, so time spent waiting for a free worker
// is measured rather than hidden (no coordinated omission).
func (r *flowRunner) runOpen(ctx context.Context, n int, rate float64) *runResult {
	workers := min(r.o.concurrency, n)
	sched := make(chan time.Time, min(n, 1<<20))
	start := time.Now()
	go func() {
		defer close(sched)
		for i := range n {
			at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if w := time.Until(at); w > 0 {
				select {
				case <-time.After(w):
				case <-ctx.Done():
					return
				}
			}
			sched <- at
		}
	}()
	var errs, late atomic.Int64
	per := make([][]flowRecord, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			mine := r.usersOf(w, workers)
			j := 0
			for at := range sched {
				if ctx.Err() != nil || errs.Load() >= int64(r.o.maxErrors) {
					continue // drain
				}
				if time.Since(at) > time.Millisecond {
					late.Add(1)
				}
				rec := r.flow(ctx, mine[j%len(mine)])
				j++
				rec.total = time.Since(at)
				if rec.err != nil {
					errs.Add(1)
				}
				per[w] = append(per[w], rec)
			}
		})
	}
	wg.Wait()
	return &runResult{records: slices.Concat(per...), wall: time.Since(start), late: int(late.Load())}
}

// ---- Report

// stepOrder is the order of a flow's steps in the report.
var stepOrder = []string{"par", "csrf", "oauth-details", "send-otp", "otp", "authenticate", "claim-details", "auth-code", "token", "userinfo"}

// latencies are the percentiles of a set of durations.
type latencies struct {
	N                  int
	P50, P90, P99, Max time.Duration
}

func latenciesOf(d []time.Duration) latencies {
	s := slices.Clone(d)
	slices.Sort(s)
	return latencies{N: len(s), P50: percentile(s, 50), P90: percentile(s, 90), P99: percentile(s, 99), Max: percentile(s, 100)}
}

// percentile is the nearest-rank percentile of sorted: the smallest value
// that at least p percent of the values do not exceed.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// procUsage is a process's CPU time and memory at one moment.
type procUsage struct {
	clientCPU time.Duration // this process
	serverCPU time.Duration // --server-pid, or 0
	hwm, rss  int64         // --server-pid's VmHWM and VmRSS, kB
	ok        bool          // the server's figures were read
}

func sampleUsage(pid int) procUsage {
	var u procUsage
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		u.clientCPU = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if pid <= 0 {
		return u
	}
	cpu, err1 := procCPU(pid)
	hwm, rss, err2 := procMemory(pid)
	u.serverCPU, u.hwm, u.rss, u.ok = cpu, hwm, rss, err1 == nil && err2 == nil
	return u
}

// procMemory reads VmHWM and VmRSS (kB) from /proc/<pid>/status.
func procMemory(pid int) (hwm, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	return parseProcStatus(string(b))
}

func parseProcStatus(s string) (hwm, rss int64, err error) {
	for line := range strings.Lines(s) {
		name, v, ok := strings.Cut(line, ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: %w", name, err)
		}
		if name == "VmHWM" {
			hwm = n
		} else {
			rss = n
		}
	}
	if hwm == 0 || rss == 0 {
		return 0, 0, errors.New("no VmHWM or VmRSS")
	}
	return hwm, rss, nil
}

// procCPU reads utime + stime from /proc/<pid>/stat. Linux reports them in
// USER_HZ, 100 per second on every architecture Go supports.
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: count fields after it.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(string(b)[i+1:])
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat format")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unexpected /proc stat format")
	}
	return time.Duration(ut+st) * (time.Second / 100), nil
}

// loginReport is the summary of a run.
type loginReport struct {
	Completed, Failed int
	Wall              time.Duration
	Late              int
	FlowsPerSecond    float64
	Flow              latencies
	Steps             map[string]latencies
	Consent           map[string]int
	// Errors counts failed flows by "endpoint code"; Example has one
	// message of each.
	Errors  map[string]int
	Example map[string]string
	Before  procUsage
	After   procUsage
}

func newLoginReport(res *runResult, before, after procUsage) *loginReport {
	rep := &loginReport{Wall: res.wall, Late: res.late, Steps: map[string]latencies{}, Consent: map[string]int{},
		Errors: map[string]int{}, Example: map[string]string{}, Before: before, After: after}
	var total []time.Duration
	steps := map[string][]time.Duration{}
	for _, rec := range res.records {
		if rec.err != nil {
			rep.Failed++
			k := errorKey(rec.err)
			rep.Errors[k]++
			if _, ok := rep.Example[k]; !ok {
				rep.Example[k] = rec.err.Error()
			}
			continue
		}
		rep.Completed++
		rep.Consent[rec.consent]++
		total = append(total, rec.total)
		for _, s := range rec.steps {
			steps[s.Step] = append(steps[s.Step], s.Duration)
		}
	}
	rep.Flow = latenciesOf(total)
	for name, d := range steps {
		rep.Steps[name] = latenciesOf(d)
	}
	if res.wall > 0 {
		rep.FlowsPerSecond = float64(rep.Completed) / res.wall.Seconds()
	}
	return rep
}

// errorKey classifies a failed flow: the endpoint and the protocol error
// code, or what failed on the client's side.
func errorKey(err error) string {
	var oe *oidctest.Error
	switch {
	case errors.As(err, &oe):
		return fmt.Sprintf("%s %s (HTTP %d)", oe.Endpoint, oe.Code, oe.Status)
	case errors.Is(err, errNoOTP):
		return "otp-webhook timeout"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return "client " + err.Error()
	}
	return "network/client error"
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

func (rep *loginReport) print(w io.Writer, o *loginBench) {
	fmt.Fprintf(w, "flows: %d completed, %d failed in %s: %.1f flows/s", rep.Completed, rep.Failed, rep.Wall.Round(time.Millisecond), rep.FlowsPerSecond)
	if o.rate > 0 {
		fmt.Fprintf(w, " (target %g/s; %d started more than 1 ms late)", o.rate, rep.Late)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "%-18s %9s %9s %9s %9s %8s\n", "latency (ms)", "p50", "p90", "p99", "max", "n")
	row := func(name string, l latencies) {
		fmt.Fprintf(w, "%-18s %9s %9s %9s %9s %8d\n", name, ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max), l.N)
	}
	row("complete flow", rep.Flow)
	names := slices.Collect(maps.Keys(rep.Steps))
	slices.SortFunc(names, func(a, b string) int {
		ia, ib := slices.Index(stepOrder, a), slices.Index(stepOrder, b)
		if ia < 0 {
			ia = len(stepOrder)
		}
		if ib < 0 {
			ib = len(stepOrder)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	for _, name := range names {
		row("  "+name, rep.Steps[name])
	}
	var consent []string
	for _, k := range slices.Sorted(maps.Keys(rep.Consent)) {
		consent = append(consent, fmt.Sprintf("%s %d", k, rep.Consent[k]))
	}
	fmt.Fprintf(w, "consent: %s\n", strings.Join(consent, ", "))
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "errors: none")
	} else {
		fmt.Fprintln(w, "errors:")
		for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
			fmt.Fprintf(w, "  %6d  %s  e.g. %s\n", rep.Errors[k], k, rep.Example[k])
		}
	}
	n := float64(max(1, rep.Completed+rep.Failed))
	cpu := rep.After.clientCPU - rep.Before.clientCPU
	fmt.Fprintf(w, "load tool: CPU %.2f s (%.3f ms per flow)", cpu.Seconds(), float64(cpu)/float64(time.Millisecond)/n)
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		// Other work on the machine skews every figure: say how much there was.
		if f := strings.Fields(string(b)); len(f) > 0 {
			fmt.Fprintf(w, "; machine: %d cores, load average %s", runtime.NumCPU(), f[0])
		}
	}
	fmt.Fprintln(w)
	if o.serverPID > 0 {
		if !rep.After.ok {
			fmt.Fprintf(w, "server: pid %d: cannot read /proc/%d\n", o.serverPID, o.serverPID)
			return
		}
		scpu := rep.After.serverCPU - rep.Before.serverCPU
		fmt.Fprintf(w, "server: pid %d, CPU %.2f s (%.3f ms per flow, %.0f%% of %d cores), VmHWM %.1f MB, VmRSS %.1f MB\n",
			o.serverPID, scpu.Seconds(), float64(scpu)/float64(time.Millisecond)/n,
			100*scpu.Seconds()/rep.Wall.Seconds()/float64(runtime.NumCPU()), runtime.NumCPU(),
			float64(rep.After.hwm)/1024, float64(rep.After.rss)/1024)
	}
}
