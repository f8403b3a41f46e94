package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sanad-id/sanad/internal/config"
)

const benchCredentialUsage = `Usage: sanad bench credential [flags]

Measures the credential endpoint of a running server with every check it
makes: access token, DPoP-less bearer binding, proof JWT signature, audience
and nonce (single use), rendering, signing and the ledger write. Each
worker gets an access token once (a pre-authorized offer from the admin API,
redeemed at the token endpoint), then loops: POST /nonce, sign --batch proof
JWTs with distinct ES256 holder keys, POST /credential. Credentials/s counts
credentials received.

  sanad serve --demo --data-dir /tmp/sanad-bench
  sanad bench credential --admin-token-file /tmp/sanad-bench/admin-token \
    --config national-id-sd-jwt --duration 20s

Flags:
`

// credentialBench is a run of `sanad bench credential`.
type credentialBench struct {
	url, adminToken string
	configID        string
	individual      string
	batch           int
	concurrency     int
	duration        time.Duration
	requests        int
	serverPID       int
}

func parseCredentialBench(e env, args []string) (*credentialBench, error) {
	o := &credentialBench{}
	fs := flag.NewFlagSet("sanad bench credential", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), benchCredentialUsage)
		fs.PrintDefaults()
	}
	var tokenFile string
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080", "the server's public `URL`")
	fs.StringVar(&tokenFile, "admin-token-file", "", "`file` holding the admin API token (default: $SANAD_ADMIN_TOKEN)")
	fs.StringVar(&o.configID, "config", "national-id-sd-jwt", "credential_configuration_id to request")
	fs.StringVar(&o.individual, "individual", "9169748726", "UIN (or VID, phone, e-mail) of the resident the offers are for")
	fs.IntVar(&o.batch, "batch", 1, "credentials per request (proofs with distinct keys); at most the server's batch size")
	fs.IntVar(&o.concurrency, "concurrency", 8, "requests in flight at most (workers, one access token each)")
	fs.DurationVar(&o.duration, "duration", 0, "run for this long (default 10s without --requests)")
	fs.IntVar(&o.requests, "requests", 0, "credential requests to run instead of --duration")
	fs.IntVar(&o.serverPID, "server-pid", 0, "report this process's CPU time and memory (VmHWM, VmRSS)")
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	var bad []string
	if o.requests > 0 && o.duration > 0 {
		bad = append(bad, "give --requests or --duration, not both")
	}
	if o.requests < 0 || o.duration < 0 {
		bad = append(bad, "--requests and --duration must not be negative")
	}
	if o.requests == 0 && o.duration == 0 {
		o.duration = 10 * time.Second
	}
	if o.batch < 1 || o.batch > 100 {
		bad = append(bad, "--batch must be between 1 and 100")
	}
	if o.concurrency < 1 {
		bad = append(bad, "--concurrency must be at least 1")
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

// credentialReport is the summary of a run.
type credentialReport struct {
	Requests, Credentials, Failed int
	Wall                          time.Duration
	CredentialsPerSecond          float64
	Request                       latencies
	Errors                        map[string]int
	Before, After                 procUsage
}

// benchHolder is a holder key and the proof JWT header that names it.
type benchHolder struct {
	key    *ecdsa.PrivateKey
	header string // base64url of the protected header
}

func newBenchHolder() (*benchHolder, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	b64 := base64.RawURLEncoding
	pub, err := k.PublicKey.Bytes() // 0x04 || X || Y
	if err != nil {
		return nil, err
	}
	h, err := json.Marshal(map[string]any{
		"typ": "openid4vci-proof+jwt", "alg": "ES256",
		"jwk": map[string]string{"kty": "EC", "crv": "P-256",
			"x": b64.EncodeToString(pub[1:33]),
			"y": b64.EncodeToString(pub[33:65])},
	})
	if err != nil {
		return nil, err
	}
	return &benchHolder{key: k, header: b64.EncodeToString(h)}, nil
}

// proof signs a proof JWT for the issuer and nonce.
func (h *benchHolder) proof(aud, nonce string, now time.Time) (string, error) {
	b64 := base64.RawURLEncoding
	p, err := json.Marshal(map[string]any{"aud": aud, "iat": now.Unix(), "nonce": nonce})
	if err != nil {
		return "", err
	}
	input := h.header + "." + b64.EncodeToString(p)
	sum := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, h.key, sum[:])
	if err != nil {
		return "", err
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64.EncodeToString(sig), nil
}

// benchCredentialStatusError is a refused request: the endpoint, HTTP
// status and OAuth error code.
type benchCredentialStatusError struct {
	endpoint string
	status   int
	code     string
}

func (e *benchCredentialStatusError) Error() string {
	return fmt.Sprintf("%s: HTTP %d %s", e.endpoint, e.status, e.code)
}

// postJSON posts body (JSON, or a form when form is set) and decodes a 200
// answer into out.
func postJSON(ctx context.Context, c *http.Client, endpoint, bearer string, body any, form url.Values, out any) error {
	var rd io.Reader
	ct := "application/json"
	if form != nil {
		rd, ct = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ct)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &benchCredentialStatusError{endpoint: endpoint, status: resp.StatusCode, code: errorCodeOf(b)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// benchCredentialWorker is what one worker holds: its access token and
// holder keys.
type benchCredentialWorker struct {
	token   string
	holders []*benchHolder
}

func benchCredential(ctx context.Context, e env, args []string) error {
	o, err := parseCredentialBench(e, args)
	if err != nil {
		return err
	}
	_, err = o.run(ctx, e)
	return err
}

// run gets the workers' tokens, runs the requests and prints the report.
func (o *credentialBench) run(ctx context.Context, e env) (*credentialReport, error) {
	// The endpoints the server names are on its public URL; requests for
	// that host go to --url (they differ behind a proxy, or in tests).
	issuer, err := discoverIssuer(ctx, &http.Client{Timeout: 30 * time.Second}, o.url)
	if err != nil {
		return nil, err
	}
	httpc, err := redirectIssuer(issuer, o.url, o.concurrency)
	if err != nil {
		return nil, err
	}
	api := adminAPI{base: o.url, token: o.adminToken, client: httpc}

	var as struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := getJSON(ctx, httpc, o.url+"/.well-known/openid-configuration", &as); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	workers := make([]*benchCredentialWorker, o.concurrency)
	var issuerID string
	for i := range workers {
		var offer struct {
			Offer struct {
				Issuer string `json:"credential_issuer"`
				Grants map[string]struct {
					Code string `json:"pre-authorized_code"`
				} `json:"grants"`
			} `json:"credential_offer"`
		}
		body := map[string]any{"individualId": o.individual, "credential_configuration_ids": []string{o.configID}}
		if err := api.do(ctx, http.MethodPost, "/v1/credential-offers", body, &offer); err != nil {
			return nil, fmt.Errorf("create an offer: %w", err)
		}
		issuerID = offer.Offer.Issuer
		code := offer.Offer.Grants["urn:ietf:params:oauth:grant-type:pre-authorized_code"].Code
		var tok struct {
			AccessToken string `json:"access_token"`
		}
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:pre-authorized_code"}, "pre-authorized_code": {code}}
		if err := postJSON(ctx, httpc, as.TokenEndpoint, "", nil, form, &tok); err != nil {
			return nil, fmt.Errorf("redeem the offer: %w", err)
		}
		w := &benchCredentialWorker{token: tok.AccessToken}
		for range o.batch {
			h, err := newBenchHolder()
			if err != nil {
				return nil, err
			}
			w.holders = append(w.holders, h)
		}
		workers[i] = w
	}
	var meta struct {
		Nonce      string `json:"nonce_endpoint"`
		Credential string `json:"credential_endpoint"`
	}
	if err := getJSON(ctx, httpc, wellKnownIssuerURL(issuerID), &meta); err != nil {
		return nil, fmt.Errorf("issuer metadata: %w", err)
	}

	one := func(ctx context.Context, w *benchCredentialWorker) (int, error) {
		var n struct {
			CNonce string `json:"c_nonce"`
		}
		if err := postJSON(ctx, httpc, meta.Nonce, "", nil, nil, &n); err != nil {
			return 0, err
		}
		now := time.Now()
		proofs := make([]string, len(w.holders))
		for i, h := range w.holders {
			p, err := h.proof(issuerID, n.CNonce, now)
			if err != nil {
				return 0, err
			}
			proofs[i] = p
		}
		var resp struct {
			Credentials []json.RawMessage `json:"credentials"`
		}
		req := map[string]any{"credential_configuration_id": o.configID, "proofs": map[string]any{"jwt": proofs}}
		if err := postJSON(ctx, httpc, meta.Credential, w.token, req, nil, &resp); err != nil {
			return 0, err
		}
		if len(resp.Credentials) != len(proofs) {
			return 0, fmt.Errorf("%d credentials for %d proofs", len(resp.Credentials), len(proofs))
		}
		return len(resp.Credentials), nil
	}
	// One request per worker first: checks the setup and warms the server.
	for _, w := range workers {
		if _, err := one(ctx, w); err != nil {
			return nil, fmt.Errorf("first credential request: %w", err)
		}
	}

	before := sampleUsage(o.serverPID)
	rep := &credentialReport{Errors: map[string]int{}, Before: before}
	var (
		mu        sync.Mutex
		lat       []time.Duration
		remaining atomic.Int64
		wg        sync.WaitGroup
	)
	remaining.Store(int64(o.requests))
	runCtx := ctx
	if o.duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	start := time.Now()
	for _, w := range workers {
		wg.Go(func() {
			for runCtx.Err() == nil {
				if o.requests > 0 && remaining.Add(-1) < 0 {
					return
				}
				t0 := time.Now()
				n, err := one(runCtx, w)
				d := time.Since(t0)
				if err != nil && runCtx.Err() != nil {
					return // cut off by the end of the run
				}
				mu.Lock()
				rep.Requests++
				if err != nil {
					rep.Failed++
					rep.Errors[benchErrorKey(err)]++
				} else {
					rep.Credentials += n
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	rep.Wall = time.Since(start)
	rep.After = sampleUsage(o.serverPID)
	rep.Request = latenciesOf(lat)
	if rep.Wall > 0 {
		rep.CredentialsPerSecond = float64(rep.Credentials) / rep.Wall.Seconds()
	}
	rep.print(e.stdout, o)
	return rep, nil
}

// wellKnownIssuerURL is the metadata URL of a credential issuer, with the
// well-known segment inserted before the identifier's path.
func wellKnownIssuerURL(id string) string {
	u, err := url.Parse(id)
	if err != nil {
		return id + "/.well-known/openid-credential-issuer"
	}
	return u.Scheme + "://" + u.Host + "/.well-known/openid-credential-issuer" + strings.TrimRight(u.EscapedPath(), "/")
}

func getJSON(ctx context.Context, c *http.Client, u string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 4<<20)).Decode(out)
}

func benchErrorKey(err error) string {
	var se *benchCredentialStatusError
	if errors.As(err, &se) {
		return se.Error()
	}
	return "network/client error"
}

func (rep *credentialReport) print(w io.Writer, o *credentialBench) {
	fmt.Fprintf(w, "credential endpoint, %s, batch %d, %d workers: %d requests, %d credentials in %s\n",
		o.configID, o.batch, o.concurrency, rep.Requests, rep.Credentials, rep.Wall.Round(time.Millisecond))
	fmt.Fprintf(w, "  %.0f credentials/s; per request (nonce + credential): p50 %s p90 %s p99 %s max %s\n",
		rep.CredentialsPerSecond, ms(rep.Request.P50), ms(rep.Request.P90), ms(rep.Request.P99), ms(rep.Request.Max))
	if rep.Credentials > 0 {
		per := func(d time.Duration) string {
			return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(rep.Credentials))
		}
		fmt.Fprintf(w, "  CPU per credential: tool %s", per(rep.After.clientCPU-rep.Before.clientCPU))
		if rep.After.ok && rep.Before.ok {
			fmt.Fprintf(w, ", server %s; server memory VmHWM %d MB, VmRSS %d MB", per(rep.After.serverCPU-rep.Before.serverCPU), rep.After.hwm/1024, rep.After.rss/1024)
		}
		fmt.Fprintln(w)
	}
	if len(rep.Errors) == 0 {
		fmt.Fprintln(w, "  errors: none")
		return
	}
	for k, n := range rep.Errors {
		fmt.Fprintf(w, "  error %s: %d\n", k, n)
	}
}
