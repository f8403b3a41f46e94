package storagetest

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// idrepoCases are RunDurable's cases for storage.Residents, storage.Audit
// and storage.Factors that may run in parallel with the others.
var idrepoCases = []struct {
	name string
	test func(t *testing.T, d storage.Durable)
}{
	{"CreateResidents then get and resolve", testCreateResidents},
	{"CreateResidents of none", testCreateResidentsNone},
	{"CreateResidents with a taken key stores none", testCreateResidentsTaken},
	{"CreateResidents of a large batch", testCreateResidentsLarge},
	{"resident times and bytes round-trip", testResidentRoundTrip},
	{"resident lookups of unknown keys", testResidentsMissing},
	{"UpdateResident", testUpdateResident},
	{"UpdateResident failures change nothing", testUpdateResidentFails},
	{"UpdateResident moves handles", testMoveHandles},
	{"CreateVID, GetVID and ListVIDs", testVIDs},
	{"CreateVID failures", testCreateVIDFails},
	{"SetVIDStatus", testSetVIDStatus},
	{"UseVID", testUseVID},
	{"AppendAudit then ListAudit", testAudit},
	{"AppendAudit with a bad seal stores nothing", testAuditBadSeal},
	{"audit times and texts round-trip", testAuditRoundTrip},
	{"PutFactor and GetFactor", testFactors},
}

// runIDRepoConcurrent runs the concurrency cases of the ID repository's
// records, one at a time, each on a store of its own.
func runIDRepoConcurrent(t *testing.T, open func(t *testing.T) storage.Durable) {
	t.Run("concurrent UseVID of a VID with 2 uses", func(t *testing.T) { testConcurrentUseVID(t, open(t)) })
	t.Run("concurrent UseVID of an unlimited VID", func(t *testing.T) { testConcurrentUseVIDUnlimited(t, open(t)) })
	t.Run("concurrent AppendAudit", func(t *testing.T) { testConcurrentAppendAudit(t, open(t)) })
	t.Run("concurrent UpdateResident from one version", func(t *testing.T) { testConcurrentUpdateResident(t, open(t)) })
	t.Run("concurrent UpdateResident claiming one handle", func(t *testing.T) { testConcurrentClaimHandle(t, open(t)) })
	t.Run("concurrent CreateResidents of one UIN", func(t *testing.T) { testConcurrentCreateResidentSame(t, open(t)) })
	t.Run("concurrent CreateResidents of distinct residents", func(t *testing.T) { testConcurrentCreateResidents(t, open(t)) })
}

