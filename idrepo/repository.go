package idrepo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sanad-id/sanad/idrepo/idgen"
	"github.com/sanad-id/sanad/storage"
)

// Resident statuses.
const (
	StatusActive      = "ACTIVE"
	StatusDeactivated = "DEACTIVATED"
	StatusBlocked     = "BLOCKED"
)

// Store is what the repository needs of the database.
type Store interface {
	storage.Residents
	storage.Audit
}

// IDGenerator issues UINs or VIDs; *idgen.Generator implements it.
type IDGenerator interface {
	Next() (string, error)
	Rules() idgen.Rules
}

// Config configures a Repository.
type Config struct {
	// Store keeps residents, VIDs and the audit log.
	Store Store
	// Keys wraps residents' data keys (purpose PurposeEncryption).
	Keys KeyWrapper
	// MAC computes the index hashes (purpose PurposeIndex).
	MAC MAC
	// Schema validates identities; nil means DefaultSchema().
	Schema *Schema
	// UINGen and VIDGen issue UINs and VIDs; nil means MOSIP's default
	// rules (10-digit UINs, 16-digit VIDs). Their lengths must differ, so
	// a login ID's length tells a UIN from a VID.
	UINGen, VIDGen IDGenerator
	// VIDPolicies are the VID types and their rules; nil means
	// DefaultVIDPolicies().
	VIDPolicies map[string]VIDPolicy
	// Audit receives the audit entries; nil means a new AuditLog on Store,
	// closed by Close. Share one AuditLog between the components of a
	// process so that their entries are committed together.
	Audit *AuditLog
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger receives operational events (never personal data); nil
	// discards them.
	Logger *slog.Logger
}

// Repository is the ID repository: residents, their identity data sealed
// at rest, UINs, VIDs and handles, with every access audited. It is safe for
// concurrent use.
type Repository struct {
	store       Store
	keys        KeyWrapper
	mac         MAC
	schema      *Schema
	uinGen      IDGenerator
	vidGen      IDGenerator
	uinRules    idgen.Rules
	vidRules    idgen.Rules
	vidPolicies map[string]VIDPolicy
	audit       *AuditLog
	ownAudit    bool
	now         func() time.Time
	log         *slog.Logger
}

