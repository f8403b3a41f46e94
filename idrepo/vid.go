package idrepo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// VID types of the default policies.
const (
	VIDPerpetual = "perpetual"
	VIDTemporary = "temporary"
)

// VID statuses.
const (
	VIDActive      = "ACTIVE"
	VIDRevoked     = "REVOKED"
	VIDExpired     = "EXPIRED"
	VIDUsed        = "USED"
	VIDDeactivated = "DEACTIVATED"
)

// VIDPolicy is the rule set of a VID type.
type VIDPolicy struct {
	// Validity is how long a VID lasts; zero means forever.
	Validity time.Duration
	// Uses is how many times a VID can be used (ResolveVID); zero means
	// without limit.
	Uses int64
	// MaxActive caps a resident's usable VIDs of the type; zero means no
	// cap.
	MaxActive int
	// ReplaceOldest makes a new VID beyond MaxActive revoke the oldest
	// active ones instead of failing with vid_limit_reached.
	ReplaceOldest bool
}

// DefaultVIDPolicies returns MOSIP's VID types: perpetual (no expiry,
// unlimited uses, one active: a new one revokes the previous) and temporary
// (30 minutes, 2 uses, up to 5 active).
func DefaultVIDPolicies() map[string]VIDPolicy {
	return map[string]VIDPolicy{
		VIDPerpetual: {MaxActive: 1, ReplaceOldest: true},
		VIDTemporary: {Validity: 30 * time.Minute, Uses: 2, MaxActive: 5},
	}
}

func (p VIDPolicy) validate(typ string) error {
	switch {
	case typ == "":
		return errors.New("idrepo: a VID type needs a name")
	case p.Validity < 0:
		return fmt.Errorf("idrepo: VID type %q: validity must not be negative", typ)
	case p.Uses < 0:
		return fmt.Errorf("idrepo: VID type %q: uses must not be negative", typ)
	case p.MaxActive < 0:
		return fmt.Errorf("idrepo: VID type %q: max active must not be negative", typ)
	case p.ReplaceOldest && p.MaxActive == 0:
		return fmt.Errorf("idrepo: VID type %q: replacing the oldest VID needs a max active count", typ)
	}
	return nil
}

// VIDInfo describes a VID.
type VIDInfo struct {
	VID       string
	Type      string
	Status    string // as of now: an ACTIVE VID past its expiry shows EXPIRED
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	UsesLeft  int64     // -1: unlimited
}

// LogValue keeps the VID out of logs.
func (v VIDInfo) LogValue() slog.Value {
	return slog.GroupValue(slog.String("type", v.Type), slog.String("status", v.Status))
}

// String keeps the VID out of formatted output.
func (v VIDInfo) String() string { return v.Type + " VID (" + v.Status + ")" }

// usable reports whether v can be used at now.
func usable(v storage.VID, now time.Time) bool {
	return v.Status == VIDActive && v.UsesLeft != 0 && (v.ExpiresAt.IsZero() || now.Before(v.ExpiresAt))
}

// effectiveStatus is v's status at now.
func effectiveStatus(v storage.VID, now time.Time) string {
	if v.Status == VIDActive && !v.ExpiresAt.IsZero() && !now.Before(v.ExpiresAt) {
		return VIDExpired
	}
	return v.Status
}

