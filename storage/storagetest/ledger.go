package storagetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// ledgerCases are RunDurable's cases for storage.Ledger. Each runs on a
// store of its own, in parallel with the others; the concurrency cases are
// in runLedgerConcurrent.
var ledgerCases = []struct {
	name string
	test func(t *testing.T, d storage.Durable)
}{
	{"RecordCredentials then GetCredential round-trips", testRecordCredentials},
	{"RecordCredentials with a taken or repeated ID stores nothing", testRecordCredentialsTaken},
	{"RecordCredentials with an unknown status or event stores nothing", testRecordCredentialsInvalid},
	{"ListCredentials filters and orders", testListCredentials},
	{"ListCredentials pages", testListCredentialsPaging},
	{"ListCredentials limits", testListCredentialsLimit},
	{"SetWalletEvent only for the matching subject", testSetWalletEvent},
	{"SetCredentialStatus", testSetCredentialStatus},
	{"TransitionCredentialStatus", testTransitionCredentialStatus},
	{"TransitionCredentialStatus with invalid arguments changes nothing", testTransitionCredentialStatusInvalid},
}

// runLedgerConcurrent runs the ledger's concurrency cases, one at a time,
// each on a store of its own.
func runLedgerConcurrent(t *testing.T, open func(t *testing.T) storage.Durable) {
	t.Run("concurrent RecordCredentials of distinct batches", func(t *testing.T) {
		testConcurrentRecordCredentials(t, open(t))
	})
	t.Run("concurrent RecordCredentials of one ID", func(t *testing.T) {
		testConcurrentRecordCredentialsSame(t, open(t))
	})
	t.Run("concurrent revoke and reinstate of one credential", func(t *testing.T) {
		testConcurrentTransitions(t, open(t), reinstateCredential)
	})
	t.Run("concurrent revoke and reinstate of a person's credentials", func(t *testing.T) {
		testConcurrentTransitions(t, open(t), reinstatePerson)
	})
}

// newCredential returns a ledger entry with every field set, issued at t0
// plus minutes.
func newCredential(id string, minutes int) storage.IssuedCredential {
	issued := t0.Add(time.Duration(minutes)*time.Minute + 123*time.Nanosecond)
	return storage.IssuedCredential{
		ID:                  id,
		ConfigurationID:     "NationalIDCredential",
		Format:              "dc+sd-jwt",
		PersonID:            "person-1",
		Subject:             "pairwise-subject-1",
		HolderKeyThumbprint: "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs",
		NotificationID:      "notification-" + id,
		IssuedAt:            issued,
		ValidFrom:           issued.Add(-time.Second),
		ValidUntil:          issued.Add(365*24*time.Hour + 456*time.Nanosecond),
		Status:              storage.CredentialValid,
		StatusList:          "https://id.example/status/1",
		StatusIndex:         42,
	}
}

// storedCredential is c as a backend returns it: times in UTC, to the
// microsecond.
func storedCredential(c storage.IssuedCredential) storage.IssuedCredential {
	for _, p := range []*time.Time{&c.IssuedAt, &c.ValidFrom, &c.ValidUntil, &c.WalletEventAt} {
		*p = storedTime(*p)
	}
	return c
}

// diffCredential describes how got differs from want, "" if it does not.
func diffCredential(got, want storage.IssuedCredential) string {
	var d []string
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		name := gv.Type().Field(i).Name
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if gt, ok := g.(time.Time); ok {
			if s := diffTime(name, gt, w.(time.Time)); s != "" {
				d = append(d, s)
			}
			continue
		}
		if g != w {
			d = append(d, fmt.Sprintf("%s %#v, want %#v", name, g, w))
		}
	}
	return strings.Join(d, "; ")
}

func mustRecord(t *testing.T, d storage.Durable, cs ...storage.IssuedCredential) {
	t.Helper()
	if err := d.RecordCredentials(t.Context(), cs); err != nil {
		t.Fatalf("RecordCredentials(%d credentials, first %q) = %v, want nil", len(cs), cs[0].ID, err)
	}
}

// checkCredential checks that GetCredential returns want (as stored).
func checkCredential(t *testing.T, d storage.Durable, want storage.IssuedCredential) {
	t.Helper()
	got, err := d.GetCredential(t.Context(), want.ID)
	if err != nil {
		t.Errorf("GetCredential(%q) = %v, want nil error", want.ID, err)
	} else if diff := diffCredential(got, storedCredential(want)); diff != "" {
		t.Errorf("GetCredential(%q): %s", want.ID, diff)
	}
}

