package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestEngine(t *testing.T, ready ...Check) (*Engine, *syncBuffer) {
	t.Helper()
	var logs syncBuffer
	log, err := NewLogger(&logs, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{Logger: log, MaxBodyBytes: 1024, Ready: ready})
	if err != nil {
		t.Fatal(err)
	}
	e.POST("/echo", func(c *gin.Context) {
		b, err := io.ReadAll(c.Request.Body)
		if err != nil {
			Error(c, http.StatusRequestEntityTooLarge, "request_too_large", "too large")
			return
		}
		c.Data(http.StatusOK, "text/plain", b)
	})
	e.GET("/panic", func(c *gin.Context) { panic("boom") })
	e.GET("/items/:id", func(c *gin.Context) {
		slog.New(log.Handler()).InfoContext(c.Request.Context(), "handler line")
		c.String(http.StatusOK, "ok")
	})
	admin := e.Group("/admin", RequireBearer("s3cret-admin-token-0123456789abcdef"))
	admin.GET("/ping", func(c *gin.Context) { c.String(http.StatusOK, "pong") })
	return e, &logs
}

func do(h http.Handler, method, target string, body io.Reader, header map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, body)
	for k, v := range header {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestRequestIDAndLogs(t *testing.T) {
	e, logs := newTestEngine(t)
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"plain id kept", "abc-123", true},
		{"injection replaced", "x\"\ninjected", false},
		{"missing generated", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(e, "GET", "/items/123456789?code=SECRETCODE", nil, map[string]string{"X-Request-Id": tt.in})
			got := w.Header().Get("X-Request-Id")
			if tt.keep && got != tt.in {
				t.Errorf("X-Request-Id = %q, want %q", got, tt.in)
			}
			if !tt.keep && (got == "" || got == tt.in) {
				t.Errorf("X-Request-Id = %q, want a fresh id", got)
			}
			if !strings.Contains(logs.String(), `"request_id":"`+got+`"`) {
				t.Errorf("logs lack request_id %q:\n%s", got, logs.String())
			}
		})
	}
	out := logs.String()
	for _, secret := range []string{"SECRETCODE", "123456789"} {
		if strings.Contains(out, secret) {
			t.Errorf("access log contains %q (raw path or query):\n%s", secret, out)
		}
	}
	if !strings.Contains(out, `"route":"/items/:id"`) {
		t.Errorf("access log lacks route template:\n%s", out)
	}
}

func TestSecurityHeaders(t *testing.T) {
	e, _ := newTestEngine(t)
	w := do(e, "GET", "/healthz", nil, nil)
	for k, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"X-Frame-Options":         "DENY",
		"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
		"Cache-Control":           "no-store",
	} {
		if got := w.Header().Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
}

func TestBodyLimit(t *testing.T) {
	e, _ := newTestEngine(t)
	tests := []struct {
		name       string
		body       io.Reader
		wantStatus int
	}{
		{"small", strings.NewReader("hi"), 200},
		{"declared too large", strings.NewReader(strings.Repeat("a", 2000)), 413},
		// A reader without a known length is sent chunked: caught while reading.
		{"chunked too large", io.MultiReader(strings.NewReader(strings.Repeat("a", 2000))), 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/echo", tt.body)
			if _, ok := tt.body.(*strings.Reader); !ok {
				r.ContentLength = -1
			}
			w := httptest.NewRecorder()
			e.ServeHTTP(w, r)
			if w.Code != tt.wantStatus {
				t.Errorf("POST /echo status = %d, want %d", w.Code, tt.wantStatus)
			}
		})
	}
}

func TestRecovery(t *testing.T) {
	e, logs := newTestEngine(t)
	w := do(e, "GET", "/panic", nil, nil)
	if w.Code != 500 || !strings.Contains(w.Body.String(), "server_error") {
		t.Errorf("GET /panic = %d %s, want 500 server_error", w.Code, w.Body)
	}
	if !strings.Contains(logs.String(), "panic while serving request") {
		t.Error("panic not logged")
	}
}

func TestRequireBearer(t *testing.T) {
	e, _ := newTestEngine(t)
	tests := []struct {
		name, auth string
		want       int
	}{
		{"missing", "", 401},
		{"wrong", "Bearer nope", 401},
		{"prefix of the token", "Bearer s3cret-admin-token", 401},
		{"wrong scheme", "Basic s3cret-admin-token-0123456789abcdef", 401},
		{"right", "Bearer s3cret-admin-token-0123456789abcdef", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := do(e, "GET", "/admin/ping", nil, map[string]string{"Authorization": tt.auth})
			if w.Code != tt.want {
				t.Errorf("GET /admin/ping with %q = %d, want %d", tt.auth, w.Code, tt.want)
			}
			if tt.want == 401 && w.Header().Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
		})
	}
}

func TestRequireBearerEmptyTokenFailsClosed(t *testing.T) {
	g, _ := New(Options{})
	g.GET("/x", RequireBearer(""), func(c *gin.Context) { c.String(200, "open") })
	for _, auth := range []string{"", "Bearer ", "Bearer x"} {
		if w := do(g, "GET", "/x", nil, map[string]string{"Authorization": auth}); w.Code != 401 {
			t.Errorf("RequireBearer(\"\") with %q = %d, want 401", auth, w.Code)
		}
	}
}

