package issuer

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/storage"
)

// stSigners holds an ES256 and an Ed25519 issuer key.
type stSigners struct{ es256, eddsa *credtest.Signer }

func (s *stSigners) Signer(alg string) (credential.Signer, error) {
	switch alg {
	case "ES256":
		return s.es256, nil
	case "EdDSA":
		return s.eddsa, nil
	}
	return nil, fmt.Errorf("stSigners: no %s key", alg)
}

func (s *stSigners) Algs() []string { return []string{"ES256", "EdDSA"} }

func (s *stSigners) JWKS(context.Context) (jwk.Set, error) {
	set := jwk.NewSet()
	for _, sg := range []*credtest.Signer{s.es256, s.eddsa} {
		k, err := jwk.Import(sg.Public())
		if err != nil {
			return nil, err
		}
		if err := k.Set(jwk.KeyIDKey, sg.KeyID()); err != nil {
			return nil, err
		}
		if err := set.AddKey(k); err != nil {
			return nil, err
		}
	}
	return set, nil
}

// stEnv is the credential fixture with status lists, both issuer keys and
// the admin API mounted (without a token: the admin router's guard is
// cmd/sanad's).
type stEnv struct {
	*crEnv
	lists   *stLists
	signers *stSigners
	router  *gin.Engine
}

func newStEnv(t *testing.T, opts ...crOptions) *stEnv {
	t.Helper()
	e := &stEnv{lists: &stLists{}, signers: &stSigners{
		es256: credtest.NewSigner(t, "ES256", "issuer-es256"),
		eddsa: credtest.NewSigner(t, "EdDSA", "issuer-ed25519"),
	}}
	e.crEnv = newCrEnv(t, append([]crOptions{func(c *Config) {
		c.StatusLists = e.lists
		c.StatusListSize = 1000
		c.Signers = e.signers
	}}, opts...)...)
	e.router = gin.New()
	e.is.Register(e.router, e.router.Group(""))
	return e
}

// get sends GET path with header pairs (name, value, ...).
func (e *stEnv) get(path string, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

// stPath is the path of list id (W3C: of purpose) under the fixture's
// issuer.
func stPath(id, purpose string) string {
	p := "/vci" + PathStatus + "/" + id
	if purpose != "" {
		p += "/" + purpose
	}
	return p
}

// stJWTPath is the path of the VC-JWT form of W3C list id for purpose.
func stJWTPath(id, purpose string) string {
	return "/vci" + PathStatus + "/" + id + "/jwt/" + purpose
}

// jwksKeys resolves the keys of the issuer's JWKS (what its
// /.well-known/jwt-vc-issuer publishes) by kid, for the issuer
// identifier only.
func (e *stEnv) jwksKeys(t *testing.T) credential.KeyResolver {
	t.Helper()
	set, err := e.signers.JWKS(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return credential.KeyResolverFunc(func(_ context.Context, iss, kid string) (crypto.PublicKey, error) {
		if iss != crIssuer {
			return nil, fmt.Errorf("unknown issuer %q", iss)
		}
		k, ok := set.LookupKeyID(kid)
		if !ok {
			return nil, fmt.Errorf("no key %q in the issuer JWKS", kid)
		}
		return k, nil
	})
}

// w3cJWTList verifies the VC-JWT form of a W3C list credential answer
// with the issuer's JWKS and returns the verified JWT and its list.
func (e *stEnv) w3cJWTList(t *testing.T, w *httptest.ResponseRecorder, id, purpose string) (*jwtvc.Verified, *statuslist.List) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("GET W3C JWT list = %d %s, want 200", w.Code, w.Body)
	}
	v, err := jwtvc.Verify(t.Context(), w.Body.String(), jwtvc.VerifyOptions{Keys: e.jwksKeys(t), Algs: jwtvc.SafeAlgs, Now: e.clock.Now})
	if err != nil {
		t.Fatalf("jwtvc.Verify(status list credential) = %v", err)
	}
	doc, _ := v.Claims["vc"].(map[string]any)
	l, err := statuslist.ParseListCredential(doc)
	if err != nil {
		t.Fatalf("ParseListCredential(vc claim) = %v", err)
	}
	want := crIssuer + PathStatus + "/" + id + "/jwt/" + purpose
	if l.ID != want || l.Issuer != crIssuer || len(l.Purposes) != 1 || l.Purposes[0] != purpose {
		t.Errorf("list credential id %s, issuer %s, purposes %v; want %s, %s, [%s]", l.ID, l.Issuer, l.Purposes, want, crIssuer, purpose)
	}
	return v, l
}

