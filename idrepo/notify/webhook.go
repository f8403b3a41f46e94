package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Defaults of WebhookConfig.
const (
	DefaultWebhookTimeout     = 10 * time.Second
	DefaultWebhookMaxAttempts = 3 // the first try and two retries
	DefaultWebhookBackoff     = 500 * time.Millisecond
	// DefaultWebhookMaxIdleConns is how many idle connections to the
	// gateway are kept for reuse: about as many as OTPs in flight at once
	// under load. net/http's default transport keeps 2 per host, so at a
	// few hundred sign-ins a second nearly every OTP opened (and TLS
	// handshook) a new connection and left one in TIME_WAIT.
	DefaultWebhookMaxIdleConns = 64
)

// SignatureHeader carries the HMAC-SHA256 of the request body, as
// "sha256=" followed by the MAC in lower-case hex, when
// WebhookConfig.HMACSecret is set.
const SignatureHeader = "X-Sanad-Signature"

// IdempotencyKeyHeader carries a random value that is the same in every
// attempt to deliver one message, so a gateway can drop a retry of a request
// it already handled.
const IdempotencyKeyHeader = "Idempotency-Key"

// reservedHeaders are set by the notifier and cannot be configured.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", SignatureHeader, IdempotencyKeyHeader}

// WebhookConfig configures the webhook notifier.
type WebhookConfig struct {
	// URL receives a POST per message. It must be https, or http to
	// localhost (or anywhere with InsecureHTTP).
	URL string `yaml:"url"`
	// Headers are added to every request, typically Authorization. Their
	// values are redacted when the configuration is printed.
	Headers map[string]string `yaml:"headers"`
	// HMACSecret, if set, signs each body in the SignatureHeader.
	HMACSecret string `yaml:"hmac_secret"`
	// Timeout bounds one attempt; 0 means DefaultWebhookTimeout.
	Timeout time.Duration `yaml:"timeout"`
	// MaxAttempts bounds the tries of one message, the first included; 0
	// means DefaultWebhookMaxAttempts and 1 disables retries. Only network
	// errors, timeouts, 429 and 5xx responses are retried.
	MaxAttempts int `yaml:"max_attempts"`
	// Backoff is the wait before the first retry, doubled before each next
	// one; 0 means DefaultWebhookBackoff.
	Backoff time.Duration `yaml:"backoff"`
	// InsecureHTTP allows an http URL to a host other than localhost: OTPs
	// and the configured headers then cross the network in clear.
	InsecureHTTP bool `yaml:"insecure_http"`
	// MaxIdleConns is how many idle connections to the gateway are kept
	// for the next messages; 0 means DefaultWebhookMaxIdleConns.
	MaxIdleConns int `yaml:"max_idle_conns"`
}

