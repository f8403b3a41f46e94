package issuer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/storage"
)

// Publication of status lists.
//
// GET PathStatus/{id}/revocation and PathStatus/{id}/suspension serve the
// two W3C BitstringStatusListCredentials of a W3C list (VCDM 2.0, issuer
// the issuer's DID, secured with an eddsa-rdfc-2022 Data Integrity proof,
// or ecdsa-rdfc-2019 for an issuer without an Ed25519 key)
// as application/vc, the media type Bitstring Status List 1.0 (section 5)
// and VCDM 2.0 give a credential secured with an embedded proof. These are
// the lists ldp_vc credentials reference.
// GET PathStatus/{id}/jwt/revocation and .../jwt/suspension serve the same
// two lists as VCDM 1.1 credentials secured as JWTs (VC-JWT, VCDM 1.1
// section 6.3.1: iss the issuer identifier, kid one of the issuer's JWKS,
// typ JWT), the lists jwt_vc_json credentials reference: Bitstring Status
// List 1.0 ("Securing Algorithms") says a list SHOULD be secured like the
// credentials that reference it, and verifiers such as digitalbazaar's
// require the list's issuer to be the credential's. VCDM 1.1 registers no
// media type; the JWT's own, application/jwt (RFC 7519 section 10.3.1),
// is served (application/vc+jwt, VC-JOSE-COSE's, names a VCDM 2.0 payload
// with typ vc+jwt, which this is not; a request for it gets the JWT
// anyway).
// GET PathStatus/{id} serves a Token Status List as a status list token
// (application/statuslist+jwt, signed with the issuer's credential key,
// x5c included when the issuer has a chain); the CWT form is not offered,
// and a request that accepts only it gets 406.
//
// A signed list is kept per (list, purpose) and served until the list's
// Version changes (a status changed) or half its validity has passed.
// Each request reads the list's Version (one indexed row), so a status
// change shows in the next response; with Cache-Control max-age =
// Config.StatusListTTL a change reaches every verifier within that TTL.
// Requests that find the signed copy out of date wait for one rebuild per
// list rather than each signing their own.

// Media types of published lists.
const (
	// MediaTypeVC is the media type of a W3C credential secured with an
	// embedded proof (VCDM 2.0 section 6.3, Bitstring Status List 1.0
	// section 5).
	MediaTypeVC = "application/vc"
	// MediaTypeStatusListJWT is the media type of a status list token.
	MediaTypeStatusListJWT = statuslist.MediaType
	// MediaTypeJWT is the media type of a JWT (RFC 7519 section 10.3.1),
	// that of W3C list credentials secured as VC-JWTs.
	MediaTypeJWT = "application/jwt"
)

// StatusListValidity is how long a published list is valid (validUntil of
// a W3C list credential, exp of a status list token). The issuer signs a
// new one when half of it has passed, so a verifier that could not fetch a
// list for a while keeps a valid one.
const StatusListValidity = 12 * time.Hour

// w3cListMediaTypes are what a W3C list answers an Accept header with, by
// preference: the registered type first, then the less specific ones the
// specification allows, and the pre-2024 VCDM 2.0 draft name.
var w3cListMediaTypes = []string{MediaTypeVC, "application/vc+ld+json", "application/ld+json", "application/json"}

// w3cJWTListMediaTypes are the Accept ranges the VC-JWT form of a W3C list
// answers (always as MediaTypeJWT).
var w3cJWTListMediaTypes = []string{MediaTypeJWT, "application/vc+jwt"}

// statusListIDPattern matches a list id as statusAllocator makes them.
// Lists made another way (by a migration) may use any id of URL-safe
// characters, up to 64.
var statusListIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// listKey names one published document: a W3C list, a purpose and a form
// (Data Integrity, or VC-JWT when jwt is set), or a token list (purpose
// "").
type listKey struct {
	id, purpose string
	jwt         bool
}

// signedList is a published document, signed.
type signedList struct {
	// version is the list Version the document shows.
	version int64
	body    []byte
	// signedAt is when it was signed (to the second); refreshAt when it is
	// signed again even if nothing changed.
	signedAt, refreshAt time.Time
	etag                string
}

// publishedList is the cached document of one listKey. build is held
// while the document is rebuilt, so that one request signs and the others
// wait for its result.
type publishedList struct {
	build sync.Mutex
	cur   atomic.Pointer[signedList]
}

// listCache holds the published documents.
type listCache struct {
	mu    sync.Mutex
	lists map[listKey]*publishedList
}

func (c *listCache) get(k listKey) *publishedList {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.lists == nil {
		c.lists = map[listKey]*publishedList{}
	}
	p := c.lists[k]
	if p == nil {
		p = &publishedList{}
		c.lists[k] = p
	}
	return p
}

