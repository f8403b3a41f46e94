package issuer

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/storage"
)

// Status list entries of issued credentials.
//
// Every credential of a revocable format gets an entry in a status list of
// its kind when it is issued: a W3C Bitstring Status List pair (one
// revocation and one suspension list sharing an index space) for ldp_vc
// and jwt_vc_json, an IETF Token Status List with 2 bits per entry for
// SD-JWT VC. Lists live in storage.StatusLists; the issuer publishes them
// (statuslist_publish.go) and the operator changes statuses through the
// admin API (admin_credentials.go). A W3C list is published in two forms,
// one per securing mechanism, and each credential references the form of
// its own: Data Integrity by the issuer's DID for ldp_vc, VC-JWT by the
// issuer identifier for jwt_vc_json. The two forms share the list, its
// index space and its statuses.
//
// Indices are allocated by counter: the store hands out blocks of
// consecutive counters of the open list, and statuslist.Permutation maps
// each counter to an index with a bijection keyed by the list's secret
// key. Indices are distinct (the permutation is one-to-one and counters
// are never handed out twice) and say nothing about when a credential was
// issued or how full its list is. When the open list is full the store
// makes the next one, with a fresh key and an unguessable id. Counters of
// a block not used before a restart are simply never used.

// PathStatus + "/{list id}" is a Token Status List (application/
// statuslist+jwt); PathStatus + "/{list id}/revocation" and
// "/{list id}/suspension" are the two W3C status list credentials of a
// Bitstring Status List pair secured with Data Integrity (what ldp_vc
// credentials reference), and PathStatus + "/{list id}/jwt/revocation"
// and ".../jwt/suspension" the same two secured as VC-JWTs (what
// jwt_vc_json credentials reference). The paths are relative to the issuer
// identifier, like the other endpoints.
const PathStatus = "/status"

// statusJWTSegment is the path segment that names the VC-JWT form of a W3C
// list: PathStatus + "/{list id}/" + statusJWTSegment + "/{purpose}".
const statusJWTSegment = "jwt"

// statusBlockSize is how many counters the issuer reserves at a time: one
// store write per statusBlockSize credentials.
const statusBlockSize = 256

// statusListIDBytes is the entropy of a status list id: list ids are in
// every credential, and cannot be enumerated.
const statusListIDBytes = 16

// statusKind is the kind of status list credentials of format carry, ""
// for a format without status (mso_mdoc, or one the issuer does not know).
func statusKind(format string) string {
	switch format {
	case credential.FormatLDPVC, credential.FormatJWTVC:
		return storage.StatusListW3C
	case credential.FormatSDJWTVC:
		return storage.StatusListToken
	}
	return ""
}

// issuerStatus is what an issuer with status lists keeps: the store, the
// allocator, the published lists and the status token algorithm.
type issuerStatus struct {
	store storage.StatusLists
	alloc *statusAllocator
	cache listCache
	// tokenAlg is the algorithm status list tokens are signed with,
	// w3cSuite the cryptosuite of W3C status list credentials secured
	// with Data Integrity, w3cJWTAlg the algorithm of those secured as
	// VC-JWTs.
	tokenAlg, w3cSuite, w3cJWTAlg string
}

// newIssuerStatus returns the status state of an issuer with cfg, whose
// StatusLists and Signers are set and defaults filled in. The issuer must
// have a key to sign the lists its configurations need: a status list
// token algorithm for SD-JWT VC, an Ed25519 or P-256 key for W3C lists
// and a JWS key for their VC-JWT form.
func newIssuerStatus(cfg *Config) (*issuerStatus, error) {
	st := &issuerStatus{
		store:     cfg.StatusLists,
		alloc:     newStatusAllocator(cfg.StatusLists, cfg.CredentialIssuer, cfg.StatusListSize, statusBlockSize),
		tokenAlg:  statusTokenAlg(cfg),
		w3cSuite:  statusListSuite(cfg),
		w3cJWTAlg: statusListJWTAlg(cfg),
	}
	algs := cfg.Signers.Algs()
	var errs []error
	for _, c := range cfg.Configurations {
		switch statusKind(c.Format) {
		case storage.StatusListToken:
			if !slices.Contains(statuslist.TokenAlgs, st.tokenAlg) {
				errs = append(errs, fmt.Errorf("issuer: configuration %q: no issuer key can sign status list tokens (have %v)", c.ID, algs))
			}
		case storage.StatusListW3C:
			// Every W3C list is published in both forms, whatever the
			// formats of its credentials.
			if !slices.Contains(algs, "EdDSA") && !slices.Contains(algs, "ES256") {
				errs = append(errs, fmt.Errorf("issuer: configuration %q: W3C status lists need an EdDSA or ES256 issuer key (have %v)", c.ID, algs))
			}
			if !slices.Contains(jwtvc.SafeAlgs, st.w3cJWTAlg) {
				errs = append(errs, fmt.Errorf("issuer: configuration %q: no issuer key can sign W3C status lists as JWTs (have %v)", c.ID, algs))
			}
		}
	}
	return st, errors.Join(errs...)
}

