package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// gateway is an httptest SMS gateway answering with a scripted status per
// attempt (the last one repeats) and recording every request.
type gateway struct {
	statuses []int
	hang     bool // wait for the client to give up instead of answering

	mu       sync.Mutex
	requests []gatewayRequest
}

type gatewayRequest struct {
	header http.Header
	body   []byte
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	g.mu.Lock()
	g.requests = append(g.requests, gatewayRequest{header: r.Header.Clone(), body: body})
	n := len(g.requests)
	g.mu.Unlock()
	if g.hang {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	}
	status := g.statuses[min(n, len(g.statuses))-1]
	if status >= 300 && status < 400 {
		http.Redirect(w, r, "/elsewhere", status)
		return
	}
	w.WriteHeader(status)
	// Gateways like to echo what they were sent; none of it may surface.
	w.Write(body)
}

func (g *gateway) got() []gatewayRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]gatewayRequest(nil), g.requests...)
}

func startGateway(t *testing.T, g *gateway) string {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	return srv.URL + "/sms/send?api_key=gw-api-key-123"
}

func TestWebhook(t *testing.T) {
	g := &gateway{statuses: []int{http.StatusAccepted}}
	cfg := WebhookConfig{
		URL:        startGateway(t, g),
		Headers:    map[string]string{"Authorization": "Bearer gw-token", "X-Tenant": "sanad"},
		HMACSecret: "0123456789abcdef-webhook-secret",
	}
	w, err := NewWebhook(cfg, nil)
	if err != nil {
		t.Fatalf("NewWebhook(%v) error = %v", cfg, err)
	}
	tests := []struct {
		name string
		m    Message
		want map[string]any
	}{
		{
			"phone in Arabic",
			otpMessage(Phone, "+971501234589", "ara"),
			map[string]any{
				"channel": "phone", "to": "+971501234589", "purpose": "login-otp", "language": "ara",
				"message": "مرحبًا Jane Doe،\nرمز الدخول إلى سند هو 482913. تنتهي صلاحيته خلال 10 دقيقة.\nلا تشارك هذا الرمز مع أي شخص، حتى لو قال إنه يعمل لدى سند.",
			},
		},
		{
			"language fallback is reported",
			Message{Channel: Phone, To: "0501234589", Purpose: PurposeTxCode, Language: "deu", Data: map[string]string{DataOTP: "7731"}},
			map[string]any{
				"channel": "phone", "to": "0501234589", "purpose": "tx-code", "language": "eng",
				"message": "To receive your credential in your wallet, enter the code 7731.\nNever share this code, not even with someone who says they work for Sanad.",
			},
		},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.Notify(t.Context(), tt.m); err != nil {
				t.Fatalf("Notify(%v) error = %v", tt.m, err)
			}
			reqs := g.got()
			if len(reqs) != i+1 {
				t.Fatalf("gateway got %d requests, want %d", len(reqs), i+1)
			}
			req := reqs[i]
			var got map[string]any
			if err := json.Unmarshal(req.body, &got); err != nil {
				t.Fatalf("request body %s: %v", req.body, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Notify(%v) posted %v, want %v", tt.m, got, tt.want)
			}
			mac := hmac.New(sha256.New, []byte(cfg.HMACSecret))
			mac.Write(req.body)
			wantSig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
			headers := []struct{ name, want string }{
				{SignatureHeader, wantSig},
				{"Authorization", "Bearer gw-token"},
				{"X-Tenant", "sanad"},
				{"Content-Type", "application/json"},
			}
			for _, h := range headers {
				if got := req.header.Get(h.name); got != h.want {
					t.Errorf("request header %s = %q, want %q", h.name, got, h.want)
				}
			}
			if key := req.header.Get(IdempotencyKeyHeader); len(key) != 32 {
				t.Errorf("request header %s = %q, want 32 hex digits", IdempotencyKeyHeader, key)
			}
		})
	}
	if reqs := g.got(); len(reqs) == 2 && reqs[0].header.Get(IdempotencyKeyHeader) == reqs[1].header.Get(IdempotencyKeyHeader) {
		t.Errorf("two messages share %s %q, want one key per message", IdempotencyKeyHeader, reqs[0].header.Get(IdempotencyKeyHeader))
	}
}

