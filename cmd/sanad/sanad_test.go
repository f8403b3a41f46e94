package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// server is a `sanad serve` running in this process.
type server struct {
	base   string
	stdout *lockedBuffer
	stderr *lockedBuffer
	stop   func() int
}

var listening = regexp.MustCompile(`running(?: \(demo\))? on (127\.0\.0\.1:\d+)`)

func startServer(t *testing.T, environ []string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &server{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), s.stdout, s.stderr, environ)
	}()
	// exited is closed when run returns; code is its exit status.
	exited := make(chan struct{})
	var code int
	go func() { code = <-done; close(exited) }()
	s.stop = func() int {
		cancel()
		<-exited
		return code
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := listening.FindStringSubmatch(s.stdout.String()); m != nil {
			s.base = "http://" + m[1]
			return s
		}
		select {
		case <-exited:
			t.Fatalf("sanad serve exited with %d:\n%s\n%s", code, s.stdout, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("sanad serve did not start:\n%s\n%s", s.stdout, s.stderr)
	return nil
}

func get(t *testing.T, url string, header ...string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func jwksKIDs(t *testing.T, base string) []string {
	t.Helper()
	code, body := get(t, base+"/.well-known/jwks.json")
	if code != 200 {
		t.Fatalf("GET /.well-known/jwks.json = %d", code)
	}
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, k := range set.Keys {
		for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi"} {
			if _, ok := k[priv]; ok {
				t.Errorf("JWKS key %v has private member %q", k["kid"], priv)
			}
		}
		kids = append(kids, k["kid"].(string))
	}
	slices.Sort(kids)
	return kids
}

func runCLI(t *testing.T, environ []string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, environ)
	return code, out.String(), errb.String()
}

// A clean environment: only what the test sets, so a developer's SANAD_*
// variables cannot change the outcome.
var cleanEnv = []string{"SANAD_LOG_LEVEL=warn", "SANAD_KEYS_REFRESH_INTERVAL=200ms"}

func TestServeDemoEndToEnd(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServer(t, cleanEnv, "--demo", "--data-dir", dir)

	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		if code, body := get(t, s.base+path); code != 200 {
			t.Errorf("GET %s = %d %s, want 200", path, code, body)
		}
	}
	kids := jwksKIDs(t, s.base)
	if len(kids) < 4 {
		t.Fatalf("JWKS has %d keys, want at least one per signing algorithm", len(kids))
	}
	token, err := os.ReadFile(filepath.Join(dir, "admin-token"))
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(filepath.Join(dir, "admin-token")); st.Mode().Perm() != 0o600 {
		t.Errorf("admin-token mode = %v, want 0600", st.Mode().Perm())
	}
	if !strings.Contains(s.stdout.String(), strings.TrimSpace(string(token))) {
		t.Error("--demo did not print the generated admin token")
	}
	if strings.Contains(s.stderr.String(), strings.TrimSpace(string(token))) {
		t.Error("the admin token appears in the logs")
	}
	if code, _ := get(t, s.base+"/admin/v1/keys"); code != 401 {
		t.Errorf("GET /admin/v1/keys without token = %d, want 401", code)
	}
	if code, _ := get(t, s.base+"/admin/v1/keys", "Authorization", "Bearer "+strings.TrimSpace(string(token))); code != 200 {
		t.Errorf("GET /admin/v1/keys with token = %d, want 200", code)
	}

	// Client management (eSignet's shape) is mounted behind the admin token.
	reg := `{"requestTime":"2026-11-24T10:00:00.000Z","request":{"clientId":"bank-1","clientName":"Demo Bank",
		"publicKey":{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"},
		"relyingPartyId":"bank","userClaims":["name","email"],"authContextRefs":["mosip:idp:acr:generated-code"],
		"logoUri":"https://bank.example/logo.png","redirectUris":["https://bank.example/cb"],
		"grantTypes":["authorization_code"],"clientAuthMethods":["private_key_jwt"]}}`
	if code, _, _ := call(t, "POST", s.base+"/client-mgmt/client", "wrong", reg); code != 401 {
		t.Errorf("POST /client-mgmt/client with a wrong token = %d, want 401", code)
	}
	if code, _, out := call(t, "POST", s.base+"/client-mgmt/client", strings.TrimSpace(string(token)), reg); code != 200 {
		t.Errorf("POST /client-mgmt/client = %d %v, want 200", code, out)
	}

	// The ledger and status lists of the issuer: the admin API behind the
	// token, and publication at the issuer's path.
	if code, _, _ := call(t, "GET", s.base+"/v1/credentials", "wrong", ""); code != 401 {
		t.Errorf("GET /v1/credentials with a wrong token = %d, want 401", code)
	}
	if code, _, out := call(t, "GET", s.base+"/v1/credentials?status=REVOKED", strings.TrimSpace(string(token)), ""); code != 200 || out["credentials"] == nil {
		t.Errorf("GET /v1/credentials = %d %v, want 200 with a credentials list", code, out)
	}
	if code, body := get(t, s.base+"/issuer/status/AAAAAAAAAAAAAAAAAAAAAA/revocation"); code != 404 || !strings.Contains(string(body), "not_found") {
		t.Errorf("GET an unknown status list = %d %s, want a JSON 404", code, body)
	}

	// `sanad keys rotate` from another "process" while the server runs.
	code, out, errOut := runCLI(t, cleanEnv, "keys", "rotate", "--purpose", "oidc-signing", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("sanad keys rotate = %d\n%s%s", code, out, errOut)
	}
	var rotated []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		rotated = jwksKIDs(t, s.base)
		if len(rotated) >= len(kids)+4 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, kid := range kids {
		if !slices.Contains(rotated, kid) {
			t.Errorf("after rotation the old key %s left the JWKS", kid)
		}
	}
	if len(rotated) < len(kids)+4 {
		t.Errorf("after rotation JWKS has %d keys, want %d + 4 new signing keys", len(rotated), len(kids))
	}

	if code := s.stop(); code != 0 {
		t.Fatalf("sanad serve exited with %d after SIGTERM:\n%s", code, s.stderr)
	}

	// Restart: the same keys are served.
	s2 := startServer(t, cleanEnv, "--demo", "--data-dir", dir)
	if again := jwksKIDs(t, s2.base); !slices.Equal(again, rotated) {
		t.Errorf("after restart JWKS kids = %v, want %v", again, rotated)
	}
	s2.stop()

	// No private key in clear anywhere in the data dir: the DER object
	// identifiers of RSA, EC and Ed25519 private keys (PKCS#8) never appear,
	// and no PEM block either.
	oids := map[string][]byte{
		"rsaEncryption":  {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01},
		"id-ecPublicKey": {0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01},
		"Ed25519":        {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70},
		"PEM":            []byte("PRIVATE KEY"),
		"JWK d":          []byte(`"d":`),
	}
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if d.Name() == "demo-bank-key.json" {
			// The demo relying party's own key: it belongs to the bank, not
			// to Sanad, and a relying party keeps it however it likes.
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for name, pat := range oids {
			if bytes.Contains(b, pat) {
				t.Errorf("%s contains %s: a private key in clear?", filepath.Base(p), name)
			}
		}
		return nil
	})
}

