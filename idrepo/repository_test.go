package idrepo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func TestCreateGetUpdate(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		res, err := r.Create(ctx, "test", amina())
		if err != nil {
			t.Fatalf("Create: %v", err)
		}
		if err := testUINRules.Check(res.UIN); err != nil {
			t.Errorf("Create issued UIN failing the rules: %v", err)
		}
		if res.Status != StatusActive || res.Version != 1 || res.ID == "" || res.CreatedAt.IsZero() {
			t.Errorf("Create = %+v, want ACTIVE version 1 with an id and a time", res)
		}

		got, err := r.Get(ctx, "test", res.UIN)
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		if got.Identity["phone"] != "+447700900555" || got.Identity["email"] != "amina.testwoman@example.org" {
			t.Errorf("Get: phone, email = %v, %v; want them normalised", got.Identity["phone"], got.Identity["email"])
		}
		if _, ok := got.Identity[uinField]; ok {
			t.Error("Get: the identity holds the UIN; it is returned beside it")
		}
		if got.Version != 1 || got.UIN != res.UIN || got.ID != res.ID {
			t.Errorf("Get = %+v, want version 1 of %s", got, res.ID)
		}

		// A merge patch: add a field, remove one, replace a multi-language field.
		patch := map[string]any{
			"city":     []any{map[string]any{"language": "fra", "value": "Dakar"}},
			"email":    nil,
			"fullName": []any{map[string]any{"language": "eng", "value": "Amina T. Testwoman"}},
		}
		up, err := r.Update(ctx, "test", res.UIN, patch, 1)
		if err != nil {
			t.Fatalf("Update: %v", err)
		}
		if up.Version != 2 {
			t.Errorf("Update version = %d, want 2", up.Version)
		}
		got, _ = r.Get(ctx, "test", res.UIN)
		if _, ok := got.Identity["email"]; ok || got.Identity["city"] == nil || got.Version != 2 {
			t.Errorf("after Update, Get = %v (version %d); want email gone, city set, version 2", got.Identity, got.Version)
		}
		if names := got.Identity["fullName"].([]any); len(names) != 1 {
			t.Errorf("after Update, fullName = %v; want it replaced whole", names)
		}
		// The e-mail handle went with the field.
		if _, err := r.Lookup(ctx, "amina.testwoman@example.org"); codeOf(err) != CodeNotFound {
			t.Errorf("Lookup(removed e-mail) = %v, want not_found", err)
		}
		if p, err := r.Lookup(ctx, "+447700900555"); err != nil || p.ID != res.ID {
			t.Errorf("Lookup(phone) after Update = %+v, %v; want %s", p, err, res.ID)
		}

		for _, tt := range []struct {
			name    string
			uin     string
			patch   map[string]any
			ifMatch int64
			want    string
		}{
			{"stale version", res.UIN, map[string]any{"postalCode": "12345"}, 1, CodeVersionMismatch},
			{"future version", res.UIN, map[string]any{"postalCode": "12345"}, 9, CodeVersionMismatch},
			{"no version", res.UIN, map[string]any{"postalCode": "12345"}, 0, CodePreconditionRequired},
			{"invalid result", res.UIN, map[string]any{"dateOfBirth": "yesterday"}, 2, CodeInvalidIdentity},
			{"required removed", res.UIN, map[string]any{"fullName": nil}, 2, CodeInvalidIdentity},
			{"UIN set", res.UIN, map[string]any{"UIN": "2916593705"}, 2, CodeInvalidIdentity},
			{"unknown UIN", "2916593705", map[string]any{"postalCode": "12345"}, 1, CodeNotFound},
		} {
			_, err := r.Update(ctx, "test", tt.uin, tt.patch, tt.ifMatch)
			if codeOf(err) != tt.want {
				t.Errorf("Update(%s) = %v, want %s", tt.name, err, tt.want)
			}
		}
		if got, _ := r.Get(ctx, "test", res.UIN); got.Version != 2 {
			t.Errorf("failed updates changed the version to %d", got.Version)
		}

		if _, err := r.Create(ctx, "test", map[string]any{"fullName": "x"}); codeOf(err) != CodeInvalidIdentity {
			t.Errorf("Create(invalid) = %v, want invalid_identity", err)
		}
		if _, err := r.Get(ctx, "test", "2916593705"); codeOf(err) != CodeNotFound {
			t.Errorf("Get(unknown) = %v, want not_found", err)
		}

		st, err := r.SetStatus(ctx, "test", res.UIN, StatusBlocked, "fraud check")
		if err != nil || st.Status != StatusBlocked || st.Version != 3 {
			t.Errorf("SetStatus = %+v, %v; want BLOCKED at version 3", st, err)
		}
		if _, err := r.SetStatus(ctx, "test", res.UIN, "GONE", ""); codeOf(err) != CodeInvalidRequest {
			t.Errorf("SetStatus(GONE) = %v, want invalid_request", err)
		}
		if p, err := r.Lookup(ctx, res.UIN); err != nil || p.Status != StatusBlocked {
			t.Errorf("Lookup after blocking = %+v, %v; want status BLOCKED", p, err)
		}
	})
}