// statusListSuite picks the cryptosuite of W3C status list credentials:
// eddsa-rdfc-2022 when the issuer has an Ed25519 key, else
// ecdsa-rdfc-2019 with its P-256 key.
func statusListSuite(cfg *Config) string {
	if slices.Contains(cfg.Signers.Algs(), "EdDSA") || !slices.Contains(cfg.Signers.Algs(), "ES256") {
		return ldp.SuiteEdDSARDFC2022
	}
	return ldp.SuiteECDSARDFC2019
}

// statusTokenAlg picks the algorithm of status list tokens: ES256 when the
// issuer has an ES256 key (HAIP's algorithm), else that of the first
// SD-JWT VC configuration, else the issuer's first.
func statusTokenAlg(cfg *Config) string {
	algs := cfg.Signers.Algs()
	if slices.Contains(algs, "ES256") {
		return "ES256"
	}
	for _, c := range cfg.Configurations {
		if c.Format == credential.FormatSDJWTVC && slices.Contains(algs, c.SigningAlg) {
			return c.SigningAlg
		}
	}
	if len(algs) > 0 {
		return algs[0]
	}
	return ""
}

// statusListJWTAlg picks the algorithm of W3C status list credentials
// secured as VC-JWTs: that of the first jwt_vc_json configuration the
// issuer has a key for (Bitstring Status List 1.0, "Securing Algorithms":
// a list SHOULD be secured like the credentials that reference it), else
// ES256, else the issuer's first.
func statusListJWTAlg(cfg *Config) string {
	algs := cfg.Signers.Algs()
	for _, c := range cfg.Configurations {
		if c.Format == credential.FormatJWTVC && slices.Contains(algs, c.SigningAlg) {
			return c.SigningAlg
		}
	}
	if slices.Contains(algs, "ES256") {
		return "ES256"
	}
	if len(algs) > 0 {
		return algs[0]
	}
	return ""
}

// statusSlot is one allocated entry: a list and an index on it.
type statusSlot struct {
	List  string
	Index int
}

// statusAllocator allocates status list entries for one issuer. It is safe
// for concurrent use.
type statusAllocator struct {
	store  storage.StatusLists
	issuer string
	size   int64
	block  int
	kinds  map[string]*kindAllocator
}

// kindAllocator allocates the entries of one kind of list. mu is held
// while a block is reserved, so that concurrent callers wait for the one
// reservation rather than each making their own.
type kindAllocator struct {
	kind string
	mu   sync.Mutex
	// The counters [next, end) of list are reserved and unused.
	list      storage.StatusList
	perm      *statuslist.Permutation
	next, end int64
}

// newStatusAllocator returns an allocator of lists of size entries on
// store.
func newStatusAllocator(store storage.StatusLists, issuer string, size int64, block int) *statusAllocator {
	a := &statusAllocator{store: store, issuer: issuer, size: size, block: block, kinds: map[string]*kindAllocator{}}
	for _, k := range []string{storage.StatusListW3C, storage.StatusListToken} {
		a.kinds[k] = &kindAllocator{kind: k}
	}
	return a
}

// allocate returns n entries on lists of kind, all distinct, possibly on
// different lists when one fills up. Only the counters are taken under
// k.mu; the indices (HMAC rounds) are computed after it is released.
func (a *statusAllocator) allocate(ctx context.Context, kind string, n int) ([]statusSlot, error) {
	k := a.kinds[kind]
	if k == nil {
		return nil, fmt.Errorf("issuer: no status list of kind %q", kind)
	}
	runs, err := a.take(ctx, k, n)
	if err != nil {
		return nil, err
	}
	out := make([]statusSlot, 0, n)
	for _, r := range runs {
		for c := r.from; c < r.to; c++ {
			idx, err := r.perm.Index(c)
			if err != nil {
				return nil, fmt.Errorf("issuer: status list %s counter %d: %w", r.list, c, err)
			}
			out = append(out, statusSlot{List: r.list, Index: idx})
		}
	}
	return out, nil
}

// counterRun is the counters [from, to) of list, taken by one caller.
type counterRun struct {
	list     string
	perm     *statuslist.Permutation
	from, to int64
}

// take takes n counters of k under k.mu, reserving blocks as needed: one
// run per list they are on.
func (a *statusAllocator) take(ctx context.Context, k *kindAllocator, n int) ([]counterRun, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var runs []counterRun
	for left := int64(n); left > 0; {
		if k.next == k.end {
			if err := a.reserve(ctx, k, max(a.block, int(left))); err != nil {
				return nil, err
			}
		}
		m := min(left, k.end-k.next)
		runs = append(runs, counterRun{list: k.list.ID, perm: k.perm, from: k.next, to: k.next + m})
		k.next += m
		left -= m
	}
	return runs, nil
}