// hashOf stands in for a keyed hash of an identifier.
func hashOf(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// newResident returns a resident with every field set and a phone and an
// e-mail handle, created at t0.
func newResident(id string) storage.NewResident {
	return storage.NewResident{
		Resident: storage.Resident{
			ID:         id,
			UINHash:    hashOf("uin:" + id),
			Status:     "ACTIVE",
			Version:    1,
			Sealed:     []byte("sealed identity of " + id),
			KeyID:      "pii-encryption-1",
			WrappedKey: []byte("wrapped key of " + id),
			CreatedAt:  t0,
			UpdatedAt:  t0,
		},
		Handles: []storage.Handle{
			{Hash: hashOf("phone:" + id), Kind: "phone", ResidentID: id},
			{Hash: hashOf("email:" + id), Kind: "email", ResidentID: id},
		},
	}
}

func handleHashes(hs []storage.Handle) [][]byte {
	out := make([][]byte, 0, len(hs))
	for _, h := range hs {
		out = append(out, h.Hash)
	}
	return out
}

// fields collects how a record differs from what it should be.
type fields []string

func (f *fields) str(name, got, want string) {
	if got != want {
		*f = append(*f, fmt.Sprintf("%s %q, want %q", name, got, want))
	}
}

func (f *fields) int(name string, got, want int64) {
	if got != want {
		*f = append(*f, fmt.Sprintf("%s %d, want %d", name, got, want))
	}
}

// bytes compares byte strings; nil and empty are equal.
func (f *fields) bytes(name string, got, want []byte) {
	if !bytes.Equal(got, want) {
		*f = append(*f, fmt.Sprintf("%s %x, want %x", name, got, want))
	}
}

// time compares got with want as a backend stores it: the same instant to
// the microsecond, in UTC unless zero.
func (f *fields) time(name string, got, want time.Time) {
	if !want.IsZero() {
		want = want.Truncate(time.Microsecond)
	}
	switch {
	case !got.Equal(want) || got.IsZero() != want.IsZero():
		*f = append(*f, fmt.Sprintf("%s %v, want %v", name, got, want))
	case !got.IsZero() && got.Location() != time.UTC:
		*f = append(*f, fmt.Sprintf("%s in %v, want UTC", name, got.Location()))
	}
}

func (f fields) String() string { return strings.Join(f, "; ") }

func diffResident(got, want storage.Resident) string {
	var f fields
	f.str("ID", got.ID, want.ID)
	f.bytes("UINHash", got.UINHash, want.UINHash)
	f.str("Status", got.Status, want.Status)
	f.int("Version", got.Version, want.Version)
	f.bytes("Sealed", got.Sealed, want.Sealed)
	f.str("KeyID", got.KeyID, want.KeyID)
	f.bytes("WrappedKey", got.WrappedKey, want.WrappedKey)
	f.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	f.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return f.String()
}

func diffVID(got, want storage.VID) string {
	var f fields
	f.bytes("Hash", got.Hash, want.Hash)
	f.str("ResidentID", got.ResidentID, want.ResidentID)
	f.str("Type", got.Type, want.Type)
	f.str("Status", got.Status, want.Status)
	f.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	f.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	f.int("UsesLeft", got.UsesLeft, want.UsesLeft)
	f.bytes("Sealed", got.Sealed, want.Sealed)
	return f.String()
}

func diffAudit(got, want storage.AuditEntry) string {
	var f fields
	f.int("Seq", got.Seq, want.Seq)
	f.time("Time", got.Time, want.Time)
	f.str("Actor", got.Actor, want.Actor)
	f.str("Action", got.Action, want.Action)
	f.str("Subject", got.Subject, want.Subject)
	f.str("Reason", got.Reason, want.Reason)
	f.str("RequestID", got.RequestID, want.RequestID)
	f.str("Outcome", got.Outcome, want.Outcome)
	f.bytes("PrevHash", got.PrevHash, want.PrevHash)
	f.bytes("Hash", got.Hash, want.Hash)
	if (got.Seq == 1) != (got.PrevHash == nil) {
		f = append(f, fmt.Sprintf("PrevHash %x for Seq %d, want nil exactly for Seq 1", got.PrevHash, got.Seq))
	}
	return f.String()
}

func diffFactor(got, want storage.FactorSecret) string {
	var f fields
	f.str("ResidentID", got.ResidentID, want.ResidentID)
	f.str("Kind", got.Kind, want.Kind)
	f.str("Hash", got.Hash, want.Hash)
	f.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return f.String()
}

func mustCreateResidents(t *testing.T, d storage.Durable, rs ...storage.NewResident) {
	t.Helper()
	if err := d.CreateResidents(t.Context(), rs); err != nil {
		t.Fatalf("CreateResidents(%d residents) = %v, want nil", len(rs), err)
	}
}

// checkResident checks that want is stored, found by id and by UIN hash.
func checkResident(t *testing.T, d storage.Durable, want storage.Resident) {
	t.Helper()
	got, err := d.GetResident(t.Context(), want.ID)
	if err != nil {
		t.Errorf("GetResident(%q) = %v, want nil error", want.ID, err)
	} else if diff := diffResident(got, want); diff != "" {
		t.Errorf("GetResident(%q): %s", want.ID, diff)
	}
	got, err = d.GetResidentByUIN(t.Context(), want.UINHash)
	if err != nil {
		t.Errorf("GetResidentByUIN(%x) = %v, want nil error", want.UINHash, err)
	} else if diff := diffResident(got, want); diff != "" {
		t.Errorf("GetResidentByUIN(%x): %s", want.UINHash, diff)
	}
}

// checkNoResident checks that neither id nor uinHash finds a resident.
func checkNoResident(t *testing.T, d storage.Durable, id string, uinHash []byte) {
	t.Helper()
	if r, err := d.GetResident(t.Context(), id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetResident(%q) = %q, %v, want %v", id, r.ID, err, storage.ErrNotFound)
	}
	if r, err := d.GetResidentByUIN(t.Context(), uinHash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetResidentByUIN(%x) = %q, %v, want %v", uinHash, r.ID, err, storage.ErrNotFound)
	}
}

// checkHandles checks that each handle hash resolves to residentID, or to
// nothing when residentID is "".
func checkHandles(t *testing.T, d storage.Durable, residentID string, hashes ...[]byte) {
	t.Helper()
	for _, h := range hashes {
		got, err := d.ResolveHandle(t.Context(), h)
		switch {
		case residentID == "" && !errors.Is(err, storage.ErrNotFound):
			t.Errorf("ResolveHandle(%x) = %q, %v, want %v", h, got, err, storage.ErrNotFound)
		case residentID != "" && (got != residentID || err != nil):
			t.Errorf("ResolveHandle(%x) = %q, %v, want %q, nil", h, got, err, residentID)
		}
	}
}

func testCreateResidents(t *testing.T, d storage.Durable) {
	a, b, c := newResident("a"), newResident("b"), newResident("no-handles")
	c.Handles = nil
	// A handle is stored as its resident's, whatever its ResidentID says.
	b.Handles[1].ResidentID = "someone else"
	mustCreateResidents(t, d, a, b, c)
	for _, r := range []storage.NewResident{a, b, c} {
		checkResident(t, d, r.Resident)
		checkHandles(t, d, r.Resident.ID, handleHashes(r.Handles)...)
	}
	mustCreateResidents(t, d, newResident("later"))
	checkResident(t, d, newResident("later").Resident)
}

func testCreateResidentsNone(t *testing.T, d storage.Durable) {
	for _, rs := range [][]storage.NewResident{nil, {}} {
		if err := d.CreateResidents(t.Context(), rs); err != nil {
			t.Errorf("CreateResidents(%#v) = %v, want nil", rs, err)
		}
	}
}

func testCreateResidentsTaken(t *testing.T, d storage.Durable) {
	stored := newResident("stored")
	mustCreateResidents(t, d, stored)
	tests := []struct {
		name string
		// bad returns a resident that clashes with stored or with good,
		// which comes before it in the batch.
		bad func(good storage.NewResident) storage.NewResident
	}{
		{"taken id", func(storage.NewResident) storage.NewResident {
			r := newResident("bad-id")
			r.Resident.ID = stored.Resident.ID
			r.Handles = nil
			return r
		}},
		{"taken UIN hash", func(storage.NewResident) storage.NewResident {
			r := newResident("bad-uin")
			r.Resident.UINHash = stored.Resident.UINHash
			return r
		}},
		{"taken handle", func(storage.NewResident) storage.NewResident {
			r := newResident("bad-handle")
			r.Handles[1].Hash = stored.Handles[0].Hash
			return r
		}},
		{"id twice in the batch", func(good storage.NewResident) storage.NewResident {
			r := newResident("bad-id2")
			r.Resident.ID = good.Resident.ID
			r.Handles = nil
			return r
		}},
		{"UIN hash twice in the batch", func(good storage.NewResident) storage.NewResident {
			r := newResident("bad-uin2")
			r.Resident.UINHash = good.Resident.UINHash
			return r
		}},
		{"handle twice in the batch", func(good storage.NewResident) storage.NewResident {
			r := newResident("bad-handle2")
			r.Handles[0].Hash = good.Handles[1].Hash
			return r
		}},
		{"handle twice for one resident", func(storage.NewResident) storage.NewResident {
			r := newResident("bad-handle3")
			r.Handles[1].Hash = r.Handles[0].Hash
			return r
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := newResident(fmt.Sprintf("good-%d", i))
			bad := tt.bad(good)
			after := newResident(fmt.Sprintf("after-%d", i))
			err := d.CreateResidents(t.Context(), []storage.NewResident{good, bad, after})
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Fatalf("CreateResidents(good, %s, after) = %v, want %v", tt.name, err, storage.ErrAlreadyExists)
			}
			for _, r := range []storage.NewResident{good, after} {
				checkNoResident(t, d, r.Resident.ID, r.Resident.UINHash)
				checkHandles(t, d, "", handleHashes(r.Handles)...)
			}
			if bad.Resident.ID != stored.Resident.ID && bad.Resident.ID != good.Resident.ID {
				checkNoResident(t, d, bad.Resident.ID, hashOf("uin:"+bad.Resident.ID))
			}
		})
	}
	checkResident(t, d, stored.Resident)
	checkHandles(t, d, stored.Resident.ID, handleHashes(stored.Handles)...)
}