// countingStore fails the test on any store access.
type countingStore struct {
	Store
	calls atomic.Int64
}

func (s *countingStore) GetResidentByUIN(ctx context.Context, h []byte) (storage.Resident, error) {
	s.calls.Add(1)
	return s.Store.GetResidentByUIN(ctx, h)
}

func (s *countingStore) GetVID(ctx context.Context, h []byte) (storage.VID, error) {
	s.calls.Add(1)
	return s.Store.GetVID(ctx, h)
}

func (s *countingStore) ResolveHandle(ctx context.Context, h []byte) (string, error) {
	s.calls.Add(1)
	return s.Store.ResolveHandle(ctx, h)
}

func (s *countingStore) UseVID(ctx context.Context, h []byte, now time.Time) (storage.VID, error) {
	s.calls.Add(1)
	return s.Store.UseVID(ctx, h, now)
}

func (s *countingStore) AppendAudit(ctx context.Context, es []storage.AuditEntry, seal func(*storage.AuditEntry)) ([]storage.AuditEntry, error) {
	s.calls.Add(1)
	return s.Store.AppendAudit(ctx, es, seal)
}

func TestInvalidIDRejectedBeforeLookup(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		cs := &countingStore{Store: db}
		r := newTestRepo(t, cs)
		const goodUIN, badUIN = "9169748726", "9169748727" // last digit changed
		const goodVID, badVID = "5892652143502513", "5892652143502531"
		if testUINRules.ValidChecksum(badUIN) || r.vidRules.ValidChecksum(badVID) || !r.vidRules.ValidChecksum(goodVID) {
			t.Fatal("test IDs are not what they should be")
		}
		for _, tt := range []struct {
			name string
			call func() error
			want string
		}{
			{"Get", func() error { _, err := r.Get(ctx, "t", badUIN); return err }, CodeInvalidUIN},
			{"Get swapped digits", func() error { _, err := r.Get(ctx, "t", "9167948726"); return err }, CodeInvalidUIN},
			{"Get letters", func() error { _, err := r.Get(ctx, "t", "91697487a6"); return err }, CodeInvalidUIN},
			{"Update", func() error { _, err := r.Update(ctx, "t", badUIN, map[string]any{}, 1); return err }, CodeInvalidUIN},
			{"SetStatus", func() error { _, err := r.SetStatus(ctx, "t", badUIN, StatusActive, ""); return err }, CodeInvalidUIN},
			{"CreateVID", func() error { _, err := r.CreateVID(ctx, "t", badUIN, VIDTemporary); return err }, CodeInvalidUIN},
			{"ListVIDs", func() error { _, err := r.ListVIDs(ctx, "t", badUIN); return err }, CodeInvalidUIN},
			{"RevokeVID", func() error { return r.RevokeVID(ctx, "t", badVID) }, CodeInvalidVID},
			{"ResolveVID", func() error { _, err := r.ResolveVID(ctx, "t", badVID); return err }, CodeInvalidVID},
			{"Lookup UIN", func() error { _, err := r.Lookup(ctx, badUIN); return err }, CodeInvalidUIN},
			{"Lookup VID", func() error { _, err := r.Lookup(ctx, badVID); return err }, CodeInvalidVID},
			{"Lookup other", func() error { _, err := r.Lookup(ctx, "12345"); return err }, CodeInvalidLoginID},
			{"Lookup bad phone", func() error { _, err := r.Lookup(ctx, "+12"); return err }, CodeInvalidLoginID},
		} {
			before := cs.calls.Load()
			if err := tt.call(); codeOf(err) != tt.want {
				t.Errorf("%s = %v, want %s", tt.name, err, tt.want)
			}
			if n := cs.calls.Load() - before; n != 0 {
				t.Errorf("%s touched the store %d times, want none", tt.name, n)
			}
		}
		// The valid forms do reach the store.
		before := cs.calls.Load()
		if _, err := r.Get(ctx, "t", goodUIN); codeOf(err) != CodeNotFound {
			t.Errorf("Get(valid unknown UIN) = %v, want not_found", err)
		}
		if cs.calls.Load() == before {
			t.Error("Get(valid UIN) did not reach the store")
		}
	})
}

