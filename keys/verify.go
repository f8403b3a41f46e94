package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
)

// joseHeader is what Verify and Decrypt read from a protected header before
// choosing a key.
type joseHeader struct {
	Alg  string          `json:"alg"`
	KID  string          `json:"kid"`
	Typ  string          `json:"typ"`
	Crit json.RawMessage `json:"crit"`
	B64  json.RawMessage `json:"b64"`
	Zip  json.RawMessage `json:"zip"`
}

func parseJOSEHeader(b64 string) (joseHeader, error) {
	var h joseHeader
	raw, err := base64.RawURLEncoding.Strict().DecodeString(b64)
	if err != nil {
		return h, fmt.Errorf("%w: header is not base64url", ErrInvalid)
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return h, fmt.Errorf("%w: header is not a JSON object", ErrInvalid)
	}
	if h.Crit != nil {
		return h, fmt.Errorf("%w: crit header not supported", ErrInvalid)
	}
	return h, nil
}

// Verify checks a compact JWS that Sanad signed with a key of purpose and
// returns its payload. The header's alg must be one of allowedAlgs (which
// must not be empty) and the alg of the key its kid names; "none" and
// symmetric algorithms are never accepted. A kid this process does not know
// yet triggers one reload of the keys (rate limited), so tokens signed by a
// key another process just created verify. Verify checks only the signature:
// claims (exp, aud, iss) are the caller's to check.
func (s *Service) Verify(ctx context.Context, purpose, compact string, allowedAlgs ...string) ([]byte, error) {
	payload, _, err := s.verify(ctx, purpose, compact, allowedAlgs)
	return payload, err
}

// VerifyTyped is Verify that also requires the typ header to be typ, so a
// token of one kind (an ID token) is not accepted as another (an access
// token, "at+jwt") signed by the same keys (RFC 8725, section 3.11). Media
// types compare case-insensitively, with or without "application/".
func (s *Service) VerifyTyped(ctx context.Context, purpose, typ, compact string, allowedAlgs ...string) ([]byte, error) {
	if typ == "" {
		return nil, fmt.Errorf("keys: VerifyTyped needs a typ")
	}
	payload, h, err := s.verify(ctx, purpose, compact, allowedAlgs)
	if err != nil {
		return nil, err
	}
	if mediaType(h.Typ) != mediaType(typ) {
		return nil, fmt.Errorf("%w: typ %q, want %q", ErrInvalid, h.Typ, typ)
	}
	return payload, nil
}

// mediaType normalizes a typ value (RFC 7515, section 4.1.9).
func mediaType(typ string) string {
	typ = strings.ToLower(typ)
	if !strings.Contains(strings.TrimPrefix(typ, "application/"), "/") {
		typ = strings.TrimPrefix(typ, "application/")
	}
	return typ
}

func (s *Service) verify(ctx context.Context, purpose, compact string, allowedAlgs []string) ([]byte, joseHeader, error) {
	var none joseHeader
	set, ok := s.sets[purpose]
	if !ok {
		return nil, none, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	if set.Use != UseSig {
		return nil, none, fmt.Errorf("%w: %s is not a signing key set", ErrUnsupportedAlg, purpose)
	}
	if len(allowedAlgs) == 0 {
		return nil, none, fmt.Errorf("keys: Verify needs the accepted algorithms")
	}
	parts := strings.Split(compact, ".")
	if len(parts) != 3 {
		return nil, none, fmt.Errorf("%w: not a compact JWS", ErrInvalid)
	}
	h, err := parseJOSEHeader(parts[0])
	if err != nil {
		return nil, none, err
	}
	if h.B64 != nil {
		return nil, none, fmt.Errorf("%w: b64 header not supported", ErrInvalid)
	}
	if algUse[h.Alg] != UseSig || !slices.Contains(allowedAlgs, h.Alg) {
		return nil, none, fmt.Errorf("%w: alg %q not allowed", ErrInvalid, h.Alg)
	}
	if h.KID == "" {
		return nil, none, fmt.Errorf("%w: no kid", ErrInvalid)
	}
	k := s.lookup(ctx, purpose, h.KID)
	if k == nil {
		return nil, none, fmt.Errorf("%w: unknown kid %q", ErrInvalid, h.KID)
	}
	if k.rec.Alg != h.Alg {
		return nil, none, fmt.Errorf("%w: alg %s does not match key %s (%s)", ErrInvalid, h.Alg, k.rec.KID, k.rec.Alg)
	}
	alg, ok := jwa.LookupSignatureAlgorithm(h.Alg)
	if !ok {
		return nil, none, fmt.Errorf("%w: alg %q not supported", ErrInvalid, h.Alg)
	}
	payload, err := jws.VerifyCompactFast(k.pub, []byte(compact), alg)
	if err != nil {
		return nil, none, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return payload, h, nil
}

// lookup returns the published key of purpose with the kid, reloading the
// keys once (rate limited) if the kid is unknown.
func (s *Service) lookup(ctx context.Context, purpose, kid string) *key {
	k := s.snap.Load().byKID[kid]
	if k == nil && s.refreshForUnknownKID(ctx, kid) {
		k = s.snap.Load().byKID[kid]
	}
	if k == nil || k.rec.Purpose != purpose || !published(k.rec, s.now()) {
		return nil
	}
	return k
}

// refreshForUnknownKID reloads the keys unless that was done less than
// unknownKIDRefreshGap ago, and reports whether the kid may now be known.
// Concurrent callers wait for one reload instead of each starting one.
func (s *Service) refreshForUnknownKID(ctx context.Context, kid string) bool {
	s.missMu.Lock()
	defer s.missMu.Unlock()
	if s.snap.Load().byKID[kid] != nil {
		return true // loaded while we waited
	}
	now := s.now()
	if !s.lastMiss.IsZero() && now.Sub(s.lastMiss) < unknownKIDRefreshGap && !now.Before(s.lastMiss) {
		return false
	}
	s.lastMiss = now
	if err := s.Refresh(ctx); err != nil {
		s.log.WarnContext(ctx, "reload keys for unknown kid", "err", err)
		return false
	}
	return true
}