func testCreateResidentsLarge(t *testing.T, d storage.Durable) {
	// More rows than one statement of a backend's batching holds, so that
	// a batch spans several.
	const n = 1234
	batch := make([]storage.NewResident, n)
	for i := range batch {
		batch[i] = newResident(fmt.Sprintf("r%05d", i))
	}
	mustCreateResidents(t, d, batch...)
	// Check the rows on both sides of every multiple of 50 (where a
	// backend's chunks of the batch are likely to begin and end), the last
	// row and a sample between.
	for i, r := range batch {
		if i%50 != 0 && i%50 != 49 && i%37 != 0 && i != n-1 {
			continue
		}
		checkResident(t, d, r.Resident)
		checkHandles(t, d, r.Resident.ID, handleHashes(r.Handles)...)
		if t.Failed() {
			return
		}
	}

	// The same again with a clash in the last row: none is stored.
	for i := range batch {
		batch[i] = newResident(fmt.Sprintf("s%05d", i))
	}
	batch[n-1].Handles[1].Hash = batch[0].Handles[0].Hash
	if err := d.CreateResidents(t.Context(), batch); !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("CreateResidents(%d residents, last handle taken) = %v, want %v", n, err, storage.ErrAlreadyExists)
	}
	for _, i := range []int{0, n / 2, n - 2} {
		checkNoResident(t, d, batch[i].Resident.ID, batch[i].Resident.UINHash)
		checkHandles(t, d, "", handleHashes(batch[i].Handles)...)
	}
}

func testResidentRoundTrip(t *testing.T, d storage.Durable) {
	riyadh := time.FixedZone("AST", 3*60*60)
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name               string
		created, updated   time.Time
		sealed, wrappedKey []byte
	}{
		{"nanoseconds truncated", time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC), t0, []byte("s"), []byte("w")},
		{"other zone", time.Date(2025, 3, 1, 15, 0, 0, 999, riyadh), time.Now(), []byte("s"), []byte("w")},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC), time.Time{}, []byte("s"), []byte("w")},
		{"zero times", time.Time{}, time.Time{}, []byte("s"), []byte("w")},
		{"every byte value", t0, t0, all, all},
		{"nil bytes", t0, t0, nil, nil},
		{"large", t0, t0, bytes.Repeat(all, 512), bytes.Repeat([]byte{0}, 1024)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newResident(fmt.Sprintf("r%d", i))
			r.Resident.CreatedAt, r.Resident.UpdatedAt = tt.created, tt.updated
			r.Resident.Sealed, r.Resident.WrappedKey = tt.sealed, tt.wrappedKey
			mustCreateResidents(t, d, r)
			checkResident(t, d, r.Resident)
		})
	}
}

func testResidentsMissing(t *testing.T, d storage.Durable) {
	stored := newResident("stored")
	mustCreateResidents(t, d, stored)
	checkNoResident(t, d, "missing", hashOf("uin:missing"))
	checkNoResident(t, d, "", nil)
	// A UIN hash is not a handle, nor a handle hash a UIN hash.
	checkHandles(t, d, "", hashOf("phone:missing"), stored.Resident.UINHash, nil)
	if r, err := d.GetResidentByUIN(t.Context(), stored.Handles[0].Hash); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetResidentByUIN(a handle hash) = %q, %v, want %v", r.ID, err, storage.ErrNotFound)
	}
}

func testUpdateResident(t *testing.T, d storage.Durable) {
	nr := newResident("r")
	other := newResident("other")
	mustCreateResidents(t, d, nr, other)
	ctx := t.Context()

	// Without handles: the record changes, the handles stay. ID, UIN hash
	// and CreatedAt are not the update's to change.
	upd := storage.Resident{
		ID:         "r",
		UINHash:    hashOf("another UIN"),
		Status:     "BLOCKED",
		Version:    2,
		Sealed:     []byte("sealed v2"),
		KeyID:      "pii-encryption-2",
		WrappedKey: []byte("wrapped v2"),
		CreatedAt:  t0.Add(time.Hour),
		UpdatedAt:  t0.Add(time.Minute + time.Nanosecond),
	}
	if err := d.UpdateResident(ctx, upd, nil); err != nil {
		t.Fatalf("UpdateResident(version 2, nil handles) = %v, want nil", err)
	}
	want := upd
	want.UINHash, want.CreatedAt = nr.Resident.UINHash, nr.Resident.CreatedAt
	checkResident(t, d, want)
	checkHandles(t, d, "r", handleHashes(nr.Handles)...)

	// With handles: they replace the old ones, keeping one of them.
	handles := []storage.Handle{
		{Hash: nr.Handles[1].Hash, Kind: "email"},
		{Hash: hashOf("phone:r:new"), Kind: "phone", ResidentID: "ignored"},
	}
	upd.Version, upd.Status = 3, "ACTIVE"
	if err := d.UpdateResident(ctx, upd, handles); err != nil {
		t.Fatalf("UpdateResident(version 3, 2 handles) = %v, want nil", err)
	}
	want.Version, want.Status = 3, "ACTIVE"
	checkResident(t, d, want)
	checkHandles(t, d, "r", handleHashes(handles)...)
	checkHandles(t, d, "", nr.Handles[0].Hash)

	// Empty handles remove them all.
	upd.Version = 4
	if err := d.UpdateResident(ctx, upd, []storage.Handle{}); err != nil {
		t.Fatalf("UpdateResident(version 4, no handles) = %v, want nil", err)
	}
	want.Version = 4
	checkResident(t, d, want)
	checkHandles(t, d, "", handleHashes(handles)...)

	// The other resident is untouched throughout.
	checkResident(t, d, other.Resident)
	checkHandles(t, d, "other", handleHashes(other.Handles)...)
}