func TestDuplicateHandles(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		a, err := r.Create(ctx, "t", identityWith("A", "+447700900001", "a@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, phone, email, field string
		}{
			{"same phone, other format", "+44 (7700) 900-001", "b@example.org", "/phone"},
			{"same e-mail, other case", "+447700900002", " A@Example.ORG ", "/email"},
		} {
			_, err := r.Create(ctx, "t", identityWith("B", tt.phone, tt.email))
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeDuplicateHandle || len(e.Fields) != 1 || e.Fields[0].Field != tt.field {
				t.Errorf("Create(%s) = %v, want duplicate_handle on %s", tt.name, err, tt.field)
			}
		}
		b, err := r.Create(ctx, "t", identityWith("B", "+447700900002", "b@example.org"))
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Update(ctx, "t", b.UIN, map[string]any{"email": "A@example.org"}, 1)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeDuplicateHandle || len(e.Fields) != 1 || e.Fields[0].Field != "/email" {
			t.Errorf("Update(B takes A's e-mail) = %v, want duplicate_handle on /email", err)
		}
		// Keeping one's own handles is no conflict; moving one frees it.
		if _, err := r.Update(ctx, "t", a.UIN, map[string]any{"phone": "+447700900003"}, 1); err != nil {
			t.Errorf("Update(A changes phone) = %v", err)
		}
		if _, err := r.Update(ctx, "t", b.UIN, map[string]any{"phone": "+447700900001"}, 1); err != nil {
			t.Errorf("Update(B takes A's former phone) = %v", err)
		}
		if p, err := r.Lookup(ctx, "+447700900001"); err != nil || p.ID != b.ID {
			t.Errorf("Lookup(former phone of A) = %+v, %v; want B", p, err)
		}
	})
}

func TestConcurrentUpdateOneWins(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		res, err := r.Create(ctx, "t", amina())
		if err != nil {
			t.Fatal(err)
		}
		const n = 20
		var wins, mismatches atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				_, err := r.Update(ctx, "t", res.UIN, map[string]any{"postalCode": "P" + string(rune('A'+i)) + "1"}, 1)
				switch codeOf(err) {
				case "":
					wins.Add(1)
				case CodeVersionMismatch:
					mismatches.Add(1)
				default:
					t.Errorf("Update = %v", err)
				}
			})
		}
		wg.Wait()
		if wins.Load() != 1 || mismatches.Load() != n-1 {
			t.Errorf("%d concurrent updates from version 1: %d won, %d version_mismatch; want 1 and %d", n, wins.Load(), mismatches.Load(), n-1)
		}
		if got, _ := r.Get(ctx, "t", res.UIN); got.Version != 2 {
			t.Errorf("version after the race = %d, want 2", got.Version)
		}
	})
}

