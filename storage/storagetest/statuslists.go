package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// statusListCases are RunDurable's cases for storage.StatusLists. Each runs
// on a store of its own, in parallel with the others; the concurrency cases
// are in runStatusListsConcurrent.
var statusListCases = []struct {
	name string
	test func(t *testing.T, d storage.Durable)
}{
	{"ReserveStatusIndices creates the first list", testReserveFirst},
	{"ReserveStatusIndices fills a list then starts the next", testReserveRollover},
	{"ReserveStatusIndices keeps kinds apart", testReserveKinds},
	{"ReserveStatusIndices keeps issuers apart", testReserveIssuers},
	{"ReserveStatusIndices with invalid arguments creates nothing", testReserveInvalid},
	{"ReserveStatusIndices with a taken id creates nothing", testReserveTakenID},
	{"GetStatusList and StatusEntries of an unknown list", testStatusListNotFound},
	{"SetCredentialStatus bumps the version of its list on a change", testStatusVersion},
	{"StatusEntries", testStatusEntries},
	{"SetPersonCredentialsStatus", testSetPersonCredentialsStatus},
	{"SetPersonCredentialsStatus with invalid statuses changes nothing", testSetPersonCredentialsStatusInvalid},
}

// runStatusListsConcurrent runs the status lists' concurrency cases, one
// at a time, each on a store of its own.
func runStatusListsConcurrent(t *testing.T, open func(t *testing.T) storage.Durable) {
	t.Run("concurrent ReserveStatusIndices over several lists", func(t *testing.T) {
		testConcurrentReserve(t, open(t))
	})
	t.Run("concurrent ReserveStatusIndices on a full list", func(t *testing.T) {
		testConcurrentReserveFull(t, open(t))
	})
	t.Run("concurrent status changes and StatusEntries", func(t *testing.T) {
		testConcurrentStatusChanges(t, open(t))
	})
}

// listKey returns a permutation key for the list with id: 32 bytes, zeros
// and high bits included, different for every id.
func listKey(id string) []byte {
	k := make([]byte, 32)
	copy(k, "\x00\xff"+id)
	return k
}

// reservation is what ReserveStatusIndices returned.
type reservation struct {
	list  storage.StatusList
	first int64
	n     int
}

// reserve calls ReserveStatusIndices with listKey(newID) and fails t on an
// error.
func reserve(t *testing.T, d storage.Durable, issuer, kind string, n int, size int64, newID string) reservation {
	t.Helper()
	l, first, got, err := d.ReserveStatusIndices(t.Context(), issuer, kind, n, size, newID, listKey(newID))
	if err != nil {
		t.Fatalf("ReserveStatusIndices(%q, %q, %d, %d, %q) = %v, want nil error", issuer, kind, n, size, newID, err)
	}
	return reservation{l, first, got}
}

// diffStatusList describes how got differs from want, times aside, ""
// if it does not.
func diffStatusList(got, want storage.StatusList) string {
	var d []string
	str := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %q, want %q", name, g, w))
		}
	}
	num := func(name string, g, w int64) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %d, want %d", name, g, w))
		}
	}
	str("ID", got.ID, want.ID)
	str("Issuer", got.Issuer, want.Issuer)
	str("Kind", got.Kind, want.Kind)
	num("Size", got.Size, want.Size)
	if !bytes.Equal(got.Key, want.Key) {
		d = append(d, fmt.Sprintf("Key %x, want %x", got.Key, want.Key))
	}
	num("Next", got.Next, want.Next)
	num("Version", got.Version, want.Version)
	return strings.Join(d, "; ")
}

// checkListTimes checks that l's times are in UTC, that CreatedAt is within
// [from, to] (to the microsecond) and that UpdatedAt is CreatedAt or later,
// but not after to.
func checkListTimes(t *testing.T, call string, l storage.StatusList, from, to time.Time) {
	t.Helper()
	from = from.Truncate(time.Microsecond)
	for _, tm := range []struct {
		name string
		v    time.Time
	}{{"CreatedAt", l.CreatedAt}, {"UpdatedAt", l.UpdatedAt}} {
		if tm.v.Location() != time.UTC {
			t.Errorf("%s: %s in %v, want UTC", call, tm.name, tm.v.Location())
		}
	}
	if l.CreatedAt.Before(from) || l.CreatedAt.After(to) {
		t.Errorf("%s: CreatedAt %v, want between %v and %v", call, l.CreatedAt, from, to)
	}
	if l.UpdatedAt.Before(l.CreatedAt) || l.UpdatedAt.After(to) {
		t.Errorf("%s: UpdatedAt %v, want between CreatedAt %v and %v", call, l.UpdatedAt, l.CreatedAt, to)
	}
}

