package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// consentCases are RunDurable's cases for storage.Consents. Each runs on a
// store of its own, in parallel with the others; the concurrency case is
// testConcurrentPutConsent, which RunDurable runs on its own.
var consentCases = []struct {
	name string
	test func(t *testing.T, d storage.Durable)
}{
	{"PutConsent then GetConsent round-trips", testPutConsent},
	{"PutConsent replaces and appends GRANTED", testReplaceConsent},
	{"ListConsents orders by client id", testListConsents},
	{"DeleteConsent appends WITHDRAWN", testDeleteConsent},
	{"consent lookups of unknown ids", testConsentsMissing},
	{"ConsentHistory pages by seq", testConsentHistoryPaging},
}

// newConsent returns a consent with every field set, created at t0.
func newConsent(clientID, personID string) storage.Consent {
	return storage.Consent{
		ClientID:        clientID,
		PersonID:        personID,
		Hash:            hashOf("request:" + clientID + "\x00" + personID),
		AcceptedClaims:  []string{"name", "email", "phone_number"},
		PermittedScopes: []string{"openid", "profile"},
		CreatedAt:       t0.Add(123 * time.Nanosecond),
		ExpiresAt:       t0.Add(30*24*time.Hour + 456*time.Nanosecond),
	}
}

// storedConsent is c as a backend returns it: times in UTC, to the
// microsecond.
func storedConsent(c storage.Consent) storage.Consent {
	c.CreatedAt, c.ExpiresAt = storedTime(c.CreatedAt), storedTime(c.ExpiresAt)
	return c
}

func storedTime(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(time.Microsecond).UTC()
}

// diffTime describes how got differs from want, "" if it does not: they
// must be equal instants, in UTC unless zero.
func diffTime(name string, got, want time.Time) string {
	switch {
	case !got.Equal(want) || got.IsZero() != want.IsZero():
		return fmt.Sprintf("%s %v, want %v", name, got, want)
	case !got.IsZero() && got.Location() != time.UTC:
		return fmt.Sprintf("%s in %v, want UTC", name, got.Location())
	}
	return ""
}

// diffConsent describes how got differs from want, "" if it does not. Lists
// must match exactly (nil and empty differ); nil and empty bytes are equal.
func diffConsent(got, want storage.Consent) string {
	var d []string
	field := func(name string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s %#v, want %#v", name, g, w))
		}
	}
	field("ClientID", got.ClientID, want.ClientID)
	field("PersonID", got.PersonID, want.PersonID)
	if !bytes.Equal(got.Hash, want.Hash) {
		d = append(d, fmt.Sprintf("Hash %x, want %x", got.Hash, want.Hash))
	}
	field("AcceptedClaims", got.AcceptedClaims, want.AcceptedClaims)
	field("PermittedScopes", got.PermittedScopes, want.PermittedScopes)
	for _, s := range []string{
		diffTime("CreatedAt", got.CreatedAt, want.CreatedAt),
		diffTime("ExpiresAt", got.ExpiresAt, want.ExpiresAt),
	} {
		if s != "" {
			d = append(d, s)
		}
	}
	return strings.Join(d, "; ")
}

// consentEvent is the event that recording c under action appends, Seq
// aside, with the time as stored.
func consentEvent(action string, c storage.Consent, at time.Time) storage.ConsentEvent {
	return storage.ConsentEvent{
		ClientID:        c.ClientID,
		PersonID:        c.PersonID,
		Action:          action,
		AcceptedClaims:  c.AcceptedClaims,
		PermittedScopes: c.PermittedScopes,
		At:              storedTime(at),
	}
}

func granted(c storage.Consent) storage.ConsentEvent {
	return consentEvent(storage.ConsentGranted, c, c.CreatedAt)
}

// diffConsentEvent describes how got differs from want, Seq aside, "" if it
// does not.
func diffConsentEvent(got, want storage.ConsentEvent) string {
	var d []string
	field := func(name string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s %#v, want %#v", name, g, w))
		}
	}
	field("ClientID", got.ClientID, want.ClientID)
	field("PersonID", got.PersonID, want.PersonID)
	field("Action", got.Action, want.Action)
	field("AcceptedClaims", got.AcceptedClaims, want.AcceptedClaims)
	field("PermittedScopes", got.PermittedScopes, want.PermittedScopes)
	if s := diffTime("At", got.At, want.At); s != "" {
		d = append(d, s)
	}
	return strings.Join(d, "; ")
}

func mustPutConsent(t *testing.T, d storage.Durable, cs ...storage.Consent) {
	t.Helper()
	for _, c := range cs {
		if err := d.PutConsent(t.Context(), c); err != nil {
			t.Fatalf("PutConsent(%q, %q) = %v, want nil", c.ClientID, c.PersonID, err)
		}
	}
}

