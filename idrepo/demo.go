package idrepo

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/sanad-id/sanad/storage"
)

//go:embed demo/residents.json
var demoResidentsJSON []byte

// DemoActor is the audit actor of SeedDemo.
const DemoActor = "demo"

// DemoResident is a resident of the demo fixture (idrepo/demo/residents.json),
// with fixed, valid UINs and the PIN and password the demo gives it (stored
// by idrepo/authn, not here). It is for demonstrations only: its secrets are
// public.
type DemoResident struct {
	UIN      string         `json:"uin"`
	PIN      string         `json:"pin"`
	Password string         `json:"password"`
	Identity map[string]any `json:"identity"`
	// ResidentID is the internal id, set by SeedDemo.
	ResidentID string `json:"-"`
}

// LogValue keeps the demo secrets and identity out of logs.
func (d DemoResident) LogValue() slog.Value {
	return slog.GroupValue(slog.String("resident_id", d.ResidentID))
}

// String keeps the demo secrets and identity out of formatted output.
func (d DemoResident) String() string { return "demo resident " + d.ResidentID }

// DemoResidents returns the demo fixture.
func DemoResidents() []DemoResident {
	d := json.NewDecoder(bytes.NewReader(demoResidentsJSON))
	d.UseNumber()
	var out []DemoResident
	if err := d.Decode(&out); err != nil {
		panic("idrepo: demo fixture: " + err.Error())
	}
	return out
}

// SeedDemo stores the demo residents that are not stored yet (by UIN) and
// returns those it created, with their ResidentID. Running it again creates
// nothing.
func SeedDemo(ctx context.Context, repo *Repository) ([]DemoResident, error) {
	var created []DemoResident
	for _, d := range DemoResidents() {
		h, err := repo.indexHash(ctx, KindUIN, d.UIN)
		if err != nil {
			return created, err
		}
		if _, err := repo.store.GetResidentByUIN(ctx, h); err == nil {
			continue
		} else if !errors.Is(err, storage.ErrNotFound) {
			return created, fmt.Errorf("idrepo: demo: %w", err)
		}
		res, err := repo.createWithUIN(ctx, DemoActor, d.UIN, d.Identity)
		if errors.Is(err, &Error{Code: CodeDuplicateUIN}) {
			continue // another process seeded it meanwhile
		}
		if err != nil {
			return created, fmt.Errorf("idrepo: demo: %w", err)
		}
		d.ResidentID = res.ID
		created = append(created, d)
	}
	return created, nil
}

// createWithUIN stores an identity under a UIN issued elsewhere (by an
// earlier system, or the demo fixture). Errors: invalid_uin,
// invalid_identity, duplicate_uin, duplicate_handle.
func (r *Repository) createWithUIN(ctx context.Context, actor, uin string, identity map[string]any) (Resident, error) {
	const action = "identity.create"
	if err := r.uinRules.Check(uin); err != nil {
		return Resident{}, errInvalidUIN().withCause(err)
	}
	ident, ferrs := r.check(identity)
	if len(ferrs) > 0 {
		return Resident{}, invalidIdentity(ferrs)
	}
	nr, err := r.sealNew(ctx, ident, uin, r.clock())
	if err != nil {
		return Resident{}, errServer(err)
	}
	err = r.store.CreateResidents(ctx, []storage.NewResident{nr})
	if errors.Is(err, storage.ErrAlreadyExists) {
		if _, gerr := r.store.GetResidentByUIN(ctx, nr.Resident.UINHash); gerr == nil {
			return Resident{}, r.recordFailure(ctx, actor, action, "", newError(CodeDuplicateUIN, "a resident with this UIN exists already"))
		}
		fields, ferr := r.takenHandles(ctx, nr.Handles, "")
		if ferr != nil {
			return Resident{}, errServer(ferr)
		}
		return Resident{}, r.recordFailure(ctx, actor, action, "", duplicateHandle(fields))
	}
	if err != nil {
		return Resident{}, errServer(err)
	}
	if err := r.record(ctx, actor, action, nr.Resident.ID, "", nil); err != nil {
		return Resident{}, err
	}
	return residentOf(nr.Resident, uin, ident), nil
}