// CreateVID issues a VID of type typ to a resident, by its policy. Errors:
// invalid_request (unknown type), invalid_uin, not_found,
// identity_inactive, vid_limit_reached.
func (r *Repository) CreateVID(ctx context.Context, actor, uin, typ string) (VIDInfo, error) {
	const action = "vid.create"
	policy, ok := r.vidPolicies[typ]
	if !ok {
		return VIDInfo{}, newError(CodeInvalidRequest, "unknown VID type")
	}
	rec, err := r.residentByUIN(ctx, actor, action, uin)
	if err != nil {
		return VIDInfo{}, err
	}
	if rec.Status != StatusActive {
		return VIDInfo{}, r.recordFailure(ctx, actor, action, rec.ID,
			newError(CodeIdentityInactive, "the identity is not active"))
	}
	now := r.clock()
	var before []storage.VID // the usable VIDs of the type before this one
	if policy.MaxActive > 0 {
		if before, err = r.activeVIDs(ctx, rec.ID, typ, now); err != nil {
			return VIDInfo{}, errServer(err)
		}
		if !policy.ReplaceOldest && len(before) >= policy.MaxActive {
			return VIDInfo{}, r.recordFailure(ctx, actor, action, rec.ID, errVIDLimit(policy.MaxActive))
		}
	}
	dek, err := r.keys.UnwrapKey(ctx, PurposeEncryption, rec.KeyID, rec.WrappedKey)
	if err != nil {
		return VIDInfo{}, errServer(fmt.Errorf("idrepo: unwrap data key: %w", err))
	}
	v := storage.VID{ResidentID: rec.ID, Type: typ, Status: VIDActive, CreatedAt: now, UsesLeft: -1}
	if policy.Validity > 0 {
		v.ExpiresAt = now.Add(policy.Validity)
	}
	if policy.Uses > 0 {
		v.UsesLeft = policy.Uses
	}
	var vid string
	for attempt := 0; ; attempt++ {
		if attempt == maxIDAttempts {
			return VIDInfo{}, errServer(fmt.Errorf("no free VID after %d attempts", maxIDAttempts))
		}
		if vid, err = r.vidGen.Next(); err != nil {
			return VIDInfo{}, errServer(err)
		}
		if v.Hash, err = r.indexHash(ctx, KindVID, vid); err != nil {
			return VIDInfo{}, errServer(err)
		}
		if v.Sealed, err = seal(dek, []byte(vid), vidAAD(rec.ID, v.Hash)); err != nil {
			return VIDInfo{}, errServer(err)
		}
		err = r.store.CreateVID(ctx, v)
		if errors.Is(err, storage.ErrAlreadyExists) {
			continue
		}
		if err != nil {
			return VIDInfo{}, errServer(err)
		}
		break
	}
	if policy.MaxActive > 0 {
		// Enforce the cap now that the VID is stored: concurrent creations
		// all see each other here, oldest first, and agree on the outcome.
		if err := r.enforceVIDCap(ctx, rec.ID, typ, v.Hash, before, policy, now); err != nil {
			var e *Error
			if errors.As(err, &e) && e.Code == CodeVIDLimitReached {
				return VIDInfo{}, r.recordFailure(ctx, actor, action, rec.ID, e)
			}
			return VIDInfo{}, errServer(err)
		}
	}
	if err := r.record(ctx, actor, action, rec.ID, typ, nil); err != nil {
		return VIDInfo{}, err
	}
	return vidInfo(v, vid, now), nil
}

// activeVIDs returns a resident's usable VIDs of a type, oldest first. It
// marks ACTIVE VIDs found expired as EXPIRED on the way.
func (r *Repository) activeVIDs(ctx context.Context, residentID, typ string, now time.Time) ([]storage.VID, error) {
	vs, err := r.store.ListVIDs(ctx, residentID)
	if err != nil {
		return nil, err
	}
	var active []storage.VID
	for _, v := range vs {
		if v.Type != typ {
			continue
		}
		if usable(v, now) {
			active = append(active, v)
			continue
		}
		if v.Status == VIDActive && effectiveStatus(v, now) == VIDExpired {
			if err := r.store.SetVIDStatus(ctx, v.Hash, VIDExpired); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, err
			}
		}
	}
	return active, nil
}

