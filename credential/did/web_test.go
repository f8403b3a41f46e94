package did

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// docServer serves DID documents by path and counts the requests.
type docServer struct {
	*httptest.Server
	requests atomic.Int32

	mu           sync.Mutex
	docs         map[string][]byte
	status       int    // 0: 200 for a known path, 404 otherwise
	contentType  string // default application/did+json
	cacheControl string
	location     string        // sent with a 3xx status
	release      chan struct{} // when set, requests wait for it
	accept       string        // Accept of the last request
}

func newDocServer(t testing.TB, tls bool) *docServer {
	t.Helper()
	s := &docServer{docs: map[string][]byte{}, contentType: "application/did+json"}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.mu.Lock()
		release := s.release
		s.accept = r.Header.Get("Accept")
		s.mu.Unlock()
		if release != nil {
			select {
			case <-release:
			case <-r.Context().Done():
				return
			}
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		body, ok := s.docs[r.URL.Path]
		status := s.status
		if status == 0 {
			status = http.StatusOK
			if !ok {
				status = http.StatusNotFound
			}
		}
		if s.contentType != "" {
			w.Header().Set("Content-Type", s.contentType)
		}
		if s.cacheControl != "" {
			w.Header().Set("Cache-Control", s.cacheControl)
		}
		if s.location != "" {
			w.Header().Set("Location", s.location)
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	if tls {
		s.Server = httptest.NewTLSServer(h)
	} else {
		s.Server = httptest.NewServer(h)
	}
	t.Cleanup(func() {
		s.mu.Lock()
		if s.release != nil {
			select {
			case <-s.release:
			default:
				close(s.release)
			}
		}
		s.mu.Unlock()
		s.Close()
	})
	return s
}

// did returns the did:web of a path on the server ("" for the root).
func (s *docServer) did(t *testing.T, path string) string {
	t.Helper()
	d := WebDID(s.URL + path)
	if d == "" {
		t.Fatalf("WebDID(%q) = \"\"", s.URL+path)
	}
	return d
}

// publish serves doc as the document of did.
func (s *docServer) publish(t *testing.T, did string, doc any) {
	t.Helper()
	target, err := WebDocumentURL(did)
	if err != nil {
		t.Fatal(err)
	}
	b, ok := doc.([]byte)
	if !ok {
		if b, err = json.Marshal(doc); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.docs[u.Path] = b
	s.mu.Unlock()
}

func (s *docServer) set(f func(s *docServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// fakeClock is a settable clock for the cache.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// testDocument publishes a document of did with an assertion key, an
// authentication key, a key-agreement key and a key under no relationship.
func testDocument(t *testing.T, did string) (*Document, map[string]jwk.Key) {
	t.Helper()
	keys := map[string]jwk.Key{"#assert": newEd25519(t)}
	keys["#auth"], _ = newP256(t)
	keys["#agree"], _ = newP256(t)
	keys["#listed"] = newEd25519(t)
	d, err := NewDocument(did, []VerificationMethod{
		{ID: "#assert", Key: keys["#assert"], Relationships: []string{AssertionMethod, CapabilityInvocation}},
		{ID: "#auth", Key: keys["#auth"], Relationships: []string{Authentication}},
		{ID: "#agree", Key: keys["#agree"], Relationships: []string{KeyAgreement}},
		{ID: "#listed", Key: keys["#listed"]},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, keys
}

func mustParse(t *testing.T, s string) URL {
	t.Helper()
	u, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q) = %v", s, err)
	}
	return u
}

func TestWebResolve(t *testing.T) {
	s := newDocServer(t, true)
	for _, path := range []string{"", "/users/alice", "/tenants/a%20b/x"} {
		t.Run("path "+path, func(t *testing.T) {
			did := s.did(t, path)
			doc, keys := testDocument(t, did)
			s.publish(t, did, doc)
			w := NewWebMethod(WebConfig{Client: s.Client()})
			for _, tc := range []struct {
				frag string
				rels []string
			}{
				{"#assert", []string{AssertionMethod, CapabilityInvocation}},
				{"#auth", []string{Authentication}},
				{"#listed", nil},
			} {
				vm, err := w.VerificationMethod(t.Context(), mustParse(t, did+tc.frag))
				if err != nil {
					t.Fatalf("VerificationMethod(%s) = %v", did+tc.frag, err)
				}
				if vm.ID != did+tc.frag || vm.Type != TypeMultikey || vm.Controller != did || !slices.Equal(vm.Relationships, tc.rels) {
					t.Errorf("VerificationMethod(%s) = {%s %s %s %v}, want relationships %v", did+tc.frag, vm.ID, vm.Type, vm.Controller, vm.Relationships, tc.rels)
				}
				if thumbprint(t, vm.Key) != thumbprint(t, keys[tc.frag]) {
					t.Errorf("VerificationMethod(%s) has another key", did+tc.frag)
				}
			}
			k, err := w.ResolveKey(t.Context(), mustParse(t, did+"#auth"))
			if err != nil || thumbprint(t, k) != thumbprint(t, keys["#auth"]) {
				t.Errorf("ResolveKey(%s#auth) = %v, %v", did, k, err)
			}
		})
	}
	if !strings.HasPrefix(s.accept, "application/did+json") {
		t.Errorf("Accept = %q, want application/did+json first", s.accept)
	}
}

func TestWebResolveKeyRefuses(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, _ := testDocument(t, did)
	s.publish(t, did, doc)
	w := NewWebMethod(WebConfig{Client: s.Client()})
	for _, tc := range []struct {
		name, url string
		want      error
	}{
		{name: "no fragment", url: did, want: ErrNotFound},
		{name: "unknown fragment", url: did + "#nope", want: ErrNotFound},
		{name: "key agreement only", url: did + "#agree", want: ErrNotFound},
		{name: "under no relationship", url: did + "#listed", want: ErrNotFound},
		{name: "other method", url: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", want: ErrUnsupportedMethod},
		{name: "bad host", url: "did:web:exa_mple.com#k", want: ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := w.ResolveKey(t.Context(), mustParse(t, tc.url))
			if !errors.Is(err, tc.want) {
				t.Fatalf("ResolveKey(%s) = %v, %v, want %v", tc.url, k, err, tc.want)
			}
		})
	}
}

func TestWebCacheHit(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, _ := testDocument(t, did)
	s.publish(t, did, doc)
	w := NewWebMethod(WebConfig{Client: s.Client()})
	for i, frag := range []string{"#assert", "#assert", "#auth", "#nope"} {
		_, err := w.VerificationMethod(t.Context(), mustParse(t, did+frag))
		if frag == "#nope" {
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("VerificationMethod(%s) = %v, want %v", frag, err, ErrNotFound)
			}
		} else if err != nil {
			t.Fatalf("VerificationMethod(%s) = %v", frag, err)
		}
		if n := s.requests.Load(); n != 1 {
			t.Fatalf("after %d resolutions: %d requests, want 1", i+1, n)
		}
	}
}

func TestWebCacheLifetime(t *testing.T) {
	for _, tc := range []struct {
		name          string
		cacheControl  string
		cfg           WebConfig
		fresh, expire time.Duration // still cached at fresh, refetched at expire
	}{
		{name: "default TTL", fresh: time.Hour - time.Second, expire: time.Hour},
		{name: "configured TTL", cfg: WebConfig{TTL: 5 * time.Minute}, fresh: 5*time.Minute - time.Second, expire: 5 * time.Minute},
		{name: "max-age", cacheControl: "public, max-age=120", fresh: 119 * time.Second, expire: 120 * time.Second},
		{name: "max-age over the cap", cacheControl: "max-age=31536000", cfg: WebConfig{MaxTTL: 2 * time.Hour}, fresh: 2*time.Hour - time.Second, expire: 2 * time.Hour},
		{name: "max-age over the default cap", cacheControl: "max-age=99999999999999999", fresh: DefaultWebMaxTTL - time.Second, expire: DefaultWebMaxTTL},
		{name: "max-age 0 gets the floor", cacheControl: "max-age=0", fresh: DefaultWebMinTTL - time.Second, expire: DefaultWebMinTTL},
		{name: "no-store gets the floor", cacheControl: "no-store", cfg: WebConfig{MinTTL: 10 * time.Second}, fresh: 9 * time.Second, expire: 10 * time.Second},
		{name: "malformed max-age ignored", cacheControl: "max-age=soon", fresh: time.Hour - time.Second, expire: time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDocServer(t, true)
			s.cacheControl = tc.cacheControl
			did := s.did(t, "")
			doc, _ := testDocument(t, did)
			s.publish(t, did, doc)
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := &fakeClock{t: t0}
			cfg := tc.cfg
			cfg.Client, cfg.Now = s.Client(), clock.Now
			w := NewWebMethod(cfg)
			for _, step := range []struct {
				at   time.Duration
				want int32
			}{{0, 1}, {tc.fresh, 1}, {tc.expire, 2}, {tc.expire + tc.fresh, 2}} {
				clock.set(t0.Add(step.at))
				if _, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert")); err != nil {
					t.Fatalf("at %v: VerificationMethod = %v", step.at, err)
				}
				if n := s.requests.Load(); n != step.want {
					t.Fatalf("at %v: %d requests, want %d", step.at, n, step.want)
				}
			}
		})
	}
}

func TestWebStaleIfError(t *testing.T) {
	for _, tc := range []struct {
		name    string
		status  int
		stale   time.Duration
		at      time.Duration
		wantErr error
	}{
		{name: "5xx within the window", status: http.StatusServiceUnavailable, stale: time.Hour, at: 90 * time.Minute},
		{name: "429 within the window", status: http.StatusTooManyRequests, stale: time.Hour, at: 90 * time.Minute},
		{name: "5xx past the window", status: http.StatusInternalServerError, stale: time.Hour, at: 2*time.Hour + time.Second, wantErr: ErrFetch},
		{name: "5xx without stale", status: http.StatusInternalServerError, at: time.Hour, wantErr: ErrFetch},
		{name: "404 is not an outage", status: http.StatusNotFound, stale: time.Hour, at: 90 * time.Minute, wantErr: ErrFetch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDocServer(t, true)
			did := s.did(t, "")
			doc, _ := testDocument(t, did)
			s.publish(t, did, doc)
			t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			clock := &fakeClock{t: t0}
			w := NewWebMethod(WebConfig{Client: s.Client(), Now: clock.Now, StaleIfError: tc.stale})
			u := mustParse(t, did+"#assert")
			if _, err := w.VerificationMethod(t.Context(), u); err != nil {
				t.Fatal(err)
			}
			s.set(func(s *docServer) { s.status = tc.status })
			clock.set(t0.Add(tc.at))
			_, err := w.VerificationMethod(t.Context(), u)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("VerificationMethod after %v with status %d = %v, want %v", tc.at, tc.status, err, tc.wantErr)
			}
			if n := s.requests.Load(); n != 2 {
				t.Errorf("%d requests, want 2 (the refresh is attempted)", n)
			}
		})
	}
}