func checkNoCredential(t *testing.T, d storage.Durable, id string) {
	t.Helper()
	if c, err := d.GetCredential(t.Context(), id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetCredential(%q) = %+v, %v, want %v", id, c, err, storage.ErrNotFound)
	}
}

func credentialIDs(cs []storage.IssuedCredential) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

// mustListCredentials lists with f and fails t on an error.
func mustListCredentials(t *testing.T, d storage.Durable, f storage.CredentialFilter) []storage.IssuedCredential {
	t.Helper()
	cs, err := d.ListCredentials(t.Context(), f)
	if err != nil {
		t.Fatalf("ListCredentials(%+v) = %v, want nil error", f, err)
	}
	return cs
}

func testRecordCredentials(t *testing.T, d storage.Durable) {
	riyadh := time.FixedZone("AST", 3*60*60)
	tests := []struct {
		name   string
		change func(c *storage.IssuedCredential)
	}{
		{"every field", func(c *storage.IssuedCredential) {}},
		{"wallet event set", func(c *storage.IssuedCredential) {
			c.WalletEvent, c.WalletEventAt = storage.WalletAccepted, c.IssuedAt.Add(time.Minute)
		}},
		{"nanoseconds truncated, other zones", func(c *storage.IssuedCredential) {
			c.IssuedAt = time.Date(2025, 3, 1, 15, 0, 0, 123456789, riyadh)
			c.ValidFrom = time.Now() // local, with a monotonic clock reading
			c.ValidUntil = time.Date(2026, 3, 1, 15, 0, 0, 999, riyadh)
		}},
		{"before 1970 and far future", func(c *storage.IssuedCredential) {
			c.ValidFrom = time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)
			c.ValidUntil = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)
		}},
		{"zero ValidUntil stays zero", func(c *storage.IssuedCredential) { c.ValidUntil = time.Time{} }},
		{"unbound, no status list", func(c *storage.IssuedCredential) {
			c.HolderKeyThumbprint, c.StatusList, c.StatusIndex = "", "", -1
		}},
		{"large status index, revoked", func(c *storage.IssuedCredential) {
			c.StatusIndex, c.Status = 1<<40+7, storage.CredentialRevoked
		}},
		{"texts that need escaping", func(c *storage.IssuedCredential) {
			c.ConfigurationID, c.Format = `config "ق" \ é`, "vc+sd-jwt"
			c.PersonID, c.Subject = "person/ß", "sub\nject'; --"
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCredential(fmt.Sprintf("urn:uuid:round-trip-%d", i), i)
			tt.change(&c)
			mustRecord(t, d, c)
			checkCredential(t, d, c)
		})
	}
	t.Run("a batch", func(t *testing.T) {
		batch := make([]storage.IssuedCredential, 5)
		for i := range batch {
			batch[i] = newCredential(fmt.Sprintf("urn:uuid:batch-%d", i), 100)
			batch[i].NotificationID = "notification-batch"
		}
		mustRecord(t, d, batch...)
		for _, c := range batch {
			checkCredential(t, d, c)
		}
	})
	t.Run("no credentials", func(t *testing.T) {
		if err := d.RecordCredentials(t.Context(), nil); err != nil {
			t.Errorf("RecordCredentials(nil) = %v, want nil", err)
		}
	})
	checkNoCredential(t, d, "urn:uuid:missing")
}

func testRecordCredentialsTaken(t *testing.T, d storage.Durable) {
	taken := newCredential("urn:uuid:taken", 0)
	mustRecord(t, d, taken)
	// A batch longer than one multi-row statement, so that the duplicate
	// is in a later statement than rows already written.
	long := make([]storage.IssuedCredential, 1200)
	for i := range long {
		long[i] = newCredential(fmt.Sprintf("urn:uuid:long-%04d", i), i)
	}
	long[len(long)-1].ID = "urn:uuid:long-0000"

	tests := []struct {
		name  string
		batch []storage.IssuedCredential
		fresh []string // ids in the batch that must not be stored
	}{
		{"taken ID alone", []storage.IssuedCredential{newCredential("urn:uuid:taken", 5)}, nil},
		{"taken ID in the middle", []storage.IssuedCredential{
			newCredential("urn:uuid:first", 1), newCredential("urn:uuid:taken", 2), newCredential("urn:uuid:last", 3),
		}, []string{"urn:uuid:first", "urn:uuid:last"}},
		{"ID repeated in the batch", []storage.IssuedCredential{
			newCredential("urn:uuid:a", 1), newCredential("urn:uuid:b", 2), newCredential("urn:uuid:a", 3),
		}, []string{"urn:uuid:a", "urn:uuid:b"}},
		{"ID repeated across statements", long, []string{long[1].ID, long[600].ID, long[1198].ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.RecordCredentials(t.Context(), tt.batch)
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("RecordCredentials(%d credentials) = %v, want %v", len(tt.batch), err, storage.ErrAlreadyExists)
			}
			for _, id := range tt.fresh {
				checkNoCredential(t, d, id)
				if t.Failed() {
					break // one is enough to see the batch was not undone
				}
			}
		})
	}
	checkCredential(t, d, taken)
	if got := mustListCredentials(t, d, storage.CredentialFilter{Limit: 1000}); len(got) != 1 {
		t.Errorf("ListCredentials() after refused batches = %q, want only %q", credentialIDs(got), taken.ID)
	}
}