func TestKeysList(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, cleanEnv, "keys", "rotate", "--demo", "--purpose", "status-list", "--prepublish", "0", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("keys rotate = %d %s %s", code, out, errOut)
	}
	code, out, errOut = runCLI(t, cleanEnv, "keys", "list", "--purpose", "status-list", "--data-dir", dir, "--json")
	if code != 0 {
		t.Fatalf("keys list = %d %s", code, errOut)
	}
	var infos []struct{ Status, Alg string }
	if err := json.Unmarshal([]byte(out), &infos); err != nil {
		t.Fatalf("keys list --json: %v\n%s", err, out)
	}
	count := map[string]int{}
	for _, k := range infos {
		count[k.Status]++
	}
	// First start generated one key per algorithm; the rotation retired them.
	if count["active"] != 2 || count["retired"] != 2 {
		t.Errorf("keys list statuses = %v, want 2 active and 2 retired", count)
	}
}

func TestBadConfigListsEveryProblem(t *testing.T) {
	cfgPath := filepath.Join(t.TempDir(), "sanad.yaml")
	os.WriteFile(cfgPath, []byte("log:\n  format: xml\nstorage:\n  driver: oracle\nhttp:\n  read_timeout: -1s\n"), 0o600)
	code, _, errOut := runCLI(t, nil, "serve", "--config", cfgPath, "--data-dir", t.TempDir())
	if code != 1 {
		t.Errorf("serve with bad config exit = %d, want 1", code)
	}
	for _, want := range []string{"log.format", "storage.driver", "http.read_timeout", "keys.master_key", "admin.token"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error output lacks %q:\n%s", want, errOut)
		}
	}

	os.WriteFile(cfgPath, []byte("storage:\n  sqlite_pth: x.db\n"), 0o600)
	code, _, errOut = runCLI(t, nil, "serve", "--config", cfgPath)
	if code != 1 || !strings.Contains(errOut, "sqlite_pth") {
		t.Errorf("serve with unknown YAML field = %d %q, want 1 naming sqlite_pth", code, errOut)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	code, out, errOut := runCLI(t, nil, "migrate", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "applied 0001") {
		t.Fatalf("migrate = %d %q %q, want applied 0001", code, out, errOut)
	}
	code, out, _ = runCLI(t, nil, "migrate", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "up to date") {
		t.Errorf("second migrate = %d %q, want up to date", code, out)
	}
	if code, out, _ = runCLI(t, nil, "version"); code != 0 || !strings.HasPrefix(out, "sanad ") {
		t.Errorf("version = %d %q", code, out)
	}
	if code, _, _ = runCLI(t, nil, "frobnicate"); code != 2 {
		t.Errorf("unknown command exit = %d, want 2", code)
	}
}