func testUpdateResidentFails(t *testing.T, d storage.Durable) {
	r, other := newResident("r"), newResident("other")
	mustCreateResidents(t, d, r, other)
	// Move r to version 2 so that both older and newer versions are stale.
	v2 := r.Resident
	v2.Version, v2.Sealed = 2, []byte("sealed v2")
	if err := d.UpdateResident(t.Context(), v2, nil); err != nil {
		t.Fatalf("UpdateResident(version 2) = %v, want nil", err)
	}
	next := func(version int64) storage.Resident {
		n := v2
		n.Version, n.Sealed, n.Status = version, []byte("must not be stored"), "DEACTIVATED"
		return n
	}
	tests := []struct {
		name    string
		r       storage.Resident
		handles []storage.Handle
		want    error
	}{
		{name: "same version", r: next(2), want: storage.ErrConflict},
		{name: "older version", r: next(1), want: storage.ErrConflict},
		{name: "version skipped", r: next(4), want: storage.ErrConflict},
		{name: "zero version", r: next(0), want: storage.ErrConflict},
		{name: "stale version with handles", r: next(2), handles: []storage.Handle{{Hash: hashOf("new"), Kind: "phone"}},
			want: storage.ErrConflict},
		{name: "unknown resident", r: func() storage.Resident { n := next(3); n.ID = "missing"; return n }(),
			want: storage.ErrNotFound},
		{name: "handle of another resident", r: next(3),
			handles: []storage.Handle{{Hash: hashOf("new"), Kind: "phone"}, {Hash: other.Handles[1].Hash, Kind: "email"}},
			want:    storage.ErrAlreadyExists},
		{name: "handle twice", r: next(3),
			handles: []storage.Handle{{Hash: hashOf("new"), Kind: "phone"}, {Hash: hashOf("new"), Kind: "email"}},
			want:    storage.ErrAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.UpdateResident(t.Context(), tt.r, tt.handles)
			if !errors.Is(err, tt.want) {
				t.Errorf("UpdateResident(%q, version %d) = %v, want %v", tt.r.ID, tt.r.Version, err, tt.want)
			}
			checkResident(t, d, v2)
			checkHandles(t, d, "r", handleHashes(r.Handles)...)
			checkHandles(t, d, "other", handleHashes(other.Handles)...)
			checkHandles(t, d, "", hashOf("new"))
		})
	}
}

func testMoveHandles(t *testing.T, d storage.Durable) {
	a, b := newResident("a"), newResident("b")
	mustCreateResidents(t, d, a, b)
	ctx := t.Context()
	phone := a.Handles[0]

	// b cannot take a's phone while a has it.
	b2 := b.Resident
	b2.Version = 2
	err := d.UpdateResident(ctx, b2, []storage.Handle{phone})
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Fatalf("UpdateResident(b, a's phone) = %v, want %v", err, storage.ErrAlreadyExists)
	}
	checkResident(t, d, b.Resident)

	// Once a lets go of it, b can.
	a2 := a.Resident
	a2.Version = 2
	if err := d.UpdateResident(ctx, a2, a.Handles[1:]); err != nil {
		t.Fatalf("UpdateResident(a without its phone) = %v, want nil", err)
	}
	checkHandles(t, d, "", phone.Hash)
	if err := d.UpdateResident(ctx, b2, append(slices.Clone(b.Handles), phone)); err != nil {
		t.Fatalf("UpdateResident(b, a's old phone) = %v, want nil", err)
	}
	checkHandles(t, d, "b", phone.Hash, b.Handles[0].Hash, b.Handles[1].Hash)
	checkHandles(t, d, "a", a.Handles[1].Hash)

	// And back again.
	b2.Version, a2.Version = 3, 3
	if err := d.UpdateResident(ctx, b2, b.Handles); err != nil {
		t.Fatalf("UpdateResident(b without the phone) = %v, want nil", err)
	}
	if err := d.UpdateResident(ctx, a2, a.Handles); err != nil {
		t.Fatalf("UpdateResident(a with its phone) = %v, want nil", err)
	}
	checkHandles(t, d, "a", handleHashes(a.Handles)...)
	checkHandles(t, d, "b", handleHashes(b.Handles)...)
}

// newVID returns an active VID of a resident with every field set,
// created at t0 plus minutes.
func newVID(name, residentID string, minutes int) storage.VID {
	created := t0.Add(time.Duration(minutes) * time.Minute)
	return storage.VID{
		Hash:       hashOf("vid:" + name),
		ResidentID: residentID,
		Type:       "temporary",
		Status:     "ACTIVE",
		CreatedAt:  created,
		ExpiresAt:  created.Add(30 * time.Minute),
		UsesLeft:   2,
		Sealed:     []byte("sealed VID " + name),
	}
}

func mustCreateVID(t *testing.T, d storage.Durable, vids ...storage.VID) {
	t.Helper()
	for _, v := range vids {
		if err := d.CreateVID(t.Context(), v); err != nil {
			t.Fatalf("CreateVID(%x) = %v, want nil", v.Hash, err)
		}
	}
}

func checkVID(t *testing.T, d storage.Durable, want storage.VID) {
	t.Helper()
	got, err := d.GetVID(t.Context(), want.Hash)
	if err != nil {
		t.Errorf("GetVID(%x) = %v, want nil error", want.Hash, err)
	} else if diff := diffVID(got, want); diff != "" {
		t.Errorf("GetVID(%x): %s", want.Hash, diff)
	}
}

func checkVIDs(t *testing.T, d storage.Durable, residentID string, want []storage.VID) {
	t.Helper()
	got, err := d.ListVIDs(t.Context(), residentID)
	if err != nil {
		t.Errorf("ListVIDs(%q) = %v, want nil error", residentID, err)
		return
	}
	sealed := func(vs []storage.VID) []string {
		out := []string{}
		for _, v := range vs {
			out = append(out, string(v.Sealed))
		}
		return out
	}
	if !slices.Equal(sealed(got), sealed(want)) {
		t.Errorf("ListVIDs(%q) = %q, want %q", residentID, sealed(got), sealed(want))
		return
	}
	for i := range got {
		if diff := diffVID(got[i], want[i]); diff != "" {
			t.Errorf("ListVIDs(%q)[%d]: %s", residentID, i, diff)
		}
	}
}

func testVIDs(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"), newResident("b"))
	perpetual := newVID("perpetual", "a", 10)
	perpetual.Type, perpetual.ExpiresAt, perpetual.UsesLeft = "perpetual", time.Time{}, -1
	riyadh := time.FixedZone("AST", 3*60*60)
	odd := newVID("odd times", "a", 0)
	odd.CreatedAt = time.Date(2025, 3, 1, 14, 0, 0, 123456789, riyadh) // t0 - 1h, to the nanosecond
	odd.ExpiresAt = time.Now()
	// Created out of order; the ties at the same instant, the one with the
	// greater hash first.
	ties := []storage.VID{newVID("tie-1", "a", 5), newVID("tie-2", "a", 5)}
	slices.SortFunc(ties, func(a, b storage.VID) int { return bytes.Compare(a.Hash, b.Hash) })
	ofB := newVID("of b", "b", 1)
	ofB.Status = "REVOKED"
	mustCreateVID(t, d, perpetual, ties[1], ofB, odd, ties[0])

	for _, v := range []storage.VID{perpetual, odd, ties[0], ties[1], ofB} {
		checkVID(t, d, v)
	}
	checkVIDs(t, d, "a", []storage.VID{odd, ties[0], ties[1], perpetual})
	checkVIDs(t, d, "b", []storage.VID{ofB})
	checkVIDs(t, d, "missing", nil)
	if v, err := d.GetVID(t.Context(), hashOf("vid:missing")); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetVID(missing) = %x, %v, want %v", v.Hash, err, storage.ErrNotFound)
	}
}