func mustGetStatusList(t *testing.T, d storage.Durable, id string) storage.StatusList {
	t.Helper()
	l, err := d.GetStatusList(t.Context(), id)
	if err != nil {
		t.Fatalf("GetStatusList(%q) = %v, want nil error", id, err)
	}
	return l
}

func listIDs(ls []storage.StatusList) []string {
	out := []string{}
	for _, l := range ls {
		out = append(out, l.ID)
	}
	return out
}

func mustListStatusLists(t *testing.T, d storage.Durable, issuer, kind string) []storage.StatusList {
	t.Helper()
	ls, err := d.ListStatusLists(t.Context(), issuer, kind)
	if err != nil {
		t.Fatalf("ListStatusLists(%q, %q) = %v, want nil error", issuer, kind, err)
	}
	return ls
}

func testReserveFirst(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	before := time.Now()
	r := reserve(t, d, issuer, storage.StatusListW3C, 3, 131072, "w3c-1")
	after := time.Now()
	want := storage.StatusList{
		ID: "w3c-1", Issuer: issuer, Kind: storage.StatusListW3C, Size: 131072, Key: listKey("w3c-1"), Next: 3,
	}
	call := fmt.Sprintf("ReserveStatusIndices(%q, %q, 3, 131072, %q)", issuer, storage.StatusListW3C, "w3c-1")
	if r.first != 0 || r.n != 3 {
		t.Errorf("%s = first %d, %d reserved, want 0, 3", call, r.first, r.n)
	}
	if diff := diffStatusList(r.list, want); diff != "" {
		t.Errorf("%s: %s", call, diff)
	}
	checkListTimes(t, call, r.list, before, after)
	if !r.list.UpdatedAt.Equal(r.list.CreatedAt) {
		t.Errorf("%s: UpdatedAt %v, want CreatedAt %v", call, r.list.UpdatedAt, r.list.CreatedAt)
	}

	got := mustGetStatusList(t, d, "w3c-1")
	if diff := diffStatusList(got, want); diff != "" {
		t.Errorf("GetStatusList(%q): %s", "w3c-1", diff)
	}
	if !got.CreatedAt.Equal(r.list.CreatedAt) || !got.UpdatedAt.Equal(r.list.UpdatedAt) {
		t.Errorf("GetStatusList(%q) times = %v, %v, want %v, %v as reserved",
			"w3c-1", got.CreatedAt, got.UpdatedAt, r.list.CreatedAt, r.list.UpdatedAt)
	}

	// The open list has room: the id and key given are not used.
	r2 := reserve(t, d, issuer, storage.StatusListW3C, 2, 7, "w3c-2")
	want.Next = 5
	if r2.first != 3 || r2.n != 2 {
		t.Errorf("ReserveStatusIndices again = first %d, %d reserved, want 3, 2", r2.first, r2.n)
	}
	if diff := diffStatusList(r2.list, want); diff != "" {
		t.Errorf("ReserveStatusIndices again: %s", diff)
	}
	if !r2.list.CreatedAt.Equal(r.list.CreatedAt) || !r2.list.UpdatedAt.Equal(r.list.UpdatedAt) {
		t.Errorf("ReserveStatusIndices again: times %v, %v, want %v, %v unchanged",
			r2.list.CreatedAt, r2.list.UpdatedAt, r.list.CreatedAt, r.list.UpdatedAt)
	}
	if got := listIDs(mustListStatusLists(t, d, issuer, "")); !slices.Equal(got, []string{"w3c-1"}) {
		t.Errorf("ListStatusLists(%q, \"\") = %q, want [w3c-1]", issuer, got)
	}
}

