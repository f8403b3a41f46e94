package sdjwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sanad-id/sanad/credential"
)

// KeyBinding is what the holder's Key Binding JWT binds a presentation to.
type KeyBinding struct {
	// Signer signs with the holder's key, the one in the credential's
	// cnf.jwk.
	Signer credential.Signer
	// Audience is the verifier (its client_id).
	Audience string
	// Nonce is the verifier's nonce of the request.
	Nonce string
	// IssuedAt is the KB-JWT's iat; zero means now.
	IssuedAt time.Time
}

// Present returns a presentation of t disclosing the claims at paths:
// for each path, the disclosures of the claim itself, of the claims that
// contain it (so that it can be reached) and of the claims it contains.
// Every path must name a claim of t.Claims (nil elements match every
// array element). With kb, a Key Binding JWT is appended; without, the
// presentation ends with "~".
func (t *Token) Present(ctx context.Context, paths []Path, kb *KeyBinding) (string, error) {
	selected := make([]bool, len(t.Disclosures))
	for _, p := range paths {
		steps, err := p.steps()
		if err != nil {
			return "", err
		}
		if !exists(t.Claims, steps) {
			return "", fmt.Errorf("sdjwt: the credential has no claim at %s", p)
		}
		for i, d := range t.Disclosures {
			if !selected[i] && related(d.Path, steps) && t.leadsTo(d.Path, steps) {
				selected[i] = true
			}
		}
	}
	var sb strings.Builder
	sb.WriteString(t.JWT)
	sb.WriteByte('~')
	for i, d := range t.Disclosures {
		if selected[i] {
			sb.WriteString(d.Encoded)
			sb.WriteByte('~')
		}
	}
	if kb == nil {
		return sb.String(), nil
	}
	if kb.Signer == nil || kb.Audience == "" || kb.Nonce == "" {
		return "", errors.New("sdjwt: key binding needs a Signer, an Audience and a Nonce")
	}
	if t.HolderKey == nil {
		return "", errors.New("sdjwt: the credential has no cnf.jwk to bind a presentation to")
	}
	h, err := hashFor(t.HashAlg)
	if err != nil {
		return "", err
	}
	presented := sb.String()
	iat := kb.IssuedAt
	if iat.IsZero() {
		iat = time.Now()
	}
	payload, err := json.Marshal(map[string]any{
		"iat":     iat.Unix(),
		"aud":     kb.Audience,
		"nonce":   kb.Nonce,
		"sd_hash": digest(h, presented),
	})
	if err != nil {
		return "", err
	}
	jwt, err := kb.Signer.SignJWS(ctx, payload, map[string]any{"typ": TypKB})
	if err != nil {
		return "", fmt.Errorf("sdjwt: signing the key binding JWT: %w", err)
	}
	return presented + jwt, nil
}

// related reports whether the concrete path p and the requested path r
// agree on their common length: p is r, leads to r, or lies inside r.
func related(p Path, r []step) bool {
	for i := 0; i < len(p) && i < len(r); i++ {
		switch e := p[i].(type) {
		case string:
			if r[i].kind != stepKey || r[i].key != e {
				return false
			}
		case int:
			if r[i].kind == stepKey || (r[i].kind == stepIndex && r[i].index != e) {
				return false
			}
		}
	}
	return true
}

// leadsTo reports, for a disclosure at p that contains the requested path
// r, whether the rest of r exists inside it: a path through every array
// element needs only the elements that have the claim.
func (t *Token) leadsTo(p Path, r []step) bool {
	if len(p) >= len(r) {
		return true
	}
	var v any = t.Claims
	for _, e := range p {
		switch k := e.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return false
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return false
			}
			v = a[k]
		}
	}
	return exists(v, r[len(p):])
}

// exists reports whether v has something at steps.
func exists(v any, steps []step) bool {
	if len(steps) == 0 {
		return true
	}
	s := steps[0]
	switch x := v.(type) {
	case map[string]any:
		if s.kind != stepKey {
			return false
		}
		e, ok := x[s.key]
		return ok && exists(e, steps[1:])
	case []any:
		switch s.kind {
		case stepIndex:
			return s.index < len(x) && exists(x[s.index], steps[1:])
		case stepAll:
			for _, e := range x {
				if exists(e, steps[1:]) {
					return true
				}
			}
		}
	}
	return false
}