func testCreateVIDFails(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"), newResident("b"))
	stored := newVID("v", "a", 0)
	mustCreateVID(t, d, stored)
	tests := []struct {
		name string
		vid  storage.VID
		want error
	}{
		{"same VID", stored, storage.ErrAlreadyExists},
		{"taken hash, other resident", func() storage.VID { v := newVID("w", "b", 1); v.Hash = stored.Hash; return v }(),
			storage.ErrAlreadyExists},
		{"unknown resident", newVID("x", "missing", 2), storage.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.CreateVID(t.Context(), tt.vid); !errors.Is(err, tt.want) {
				t.Errorf("CreateVID(%x of %q) = %v, want %v", tt.vid.Hash, tt.vid.ResidentID, err, tt.want)
			}
		})
	}
	checkVIDs(t, d, "a", []storage.VID{stored})
	checkVIDs(t, d, "b", nil)
	checkVIDs(t, d, "missing", nil)
}

func testSetVIDStatus(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"))
	v, other := newVID("v", "a", 0), newVID("other", "a", 1)
	mustCreateVID(t, d, v, other)
	for _, status := range []string{"REVOKED", "DEACTIVATED", "ACTIVE"} {
		if err := d.SetVIDStatus(t.Context(), v.Hash, status); err != nil {
			t.Fatalf("SetVIDStatus(v, %q) = %v, want nil", status, err)
		}
		v.Status = status
		checkVID(t, d, v)
	}
	err := d.SetVIDStatus(t.Context(), hashOf("vid:missing"), "REVOKED")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetVIDStatus(missing) = %v, want %v", err, storage.ErrNotFound)
	}
	checkVIDs(t, d, "a", []storage.VID{v, other})
}

func testUseVID(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"))
	now := t0.Add(10 * time.Minute)
	// use is one UseVID at now: the VID it should return, or a zero
	// Status for storage.ErrNotFound.
	type use struct {
		status string
		left   int64
	}
	tests := []struct {
		name   string
		change func(v *storage.VID)
		uses   []use
	}{
		{"two uses", func(v *storage.VID) {}, []use{{"ACTIVE", 1}, {"USED", 0}, {}}},
		{"one use", func(v *storage.VID) { v.UsesLeft = 1 }, []use{{"USED", 0}, {}}},
		{"unlimited", func(v *storage.VID) { v.UsesLeft = -1 }, []use{{"ACTIVE", -1}, {"ACTIVE", -1}, {"ACTIVE", -1}}},
		{"never expires", func(v *storage.VID) { v.ExpiresAt = time.Time{}; v.CreatedAt = t0.Add(-time.Hour * 1e5) },
			[]use{{"ACTIVE", 1}}},
		{"expires just after now", func(v *storage.VID) { v.ExpiresAt = now.Add(time.Microsecond) }, []use{{"ACTIVE", 1}}},
		{"expires at now", func(v *storage.VID) { v.ExpiresAt = now }, []use{{}}},
		{"expired", func(v *storage.VID) { v.ExpiresAt = now.Add(-time.Minute) }, []use{{}}},
		{"no uses left", func(v *storage.VID) { v.UsesLeft = 0 }, []use{{}}},
		{"revoked", func(v *storage.VID) { v.Status = "REVOKED" }, []use{{}}},
		{"used", func(v *storage.VID) { v.Status = "USED" }, []use{{}}},
		{"expired status", func(v *storage.VID) { v.Status = "EXPIRED" }, []use{{}}},
		{"deactivated", func(v *storage.VID) { v.Status = "DEACTIVATED" }, []use{{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newVID(tt.name, "a", 0)
			tt.change(&v)
			mustCreateVID(t, d, v)
			for i, u := range tt.uses {
				got, err := d.UseVID(t.Context(), v.Hash, now)
				if u.status == "" {
					if !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("use %d: UseVID() = %+v, %v, want %v", i+1, got, err, storage.ErrNotFound)
					}
					checkVID(t, d, v)
					continue
				}
				if err != nil {
					t.Fatalf("use %d: UseVID() = %v, want nil error", i+1, err)
				}
				v.Status, v.UsesLeft = u.status, u.left
				if diff := diffVID(got, v); diff != "" {
					t.Errorf("use %d: UseVID(): %s", i+1, diff)
				}
				checkVID(t, d, v)
			}
		})
	}
	if v, err := d.UseVID(t.Context(), hashOf("vid:missing"), now); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("UseVID(missing) = %x, %v, want %v", v.Hash, err, storage.ErrNotFound)
	}
}

// testSeal is the seal function of the audit cases: SHA-256 over PrevHash
// and the JSON of the entry's other fields, as the ID repository's is.
func testSeal(e *storage.AuditEntry) {
	c := *e
	c.Hash, c.PrevHash = nil, nil
	body, err := json.Marshal(c)
	if err != nil {
		panic(err)
	}
	h := sha256.New()
	h.Write(e.PrevHash)
	h.Write(body)
	e.Hash = h.Sum(nil)
}

// newEntry returns an audit entry with every field the caller sets, at t0
// plus seconds.
func newEntry(action, subject string, seconds int) storage.AuditEntry {
	return storage.AuditEntry{
		Time:      t0.Add(time.Duration(seconds)*time.Second + 789*time.Nanosecond),
		Actor:     "admin",
		Action:    action,
		Subject:   subject,
		Reason:    "test " + action,
		RequestID: fmt.Sprintf("req-%d", seconds),
		Outcome:   "success",
	}
}

// sealed returns entries as AppendAudit should store them after the last
// entry, seq last with hash prev.
func sealed(entries []storage.AuditEntry, last int64, prev []byte) []storage.AuditEntry {
	out := slices.Clone(entries)
	for i := range out {
		e := &out[i]
		last++
		e.Seq, e.PrevHash = last, prev
		if !e.Time.IsZero() {
			e.Time = e.Time.Truncate(time.Microsecond).UTC()
		}
		testSeal(e)
		prev = e.Hash
	}
	return out
}

