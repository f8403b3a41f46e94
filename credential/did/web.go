package did

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/internal/safehttp"
)

// Errors of did:web resolution, besides the package's others.
var (
	// ErrFetch: the DID document could not be fetched: network failure,
	// timeout, a status other than 200 (redirects are not followed), a
	// content type that is not JSON, a body over MaxDocumentSize.
	ErrFetch = errors.New("did: DID document could not be fetched")
	// ErrOffline: the resolver may not fetch (WebConfig.Offline) and the
	// DID is neither in the trust list nor cached.
	ErrOffline = errors.New("did: DID document not available offline")
)

// Defaults of WebConfig.
const (
	DefaultWebTimeout    = 10 * time.Second
	DefaultWebTTL        = time.Hour
	DefaultWebMinTTL     = time.Minute
	DefaultWebMaxTTL     = 24 * time.Hour
	DefaultWebMaxEntries = 1000
)

// WebConfig configures a WebMethod. The zero value fetches documents over
// HTTPS from public addresses and caches them for an hour.
type WebConfig struct {
	// Client sends the requests; nil means a client that connects only to
	// public IP addresses (a DID in a credential must not make the
	// verifier reach its own network) and uses no proxy. A Client given
	// here is used as is, except that redirects are never followed.
	Client *http.Client
	// Timeout bounds one fetch; 0 means DefaultWebTimeout.
	Timeout time.Duration
	// TTL is how long a document is cached when the response has no
	// Cache-Control max-age; 0 means DefaultWebTTL.
	TTL time.Duration
	// MinTTL and MaxTTL bound the lifetime a response's max-age (or
	// no-cache, read as 0) asks for; 0 means DefaultWebMinTTL and
	// DefaultWebMaxTTL. The floor keeps a server from making every
	// verification a fetch.
	MinTTL, MaxTTL time.Duration
	// MaxEntries bounds the cache; 0 means DefaultWebMaxEntries. When it
	// is full, the entry that expires first makes room.
	MaxEntries int
	// StaleIfError is how long past its expiry a cached document is still
	// used when refreshing it fails for want of the server (network
	// error, timeout, status 429 or 5xx); 0 never uses an expired
	// document.
	StaleIfError time.Duration
	// Trust holds pinned documents, used before the cache and the network.
	Trust *TrustList
	// Offline resolves from Trust and the cache only and never fetches.
	Offline bool
	// AllowInsecureLocalhost fetches the documents of did:web:localhost
	// and did:web:127.0.0.1 (any port) over plain HTTP, and lets the
	// default client connect to loopback addresses. For tests and demos
	// only: never set it in production.
	AllowInsecureLocalhost bool
	// Now is the clock of the cache; nil means time.Now.
	Now func() time.Time
}

// WebMethod resolves did:web DIDs (W3C CCG did:web method): the DID
// document is fetched from the HTTPS URL the DID names (WebDocumentURL),
// must carry the DID as its id, and is cached. It is safe for concurrent
// use; concurrent resolutions of one DID share one fetch.
type WebMethod struct {
	cfg    WebConfig
	client *http.Client

	mu    sync.Mutex
	cache map[string]*webEntry
	calls map[string]*webCall

	// joined is called when a resolution waits for another's fetch (tests).
	joined func()
}

type webEntry struct {
	doc     *resolvedDoc
	expires time.Time
}

type webCall struct {
	done chan struct{}
	doc  *resolvedDoc
	err  error
}

var _ DocumentMethod = (*WebMethod)(nil)