// checkConsent checks that GetConsent returns want (as stored).
func checkConsent(t *testing.T, d storage.Durable, want storage.Consent) {
	t.Helper()
	got, err := d.GetConsent(t.Context(), want.ClientID, want.PersonID)
	if err != nil {
		t.Errorf("GetConsent(%q, %q) = %v, want nil error", want.ClientID, want.PersonID, err)
	} else if diff := diffConsent(got, storedConsent(want)); diff != "" {
		t.Errorf("GetConsent(%q, %q): %s", want.ClientID, want.PersonID, diff)
	}
}

func checkNoConsent(t *testing.T, d storage.Durable, clientID, personID string) {
	t.Helper()
	if c, err := d.GetConsent(t.Context(), clientID, personID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetConsent(%q, %q) = %+v, %v, want %v", clientID, personID, c, err, storage.ErrNotFound)
	}
}

// checkHistory checks that the person's whole history is want, Seq aside,
// with Seq positive and increasing, and returns it.
func checkHistory(t *testing.T, d storage.Durable, personID string, want []storage.ConsentEvent) []storage.ConsentEvent {
	t.Helper()
	call := fmt.Sprintf("ConsentHistory(%q, 0, 1000)", personID)
	got, err := d.ConsentHistory(t.Context(), personID, 0, 1000)
	if err != nil {
		t.Fatalf("%s = %v, want nil error", call, err)
	}
	if len(got) != len(want) {
		t.Errorf("%s = %d events %+v, want %d", call, len(got), got, len(want))
		return got
	}
	prev := int64(0)
	for i, e := range got {
		if diff := diffConsentEvent(e, want[i]); diff != "" {
			t.Errorf("%s: event %d: %s", call, i, diff)
		}
		if e.Seq <= prev {
			t.Errorf("%s: event %d has Seq %d after %d, want positive and increasing", call, i, e.Seq, prev)
		}
		prev = e.Seq
	}
	return got
}

func seqs(es []storage.ConsentEvent) []int64 {
	out := make([]int64, 0, len(es))
	for _, e := range es {
		out = append(out, e.Seq)
	}
	return out
}

func testPutConsent(t *testing.T, d storage.Durable) {
	riyadh := time.FixedZone("AST", 3*60*60)
	tests := []struct {
		name   string
		change func(c *storage.Consent)
	}{
		{"every field", func(c *storage.Consent) {}},
		{"nanoseconds truncated, other zone", func(c *storage.Consent) {
			c.CreatedAt = time.Date(2025, 3, 1, 15, 0, 0, 123456789, riyadh)
			c.ExpiresAt = time.Now() // local, with a monotonic clock reading
		}},
		{"before 1970", func(c *storage.Consent) {
			c.CreatedAt = time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)
		}},
		{"zero ExpiresAt stays zero", func(c *storage.Consent) { c.ExpiresAt = time.Time{} }},
		{"nil lists stay nil", func(c *storage.Consent) { c.AcceptedClaims, c.PermittedScopes = nil, nil }},
		{"empty lists stay empty", func(c *storage.Consent) {
			c.AcceptedClaims, c.PermittedScopes = []string{}, []string{}
		}},
		{"nil hash", func(c *storage.Consent) { c.Hash = nil }},
		{"texts that need escaping", func(c *storage.Consent) {
			c.ClientID, c.PersonID = `client "ق" \ é`, "person/ß"
			c.AcceptedClaims = []string{`"quoted"`, `back\slash`, "الاسم", "", "null"}
			c.PermittedScopes = []string{"openid", "a\nb"}
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newConsent(fmt.Sprintf("client-%d", i), fmt.Sprintf("person-%d", i))
			tt.change(&c)
			mustPutConsent(t, d, c)
			checkConsent(t, d, c)
			checkHistory(t, d, c.PersonID, []storage.ConsentEvent{granted(c)})
		})
	}
}

func testReplaceConsent(t *testing.T, d storage.Durable) {
	first := newConsent("c", "p")
	second := first
	second.Hash = hashOf("another request")
	second.AcceptedClaims = []string{"name"}
	second.PermittedScopes = nil
	second.CreatedAt, second.ExpiresAt = t0.Add(time.Hour), time.Time{}
	mustPutConsent(t, d, first, second)
	checkConsent(t, d, second)
	if cs, err := d.ListConsents(t.Context(), "p"); err != nil || len(cs) != 1 {
		t.Errorf("ListConsents(%q) = %d consents, %v, want 1, nil", "p", len(cs), err)
	}
	checkHistory(t, d, "p", []storage.ConsentEvent{granted(first), granted(second)})
}