func testReserveRollover(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	// Each step reserves n with a new list's size and id; the list it
	// reserved on and what it got follow.
	steps := []struct {
		name  string
		n     int
		size  int64
		newID string

		wantID     string
		wantFirst  int64
		wantN      int
		wantNext   int64
		wantSize   int64
		wantListed []string
	}{
		{"first list", 3, 5, "a", "a", 0, 3, 3, 5, []string{"a"}},
		{"fewer than asked when the list fills", 4, 5, "b", "a", 3, 2, 5, 5, []string{"a"}},
		{"next list when full, with the new size", 1, 4, "c", "c", 0, 1, 1, 4, []string{"a", "c"}},
		{"exactly the rest", 3, 9, "d", "c", 1, 3, 4, 4, []string{"a", "c"}},
		{"more than a new list holds", 10, 6, "e", "e", 0, 6, 6, 6, []string{"a", "c", "e"}},
		{"lists of one entry", 2, 1, "f", "f", 0, 1, 1, 1, []string{"a", "c", "e", "f"}},
		{"another", 1, 1, "g", "g", 0, 1, 1, 1, []string{"a", "c", "e", "f", "g"}},
	}
	for _, s := range steps {
		r := reserve(t, d, issuer, storage.StatusListToken, s.n, s.size, s.newID)
		if r.list.ID != s.wantID || r.first != s.wantFirst || r.n != s.wantN || r.list.Next != s.wantNext ||
			r.list.Size != s.wantSize {
			t.Errorf("%s: ReserveStatusIndices(n %d, size %d, %q) = list %q (size %d, next %d), first %d, %d reserved; "+
				"want list %q (size %d, next %d), first %d, %d reserved",
				s.name, s.n, s.size, s.newID, r.list.ID, r.list.Size, r.list.Next, r.first, r.n,
				s.wantID, s.wantSize, s.wantNext, s.wantFirst, s.wantN)
		}
		if !bytes.Equal(r.list.Key, listKey(s.wantID)) {
			t.Errorf("%s: ReserveStatusIndices(%q): Key %x, want the key of %q", s.name, s.newID, r.list.Key, s.wantID)
		}
		if got := listIDs(mustListStatusLists(t, d, issuer, storage.StatusListToken)); !slices.Equal(got, s.wantListed) {
			t.Errorf("%s: ListStatusLists(%q, %q) = %q, want %q", s.name, issuer, storage.StatusListToken, got, s.wantListed)
		}
	}
	// Full lists stay as they were.
	for _, id := range []string{"a", "c", "e"} {
		if l := mustGetStatusList(t, d, id); l.Next != l.Size {
			t.Errorf("GetStatusList(%q) = next %d of size %d, want full", id, l.Next, l.Size)
		}
	}
}

func testReserveKinds(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	w := reserve(t, d, issuer, storage.StatusListW3C, 2, 10, "w3c-1")
	k := reserve(t, d, issuer, storage.StatusListToken, 1, 10, "token-1")
	w2 := reserve(t, d, issuer, storage.StatusListW3C, 1, 10, "w3c-x")
	k2 := reserve(t, d, issuer, storage.StatusListToken, 1, 10, "token-x")
	tests := []struct {
		name      string
		got       reservation
		wantID    string
		wantKind  string
		wantFirst int64
	}{
		{"first w3c", w, "w3c-1", storage.StatusListW3C, 0},
		{"first token, a list of its own", k, "token-1", storage.StatusListToken, 0},
		{"w3c again", w2, "w3c-1", storage.StatusListW3C, 2},
		{"token again", k2, "token-1", storage.StatusListToken, 1},
	}
	for _, tt := range tests {
		if tt.got.list.ID != tt.wantID || tt.got.list.Kind != tt.wantKind || tt.got.first != tt.wantFirst {
			t.Errorf("%s: ReserveStatusIndices = list %q (%s), first %d, want list %q (%s), first %d",
				tt.name, tt.got.list.ID, tt.got.list.Kind, tt.got.first, tt.wantID, tt.wantKind, tt.wantFirst)
		}
	}
	listings := []struct {
		kind string
		want []string
	}{
		{"", []string{"w3c-1", "token-1"}},
		{storage.StatusListW3C, []string{"w3c-1"}},
		{storage.StatusListToken, []string{"token-1"}},
		{"other", []string{}},
	}
	for _, tt := range listings {
		if got := listIDs(mustListStatusLists(t, d, issuer, tt.kind)); !slices.Equal(got, tt.want) {
			t.Errorf("ListStatusLists(%q, %q) = %q, want %q", issuer, tt.kind, got, tt.want)
		}
	}
}

func testReserveIssuers(t *testing.T, d storage.Durable) {
	a := reserve(t, d, "https://a.example", storage.StatusListW3C, 2, 10, "a-1")
	b := reserve(t, d, "https://b.example", storage.StatusListW3C, 1, 10, "b-1")
	a2 := reserve(t, d, "https://a.example", storage.StatusListW3C, 1, 10, "a-x")
	if a.list.ID != "a-1" || b.list.ID != "b-1" || b.first != 0 || a2.list.ID != "a-1" || a2.first != 2 {
		t.Errorf("ReserveStatusIndices for a, b, a = %q first %d, %q first %d, %q first %d; want a-1 0, b-1 0, a-1 2",
			a.list.ID, a.first, b.list.ID, b.first, a2.list.ID, a2.first)
	}
	if b.list.Issuer != "https://b.example" {
		t.Errorf("ReserveStatusIndices for b: Issuer %q, want %q", b.list.Issuer, "https://b.example")
	}
	listings := []struct {
		issuer string
		want   []string
	}{
		{"https://a.example", []string{"a-1"}},
		{"https://b.example", []string{"b-1"}},
		{"https://A.example", []string{}},
		{"", []string{}},
	}
	for _, tt := range listings {
		if got := listIDs(mustListStatusLists(t, d, tt.issuer, "")); !slices.Equal(got, tt.want) {
			t.Errorf("ListStatusLists(%q, \"\") = %q, want %q", tt.issuer, got, tt.want)
		}
	}
}