func testRecordCredentialsInvalid(t *testing.T, d storage.Durable) {
	tests := []struct {
		name   string
		change func(c *storage.IssuedCredential)
	}{
		{"empty status", func(c *storage.IssuedCredential) { c.Status = "" }},
		{"unknown status", func(c *storage.IssuedCredential) { c.Status = "valid" }},
		{"unknown wallet event", func(c *storage.IssuedCredential) { c.WalletEvent = "credential_lost" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good, bad := newCredential("urn:uuid:good", 0), newCredential("urn:uuid:bad", 1)
			tt.change(&bad)
			if err := d.RecordCredentials(t.Context(), []storage.IssuedCredential{good, bad}); err == nil {
				t.Errorf("RecordCredentials(status %q, event %q) = nil, want an error", bad.Status, bad.WalletEvent)
			}
			checkNoCredential(t, d, good.ID)
			checkNoCredential(t, d, bad.ID)
		})
	}
}

// ledgerFixture records a ledger to filter: two configurations, two
// persons, all three statuses, issue times out of insertion order with
// ties, and ids whose byte order differs from locale order.
func ledgerFixture(t *testing.T, d storage.Durable) []storage.IssuedCredential {
	type spec struct {
		id, config, person, status string
		minutes                    int
	}
	specs := []spec{
		{"c", "NID", "p1", storage.CredentialValid, 10},
		{"a", "NID", "p1", storage.CredentialRevoked, 0},
		{"B", "NID", "p2", storage.CredentialValid, 10}, // ties with c and b: "B" < "b" < "c" by byte
		{"b", "Health", "p1", storage.CredentialSuspended, 10},
		{"e", "Health", "p2", storage.CredentialValid, 30},
		{"d", "NID", "p2", storage.CredentialValid, 20},
		{"old", "Health", "p1", storage.CredentialValid, -60},
	}
	var cs []storage.IssuedCredential
	for _, s := range specs {
		c := newCredential(s.id, s.minutes)
		c.IssuedAt = t0.Add(time.Duration(s.minutes) * time.Minute) // whole microseconds: ties stay ties
		c.ConfigurationID, c.PersonID, c.Status = s.config, s.person, s.status
		cs = append(cs, c)
	}
	// Two batches, so that insertion order is not issue order either.
	mustRecord(t, d, cs[:3]...)
	mustRecord(t, d, cs[3:]...)
	return cs
}