// registerStatusLists mounts the publication endpoints at the issuer path
// p.
func (is *Issuer) registerStatusLists(r gin.IRouter, p string) {
	r.GET(p+PathStatus+"/:id", func(c *gin.Context) {
		is.handleStatusList(c, storage.StatusListToken, listKey{id: c.Param("id")})
	})
	// Any purpose is routed, so that an unknown one gets a JSON 404.
	w3c := func(jwt bool) gin.HandlerFunc {
		return func(c *gin.Context) {
			purpose := c.Param("purpose")
			if purpose != statuslist.PurposeRevocation && purpose != statuslist.PurposeSuspension {
				is.writeError(c, errUnknownList(), "")
				return
			}
			is.handleStatusList(c, storage.StatusListW3C, listKey{id: c.Param("id"), purpose: purpose, jwt: jwt})
		}
	}
	r.GET(p+PathStatus+"/:id/:purpose", w3c(false))
	r.GET(p+PathStatus+"/:id/"+statusJWTSegment+"/:purpose", w3c(true))
}

// errUnknownList is the 404 of a list that does not exist, is of another
// issuer or of another kind.
func errUnknownList() *Error {
	return errAdmin(CodeNotFound, http.StatusNotFound, "no such status list", nil)
}

// handleStatusList serves the document k of a list of kind.
func (is *Issuer) handleStatusList(c *gin.Context, kind string, k listKey) {
	ctx := c.Request.Context()
	if is.status == nil || !statusListIDPattern.MatchString(k.id) {
		is.writeError(c, errUnknownList(), "")
		return
	}
	offered := []string{MediaTypeStatusListJWT}
	switch {
	case kind == storage.StatusListW3C && k.jwt:
		offered = w3cJWTListMediaTypes
	case kind == storage.StatusListW3C:
		offered = w3cListMediaTypes
	}
	c.Header("Vary", "Accept")
	mediaType := negotiate(c.GetHeader("Accept"), offered)
	if mediaType == "" {
		is.writeError(c, errAdmin(CodeNotAcceptable, http.StatusNotAcceptable,
			"this list is served as "+offered[0]+" only", nil), "")
		return
	}
	if k.jwt {
		mediaType = MediaTypeJWT
	}
	list, err := is.status.store.GetStatusList(ctx, k.id)
	if errors.Is(err, storage.ErrNotFound) {
		is.writeError(c, errUnknownList(), "")
		return
	}
	if err != nil {
		is.writeError(c, errServer(fmt.Errorf("issuer: read status list: %w", err)), "")
		return
	}
	if list.Issuer != is.cfg.CredentialIssuer || list.Kind != kind {
		is.writeError(c, errUnknownList(), "")
		return
	}
	s, err := is.publishedList(ctx, list, k)
	if err != nil {
		is.writeError(c, errServer(err), "")
		return
	}
	h := c.Writer.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.FormatInt(int64(is.cfg.StatusListTTL/time.Second), 10))
	h.Set("ETag", s.etag)
	h.Set("Last-Modified", s.signedAt.UTC().Format(http.TimeFormat))
	h.Set("Access-Control-Allow-Origin", "*")
	if notModified(c.Request, s) {
		c.Status(http.StatusNotModified)
		return
	}
	c.Data(http.StatusOK, mediaType, s.body)
}

// publishedList returns the signed document k of list, signing it anew
// when the cached one is older than the list's Version or due for refresh.
func (is *Issuer) publishedList(ctx context.Context, list storage.StatusList, k listKey) (*signedList, error) {
	p := is.status.cache.get(k)
	fresh := func() *signedList {
		s := p.cur.Load()
		if s != nil && s.version >= list.Version && is.now().Before(s.refreshAt) {
			return s
		}
		return nil
	}
	if s := fresh(); s != nil {
		return s, nil
	}
	p.build.Lock()
	defer p.build.Unlock()
	if s := fresh(); s != nil {
		return s, nil // built while this request waited
	}
	s, err := is.signList(ctx, list, k)
	if err != nil {
		return nil, err
	}
	p.cur.Store(s)
	return s, nil
}

// signList builds and signs the document k of list from the statuses in
// the store.
func (is *Issuer) signList(ctx context.Context, list storage.StatusList, k listKey) (*signedList, error) {
	entries, version, err := is.status.store.StatusEntries(ctx, list.ID)
	if err != nil {
		return nil, fmt.Errorf("issuer: read the statuses of list %s: %w", list.ID, err)
	}
	now := is.now().Truncate(time.Second)
	var body []byte
	switch list.Kind {
	case storage.StatusListW3C:
		body, err = is.signW3C(ctx, list, k, entries, now)
	case storage.StatusListToken:
		body, err = is.signTokenList(ctx, list, entries, now)
	default:
		err = fmt.Errorf("issuer: status list %s is of unknown kind %q", list.ID, list.Kind)
	}
	if err != nil {
		return nil, err
	}
	return &signedList{
		version:   version,
		body:      body,
		signedAt:  now,
		refreshAt: now.Add(StatusListValidity / 2),
		// Weak: two processes signing the same version in the same
		// second make different bytes of the same statuses.
		etag: `W/"` + strconv.FormatInt(version, 10) + "-" + strconv.FormatInt(now.Unix(), 10) + `"`,
	}, nil
}