func testListConsents(t *testing.T, d storage.Durable) {
	// Put out of order; client ids that sort differently by locale than by
	// byte ("B" < "a" < "b" byte-wise).
	for _, id := range []string{"b", "a", "c-2", "B", "c-10", "a.1"} {
		mustPutConsent(t, d, newConsent(id, "p1"))
	}
	other := newConsent("a", "p2")
	other.AcceptedClaims = []string{"birthdate"}
	mustPutConsent(t, d, other)

	tests := []struct {
		person string
		want   []storage.Consent
	}{
		{"p1", []storage.Consent{newConsent("B", "p1"), newConsent("a", "p1"), newConsent("a.1", "p1"),
			newConsent("b", "p1"), newConsent("c-10", "p1"), newConsent("c-2", "p1")}},
		{"p2", []storage.Consent{other}},
		{"p", nil},
		{"missing", nil},
	}
	for _, tt := range tests {
		t.Run(tt.person, func(t *testing.T) {
			got, err := d.ListConsents(t.Context(), tt.person)
			if err != nil {
				t.Fatalf("ListConsents(%q) = %v, want nil error", tt.person, err)
			}
			ids := func(cs []storage.Consent) []string {
				out := []string{}
				for _, c := range cs {
					out = append(out, c.ClientID+"/"+c.PersonID)
				}
				return out
			}
			if !reflect.DeepEqual(ids(got), ids(tt.want)) {
				t.Fatalf("ListConsents(%q) = %q, want %q", tt.person, ids(got), ids(tt.want))
			}
			for i := range got {
				if diff := diffConsent(got[i], storedConsent(tt.want[i])); diff != "" {
					t.Errorf("ListConsents(%q): %q: %s", tt.person, got[i].ClientID, diff)
				}
			}
		})
	}
}

func testDeleteConsent(t *testing.T, d storage.Durable) {
	a, b := newConsent("a", "p"), newConsent("b", "p")
	a.AcceptedClaims, a.PermittedScopes = []string{"name", "address"}, []string{"openid"}
	otherPerson := newConsent("a", "q")
	mustPutConsent(t, d, a, b, otherPerson)
	at := t0.Add(2*time.Hour + 789*time.Nanosecond)
	if err := d.DeleteConsent(t.Context(), "a", "p", at); err != nil {
		t.Fatalf("DeleteConsent(%q, %q) = %v, want nil", "a", "p", err)
	}
	checkNoConsent(t, d, "a", "p")
	checkConsent(t, d, b)
	checkConsent(t, d, otherPerson)
	if err := d.DeleteConsent(t.Context(), "a", "p", at.Add(time.Hour)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteConsent(%q, %q) again = %v, want %v", "a", "p", err, storage.ErrNotFound)
	}
	checkHistory(t, d, "p", []storage.ConsentEvent{
		granted(a), granted(b), consentEvent(storage.ConsentWithdrawn, a, at),
	})
	checkHistory(t, d, "q", []storage.ConsentEvent{granted(otherPerson)})

	// A consent may be granted again after it was withdrawn.
	again := newConsent("a", "p")
	again.CreatedAt = t0.Add(3 * time.Hour)
	mustPutConsent(t, d, again)
	checkConsent(t, d, again)
}

func testConsentsMissing(t *testing.T, d storage.Durable) {
	mustPutConsent(t, d, newConsent("c", "p"))
	tests := []struct {
		name             string
		clientID, person string
	}{
		{"unknown client", "missing", "p"},
		{"unknown person", "c", "missing"},
		{"both unknown", "missing", "missing"},
		{"client and person swapped", "p", "c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkNoConsent(t, d, tt.clientID, tt.person)
			if err := d.DeleteConsent(t.Context(), tt.clientID, tt.person, t0); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("DeleteConsent(%q, %q) = %v, want %v", tt.clientID, tt.person, err, storage.ErrNotFound)
			}
		})
	}
	checkConsent(t, d, newConsent("c", "p"))
	checkHistory(t, d, "p", []storage.ConsentEvent{granted(newConsent("c", "p"))})
	checkHistory(t, d, "missing", nil)
}