func TestWebCacheBounded(t *testing.T) {
	s := newDocServer(t, true)
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	w := NewWebMethod(WebConfig{Client: s.Client(), Now: clock.Now, MaxEntries: 2})
	var dids []string
	for i := range 3 {
		did := s.did(t, fmt.Sprintf("/u%d", i))
		doc, _ := testDocument(t, did)
		s.publish(t, did, doc)
		dids = append(dids, did)
		clock.set(t0.Add(time.Duration(i) * time.Minute))
		if _, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert")); err != nil {
			t.Fatal(err)
		}
		if n, want := w.cached(), min(i+1, 2); n != want {
			t.Fatalf("after %d DIDs the cache holds %d, want %d", i+1, n, want)
		}
	}
	// The first DID, expiring first, made room for the third.
	for _, tc := range []struct {
		did  string
		want int32
	}{{dids[2], 3}, {dids[1], 3}, {dids[0], 4}} {
		if _, err := w.VerificationMethod(t.Context(), mustParse(t, tc.did+"#assert")); err != nil {
			t.Fatal(err)
		}
		if n := s.requests.Load(); n != tc.want {
			t.Errorf("resolving %s again: %d requests, want %d", tc.did, n, tc.want)
		}
	}
}

// failTransport fails every request: resolutions that must not touch the
// network use it.
type failTransport struct{ calls atomic.Int32 }