// New returns a Repository. Close it to flush and stop its audit log.
func New(cfg Config) (*Repository, error) {
	var errs []error
	if cfg.Store == nil {
		errs = append(errs, errors.New("idrepo: Config.Store is required"))
	}
	if cfg.Keys == nil {
		errs = append(errs, errors.New("idrepo: Config.Keys is required"))
	}
	if cfg.MAC == nil {
		errs = append(errs, errors.New("idrepo: Config.MAC is required"))
	}
	r := &Repository{
		store:       cfg.Store,
		keys:        cfg.Keys,
		mac:         cfg.MAC,
		schema:      cfg.Schema,
		uinGen:      cfg.UINGen,
		vidGen:      cfg.VIDGen,
		vidPolicies: cfg.VIDPolicies,
		audit:       cfg.Audit,
		now:         cfg.Now,
		log:         cfg.Logger,
	}
	if r.schema == nil {
		r.schema = DefaultSchema()
	}
	var err error
	if r.uinGen == nil {
		if r.uinGen, err = idgen.New(idgen.DefaultUINRules(), nil); err != nil {
			errs = append(errs, err)
		}
	}
	if r.vidGen == nil {
		if r.vidGen, err = idgen.New(idgen.DefaultVIDRules(), nil); err != nil {
			errs = append(errs, err)
		}
	}
	if r.uinGen != nil && r.vidGen != nil {
		r.uinRules, r.vidRules = r.uinGen.Rules(), r.vidGen.Rules()
		if r.uinRules.Length == r.vidRules.Length {
			errs = append(errs, fmt.Errorf("idrepo: UINs and VIDs must differ in length, both are %d digits", r.uinRules.Length))
		}
	}
	if r.vidPolicies == nil {
		r.vidPolicies = DefaultVIDPolicies()
	}
	for typ, p := range r.vidPolicies {
		if err := p.validate(typ); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if r.now == nil {
		r.now = time.Now
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	if r.audit == nil {
		r.audit = NewAuditLog(cfg.Store, AuditOptions{Now: r.now, Logger: r.log})
		r.ownAudit = true
	}
	return r, nil
}

// Close stops the audit log if the repository made it, after writing the
// entries already submitted.
func (r *Repository) Close() error {
	if r.ownAudit {
		return r.audit.Close()
	}
	return nil
}

// AuditLog returns the audit log the repository writes to.
func (r *Repository) AuditLog() *AuditLog { return r.audit }

// Schema returns the identity schema.
func (r *Repository) Schema() *Schema { return r.schema }

// Resident is a resident's record as the repository shows it.
type Resident struct {
	UIN     string
	ID      string // internal id: the subject of audit entries and factors
	Status  string
	Version int64 // starts at 1, incremented by every change; the ETag is "v<Version>"
	// Identity is the identity data without the UIN (nil where the
	// operation does not return it).
	Identity  map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
}

// LogValue keeps the UIN and the identity out of logs.
func (r Resident) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", r.ID), slog.String("status", r.Status), slog.Int64("version", r.Version))
}

// String keeps the UIN and the identity out of formatted output.
func (r Resident) String() string {
	return fmt.Sprintf("resident %s (%s, version %d)", r.ID, r.Status, r.Version)
}

// maxIDAttempts bounds the retries after an issued UIN or VID turns out to
// be taken. With the default rules and a few million residents a retry is
// rare; many in a row mean the ID space is nearly full.
const maxIDAttempts = 16

// Create validates an identity, issues it a UIN and stores it sealed.
// Errors: invalid_identity, duplicate_handle.
func (r *Repository) Create(ctx context.Context, actor string, identity map[string]any) (Resident, error) {
	ident, ferrs := r.check(identity)
	if len(ferrs) > 0 {
		return Resident{}, invalidIdentity(ferrs)
	}
	now := r.clock()
	for range maxIDAttempts {
		uin, err := r.uinGen.Next()
		if err != nil {
			return Resident{}, errServer(err)
		}
		nr, err := r.sealNew(ctx, ident, uin, now)
		if err != nil {
			return Resident{}, errServer(err)
		}
		err = r.store.CreateResidents(ctx, []storage.NewResident{nr})
		if err == nil {
			if err := r.record(ctx, actor, "identity.create", nr.Resident.ID, "", nil); err != nil {
				return Resident{}, err
			}
			return residentOf(nr.Resident, uin, ident), nil
		}
		if !errors.Is(err, storage.ErrAlreadyExists) {
			return Resident{}, errServer(err)
		}
		fields, err := r.takenHandles(ctx, nr.Handles, "")
		if err != nil {
			return Resident{}, errServer(err)
		}
		if len(fields) > 0 {
			e := duplicateHandle(fields)
			return Resident{}, r.recordFailure(ctx, actor, "identity.create", "", e)
		}
		// The UIN (or, improbably, the internal id) is taken: draw again.
	}
	return Resident{}, errServer(fmt.Errorf("no free UIN after %d attempts: the UIN space is nearly full", maxIDAttempts))
}

// Get returns a resident's record. A UIN with a wrong check digit is
// rejected (invalid_uin) before any lookup. Errors: invalid_uin, not_found.
func (r *Repository) Get(ctx context.Context, actor, uin string) (Resident, error) {
	rec, err := r.residentByUIN(ctx, actor, "identity.read", uin)
	if err != nil {
		return Resident{}, err
	}
	full, _, err := r.openIdentity(ctx, rec)
	if err != nil {
		return Resident{}, errServer(err)
	}
	if err := r.record(ctx, actor, "identity.read", rec.ID, "", nil); err != nil {
		return Resident{}, err
	}
	return residentOf(rec, uin, withoutUIN(full)), nil
}

// Update applies an RFC 7396 merge patch to a resident's identity (a null
// member removes a field; arrays, such as multi-language fields, are
// replaced whole), validates the result and stores it, if the record is
// still at version ifMatch. Errors: invalid_uin, precondition_required
// (ifMatch < 1), not_found, version_mismatch, invalid_identity,
// duplicate_handle.
func (r *Repository) Update(ctx context.Context, actor, uin string, patch map[string]any, ifMatch int64) (Resident, error) {
	const action = "identity.update"
	if !r.uinRules.ValidChecksum(uin) {
		return Resident{}, errInvalidUIN()
	}
	if ifMatch < 1 {
		return Resident{}, newError(CodePreconditionRequired, "an update must name the version it changes (If-Match)")
	}
	if _, ok := patch[uinField]; ok {
		return Resident{}, invalidIdentity([]FieldError{{Field: "/" + uinField, Rule: "readOnly",
			Message: "the UIN is assigned by the repository and can't be set or changed"}})
	}
	rec, err := r.residentByUIN(ctx, actor, action, uin)
	if err != nil {
		return Resident{}, err
	}
	if rec.Version != ifMatch {
		return Resident{}, r.recordFailure(ctx, actor, action, rec.ID, errVersionMismatch(rec.Version))
	}
	full, dek, err := r.openIdentity(ctx, rec)
	if err != nil {
		return Resident{}, errServer(err)
	}
	ident, ferrs := r.check(mergePatch(withoutUIN(full), patch))
	if len(ferrs) > 0 {
		return Resident{}, invalidIdentity(ferrs)
	}
	handles, hfields, err := r.handles(ctx, ident, rec.ID)
	if err != nil {
		return Resident{}, errServer(err)
	}
	if len(hfields) > 0 {
		return Resident{}, invalidIdentity(hfields)
	}
	next := rec
	next.Version = rec.Version + 1
	next.UpdatedAt = r.clock()
	// The data key stays (the resident's VIDs are sealed under it too) but
	// is wrapped again, under the current wrapping key.
	if next.Sealed, next.KeyID, next.WrappedKey, err = r.sealIdentity(ctx, dek, rec.ID, ident, uin); err != nil {
		return Resident{}, errServer(err)
	}
	switch err := r.store.UpdateResident(ctx, next, handles); {
	case errors.Is(err, storage.ErrConflict):
		return Resident{}, r.recordFailure(ctx, actor, action, rec.ID, errVersionMismatch(0))
	case errors.Is(err, storage.ErrNotFound):
		return Resident{}, r.recordFailure(ctx, actor, action, rec.ID, errNotFound("identity"))
	case errors.Is(err, storage.ErrAlreadyExists):
		fields, ferr := r.takenHandles(ctx, handles, rec.ID)
		if ferr != nil {
			return Resident{}, errServer(ferr)
		}
		return Resident{}, r.recordFailure(ctx, actor, action, rec.ID, duplicateHandle(fields))
	case err != nil:
		return Resident{}, errServer(err)
	}
	if err := r.record(ctx, actor, action, rec.ID, "", nil); err != nil {
		return Resident{}, err
	}
	return residentOf(next, uin, ident), nil
}

// maxStatusAttempts bounds SetStatus's retries against concurrent writers.
const maxStatusAttempts = 8

// SetStatus changes a resident's status (ACTIVE, DEACTIVATED, BLOCKED);
// reason goes to the audit log and must hold no personal data. Deactivating
// a resident deactivates its active VIDs; activating it again reactivates
// them (those still unexpired and unused stay usable). The returned record
// has no Identity. Errors: invalid_request, invalid_uin, not_found.
func (r *Repository) SetStatus(ctx context.Context, actor, uin, status, reason string) (Resident, error) {
	const action = "identity.status"
	switch status {
	case StatusActive, StatusDeactivated, StatusBlocked:
	default:
		return Resident{}, newError(CodeInvalidRequest, "status must be ACTIVE, DEACTIVATED or BLOCKED")
	}
	if !r.uinRules.ValidChecksum(uin) {
		return Resident{}, errInvalidUIN()
	}
	for range maxStatusAttempts {
		rec, err := r.residentByUIN(ctx, actor, action, uin)
		if err != nil {
			return Resident{}, err
		}
		if rec.Status != status {
			next := rec
			next.Status = status
			next.Version = rec.Version + 1
			next.UpdatedAt = r.clock()
			err = r.store.UpdateResident(ctx, next, nil)
			if errors.Is(err, storage.ErrConflict) {
				continue // changed meanwhile: read it again
			}
			if errors.Is(err, storage.ErrNotFound) {
				return Resident{}, r.recordFailure(ctx, actor, action, rec.ID, errNotFound("identity"))
			}
			if err != nil {
				return Resident{}, errServer(err)
			}
			rec = next
		}
		if err := r.cascadeVIDStatus(ctx, rec.ID, status); err != nil {
			return Resident{}, errServer(err)
		}
		if err := r.record(ctx, actor, action, rec.ID, reason, nil); err != nil {
			return Resident{}, err
		}
		return residentOf(rec, uin, nil), nil
	}
	return Resident{}, errServer(errors.New("status change kept losing against concurrent updates"))
}

// residentByUIN checks a UIN's form, then reads its record; a miss is
// audited.
func (r *Repository) residentByUIN(ctx context.Context, actor, action, uin string) (storage.Resident, error) {
	if !r.uinRules.ValidChecksum(uin) {
		return storage.Resident{}, errInvalidUIN()
	}
	h, err := r.indexHash(ctx, KindUIN, uin)
	if err != nil {
		return storage.Resident{}, errServer(err)
	}
	rec, err := r.store.GetResidentByUIN(ctx, h)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.Resident{}, r.recordFailure(ctx, actor, action, "", errNotFound("identity"))
	}
	if err != nil {
		return storage.Resident{}, errServer(err)
	}
	return rec, nil
}