// NewWebMethod returns a did:web Method configured by c.
func NewWebMethod(c WebConfig) *WebMethod {
	if c.Timeout <= 0 {
		c.Timeout = DefaultWebTimeout
	}
	if c.TTL <= 0 {
		c.TTL = DefaultWebTTL
	}
	if c.MinTTL <= 0 {
		c.MinTTL = DefaultWebMinTTL
	}
	if c.MaxTTL <= 0 {
		c.MaxTTL = DefaultWebMaxTTL
	}
	if c.MaxEntries <= 0 {
		c.MaxEntries = DefaultWebMaxEntries
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	var client http.Client
	if c.Client != nil {
		client = *c.Client
	} else {
		client = *safehttp.NewClient(safehttp.Options{AllowLoopback: c.AllowInsecureLocalhost})
	}
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &WebMethod{cfg: c, client: &client, cache: map[string]*webEntry{}, calls: map[string]*webCall{}}
}

// Name implements Method.
func (*WebMethod) Name() string { return "web" }

// ResolveKey implements Method: the key of the verification method the
// fragment names, if the document lists it under a relationship other
// than keyAgreement. A DID without a fragment names no key (a did:web
// document may hold several): ErrNotFound. Resolver.ResolveKey, which
// finds an issuer's key, further requires assertionMethod.
func (w *WebMethod) ResolveKey(ctx context.Context, u URL) (jwk.Key, error) {
	vm, err := w.VerificationMethod(ctx, u)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(vm.Relationships, func(r string) bool { return r != KeyAgreement }) {
		return nil, fmt.Errorf("%w: %s is listed under no signing relationship", ErrNotFound, vm.ID)
	}
	return vm.Key, nil
}

// VerificationMethod implements DocumentMethod.
func (w *WebMethod) VerificationMethod(ctx context.Context, u URL) (VerificationMethod, error) {
	if u.Method != "web" {
		return VerificationMethod{}, fmt.Errorf("%w: did:%s is not did:web", ErrUnsupportedMethod, u.Method)
	}
	if u.Fragment == "" {
		return VerificationMethod{}, fmt.Errorf("%w: a did:web key is named by a DID URL with a fragment", ErrNotFound)
	}
	doc, err := w.document(ctx, u.DID())
	if err != nil {
		return VerificationMethod{}, err
	}
	return doc.lookup(u.String())
}

// document returns the resolved document of a did:web DID: pinned, cached
// or fetched.
func (w *WebMethod) document(ctx context.Context, did string) (*resolvedDoc, error) {
	if doc, ok := w.cfg.Trust.lookup(did); ok {
		return doc, nil
	}
	target, err := w.documentURL(did)
	if err != nil {
		return nil, err
	}
	now := w.cfg.Now()
	w.mu.Lock()
	e := w.cache[did]
	if e != nil && now.Before(e.expires) {
		w.mu.Unlock()
		return e.doc, nil
	}
	if w.cfg.Offline {
		w.mu.Unlock()
		if e != nil && now.Before(e.expires.Add(w.cfg.StaleIfError)) {
			return e.doc, nil
		}
		return nil, fmt.Errorf("%w: %s", ErrOffline, did)
	}
	c, running := w.calls[did]
	if !running {
		c = &webCall{done: make(chan struct{})}
		w.calls[did] = c
		// The fetch outlives a caller that gives up: others may wait on it.
		go w.run(context.WithoutCancel(ctx), did, target, c)
	} else if w.joined != nil {
		w.joined()
	}
	w.mu.Unlock()
	select {
	case <-c.done:
		return c.doc, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %s: %w", ErrFetch, did, ctx.Err())
	}
}

// run fetches a document for the callers waiting on c and caches it.
func (w *WebMethod) run(ctx context.Context, did, target string, c *webCall) {
	doc, ttl, transient, err := w.fetch(ctx, did, target)
	now := w.cfg.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.calls, did)
	switch {
	case err == nil:
		w.store(did, &webEntry{doc: doc, expires: now.Add(ttl)}, now)
		c.doc = doc
	case transient && w.cache[did] != nil && now.Before(w.cache[did].expires.Add(w.cfg.StaleIfError)):
		c.doc = w.cache[did].doc
	default:
		c.err = err
	}
	close(c.done)
}