func TestWebhookSignatureDetectsTampering(t *testing.T) {
	g := &gateway{statuses: []int{http.StatusOK}}
	cfg := WebhookConfig{URL: startGateway(t, g), HMACSecret: "0123456789abcdef-webhook-secret"}
	w, err := NewWebhook(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Notify(t.Context(), otpMessage(Phone, "+971501234589", "eng")); err != nil {
		t.Fatal(err)
	}
	req := g.got()[0]
	verify := func(secret string, body []byte) bool {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		return hmac.Equal([]byte(req.header.Get(SignatureHeader)), []byte("sha256="+hex.EncodeToString(mac.Sum(nil))))
	}
	tests := []struct {
		name   string
		secret string
		body   []byte
		want   bool
	}{
		{"as sent", cfg.HMACSecret, req.body, true},
		{"other destination", cfg.HMACSecret, bytes.Replace(req.body, []byte("+971501234589"), []byte("+971509999999"), 1), false},
		{"other secret", "another-secret-of-32-characters", req.body, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verify(tt.secret, tt.body); got != tt.want {
				t.Errorf("verify(%s) = %t, want %t", tt.name, got, tt.want)
			}
		})
	}
}

func TestWebhookRetries(t *testing.T) {
	m := otpMessage(Phone, "+971501234589", "eng")
	tests := []struct {
		name         string
		gw           *gateway
		maxAttempts  int
		timeout      time.Duration
		backoff      time.Duration
		cancelAfter  time.Duration
		wantAttempts int
		wantErr      error // nil: success
		wantStatus   int   // of a StatusError
		wantText     string
	}{
		{name: "success after two 5xx", gw: &gateway{statuses: []int{502, 503, 200}}, wantAttempts: 3},
		{name: "429 is retried", gw: &gateway{statuses: []int{429, 204}}, wantAttempts: 2},
		{name: "5xx until attempts run out", gw: &gateway{statuses: []int{503}}, wantAttempts: 3, wantErr: &StatusError{}, wantStatus: 503, wantText: "gateway responded 503 Service Unavailable"},
		{name: "retries configurable", gw: &gateway{statuses: []int{500}}, maxAttempts: 5, wantAttempts: 5, wantErr: &StatusError{}, wantStatus: 500},
		{name: "retries disabled", gw: &gateway{statuses: []int{500, 200}}, maxAttempts: 1, wantAttempts: 1, wantErr: &StatusError{}, wantStatus: 500},
		{name: "4xx is not retried", gw: &gateway{statuses: []int{400, 200}}, wantAttempts: 1, wantErr: &StatusError{}, wantStatus: 400, wantText: "gateway responded 400 Bad Request"},
		{name: "redirect is not followed", gw: &gateway{statuses: []int{307, 200}}, wantAttempts: 1, wantErr: &StatusError{}, wantStatus: 307},
		{name: "each attempt times out", gw: &gateway{hang: true}, maxAttempts: 2, timeout: 50 * time.Millisecond, wantAttempts: 2, wantErr: context.DeadlineExceeded},
		{name: "canceled while backing off", gw: &gateway{statuses: []int{503}}, backoff: time.Minute, cancelAfter: 500 * time.Millisecond, wantAttempts: 1, wantErr: context.Canceled, wantText: "(last attempt: gateway responded 503"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := WebhookConfig{URL: startGateway(t, tt.gw), MaxAttempts: tt.maxAttempts, Timeout: tt.timeout, Backoff: tt.backoff}
			if cfg.Backoff == 0 {
				cfg.Backoff = time.Millisecond
			}
			w, err := NewWebhook(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if tt.cancelAfter > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				time.AfterFunc(tt.cancelAfter, cancel)
			}
			start := time.Now()
			err = w.Notify(ctx, m)
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Notify took %s, want it bounded by timeouts and ctx", elapsed)
			}
			var se *StatusError
			switch {
			case tt.wantErr == nil && err != nil:
				t.Errorf("Notify(%v) = %v, want nil", m, err)
			case tt.wantErr == nil:
			case errors.As(tt.wantErr, &se):
				if !errors.As(err, &se) || se.StatusCode != tt.wantStatus {
					t.Errorf("Notify(%v) = %v, want a StatusError %d", m, err, tt.wantStatus)
				}
			case !errors.Is(err, tt.wantErr):
				t.Errorf("Notify(%v) = %v, want %v", m, err, tt.wantErr)
			}
			if err != nil {
				if !strings.Contains(err.Error(), tt.wantText) {
					t.Errorf("Notify(%v) = %q, want it to contain %q", m, err, tt.wantText)
				}
				checkNoLeak(t, "Notify() error", err.Error(), append(secretsOf(m), "gw-api-key-123", "sms/send", "Never share")...)
				if !strings.Contains(err.Error(), "+97*****89") || !strings.Contains(err.Error(), "http://127.0.0.1:") {
					t.Errorf("Notify(%v) = %q, want it to name the gateway host and the masked destination", m, err)
				}
			}
			reqs := tt.gw.got()
			if len(reqs) != tt.wantAttempts {
				t.Errorf("gateway got %d attempts, want %d", len(reqs), tt.wantAttempts)
			}
			for i, r := range reqs {
				if r.header.Get(IdempotencyKeyHeader) != reqs[0].header.Get(IdempotencyKeyHeader) || !bytes.Equal(r.body, reqs[0].body) {
					t.Errorf("attempt %d differs from the first in body or %s, want a retry of the same request", i+1, IdempotencyKeyHeader)
				}
			}
		})
	}
}