// check normalises the handles of an identity (phone to E.164 where it can
// be, e-mail to lower case) and validates it. The result is a new map.
func (r *Repository) check(identity map[string]any) (map[string]any, []FieldError) {
	if identity == nil {
		return nil, []FieldError{{Rule: "type", Message: "the identity must be a JSON object"}}
	}
	out := make(map[string]any, len(identity))
	for k, v := range identity {
		out[k] = v
	}
	if s, ok := out["phone"].(string); ok {
		if p, err := NormalizePhone(s); err == nil {
			out["phone"] = p
		}
	}
	if s, ok := out["email"].(string); ok {
		out["email"] = NormalizeEmail(s)
	}
	return out, r.schema.Validate(out)
}

// handles computes the index hashes of an identity's handles.
func (r *Repository) handles(ctx context.Context, ident map[string]any, residentID string) ([]storage.Handle, []FieldError, error) {
	hs := []storage.Handle{}
	var ferrs []FieldError
	for _, hf := range handleFields {
		s, ok := ident[hf.field].(string)
		if !ok {
			continue
		}
		v := NormalizeEmail(s)
		if hf.kind == KindPhone {
			p, err := NormalizePhone(s)
			if err != nil {
				ferrs = append(ferrs, FieldError{Field: "/" + hf.field, Rule: "e164", Message: err.Error()})
				continue
			}
			v = p
		}
		h, err := r.indexHash(ctx, hf.kind, v)
		if err != nil {
			return nil, nil, err
		}
		hs = append(hs, storage.Handle{Hash: h, Kind: hf.kind, ResidentID: residentID})
	}
	return hs, ferrs, nil
}