// store caches e, making room if the cache is full. Called with w.mu held.
func (w *WebMethod) store(did string, e *webEntry, now time.Time) {
	if _, ok := w.cache[did]; !ok && len(w.cache) >= w.cfg.MaxEntries {
		var oldest string
		for k, v := range w.cache {
			if !now.Before(v.expires.Add(w.cfg.StaleIfError)) {
				delete(w.cache, k)
				continue
			}
			if oldest == "" || v.expires.Before(w.cache[oldest].expires) {
				oldest = k
			}
		}
		if len(w.cache) >= w.cfg.MaxEntries {
			delete(w.cache, oldest)
		}
	}
	w.cache[did] = e
}

// cached reports how many documents the cache holds (tests).
func (w *WebMethod) cached() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.cache)
}

// documentURL is WebDocumentURL, over http for localhost if allowed.
func (w *WebMethod) documentURL(did string) (string, error) {
	target, err := WebDocumentURL(did)
	if err != nil || !w.cfg.AllowInsecureLocalhost {
		return target, err
	}
	u, _ := url.Parse(target)
	if h := u.Hostname(); h == "localhost" || h == "127.0.0.1" {
		u.Scheme = "http"
	}
	return u.String(), nil
}

// didContentTypes are the media types a DID document may be served with.
var didContentTypes = map[string]bool{"application/did+json": true, "application/did+ld+json": true, "application/json": true}

// fetch gets and checks the document of did from target. transient tells
// a failure of the server (which a stale document may cover) from a bad
// document.
func (w *WebMethod) fetch(ctx context.Context, did, target string) (doc *resolvedDoc, ttl time.Duration, transient bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%w: %s: %v", ErrFetch, did, err)
	}
	req.Header.Set("Accept", "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8")
	resp, err := w.client.Do(req)
	if err != nil {
		return nil, 0, true, fmt.Errorf("%w: %s: %w", ErrFetch, did, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		transient := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
		return nil, 0, transient, fmt.Errorf("%w: %s: GET %s: status %d", ErrFetch, did, target, resp.StatusCode)
	}
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || !didContentTypes[mt] {
		return nil, 0, false, fmt.Errorf("%w: %s: content type %q is not a DID document's", ErrFetch, did, resp.Header.Get("Content-Type"))
	}
	if resp.ContentLength > MaxDocumentSize {
		return nil, 0, false, fmt.Errorf("%w: %s: document larger than %d bytes", ErrFetch, did, MaxDocumentSize)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxDocumentSize+1))
	if err != nil {
		return nil, 0, true, fmt.Errorf("%w: %s: %v", ErrFetch, did, err)
	}
	if len(body) > MaxDocumentSize {
		return nil, 0, false, fmt.Errorf("%w: %s: document larger than %d bytes", ErrFetch, did, MaxDocumentSize)
	}
	doc, err = parseResolved(body)
	if err != nil {
		return nil, 0, false, fmt.Errorf("%s: %w", did, err)
	}
	if doc.id != did {
		return nil, 0, false, fmt.Errorf("%w: the document at %s has id %q, not %s", ErrInvalidDocument, target, doc.id, did)
	}
	return doc, w.lifetime(resp.Header.Get("Cache-Control")), false, nil
}

// lifetime is how long a response may be cached: its max-age within
// [MinTTL, MaxTTL], or TTL.
func (w *WebMethod) lifetime(cacheControl string) time.Duration {
	ttl, set := w.cfg.TTL, false
	for _, d := range strings.Split(cacheControl, ",") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
		switch strings.ToLower(name) {
		case "no-store", "no-cache":
			ttl, set = 0, true
		case "max-age":
			if set {
				continue
			}
			n, err := strconv.ParseInt(strings.Trim(value, `"`), 10, 64)
			if err != nil || n < 0 {
				continue
			}
			ttl, set = time.Duration(min(n, int64(w.cfg.MaxTTL/time.Second)+1))*time.Second, true
		}
	}
	if !set {
		return ttl
	}
	return min(max(ttl, w.cfg.MinTTL), w.cfg.MaxTTL)
}