func (f *failTransport) RoundTrip(*http.Request) (*http.Response, error) {
	f.calls.Add(1)
	return nil, errors.New("no network in this test")
}

func TestWebTrustListOffline(t *testing.T) {
	const pinned = "did:web:pinned.example:issuers:ministry"
	doc, keys := testDocument(t, pinned)
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := testDocument(t, "did:web:other.example")
	ob, err := json.Marshal(other)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	single, array := filepath.Join(dir, "ministry.json"), filepath.Join(dir, "others.json")
	if err := os.WriteFile(single, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(array, []byte("[\n"+string(ob)+"\n]"), 0o600); err != nil {
		t.Fatal(err)
	}
	trust, err := LoadTrustList(single, array)
	if err != nil {
		t.Fatalf("LoadTrustList = %v", err)
	}
	if got, want := trust.DIDs(), []string{"did:web:other.example", pinned}; !slices.Equal(got, want) {
		t.Errorf("LoadTrustList DIDs = %v, want %v", got, want)
	}
	for _, offline := range []bool{true, false} {
		t.Run(fmt.Sprintf("offline %v", offline), func(t *testing.T) {
			ft := &failTransport{}
			w := NewWebMethod(WebConfig{Trust: trust, Offline: offline, Client: &http.Client{Transport: ft}})
			vm, err := w.VerificationMethod(t.Context(), mustParse(t, pinned+"#assert"))
			if err != nil {
				t.Fatalf("VerificationMethod(pinned) = %v", err)
			}
			if thumbprint(t, vm.Key) != thumbprint(t, keys["#assert"]) || !vm.Has(AssertionMethod) {
				t.Errorf("VerificationMethod(pinned) = %+v", vm)
			}
			if _, err := w.ResolveKey(t.Context(), mustParse(t, "did:web:other.example#auth")); err != nil {
				t.Errorf("ResolveKey(pinned in an array file) = %v", err)
			}
			_, err = w.VerificationMethod(t.Context(), mustParse(t, "did:web:unpinned.example#k"))
			want := ErrFetch
			if offline {
				want = ErrOffline
			}
			if !errors.Is(err, want) {
				t.Errorf("VerificationMethod(unpinned) = %v, want %v", err, want)
			}
			if n, want := ft.calls.Load(), map[bool]int32{true: 0, false: 1}[offline]; n != want {
				t.Errorf("%d network calls, want %d", n, want)
			}
		})
	}
	// The trust list also resolves methods by itself.
	if vm, err := trust.VerificationMethod(t.Context(), pinned+"#auth"); err != nil || !vm.Has(Authentication) {
		t.Errorf("TrustList.VerificationMethod(#auth) = %+v, %v", vm, err)
	}
	if _, err := trust.VerificationMethod(t.Context(), "did:web:unpinned.example#k"); !errors.Is(err, ErrNotFound) {
		t.Errorf("TrustList.VerificationMethod(unpinned) = %v, want %v", err, ErrNotFound)
	}
}

func TestTrustListRefuses(t *testing.T) {
	doc, _ := testDocument(t, "did:web:a.example")
	b, _ := json.Marshal(doc)
	bad := minimalDocument(t, func(m map[string]any) { delete(method0(m), "controller") })
	for _, tc := range []struct {
		name  string
		files []string
		want  error
	}{
		{name: "same DID in two files", files: []string{string(b), string(b)}, want: ErrInvalidDocument},
		{name: "same DID twice in an array", files: []string{"[" + string(b) + "," + string(b) + "]"}, want: ErrInvalidDocument},
		{name: "empty array", files: []string{"[]"}, want: ErrInvalidDocument},
		{name: "invalid document", files: []string{string(bad)}, want: ErrInvalidDocument},
		{name: "invalid document in an array", files: []string{"[" + string(b) + "," + string(bad) + "]"}, want: ErrInvalidDocument},
		{name: "not JSON", files: []string{"did:web:a.example"}, want: ErrInvalidDocument},
		{name: "array of strings", files: []string{`["did:web:a.example"]`}, want: ErrInvalidDocument},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var paths []string
			for i, f := range tc.files {
				p := filepath.Join(t.TempDir(), fmt.Sprintf("%d.json", i))
				if err := os.WriteFile(p, []byte(f), 0o600); err != nil {
					t.Fatal(err)
				}
				paths = append(paths, p)
			}
			if l, err := LoadTrustList(paths...); !errors.Is(err, tc.want) {
				t.Fatalf("LoadTrustList = %v, %v, want %v", l, err, tc.want)
			}
		})
	}
	if _, err := LoadTrustList(filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadTrustList(missing) = %v, want %v", err, os.ErrNotExist)
	}
	if _, err := NewTrustList(doc, doc); !errors.Is(err, ErrInvalidDocument) {
		t.Errorf("NewTrustList(doc, doc) = %v, want %v", err, ErrInvalidDocument)
	}
	if l, err := ParseTrustList(b); err != nil || !slices.Equal(l.DIDs(), []string{"did:web:a.example"}) {
		t.Errorf("ParseTrustList(one document) = %v, %v", l, err)
	}
}

