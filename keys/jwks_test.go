package keys

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

func TestJWKSHandler(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, allAlgSets())
		s := e.service(t)
		srv := httptest.NewServer(s.JWKSHandler(PurposeOIDCSigning, PurposeOIDCEncryption))
		defer srv.Close()

		res, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET = %d, want 200", res.StatusCode)
		}
		for name, want := range map[string]string{
			"Content-Type":  "application/json",
			"Cache-Control": "public, max-age=300",
		} {
			if got := res.Header.Get(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		set, err := jwk.Parse(body)
		if err != nil {
			t.Fatalf("jwk.Parse(body) = %v", err)
		}
		if set.Len() != 6 {
			t.Errorf("JWKS has %d keys, want 6 (4 signing, 2 encryption)", set.Len())
		}
		for i := range set.Len() {
			k, _ := set.Key(i)
			kid, _ := k.KeyID()
			alg, _ := k.Algorithm()
			use, _ := k.KeyUsage()
			if kid == "" || alg == nil || algUse[alg.String()] != use {
				t.Errorf("JWK %d: kid %q alg %v use %q, want all set and consistent", i, kid, alg, use)
			}
			if private, _ := jwk.IsPrivateKey(k); private {
				t.Errorf("JWK %s is a private key", kid)
			}
		}
		assertOnlyPublicMembers(t, body)

		res, err = http.Head(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD = %d with %d bytes, want 200 and no body", res.StatusCode, len(body))
		}
		res, err = http.Post(srv.URL, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST = %d (Allow %q), want 405 (Allow GET, HEAD)", res.StatusCode, res.Header.Get("Allow"))
		}
	})
}

// assertOnlyPublicMembers checks a JWK set's JSON for members other than
// public ones: whatever jwx does, no private parameter may be published.
func assertOnlyPublicMembers(t *testing.T, body []byte) {
	t.Helper()
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	public := []string{"kty", "kid", "alg", "use", "crv", "x", "y", "n", "e"}
	for _, k := range doc.Keys {
		for member := range k {
			if !slices.Contains(public, member) {
				t.Errorf("published JWK %v has member %q", k["kid"], member)
			}
		}
	}
}

func TestPublicJWKSNoPrivateMembers(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, allAlgSets())
		s := e.service(t)
		ctx := context.Background()
		if _, err := s.Rotate(ctx, PurposeOIDCSigning, 0); err != nil {
			t.Fatal(err)
		}
		set, err := s.PublicJWKS(ctx, s.Purposes()...)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(set)
		assertOnlyPublicMembers(t, body)
		if set.Len() != 11 {
			t.Errorf("PublicJWKS(all) has %d keys, want 11", set.Len())
		}
		if _, err := s.PublicJWKS(ctx, "nope"); err == nil {
			t.Errorf("PublicJWKS(unknown purpose) = nil error")
		}
		defer func() {
			if recover() == nil {
				t.Errorf("JWKSHandler(unknown purpose) did not panic")
			}
		}()
		s.JWKSHandler("nope")
	})
}
