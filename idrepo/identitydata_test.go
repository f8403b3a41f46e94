package idrepo

import (
	"testing"

	"github.com/sanad-id/sanad/storage/sqldb"
)

func TestIdentityData(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		res, err := r.Create(ctx, "t", amina())
		if err != nil {
			t.Fatal(err)
		}
		ident, err := r.IdentityData(ctx, res.ID)
		if err != nil {
			t.Fatalf("IdentityData(active resident) = %v, want the identity", err)
		}
		if ident[uinField] != res.UIN {
			t.Errorf("IdentityData(...)[%q] = %v, want the UIN %s", uinField, ident[uinField], res.UIN)
		}
		if ident["dateOfBirth"] != amina()["dateOfBirth"] {
			t.Errorf("IdentityData(...)[dateOfBirth] = %v, want %v", ident["dateOfBirth"], amina()["dateOfBirth"])
		}

		if _, err := r.IdentityData(ctx, "no-such-person"); codeOf(err) != CodeNotFound {
			t.Errorf("IdentityData(unknown id) = %v, want %s", err, CodeNotFound)
		}
		if _, err := r.SetStatus(ctx, "t", res.UIN, StatusDeactivated, "test"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.IdentityData(ctx, res.ID); codeOf(err) != CodeNotFound {
			t.Errorf("IdentityData(deactivated resident) = %v, want %s", err, CodeNotFound)
		}
	})
}