func TestWebOfflineRefusesToFetch(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, _ := testDocument(t, did)
	s.publish(t, did, doc)
	w := NewWebMethod(WebConfig{Client: s.Client(), Offline: true})
	if _, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert")); !errors.Is(err, ErrOffline) {
		t.Fatalf("offline VerificationMethod = %v, want %v", err, ErrOffline)
	}
	if n := s.requests.Load(); n != 0 {
		t.Errorf("offline resolution made %d requests", n)
	}
}

func TestWebFetchRefuses(t *testing.T) {
	other := newDocServer(t, true)
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, s *docServer, did string)
		want error
	}{
		{name: "404", edit: func(t *testing.T, s *docServer, did string) { s.docs = map[string][]byte{} }, want: ErrFetch},
		{name: "500", edit: func(t *testing.T, s *docServer, did string) { s.status = 500 }, want: ErrFetch},
		{name: "204", edit: func(t *testing.T, s *docServer, did string) { s.status = 204 }, want: ErrFetch},
		{name: "text/html", edit: func(t *testing.T, s *docServer, did string) { s.contentType = "text/html; charset=utf-8" }, want: ErrFetch},
		{name: "no content type", edit: func(t *testing.T, s *docServer, did string) { s.contentType = "" }, want: ErrFetch},
		{name: "malformed content type", edit: func(t *testing.T, s *docServer, did string) { s.contentType = "application/json; =" }, want: ErrFetch},
		{name: "oversized", edit: func(t *testing.T, s *docServer, did string) {
			for p, b := range s.docs {
				s.docs[p] = append(b[:len(b)-1], []byte(`,"pad":"`+strings.Repeat("a", MaxDocumentSize)+`"}`)...)
			}
		}, want: ErrFetch},
		{name: "id mismatch", edit: func(t *testing.T, s *docServer, did string) {
			d, _ := testDocument(t, "did:web:elsewhere.example")
			b, _ := json.Marshal(d)
			for p := range s.docs {
				s.docs[p] = b
			}
		}, want: ErrInvalidDocument},
		{name: "not JSON", edit: func(t *testing.T, s *docServer, did string) {
			for p := range s.docs {
				s.docs[p] = []byte("<html></html>")
			}
		}, want: ErrInvalidDocument},
		{name: "private key", edit: func(t *testing.T, s *docServer, did string) {
			for p, b := range s.docs {
				s.docs[p] = []byte(strings.Replace(string(b), `"publicKeyMultibase"`, `"secretKeyMultibase":"z1","publicKeyMultibase"`, 1))
			}
		}, want: ErrPrivateKey},
		{name: "redirect to another host", edit: func(t *testing.T, s *docServer, did string) {
			s.status, s.location = http.StatusFound, other.URL+"/.well-known/did.json"
		}, want: ErrFetch},
		{name: "redirect on the same host", edit: func(t *testing.T, s *docServer, did string) {
			s.status, s.location = http.StatusMovedPermanently, "/elsewhere/did.json"
		}, want: ErrFetch},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newDocServer(t, true)
			did := s.did(t, "")
			doc, _ := testDocument(t, did)
			s.publish(t, did, doc)
			s.publish(t, did+":elsewhere", doc)
			other.publish(t, other.did(t, ""), doc)
			s.set(func(s *docServer) { tc.edit(t, s, did) })
			w := NewWebMethod(WebConfig{Client: s.Client()})
			vm, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert"))
			if !errors.Is(err, tc.want) {
				t.Fatalf("VerificationMethod = %+v, %v, want %v", vm, err, tc.want)
			}
			if n := s.requests.Load(); n != 1 {
				t.Errorf("%d requests, want 1 (no redirect followed)", n)
			}
			if n := other.requests.Load(); n != 0 {
				t.Errorf("the other host got %d requests", n)
			}
			if w.cached() != 0 {
				t.Errorf("a refused document was cached")
			}
		})
	}
}

