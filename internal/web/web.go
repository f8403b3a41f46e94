// Package web is Sanad's HTTP plumbing: the gin engine with every
// cross-cutting middleware applied once (request id, recovery, access log,
// security headers, body limits, metrics), health and readiness endpoints,
// bearer authentication for admin APIs, and a server with timeouts and
// graceful shutdown. Domain packages only register their routes.
package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configures New.
type Options struct {
	Logger       *slog.Logger
	MaxBodyBytes int64
	// HSTS adds Strict-Transport-Security (set when the public URL is https).
	HSTS bool
	// Ready lists the dependencies /readyz checks (store, state, ...).
	Ready []Check
	// TrustedProxies are the addresses (or CIDRs) whose X-Forwarded-For is
	// believed; none by default, so a client cannot choose its own address
	// for rate limits.
	TrustedProxies []string
}

// Check is one readiness probe.
type Check struct {
	Name string
	Ping func(ctx context.Context) error
}

// Engine is the HTTP router with Sanad's middleware and its metrics registry.
type Engine struct {
	*gin.Engine
	Registry *prometheus.Registry
	log      *slog.Logger
}

func init() { gin.SetMode(gin.ReleaseMode) }

// New returns an engine with the middleware chain and /healthz, /readyz and
// /metrics registered.
func New(o Options) (*Engine, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 1 << 20
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := newMetrics(reg)

	g := gin.New()
	if err := g.SetTrustedProxies(o.TrustedProxies); err != nil {
		return nil, fmt.Errorf("trusted proxies: %w", err)
	}
	g.HandleMethodNotAllowed = true
	g.ContextWithFallback = true
	g.Use(requestID(), accessLog(o.Logger), recovery(o.Logger), m.middleware(),
		securityHeaders(o.HSTS), bodyLimit(o.MaxBodyBytes))
	g.NoRoute(func(c *gin.Context) { Error(c, http.StatusNotFound, "not_found", "no such endpoint") })
	g.NoMethod(func(c *gin.Context) {
		Error(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed on this endpoint")
	})

	g.GET("/healthz", func(c *gin.Context) {
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"status": "ok"})
	})
	g.GET("/readyz", readyz(o.Ready, o.Logger))
	g.GET("/metrics", gin.WrapH(promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})))
	return &Engine{Engine: g, Registry: reg, log: o.Logger}, nil
}

// Error writes an OAuth-style JSON error: {"error": code, "error_description": description}.
func Error(c *gin.Context, status int, code, description string) {
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(status, gin.H{"error": code, "error_description": description})
}

func readyz(checks []Check, log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx, cancel := context.WithTimeout(c.Request.Context(), 2*time.Second)
		defer cancel()
		results := gin.H{}
		status := http.StatusOK
		for _, ch := range checks {
			if err := ch.Ping(ctx); err != nil {
				// The cause goes to the log, not to whoever asked.
				log.ErrorContext(c.Request.Context(), "readiness check failed", "check", ch.Name, "err", err)
				results[ch.Name] = "unavailable"
				status = http.StatusServiceUnavailable
				continue
			}
			results[ch.Name] = "ok"
		}
		c.Header("Cache-Control", "no-store")
		state := "ready"
		if status != http.StatusOK {
			state = "not ready"
		}
		c.JSON(status, gin.H{"status": state, "checks": results})
	}
}

// RequireBearer guards admin routes with a static bearer token, compared in
// constant time (of the SHA-256 digests, so the length leaks nothing either).
// Every failure answers the same 401. A client address with more than
// MaxBearerFailures failures within a minute gets 429 until the minute ends,
// so the token cannot be guessed at network speed.
func RequireBearer(token string) gin.HandlerFunc {
	want := sha256.Sum256([]byte(token))
	lim := newFailureLimiter(MaxBearerFailures, time.Minute, time.Now)
	return func(c *gin.Context) {
		ip := c.ClientIP()
		if lim.blocked(ip) {
			c.Header("Retry-After", "60")
			Error(c, http.StatusTooManyRequests, "too_many_requests", "too many failed attempts; try again later")
			return
		}
		got, ok := strings.CutPrefix(c.GetHeader("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(got))
		if subtle.ConstantTimeCompare(sum[:], want[:]) != 1 || !ok || token == "" {
			lim.fail(ip)
			c.Header("WWW-Authenticate", `Bearer realm="sanad-admin"`)
			Error(c, http.StatusUnauthorized, "unauthorized", "a valid admin bearer token is required")
			return
		}
		c.Next()
	}
}

// MaxBearerFailures is how many failed admin authentications one client
// address may make in a minute.
const MaxBearerFailures = 20

// failureLimiter counts failures per key in fixed windows, in memory: admin
// endpoints are few and an attacker spreading over processes gains at most
// a factor of their number.
type failureLimiter struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	now    func() time.Time
	start  time.Time
	counts map[string]int
}

func newFailureLimiter(max int, window time.Duration, now func() time.Time) *failureLimiter {
	return &failureLimiter{max: max, window: window, now: now, counts: map[string]int{}}
}

// roll starts a new window when the current one is over. Callers hold mu.
func (l *failureLimiter) roll() {
	if now := l.now(); now.Sub(l.start) >= l.window {
		l.start, l.counts = now, map[string]int{}
	}
}

func (l *failureLimiter) blocked(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	return l.counts[key] >= l.max
}

func (l *failureLimiter) fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll()
	l.counts[key]++
}

// ServerOptions are the limits of the HTTP server.
type ServerOptions struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	ShutdownTimeout                                           time.Duration
}

// Serve serves h on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish (up to ShutdownTimeout) and returns.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, o ServerOptions, log *slog.Logger) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: o.ReadHeaderTimeout,
		ReadTimeout:       o.ReadTimeout,
		WriteTimeout:      o.WriteTimeout,
		IdleTimeout:       o.IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", o.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), o.ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		return serr
	}
	return err
}
