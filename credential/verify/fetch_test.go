package verify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// statusServer serves paths with the given headers and counts requests.
type statusServer struct {
	*httptest.Server
	hits    atomic.Int64
	mu      sync.Mutex
	accepts []string
}

func newStatusServer(t *testing.T, handler func(w http.ResponseWriter, r *http.Request)) *statusServer {
	t.Helper()
	s := &statusServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		s.accepts = append(s.accepts, r.Header.Get("Accept"))
		s.mu.Unlock()
		handler(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

// clock is a settable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestHTTPStatusFetcherCache(t *testing.T) {
	for _, tt := range []struct {
		name    string
		headers map[string]string
		opts    func(*HTTPStatusFetcher)
		// after is how long after the first fetch the second happens;
		// wantHits is how many requests the server then saw.
		after    time.Duration
		wantHits int64
	}{
		{name: "max-age, fresh", headers: map[string]string{"Cache-Control": "public, max-age=60"}, after: 59 * time.Second, wantHits: 1},
		{name: "max-age, stale", headers: map[string]string{"Cache-Control": "max-age=60"}, after: 60 * time.Second, wantHits: 2},
		{name: "Age counts", headers: map[string]string{"Cache-Control": "max-age=60", "Age": "50"}, after: 11 * time.Second, wantHits: 2},
		{name: "Age within", headers: map[string]string{"Cache-Control": "max-age=60", "Age": "50"}, after: 9 * time.Second, wantHits: 1},
		{name: "no-store", headers: map[string]string{"Cache-Control": "no-store, max-age=60"}, after: time.Second, wantHits: 2},
		{name: "no-cache", headers: map[string]string{"Cache-Control": "max-age=60, no-cache"}, after: time.Second, wantHits: 2},
		{name: "no header", after: time.Second, wantHits: 2},
		{name: "bad max-age", headers: map[string]string{"Cache-Control": "max-age=soon"}, after: time.Second, wantHits: 2},
		{name: "capped by MaxAge", headers: map[string]string{"Cache-Control": "max-age=3600"},
			opts: func(f *HTTPStatusFetcher) { f.MaxAge = 10 * time.Second }, after: 11 * time.Second, wantHits: 2},
		{name: "cache disabled", headers: map[string]string{"Cache-Control": "max-age=3600"},
			opts: func(f *HTTPStatusFetcher) { f.MaxAge = -1 }, after: time.Second, wantHits: 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := newStatusServer(t, func(w http.ResponseWriter, _ *http.Request) {
				for k, v := range tt.headers {
					w.Header().Set(k, v)
				}
				w.Header().Set("Content-Type", "application/vc+ld+json")
				w.Write([]byte(`{"list":1}`))
			})
			c := &clock{t: testNow}
			f := &HTTPStatusFetcher{Client: srv.Client(), Now: c.now}
			if tt.opts != nil {
				tt.opts(f)
			}
			ctx := context.Background()
			for i := range 2 {
				body, ct, err := f.Fetch(ctx, srv.URL+"/list", AcceptListCredential)
				if err != nil || string(body) != `{"list":1}` || ct != "application/vc+ld+json" {
					t.Fatalf("Fetch #%d = %q, %q, %v; want the list", i+1, body, ct, err)
				}
				c.advance(tt.after)
			}
			if got := srv.hits.Load(); got != tt.wantHits {
				t.Errorf("server saw %d requests, want %d", got, tt.wantHits)
			}
		})
	}
}

func TestHTTPStatusFetcherAccept(t *testing.T) {
	srv := newStatusServer(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("x.y.z"))
	})
	f := &HTTPStatusFetcher{Client: srv.Client()}
	ctx := context.Background()
	for _, accept := range []string{AcceptStatusListToken, AcceptListCredential, AcceptStatusListToken} {
		if _, _, err := f.Fetch(ctx, srv.URL+"/l#frag", accept); err != nil {
			t.Fatal(err)
		}
	}
	// The third fetch is cached: same URL (the fragment is not sent) and
	// Accept as the first.
	want := []string{AcceptStatusListToken, AcceptListCredential}
	if !equal(srv.accepts, want) {
		t.Errorf("Accept headers sent = %q, want %q", srv.accepts, want)
	}
}