func TestWebTimeout(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, _ := testDocument(t, did)
	s.publish(t, did, doc)
	s.release = make(chan struct{})
	w := NewWebMethod(WebConfig{Client: s.Client(), Timeout: 50 * time.Millisecond})
	start := time.Now()
	// Under load the deadline may strike during the TLS handshake, which
	// reports a net.Error timeout rather than context.DeadlineExceeded.
	_, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert"))
	var ne net.Error
	timedOut := errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
	if !errors.Is(err, ErrFetch) || !timedOut {
		t.Fatalf("VerificationMethod from a stalled server = %v, want %v and a timeout", err, ErrFetch)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("timeout took %v", d)
	}
}

func TestWebConcurrentShareOneFetch(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, keys := testDocument(t, did)
	s.publish(t, did, doc)
	s.release = make(chan struct{})
	w := NewWebMethod(WebConfig{Client: s.Client()})
	const n = 50
	joined := make(chan struct{}, n)
	w.joined = func() { joined <- struct{}{} }

	// One caller gives up while the fetch is under way; the others still
	// get the document.
	quitter, cancel := context.WithCancel(t.Context())
	quitErr := make(chan error, 1)
	go func() {
		_, err := w.VerificationMethod(quitter, mustParse(t, did+"#assert"))
		quitErr <- err
	}()
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n - 1 {
		wg.Go(func() {
			vm, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert"))
			if err == nil && thumbprint(t, vm.Key) != thumbprint(t, keys["#assert"]) {
				err = errors.New("another key")
			}
			errs <- err
		})
	}
	timeout := time.After(10 * time.Second)
	for range n - 1 {
		select {
		case <-joined:
		case <-timeout:
			t.Fatal("the resolutions did not join one fetch")
		}
	}
	cancel()
	if err := <-quitErr; !errors.Is(err, context.Canceled) || !errors.Is(err, ErrFetch) {
		t.Errorf("cancelled VerificationMethod = %v, want %v", err, context.Canceled)
	}
	close(s.release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent VerificationMethod = %v", err)
		}
	}
	if got := s.requests.Load(); got != 1 {
		t.Errorf("%d concurrent resolutions made %d requests, want 1", n, got)
	}
}

