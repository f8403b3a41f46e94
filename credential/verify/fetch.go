package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sanad-id/sanad/internal/safehttp"
)

// Defaults of HTTPStatusFetcher.
const (
	DefaultFetchTimeout   = 10 * time.Second
	DefaultFetchMaxSize   = 2 << 20
	DefaultFetchMaxAge    = 5 * time.Minute
	DefaultFetchCacheSize = 256
)

// maxRedirects bounds the redirects a fetch follows.
const maxRedirects = 5

// HTTPStatusFetcher is a StatusFetcher over HTTPS: a timeout per fetch, a
// size limit, and a small cache of responses that say how long they may be
// kept (Cache-Control max-age, less Age; no-store and no-cache are not
// cached). The zero value is ready to use; set the fields before the first
// Fetch. It is safe for concurrent use.
type HTTPStatusFetcher struct {
	// Client sends the requests; nil means a client that connects only to
	// public IP addresses and uses no proxy (a status list URL comes from
	// a credential, and must not make a verifier reach its own network).
	// Its redirect policy is replaced: at most 5, never from https to
	// http.
	Client *http.Client
	// Timeout bounds each fetch; zero means DefaultFetchTimeout.
	Timeout time.Duration
	// MaxSize bounds a response body; zero means DefaultFetchMaxSize.
	MaxSize int64
	// MaxAge caps how long a response is cached whatever max-age says;
	// zero means DefaultFetchMaxAge, negative disables the cache.
	MaxAge time.Duration
	// CacheSize is the most responses cached; zero means
	// DefaultFetchCacheSize.
	CacheSize int
	// Now is the cache's clock; nil means time.Now.
	Now func() time.Time
	// InsecureAllowHTTP allows http:// URLs (tests, development). A status
	// list over plain HTTP can be replaced by anyone on the path with an
	// older, validly signed list.
	InsecureAllowHTTP bool

	mu    sync.Mutex
	cache map[string]cached
}

var _ StatusFetcher = (*HTTPStatusFetcher)(nil)

type cached struct {
	body        []byte
	contentType string
	expires     time.Time
}

// ErrFetch is the error of every failed fetch: wrapped with the reason.
var ErrFetch = errors.New("verify: fetch failed")

// Fetch implements StatusFetcher.
func (f *HTTPStatusFetcher) Fetch(ctx context.Context, rawURL, accept string) ([]byte, string, error) {
	fail := func(format string, args ...any) ([]byte, string, error) {
		return nil, "", fmt.Errorf("%w: "+format, append([]any{ErrFetch}, args...)...)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" || u.User != nil {
		return fail("%q is not an absolute URL without credentials", clipURL(rawURL))
	}
	if u.Scheme != "https" && !(f.InsecureAllowHTTP && u.Scheme == "http") {
		return fail("%q is not an https URL", clipURL(rawURL))
	}
	u.Fragment = ""
	key := accept + " " + u.String()
	now := f.now()
	if body, ct, ok := f.lookup(key, now); ok {
		return body, ct, nil
	}

	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fail("%v", err)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	req.Header.Set("User-Agent", "sanad-verify")
	resp, err := f.client().Do(req)
	if err != nil {
		return fail("%v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		return fail("HTTP status %d", resp.StatusCode)
	}
	max := f.MaxSize
	if max <= 0 {
		max = DefaultFetchMaxSize
	}
	if resp.ContentLength > max {
		return fail("response of %d bytes exceeds %d", resp.ContentLength, max)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, max+1))
	if err != nil {
		return fail("reading the response: %v", err)
	}
	if int64(len(body)) > max {
		return fail("response exceeds %d bytes", max)
	}
	ct := resp.Header.Get("Content-Type")
	if ttl := f.ttl(resp.Header); ttl > 0 {
		f.store(key, cached{body: body, contentType: ct, expires: now.Add(ttl)}, now)
	}
	return body, ct, nil
}

func (f *HTTPStatusFetcher) now() time.Time {
	if f.Now != nil {
		return f.Now()
	}
	return time.Now()
}

// client is f.Client with a redirect policy that never downgrades to
// plain HTTP.
func (f *HTTPStatusFetcher) client() *http.Client {
	c := f.Client
	if c == nil {
		c = publicClient()
	}
	cc := *c
	cc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if len(via) >= maxRedirects {
			return fmt.Errorf("more than %d redirects", maxRedirects)
		}
		if req.URL.Scheme != "https" && !(f.InsecureAllowHTTP && req.URL.Scheme == "http") {
			return fmt.Errorf("redirect to a non-https URL")
		}
		return nil
	}
	return &cc
}

// publicClient is the default client: its connections go to public
// unicast addresses only.
var publicClient = sync.OnceValue(func() *http.Client { return safehttp.NewClient(safehttp.Options{}) })

// ttl is how long a response may be cached: max-age (s-maxage is for
// shared caches) less Age, capped by MaxAge; zero when it may not be.
func (f *HTTPStatusFetcher) ttl(h http.Header) time.Duration {
	maxAge := f.MaxAge
	if maxAge == 0 {
		maxAge = DefaultFetchMaxAge
	}
	if maxAge < 0 {
		return 0
	}
	var ttl time.Duration
	found := false
	for _, line := range h.Values("Cache-Control") {
		for _, d := range strings.Split(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(d), "=")
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "no-store", "no-cache":
				return 0
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(value), `"`), 10, 64)
				if err != nil || n < 0 {
					return 0
				}
				if n > int64(maxAge/time.Second) {
					n = int64(maxAge / time.Second)
				}
				ttl, found = time.Duration(n)*time.Second, true
			}
		}
	}
	if !found {
		return 0
	}
	if age, err := strconv.ParseInt(strings.TrimSpace(h.Get("Age")), 10, 64); err == nil && age > 0 {
		if age >= int64(ttl/time.Second) {
			return 0
		}
		ttl -= time.Duration(age) * time.Second
	}
	return min(ttl, maxAge)
}

func (f *HTTPStatusFetcher) lookup(key string, now time.Time) ([]byte, string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.cache[key]
	if !ok {
		return nil, "", false
	}
	if !now.Before(c.expires) {
		delete(f.cache, key)
		return nil, "", false
	}
	return bytes.Clone(c.body), c.contentType, true
}

// store caches c, making room by dropping expired entries, then the one
// that expires first.
func (f *HTTPStatusFetcher) store(key string, c cached, now time.Time) {
	size := f.CacheSize
	if size <= 0 {
		size = DefaultFetchCacheSize
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cache == nil {
		f.cache = map[string]cached{}
	}
	if _, ok := f.cache[key]; !ok && len(f.cache) >= size {
		for k, e := range f.cache {
			if !now.Before(e.expires) {
				delete(f.cache, k)
			}
		}
		for len(f.cache) >= size {
			var first string
			var at time.Time
			for k, e := range f.cache {
				if first == "" || e.expires.Before(at) {
					first, at = k, e.expires
				}
			}
			delete(f.cache, first)
		}
	}
	f.cache[key] = c
}