// takenHandles names the handles that belong to a resident other than
// self.
func (r *Repository) takenHandles(ctx context.Context, hs []storage.Handle, self string) ([]FieldError, error) {
	var fields []FieldError
	for _, h := range hs {
		id, err := r.store.ResolveHandle(ctx, h.Hash)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && id == self) {
			continue
		}
		if err != nil {
			return nil, err
		}
		fields = append(fields, handleTaken(h.Kind))
	}
	return fields, nil
}

func fieldOfKind(kind string) string {
	for _, hf := range handleFields {
		if hf.kind == kind {
			return hf.field
		}
	}
	return kind
}

// sealNew makes the record of a new resident: a fresh internal id and data
// key, the identity with its UIN sealed, and the index hashes.
func (r *Repository) sealNew(ctx context.Context, ident map[string]any, uin string, now time.Time) (storage.NewResident, error) {
	id := newResidentID()
	handles, ferrs, err := r.handles(ctx, ident, id)
	if err != nil {
		return storage.NewResident{}, err
	}
	if len(ferrs) > 0 {
		// check validated the handles already; this is a schema that
		// accepts phone numbers NormalizePhone does not.
		return storage.NewResident{}, invalidIdentity(ferrs)
	}
	uinHash, err := r.indexHash(ctx, KindUIN, uin)
	if err != nil {
		return storage.NewResident{}, err
	}
	sealed, kid, wrapped, err := r.sealIdentity(ctx, newDataKey(), id, ident, uin)
	if err != nil {
		return storage.NewResident{}, err
	}
	return storage.NewResident{
		Resident: storage.Resident{
			ID:         id,
			UINHash:    uinHash,
			Status:     StatusActive,
			Version:    1,
			Sealed:     sealed,
			KeyID:      kid,
			WrappedKey: wrapped,
			CreatedAt:  now,
			UpdatedAt:  now,
		},
		Handles: handles,
	}, nil
}