func TestWebDefaultClientRefusesLoopback(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, _ := testDocument(t, did)
	s.publish(t, did, doc)
	w := NewWebMethod(WebConfig{})
	_, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert"))
	if !errors.Is(err, ErrFetch) || !strings.Contains(err.Error(), "not a public address") {
		t.Fatalf("VerificationMethod(%s) with the default client = %v, want %v (not a public address)", did, err, ErrFetch)
	}
	if n := s.requests.Load(); n != 0 {
		t.Errorf("%d requests reached the loopback server", n)
	}
}

func TestWebAllowInsecureLocalhost(t *testing.T) {
	s := newDocServer(t, false)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			base := strings.Replace(s.URL, "127.0.0.1", host, 1)
			did := WebDID(base)
			doc, _ := testDocument(t, did)
			s.set(func(s *docServer) { s.docs["/.well-known/did.json"], _ = json.Marshal(doc) })
			before := s.requests.Load()
			w := NewWebMethod(WebConfig{AllowInsecureLocalhost: true})
			if _, err := w.VerificationMethod(t.Context(), mustParse(t, did+"#assert")); err != nil {
				t.Fatalf("VerificationMethod(%s) over http with AllowInsecureLocalhost = %v", did, err)
			}
			if _, err := NewWebMethod(WebConfig{}).VerificationMethod(t.Context(), mustParse(t, did+"#assert")); !errors.Is(err, ErrFetch) {
				t.Errorf("VerificationMethod(%s) without AllowInsecureLocalhost = %v, want %v", did, err, ErrFetch)
			}
			if n := s.requests.Load() - before; n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestResolverWithWeb resolves the three methods through one Resolver, as
// Data Integrity verification does.
func TestResolverWithWeb(t *testing.T) {
	s := newDocServer(t, true)
	did := s.did(t, "")
	doc, keys := testDocument(t, did)
	s.publish(t, did, doc)
	r := NewResolver(KeyMethod{}, JWKMethod{}, NewWebMethod(WebConfig{Client: s.Client()}))
	edKey := newEd25519(t)
	keyDIDStr, err := KeyDID(edKey)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := newP256(t)
	jwkDIDStr, err := JWKDID(p256)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{AssertionMethod, Authentication, CapabilityInvocation, CapabilityDelegation}
	for _, tc := range []struct {
		name, url, typ string
		key            jwk.Key
		rels           []string
	}{
		{name: "did:key", url: keyDIDStr + "#" + strings.TrimPrefix(keyDIDStr, "did:key:"), typ: TypeMultikey, key: edKey, rels: all},
		{name: "did:jwk", url: jwkDIDStr + "#0", typ: TypeJsonWebKey, key: p256, rels: all},
		{name: "did:web assertion", url: did + "#assert", typ: TypeMultikey, key: keys["#assert"], rels: []string{AssertionMethod, CapabilityInvocation}},
		{name: "did:web authentication", url: did + "#auth", typ: TypeMultikey, key: keys["#auth"], rels: []string{Authentication}},
		{name: "did:web key agreement", url: did + "#agree", typ: TypeMultikey, key: keys["#agree"], rels: []string{KeyAgreement}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vm, err := r.VerificationMethod(t.Context(), tc.url)
			if err != nil {
				t.Fatalf("VerificationMethod(%s) = %v", tc.url, err)
			}
			if vm.ID != tc.url || vm.Type != tc.typ || !slices.Equal(vm.Relationships, tc.rels) || thumbprint(t, vm.Key) != thumbprint(t, tc.key) {
				t.Errorf("VerificationMethod(%s) = {%s %s %v}, want {%s %s %v}", tc.url, vm.ID, vm.Type, vm.Relationships, tc.url, tc.typ, tc.rels)
			}
		})
	}
	// As a credential.KeyResolver for an issuer identified by did:web.
	pub, err := r.ResolveKey(t.Context(), did, "#assert")
	if err != nil {
		t.Fatalf("ResolveKey(%s, #assert) = %v", did, err)
	}
	if thumbprint(t, mustImport(t, pub)) != thumbprint(t, keys["#assert"]) {
		t.Errorf("ResolveKey(%s, #assert) gives another key", did)
	}
	if _, err := r.ResolveKey(t.Context(), did, ""); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResolveKey(%s, \"\") = %v, want %v", did, err, ErrNotFound)
	}
	if _, err := r.ResolveKey(t.Context(), did, "#agree"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ResolveKey(%s, #agree) = %v, want %v", did, err, ErrNotFound)
	}
	if n := s.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

// TestResolveKeyNeedsAssertionMethod: as a credential.KeyResolver (the
// issuer keys of JWT credentials and status list tokens), a Resolver
// gives a did:web key only if the document lists it under
// assertionMethod; did:key and did:jwk keys, which may do everything,
// still resolve.
func TestResolveKeyNeedsAssertionMethod(t *testing.T) {
	const web = "did:web:issuer.example"
	doc, keys := testDocument(t, web)
	trust, err := NewTrustList(doc)
	if err != nil {
		t.Fatal(err)
	}
	r := NewResolver(KeyMethod{}, JWKMethod{}, NewWebMethod(WebConfig{Trust: trust, Offline: true}))
	edKey := newEd25519(t)
	keyDID, err := KeyDID(edKey)
	if err != nil {
		t.Fatal(err)
	}
	p256, _ := newP256(t)
	jwkDID, err := JWKDID(p256)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, issuer, kid string
		key               jwk.Key // nil: refused with ErrNotFound
	}{
		{name: "did:web assertionMethod", issuer: web, kid: "#assert", key: keys["#assert"]},
		{name: "did:web assertionMethod, absolute kid", issuer: web, kid: web + "#assert", key: keys["#assert"]},
		{name: "did:web authentication only", issuer: web, kid: "#auth"},
		{name: "did:web authentication only, absolute kid", issuer: web, kid: web + "#auth"},
		{name: "did:web keyAgreement only", issuer: web, kid: "#agree"},
		{name: "did:web under no relationship", issuer: web, kid: "#listed"},
		{name: "did:key", issuer: keyDID, kid: "", key: edKey},
		{name: "did:jwk", issuer: jwkDID, kid: "#0", key: p256},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pub, err := r.ResolveKey(t.Context(), tc.issuer, tc.kid)
			if tc.key == nil {
				if !errors.Is(err, ErrNotFound) {
					t.Fatalf("ResolveKey(%s, %s) = %T, %v, want %v", tc.issuer, tc.kid, pub, err, ErrNotFound)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveKey(%s, %s) = %v", tc.issuer, tc.kid, err)
			}
			if thumbprint(t, mustImport(t, pub)) != thumbprint(t, tc.key) {
				t.Errorf("ResolveKey(%s, %s) gives another key", tc.issuer, tc.kid)
			}
		})
	}
	// The method itself still resolves the authentication key (a holder's
	// key, say): only the issuer-key resolver narrows to assertionMethod.
	if _, err := r.Resolve(t.Context(), web+"#auth"); err != nil {
		t.Errorf("Resolve(%s#auth) = %v, want the key", web, err)
	}
}