// newList allocates one entry on a new list of kind and returns its list.
func (e *stEnv) newList(t *testing.T, kind string) string {
	t.Helper()
	slots, err := e.is.status.alloc.allocate(t.Context(), kind, 1)
	if err != nil {
		t.Fatal(err)
	}
	return slots[0].List
}

// tokenList verifies a status list token answer of list id.
func (e *stEnv) tokenList(t *testing.T, w *httptest.ResponseRecorder, id string) *statuslist.TokenList {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("GET token list = %d %s, want 200", w.Code, w.Body)
	}
	keys := func(kid string) (crypto.PublicKey, error) {
		if kid != e.signers.es256.KeyID() {
			return nil, fmt.Errorf("unknown kid %q", kid)
		}
		return e.signers.es256.Public(), nil
	}
	l, err := statuslist.ParseToken(t.Context(), w.Body.String(), crIssuer+PathStatus+"/"+id, keys, e.clock.Now())
	if err != nil {
		t.Fatalf("ParseToken = %v", err)
	}
	return l
}

// w3cList verifies a W3C status list credential answer and returns its
// list.
func (e *stEnv) w3cList(t *testing.T, w *httptest.ResponseRecorder, id, purpose string) *statuslist.List {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("GET W3C list = %d %s, want 200", w.Code, w.Body)
	}
	var doc map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	didDoc, err := e.is.DIDDocument(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	trust, err := did.NewTrustList(didDoc)
	if err != nil {
		t.Fatal(err)
	}
	res, err := ldp.Verify(t.Context(), doc, ldp.VerifyOptions{
		Loader: e.is.Contexts(), Methods: trust, Controller: e.is.DID(),
		Suites: []string{ldp.SuiteEdDSARDFC2022},
	})
	if err != nil {
		t.Fatalf("ldp.Verify(status list credential) = %v", err)
	}
	if res.Suite != ldp.SuiteEdDSARDFC2022 {
		t.Errorf("status list proof suite %s, want %s", res.Suite, ldp.SuiteEdDSARDFC2022)
	}
	l, err := statuslist.ParseListCredential(doc)
	if err != nil {
		t.Fatalf("ParseListCredential = %v", err)
	}
	if want := crIssuer + PathStatus + "/" + id + "/" + purpose; l.ID != want || l.Issuer != e.is.DID() || len(l.Purposes) != 1 || l.Purposes[0] != purpose {
		t.Errorf("list credential id %s, issuer %s, purposes %v; want %s, %s, [%s]", l.ID, l.Issuer, l.Purposes, want, e.is.DID(), purpose)
	}
	if err := l.Valid(e.clock.Now()); err != nil {
		t.Errorf("list credential is not valid now: %v", err)
	}
	sub, _ := doc["credentialSubject"].(map[string]any)
	if ttl, _ := sub["ttl"].(float64); ttl != float64(DefaultStatusListTTL.Milliseconds()) {
		t.Errorf("credentialSubject.ttl = %v, want %d (ms)", sub["ttl"], DefaultStatusListTTL.Milliseconds())
	}
	return l
}

// wantCaching checks the caching headers of a list answer.
func wantCaching(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	h := w.Header()
	if cc := h.Get("Cache-Control"); cc != "public, max-age=5" {
		t.Errorf("Cache-Control = %q, want public, max-age=5", cc)
	}
	if h.Get("ETag") == "" || h.Get("Last-Modified") == "" || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Vary") != "Accept" {
		t.Errorf("headers %v, want ETag, Last-Modified, Access-Control-Allow-Origin *, Vary Accept", h)
	}
}