// enforceVIDCap applies MaxActive after the VID with hash mine was stored.
// The VIDs older than mine are those that were usable before it was
// created (before) and those the store lists ahead of it (concurrent
// creations, ordered by creation time). With ReplaceOldest it revokes the
// oldest of them beyond the cap; without, it revokes mine if they fill the
// cap and returns vid_limit_reached. VIDs newer than mine are left to their
// own creators, so concurrent creations agree on the outcome.
func (r *Repository) enforceVIDCap(ctx context.Context, residentID, typ string, mine []byte, before []storage.VID, p VIDPolicy, now time.Time) error {
	active, err := r.activeVIDs(ctx, residentID, typ, now)
	if err != nil {
		return err
	}
	pos := slices.IndexFunc(active, func(v storage.VID) bool { return bytes.Equal(v.Hash, mine) })
	if pos < 0 {
		return nil // already replaced by a newer one
	}
	existed := make(map[string]bool, len(before))
	for _, v := range before {
		existed[string(v.Hash)] = true
	}
	var older, concurrent []storage.VID
	for i, v := range active {
		switch {
		case existed[string(v.Hash)]:
			older = append(older, v)
		case i < pos:
			concurrent = append(concurrent, v)
		}
	}
	older = append(older, concurrent...) // oldest first
	if p.ReplaceOldest {
		for _, v := range older[:max(0, len(older)-(p.MaxActive-1))] {
			if err := r.store.SetVIDStatus(ctx, v.Hash, VIDRevoked); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		return nil
	}
	if len(older) >= p.MaxActive {
		if err := r.store.SetVIDStatus(ctx, mine, VIDRevoked); err != nil {
			return err
		}
		return errVIDLimit(p.MaxActive)
	}
	return nil
}

// ListVIDs returns a resident's VIDs, oldest first. Errors: invalid_uin,
// not_found.
func (r *Repository) ListVIDs(ctx context.Context, actor, uin string) ([]VIDInfo, error) {
	const action = "vid.list"
	rec, err := r.residentByUIN(ctx, actor, action, uin)
	if err != nil {
		return nil, err
	}
	vs, err := r.store.ListVIDs(ctx, rec.ID)
	if err != nil {
		return nil, errServer(err)
	}
	out := make([]VIDInfo, 0, len(vs))
	if len(vs) > 0 {
		dek, err := r.keys.UnwrapKey(ctx, PurposeEncryption, rec.KeyID, rec.WrappedKey)
		if err != nil {
			return nil, errServer(fmt.Errorf("idrepo: unwrap data key: %w", err))
		}
		now := r.clock()
		for _, v := range vs {
			vid, err := open(dek, v.Sealed, vidAAD(rec.ID, v.Hash))
			if err != nil {
				return nil, errServer(err)
			}
			out = append(out, vidInfo(v, string(vid), now))
		}
	}
	if err := r.record(ctx, actor, action, rec.ID, "", nil); err != nil {
		return nil, err
	}
	return out, nil
}

// RevokeVID revokes a VID. Revoking a VID that is no longer active
// (revoked, expired, used or deactivated) changes nothing and is not an
// error. Errors: invalid_vid, not_found.
func (r *Repository) RevokeVID(ctx context.Context, actor, vid string) error {
	const action = "vid.revoke"
	v, err := r.vidByNumber(ctx, actor, action, vid)
	if err != nil {
		return err
	}
	if v.Status == VIDActive {
		err := r.store.SetVIDStatus(ctx, v.Hash, VIDRevoked)
		if errors.Is(err, storage.ErrNotFound) {
			return r.recordFailure(ctx, actor, action, v.ResidentID, errNotFound("VID"))
		}
		if err != nil {
			return errServer(err)
		}
	}
	return r.record(ctx, actor, action, v.ResidentID, "", nil)
}

// vidByNumber checks a VID's form, then reads it; a miss is audited.
func (r *Repository) vidByNumber(ctx context.Context, actor, action, vid string) (storage.VID, error) {
	if !r.vidRules.ValidChecksum(vid) {
		return storage.VID{}, errInvalidVID()
	}
	h, err := r.indexHash(ctx, KindVID, vid)
	if err != nil {
		return storage.VID{}, errServer(err)
	}
	v, err := r.store.GetVID(ctx, h)
	if errors.Is(err, storage.ErrNotFound) {
		return storage.VID{}, r.recordFailure(ctx, actor, action, "", errNotFound("VID"))
	}
	if err != nil {
		return storage.VID{}, errServer(err)
	}
	return v, nil
}

// cascadeVIDStatus follows a resident's status: deactivation deactivates
// its active VIDs, reactivation reactivates them.
func (r *Repository) cascadeVIDStatus(ctx context.Context, residentID, status string) error {
	from, to := VIDActive, VIDDeactivated
	switch status {
	case StatusDeactivated:
	case StatusActive:
		from, to = VIDDeactivated, VIDActive
	default:
		return nil
	}
	vs, err := r.store.ListVIDs(ctx, residentID)
	if err != nil {
		return err
	}
	for _, v := range vs {
		if v.Status != from {
			continue
		}
		if err := r.store.SetVIDStatus(ctx, v.Hash, to); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
	}
	return nil
}

func vidInfo(v storage.VID, vid string, now time.Time) VIDInfo {
	return VIDInfo{
		VID:       vid,
		Type:      v.Type,
		Status:    effectiveStatus(v, now),
		CreatedAt: v.CreatedAt.UTC(),
		ExpiresAt: v.ExpiresAt.UTC(),
		UsesLeft:  v.UsesLeft,
	}
}

func errVIDLimit(n int) *Error {
	return newError(CodeVIDLimitReached, fmt.Sprintf("the resident already has %d active VIDs of this type", n))
}

func errInvalidVID() *Error {
	return newError(CodeInvalidVID, "not a valid VID (wrong length, characters or check digit)")
}
