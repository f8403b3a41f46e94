package demobank

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Config configures a Bank. Issuer, ClientID, SigningKey and BaseURL are
// required.
type Config struct {
	// Issuer is the provider's issuer identifier (discovery at Issuer +
	// /.well-known/openid-configuration). A trailing slash is dropped.
	Issuer   string
	ClientID string
	// SigningKey is the client's private ES256 (P-256) key for
	// private_key_jwt; its public part is registered with the provider.
	SigningKey jwk.Key
	// BaseURL is where the bank is served, e.g.
	// http://127.0.0.1:8080/demo/bank; the redirect URI is BaseURL +
	// "/callback". https, or http on the loopback interface.
	BaseURL string
	// HTTPClient makes the back-channel calls (discovery, JWKS, PAR, token,
	// userinfo); nil for a client with timeouts that follows no redirects.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Bank is the demo relying party. It is safe for concurrent use.
type Bank struct {
	issuer      string
	clientID    string
	key         jwk.Key
	baseURL     string // without trailing slash
	basePath    string // BaseURL's path, without trailing slash ("" at the root)
	redirectURI string
	secure      bool // BaseURL is https: cookies are Secure
	client      *http.Client
	log         *slog.Logger
	now         func() time.Time

	csrfKey  []byte // HMAC key of the forms' anti-CSRF tokens
	sessions *sessionStore
	nonces   dpopNonces

	// disc is the provider's metadata once discovered (discovery.go);
	// discMu serializes discovery.
	discMu sync.Mutex
	disc   atomic.Pointer[discovered]
}

// Timeouts of the default back-channel client.
const (
	clientTimeout = 15 * time.Second
	dialTimeout   = 5 * time.Second
)

// New returns a Bank. It does no I/O: the provider is discovered on first
// use (and again after a failure), so the bank may be created before the
// provider listens, in the same process or elsewhere. New does not keep
// ctx.
func New(ctx context.Context, cfg Config) (*Bank, error) {
	var errs []error
	issuer := strings.TrimRight(cfg.Issuer, "/")
	if err := checkHTTPURL(issuer); err != nil {
		errs = append(errs, fmt.Errorf("demobank: Issuer: %w", err))
	}
	if cfg.ClientID == "" {
		errs = append(errs, errors.New("demobank: ClientID is required"))
	}
	if err := checkSigningKey(cfg.SigningKey); err != nil {
		errs = append(errs, fmt.Errorf("demobank: SigningKey: %w", err))
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	if err := checkHTTPURL(base); err != nil {
		errs = append(errs, fmt.Errorf("demobank: BaseURL: %w", err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	u, _ := url.Parse(base)
	b := &Bank{
		issuer:      issuer,
		clientID:    cfg.ClientID,
		key:         cfg.SigningKey,
		baseURL:     base,
		basePath:    u.EscapedPath(),
		redirectURI: base + "/callback",
		secure:      u.Scheme == "https",
		client:      cfg.HTTPClient,
		log:         cfg.Logger,
		now:         cfg.Now,
		csrfKey:     make([]byte, 32),
	}
	if b.client == nil {
		b.client = defaultClient()
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.now == nil {
		b.now = time.Now
	}
	if _, err := rand.Read(b.csrfKey); err != nil {
		return nil, fmt.Errorf("demobank: random: %w", err)
	}
	b.sessions = newSessionStore(b.now, maxSessions)
	return b, nil
}

// RedirectURI is the redirect URI to register: BaseURL + "/callback".
func (b *Bank) RedirectURI() string { return b.redirectURI }

// defaultClient is the back-channel client: bounded in time, and following
// no redirects, so that a form carrying a client assertion or an access
// token is never sent anywhere but where it was addressed.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = dialTimeout
	t.ResponseHeaderTimeout = clientTimeout
	return &http.Client{
		Transport: t,
		Timeout:   clientTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// checkHTTPURL accepts an absolute https URL, or http on the loopback
// interface (development), without query, fragment or user info.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("%q is not an absolute URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("%q must have no query, fragment or user info", s)
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())) {
		return fmt.Errorf("%q must be https (http only on the loopback interface)", s)
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
