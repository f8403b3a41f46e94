package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/oidc/oidctest"
)

const testWebhookSecret = "bench-webhook-secret-0123456789"

// TestOTPGatewayReceivesNotifyWebhook sends real webhooks with
// notify.Webhook, in every template language, and checks what the gateway
// hands to the waiting flow.
func TestOTPGatewayReceivesNotifyWebhook(t *testing.T) {
	gw := newOTPGateway(testWebhookSecret)
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	send := func(secret, to, lang, otp string) error {
		w, err := notify.NewWebhook(notify.WebhookConfig{URL: srv.URL + "/otp", HMACSecret: secret, MaxAttempts: 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return w.Notify(context.Background(), notify.Message{Channel: notify.Phone, To: to, Purpose: notify.PurposeLoginOTP,
			Language: lang, Data: map[string]string{notify.DataOTP: otp, notify.DataExpiresInMinutes: "3"}})
	}
	ctx := context.Background()
	for _, lang := range []string{"eng", "fra", "ara"} {
		t.Run(lang, func(t *testing.T) {
			phone := "+99900000" + map[string]string{"eng": "001", "fra": "002", "ara": "003"}[lang]
			if err := send(testWebhookSecret, phone, lang, "4829130"); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			got, err := gw.wait(ctx, phone, time.Second)
			if err != nil || got != "4829130" {
				t.Errorf("wait(%s) = %q, %v, want 4829130", phone, got, err)
			}
		})
	}

	t.Run("newest code wins", func(t *testing.T) {
		for _, otp := range []string{"111111", "222222"} {
			if err := send(testWebhookSecret, "+999000000010", "eng", otp); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := gw.wait(ctx, "+999000000010", time.Second); got != "222222" {
			t.Errorf("wait = %q, %v, want the newer 222222", got, err)
		}
	})

	t.Run("wrong secret refused", func(t *testing.T) {
		before := gw.refused.Load()
		err := send("another-secret-0123456789", "+999000000020", "eng", "333333")
		var se *notify.StatusError
		if !errors.As(err, &se) || se.StatusCode != http.StatusBadRequest {
			t.Errorf("Notify with a wrong secret = %v, want status 400", err)
		}
		if gw.refused.Load() != before+1 {
			t.Errorf("refused = %d, want %d", gw.refused.Load(), before+1)
		}
		if got, err := gw.wait(ctx, "+999000000020", 50*time.Millisecond); !errors.Is(err, errNoOTP) {
			t.Errorf("wait after a refused webhook = %q, %v, want errNoOTP", got, err)
		}
	})
}

func TestParseWebhook(t *testing.T) {
	secret := []byte(testWebhookSecret)
	sign := func(body string) string {
		m := hmac.New(sha256.New, secret)
		m.Write([]byte(body))
		return "sha256=" + hex.EncodeToString(m.Sum(nil))
	}
	otpBody := `{"channel":"phone","to":"+99912345678","purpose":"login-otp","language":"eng","message":"Your Sanad sign-in code is 048213. It expires in 3 minutes."}`
	tests := []struct {
		name, body, sig string
		secret          []byte
		phone, otp      string // empty: an error is wanted
	}{
		{"signed", otpBody, sign(otpBody), secret, "+99912345678", "048213"},
		{"unsigned, no secret", otpBody, "", nil, "+99912345678", "048213"},
		{"missing signature", otpBody, "", secret, "", ""},
		{"signature of another body", otpBody, sign(otpBody + " "), secret, "", ""},
		{"not JSON", "otp=1234", sign("otp=1234"), secret, "", ""},
		{"email channel", strings.Replace(otpBody, `"phone"`, `"email"`, 1), "", nil, "", ""},
		{"another purpose", strings.Replace(otpBody, "login-otp", "tx-code", 1), "", nil, "", ""},
		{"no code", strings.Replace(otpBody, "048213", "the code", 1), "", nil, "", ""},
		{"code too long", strings.Replace(otpBody, "048213", "04821304821", 1), "", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone, otp, err := parseWebhook(tt.secret, tt.sig, []byte(tt.body))
			if tt.otp == "" {
				if err == nil {
					t.Errorf("parseWebhook(%s) = %q, %q, want an error", tt.body, phone, otp)
				}
				return
			}
			if err != nil || phone != tt.phone || otp != tt.otp {
				t.Errorf("parseWebhook(%s) = %q, %q, %v, want %q, %q", tt.body, phone, otp, err, tt.phone, tt.otp)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	seq := func(n int) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i+1) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		name string
		data []time.Duration
		p    float64
		want time.Duration
	}{
		{"p50 of 1..100", seq(100), 50, 50 * time.Millisecond},
		{"p90 of 1..100", seq(100), 90, 90 * time.Millisecond},
		{"p99 of 1..100", seq(100), 99, 99 * time.Millisecond},
		{"max of 1..100", seq(100), 100, 100 * time.Millisecond},
		{"p99 of 1..10 is the largest", seq(10), 99, 10 * time.Millisecond},
		{"p50 of 1..10", seq(10), 50, 5 * time.Millisecond},
		{"p50 of 1..1000", seq(1000), 50, 500 * time.Millisecond},
		{"p99 of 1..1000", seq(1000), 99, 990 * time.Millisecond},
		{"p0 is the smallest", seq(10), 0, time.Millisecond},
		{"one value", seq(1), 99, time.Millisecond},
		{"empty", nil, 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.data, tt.p); got != tt.want {
				t.Errorf("percentile(%d values, %g) = %v, want %v", len(tt.data), tt.p, got, tt.want)
			}
		})
	}
}

func TestLoginReport(t *testing.T) {
	var recs []flowRecord
	// 1..100 ms flows in reverse order, each with an otp step of a tenth.
	for i := 100; i >= 1; i-- {
		d := time.Duration(i) * time.Millisecond
		recs = append(recs, flowRecord{total: d, consent: "NOCAPTURE",
			steps: []oidctest.StepTiming{{Step: "otp", Duration: d / 10}, {Step: "token", Duration: d / 2}}})
	}
	failed := []error{
		&oidctest.Error{Endpoint: "/oauth/v2/token", Status: 400, Code: "invalid_grant"},
		&oidctest.Error{Endpoint: "/oauth/v2/token", Status: 400, Code: "invalid_grant"},
		errNoOTP,
	}
	for _, err := range failed {
		recs = append(recs, flowRecord{total: time.Hour, err: err})
	}
	rep := newLoginReport(&runResult{records: recs, wall: 2 * time.Second}, procUsage{}, procUsage{})
	if rep.Completed != 100 || rep.Failed != 3 {
		t.Fatalf("Completed, Failed = %d, %d, want 100, 3", rep.Completed, rep.Failed)
	}
	if rep.FlowsPerSecond != 50 {
		t.Errorf("FlowsPerSecond = %g, want 50", rep.FlowsPerSecond)
	}
	want := latencies{N: 100, P50: 50 * time.Millisecond, P90: 90 * time.Millisecond, P99: 99 * time.Millisecond, Max: 100 * time.Millisecond}
	if rep.Flow != want {
		t.Errorf("Flow = %+v, want %+v (failed flows left out)", rep.Flow, want)
	}
	if got := rep.Steps["token"]; got.P99 != 49500*time.Microsecond || got.N != 100 {
		t.Errorf("Steps[token] = %+v, want p99 49.5ms of 100", got)
	}
	wantErrs := map[string]int{"/oauth/v2/token invalid_grant (HTTP 400)": 2, "otp-webhook timeout": 1}
	if len(rep.Errors) != len(wantErrs) {
		t.Errorf("Errors = %v, want %v", rep.Errors, wantErrs)
	}
	for k, n := range wantErrs {
		if rep.Errors[k] != n {
			t.Errorf("Errors[%q] = %d, want %d", k, rep.Errors[k], n)
		}
	}
	var out bytes.Buffer
	rep.print(&out, &loginBench{})
	for _, s := range []string{"100 completed, 3 failed", "complete flow", "  otp", "  token", "invalid_grant", "NOCAPTURE 100"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, out.String())
		}
	}
	if strings.Index(out.String(), "  otp") > strings.Index(out.String(), "  token") {
		t.Errorf("report lists token before otp:\n%s", out.String())
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\tsanad\nVmPeak:\t 1300000 kB\nVmHWM:\t  123456 kB\nVmRSS:\t   98765 kB\nThreads:\t9\n"
	hwm, rss, err := parseProcStatus(status)
	if err != nil || hwm != 123456 || rss != 98765 {
		t.Errorf("parseProcStatus = %d, %d, %v, want 123456, 98765", hwm, rss, err)
	}
	if _, _, err := parseProcStatus("Name:\tkthreadd\n"); err == nil {
		t.Error("parseProcStatus without VmRSS: want an error")
	}
}

func TestBenchLoginFlags(t *testing.T) {
	env := []string{"SANAD_ADMIN_TOKEN=" + strings.Repeat("t", 32)}
	tests := []struct {
		name string
		args []string
		want string // in the error
	}{
		{"flows and duration", []string{"--flows", "10", "--duration", "1s"}, "not both"},
		{"bad alg", []string{"--alg", "HS256"}, "--alg"},
		{"too few residents", []string{"--concurrency", "8", "--residents", "4"}, "--residents"},
		{"bad factor", []string{"--factor", "PWD"}, "--factor"},
		{"bad run id", []string{"--run-id", "Run 1"}, "--run-id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := runCLI(t, env, append([]string{"bench", "login"}, tt.args...)...)
			if code != 2 || !strings.Contains(errOut, tt.want) {
				t.Errorf("bench login %v = %d %q, want 2 naming %s", tt.args, code, errOut, tt.want)
			}
		})
	}
	if code, _, errOut := runCLI(t, nil, "bench", "login"); code != 2 || !strings.Contains(errOut, "SANAD_ADMIN_TOKEN") {
		t.Errorf("bench login without a token = %d %q, want 2 naming SANAD_ADMIN_TOKEN", code, errOut)
	}
}