func TestStatusListTokenPublication(t *testing.T) {
	e := newStEnv(t)
	id := e.newList(t, storage.StatusListToken)
	w := e.get(stPath(id, ""))
	if ct := w.Header().Get("Content-Type"); ct != "application/statuslist+jwt" {
		t.Errorf("Content-Type = %q, want application/statuslist+jwt", ct)
	}
	wantCaching(t, w)
	l := e.tokenList(t, w, id)
	if l.Bits() != 2 || l.Len() < 1000 {
		t.Fatalf("token list of %d %d-bit entries, want 1000 2-bit entries", l.Len(), l.Bits())
	}
	for i := range 1000 {
		if v, _ := l.Get(i); v != statuslist.TokenValid {
			t.Fatalf("fresh list: entry %d = %d, want valid", i, v)
		}
	}
	etag := w.Header().Get("ETag")

	// The same version: 304 with the same ETag, and no rebuild.
	_, before := e.lists.counts()
	w = e.get(stPath(id, ""), "If-None-Match", etag)
	if w.Code != http.StatusNotModified || w.Body.Len() != 0 || w.Header().Get("ETag") != etag {
		t.Errorf("If-None-Match %s = %d (ETag %s), want 304 with the same ETag", etag, w.Code, w.Header().Get("ETag"))
	}
	// A date alone never gives 304 (notModified says why).
	w = e.get(stPath(id, ""), "If-Modified-Since", e.clock.Now().Add(time.Second).UTC().Format(http.TimeFormat))
	if w.Code != http.StatusOK {
		t.Errorf("If-Modified-Since after signing = %d, want 200", w.Code)
	}
	if _, after := e.lists.counts(); after != before {
		t.Errorf("StatusEntries called %d times for unchanged lists, want 0", after-before)
	}

	// A revocation and a suspension: a new version, shown at once.
	if err := e.lists.set(id, 7, storage.CredentialRevoked); err != nil {
		t.Fatal(err)
	}
	if err := e.lists.set(id, 900, storage.CredentialSuspended); err != nil {
		t.Fatal(err)
	}
	w = e.get(stPath(id, ""), "If-None-Match", etag)
	if w.Code != http.StatusOK || w.Header().Get("ETag") == etag {
		t.Fatalf("after a status change: %d, ETag %s; want 200 and a new ETag", w.Code, w.Header().Get("ETag"))
	}
	l = e.tokenList(t, w, id)
	for i, want := range map[int]uint8{7: statuslist.TokenInvalid, 900: statuslist.TokenSuspended, 8: statuslist.TokenValid, 0: statuslist.TokenValid} {
		if v, _ := l.Get(i); v != want {
			t.Errorf("entry %d = %d, want %d", i, v, want)
		}
	}
}

func TestStatusListTokenClaims(t *testing.T) {
	e := newStEnv(t, func(c *Config) { c.StatusListTTL = 30 * time.Second })
	id := e.newList(t, storage.StatusListToken)
	w := e.get(stPath(id, ""), "Accept", "application/statuslist+jwt")
	tok, err := statuslist.VerifyToken(t.Context(), w.Body.String(), crIssuer+PathStatus+"/"+id,
		func(string) (crypto.PublicKey, error) { return e.signers.es256.Public(), nil }, e.clock.Now())
	if err != nil {
		t.Fatalf("VerifyToken = %v", err)
	}
	now := e.clock.Now().Truncate(time.Second)
	if tok.Issuer != crIssuer || !tok.IssuedAt.Equal(now) || !tok.ExpiresAt.Equal(now.Add(StatusListValidity)) || tok.TTL != 30*time.Second {
		t.Errorf("token iss %s, iat %s, exp %s, ttl %s; want %s, %s, %s, 30s", tok.Issuer, tok.IssuedAt, tok.ExpiresAt, tok.TTL, crIssuer, now, now.Add(StatusListValidity))
	}
	hdr, err := statuslist.PeekTokenHeader(w.Body.String())
	if err != nil || len(hdr.X5C) != len(e.x5c) || hdr.Alg != "ES256" {
		t.Errorf("token header %+v (%v), want ES256 with the issuer's x5c", hdr, err)
	}
	if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=30" {
		t.Errorf("Cache-Control = %q, want public, max-age=30", cc)
	}
}