func testReserveInvalid(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	tests := []struct {
		name         string
		issuer, kind string
		n            int
		size         int64
		newID        string
		key          []byte
	}{
		{"n zero", issuer, storage.StatusListW3C, 0, 10, "l", listKey("l")},
		{"n negative", issuer, storage.StatusListW3C, -1, 10, "l", listKey("l")},
		{"size zero", issuer, storage.StatusListW3C, 1, 0, "l", listKey("l")},
		{"size negative", issuer, storage.StatusListW3C, 1, -5, "l", listKey("l")},
		{"empty kind", issuer, "", 1, 10, "l", listKey("l")},
		{"unknown kind", issuer, "W3C", 1, 10, "l", listKey("l")},
		{"empty issuer", "", storage.StatusListW3C, 1, 10, "l", listKey("l")},
		{"empty id", issuer, storage.StatusListW3C, 1, 10, "", listKey("l")},
		{"nil key", issuer, storage.StatusListW3C, 1, 10, "l", nil},
		{"empty key", issuer, storage.StatusListW3C, 1, 10, "l", []byte{}},
		{"n zero on an open list", issuer, storage.StatusListToken, 0, 10, "l", listKey("l")},
	}
	open := reserve(t, d, issuer, storage.StatusListToken, 1, 10, "open")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, first, n, err := d.ReserveStatusIndices(t.Context(), tt.issuer, tt.kind, tt.n, tt.size, tt.newID, tt.key)
			if err == nil {
				t.Errorf("ReserveStatusIndices(%q, %q, %d, %d, %q, %x) = %q, %d, %d, nil, want an error",
					tt.issuer, tt.kind, tt.n, tt.size, tt.newID, tt.key, l.ID, first, n)
			}
		})
	}
	if got := listIDs(mustListStatusLists(t, d, issuer, "")); !slices.Equal(got, []string{"open"}) {
		t.Errorf("ListStatusLists(%q, \"\") after invalid reservations = %q, want [open]", issuer, got)
	}
	if got := listIDs(mustListStatusLists(t, d, "", "")); len(got) != 0 {
		t.Errorf("ListStatusLists(\"\", \"\") = %q, want none", got)
	}
	if l := mustGetStatusList(t, d, "open"); l.Next != open.list.Next {
		t.Errorf("GetStatusList(%q) = next %d, want %d unchanged", "open", l.Next, open.list.Next)
	}
}

func testReserveTakenID(t *testing.T, d storage.Durable) {
	reserve(t, d, "https://a.example", storage.StatusListW3C, 1, 10, "taken")
	_, _, _, err := d.ReserveStatusIndices(t.Context(), "https://b.example", storage.StatusListW3C, 1, 10, "taken", listKey("b"))
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("ReserveStatusIndices(%q) for another issuer = %v, want %v", "taken", err, storage.ErrAlreadyExists)
	}
	if got := listIDs(mustListStatusLists(t, d, "https://b.example", "")); len(got) != 0 {
		t.Errorf("ListStatusLists(%q, \"\") = %q, want none", "https://b.example", got)
	}
	if l := mustGetStatusList(t, d, "taken"); l.Issuer != "https://a.example" || l.Next != 1 ||
		!bytes.Equal(l.Key, listKey("taken")) {
		t.Errorf("GetStatusList(%q) = issuer %q, next %d, key %x; want the first list unchanged", "taken", l.Issuer, l.Next, l.Key)
	}
	// With an id of its own, issuer b gets its list.
	if r := reserve(t, d, "https://b.example", storage.StatusListW3C, 1, 10, "b-1"); r.list.ID != "b-1" {
		t.Errorf("ReserveStatusIndices(%q) = list %q, want %q", "b-1", r.list.ID, "b-1")
	}
}

