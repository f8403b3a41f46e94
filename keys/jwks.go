package keys

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// jwksMaxAge is how long clients may cache a JWKS response, in seconds. It
// is short so relying parties see new keys soon after a rotation; rotate
// with a prepublish period longer than this.
const jwksMaxAge = 300

// PublicJWKS returns the published public keys of the purposes: current
// keys, keys published ahead of use, and retired keys until their
// PublishUntil. Each carries kid, alg and use, and nothing private. The set
// is the caller's to change.
func (s *Service) PublicJWKS(ctx context.Context, purposes ...string) (jwk.Set, error) {
	for _, p := range purposes {
		if _, ok := s.sets[p]; !ok {
			return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, p)
		}
	}
	snap := s.snap.Load()
	now := s.now()
	set := jwk.NewSet()
	for _, p := range purposes {
		for _, k := range snap.byPurpose[p] {
			if !published(k.rec, now) {
				continue
			}
			// A copy, so callers can't change the snapshot's keys.
			pub, err := k.jwk.Clone()
			if err != nil {
				return nil, fmt.Errorf("keys: JWKS: %w", err)
			}
			if err := set.AddKey(pub); err != nil {
				return nil, fmt.Errorf("keys: JWKS: %w", err)
			}
		}
	}
	return set, nil
}

// JWKSHandler serves the published keys of the purposes as a JWK set, for
// example PurposeOIDCSigning and PurposeOIDCEncryption at
// /.well-known/jwks.json. It panics if a purpose is not configured: that is a
// wiring mistake, found at start-up.
func (s *Service) JWKSHandler(purposes ...string) http.Handler {
	for _, p := range purposes {
		if _, ok := s.sets[p]; !ok {
			panic(fmt.Sprintf("keys: JWKSHandler: no key set %q", p))
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		set, err := s.PublicJWKS(r.Context(), purposes...)
		var body []byte
		if err == nil {
			body, err = json.Marshal(set)
		}
		if err != nil {
			s.log.ErrorContext(r.Context(), "serve JWKS", "err", err)
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", jwksMaxAge))
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Content-Type-Options", "nosniff")
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(body)
	})
}