func checkAudit(t *testing.T, call string, got, want []storage.AuditEntry) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s = %d entries, want %d", call, len(got), len(want))
		return
	}
	for i := range got {
		if diff := diffAudit(got[i], want[i]); diff != "" {
			t.Errorf("%s[%d]: %s", call, i, diff)
		}
	}
}

func mustListAudit(t *testing.T, d storage.Durable, from int64, limit int) []storage.AuditEntry {
	t.Helper()
	got, err := d.ListAudit(t.Context(), from, limit)
	if err != nil {
		t.Fatalf("ListAudit(%d, %d) = %v, want nil error", from, limit, err)
	}
	return got
}

func testAudit(t *testing.T, d storage.Durable) {
	ctx := t.Context()
	if got := mustListAudit(t, d, 1, 10); len(got) != 0 {
		t.Errorf("ListAudit(1, 10) of an empty log = %d entries, want none", len(got))
	}
	first := []storage.AuditEntry{
		newEntry("identity.create", "r1", 0),
		newEntry("identity.read", "r1", 1),
		newEntry("auth.otp.verify", "r2", 2),
	}
	caller := slices.Clone(first)
	var seals []int64
	got, err := d.AppendAudit(ctx, first, func(e *storage.AuditEntry) {
		seals = append(seals, e.Seq)
		testSeal(e)
	})
	if err != nil {
		t.Fatalf("AppendAudit(3 entries) = %v, want nil error", err)
	}
	want := sealed(first, 0, nil)
	checkAudit(t, "AppendAudit(3 entries)", got, want)
	if !slices.Equal(seals, []int64{1, 2, 3}) {
		t.Errorf("AppendAudit(3 entries) called seal for Seq %d, want 1, 2, 3", seals)
	}
	if !reflect.DeepEqual(first, caller) {
		t.Errorf("AppendAudit changed the caller's entries to %+v, want %+v", first, caller)
	}

	second := []storage.AuditEntry{newEntry("identity.update", "r1", 3), newEntry("vid.create", "r1", 4)}
	got, err = d.AppendAudit(ctx, second, testSeal)
	if err != nil {
		t.Fatalf("AppendAudit(2 more entries) = %v, want nil error", err)
	}
	want = append(want, sealed(second, 3, want[2].Hash)...)
	checkAudit(t, "AppendAudit(2 more entries)", got, want[3:])

	for _, none := range [][]storage.AuditEntry{nil, {}} {
		if got, err := d.AppendAudit(ctx, none, testSeal); len(got) != 0 || err != nil {
			t.Errorf("AppendAudit(no entries) = %d entries, %v, want none, nil", len(got), err)
		}
	}

	tests := []struct {
		from     int64
		limit    int
		from0, n int // want[from0 : from0+n]
	}{
		{1, 100, 0, 5},
		{0, 100, 0, 5},
		{-5, 2, 0, 2},
		{2, 2, 1, 2},
		{4, 10, 3, 2},
		{5, 1, 4, 1},
		{6, 10, 0, 0},
		{1, 0, 0, 0},
		{1, -1, 0, 0},
	}
	for _, tt := range tests {
		call := fmt.Sprintf("ListAudit(%d, %d)", tt.from, tt.limit)
		checkAudit(t, call, mustListAudit(t, d, tt.from, tt.limit), want[tt.from0:tt.from0+tt.n])
	}
}

func testAuditBadSeal(t *testing.T, d storage.Durable) {
	ctx := t.Context()
	stored, err := d.AppendAudit(ctx, []storage.AuditEntry{newEntry("identity.create", "r", 0)}, testSeal)
	if err != nil {
		t.Fatalf("AppendAudit(1 entry) = %v, want nil error", err)
	}
	tests := []struct {
		name string
		seal func(*storage.AuditEntry)
	}{
		{"no hash", func(*storage.AuditEntry) {}},
		{"no hash for the second entry", func(e *storage.AuditEntry) {
			if e.Seq == 2 {
				testSeal(e)
			}
		}},
		{"changes Seq", func(e *storage.AuditEntry) { testSeal(e); e.Seq += 10 }},
		{"changes PrevHash", func(e *storage.AuditEntry) { testSeal(e); e.PrevHash = []byte("forged") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := []storage.AuditEntry{newEntry("identity.read", "r", 1), newEntry("identity.read", "r", 2)}
			if got, err := d.AppendAudit(ctx, entries, tt.seal); err == nil {
				t.Errorf("AppendAudit(seal that %s) = %d entries, nil, want an error", tt.name, len(got))
			}
			checkAudit(t, "ListAudit(1, 10)", mustListAudit(t, d, 1, 10), stored)
		})
	}
	// The log goes on from where it was.
	got, err := d.AppendAudit(ctx, []storage.AuditEntry{newEntry("identity.read", "r", 3)}, testSeal)
	if err != nil {
		t.Fatalf("AppendAudit(1 entry) after failures = %v, want nil error", err)
	}
	checkAudit(t, "AppendAudit(1 entry) after failures", got,
		sealed([]storage.AuditEntry{newEntry("identity.read", "r", 3)}, 1, stored[0].Hash))
}

func testAuditRoundTrip(t *testing.T, d storage.Durable) {
	riyadh := time.FixedZone("AST", 3*60*60)
	entries := []storage.AuditEntry{
		{Time: time.Date(2025, 3, 1, 15, 0, 0, 999, riyadh), Actor: "oidc:wallet", Action: "auth.pin.verify",
			Subject: "r", Outcome: "failure"},
		{Time: time.Now(), Actor: "system", Action: "x", Reason: "quotes \" and ' and\nnewlines, ünïcödé, عربي"},
		{Time: time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)},
		{}, // every field empty, the zero time
	}
	got, err := d.AppendAudit(t.Context(), entries, testSeal)
	if err != nil {
		t.Fatalf("AppendAudit(%d entries) = %v, want nil error", len(entries), err)
	}
	want := sealed(entries, 0, nil)
	checkAudit(t, "AppendAudit", got, want)
	listed := mustListAudit(t, d, 1, 10)
	checkAudit(t, "ListAudit(1, 10)", listed, want)
	// The hash the store had sealed is the hash of what it returns.
	for _, e := range listed {
		again := e
		testSeal(&again)
		if !bytes.Equal(again.Hash, e.Hash) {
			t.Errorf("entry %d as listed seals to %x, want its Hash %x", e.Seq, again.Hash, e.Hash)
		}
	}
}