// reserve takes a new block of up to n counters for k.
func (a *statusAllocator) reserve(ctx context.Context, k *kindAllocator, n int) error {
	id, err := newStatusListID()
	if err != nil {
		return err
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("issuer: status list key: %w", err)
	}
	list, first, got, err := a.store.ReserveStatusIndices(ctx, a.issuer, k.kind, n, a.size, id, key)
	if err != nil {
		return fmt.Errorf("issuer: reserve %s status list entries: %w", k.kind, err)
	}
	if got < 1 || first < 0 || first+int64(got) > list.Size || list.Kind != k.kind {
		return fmt.Errorf("issuer: the store reserved %d counters from %d of %s list %s of size %d", got, first, list.Kind, list.ID, list.Size)
	}
	if k.perm == nil || list.ID != k.list.ID {
		// The list's own size: it may have been made with another
		// StatusListSize before a restart.
		perm, err := statuslist.NewPermutation(list.Key, int(list.Size))
		if err != nil {
			return fmt.Errorf("issuer: status list %s: %w", list.ID, err)
		}
		k.perm = perm
	}
	k.list, k.next, k.end = list, first, first+int64(got)
	return nil
}

// newStatusListID returns a fresh status list id: 16 random bytes,
// base64url.
func newStatusListID() (string, error) {
	b := make([]byte, statusListIDBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("issuer: status list id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// statusListURL is the URL of the Token Status List with id, and the base
// of the URLs of the W3C pair with id.
func (is *Issuer) statusListURL(id string) string { return is.url(PathStatus + "/" + id) }

// w3cStatusListURL is the URL of the W3C status list credential of id for
// purpose (statuslist.PurposeRevocation or PurposeSuspension) secured with
// Data Integrity, the form ldp_vc credentials reference.
func (is *Issuer) w3cStatusListURL(id, purpose string) string {
	return is.statusListURL(id) + "/" + purpose
}

// w3cJWTStatusListURL is the URL of the W3C status list credential of id
// for purpose secured as a VC-JWT, the form jwt_vc_json credentials
// reference.
func (is *Issuer) w3cJWTStatusListURL(id, purpose string) string {
	return is.statusListURL(id) + "/" + statusJWTSegment + "/" + purpose
}

// listURL is the URL of the published document k names.
func (is *Issuer) listURL(k listKey) string {
	switch {
	case k.purpose == "":
		return is.statusListURL(k.id)
	case k.jwt:
		return is.w3cJWTStatusListURL(k.id, k.purpose)
	}
	return is.w3cStatusListURL(k.id, k.purpose)
}

// statusDocuments names the published documents that carry the status of
// a credential of format on list: the revocation and suspension list
// credentials of a W3C list, in the form the format references (VC-JWT
// for jwt_vc_json, Data Integrity for ldp_vc), or the status list token
// of a token list; nil for a format without status.
func statusDocuments(format, list string) []listKey {
	switch statusKind(format) {
	case storage.StatusListW3C:
		jwt := format == credential.FormatJWTVC
		return []listKey{
			{id: list, purpose: statuslist.PurposeRevocation, jwt: jwt},
			{id: list, purpose: statuslist.PurposeSuspension, jwt: jwt},
		}
	case storage.StatusListToken:
		return []listKey{{id: list}}
	}
	return nil
}

// credentialStatus is what a credential of format on slot carries: the
// credentialStatus of W3C formats (a revocation and a suspension entry with
// the same index, naming the lists in the form of the credential's own
// securing mechanism), the status claim of SD-JWT VC.
func (is *Issuer) credentialStatus(format string, slot statusSlot) (any, error) {
	docs := statusDocuments(format, slot.List)
	switch statusKind(format) {
	case storage.StatusListW3C:
		var out []any
		for _, k := range docs {
			out = append(out, statuslist.NewEntry(is.listURL(k), k.purpose, slot.Index).Map())
		}
		return out, nil
	case storage.StatusListToken:
		ref := statuslist.TokenReference{Index: slot.Index, URI: is.listURL(docs[0])}
		return ref.Map(), nil // {"status_list": {"idx": …, "uri": …}}
	}
	return nil, fmt.Errorf("issuer: format %q has no status", format)
}

// allocateStatus allocates n status entries for credentials of format; nil
// when the issuer has no status lists or the format carries no status.
func (is *Issuer) allocateStatus(ctx context.Context, format string, n int) ([]statusSlot, error) {
	kind := statusKind(format)
	if is.status == nil || kind == "" {
		return nil, nil
	}
	slots, err := is.status.alloc.allocate(ctx, kind, n)
	if err != nil {
		return nil, err
	}
	if len(slots) != n {
		return nil, errors.New("issuer: status allocation returned the wrong number of entries")
	}
	return slots, nil
}