// signW3C makes the status list credential k of a W3C list, in the form k
// names. Both forms show the same bits.
func (is *Issuer) signW3C(ctx context.Context, list storage.StatusList, k listKey, entries []storage.StatusEntry, now time.Time) ([]byte, error) {
	bits, err := w3cBits(list, k.purpose, entries)
	if err != nil {
		return nil, err
	}
	if k.jwt {
		return is.signW3CJWTList(ctx, list, k, bits, now)
	}
	return is.signW3CList(ctx, list, k, bits, now)
}

// w3cBits is the bitstring of a W3C list for purpose: bit i is set for the
// credentials at index i that are revoked (purpose revocation) or
// suspended (purpose suspension).
func w3cBits(list storage.StatusList, purpose string, entries []storage.StatusEntry) (*statuslist.Bitstring, error) {
	want := storage.CredentialRevoked
	if purpose == statuslist.PurposeSuspension {
		want = storage.CredentialSuspended
	}
	// A list shorter than the specification's minimum is padded: its
	// indices stay below its size.
	bits := statuslist.NewBitstring(int(max(list.Size, statuslist.MinEntries)))
	for _, e := range entries {
		if e.Status != want {
			continue
		}
		if err := bits.Set(int(e.Index), true); err != nil {
			return nil, fmt.Errorf("issuer: status list %s index %d: %w", list.ID, e.Index, err)
		}
	}
	return bits, nil
}

// signW3CList makes the status list credential k of a W3C list secured
// with Data Integrity: VCDM 2.0, issued by the issuer's DID.
func (is *Issuer) signW3CList(ctx context.Context, list storage.StatusList, k listKey, bits *statuslist.Bitstring, now time.Time) ([]byte, error) {
	doc, err := statuslist.ListCredential(is.listURL(k), is.DID(), k.purpose, bits, now, now.Add(StatusListValidity), true)
	if err != nil {
		return nil, fmt.Errorf("issuer: status list credential %s: %w", list.ID, err)
	}
	// ttl (milliseconds) says what Cache-Control says (Bitstring Status
	// List 1.0 section 2.2).
	if subject, ok := doc["credentialSubject"].(map[string]any); ok && is.cfg.StatusListTTL >= time.Millisecond {
		// A float64, as JSON-LD processing expects numbers.
		subject["ttl"] = float64(is.cfg.StatusListTTL.Milliseconds())
	}
	signed, err := is.signLDP(ctx, doc, is.status.w3cSuite)
	if err != nil {
		return nil, fmt.Errorf("issuer: sign status list credential %s: %w", list.ID, err)
	}
	body, err := json.Marshal(signed)
	if err != nil {
		return nil, fmt.Errorf("issuer: status list credential %s: %w", list.ID, err)
	}
	return body, nil
}

// signW3CJWTList makes the status list credential k of a W3C list secured
// as a VC-JWT: VCDM 1.1 (@context credentials v1 and status v1), issued by
// the issuer identifier, signed with the issuer's credential key of
// algorithm w3cJWTAlg (kid as in its JWKS), typ JWT. jti and vc.id are the
// list's URL; sub is credentialSubject.id, that URL + "#list" (VCDM 1.1
// section 6.3.1 maps sub to credentialSubject.id); nbf, iat and
// issuanceDate are now, exp and expirationDate StatusListValidity later.
func (is *Issuer) signW3CJWTList(ctx context.Context, list storage.StatusList, k listKey, bits *statuslist.Bitstring, now time.Time) ([]byte, error) {
	encoded, err := bits.Encode()
	if err != nil {
		return nil, fmt.Errorf("issuer: status list %s: %w", list.ID, err)
	}
	subject := map[string]any{
		"type":          statuslist.TypeList,
		"statusPurpose": k.purpose,
		"encodedList":   encoded,
	}
	if is.cfg.StatusListTTL >= time.Millisecond {
		subject["ttl"] = is.cfg.StatusListTTL.Milliseconds()
	}
	signer, err := is.cfg.Signers.Signer(is.status.w3cJWTAlg)
	if err != nil {
		return nil, fmt.Errorf("issuer: status list signer %s: %w", is.status.w3cJWTAlg, err)
	}
	u := is.listURL(k)
	jwt, err := jwtvc.Issue(ctx, signer, jwtvc.Credential{
		ID:         u,
		Issuer:     is.cfg.CredentialIssuer,
		Types:      []string{jwtvc.TypeVerifiableCredential, statuslist.TypeListCredential},
		Contexts:   []string{jwtvc.ContextV1, statuslist.ContextStatusV1},
		Subject:    subject,
		SubjectID:  u + "#list",
		IssuedAt:   now,
		ValidFrom:  now,
		ValidUntil: now.Add(StatusListValidity),
	})
	if err != nil {
		return nil, fmt.Errorf("issuer: sign status list credential %s as a JWT: %w", list.ID, err)
	}
	return []byte(jwt), nil
}