// Validate reports every problem in c at once.
func (c WebhookConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("webhook.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.URL == "" {
		bad("url", "required")
	} else if u, err := url.Parse(c.URL); err != nil || u.Host == "" {
		bad("url", "must be an absolute URL, such as https://sms.example.gov/send")
	} else {
		switch {
		case u.Scheme == "https":
		case u.Scheme == "http" && (c.InsecureHTTP || isLoopbackName(u.Hostname())):
		case u.Scheme == "http":
			bad("url", "must be https (http only to localhost, or with insecure_http), got %s", redactURL(u))
		default:
			bad("url", "scheme must be https, got %q", u.Scheme)
		}
		if u.Fragment != "" {
			bad("url", "must not have a fragment")
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		switch {
		case !isToken(name):
			bad("headers", "%q is not a valid header name", name)
		case slices.ContainsFunc(reservedHeaders, func(r string) bool { return strings.EqualFold(r, name) }):
			bad("headers", "%s is set by the notifier", name)
		case strings.ContainsAny(c.Headers[name], "\r\n\x00"):
			bad("headers", "value of %s contains a line break or NUL", name)
		}
	}
	if c.HMACSecret != "" && len(c.HMACSecret) < 16 {
		bad("hmac_secret", "must be at least 16 characters")
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative, got %s", c.Timeout)
	}
	if c.Backoff < 0 {
		bad("backoff", "must not be negative, got %s", c.Backoff)
	}
	if c.MaxAttempts < 0 || c.MaxAttempts > 10 {
		bad("max_attempts", "must be between 1 and 10 (0 for the default, %d), got %d", DefaultWebhookMaxAttempts, c.MaxAttempts)
	}
	if c.MaxIdleConns < 0 || c.MaxIdleConns > 4096 {
		bad("max_idle_conns", "must be between 1 and 4096 (0 for the default, %d), got %d", DefaultWebhookMaxIdleConns, c.MaxIdleConns)
	}
	return errors.Join(errs...)
}

// String prints c with the URL's user info, path and query, the header
// values and the HMAC secret redacted.
func (c WebhookConfig) String() string {
	return fmt.Sprintf("WebhookConfig{URL: %s, Headers: %s, HMACSecret: %s, Timeout: %s, MaxAttempts: %d, Backoff: %s, InsecureHTTP: %t, MaxIdleConns: %d}",
		redactURLString(c.URL), c.redactedHeaders(), redact(c.HMACSecret), c.Timeout, c.MaxAttempts, c.Backoff, c.InsecureHTTP, c.MaxIdleConns)
}

// GoString redacts c in %#v like String.
func (c WebhookConfig) GoString() string { return c.String() }

// LogValue logs c redacted like String.
func (c WebhookConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("url", redactURLString(c.URL)),
		slog.String("headers", c.redactedHeaders()),
		slog.String("hmac_secret", redact(c.HMACSecret)),
		slog.Duration("timeout", c.Timeout),
		slog.Int("max_attempts", c.MaxAttempts),
		slog.Duration("backoff", c.Backoff),
		slog.Bool("insecure_http", c.InsecureHTTP),
		slog.Int("max_idle_conns", c.MaxIdleConns),
	)
}