func testFactors(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"), newResident("b"))
	ctx := t.Context()
	pin := storage.FactorSecret{ResidentID: "a", Kind: "pin", Hash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
		UpdatedAt: time.Date(2025, 3, 1, 15, 0, 0, 999, time.FixedZone("AST", 3*60*60))}
	password := storage.FactorSecret{ResidentID: "a", Kind: "password", Hash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdDI$aGFzaDI",
		UpdatedAt: t0}
	bPin := storage.FactorSecret{ResidentID: "b", Kind: "pin", Hash: "$argon2id$v=19$m=65536,t=3,p=4$YnNhbHQ$Ymhhc2g",
		UpdatedAt: t0}
	check := func(want storage.FactorSecret) {
		t.Helper()
		got, err := d.GetFactor(ctx, want.ResidentID, want.Kind)
		if err != nil {
			t.Errorf("GetFactor(%q, %q) = %v, want nil error", want.ResidentID, want.Kind, err)
		} else if diff := diffFactor(got, want); diff != "" {
			t.Errorf("GetFactor(%q, %q): %s", want.ResidentID, want.Kind, diff)
		}
	}
	for _, f := range []storage.FactorSecret{pin, password, bPin} {
		if err := d.PutFactor(ctx, f); err != nil {
			t.Fatalf("PutFactor(%q, %q) = %v, want nil", f.ResidentID, f.Kind, err)
		}
	}
	check(pin)
	check(password)
	check(bPin)

	// Replacing one verifier leaves the others.
	pin.Hash, pin.UpdatedAt = "$argon2id$v=19$m=65536,t=3,p=4$bmV3$bmV3aGFzaA", t0.Add(time.Hour)
	if err := d.PutFactor(ctx, pin); err != nil {
		t.Fatalf("PutFactor(%q, %q) again = %v, want nil", pin.ResidentID, pin.Kind, err)
	}
	check(pin)
	check(password)
	check(bPin)

	missing := []struct{ resident, kind string }{{"b", "password"}, {"c", "pin"}, {"a", "otp"}, {"", ""}}
	for _, m := range missing {
		if f, err := d.GetFactor(ctx, m.resident, m.kind); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetFactor(%q, %q) = %+v, %v, want %v", m.resident, m.kind, f, err, storage.ErrNotFound)
		}
	}
	orphan := storage.FactorSecret{ResidentID: "missing", Kind: "pin", Hash: "$argon2id$x", UpdatedAt: t0}
	if err := d.PutFactor(ctx, orphan); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("PutFactor(%q, %q) = %v, want %v", orphan.ResidentID, orphan.Kind, err, storage.ErrNotFound)
	}
}

func testConcurrentUseVID(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"))
	v := newVID("v", "a", 0)
	mustCreateVID(t, d, v)
	now := t0.Add(time.Minute)
	got := make([]storage.VID, goroutines)
	errs := concurrently(goroutines, func(i int) error {
		var err error
		got[i], err = d.UseVID(t.Context(), v.Hash, now)
		return err
	})
	var left []int64
	for i, err := range errs {
		switch {
		case err == nil:
			left = append(left, got[i].UsesLeft)
		case !errors.Is(err, storage.ErrNotFound):
			t.Errorf("UseVID() = %v, want nil or %v", err, storage.ErrNotFound)
		}
	}
	slices.Sort(left)
	if !slices.Equal(left, []int64{0, 1}) {
		t.Errorf("UseVID() of a VID with 2 uses in %d goroutines succeeded leaving %d uses, want twice, leaving 1 then 0",
			goroutines, left)
	}
	v.Status, v.UsesLeft = "USED", 0
	checkVID(t, d, v)
}

func testConcurrentUseVIDUnlimited(t *testing.T, d storage.Durable) {
	mustCreateResidents(t, d, newResident("a"))
	v := newVID("v", "a", 0)
	v.UsesLeft, v.ExpiresAt = -1, time.Time{}
	mustCreateVID(t, d, v)
	errs := concurrently(goroutines, func(int) error {
		_, err := d.UseVID(t.Context(), v.Hash, t0)
		return err
	})
	for _, err := range errs {
		if err != nil {
			t.Errorf("UseVID() of an unlimited VID = %v, want nil", err)
		}
	}
	checkVID(t, d, v)
}

func testConcurrentAppendAudit(t *testing.T, d storage.Durable) {
	got := make([][]storage.AuditEntry, goroutines)
	errs := concurrently(goroutines, func(i int) error {
		entries := make([]storage.AuditEntry, i%3+1)
		for j := range entries {
			entries[j] = newEntry("identity.read", fmt.Sprintf("g%02d-%d", i, j), i)
		}
		var err error
		got[i], err = d.AppendAudit(t.Context(), entries, testSeal)
		return err
	})
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("AppendAudit() in goroutine %d = %v, want nil", i, err)
		}
		total += i%3 + 1
	}
	log := mustListAudit(t, d, 1, total+10)
	if len(log) != total {
		t.Fatalf("ListAudit() after %d concurrent appends = %d entries, want %d", goroutines, len(log), total)
	}
	var prev []byte
	for i, e := range log {
		want := e
		want.Seq, want.PrevHash = int64(i+1), prev
		testSeal(&want)
		if diff := diffAudit(e, want); diff != "" {
			t.Errorf("entry %d: %s", i+1, diff)
		}
		prev = e.Hash
	}
	// Each append is one run of the log, in order, as AppendAudit returned it.
	for i, entries := range got {
		if len(entries) == 0 {
			continue
		}
		first := entries[0].Seq
		if first < 1 || int(first)+len(entries)-1 > len(log) {
			t.Errorf("goroutine %d: AppendAudit() returned Seq %d…, past the log", i, first)
			continue
		}
		checkAudit(t, fmt.Sprintf("goroutine %d: AppendAudit()", i), entries, log[first-1:int(first)-1+len(entries)])
		for j, e := range entries {
			if want := fmt.Sprintf("g%02d-%d", i, j); e.Subject != want {
				t.Errorf("goroutine %d: entry %d has Subject %q, want %q", i, e.Seq, e.Subject, want)
			}
		}
	}
}