func TestStatusListW3CPublication(t *testing.T) {
	e := newStEnv(t)
	id := e.newList(t, storage.StatusListW3C)
	if err := e.lists.set(id, 3, storage.CredentialRevoked); err != nil {
		t.Fatal(err)
	}
	if err := e.lists.set(id, 4, storage.CredentialSuspended); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		purpose  string
		set, clr int
	}{
		{statuslist.PurposeRevocation, 3, 4},
		{statuslist.PurposeSuspension, 4, 3},
	} {
		t.Run(tc.purpose, func(t *testing.T) {
			w := e.get(stPath(id, tc.purpose))
			if ct := w.Header().Get("Content-Type"); ct != MediaTypeVC {
				t.Errorf("Content-Type = %q, want %s", ct, MediaTypeVC)
			}
			wantCaching(t, w)
			l := e.w3cList(t, w, id, tc.purpose)
			if l.Bits.Len() < statuslist.MinEntries {
				t.Errorf("list of %d bits, want at least %d", l.Bits.Len(), statuslist.MinEntries)
			}
			if on, _ := l.Bits.Get(tc.set); !on {
				t.Errorf("bit %d is clear, want set", tc.set)
			}
			if on, _ := l.Bits.Get(tc.clr); on {
				t.Errorf("bit %d is set, want clear", tc.clr)
			}
		})
	}
}

// TestStatusListW3CJWTPublication: the VC-JWT form of a W3C list, what
// jwt_vc_json credentials name, signed with the key of the first
// jwt_vc_json configuration's algorithm and verified with the issuer's
// JWKS; it shows the same bits as the Data Integrity form.
func TestStatusListW3CJWTPublication(t *testing.T) {
	for _, tc := range []struct {
		alg, kid string
	}{
		{"ES256", "issuer-es256"},
		{"EdDSA", "issuer-ed25519"},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			e := newStEnv(t, func(c *Config) { c.Configurations[0].SigningAlg = tc.alg })
			id := e.newList(t, storage.StatusListW3C)
			if err := e.lists.set(id, 3, storage.CredentialRevoked); err != nil {
				t.Fatal(err)
			}
			if err := e.lists.set(id, 4, storage.CredentialSuspended); err != nil {
				t.Fatal(err)
			}
			now := e.clock.Now().Truncate(time.Second)
			for _, p := range []struct {
				purpose  string
				set, clr int
			}{
				{statuslist.PurposeRevocation, 3, 4},
				{statuslist.PurposeSuspension, 4, 3},
			} {
				w := e.get(stJWTPath(id, p.purpose))
				if ct := w.Header().Get("Content-Type"); ct != MediaTypeJWT {
					t.Errorf("%s: Content-Type = %q, want %s", p.purpose, ct, MediaTypeJWT)
				}
				wantCaching(t, w)
				v, l := e.w3cJWTList(t, w, id, p.purpose)
				u := crIssuer + PathStatus + "/" + id + "/jwt/" + p.purpose
				if v.Header["typ"] != jwtvc.Typ || v.Header["alg"] != tc.alg || v.Header["kid"] != tc.kid {
					t.Errorf("%s: header %v, want typ %s, alg %s, kid %s (the issuer JWKS key)", p.purpose, v.Header, jwtvc.Typ, tc.alg, tc.kid)
				}
				c := v.Credential
				if c.ID != u || c.Issuer != crIssuer || c.SubjectID != u+"#list" ||
					!slices.Equal(c.Types, []string{"VerifiableCredential", statuslist.TypeListCredential}) ||
					!slices.Equal(c.Contexts, []string{"https://www.w3.org/2018/credentials/v1", statuslist.ContextStatusV1}) {
					t.Errorf("%s: credential id %s, issuer %s, subject %s, types %v, contexts %v; want %s by %s, subject %s#list, a VCDM 1.1 BitstringStatusListCredential",
						p.purpose, c.ID, c.Issuer, c.SubjectID, c.Types, c.Contexts, u, crIssuer, u)
				}
				if v.Claims["jti"] != u || v.Claims["sub"] != u+"#list" || v.Claims["iss"] != crIssuer {
					t.Errorf("%s: claims jti %v, sub %v, iss %v; want %s, %s#list, %s", p.purpose, v.Claims["jti"], v.Claims["sub"], v.Claims["iss"], u, u, crIssuer)
				}
				if !c.ValidFrom.Equal(now) || !c.IssuedAt.Equal(now) || !c.ValidUntil.Equal(now.Add(StatusListValidity)) {
					t.Errorf("%s: valid %s (iat %s) to %s, want %s to %s", p.purpose, c.ValidFrom, c.IssuedAt, c.ValidUntil, now, now.Add(StatusListValidity))
				}
				if l.TTL != DefaultStatusListTTL {
					t.Errorf("%s: ttl %s, want %s", p.purpose, l.TTL, DefaultStatusListTTL)
				}
				if on, _ := l.Bits.Get(p.set); !on {
					t.Errorf("%s: bit %d is clear, want set", p.purpose, p.set)
				}
				if on, _ := l.Bits.Get(p.clr); on {
					t.Errorf("%s: bit %d is set, want clear", p.purpose, p.clr)
				}
				// The Data Integrity form of the same list shows the same
				// bits.
				ld := e.w3cList(t, e.get(stPath(id, p.purpose)), id, p.purpose)
				a, errA := l.Bits.Encode()
				b, errB := ld.Bits.Encode()
				if errA != nil || errB != nil || a != b {
					t.Errorf("%s: the JWT and Data Integrity forms differ (%v, %v)", p.purpose, errA, errB)
				}
			}
		})
	}
}