// Examples of the did:web specification (w3c-ccg.github.io/did-method-web,
// section 3.2) and the forms Sanad refuses.
func TestWebDocumentURL(t *testing.T) {
	for _, tc := range []struct {
		did, want string
		err       error
	}{
		{did: "did:web:w3c-ccg.github.io", want: "https://w3c-ccg.github.io/.well-known/did.json"},
		{did: "did:web:w3c-ccg.github.io:user:alice", want: "https://w3c-ccg.github.io/user/alice/did.json"},
		{did: "did:web:example.com%3A3000:user:alice", want: "https://example.com:3000/user/alice/did.json"},
		{did: "did:web:example.com%3a3000", want: "https://example.com:3000/.well-known/did.json"},
		{did: "did:web:example.com:u:bob", want: "https://example.com/u/bob/did.json"},
		{did: "did:web:id.example%3A8443:a:b", want: "https://id.example:8443/a/b/did.json"},
		{did: "did:web:example.com:a%20b", want: "https://example.com/a%20b/did.json"},
		{did: "did:web:127.0.0.1%3A8080", want: "https://127.0.0.1:8080/.well-known/did.json"},
		{did: "did:web:example.com#key-1", err: ErrInvalid},
		{did: "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp", err: ErrUnsupportedMethod},
		{did: "did:web:", err: ErrInvalid},
		{did: "did:web:example.com::a", err: ErrInvalid},
		{did: "did:web:example.com:..:etc", err: ErrInvalid},
		{did: "did:web:example.com:.", err: ErrInvalid},
		{did: "did:web:example.com:a%2Fb", err: ErrInvalid},
		{did: "did:web:example.com:a%2F..", err: ErrInvalid},
		{did: "did:web:example.com:a%00", err: ErrInvalid},
		{did: "did:web:example.com%2Fpath", err: ErrInvalid},
		{did: "did:web:example.com%40evil.example", err: ErrInvalid},
		{did: "did:web:user%3Apass%40example.com", err: ErrInvalid},
		{did: "did:web:example.com%3A0", err: ErrInvalid},
		{did: "did:web:example.com%3A65536", err: ErrInvalid},
		{did: "did:web:example.com%3A", err: ErrInvalid},
		{did: "did:web:example.com%3A80%3A80", err: ErrInvalid},
		{did: "did:web:%5B%3A%3A1%5D", err: ErrInvalid},
		{did: "did:web:-example.com", err: ErrInvalid},
		{did: "did:web:example..com", err: ErrInvalid},
		{did: "did:web:exa_mple.com", err: ErrInvalid},
		{did: "did:web:" + strings.Repeat("a", 64) + ".com", err: ErrInvalid},
	} {
		t.Run(tc.did, func(t *testing.T) {
			got, err := WebDocumentURL(tc.did)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("WebDocumentURL(%q) = %q, %v, want %v", tc.did, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("WebDocumentURL(%q) = %q, %v, want %q", tc.did, got, err, tc.want)
			}
		})
	}
}

