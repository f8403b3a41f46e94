package idrepo

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/sanad-id/sanad/storage"
)

// LookupActor is the audit actor of Lookup.
const LookupActor = "authn"

// Person is a resident as authentication sees it.
type Person struct {
	ID     string // internal id: the subject of factors, audit and pairwise identifiers
	Status string // ACTIVE, DEACTIVATED, BLOCKED; the caller decides what a non-active resident may do
	// Identity is the identity data, with the UIN under "UIN" unless the
	// resident was found by a VID: a VID stands in for the UIN so that the
	// UIN is not revealed.
	Identity map[string]any
}

// LogValue keeps the identity out of logs.
func (p Person) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", p.ID), slog.String("status", p.Status))
}

// String keeps the identity out of formatted output.
func (p Person) String() string { return "person " + p.ID + " (" + p.Status + ")" }

// Lookup finds the resident a login ID names: a UIN, a VID, a phone number
// or an e-mail address. Which one is told by its form: digits only, as many
// as a UIN or a VID; + and digits (spaces, dashes and parentheses
// allowed); anything with an @. A VID must be usable (active, unexpired,
// uses left), but Lookup does not consume a use.
//
// The OIDC provider calls Lookup to find whom to authenticate (and to send
// an OTP to); once the resident has authenticated with a VID, it calls
// ResolveVID, which consumes one use of a temporary VID. Errors:
// invalid_uin, invalid_vid, invalid_login_id, not_found.
func (r *Repository) Lookup(ctx context.Context, loginID string) (Person, error) {
	const action = "identity.lookup"
	kind, value, err := r.classify(loginID)
	if err != nil {
		return Person{}, err
	}
	h, err := r.indexHash(ctx, kind, value)
	if err != nil {
		return Person{}, errServer(err)
	}
	var rec storage.Resident
	switch kind {
	case KindUIN:
		rec, err = r.store.GetResidentByUIN(ctx, h)
	case KindVID:
		var v storage.VID
		if v, err = r.store.GetVID(ctx, h); err == nil {
			if !usable(v, r.clock()) {
				return Person{}, r.recordFailure(ctx, LookupActor, action, v.ResidentID, errNotFound("login ID"))
			}
			rec, err = r.store.GetResident(ctx, v.ResidentID)
		}
	default:
		var id string
		if id, err = r.store.ResolveHandle(ctx, h); err == nil {
			rec, err = r.store.GetResident(ctx, id)
		}
	}
	if errors.Is(err, storage.ErrNotFound) {
		return Person{}, r.recordFailure(ctx, LookupActor, action, "", errNotFound("login ID"))
	}
	if err != nil {
		return Person{}, errServer(err)
	}
	return r.person(ctx, LookupActor, action, kind, rec)
}

// ResolveVID consumes one use of a VID and returns its resident: the step
// after a successful authentication with a VID. A temporary VID's last use
// makes it USED. Errors: invalid_vid, not_found (unknown, revoked,
// expired or used up).
func (r *Repository) ResolveVID(ctx context.Context, actor, vid string) (Person, error) {
	const action = "vid.use"
	if !r.vidRules.ValidChecksum(vid) {
		return Person{}, errInvalidVID()
	}
	h, err := r.indexHash(ctx, KindVID, vid)
	if err != nil {
		return Person{}, errServer(err)
	}
	v, err := r.store.UseVID(ctx, h, r.clock())
	if errors.Is(err, storage.ErrNotFound) {
		return Person{}, r.recordFailure(ctx, actor, action, "", errNotFound("VID"))
	}
	if err != nil {
		return Person{}, errServer(err)
	}
	rec, err := r.store.GetResident(ctx, v.ResidentID)
	if errors.Is(err, storage.ErrNotFound) {
		return Person{}, r.recordFailure(ctx, actor, action, v.ResidentID, errNotFound("VID"))
	}
	if err != nil {
		return Person{}, errServer(err)
	}
	return r.person(ctx, actor, action, KindVID, rec)
}

// person opens a record into a Person and audits the access.
func (r *Repository) person(ctx context.Context, actor, action, kind string, rec storage.Resident) (Person, error) {
	full, _, err := r.openIdentity(ctx, rec)
	if err != nil {
		return Person{}, errServer(err)
	}
	if err := r.record(ctx, actor, action, rec.ID, "by "+kind, nil); err != nil {
		return Person{}, err
	}
	if kind == KindVID {
		delete(full, uinField)
	}
	return Person{ID: rec.ID, Status: rec.Status, Identity: full}, nil
}

// classify tells what kind of identifier a login ID is and normalises it.
func (r *Repository) classify(loginID string) (kind, value string, err error) {
	s := strings.TrimSpace(loginID)
	switch {
	case s == "":
		return "", "", errInvalidLoginID()
	case allDigits(s) && len(s) == r.uinRules.Length:
		if !r.uinRules.ValidChecksum(s) {
			return "", "", errInvalidUIN()
		}
		return KindUIN, s, nil
	case allDigits(s) && len(s) == r.vidRules.Length:
		if !r.vidRules.ValidChecksum(s) {
			return "", "", errInvalidVID()
		}
		return KindVID, s, nil
	case strings.Contains(s, "@"):
		if len(s) > 254 {
			return "", "", errInvalidLoginID()
		}
		return KindEmail, NormalizeEmail(s), nil
	case s[0] == '+':
		p, err := NormalizePhone(s)
		if err != nil {
			return "", "", errInvalidLoginID()
		}
		return KindPhone, p, nil
	}
	return "", "", errInvalidLoginID()
}

func allDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func errInvalidLoginID() *Error {
	return newError(CodeInvalidLoginID, "a login ID is a UIN, a VID, a phone number (+ and digits) or an e-mail address")
}

// IssuerActor is the audit actor of IdentityData.
const IssuerActor = "issuer"

// IdentityData returns the identity data of the resident with internal id
// personID, UIN included, for the credential issuer to render a credential
// from (it implements issuer.DataProvider). The access is audited. A
// resident who is not ACTIVE gets no credential: the error is CodeNotFound,
// as for an unknown id, so a caller can't tell them apart.
func (r *Repository) IdentityData(ctx context.Context, personID string) (map[string]any, error) {
	const action = "issue-credential"
	rec, err := r.store.GetResident(ctx, personID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, r.recordFailure(ctx, IssuerActor, action, personID, errNotFound("resident"))
	}
	if err != nil {
		return nil, errServer(err)
	}
	if rec.Status != StatusActive {
		return nil, r.recordFailure(ctx, IssuerActor, action, personID, errNotFound("resident"))
	}
	p, err := r.person(ctx, IssuerActor, action, KindUIN, rec)
	if err != nil {
		return nil, err
	}
	return p.Identity, nil
}