// TestStatusListFormsCachedApart: each form of a W3C list is signed once
// per version and served from the cache until the next change, which
// reaches both at once.
func TestStatusListFormsCachedApart(t *testing.T) {
	e := newStEnv(t)
	id := e.newList(t, storage.StatusListW3C)
	paths := []string{stPath(id, statuslist.PurposeRevocation), stJWTPath(id, statuslist.PurposeRevocation)}
	etags := make([]string, len(paths))
	_, before := e.lists.counts()
	for range 3 {
		for i, p := range paths {
			w := e.get(p)
			if w.Code != http.StatusOK {
				t.Fatalf("GET %s = %d %s", p, w.Code, w.Body)
			}
			etags[i] = w.Header().Get("ETag")
		}
	}
	if _, after := e.lists.counts(); after-before != len(paths) {
		t.Errorf("3 rounds of GETs of %d forms read the statuses %d times, want once per form", len(paths), after-before)
	}
	if err := e.lists.set(id, 9, storage.CredentialRevoked); err != nil {
		t.Fatal(err)
	}
	w := e.get(paths[1], "If-None-Match", etags[1])
	if w.Code != http.StatusOK || w.Header().Get("ETag") == etags[1] {
		t.Fatalf("JWT form after a change = %d, ETag %s; want a new list", w.Code, w.Header().Get("ETag"))
	}
	_, l := e.w3cJWTList(t, w, id, statuslist.PurposeRevocation)
	if on, _ := l.Bits.Get(9); !on {
		t.Errorf("JWT form after revoking index 9: bit clear, want set")
	}
	if on, _ := e.w3cList(t, e.get(paths[0]), id, statuslist.PurposeRevocation).Bits.Get(9); !on {
		t.Errorf("Data Integrity form after revoking index 9: bit clear, want set")
	}
}