func TestVIDPolicies(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		clk := newClock()
		r := newTestRepo(t, db, Config{Now: clk.Now})
		res, err := r.Create(ctx, "t", amina())
		if err != nil {
			t.Fatal(err)
		}

		t.Run("perpetual", func(t *testing.T) {
			p1, err := r.CreateVID(ctx, "t", res.UIN, VIDPerpetual)
			if err != nil {
				t.Fatal(err)
			}
			if err := r.vidRules.Check(p1.VID); err != nil || !p1.ExpiresAt.IsZero() || p1.UsesLeft != -1 || p1.Status != VIDActive {
				t.Errorf("CreateVID(perpetual) = %+v (%v), want a valid VID, no expiry, unlimited uses", p1, err)
			}
			// Unlimited uses.
			for range 5 {
				if _, err := r.ResolveVID(ctx, "t", p1.VID); err != nil {
					t.Fatalf("ResolveVID(perpetual) = %v", err)
				}
			}
			// Same instant: the new one still replaces the old.
			p2, err := r.CreateVID(ctx, "t", res.UIN, VIDPerpetual)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Lookup(ctx, p1.VID); codeOf(err) != CodeNotFound {
				t.Errorf("Lookup(replaced perpetual VID) = %v, want not_found", err)
			}
			if p, err := r.Lookup(ctx, p2.VID); err != nil || p.ID != res.ID {
				t.Errorf("Lookup(new perpetual VID) = %+v, %v", p, err)
			}
			vs, _ := r.ListVIDs(ctx, "t", res.UIN)
			if got := statuses(vs, VIDPerpetual); got[p1.VID] != VIDRevoked || got[p2.VID] != VIDActive {
				t.Errorf("perpetual VIDs = %v, want the first REVOKED, the second ACTIVE", got)
			}
		})

		t.Run("temporary", func(t *testing.T) {
			var tmp []VIDInfo
			for i := range 5 {
				v, err := r.CreateVID(ctx, "t", res.UIN, VIDTemporary)
				if err != nil {
					t.Fatalf("CreateVID(temporary #%d) = %v", i+1, err)
				}
				tmp = append(tmp, v)
			}
			if want := clk.Now().Add(30 * time.Minute); !tmp[0].ExpiresAt.Equal(want) || tmp[0].UsesLeft != 2 {
				t.Errorf("temporary VID = %+v, want expiry %s and 2 uses", tmp[0], want)
			}
			if _, err := r.CreateVID(ctx, "t", res.UIN, VIDTemporary); codeOf(err) != CodeVIDLimitReached {
				t.Errorf("CreateVID(6th temporary) = %v, want vid_limit_reached", err)
			}
			// Lookup does not consume; ResolveVID does, twice.
			v := tmp[0].VID
			for range 3 {
				if p, err := r.Lookup(ctx, v); err != nil || p.ID != res.ID {
					t.Fatalf("Lookup(temporary VID) = %+v, %v", p, err)
				}
			}
			p, err := r.ResolveVID(ctx, "t", v)
			if err != nil {
				t.Fatalf("ResolveVID #1 = %v", err)
			}
			if _, ok := p.Identity[uinField]; ok {
				t.Error("ResolveVID revealed the UIN")
			}
			if _, err := r.ResolveVID(ctx, "t", v); err != nil {
				t.Fatalf("ResolveVID #2 = %v", err)
			}
			if _, err := r.ResolveVID(ctx, "t", v); codeOf(err) != CodeNotFound {
				t.Errorf("ResolveVID #3 = %v, want not_found (used up)", err)
			}
			if _, err := r.Lookup(ctx, v); codeOf(err) != CodeNotFound {
				t.Errorf("Lookup(used VID) = %v, want not_found", err)
			}
			// The used one no longer counts against the cap.
			extra, err := r.CreateVID(ctx, "t", res.UIN, VIDTemporary)
			if err != nil {
				t.Errorf("CreateVID after one was used = %v", err)
			}
			// Revoking.
			if err := r.RevokeVID(ctx, "t", tmp[1].VID); err != nil {
				t.Errorf("RevokeVID = %v", err)
			}
			if err := r.RevokeVID(ctx, "t", tmp[1].VID); err != nil {
				t.Errorf("RevokeVID again = %v, want nil", err)
			}
			if _, err := r.ResolveVID(ctx, "t", tmp[1].VID); codeOf(err) != CodeNotFound {
				t.Errorf("ResolveVID(revoked) = %v, want not_found", err)
			}
			if err := r.RevokeVID(ctx, "t", "9607632495471680"); codeOf(err) != CodeNotFound {
				t.Errorf("RevokeVID(unknown) = %v, want not_found", err)
			}
			// Expiry.
			clk.Advance(30*time.Minute + time.Second)
			if _, err := r.Lookup(ctx, tmp[2].VID); codeOf(err) != CodeNotFound {
				t.Errorf("Lookup(expired VID) = %v, want not_found", err)
			}
			if _, err := r.ResolveVID(ctx, "t", tmp[3].VID); codeOf(err) != CodeNotFound {
				t.Errorf("ResolveVID(expired VID) = %v, want not_found", err)
			}
			vs, err := r.ListVIDs(ctx, "t", res.UIN)
			if err != nil {
				t.Fatal(err)
			}
			got := statuses(vs, VIDTemporary)
			want := map[string]string{tmp[0].VID: VIDUsed, tmp[1].VID: VIDRevoked, tmp[2].VID: VIDExpired,
				tmp[3].VID: VIDExpired, tmp[4].VID: VIDExpired, extra.VID: VIDExpired}
			for vid, w := range want {
				if got[vid] != w {
					t.Errorf("after expiry, VID #%v status = %s, want %s", indexOfVID(tmp, vid), got[vid], w)
				}
			}
			if _, err := r.CreateVID(ctx, "t", res.UIN, VIDTemporary); err != nil {
				t.Errorf("CreateVID after the others expired = %v", err)
			}
			if _, err := r.CreateVID(ctx, "t", res.UIN, "eternal"); codeOf(err) != CodeInvalidRequest {
				t.Errorf("CreateVID(unknown type) = %v, want invalid_request", err)
			}
		})

		t.Run("deactivation", func(t *testing.T) {
			vs, _ := r.ListVIDs(ctx, "t", res.UIN)
			var active string
			for _, v := range vs {
				if v.Status == VIDActive && v.Type == VIDPerpetual {
					active = v.VID
				}
			}
			if _, err := r.SetStatus(ctx, "t", res.UIN, StatusDeactivated, "moved abroad"); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Lookup(ctx, active); codeOf(err) != CodeNotFound {
				t.Errorf("Lookup(VID of deactivated resident) = %v, want not_found", err)
			}
			if _, err := r.CreateVID(ctx, "t", res.UIN, VIDPerpetual); codeOf(err) != CodeIdentityInactive {
				t.Errorf("CreateVID(deactivated resident) = %v, want identity_inactive", err)
			}
			if _, err := r.SetStatus(ctx, "t", res.UIN, StatusActive, ""); err != nil {
				t.Fatal(err)
			}
			if p, err := r.Lookup(ctx, active); err != nil || p.ID != res.ID {
				t.Errorf("Lookup(VID after reactivation) = %+v, %v", p, err)
			}
		})
	})
}