// TestBenchLoginAgainstServe runs the load tool against `sanad serve
// --demo` in this process, the server sending OTPs to the tool's webhook.
func TestBenchLoginAgainstServe(t *testing.T) {
	gw := newOTPGateway(testWebhookSecret)
	gwURL, stop, err := listenGateway(gw, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	dir := filepath.Join(t.TempDir(), "data")
	environ := append([]string{
		"SANAD_NOTIFY_PHONE=webhook", "SANAD_NOTIFY_WEBHOOK_URL=" + gwURL,
		"SANAD_NOTIFY_WEBHOOK_HMAC_SECRET=" + testWebhookSecret, "SANAD_OIDC_LOGIN_RATE_LIMIT=-1",
	}, cleanEnv...)
	// Cheap Argon2id for the demo PINs (the PIN row below). In YAML: the
	// environment cannot set these uint32 fields.
	cfg := filepath.Join(t.TempDir(), "sanad.yaml")
	if err := os.WriteFile(cfg, []byte("idrepo:\n  authn:\n    argon2_memory_kib: 1024\n    argon2_time: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, environ, "--demo", "--data-dir", dir, "--config", cfg)
	tokenFile := filepath.Join(dir, "admin-token")

	tests := []struct {
		name string
		args []string
	}{
		{"OTP ES256", nil},
		{"OTP PS256 PAR DPoP, residents reused", []string{"--alg", "PS256", "--par", "--dpop"}},
		{"OTP EdDSA open loop", []string{"--alg", "EdDSA", "--rate", "200"}},
		{"PIN RS256", []string{"--alg", "RS256", "--factor", "PIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"--url", s.base, "--admin-token-file", tokenFile, "--flows", "20", "--concurrency", "4",
				"--webhook-secret", testWebhookSecret, "--warmup", "2"}, tt.args...)
			var out, errOut lockedBuffer
			o, err := parseLoginBench(env{stdout: &out, stderr: &errOut}, args)
			if err != nil {
				t.Fatal(err)
			}
			o.gw, o.gwURL = gw, gwURL
			rep, err := o.run(context.Background(), env{stdout: &out, stderr: &errOut})
			if err != nil {
				t.Fatalf("run: %v\n%s%s", err, out.String(), errOut.String())
			}
			if rep.Completed != 20 || rep.Failed != 0 || len(rep.Errors) != 0 {
				t.Errorf("completed %d, failed %d, errors %v; want 20, 0, none\n%s", rep.Completed, rep.Failed, rep.Errors, out.String())
			}
			if !strings.Contains(out.String(), "errors: none") {
				t.Errorf("report:\n%s\nwant errors: none", out.String())
			}
			t.Log(out.String())
		})
	}

	// A gateway the server does not post to: the tool says how to start
	// the server.
	t.Run("no OTP webhook", func(t *testing.T) {
		var out, errOut lockedBuffer
		o, err := parseLoginBench(env{stdout: &out, stderr: &errOut}, []string{"--url", s.base, "--admin-token-file", tokenFile,
			"--flows", "1", "--concurrency", "1", "--otp-timeout", "300ms"})
		if err != nil {
			t.Fatal(err)
		}
		o.gw, o.gwURL = newOTPGateway(""), "http://127.0.0.1:9/otp"
		_, err = o.run(context.Background(), env{stdout: &out, stderr: &errOut})
		if err == nil || !strings.Contains(err.Error(), "SANAD_NOTIFY_PHONE=webhook SANAD_NOTIFY_WEBHOOK_URL=http://127.0.0.1:9/otp") {
			t.Errorf("run with a deaf gateway = %v, want the server command", err)
		}
	})
}