func testListCredentials(t *testing.T, d storage.Durable) {
	all := ledgerFixture(t, d)
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	tests := []struct {
		name   string
		filter storage.CredentialFilter
		want   []string
	}{
		{"everything", storage.CredentialFilter{}, []string{"old", "a", "B", "b", "c", "d", "e"}},
		{"configuration", storage.CredentialFilter{ConfigurationID: "NID"}, []string{"a", "B", "c", "d"}},
		{"person", storage.CredentialFilter{PersonID: "p2"}, []string{"B", "d", "e"}},
		{"status", storage.CredentialFilter{Status: storage.CredentialValid}, []string{"old", "B", "c", "d", "e"}},
		{"configuration, person and status", storage.CredentialFilter{
			ConfigurationID: "NID", PersonID: "p1", Status: storage.CredentialValid,
		}, []string{"c"}},
		{"issued from, inclusive", storage.CredentialFilter{IssuedFrom: at(10)}, []string{"B", "b", "c", "d", "e"}},
		{"issued before, exclusive", storage.CredentialFilter{IssuedBefore: at(10)}, []string{"old", "a"}},
		{"issued in a window", storage.CredentialFilter{IssuedFrom: at(0), IssuedBefore: at(20)},
			[]string{"a", "B", "b", "c"}},
		{"from a nanosecond after", storage.CredentialFilter{IssuedFrom: at(10).Add(time.Nanosecond)},
			[]string{"d", "e"}},
		{"before a nanosecond after", storage.CredentialFilter{IssuedBefore: at(10).Add(time.Nanosecond)},
			[]string{"old", "a", "B", "b", "c"}},
		{"from, in another zone", storage.CredentialFilter{IssuedFrom: at(20).In(time.FixedZone("X", -5*3600))},
			[]string{"d", "e"}},
		{"empty window", storage.CredentialFilter{IssuedFrom: at(20), IssuedBefore: at(20)}, []string{}},
		{"unknown configuration", storage.CredentialFilter{ConfigurationID: "missing"}, []string{}},
		{"unknown person", storage.CredentialFilter{PersonID: "missing"}, []string{}},
		{"person with a configuration", storage.CredentialFilter{PersonID: "p1", ConfigurationID: "Health"},
			[]string{"old", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustListCredentials(t, d, tt.filter)
			if !slices.Equal(credentialIDs(got), tt.want) {
				t.Fatalf("ListCredentials(%+v) = %q, want %q", tt.filter, credentialIDs(got), tt.want)
			}
		})
	}
	// Whole entries come back as stored.
	got := mustListCredentials(t, d, storage.CredentialFilter{})
	byID := map[string]storage.IssuedCredential{}
	for _, c := range all {
		byID[c.ID] = c
	}
	for _, c := range got {
		if diff := diffCredential(c, storedCredential(byID[c.ID])); diff != "" {
			t.Errorf("ListCredentials(): %q: %s", c.ID, diff)
		}
	}
}

func testListCredentialsPaging(t *testing.T, d storage.Durable) {
	ledgerFixture(t, d)
	for _, f := range []storage.CredentialFilter{{}, {PersonID: "p1"}, {Status: storage.CredentialValid}} {
		t.Run(fmt.Sprintf("%+v", f), func(t *testing.T) {
			want := credentialIDs(mustListCredentials(t, d, f))
			var paged []string
			page := f
			page.Limit = 2
			for range 10 {
				cs := mustListCredentials(t, d, page)
				if len(cs) > 2 {
					t.Fatalf("ListCredentials(%+v) = %d entries, want at most 2", page, len(cs))
				}
				paged = append(paged, credentialIDs(cs)...)
				if len(cs) < 2 {
					break
				}
				page.After = cs[len(cs)-1].ID
			}
			if !slices.Equal(paged, want) {
				t.Errorf("ListCredentials(%+v) in pages of 2 = %q, want %q", f, paged, want)
			}
		})
	}
	tests := []struct {
		name   string
		filter storage.CredentialFilter
		want   []string
	}{
		{"after a tie", storage.CredentialFilter{After: "B"}, []string{"b", "c", "d", "e"}},
		{"after the last of a tie", storage.CredentialFilter{After: "c", Limit: 1}, []string{"d"}},
		{"after the last", storage.CredentialFilter{After: "e"}, []string{}},
		{"after an entry the filter excludes", storage.CredentialFilter{After: "b", PersonID: "p2"},
			[]string{"d", "e"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustListCredentials(t, d, tt.filter)
			if !slices.Equal(credentialIDs(got), tt.want) {
				t.Errorf("ListCredentials(%+v) = %q, want %q", tt.filter, credentialIDs(got), tt.want)
			}
		})
	}
	t.Run("after an unknown id", func(t *testing.T) {
		f := storage.CredentialFilter{After: "missing"}
		if cs, err := d.ListCredentials(t.Context(), f); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("ListCredentials(%+v) = %q, %v, want %v", f, credentialIDs(cs), err, storage.ErrNotFound)
		}
	})
}

func testListCredentialsLimit(t *testing.T, d storage.Durable) {
	cs := make([]storage.IssuedCredential, 1002)
	for i := range cs {
		cs[i] = newCredential(fmt.Sprintf("urn:uuid:%04d", i), i)
	}
	mustRecord(t, d, cs...)
	tests := []struct {
		limit, want int
	}{
		{0, 100}, {-1, 100}, {1, 1}, {999, 999}, {1000, 1000}, {1001, 1000}, {1 << 30, 1000},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.limit), func(t *testing.T) {
			got := mustListCredentials(t, d, storage.CredentialFilter{Limit: tt.limit})
			if len(got) != tt.want {
				t.Errorf("ListCredentials(Limit %d) = %d entries, want %d", tt.limit, len(got), tt.want)
			} else if tt.want > 0 && (got[0].ID != cs[0].ID || got[tt.want-1].ID != cs[tt.want-1].ID) {
				t.Errorf("ListCredentials(Limit %d) = %q … %q, want %q … %q",
					tt.limit, got[0].ID, got[tt.want-1].ID, cs[0].ID, cs[tt.want-1].ID)
			}
		})
	}
}