func TestHTTPStatusFetcherErrors(t *testing.T) {
	big := strings.Repeat("a", 1024)
	srv := newStatusServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/missing":
			http.NotFound(w, r)
		case "/big":
			w.Write([]byte(big))
		case "/big-chunked":
			w.Write([]byte(big[:512]))
			w.(http.Flusher).Flush()
			w.Write([]byte(big[512:]))
		case "/slow":
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		case "/downgrade":
			http.Redirect(w, r, "http://"+r.Host+"/big", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	})
	f := &HTTPStatusFetcher{Client: srv.Client(), MaxSize: 1000, Timeout: 200 * time.Millisecond}
	plainURL := "http" + strings.TrimPrefix(srv.URL, "https")
	for _, tt := range []struct {
		name, url, want string
	}{
		{"not found", srv.URL + "/missing", "HTTP status 404"},
		{"too large", srv.URL + "/big", "exceeds 1000"},
		{"too large, chunked", srv.URL + "/big-chunked", "exceeds 1000"},
		{"timeout", srv.URL + "/slow", "deadline"},
		{"plain http", plainURL + "/big", "not an https URL"},
		{"relative", "/big", "not an absolute URL"},
		{"userinfo", "https://user:pw@" + strings.TrimPrefix(srv.URL, "https://") + "/big", "without credentials"},
		{"redirect to http", srv.URL + "/downgrade", "non-https"},
		{"redirect loop", srv.URL + "/loop", "redirects"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, _, err := f.Fetch(context.Background(), tt.url, AcceptListCredential)
			if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), tt.want) || body != nil {
				t.Errorf("Fetch(%s) = %d bytes, %v; want ErrFetch mentioning %q", tt.url, len(body), err, tt.want)
			}
		})
	}
}

func TestHTTPStatusFetcherInsecureHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) }))
	defer srv.Close()
	f := &HTTPStatusFetcher{Client: srv.Client(), InsecureAllowHTTP: true}
	body, _, err := f.Fetch(context.Background(), srv.URL, AcceptStatusListToken)
	if err != nil || string(body) != "ok" {
		t.Errorf("Fetch(http, InsecureAllowHTTP) = %q, %v; want ok", body, err)
	}
}

// TestHTTPStatusFetcherPublicOnly: without a Client, the fetcher does not
// connect to loopback or private addresses.
func TestHTTPStatusFetcherPublicOnly(t *testing.T) {
	srv := newStatusServer(t, func(w http.ResponseWriter, _ *http.Request) { w.Write([]byte("ok")) })
	f := &HTTPStatusFetcher{}
	for _, u := range []string{srv.URL + "/list", "https://10.0.0.1:1/list"} {
		_, _, err := f.Fetch(context.Background(), u, AcceptStatusListToken)
		if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "not a public address") {
			t.Errorf("Fetch(%s) = %v, want a refusal to connect", u, err)
		}
	}
	if srv.hits.Load() != 0 {
		t.Errorf("the loopback server saw %d requests, want none", srv.hits.Load())
	}
}

func TestHTTPStatusFetcherCacheSize(t *testing.T) {
	srv := newStatusServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age="+strings.TrimPrefix(r.URL.Path, "/"))
		w.Write([]byte(r.URL.Path))
	})
	c := &clock{t: testNow}
	f := &HTTPStatusFetcher{Client: srv.Client(), CacheSize: 2, Now: c.now}
	ctx := context.Background()
	for _, p := range []string{"/100", "/200", "/300"} {
		if _, _, err := f.Fetch(ctx, srv.URL+p, ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.cache) != 2 {
		t.Errorf("cache holds %d entries, want 2", len(f.cache))
	}
	// The entry expiring first (/100) was dropped; /300 is still cached.
	hits := srv.hits.Load()
	if _, _, err := f.Fetch(ctx, srv.URL+"/300", ""); err != nil || srv.hits.Load() != hits {
		t.Errorf("Fetch(/300) went to the server (%v), want the cache", err)
	}
	if _, _, err := f.Fetch(ctx, srv.URL+"/100", ""); err != nil || srv.hits.Load() != hits+1 {
		t.Errorf("Fetch(/100) came from the cache (%v), want the server", err)
	}
}

// TestHTTPStatusFetcherConcurrent exercises the cache under the race
// detector.
func TestHTTPStatusFetcherConcurrent(t *testing.T) {
	srv := newStatusServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte(r.URL.Path))
	})
	f := &HTTPStatusFetcher{Client: srv.Client(), CacheSize: 4}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			p := "/" + string(rune('a'+i%6))
			body, _, err := f.Fetch(context.Background(), srv.URL+p, "")
			if err != nil || string(body) != p {
				t.Errorf("Fetch(%s) = %q, %v", p, body, err)
			}
		})
	}
	wg.Wait()
}