func TestWebhookRejectsBadMessages(t *testing.T) {
	g := &gateway{statuses: []int{200}}
	w, err := NewWebhook(WebhookConfig{URL: startGateway(t, g)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		m    Message
		want error
	}{
		{"invalid phone", otpMessage(Phone, "call me", "eng"), ErrInvalidMessage},
		{"unknown purpose", Message{Channel: Phone, To: "+971501234589", Purpose: "welcome"}, ErrUnknownPurpose},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := w.Notify(t.Context(), tt.m); !errors.Is(err, tt.want) {
				t.Errorf("Notify(%v) = %v, want %v", tt.m, err, tt.want)
			}
		})
	}
	if n := len(g.got()); n != 0 {
		t.Errorf("gateway got %d requests, want 0", n)
	}
}

func TestWebhookConfigValidate(t *testing.T) {
	ok := WebhookConfig{URL: "https://sms.example.gov/send", Headers: map[string]string{"Authorization": "Bearer x"}}
	tests := []struct {
		name   string
		change func(*WebhookConfig)
		want   []string
	}{
		{"valid", func(*WebhookConfig) {}, nil},
		{"http to localhost", func(c *WebhookConfig) { c.URL = "http://127.0.0.1:9000/send" }, nil},
		{"http elsewhere when insecure", func(c *WebhookConfig) { c.URL, c.InsecureHTTP = "http://sms-gateway:8080/send", true }, nil},
		{"no URL", func(c *WebhookConfig) { c.URL = "" }, []string{"webhook.url: required"}},
		{"relative URL", func(c *WebhookConfig) { c.URL = "/send" }, []string{"webhook.url: must be an absolute URL"}},
		{"http elsewhere", func(c *WebhookConfig) { c.URL = "http://sms.example.gov/send?key=k" }, []string{"webhook.url: must be https (http only to localhost, or with insecure_http), got http://sms.example.gov/[redacted]?[redacted]"}},
		{"other scheme", func(c *WebhookConfig) { c.URL = "ftp://sms.example.gov/" }, []string{`webhook.url: scheme must be https, got "ftp"`}},
		{"fragment", func(c *WebhookConfig) { c.URL = "https://sms.example.gov/send#x" }, []string{"webhook.url: must not have a fragment"}},
		{"bad header name", func(c *WebhookConfig) { c.Headers = map[string]string{"X Key": "v"} }, []string{`webhook.headers: "X Key" is not a valid header name`}},
		{"reserved header", func(c *WebhookConfig) { c.Headers = map[string]string{"x-sanad-signature": "v"} }, []string{"webhook.headers: x-sanad-signature is set by the notifier"}},
		{"header injection", func(c *WebhookConfig) { c.Headers = map[string]string{"X-Key": "v\r\nX-Evil: 1"} }, []string{"webhook.headers: value of X-Key contains a line break"}},
		{"short HMAC secret", func(c *WebhookConfig) { c.HMACSecret = "short" }, []string{"webhook.hmac_secret: must be at least 16 characters"}},
		{"negative timeout", func(c *WebhookConfig) { c.Timeout = -1 }, []string{"webhook.timeout: must not be negative"}},
		{"negative backoff", func(c *WebhookConfig) { c.Backoff = -1 }, []string{"webhook.backoff: must not be negative"}},
		{"too many attempts", func(c *WebhookConfig) { c.MaxAttempts = 11 }, []string{"webhook.max_attempts: must be between 1 and 10"}},
		{"negative idle connections", func(c *WebhookConfig) { c.MaxIdleConns = -1 }, []string{"webhook.max_idle_conns: must be between 1 and 4096"}},
		{"too many idle connections", func(c *WebhookConfig) { c.MaxIdleConns = 5000 }, []string{"webhook.max_idle_conns: must be between 1 and 4096"}},
		{"every problem at once", func(c *WebhookConfig) { c.URL, c.HMACSecret, c.MaxAttempts = "", "x", -1 }, []string{"webhook.url:", "webhook.hmac_secret:", "webhook.max_attempts:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate(%v) = %v, want nil", c, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%v) = nil, want %q", c, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%v) = %q, want it to contain %q", c, err, w)
				}
			}
			if _, nerr := NewWebhook(c, nil); nerr == nil {
				t.Errorf("NewWebhook(%v) = nil error, want the Validate error", c)
			}
		})
	}
}