func testSetWalletEvent(t *testing.T, d storage.Durable) {
	mk := func(id, notification, subject string) storage.IssuedCredential {
		c := newCredential(id, 0)
		c.NotificationID, c.Subject = notification, subject
		return c
	}
	n1 := []storage.IssuedCredential{mk("n1-a", "n1", "s1"), mk("n1-b", "n1", "s1"), mk("n1-c", "n1", "s1")}
	strange := mk("n1-other-subject", "n1", "s2") // same notification id, another subject
	n2 := mk("n2-a", "n2", "s1")
	none := mk("no-notification", "", "s1")
	mustRecord(t, d, append(slices.Clone(n1), strange, n2, none)...)

	set := func(notification, subject, event string, at time.Time) (int, error) {
		return d.SetWalletEvent(t.Context(), notification, subject, event, at)
	}
	at := t0.Add(time.Hour + 789*time.Nanosecond)
	tests := []struct {
		name                         string
		notification, subject, event string
		want                         int
	}{
		{"another subject's notification", "n2", "s2", storage.WalletAccepted, 0},
		{"unknown notification", "n3", "s1", storage.WalletAccepted, 0},
		{"empty notification", "", "s1", storage.WalletAccepted, 0},
		{"notification in another case", "N1", "s1", storage.WalletAccepted, 0},
		{"matching", "n1", "s1", storage.WalletAccepted, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := set(tt.notification, tt.subject, tt.event, at)
			if n != tt.want || err != nil {
				t.Errorf("SetWalletEvent(%q, %q, %q) = %d, %v, want %d, nil",
					tt.notification, tt.subject, tt.event, n, err, tt.want)
			}
		})
	}
	for _, c := range n1 {
		c.WalletEvent, c.WalletEventAt = storage.WalletAccepted, at
		checkCredential(t, d, c)
	}
	for _, c := range []storage.IssuedCredential{strange, n2, none} {
		checkCredential(t, d, c)
	}

	t.Run("a later event replaces the earlier", func(t *testing.T) {
		later := at.Add(24 * time.Hour)
		if n, err := set("n1", "s1", storage.WalletDeleted, later); n != 3 || err != nil {
			t.Errorf("SetWalletEvent(%q, %q, %q) = %d, %v, want 3, nil", "n1", "s1", storage.WalletDeleted, n, err)
		}
		for _, c := range n1 {
			c.WalletEvent, c.WalletEventAt = storage.WalletDeleted, later
			checkCredential(t, d, c)
		}
	})
	t.Run("unknown event", func(t *testing.T) {
		for _, event := range []string{"", "credential_lost", "CREDENTIAL_ACCEPTED"} {
			if n, err := set("n2", "s1", event, at); n != 0 || err == nil {
				t.Errorf("SetWalletEvent(%q, %q, %q) = %d, %v, want 0, an error", "n2", "s1", event, n, err)
			}
		}
		checkCredential(t, d, n2)
	})
}

func testSetCredentialStatus(t *testing.T, d storage.Durable) {
	a, b := newCredential("a", 0), newCredential("b", 1)
	mustRecord(t, d, a, b)
	for _, status := range []string{storage.CredentialSuspended, storage.CredentialValid, storage.CredentialRevoked} {
		if err := d.SetCredentialStatus(t.Context(), "a", status); err != nil {
			t.Fatalf("SetCredentialStatus(%q, %q) = %v, want nil", "a", status, err)
		}
		a.Status = status
		checkCredential(t, d, a)
	}
	checkCredential(t, d, b)
	if got := mustListCredentials(t, d, storage.CredentialFilter{Status: storage.CredentialRevoked}); !slices.Equal(credentialIDs(got), []string{"a"}) {
		t.Errorf("ListCredentials(Status %s) = %q, want [a]", storage.CredentialRevoked, credentialIDs(got))
	}
	if err := d.SetCredentialStatus(t.Context(), "missing", storage.CredentialRevoked); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetCredentialStatus(%q) = %v, want %v", "missing", err, storage.ErrNotFound)
	}
	for _, status := range []string{"", "revoked", "EXPIRED"} {
		if err := d.SetCredentialStatus(t.Context(), "b", status); err == nil {
			t.Errorf("SetCredentialStatus(%q, %q) = nil, want an error", "b", status)
		}
	}
	checkCredential(t, d, b)
}