func testConcurrentUpdateResident(t *testing.T, d storage.Durable) {
	r := newResident("r")
	mustCreateResidents(t, d, r)
	errs := concurrently(goroutines, func(i int) error {
		u := r.Resident
		u.Version, u.Sealed = 2, []byte(fmt.Sprintf("sealed by %d", i))
		return d.UpdateResident(t.Context(), u, []storage.Handle{{Hash: hashOf(fmt.Sprintf("phone:%d", i)), Kind: "phone"}})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("UpdateResident(version 2) succeeded in goroutines %d and %d, want once", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("UpdateResident(version 2) = %v, want nil or %v", err, storage.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatalf("UpdateResident(version 2) in %d goroutines never succeeded, want once", goroutines)
	}
	want := r.Resident
	want.Version, want.Sealed = 2, []byte(fmt.Sprintf("sealed by %d", winner))
	checkResident(t, d, want)
	for i := range goroutines {
		id := ""
		if i == winner {
			id = "r"
		}
		checkHandles(t, d, id, hashOf(fmt.Sprintf("phone:%d", i)))
	}
	checkHandles(t, d, "", handleHashes(r.Handles)...)
}

func testConcurrentClaimHandle(t *testing.T, d storage.Durable) {
	rs := make([]storage.NewResident, goroutines)
	for i := range rs {
		rs[i] = newResident(fmt.Sprintf("r%02d", i))
	}
	mustCreateResidents(t, d, rs...)
	shared := hashOf("phone:shared")
	errs := concurrently(goroutines, func(i int) error {
		u := rs[i].Resident
		u.Version = 2
		return d.UpdateResident(t.Context(), u, []storage.Handle{rs[i].Handles[1], {Hash: shared, Kind: "phone"}})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("UpdateResident(shared handle) succeeded for %q and %q, want once", rs[winner].Resident.ID, rs[i].Resident.ID)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("UpdateResident(shared handle) = %v, want nil or %v", err, storage.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatalf("UpdateResident(shared handle) in %d goroutines never succeeded, want once", goroutines)
	}
	checkHandles(t, d, rs[winner].Resident.ID, shared)
	for i, r := range rs {
		want := r.Resident
		if i == winner {
			want.Version = 2
			checkHandles(t, d, "", r.Handles[0].Hash)
		} else {
			checkHandles(t, d, r.Resident.ID, r.Handles[0].Hash)
		}
		checkResident(t, d, want)
		checkHandles(t, d, r.Resident.ID, r.Handles[1].Hash)
	}
}

func testConcurrentCreateResidentSame(t *testing.T, d storage.Durable) {
	errs := concurrently(goroutines, func(i int) error {
		r := newResident(fmt.Sprintf("r%02d", i))
		r.Resident.UINHash = hashOf("uin:same")
		return d.CreateResidents(t.Context(), []storage.NewResident{newResident(fmt.Sprintf("s%02d", i)), r})
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("CreateResidents(same UIN) succeeded in goroutines %d and %d, want once", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("CreateResidents(same UIN) = %v, want nil or %v", err, storage.ErrAlreadyExists)
		}
	}
	if winner < 0 {
		t.Fatalf("CreateResidents(same UIN) in %d goroutines never succeeded, want once", goroutines)
	}
	got, err := d.GetResidentByUIN(t.Context(), hashOf("uin:same"))
	if want := fmt.Sprintf("r%02d", winner); got.ID != want || err != nil {
		t.Errorf("GetResidentByUIN(same) = %q, %v, want %q, nil", got.ID, err, want)
	}
	for i := range goroutines {
		s := newResident(fmt.Sprintf("s%02d", i))
		if i == winner {
			checkResident(t, d, s.Resident)
		} else {
			checkNoResident(t, d, s.Resident.ID, s.Resident.UINHash)
		}
	}
}

func testConcurrentCreateResidents(t *testing.T, d storage.Durable) {
	const perBatch = 20
	errs := concurrently(goroutines, func(i int) error {
		batch := make([]storage.NewResident, perBatch)
		for j := range batch {
			batch[j] = newResident(fmt.Sprintf("r%02d-%02d", i, j))
		}
		return d.CreateResidents(t.Context(), batch)
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("CreateResidents(batch %d) = %v, want nil", i, err)
		}
	}
	for i := range goroutines {
		for j := range perBatch {
			r := newResident(fmt.Sprintf("r%02d-%02d", i, j))
			checkResident(t, d, r.Resident)
			checkHandles(t, d, r.Resident.ID, handleHashes(r.Handles)...)
		}
	}
}

// BenchCreateResidents measures importing residents with CreateResidents:
// batches of batch residents, each with an identity sealed to 1.5 KB, a
// 60-byte wrapped key and two handles, written by writers goroutines at
// once on a store open returns empty. b.N counts residents; the rows/s
// metric is residents stored per second.
func BenchCreateResidents(b *testing.B, open func(b *testing.B) storage.Durable, batch, writers int) {
	d := open(b)
	sealedIdentity := make([]byte, 1536)
	wrappedKey := make([]byte, 60)
	rand.Read(sealedIdentity)
	rand.Read(wrappedKey)
	now := time.Now()
	prefix := randomHex(4)
	rows := make([]storage.NewResident, b.N)
	for i := range rows {
		id := fmt.Sprintf("%s%018d", prefix, i)
		rows[i] = storage.NewResident{
			Resident: storage.Resident{
				ID: id, UINHash: hashOf("uin:" + id), Status: "ACTIVE", Version: 1,
				Sealed: sealedIdentity, KeyID: "pii-encryption-2025-03", WrappedKey: wrappedKey,
				CreatedAt: now, UpdatedAt: now,
			},
			Handles: []storage.Handle{
				{Hash: hashOf("phone:" + id), Kind: "phone", ResidentID: id},
				{Hash: hashOf("email:" + id), Kind: "email", ResidentID: id},
			},
		}
	}
	ctx := b.Context()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		firstErr error
		errOnce  sync.Once
	)
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			for {
				start := int(next.Add(int64(batch))) - batch
				if start >= len(rows) {
					return
				}
				if err := d.CreateResidents(ctx, rows[start:min(start+batch, len(rows))]); err != nil {
					errOnce.Do(func() { firstErr = err })
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if firstErr != nil {
		b.Fatalf("CreateResidents(%d residents) = %v, want nil", batch, firstErr)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchCreateResidentsSet runs BenchCreateResidents with the batch sizes
// and writer counts of an import: batch=N/writers=M.
func BenchCreateResidentsSet(b *testing.B, open func(b *testing.B) storage.Durable) {
	for _, bc := range []struct{ batch, writers int }{{100, 1}, {500, 1}, {1000, 1}, {1000, 2}, {1000, 4}} {
		b.Run(fmt.Sprintf("batch=%d/writers=%d", bc.batch, bc.writers), func(b *testing.B) {
			BenchCreateResidents(b, open, bc.batch, bc.writers)
		})
	}
}