func testStatusListNotFound(t *testing.T, d storage.Durable) {
	reserve(t, d, "https://issuer.example", storage.StatusListW3C, 1, 10, "w3c-1")
	for _, id := range []string{"missing", "", "W3C-1", "w3c-1 "} {
		if l, err := d.GetStatusList(t.Context(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetStatusList(%q) = %q, %v, want %v", id, l.ID, err, storage.ErrNotFound)
		}
		if es, v, err := d.StatusEntries(t.Context(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("StatusEntries(%q) = %v, %d, %v, want %v", id, es, v, err, storage.ErrNotFound)
		}
	}
}

// onList returns a ledger entry of person on list at index.
func onList(id, person, config, list string, index int64) storage.IssuedCredential {
	c := newCredential(id, 0)
	c.PersonID, c.ConfigurationID, c.StatusList, c.StatusIndex = person, config, list, index
	return c
}

func testStatusVersion(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	l1 := reserve(t, d, issuer, storage.StatusListW3C, 2, 2, "l1").list
	l2 := reserve(t, d, issuer, storage.StatusListW3C, 1, 2, "l2").list
	unlisted := newCredential("unlisted", 0)
	unlisted.StatusList, unlisted.StatusIndex = "", -1
	mustRecord(t, d, onList("a", "p", "c", "l1", 0), onList("b", "p", "c", "l1", 1), onList("c", "p", "c", "l2", 0),
		unlisted, onList("elsewhere", "p", "c", "https://other.example/list", 3))

	steps := []struct {
		id, status string
		want1      int64 // versions after the step
		want2      int64
	}{
		{"a", storage.CredentialRevoked, 1, 0},
		{"a", storage.CredentialRevoked, 1, 0}, // no change
		{"b", storage.CredentialValid, 1, 0},   // no change
		{"a", storage.CredentialSuspended, 2, 0},
		{"c", storage.CredentialSuspended, 2, 1},
		{"unlisted", storage.CredentialRevoked, 2, 1},
		{"elsewhere", storage.CredentialRevoked, 2, 1},
		{"a", storage.CredentialValid, 3, 1},
		{"b", storage.CredentialRevoked, 4, 1},
	}
	lastUpdate := map[string]time.Time{"l1": l1.UpdatedAt, "l2": l2.UpdatedAt}
	for _, s := range steps {
		if err := d.SetCredentialStatus(t.Context(), s.id, s.status); err != nil {
			t.Fatalf("SetCredentialStatus(%q, %q) = %v, want nil", s.id, s.status, err)
		}
		after := time.Now()
		for _, w := range []struct {
			id      string
			version int64
		}{{"l1", s.want1}, {"l2", s.want2}} {
			l := mustGetStatusList(t, d, w.id)
			if l.Version != w.version {
				t.Errorf("after SetCredentialStatus(%q, %q): GetStatusList(%q).Version = %d, want %d",
					s.id, s.status, w.id, l.Version, w.version)
			}
			if l.UpdatedAt.Before(lastUpdate[w.id]) || l.UpdatedAt.After(after) || l.UpdatedAt.Location() != time.UTC {
				t.Errorf("after SetCredentialStatus(%q, %q): GetStatusList(%q).UpdatedAt = %v, want from %v to %v, UTC",
					s.id, s.status, w.id, l.UpdatedAt, lastUpdate[w.id], after)
			}
			if l.Next != 2 && w.id == "l1" || l.Next != 1 && w.id == "l2" {
				t.Errorf("after SetCredentialStatus: GetStatusList(%q).Next = %d, want it unchanged", w.id, l.Next)
			}
			lastUpdate[w.id] = l.UpdatedAt
		}
	}
	if err := d.SetCredentialStatus(t.Context(), "missing", storage.CredentialRevoked); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetCredentialStatus(%q) = %v, want %v", "missing", err, storage.ErrNotFound)
	}
	if err := d.SetCredentialStatus(t.Context(), "a", "revoked"); err == nil {
		t.Errorf("SetCredentialStatus(%q, %q) = nil, want an error", "a", "revoked")
	}
	if l := mustGetStatusList(t, d, "l1"); l.Version != 4 {
		t.Errorf("GetStatusList(%q).Version after refused changes = %d, want 4", "l1", l.Version)
	}
}

func testStatusEntries(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	reserve(t, d, issuer, storage.StatusListW3C, 10, 10, "l1")
	reserve(t, d, issuer, storage.StatusListW3C, 10, 10, "l2")
	reserve(t, d, issuer, storage.StatusListW3C, 1, 10, "empty")
	cs := []storage.IssuedCredential{
		onList("r9", "p", "c", "l1", 9),
		onList("s2", "p", "c", "l1", 2),
		onList("v5", "p", "c", "l1", 5),
		onList("r7", "p", "c", "l1", 7),
		onList("v0", "p", "c", "l1", 0),
		onList("other-list", "p", "c", "l2", 3),
	}
	cs[0].Status, cs[1].Status, cs[3].Status = storage.CredentialRevoked, storage.CredentialSuspended, storage.CredentialRevoked
	mustRecord(t, d, cs...)
	if err := d.SetCredentialStatus(t.Context(), "other-list", storage.CredentialRevoked); err != nil {
		t.Fatalf("SetCredentialStatus(%q) = %v", "other-list", err)
	}
	if err := d.SetCredentialStatus(t.Context(), "v0", storage.CredentialSuspended); err != nil {
		t.Fatalf("SetCredentialStatus(%q) = %v", "v0", err)
	}

	tests := []struct {
		id          string
		want        []storage.StatusEntry
		wantVersion int64
	}{
		{"l1", []storage.StatusEntry{
			{Index: 0, Status: storage.CredentialSuspended}, {Index: 2, Status: storage.CredentialSuspended},
			{Index: 7, Status: storage.CredentialRevoked}, {Index: 9, Status: storage.CredentialRevoked},
		}, 1},
		{"l2", []storage.StatusEntry{{Index: 3, Status: storage.CredentialRevoked}}, 1},
		{"empty", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			got, v, err := d.StatusEntries(t.Context(), tt.id)
			if err != nil || v != tt.wantVersion || !slices.Equal(got, tt.want) {
				t.Errorf("StatusEntries(%q) = %v, %d, %v, want %v, %d, nil", tt.id, got, v, err, tt.want, tt.wantVersion)
			}
			if l := mustGetStatusList(t, d, tt.id); l.Version != v {
				t.Errorf("StatusEntries(%q) version %d, GetStatusList version %d, want equal", tt.id, v, l.Version)
			}
		})
	}
	t.Run("reinstated entries leave", func(t *testing.T) {
		for _, id := range []string{"s2", "r9"} {
			if err := d.SetCredentialStatus(t.Context(), id, storage.CredentialValid); err != nil {
				t.Fatalf("SetCredentialStatus(%q, VALID) = %v", id, err)
			}
		}
		want := []storage.StatusEntry{{Index: 0, Status: storage.CredentialSuspended}, {Index: 7, Status: storage.CredentialRevoked}}
		if got, v, err := d.StatusEntries(t.Context(), "l1"); err != nil || v != 3 || !slices.Equal(got, want) {
			t.Errorf("StatusEntries(%q) = %v, %d, %v, want %v, 3, nil", "l1", got, v, err, want)
		}
	})
}