func statuses(vs []VIDInfo, typ string) map[string]string {
	m := map[string]string{}
	for _, v := range vs {
		if v.Type == typ {
			m[v.VID] = v.Status
		}
	}
	return m
}

func indexOfVID(vs []VIDInfo, vid string) int {
	for i, v := range vs {
		if v.VID == vid {
			return i
		}
	}
	return -1
}

func TestLookup(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		res, err := r.Create(ctx, "t", amina())
		if err != nil {
			t.Fatal(err)
		}
		vid, err := r.CreateVID(ctx, "t", res.UIN, VIDPerpetual)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			name, loginID string
			withUIN       bool
		}{
			{"UIN", res.UIN, true},
			{"UIN with spaces around", " " + res.UIN + " ", true},
			{"VID", vid.VID, false},
			{"phone", "+447700900555", true},
			{"phone formatted", "+44 (7700) 900-555", true},
			{"e-mail", "amina.testwoman@example.org", true},
			{"e-mail upper case", "AMINA.TESTWOMAN@EXAMPLE.ORG", true},
		} {
			p, err := r.Lookup(ctx, tt.loginID)
			if err != nil || p.ID != res.ID || p.Status != StatusActive {
				t.Errorf("Lookup(%s) = %+v, %v; want %s", tt.name, p, err, res.ID)
				continue
			}
			if names, _ := p.Identity["fullName"].([]any); len(names) != 2 {
				t.Errorf("Lookup(%s): identity = %v", tt.name, p.Identity)
			}
			if u, ok := p.Identity[uinField]; ok != tt.withUIN || (ok && u != res.UIN) {
				t.Errorf("Lookup(%s): UIN in identity = %v, want present: %v", tt.name, u, tt.withUIN)
			}
		}
		for _, id := range []string{"2916593705", "9607632495471680", "+447700900999", "nobody@example.org"} {
			if _, err := r.Lookup(ctx, id); codeOf(err) != CodeNotFound {
				t.Errorf("Lookup(unknown) = %v, want not_found", err)
			}
		}
	})
}

func TestSeedDemo(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		ctx := t.Context()
		r := newTestRepo(t, db)
		created, err := SeedDemo(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		fixture := DemoResidents()
		if len(created) != len(fixture) {
			t.Fatalf("SeedDemo created %d, want %d", len(created), len(fixture))
		}
		for _, d := range created {
			p, err := r.Lookup(ctx, d.UIN)
			if err != nil || p.ID != d.ResidentID || d.ResidentID == "" {
				t.Errorf("Lookup(demo UIN) = %+v, %v; want %s", p, err, d.ResidentID)
			}
			if p, err := r.Lookup(ctx, d.Identity["phone"].(string)); err != nil || p.ID != d.ResidentID {
				t.Errorf("Lookup(demo phone) = %+v, %v", p, err)
			}
		}
		again, err := SeedDemo(ctx, r)
		if err != nil || len(again) != 0 {
			t.Errorf("SeedDemo again = %d created, %v; want none", len(again), err)
		}
	})
}