func TestWebDID(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"https://id.example:8443/a/b", "did:web:id.example%3A8443:a:b"},
		{"https://id.example", "did:web:id.example"},
		{"https://id.example/", "did:web:id.example"},
		{"https://w3c-ccg.github.io/user/alice", "did:web:w3c-ccg.github.io:user:alice"},
		{"https://example.com:3000/user/alice/", "did:web:example.com%3A3000:user:alice"},
		{"https://ID.Example:443/", "did:web:id.example"},
		{"http://localhost:8080", "did:web:localhost%3A8080"},
		{"http://localhost:80/x", "did:web:localhost:x"},
		{"https://id.example/a%20b/c:d", "did:web:id.example:a%20b:c%3Ad"},
		{"https://id.example/tenant~1", "did:web:id.example:tenant%7E1"},
		{"http://127.0.0.1:5000", "did:web:127.0.0.1%3A5000"},
		{"ftp://id.example", ""},
		{"id.example/a", ""},
		{"https:///a", ""},
		{"https://user@id.example", ""},
		{"https://id.example/?q=1", ""},
		{"https://id.example/#frag", ""},
		{"https://[::1]:8443/", ""},
		{"https://id.example/a/../b", ""},
		{"https://exa_mple.com", ""},
		{"https://id.example/a%2Fb", ""},
		{"https://id.example/a%00", ""},
		{"https://id.example/a%3Fb", ""},
		{"://", ""},
	} {
		t.Run(tc.url, func(t *testing.T) {
			got := WebDID(tc.url)
			if got != tc.want {
				t.Fatalf("WebDID(%q) = %q, want %q", tc.url, got, tc.want)
			}
			if got == "" {
				return
			}
			// The DID names a document under the URL.
			doc, err := WebDocumentURL(got)
			if err != nil {
				t.Fatalf("WebDocumentURL(WebDID(%q)) = %v", tc.url, err)
			}
			if !strings.HasSuffix(doc, "/did.json") {
				t.Errorf("WebDocumentURL(WebDID(%q)) = %q", tc.url, doc)
			}
		})
	}
}

// BenchmarkWebVerificationMethodCached is the cost of a did:web lookup
// once the document is cached: what each ldp_vc verification pays.
func BenchmarkWebVerificationMethodCached(b *testing.B) {
	s := newDocServer(b, true)
	keys := make([]VerificationMethod, 0, 8)
	for i := range 8 {
		k, _ := newP256(b)
		keys = append(keys, VerificationMethod{ID: fmt.Sprintf("#es-%d", i), Key: k, Relationships: []string{AssertionMethod}})
	}
	did := WebDID(s.URL)
	doc, err := NewDocument(did, keys)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := json.Marshal(doc)
	s.set(func(s *docServer) { s.docs["/.well-known/did.json"] = body })
	w := NewWebMethod(WebConfig{Client: s.Client()})
	u, err := Parse(did + "#es-7")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.VerificationMethod(ctx, u); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := w.VerificationMethod(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDocument parses the golden issuer document.
func BenchmarkParseDocument(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "document.golden.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDocument(body); err != nil {
			b.Fatal(err)
		}
	}
}