// signTokenList makes the status list token of a token list: 2 bits per
// credential, TokenInvalid for a revoked one, TokenSuspended for a
// suspended one.
func (is *Issuer) signTokenList(ctx context.Context, list storage.StatusList, entries []storage.StatusEntry, now time.Time) ([]byte, error) {
	tl, err := statuslist.NewTokenList(2, int(list.Size))
	if err != nil {
		return nil, fmt.Errorf("issuer: status list %s: %w", list.ID, err)
	}
	for _, e := range entries {
		v := uint8(statuslist.TokenInvalid)
		if e.Status == storage.CredentialSuspended {
			v = statuslist.TokenSuspended
		}
		if err := tl.Set(int(e.Index), v); err != nil {
			return nil, fmt.Errorf("issuer: status list %s index %d: %w", list.ID, e.Index, err)
		}
	}
	signer, err := is.cfg.Signers.Signer(is.status.tokenAlg)
	if err != nil {
		return nil, fmt.Errorf("issuer: status list token signer %s: %w", is.status.tokenAlg, err)
	}
	tok, err := statuslist.IssueToken(ctx, signer, tl, statuslist.TokenOptions{
		URI:       is.statusListURL(list.ID),
		Issuer:    is.cfg.CredentialIssuer,
		IssuedAt:  now,
		ExpiresAt: now.Add(StatusListValidity),
		TTL:       is.cfg.StatusListTTL,
		X5C:       is.cfg.X5C,
	})
	if err != nil {
		return nil, fmt.Errorf("issuer: sign status list token %s: %w", list.ID, err)
	}
	return []byte(tok), nil
}

// notModified reports whether r's If-None-Match names s (weak comparison,
// RFC 9110 section 13.1.2). If-Modified-Since is ignored, as RFC 9110
// allows: Last-Modified has whole seconds and comes from one process's
// clock, so a date cannot tell a list re-signed after a status change in
// the same second, or by a server whose clock is behind, from the copy
// the client holds; the ETag names the list's version, which can.
func notModified(r *http.Request, s *signedList) bool {
	return etagMatches(r.Header.Get("If-None-Match"), s.etag)
}

// maxAcceptRanges bounds the media ranges of an Accept header negotiate
// reads.
const maxAcceptRanges = 32

// negotiate picks the media type to answer an Accept header with among
// offered (by the server's preference): the first offered type the
// highest-weighted acceptable range matches; offered[0] when there is no
// Accept header; "" when no range with a non-zero weight matches.
func negotiate(accept string, offered []string) string {
	if strings.TrimSpace(accept) == "" {
		return offered[0]
	}
	type mediaRange struct {
		typ string
		q   float64
	}
	var ranges []mediaRange
	for i, part := range strings.Split(accept, ",") {
		if i == maxAcceptRanges {
			break
		}
		typ, params, _ := strings.Cut(part, ";")
		typ = strings.ToLower(strings.TrimSpace(typ))
		if typ == "" {
			continue
		}
		q := 1.0
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
			if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
				f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
				if err != nil || f < 0 || f > 1 {
					f = 0
				}
				q = f
			}
		}
		if q > 0 {
			ranges = append(ranges, mediaRange{typ, q})
		}
	}
	// Stable: among equal weights the header's order counts, and an exact
	// range picks its own type before a wildcard picks the server's.
	slices.SortStableFunc(ranges, func(a, b mediaRange) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return strings.Count(a.typ, "*") - strings.Count(b.typ, "*")
	})
	for _, r := range ranges {
		for _, o := range offered {
			if mediaMatches(r.typ, o) {
				return o
			}
		}
	}
	return ""
}

// mediaMatches reports whether media range r ("*/*", "type/*" or a type)
// matches media type t.
func mediaMatches(r, t string) bool {
	if r == "*/*" || r == t {
		return true
	}
	if prefix, ok := strings.CutSuffix(r, "/*"); ok {
		return strings.HasPrefix(t, prefix+"/")
	}
	return false
}