func testTransitionCredentialStatus(t *testing.T, d storage.Durable) {
	const (
		revoked   = storage.CredentialRevoked
		suspended = storage.CredentialSuspended
		valid     = storage.CredentialValid
	)
	var (
		revokable = []string{valid, suspended}
		suspend   = []string{valid}
		reinstate = []string{suspended}
	)
	tests := []struct {
		name     string
		start    string
		from     []string
		to       string
		wantPrev string
		wantErr  error // nil or storage.ErrConflict
		want     string
	}{
		{"revoke a valid one", valid, revokable, revoked, valid, nil, revoked},
		{"revoke a suspended one", suspended, revokable, revoked, suspended, nil, revoked},
		{"revoke a revoked one", revoked, revokable, revoked, revoked, storage.ErrConflict, revoked},
		{"suspend a valid one", valid, suspend, suspended, valid, nil, suspended},
		{"suspend a suspended one", suspended, suspend, suspended, suspended, storage.ErrConflict, suspended},
		{"suspend a revoked one", revoked, suspend, suspended, revoked, storage.ErrConflict, revoked},
		{"reinstate a suspended one", suspended, reinstate, valid, suspended, nil, valid},
		{"reinstate a valid one", valid, reinstate, valid, valid, storage.ErrConflict, valid},
		{"reinstate a revoked one", revoked, reinstate, valid, revoked, storage.ErrConflict, revoked},
		{"already the target, which from allows", suspended, []string{valid, suspended}, suspended, suspended, nil, suspended},
		{"from with a repeated status", valid, []string{valid, valid}, revoked, valid, nil, revoked},
		{"from every status", revoked, []string{valid, suspended, revoked}, valid, revoked, nil, valid},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A list of the row's own, with the credential and a
			// neighbour that must not change.
			list := fmt.Sprintf("transition-%d", i)
			reserve(t, d, "https://"+list+".example", storage.StatusListW3C, 2, 10, list)
			c, other := onList(list+"-c", "p", "NID", list, 0), onList(list+"-other", "p", "NID", list, 1)
			c.Status = tt.start
			mustRecord(t, d, c, other)

			prev, err := d.TransitionCredentialStatus(t.Context(), c.ID, tt.from, tt.to)
			if prev != tt.wantPrev || !errors.Is(err, tt.wantErr) {
				t.Errorf("TransitionCredentialStatus(%q, %q, %q) = %q, %v, want %q, %v",
					c.ID, tt.from, tt.to, prev, err, tt.wantPrev, tt.wantErr)
			}
			c.Status = tt.want
			checkCredential(t, d, c)
			checkCredential(t, d, other)
			wantVersion := int64(0)
			if tt.want != tt.start {
				wantVersion = 1
			}
			if l := mustGetStatusList(t, d, list); l.Version != wantVersion {
				t.Errorf("after TransitionCredentialStatus(%q, %q, %q) from %s: GetStatusList(%q).Version = %d, want %d",
					c.ID, tt.from, tt.to, tt.start, list, l.Version, wantVersion)
			}
		})
	}
	t.Run("not on a list", func(t *testing.T) {
		for _, list := range []string{"", "https://other.example/list"} {
			c := onList("unlisted-"+list, "p", "NID", list, -1)
			mustRecord(t, d, c)
			prev, err := d.TransitionCredentialStatus(t.Context(), c.ID, []string{valid}, revoked)
			if prev != valid || err != nil {
				t.Errorf("TransitionCredentialStatus(%q, [VALID], REVOKED) = %q, %v, want VALID, nil", c.ID, prev, err)
			}
			c.Status = revoked
			checkCredential(t, d, c)
		}
	})
	t.Run("unknown credential", func(t *testing.T) {
		for _, id := range []string{"missing", "", "TRANSITION-0-C"} {
			prev, err := d.TransitionCredentialStatus(t.Context(), id, revokable, revoked)
			if prev != "" || !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("TransitionCredentialStatus(%q) = %q, %v, want \"\", %v", id, prev, err, storage.ErrNotFound)
			}
		}
	})
}