func TestWebhookPrintsRedacted(t *testing.T) {
	cfg := WebhookConfig{
		URL:        "https://user:url-password@sms.example.gov/bot-path-token/send?api_key=query-key",
		Headers:    map[string]string{"Authorization": "Bearer header-token"},
		HMACSecret: "hmac-secret-0123456789",
	}
	w, err := NewWebhook(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("webhook", "config", cfg, "notifier", w)
	outputs := map[string]string{
		"%v config":              fmt.Sprintf("%v", cfg),
		"%+v config":             fmt.Sprintf("%+v", cfg),
		"%#v config":             fmt.Sprintf("%#v", cfg),
		"%+v notifier":           fmt.Sprintf("%+v", w),
		"%v of a struct with it": fmt.Sprintf("%+v", struct{ W WebhookConfig }{cfg}),
		"slog":                   logs.String(),
	}
	for how, out := range outputs {
		checkNoLeak(t, how, out, "url-password", "bot-path-token", "query-key", "header-token", "hmac-secret")
		if !strings.Contains(out, "https://[redacted]@sms.example.gov/[redacted]?[redacted]") || !strings.Contains(out, "Authorization: [redacted]") {
			t.Errorf("%s = %q, want the redacted URL and header name", how, out)
		}
	}
}

// TestWebhookReusesConnections sends two waves of concurrent messages, each
// held at the gateway until all have arrived so that every one needs a
// connection of its own: the second wave must reuse the first's
// connections and open none (net/http's default transport keeps only 2
// idle connections per host).
func TestWebhookReusesConnections(t *testing.T) {
	const inFlight = 16
	var (
		mu      sync.Mutex
		conns   int
		arrived int
		release = make(chan struct{})
	)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		mu.Lock()
		arrived++
		last := arrived%inFlight == 0
		wait := release
		if last {
			close(release)
			release = make(chan struct{})
		}
		mu.Unlock()
		if !last {
			select {
			case <-wait:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	w, err := NewWebhook(WebhookConfig{URL: srv.URL + "/send", MaxAttempts: 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.CloseIdleConnections)
	wave := func() {
		var wg sync.WaitGroup
		for i := range inFlight {
			wg.Go(func() {
				if err := w.Notify(t.Context(), otpMessage(Phone, fmt.Sprintf("+97150123%04d", i), "eng")); err != nil {
					t.Errorf("Notify: %v", err)
				}
			})
		}
		wg.Wait()
	}
	wave()
	mu.Lock()
	first := conns
	mu.Unlock()
	if first != inFlight {
		t.Fatalf("first wave of %d held messages opened %d connections, want %d", inFlight, first, inFlight)
	}
	wave()
	mu.Lock()
	defer mu.Unlock()
	if conns != first {
		t.Errorf("second wave opened %d new connections, want 0 (the first wave's %d reused)", conns-first, first)
	}
}