func testSetPersonCredentialsStatus(t *testing.T, d storage.Durable) {
	const (
		revoked   = storage.CredentialRevoked
		suspended = storage.CredentialSuspended
		valid     = storage.CredentialValid
	)
	// Each row has a ledger of its own, made by fixture: a person with
	// NID credentials on list L1, Health ones on L2, one on no list, and
	// another person with a credential on L1.
	fixture := func(t *testing.T, row string) (ids []string, person string) {
		issuer := "https://" + row + ".example"
		l1, l2 := row+"-L1", row+"-L2"
		reserve(t, d, issuer, storage.StatusListW3C, 10, 10, l1)
		reserve(t, d, issuer, storage.StatusListW3C, 10, 10, l2)
		person = row + "-p1"
		cs := []storage.IssuedCredential{
			onList(row+"-nid-valid", person, "NID", l1, 0),
			onList(row+"-nid-suspended", person, "NID", l1, 1),
			onList(row+"-health-valid", person, "Health", l2, 0),
			onList(row+"-health-revoked", person, "Health", l2, 1),
			onList(row+"-nid-unlisted", person, "NID", "", -1),
			onList(row+"-other-person", row+"-p2", "NID", l1, 2),
		}
		cs[1].Status, cs[3].Status = suspended, revoked
		mustRecord(t, d, cs...)
		return credentialIDs(cs), person
	}
	tests := []struct {
		name           string
		config, from   string
		status         string
		wantN          int
		wantStatuses   []string // of the fixture's credentials, in order
		wantL1, wantL2 bool     // whether each list's version increases
	}{
		// A credential on no status list is not revocable: it stays as it is.
		{"all to revoked", "", "", revoked, 3,
			[]string{revoked, revoked, revoked, revoked, valid, valid}, true, true},
		{"suspended to valid", "", suspended, valid, 1,
			[]string{valid, valid, valid, revoked, valid, valid}, true, false},
		{"one configuration", "Health", "", suspended, 2,
			[]string{valid, suspended, suspended, suspended, valid, valid}, false, true},
		{"valid to suspended in one configuration", "NID", valid, suspended, 1,
			[]string{suspended, suspended, valid, revoked, valid, valid}, true, false},
		{"only the unlisted one", "NID", valid, valid, 0,
			[]string{valid, suspended, valid, revoked, valid, valid}, false, false},
		{"already in that status", "", revoked, revoked, 0,
			[]string{valid, suspended, valid, revoked, valid, valid}, false, false},
		{"unknown configuration", "Missing", "", revoked, 0,
			[]string{valid, suspended, valid, revoked, valid, valid}, false, false},
		{"configuration in another case", "nid", "", revoked, 0,
			[]string{valid, suspended, valid, revoked, valid, valid}, false, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			row := fmt.Sprintf("row%d", i)
			ids, person := fixture(t, row)
			n, err := d.SetPersonCredentialsStatus(t.Context(), person, tt.config, tt.from, tt.status)
			if n != tt.wantN || err != nil {
				t.Errorf("SetPersonCredentialsStatus(%q, %q, %q, %q) = %d, %v, want %d, nil",
					person, tt.config, tt.from, tt.status, n, err, tt.wantN)
			}
			for j, id := range ids {
				c, err := d.GetCredential(t.Context(), id)
				if err != nil || c.Status != tt.wantStatuses[j] {
					t.Errorf("GetCredential(%q) = status %q, %v, want %q", id, c.Status, err, tt.wantStatuses[j])
				}
			}
			for _, l := range []struct {
				id   string
				bump bool
			}{{row + "-L1", tt.wantL1}, {row + "-L2", tt.wantL2}} {
				v := mustGetStatusList(t, d, l.id).Version
				if bumped := v > 0; bumped != l.bump {
					t.Errorf("SetPersonCredentialsStatus: GetStatusList(%q).Version = %d, want increased %v", l.id, v, l.bump)
				}
				es, ev, err := d.StatusEntries(t.Context(), l.id)
				if err != nil || ev != v {
					t.Errorf("StatusEntries(%q) = %v, %d, %v, want version %d, nil", l.id, es, ev, err, v)
				}
			}
		})
	}
	t.Run("unknown person", func(t *testing.T) {
		if n, err := d.SetPersonCredentialsStatus(t.Context(), "nobody", "", "", revoked); n != 0 || err != nil {
			t.Errorf("SetPersonCredentialsStatus(%q) = %d, %v, want 0, nil", "nobody", n, err)
		}
	})
}