// sealIdentity seals the identity with its UIN under dek, bound to the
// resident's id, and wraps dek.
func (r *Repository) sealIdentity(ctx context.Context, dek []byte, id string, ident map[string]any, uin string) (sealed []byte, kid string, wrapped []byte, err error) {
	rec := make(map[string]any, len(ident)+1)
	for k, v := range ident {
		rec[k] = v
	}
	rec[uinField] = uin
	pt, err := json.Marshal(rec)
	if err != nil {
		return nil, "", nil, fmt.Errorf("idrepo: encode identity: %w", err)
	}
	if sealed, err = seal(dek, pt, identityAAD(id)); err != nil {
		return nil, "", nil, err
	}
	if kid, wrapped, err = r.keys.WrapKey(ctx, PurposeEncryption, dek); err != nil {
		return nil, "", nil, fmt.Errorf("idrepo: wrap data key: %w", err)
	}
	return sealed, kid, wrapped, nil
}

// openIdentity unwraps a record's data key and opens its identity (UIN
// included).
func (r *Repository) openIdentity(ctx context.Context, rec storage.Resident) (map[string]any, []byte, error) {
	dek, err := r.keys.UnwrapKey(ctx, PurposeEncryption, rec.KeyID, rec.WrappedKey)
	if err != nil {
		return nil, nil, fmt.Errorf("idrepo: unwrap data key: %w", err)
	}
	pt, err := open(dek, rec.Sealed, identityAAD(rec.ID))
	if err != nil {
		return nil, nil, err
	}
	d := json.NewDecoder(bytes.NewReader(pt))
	d.UseNumber()
	var ident map[string]any
	if err := d.Decode(&ident); err != nil {
		return nil, nil, fmt.Errorf("idrepo: decode identity: %w", err)
	}
	return ident, dek, nil
}

func (r *Repository) clock() time.Time {
	return r.now().UTC().Truncate(time.Microsecond)
}

func residentOf(rec storage.Resident, uin string, ident map[string]any) Resident {
	return Resident{
		UIN:       uin,
		ID:        rec.ID,
		Status:    rec.Status,
		Version:   rec.Version,
		Identity:  ident,
		CreatedAt: rec.CreatedAt.UTC(),
		UpdatedAt: rec.UpdatedAt.UTC(),
	}
}

// newResidentID returns a random internal id: 128 bits in hex.
func newResidentID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func invalidIdentity(fields []FieldError) *Error {
	e := newError(CodeInvalidIdentity, "the identity does not match the schema")
	e.Fields = fields
	return e
}

func duplicateHandle(fields []FieldError) *Error {
	e := newError(CodeDuplicateHandle, "a phone number or e-mail address is already registered to another resident")
	e.Fields = fields
	return e
}

func errInvalidUIN() *Error {
	return newError(CodeInvalidUIN, "not a valid UIN (wrong length, characters or check digit)")
}

func errVersionMismatch(current int64) *Error {
	if current > 0 {
		return newError(CodeVersionMismatch, fmt.Sprintf("the identity has changed: it is at version %d", current))
	}
	return newError(CodeVersionMismatch, "the identity has changed meanwhile")
}