func testConsentHistoryPaging(t *testing.T, d storage.Durable) {
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	put := func(clientID, personID string, minutes int, claims ...string) storage.Consent {
		c := newConsent(clientID, personID)
		c.AcceptedClaims, c.CreatedAt = claims, at(minutes)
		mustPutConsent(t, d, c)
		return c
	}
	withdraw := func(c storage.Consent, minutes int) storage.ConsentEvent {
		if err := d.DeleteConsent(t.Context(), c.ClientID, c.PersonID, at(minutes)); err != nil {
			t.Fatalf("DeleteConsent(%q, %q) = %v, want nil", c.ClientID, c.PersonID, err)
		}
		return consentEvent(storage.ConsentWithdrawn, c, at(minutes))
	}
	// Events of p interleaved with those of q; times not in Seq order.
	a1 := put("a", "p", 10, "name")
	b := put("b", "p", 5, "email")
	q1 := put("a", "q", 1, "name")
	a2 := put("a", "p", 20, "name", "email")
	wb := withdraw(b, 3)
	q2 := put("b", "q", 2, "address")
	c := put("c", "p", 30)
	want := []storage.ConsentEvent{granted(a1), granted(b), granted(a2), wb, granted(c)}
	all := checkHistory(t, d, "p", want)
	checkHistory(t, d, "q", []storage.ConsentEvent{granted(q1), granted(q2)})
	if len(all) != len(want) {
		return
	}

	var paged []storage.ConsentEvent
	after := int64(0)
	for page := 0; page < 10; page++ {
		es, err := d.ConsentHistory(t.Context(), "p", after, 2)
		if err != nil {
			t.Fatalf("ConsentHistory(%q, %d, 2) = %v, want nil error", "p", after, err)
		}
		if len(es) > 2 {
			t.Fatalf("ConsentHistory(%q, %d, 2) = %d events, want at most 2", "p", after, len(es))
		}
		paged = append(paged, es...)
		if len(es) < 2 {
			break
		}
		after = es[len(es)-1].Seq
	}
	if !reflect.DeepEqual(seqs(paged), seqs(all)) {
		t.Errorf("ConsentHistory(%q) pages of 2 = seqs %v, want %v", "p", seqs(paged), seqs(all))
	}

	tests := []struct {
		name  string
		after int64
		limit int
		want  []int64
	}{
		{"from the second", all[1].Seq, 2, seqs(all[2:4])},
		{"between seqs", all[1].Seq - 1, 1, seqs(all[1:2])},
		{"limit beyond the end", all[2].Seq, 100, seqs(all[3:])},
		{"after the last", all[4].Seq, 10, []int64{}},
		{"negative after", -1, 10, seqs(all)},
		{"zero limit", 0, 0, []int64{}},
		{"negative limit", 0, -1, []int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.ConsentHistory(t.Context(), "p", tt.after, tt.limit)
			if err != nil || !reflect.DeepEqual(seqs(got), tt.want) {
				t.Errorf("ConsentHistory(%q, %d, %d) = seqs %v, %v, want %v, nil",
					"p", tt.after, tt.limit, seqs(got), err, tt.want)
			}
		})
	}
}

func testConcurrentPutConsent(t *testing.T, d storage.Durable) {
	put := func(i int) storage.Consent {
		c := newConsent("c", "p")
		c.Hash = hashOf(fmt.Sprint("request ", i))
		c.AcceptedClaims = []string{fmt.Sprintf("claim-%02d", i)}
		c.CreatedAt = t0.Add(time.Duration(i) * time.Second)
		return c
	}
	errs := concurrently(goroutines, func(i int) error { return d.PutConsent(t.Context(), put(i)) })
	for i, err := range errs {
		if err != nil {
			t.Errorf("PutConsent(%q, %q) in goroutine %d = %v, want nil", "c", "p", i, err)
		}
	}
	cs, err := d.ListConsents(t.Context(), "p")
	if err != nil || len(cs) != 1 {
		t.Fatalf("ListConsents(%q) after %d concurrent PutConsent = %d consents, %v, want 1, nil",
			"p", goroutines, len(cs), err)
	}
	es, err := d.ConsentHistory(t.Context(), "p", 0, 2*goroutines)
	if err != nil {
		t.Fatalf("ConsentHistory(%q, 0, %d) = %v, want nil error", "p", 2*goroutines, err)
	}
	seen := map[string]bool{}
	for _, e := range es {
		if e.Action != storage.ConsentGranted || len(e.AcceptedClaims) != 1 {
			t.Errorf("ConsentHistory(%q): event %+v, want GRANTED with one claim", "p", e)
			continue
		}
		seen[e.AcceptedClaims[0]] = true
	}
	if len(es) != goroutines || len(seen) != goroutines {
		t.Fatalf("ConsentHistory(%q) after %d concurrent PutConsent = %d events for %d distinct puts, want %d",
			"p", goroutines, len(es), len(seen), goroutines)
	}
	// The consent that remains is the one recorded last.
	last := es[len(es)-1]
	var winner int
	if _, err := fmt.Sscanf(last.AcceptedClaims[0], "claim-%d", &winner); err != nil {
		t.Fatalf("last event's claim %q: %v", last.AcceptedClaims[0], err)
	}
	if diff := diffConsentEvent(last, granted(put(winner))); diff != "" {
		t.Errorf("ConsentHistory(%q): last event: %s", "p", diff)
	}
	if diff := diffConsent(cs[0], storedConsent(put(winner))); diff != "" {
		t.Errorf("ListConsents(%q) after %d concurrent PutConsent, last event from put %d: %s",
			"p", goroutines, winner, diff)
	}
}