func TestStatusListNegotiationAndErrors(t *testing.T) {
	e := newStEnv(t)
	tok := e.newList(t, storage.StatusListToken)
	w3c := e.newList(t, storage.StatusListW3C)
	e.lists.add(storage.StatusList{ID: "other-issuer", Issuer: "https://other.example", Kind: storage.StatusListToken, Size: 8, Key: make([]byte, 32)})
	for _, tc := range []struct {
		name, path, accept string
		status             int
		contentType        string
	}{
		{"token, no Accept", stPath(tok, ""), "", 200, "application/statuslist+jwt"},
		{"token, wildcard", stPath(tok, ""), "*/*", 200, "application/statuslist+jwt"},
		{"token, CWT refused", stPath(tok, ""), "application/statuslist+cwt", 406, ""},
		{"token, CWT preferred", stPath(tok, ""), "application/statuslist+cwt, application/statuslist+jwt;q=0.5", 200, "application/statuslist+jwt"},
		{"token, JWT q=0", stPath(tok, ""), "application/statuslist+jwt;q=0", 406, ""},
		{"W3C, ld+json", stPath(w3c, "revocation"), "application/ld+json", 200, "application/ld+json"},
		{"W3C, vc", stPath(w3c, "suspension"), "application/vc", 200, MediaTypeVC},
		{"W3C, browser", stPath(w3c, "revocation"), "text/html,application/xhtml+xml,*/*;q=0.8", 200, MediaTypeVC},
		{"W3C, JWT refused", stPath(w3c, "revocation"), "application/vc+jwt", 406, ""},
		{"W3C JWT, no Accept", stJWTPath(w3c, "revocation"), "", 200, MediaTypeJWT},
		{"W3C JWT, jwt", stJWTPath(w3c, "suspension"), "application/jwt", 200, MediaTypeJWT},
		{"W3C JWT, vc+jwt gets the JWT", stJWTPath(w3c, "revocation"), "application/vc+jwt", 200, MediaTypeJWT},
		{"W3C JWT, verifier's Accept", stJWTPath(w3c, "revocation"), "application/vc+ld+json, application/vc, application/jwt;q=0.8", 200, MediaTypeJWT},
		{"W3C JWT, ld+json refused", stJWTPath(w3c, "revocation"), "application/ld+json", 406, ""},
		{"token list at a W3C JWT path", stJWTPath(tok, "revocation"), "", 404, ""},
		{"W3C JWT, other purpose", stJWTPath(w3c, "refresh"), "", 404, ""},
		{"W3C JWT, no purpose", stPath(w3c, "jwt"), "", 404, ""},
		{"W3C JWT, unknown list", stJWTPath("AAAAAAAAAAAAAAAAAAAAAA", "revocation"), "", 404, ""},
		{"token list at a W3C path", stPath(tok, "revocation"), "", 404, ""},
		{"W3C list at the token path", stPath(w3c, ""), "", 404, ""},
		{"W3C list, other purpose", stPath(w3c, "refresh"), "", 404, ""},
		{"unknown list", stPath("AAAAAAAAAAAAAAAAAAAAAA", ""), "", 404, ""},
		{"malformed id", stPath("a.b", ""), "", 404, ""},
		{"another issuer's list", stPath("other-issuer", ""), "", 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := e.get(tc.path, "Accept", tc.accept)
			if w.Code != tc.status {
				t.Fatalf("GET %s (Accept %q) = %d %s, want %d", tc.path, tc.accept, w.Code, w.Body, tc.status)
			}
			if tc.status == 200 {
				if ct := w.Header().Get("Content-Type"); ct != tc.contentType {
					t.Errorf("Content-Type = %q, want %q", ct, tc.contentType)
				}
				return
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["error"] == nil {
				t.Errorf("error body %s is not a JSON error", w.Body)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("error Cache-Control = %q, want no-store", cc)
			}
		})
	}
}

func TestStatusListWithoutStatusLists(t *testing.T) {
	e := newCrEnv(t)
	r := httptest.NewRequest(http.MethodGet, stPath("AAAAAAAAAAAAAAAAAAAAAA", ""), nil)
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound {
		t.Errorf("GET a list of an issuer without status lists = %d, want 404", w.Code)
	}
}

func TestStatusListOneRebuildAtATime(t *testing.T) {
	for _, tc := range []struct {
		name, kind string
		path       func(id string) string
	}{
		{"token", storage.StatusListToken, func(id string) string { return stPath(id, "") }},
		{"W3C Data Integrity", storage.StatusListW3C, func(id string) string { return stPath(id, statuslist.PurposeRevocation) }},
		{"W3C JWT", storage.StatusListW3C, func(id string) string { return stJWTPath(id, statuslist.PurposeRevocation) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newStEnv(t)
			id := e.newList(t, tc.kind)
			stOneRebuildAtATime(t, e, id, tc.path(id))
		})
	}
}