func testTransitionCredentialStatusInvalid(t *testing.T, d storage.Durable) {
	reserve(t, d, "https://issuer.example", storage.StatusListW3C, 1, 10, "l1")
	c := onList("a", "p", "NID", "l1", 0)
	c.Status = storage.CredentialSuspended
	mustRecord(t, d, c)
	tests := []struct {
		name string
		from []string
		to   string
	}{
		{"empty status", []string{storage.CredentialSuspended}, ""},
		{"status in lower case", []string{storage.CredentialSuspended}, "valid"},
		{"unknown status", []string{storage.CredentialSuspended}, "EXPIRED"},
		{"no from", nil, storage.CredentialValid},
		{"empty from", []string{}, storage.CredentialValid},
		{"unknown from", []string{storage.CredentialSuspended, "suspended"}, storage.CredentialValid},
		{"empty from status", []string{""}, storage.CredentialValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev, err := d.TransitionCredentialStatus(t.Context(), c.ID, tt.from, tt.to)
			if err == nil || errors.Is(err, storage.ErrConflict) || errors.Is(err, storage.ErrNotFound) {
				t.Errorf("TransitionCredentialStatus(%q, %q, %q) = %q, %v, want an argument error", c.ID, tt.from, tt.to, prev, err)
			}
		})
	}
	checkCredential(t, d, c)
	if l := mustGetStatusList(t, d, "l1"); l.Version != 0 {
		t.Errorf("GetStatusList(%q).Version = %d after refused changes, want 0", "l1", l.Version)
	}
}

// reinstateBy is how a concurrency case reinstates a suspended
// credential: it reports whether it changed the credential, and fails
// with a description when the store answered wrongly.
type reinstateBy func(t *testing.T, d storage.Durable, c storage.IssuedCredential) (changed bool, wrong string)

// reinstateCredential reinstates with TransitionCredentialStatus.
func reinstateCredential(t *testing.T, d storage.Durable, c storage.IssuedCredential) (bool, string) {
	from := []string{storage.CredentialSuspended}
	prev, err := d.TransitionCredentialStatus(t.Context(), c.ID, from, storage.CredentialValid)
	switch {
	case err == nil && prev == storage.CredentialSuspended:
		return true, ""
	case errors.Is(err, storage.ErrConflict) && (prev == storage.CredentialValid || prev == storage.CredentialRevoked):
		return false, ""
	}
	return false, fmt.Sprintf("TransitionCredentialStatus(%q, %q, VALID) = %q, %v, want SUSPENDED, nil or VALID or REVOKED, %v",
		c.ID, from, prev, err, storage.ErrConflict)
}

// reinstatePerson reinstates all of the person's suspended credentials
// with SetPersonCredentialsStatus.
func reinstatePerson(t *testing.T, d storage.Durable, c storage.IssuedCredential) (bool, string) {
	n, err := d.SetPersonCredentialsStatus(t.Context(), c.PersonID, "", storage.CredentialSuspended, storage.CredentialValid)
	if err != nil || n > 1 {
		return false, fmt.Sprintf("SetPersonCredentialsStatus(%q, \"\", SUSPENDED, VALID) = %d, %v, want 0 or 1, nil",
			c.PersonID, n, err)
	}
	return n == 1, ""
}

// testConcurrentTransitions revokes (TransitionCredentialStatus from
// VALID or SUSPENDED) and reinstates (reinstate, from SUSPENDED) one
// suspended credential from many goroutines at once. Whatever the order,
// the first revocation finds it suspended or valid and succeeds, and
// nothing leaves REVOKED: so exactly one revocation succeeds and the
// credential ends revoked; at most one reinstatement succeeds, and only
// before the revocation (which then found it valid). Each success bumps
// the list's version once.
func testConcurrentTransitions(t *testing.T, d storage.Durable, reinstate reinstateBy) {
	const (
		revoked   = storage.CredentialRevoked
		suspended = storage.CredentialSuspended
		valid     = storage.CredentialValid
	)
	reserve(t, d, "https://issuer.example", storage.StatusListW3C, 1, 10, "l1")
	c := onList("contested", "p", "NID", "l1", 0)
	c.Status = suspended
	mustRecord(t, d, c)

	revokable := []string{valid, suspended}
	isRevoke := func(i int) bool { return i%2 == 0 }
	prevs := make([]string, goroutines)
	reinstated := make([]bool, goroutines)
	errs := concurrently(goroutines, func(i int) error {
		if !isRevoke(i) {
			var wrong string
			if reinstated[i], wrong = reinstate(t, d, c); wrong != "" {
				return errors.New(wrong)
			}
			return nil
		}
		var err error
		prevs[i], err = d.TransitionCredentialStatus(t.Context(), c.ID, revokable, revoked)
		return err
	})
	var revokes, reinstates int
	revokedFrom := ""
	for i, err := range errs {
		switch {
		case !isRevoke(i) && err != nil:
			t.Errorf("reinstate %d: %v", i, err)
		case !isRevoke(i) && reinstated[i]:
			reinstates++
		case !isRevoke(i):
		case err == nil && slices.Contains(revokable, prevs[i]):
			revokes++
			revokedFrom = prevs[i]
		case errors.Is(err, storage.ErrConflict) && prevs[i] == revoked:
		default:
			t.Errorf("revoke %d: TransitionCredentialStatus(%q, %q, REVOKED) = %q, %v, want VALID or SUSPENDED, nil or REVOKED, %v",
				i, c.ID, revokable, prevs[i], err, storage.ErrConflict)
		}
	}
	if revokes != 1 || reinstates > 1 {
		t.Errorf("%d revocations and %d reinstatements succeeded, want 1 and at most 1", revokes, reinstates)
	}
	// A reinstatement succeeded only if it came before the revocation.
	if wantFrom := map[int]string{0: suspended, 1: valid}[reinstates]; revokedFrom != wantFrom {
		t.Errorf("after %d reinstatements, the revocation found %q, want %q", reinstates, revokedFrom, wantFrom)
	}
	if got, err := d.GetCredential(t.Context(), c.ID); err != nil || got.Status != revoked {
		t.Errorf("GetCredential(%q) after the race = %q, %v, want %s", c.ID, got.Status, err, revoked)
	}
	if l := mustGetStatusList(t, d, "l1"); l.Version != int64(revokes+reinstates) {
		t.Errorf("GetStatusList(%q).Version = %d, want %d, one per change", "l1", l.Version, revokes+reinstates)
	}
}