func testSetPersonCredentialsStatusInvalid(t *testing.T, d storage.Durable) {
	reserve(t, d, "https://issuer.example", storage.StatusListW3C, 10, 10, "l1")
	c := onList("a", "p", "NID", "l1", 0)
	mustRecord(t, d, c)
	tests := []struct {
		name, from, status string
	}{
		{"empty status", "", ""},
		{"status in lower case", "", "revoked"},
		{"unknown status", "", "EXPIRED"},
		{"unknown from", "valid", storage.CredentialRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if n, err := d.SetPersonCredentialsStatus(t.Context(), "p", "", tt.from, tt.status); err == nil {
				t.Errorf("SetPersonCredentialsStatus(%q, \"\", %q, %q) = %d, nil, want an error", "p", tt.from, tt.status, n)
			}
		})
	}
	checkCredential(t, d, c)
	if l := mustGetStatusList(t, d, "l1"); l.Version != 0 {
		t.Errorf("GetStatusList(%q).Version = %d after refused changes, want 0", "l1", l.Version)
	}
}

func testConcurrentReserve(t *testing.T, d storage.Durable) {
	const (
		issuer = "https://issuer.example"
		size   = 16
	)
	res := make([]reservation, goroutines)
	newID := func(i int) string { return fmt.Sprintf("list-%02d", i) }
	errs := concurrently(goroutines, func(i int) error {
		n := 1 + i%4
		l, first, got, err := d.ReserveStatusIndices(t.Context(), issuer, storage.StatusListW3C, n, size, newID(i), listKey(newID(i)))
		res[i] = reservation{l, first, got}
		if err == nil && (got < 1 || got > n) {
			err = fmt.Errorf("reserved %d, want 1 to %d", got, n)
		}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("ReserveStatusIndices(n %d, %q) = %v, want nil", 1+i%4, newID(i), err)
		}
	}
	if t.Failed() {
		return
	}
	// Every counter reserved once; lists hold what was reserved on them.
	taken := map[string][]bool{}
	reserved := map[string]int64{}
	for i, r := range res {
		if taken[r.list.ID] == nil {
			taken[r.list.ID] = make([]bool, size)
		}
		for c := r.first; c < r.first+int64(r.n); c++ {
			if c < 0 || c >= size || taken[r.list.ID][c] {
				t.Fatalf("ReserveStatusIndices in goroutine %d: counter %d of list %q reserved twice or out of range",
					i, c, r.list.ID)
			}
			taken[r.list.ID][c] = true
		}
		reserved[r.list.ID] += int64(r.n)
	}
	lists := mustListStatusLists(t, d, issuer, storage.StatusListW3C)
	if len(lists) != len(reserved) {
		t.Errorf("ListStatusLists = %q, want the %d lists reserved on", listIDs(lists), len(reserved))
	}
	for i, l := range lists {
		if l.Next != reserved[l.ID] {
			t.Errorf("list %q: Next %d, want %d, what was reserved on it", l.ID, l.Next, reserved[l.ID])
		}
		if i < len(lists)-1 && l.Next != l.Size {
			t.Errorf("list %q (of %d): Next %d of %d, want full: a list follows only a full one", l.ID, len(lists), l.Next, l.Size)
		}
		if !strings.HasPrefix(l.ID, "list-") || !bytes.Equal(l.Key, listKey(l.ID)) {
			t.Errorf("list %q: Key %x, want the key given with its id", l.ID, l.Key)
		}
		for c, ok := range taken[l.ID][:l.Next] {
			if !ok {
				t.Errorf("list %q: counter %d below Next %d was reserved by no one", l.ID, c, l.Next)
			}
		}
	}
}