// stOneRebuildAtATime: 20 concurrent GETs of path after a change of list
// id read the statuses once and all get the one rebuilt list.
func stOneRebuildAtATime(t *testing.T, e *stEnv, id, path string) {
	if w := e.get(path); w.Code != http.StatusOK {
		t.Fatalf("first GET = %d", w.Code)
	}
	if err := e.lists.set(id, 1, storage.CredentialRevoked); err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	e.lists.mu.Lock()
	e.lists.entriesGate = gate
	e.lists.mu.Unlock()
	_, before := e.lists.counts()

	const n = 20
	var wg sync.WaitGroup
	codes := make([]int, n)
	etags := make([]string, n)
	for i := range n {
		wg.Go(func() {
			w := e.get(path)
			codes[i], etags[i] = w.Code, w.Header().Get("ETag")
		})
	}
	// Let every request reach the cache before the one rebuild finishes.
	time.Sleep(100 * time.Millisecond)
	close(gate)
	wg.Wait()
	if _, after := e.lists.counts(); after-before != 1 {
		t.Errorf("%d concurrent GETs after a change read the statuses %d times, want once", n, after-before)
	}
	for i := range n {
		if codes[i] != http.StatusOK || etags[i] != etags[0] {
			t.Errorf("GET %d = %d, ETag %s; want 200 and the one rebuilt list's ETag %s", i, codes[i], etags[i], etags[0])
		}
	}
}

func TestStatusListRefreshedBeforeExpiry(t *testing.T) {
	e := newStEnv(t)
	id := e.newList(t, storage.StatusListToken)
	first := e.get(stPath(id, ""))
	e.clock.Advance(StatusListValidity/2 - time.Second)
	if w := e.get(stPath(id, "")); w.Header().Get("ETag") != first.Header().Get("ETag") {
		t.Errorf("list re-signed before half its validity")
	}
	e.clock.Advance(2 * time.Second)
	w := e.get(stPath(id, ""), "If-None-Match", first.Header().Get("ETag"))
	if w.Code != http.StatusOK || w.Header().Get("ETag") == first.Header().Get("ETag") {
		t.Fatalf("after half the validity: %d, ETag %s; want a newly signed list", w.Code, w.Header().Get("ETag"))
	}
	// The new one is valid for StatusListValidity from now.
	e.tokenList(t, w, id)
	e.clock.Advance(StatusListValidity - time.Minute)
	e.tokenList(t, w, id)
}

func TestNegotiate(t *testing.T) {
	offered := []string{"application/vc", "application/ld+json", "application/json"}
	for _, tc := range []struct{ name, accept, want string }{
		{"empty", "", "application/vc"},
		{"any", "*/*", "application/vc"},
		{"exact second", "application/ld+json", "application/ld+json"},
		{"type wildcard", "application/*", "application/vc"},
		{"case and spaces", " Application/JSON ; q=0.9 ", "application/json"},
		{"by weight", "application/json;q=0.5, application/ld+json;q=0.8", "application/ld+json"},
		{"exact before wildcard", "*/*, application/json", "application/json"},
		{"none", "text/html", ""},
		{"refused by q=0", "application/vc;q=0, application/ld+json;q=0, application/json;q=0", ""},
		{"bad q", "application/vc;q=2", ""},
		{"text wildcard", "text/*", ""},
		{"garbage", ";;,,;q", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := negotiate(tc.accept, offered); got != tc.want {
				t.Errorf("negotiate(%q) = %q, want %q", tc.accept, got, tc.want)
			}
		})
	}
}