func testConcurrentRecordCredentials(t *testing.T, d storage.Durable) {
	const perBatch = 4
	errs := concurrently(goroutines, func(i int) error {
		batch := make([]storage.IssuedCredential, perBatch)
		for j := range batch {
			batch[j] = newCredential(fmt.Sprintf("urn:uuid:%02d-%d", i, j), i)
		}
		return d.RecordCredentials(t.Context(), batch)
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("RecordCredentials(batch %d) = %v, want nil", i, err)
		}
	}
	if got := mustListCredentials(t, d, storage.CredentialFilter{Limit: 1000}); len(got) != goroutines*perBatch {
		t.Errorf("ListCredentials() after %d concurrent batches of %d = %d entries, want %d",
			goroutines, perBatch, len(got), goroutines*perBatch)
	}
}

func testConcurrentRecordCredentialsSame(t *testing.T, d storage.Durable) {
	var winner atomic.Int64
	winner.Store(-1)
	errs := concurrently(goroutines, func(i int) error {
		// Each batch has a fresh id and the contested one.
		batch := []storage.IssuedCredential{
			newCredential(fmt.Sprintf("urn:uuid:fresh-%02d", i), i),
			newCredential("urn:uuid:contested", i),
		}
		err := d.RecordCredentials(t.Context(), batch)
		if err == nil {
			winner.Store(int64(i))
		}
		return err
	})
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("RecordCredentials(batch %d) = %v, want nil or %v", i, err, storage.ErrAlreadyExists)
		}
	}
	if won != 1 {
		t.Fatalf("RecordCredentials of one id in %d goroutines succeeded %d times, want once", goroutines, won)
	}
	got := mustListCredentials(t, d, storage.CredentialFilter{Limit: 1000})
	w := int(winner.Load())
	want := []string{"urn:uuid:contested", fmt.Sprintf("urn:uuid:fresh-%02d", w)}
	if slices.Sort(want); !slices.Equal(slices.Sorted(slices.Values(credentialIDs(got))), want) {
		t.Errorf("ListCredentials() = %q, want only the winning batch %q", credentialIDs(got), want)
	}
}

// BenchLedger measures RecordCredentials from parallel goroutines, as the
// credential endpoint calls it: one batch per credential response, of 1
// and of 10 credentials. It reports credentials/s. d must start empty.
func BenchLedger(b *testing.B, d storage.Durable) {
	var seq atomic.Int64
	for _, size := range []int{1, 10} {
		b.Run(fmt.Sprintf("RecordCredentials/batch=%d", size), func(b *testing.B) {
			b.ReportAllocs()
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				batch := make([]storage.IssuedCredential, size)
				for pb.Next() {
					n := seq.Add(1)
					for j := range batch {
						batch[j] = newCredential(fmt.Sprintf("urn:uuid:bench-%d-%d", n, j), int(n%1000))
						batch[j].NotificationID = "bench-" + strconv.FormatInt(n, 10)
						batch[j].PersonID = "person-" + strconv.FormatInt(n%5000, 10)
					}
					if err := d.RecordCredentials(b.Context(), batch); err != nil {
						b.Fatalf("RecordCredentials(%d credentials) = %v, want nil", size, err)
					}
				}
			})
			b.ReportMetric(float64(b.N*size)/time.Since(start).Seconds(), "credentials/s")
		})
	}
}