func TestReadyz(t *testing.T) {
	var failing bool
	e, logs := newTestEngine(t,
		Check{Name: "store", Ping: func(context.Context) error { return nil }},
		Check{Name: "state", Ping: func(context.Context) error {
			if failing {
				return errors.New("dial tcp 10.0.0.1:6379: refused")
			}
			return nil
		}},
	)
	w := do(e, "GET", "/readyz", nil, nil)
	if w.Code != 200 {
		t.Fatalf("GET /readyz = %d, want 200", w.Code)
	}
	failing = true
	w = do(e, "GET", "/readyz", nil, nil)
	var body struct {
		Checks map[string]string `json:"checks"`
	}
	json.Unmarshal(w.Body.Bytes(), &body)
	if w.Code != 503 || body.Checks["state"] != "unavailable" || body.Checks["store"] != "ok" {
		t.Errorf("GET /readyz (state down) = %d %s, want 503 with state unavailable", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), "10.0.0.1") {
		t.Error("readiness response leaks the internal cause")
	}
	if !strings.Contains(logs.String(), "10.0.0.1") {
		t.Error("readiness failure cause not logged")
	}
}

func TestMetrics(t *testing.T) {
	e, _ := newTestEngine(t)
	do(e, "GET", "/items/7", nil, nil)
	w := do(e, "GET", "/metrics", nil, nil)
	for _, want := range []string{
		`sanad_http_requests_total{method="GET",route="/items/:id",status="200"} 1`,
		"go_goroutines", "process_resident_memory_bytes",
	} {
		if !strings.Contains(w.Body.String(), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestNotFoundIsJSON(t *testing.T) {
	e, _ := newTestEngine(t)
	w := do(e, "GET", "/nope", nil, nil)
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"error":"not_found"`) {
		t.Errorf("GET /nope = %d %s, want 404 not_found", w.Code, w.Body)
	}
	w = do(e, "DELETE", "/healthz", nil, nil)
	if w.Code != 405 {
		t.Errorf("DELETE /healthz = %d, want 405", w.Code)
	}
}

func TestServeFinishesInFlightRequests(t *testing.T) {
	started := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		io.WriteString(w, "finished")
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, h, ServerOptions{
			ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, WriteTimeout: 5 * time.Second,
			IdleTimeout: time.Second, ShutdownTimeout: 5 * time.Second,
		}, slog.New(slog.DiscardHandler))
	}()
	type result struct {
		body string
		err  error
	}
	res := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/")
		if err != nil {
			res <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		res <- result{string(b), err}
	}()
	<-started
	stop() // SIGTERM arrives while the request is in flight
	r := <-res
	if r.err != nil || r.body != "finished" {
		t.Errorf("in-flight request = %q, %v, want finished", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Errorf("Serve() = %v, want nil after graceful shutdown", err)
	}
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond); err == nil {
		t.Error("listener still accepting after shutdown")
	}
}

func TestRequireBearerLimitsFailures(t *testing.T) {
	e, _ := newTestEngine(t)
	good := map[string]string{"Authorization": "Bearer s3cret-admin-token-0123456789abcdef"}
	for i := range MaxBearerFailures {
		if w := do(e, "GET", "/admin/ping", nil, map[string]string{"Authorization": "Bearer guess"}); w.Code != 401 {
			t.Fatalf("failure %d = %d, want 401", i+1, w.Code)
		}
	}
	w := do(e, "GET", "/admin/ping", nil, map[string]string{"Authorization": "Bearer guess"})
	if w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Errorf("failure %d = %d, want 429 with Retry-After", MaxBearerFailures+1, w.Code)
	}
	// Once over the limit, even the right token waits: a guess that happens
	// to be right must not be confirmed.
	if w := do(e, "GET", "/admin/ping", nil, good); w.Code != 429 {
		t.Errorf("right token while blocked = %d, want 429", w.Code)
	}
	// Another client address is not affected.
	r := httptest.NewRequest("GET", "/admin/ping", nil)
	r.RemoteAddr = "192.0.2.7:1234"
	r.Header.Set("Authorization", good["Authorization"])
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, r)
	if rec.Code != 200 {
		t.Errorf("right token from another address = %d, want 200", rec.Code)
	}
}

func TestFailureLimiterWindow(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newFailureLimiter(2, time.Minute, func() time.Time { return now })
	l.fail("a")
	l.fail("a")
	if !l.blocked("a") {
		t.Fatal("blocked after 2 failures = false, want true")
	}
	now = now.Add(time.Minute)
	if l.blocked("a") {
		t.Error("blocked in the next window = true, want false")
	}
}

func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	e, _ := newTestEngine(t)
	for range MaxBearerFailures {
		do(e, "GET", "/admin/ping", nil, map[string]string{"Authorization": "Bearer guess"})
	}
	// A spoofed X-Forwarded-For must not buy a fresh allowance.
	w := do(e, "GET", "/admin/ping", nil, map[string]string{"Authorization": "Bearer guess", "X-Forwarded-For": "203.0.113.9"})
	if w.Code != 429 {
		t.Errorf("failure with a spoofed X-Forwarded-For = %d, want 429", w.Code)
	}
}

func TestTrustedProxiesAreValidated(t *testing.T) {
	if _, err := New(Options{TrustedProxies: []string{"not-an-ip"}}); err == nil {
		t.Error("New(bad trusted proxy) = nil error, want one")
	}
}