// WebDocumentURL returns the HTTPS URL of the DID document of a did:web
// DID: did:web:example.com is https://example.com/.well-known/did.json,
// did:web:example.com:user:alice is https://example.com/user/alice/did.json,
// and a port is percent-encoded (did:web:example.com%3A8443). The host
// must be a domain name or an IPv4 address; path segments are
// percent-decoded and may not be empty, "." or "..".
func WebDocumentURL(did string) (string, error) {
	u, err := Parse(did)
	if err != nil {
		return "", err
	}
	if u.Method != "web" {
		return "", fmt.Errorf("%w: %s is not did:web", ErrUnsupportedMethod, did)
	}
	if u.Fragment != "" {
		return "", fmt.Errorf("%w: %s is a DID URL, not a DID", ErrInvalid, did)
	}
	parts := strings.Split(u.ID, ":")
	host, err := url.PathUnescape(parts[0])
	if err != nil || !validWebHost(host) {
		return "", fmt.Errorf("%w: did:web host %q is not a domain name with an optional port", ErrInvalid, parts[0])
	}
	path := "/.well-known/did.json"
	if len(parts) > 1 {
		segs := make([]string, len(parts)-1)
		for i, p := range parts[1:] {
			s, err := url.PathUnescape(p)
			if err != nil || !validWebSegment(s) {
				return "", fmt.Errorf("%w: did:web path segment %q", ErrInvalid, p)
			}
			segs[i] = s
		}
		path = "/" + strings.Join(segs, "/") + "/did.json"
	}
	return (&url.URL{Scheme: "https", Host: host, Path: path}).String(), nil
}

// validWebHost checks host[:port]: dot-separated labels of letters,
// digits and hyphens, and a port of 1 to 65535.
func validWebHost(hostport string) bool {
	host, port, hasPort := strings.Cut(hostport, ":")
	if hasPort {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' || port[0] == '+' {
			return false
		}
	}
	if host == "" || len(host) > 253 {
		return false
	}
	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !isAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

// validWebSegment checks a decoded path segment of a did:web: not empty,
// not a dot segment, without a separator or a control character.
func validWebSegment(s string) bool {
	if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "/\\?#") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// WebDID returns the did:web DID whose document is served under an
// http(s) URL's host and path: "https://id.example:8443/a/b" gives
// "did:web:id.example%3A8443:a:b", "https://id.example/" gives
// "did:web:id.example". The host is lower-cased and a default port
// dropped. It returns "" for a URL that names no did:web: not absolute
// http(s), with user info, a query or a fragment, an IPv6 host, or a
// path with "." or ".." segments, an encoded "/" or a control character.
func WebDID(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Opaque != "" {
		return ""
	}
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if u.Scheme == "https" && port == "443" || u.Scheme == "http" && port == "80" {
		port = ""
	}
	hostport := host
	if port != "" {
		hostport += ":" + port
	}
	if strings.Contains(host, ":") || !validWebHost(hostport) {
		return ""
	}
	var b strings.Builder
	b.WriteString("did:web:")
	b.WriteString(host)
	if port != "" {
		b.WriteString("%3A" + port)
	}
	for _, raw := range strings.Split(u.EscapedPath(), "/") {
		if raw == "" {
			continue
		}
		seg, err := url.PathUnescape(raw)
		if err != nil || !validWebSegment(seg) {
			return ""
		}
		b.WriteByte(':')
		for i := 0; i < len(seg); i++ {
			if c := seg[i]; isAlnum(c) || c == '.' || c == '-' || c == '_' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "%%%02X", c)
			}
		}
	}
	if len(b.String()) > MaxLength {
		return ""
	}
	return b.String()
}