func FuzzNegotiate(f *testing.F) {
	for _, s := range []string{"", "*/*", "application/vc;q=0.5, application/json", "text/*;q=0", ";;,", "application/statuslist+cwt", strings.Repeat("a/b,", 100)} {
		f.Add(s)
	}
	offered := []string{"application/statuslist+jwt", "application/json"}
	f.Fuzz(func(t *testing.T, accept string) {
		got := negotiate(accept, offered)
		if got != "" && got != offered[0] && got != offered[1] {
			t.Fatalf("negotiate(%q) = %q, not an offered type", accept, got)
		}
		if strings.TrimSpace(accept) == "" && got != offered[0] {
			t.Fatalf("negotiate(%q) = %q, want the first offered type", accept, got)
		}
	})
}

func TestNotModified(t *testing.T) {
	signed := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := &signedList{etag: `W/"4-1772359200"`, signedAt: signed}
	for _, tc := range []struct {
		name   string
		header []string
		want   bool
	}{
		{"none", nil, false},
		{"same tag", []string{"If-None-Match", `W/"4-1772359200"`}, true},
		{"strong form of the tag", []string{"If-None-Match", `"4-1772359200"`}, true},
		{"among others", []string{"If-None-Match", `"x", W/"4-1772359200"`}, true},
		{"star", []string{"If-None-Match", "*"}, true},
		{"other tag", []string{"If-None-Match", `W/"5-1772359200"`}, false},
		{"other tag wins over date", []string{"If-None-Match", `"x"`, "If-Modified-Since", signed.Add(time.Hour).Format(http.TimeFormat)}, false},
		{"modified since before", []string{"If-Modified-Since", signed.Add(-time.Second).Format(http.TimeFormat)}, false},
		// A date never answers 304: the same second may hold a later
		// status change, and another server's clock may be behind.
		{"modified since same", []string{"If-Modified-Since", signed.Format(http.TimeFormat)}, false},
		{"modified since after", []string{"If-Modified-Since", signed.Add(time.Hour).Format(http.TimeFormat)}, false},
		{"bad date", []string{"If-Modified-Since", "yesterday"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			for i := 0; i+1 < len(tc.header); i += 2 {
				r.Header.Set(tc.header[i], tc.header[i+1])
			}
			if got := notModified(r, s); got != tc.want {
				t.Errorf("notModified(%v) = %v, want %v", tc.header, got, tc.want)
			}
		})
	}
}

// TestStatusListETagNamesVersion: the ETag carries the version the body
// shows, so a change always changes it.
func TestStatusListETagNamesVersion(t *testing.T) {
	e := newStEnv(t)
	id := e.newList(t, storage.StatusListW3C)
	for v := 1; v <= 3; v++ {
		if err := e.lists.set(id, int64(v), storage.CredentialRevoked); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{stPath(id, statuslist.PurposeRevocation), stJWTPath(id, statuslist.PurposeRevocation)} {
			w := e.get(p)
			if tag := w.Header().Get("ETag"); !strings.HasPrefix(tag, `W/"`+strconv.Itoa(v)+"-") {
				t.Errorf("GET %s: ETag after %d changes = %s, want version %d in it", p, v, tag, v)
			}
		}
	}
}

// TestStatusListIfModifiedSinceSameSecond: a list re-signed after a status
// change within the second of the copy a client holds has the same
// Last-Modified (dates have whole seconds), so a client revalidating with
// only If-Modified-Since must get the new list, not 304.
func TestStatusListIfModifiedSinceSameSecond(t *testing.T) {
	e := newStEnv(t)
	id := e.newList(t, storage.StatusListToken)
	w := e.get(stPath(id, ""))
	lastModified := w.Header().Get("Last-Modified")
	if w.Code != http.StatusOK || lastModified == "" {
		t.Fatalf("GET = %d, Last-Modified %q; want 200 and a date", w.Code, lastModified)
	}
	if err := e.lists.set(id, 7, storage.CredentialRevoked); err != nil {
		t.Fatal(err)
	}
	w = e.get(stPath(id, ""), "If-Modified-Since", lastModified)
	if w.Code != http.StatusOK {
		t.Fatalf("If-Modified-Since %s after a change in the same second = %d, want 200", lastModified, w.Code)
	}
	if v, _ := e.tokenList(t, w, id).Get(7); v != statuslist.TokenInvalid {
		t.Errorf("entry 7 = %d, want invalid (%d)", v, statuslist.TokenInvalid)
	}
}