func (c WebhookConfig) redactedHeaders() string {
	var parts []string
	for _, name := range slices.Sorted(maps.Keys(c.Headers)) {
		parts = append(parts, name+": "+redact(c.Headers[name]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// Webhook sends messages to an SMS (or other) gateway by POSTing JSON:
//
//	{"channel":"phone","to":"+971501234589","purpose":"login-otp","language":"ara","message":"…"}
//
// The gateway gets the rendered message only; the OTP is not a field of its
// own. A response other than 2xx is an error carrying the status (see
// [StatusError]) but nothing of the response body. Redirects are not
// followed. Connections to the gateway are kept open between messages
// (WebhookConfig.MaxIdleConns of them).
type Webhook struct {
	cfg    WebhookConfig
	tmpl   *Templates
	url    *url.URL
	client *http.Client
}

var _ Notifier = (*Webhook)(nil)

// StatusError is a webhook response that was not 2xx.
type StatusError struct {
	StatusCode int
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("gateway responded %d %s", e.StatusCode, http.StatusText(e.StatusCode))
}

// NewWebhook validates cfg and returns a Webhook notifier rendering with
// tmpl, or with DefaultTemplates if tmpl is nil.
func NewWebhook(cfg WebhookConfig, tmpl *Templates) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tmpl == nil {
		tmpl = DefaultTemplates()
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultWebhookTimeout
	}
	if cfg.MaxAttempts == 0 {
		cfg.MaxAttempts = DefaultWebhookMaxAttempts
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = DefaultWebhookBackoff
	}
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("webhook.url: %s is not a URL", redactURLString(cfg.URL))
	}
	if cfg.MaxIdleConns == 0 {
		cfg.MaxIdleConns = DefaultWebhookMaxIdleConns
	}
	cfg.Headers = maps.Clone(cfg.Headers)
	return &Webhook{
		cfg:  cfg,
		tmpl: tmpl,
		url:  u,
		client: &http.Client{
			Transport:     newWebhookTransport(cfg.MaxIdleConns),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// newWebhookTransport is net/http's default transport (proxy from the
// environment, HTTP/2, its timeouts) of the notifier's own, keeping up to
// maxIdle idle connections to the gateway, which is its only host.
func newWebhookTransport(maxIdle int) *http.Transport {
	var t *http.Transport
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		t = dt.Clone()
	} else {
		t = &http.Transport{Proxy: http.ProxyFromEnvironment, ForceAttemptHTTP2: true,
			IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second}
	}
	t.MaxIdleConns = maxIdle
	t.MaxIdleConnsPerHost = maxIdle
	return t
}

// CloseIdleConnections closes the connections to the gateway that are not
// in use.
func (w *Webhook) CloseIdleConnections() { w.client.CloseIdleConnections() }

// String describes w with its secrets redacted.
func (w *Webhook) String() string { return "notify.Webhook{" + w.cfg.String() + "}" }

// LogValue logs w with its secrets redacted.
func (w *Webhook) LogValue() slog.Value { return w.cfg.LogValue() }

type webhookPayload struct {
	Channel  Channel `json:"channel"`
	To       string  `json:"to"`
	Purpose  string  `json:"purpose"`
	Language string  `json:"language"`
	Message  string  `json:"message"`
}

// Notify renders m and POSTs it to the gateway, retrying network errors,
// timeouts, 429 and 5xx responses with exponential backoff until
// MaxAttempts or ctx ends. Errors name the gateway by scheme and host only,
// and the destination masked.
func (w *Webhook) Notify(ctx context.Context, m Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	r, err := w.tmpl.Render(m)
	if err != nil {
		return err
	}
	var body bytes.Buffer
	enc := json.NewEncoder(&body)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(webhookPayload{
		Channel:  m.Channel,
		To:       m.To,
		Purpose:  m.Purpose,
		Language: r.Language,
		Message:  r.Body,
	}); err != nil {
		return fmt.Errorf("notify: webhook: %w", err)
	}
	var signature string
	if w.cfg.HMACSecret != "" {
		mac := hmac.New(sha256.New, []byte(w.cfg.HMACSecret))
		mac.Write(body.Bytes())
		signature = "sha256=" + hex.EncodeToString(mac.Sum(nil))
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return err
	}
	idempotencyKey := hex.EncodeToString(key)

	delay := w.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err = w.post(ctx, body.Bytes(), signature, idempotencyKey)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !retryable(err) || attempt == w.cfg.MaxAttempts {
			break
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
		if ctx.Err() != nil {
			break
		}
		delay *= 2
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (last attempt: %w)", ctx.Err(), err)
	}
	return fmt.Errorf("notify: webhook %s to %s: %w", redactURL(w.url), m.maskedTo(), err)
}

// post makes one attempt.
func (w *Webhook) post(ctx context.Context, body []byte, signature, idempotencyKey string) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	for name, value := range w.cfg.Headers {
		req.Header.Set(name, value)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "sanad-notify")
	req.Header.Set(IdempotencyKeyHeader, idempotencyKey)
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// A *url.Error repeats the URL, query (and any API key in it) included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return err
	}
	// Drain a little so the connection can be reused; the body itself may
	// echo the message and is never reported.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{StatusCode: resp.StatusCode}
	}
	return nil
}

// retryable reports whether a failed attempt may succeed if tried again.
func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.StatusCode >= 500 || se.StatusCode == http.StatusTooManyRequests
	}
	return true // network error or attempt timeout
}

// redactURL prints u as scheme and host only: user info, path and query
// may all hold credentials (API keys in the query, tokens in the path).
func redactURL(u *url.URL) string {
	if u.Scheme == "" || u.Host == "" {
		return "[redacted]"
	}
	s := u.Scheme + "://"
	if u.User != nil {
		s += "[redacted]@"
	}
	s += u.Host
	if u.Path != "" && u.Path != "/" {
		s += "/[redacted]"
	}
	if u.RawQuery != "" {
		s += "?[redacted]"
	}
	return s
}

func redactURLString(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil {
		return "[unparsable URL]"
	}
	return redactURL(u)
}

// isLoopbackName reports whether host names this machine.
func isLoopbackName(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// isToken reports whether s is an HTTP token (RFC 9110, section 5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