func testConcurrentReserveFull(t *testing.T, d storage.Durable) {
	const issuer = "https://issuer.example"
	reserve(t, d, issuer, storage.StatusListToken, 3, 3, "full")
	res := make([]reservation, goroutines)
	errs := concurrently(goroutines, func(i int) error {
		id := fmt.Sprintf("next-%02d", i)
		l, first, n, err := d.ReserveStatusIndices(t.Context(), issuer, storage.StatusListToken, 1, 1000, id, listKey(id))
		res[i] = reservation{l, first, n}
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("ReserveStatusIndices(goroutine %d) = %v, want nil", i, err)
		}
	}
	lists := mustListStatusLists(t, d, issuer, storage.StatusListToken)
	if len(lists) != 2 || lists[0].ID != "full" {
		t.Fatalf("ListStatusLists after %d reservations on a full list = %q, want full and one new list",
			goroutines, listIDs(lists))
	}
	if next := lists[1]; next.Next != goroutines || next.Size != 1000 {
		t.Errorf("new list %q: Next %d, Size %d, want %d, 1000", next.ID, next.Next, next.Size, goroutines)
	}
	seen := make([]bool, goroutines)
	for i, r := range res {
		if r.list.ID != lists[1].ID || r.n != 1 || r.first < 0 || r.first >= goroutines || seen[r.first] {
			t.Errorf("ReserveStatusIndices(goroutine %d) = list %q, first %d, %d reserved; want a distinct counter of %q",
				i, r.list.ID, r.first, r.n, lists[1].ID)
			continue
		}
		seen[r.first] = true
	}
}

// testConcurrentStatusChanges revokes credentials of one list from many
// goroutines while others read the list: no version bump is lost, and
// StatusEntries never shows more entries than its version accounts for
// (each entry's revocation bumped the version before it could be seen).
func testConcurrentStatusChanges(t *testing.T, d storage.Durable) {
	reserve(t, d, "https://issuer.example", storage.StatusListW3C, goroutines, 1000, "l1")
	cs := make([]storage.IssuedCredential, goroutines)
	for i := range cs {
		cs[i] = onList(fmt.Sprintf("c%02d", i), fmt.Sprintf("p%02d", i), "NID", "l1", int64(i))
	}
	mustRecord(t, d, cs...)

	stop := make(chan struct{})
	var (
		readers sync.WaitGroup
		mu      sync.Mutex
		bad     []string
	)
	for range 4 {
		readers.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				es, v, err := d.StatusEntries(t.Context(), "l1")
				if err != nil || int64(len(es)) > v {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("%d entries, version %d, %v", len(es), v, err))
					mu.Unlock()
					return
				}
			}
		})
	}
	errs := concurrently(goroutines, func(i int) error {
		if i%2 == 0 {
			return d.SetCredentialStatus(t.Context(), cs[i].ID, storage.CredentialRevoked)
		}
		_, err := d.SetPersonCredentialsStatus(t.Context(), cs[i].PersonID, "", "", storage.CredentialSuspended)
		return err
	})
	close(stop)
	readers.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("status change of %q = %v, want nil", cs[i].ID, err)
		}
	}
	for _, b := range bad {
		t.Errorf("StatusEntries(%q) during changes = %s, want no more entries than the version", "l1", b)
	}
	es, v, err := d.StatusEntries(t.Context(), "l1")
	if err != nil || len(es) != goroutines || v < goroutines {
		t.Errorf("StatusEntries(%q) after %d changes = %d entries, version %d, %v; want %d entries, version at least %d",
			"l1", goroutines, len(es), v, err, goroutines, goroutines)
	}
}
