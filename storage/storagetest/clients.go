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

// clientCases are RunDurable's cases for storage.Clients. Each runs on a
// store of its own, so they run in parallel with the others, the update race
// included (it is small).
var clientCases = []struct {
	name string
	test func(t *testing.T, d storage.Durable)
}{
	{"CreateClient then GetClient", testCreateClient},
	{"client lists, maps and JSON round-trip", testClientRoundTrip},
	{"CreateClient with a taken id or key hash", testCreateClientTaken},
	{"client lookups of unknown ids", testClientsMissing},
	{"UpdateClient", testUpdateClient},
	{"UpdateClient failures change nothing", testUpdateClientFails},
	{"ListClients pages by id", testListClients},
	{"DeleteClient", testDeleteClient},
	{"concurrent UpdateClient from one version", testConcurrentUpdateClient},
}

// newClient returns a client with every field set, created at t0.
func newClient(id string) storage.Client {
	return storage.Client{
		ID:               id,
		Name:             "Client " + id,
		NameLangMap:      map[string]string{"eng": "Client " + id, "ara": "عميل " + id},
		PublicKeys:       []byte(`{"keys":[{"kty":"OKP","crv":"Ed25519","x":"` + id + `"}]}`),
		PublicKeyHash:    hashOf("key:" + id),
		RelyingPartyID:   "rp-" + id,
		UserClaims:       []string{"name", "email", "phone_number"},
		ACRs:             []string{"mosip:idp:acr:generated-code", "mosip:idp:acr:password"},
		LogoURI:          "https://" + id + ".example/logo.png",
		RedirectURIs:     []string{"https://" + id + ".example/cb", "https://" + id + ".example/cb2"},
		GrantTypes:       []string{"authorization_code"},
		AuthMethods:      []string{"private_key_jwt"},
		AdditionalConfig: []byte(`{"userinfo_response_type":"JWS","require_pkce":true}`),
		Status:           "ACTIVE",
		Version:          1,
		CreatedAt:        t0.Add(123 * time.Nanosecond),
		UpdatedAt:        t0.Add(123 * time.Nanosecond),
	}
}

// storedClient is c as a backend returns it: times in UTC, to the
// microsecond.
func storedClient(c storage.Client) storage.Client {
	for _, p := range []*time.Time{&c.CreatedAt, &c.UpdatedAt} {
		if !p.IsZero() {
			*p = p.Truncate(time.Microsecond).UTC()
		}
	}
	return c
}

// diffClient describes how got differs from want, "" if it does not. Lists
// and maps must match exactly (nil and empty differ); nil and empty bytes
// are equal; times must be equal instants, in UTC unless zero.
func diffClient(got, want storage.Client) string {
	var d []string
	field := func(name string, g, w any) {
		if !reflect.DeepEqual(g, w) {
			d = append(d, fmt.Sprintf("%s %#v, want %#v", name, g, w))
		}
	}
	byts := func(name string, g, w []byte) {
		if !bytes.Equal(g, w) {
			d = append(d, fmt.Sprintf("%s %q, want %q", name, g, w))
		}
	}
	tm := func(name string, g, w time.Time) {
		switch {
		case !g.Equal(w) || g.IsZero() != w.IsZero():
			d = append(d, fmt.Sprintf("%s %v, want %v", name, g, w))
		case !g.IsZero() && g.Location() != time.UTC:
			d = append(d, fmt.Sprintf("%s in %v, want UTC", name, g.Location()))
		}
	}
	field("ID", got.ID, want.ID)
	field("Name", got.Name, want.Name)
	field("NameLangMap", got.NameLangMap, want.NameLangMap)
	byts("PublicKeys", got.PublicKeys, want.PublicKeys)
	byts("PublicKeyHash", got.PublicKeyHash, want.PublicKeyHash)
	field("RelyingPartyID", got.RelyingPartyID, want.RelyingPartyID)
	field("UserClaims", got.UserClaims, want.UserClaims)
	field("ACRs", got.ACRs, want.ACRs)
	field("LogoURI", got.LogoURI, want.LogoURI)
	field("RedirectURIs", got.RedirectURIs, want.RedirectURIs)
	field("GrantTypes", got.GrantTypes, want.GrantTypes)
	field("AuthMethods", got.AuthMethods, want.AuthMethods)
	byts("AdditionalConfig", got.AdditionalConfig, want.AdditionalConfig)
	field("Status", got.Status, want.Status)
	field("Version", got.Version, want.Version)
	tm("CreatedAt", got.CreatedAt, want.CreatedAt)
	tm("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	return strings.Join(d, "; ")
}

func mustCreateClient(t *testing.T, d storage.Durable, cs ...storage.Client) {
	t.Helper()
	for _, c := range cs {
		if err := d.CreateClient(t.Context(), c); err != nil {
			t.Fatalf("CreateClient(%q) = %v, want nil", c.ID, err)
		}
	}
}

// checkClient checks that GetClient returns want (as stored).
func checkClient(t *testing.T, d storage.Durable, want storage.Client) {
	t.Helper()
	got, err := d.GetClient(t.Context(), want.ID)
	if err != nil {
		t.Errorf("GetClient(%q) = %v, want nil error", want.ID, err)
	} else if diff := diffClient(got, storedClient(want)); diff != "" {
		t.Errorf("GetClient(%q): %s", want.ID, diff)
	}
}

func checkNoClient(t *testing.T, d storage.Durable, id string) {
	t.Helper()
	if c, err := d.GetClient(t.Context(), id); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("GetClient(%q) = %q, %v, want %v", id, c.ID, err, storage.ErrNotFound)
	}
}

func testCreateClient(t *testing.T, d storage.Durable) {
	c := newClient("c1")
	mustCreateClient(t, d, c)
	checkClient(t, d, c)
}

func testClientRoundTrip(t *testing.T, d storage.Durable) {
	tests := []struct {
		name   string
		change func(c *storage.Client)
	}{
		{"nil lists and maps", func(c *storage.Client) {
			c.NameLangMap, c.UserClaims, c.ACRs, c.RedirectURIs, c.GrantTypes, c.AuthMethods = nil, nil, nil, nil, nil, nil
		}},
		{"empty lists and maps", func(c *storage.Client) {
			c.NameLangMap, c.UserClaims, c.ACRs = map[string]string{}, []string{}, []string{}
			c.RedirectURIs, c.GrantTypes, c.AuthMethods = []string{}, []string{}, []string{}
		}},
		{"empty JSON documents", func(c *storage.Client) { c.PublicKeys, c.AdditionalConfig = nil, nil }},
		{"texts with quotes, NUL-free unicode and JSON syntax", func(c *storage.Client) {
			c.Name = `a "quoted" name, with \ and ' and 名前`
			c.UserClaims = []string{`"]`, `\u0000x`, "name#eng"}
			c.NameLangMap = map[string]string{"fra": `l'"app"`, "": "no language"}
			c.AdditionalConfig = []byte("{\n  \"purpose\": {\"type\": \"verify\", \"title\": {\"@none\": \"t\"}}\n}")
		}},
		{"zero times", func(c *storage.Client) { c.CreatedAt, c.UpdatedAt = time.Time{}, time.Time{} }},
		{"times in another zone", func(c *storage.Client) {
			c.CreatedAt = time.Date(2030, 1, 2, 3, 4, 5, 6789, time.FixedZone("X", 5*3600+1800))
			c.UpdatedAt = c.CreatedAt.Add(time.Hour)
		}},
		{"INACTIVE with a large version", func(c *storage.Client) { c.Status, c.Version = "INACTIVE", 1<<40 }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(fmt.Sprintf("rt%02d", i))
			tt.change(&c)
			mustCreateClient(t, d, c)
			checkClient(t, d, c)
		})
	}
}

func testCreateClientTaken(t *testing.T, d storage.Durable) {
	a := newClient("a")
	mustCreateClient(t, d, a)
	sameID := newClient("a")
	sameID.PublicKeyHash = hashOf("another key")
	sameKey := newClient("b")
	sameKey.PublicKeyHash = a.PublicKeyHash
	for _, c := range []struct {
		name string
		c    storage.Client
	}{{"same id", sameID}, {"same key hash", sameKey}} {
		if err := d.CreateClient(t.Context(), c.c); !errors.Is(err, storage.ErrAlreadyExists) {
			t.Errorf("CreateClient(%s) = %v, want %v", c.name, err, storage.ErrAlreadyExists)
		}
	}
	checkClient(t, d, a)
	checkNoClient(t, d, "b")
}

func testClientsMissing(t *testing.T, d storage.Durable) {
	checkNoClient(t, d, "missing")
	if err := d.DeleteClient(t.Context(), "missing"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteClient(%q) = %v, want %v", "missing", err, storage.ErrNotFound)
	}
	if cs, err := d.ListClients(t.Context(), "", 10); len(cs) != 0 || err != nil {
		t.Errorf("ListClients(\"\", 10) of an empty store = %d clients, %v, want none, nil", len(cs), err)
	}
}

func testUpdateClient(t *testing.T, d storage.Durable) {
	c := newClient("c")
	mustCreateClient(t, d, c)
	u := newClient("other")
	u.ID, u.Version = "c", 2
	u.CreatedAt = t0.Add(-time.Hour) // ignored: CreatedAt stays
	u.UpdatedAt = t0.Add(time.Hour)
	u.UserClaims, u.NameLangMap = nil, nil
	if err := d.UpdateClient(t.Context(), u); err != nil {
		t.Fatalf("UpdateClient(version 2) = %v, want nil", err)
	}
	want := u
	want.CreatedAt = c.CreatedAt
	checkClient(t, d, want)

	// The old key hash is free again.
	freed := newClient("d")
	freed.PublicKeyHash = c.PublicKeyHash
	mustCreateClient(t, d, freed)
}

func testUpdateClientFails(t *testing.T, d storage.Durable) {
	c, other := newClient("c"), newClient("other")
	mustCreateClient(t, d, c, other)
	v2 := c
	v2.Version, v2.Name, v2.UpdatedAt = 2, "renamed", t0.Add(time.Minute)
	if err := d.UpdateClient(t.Context(), v2); err != nil {
		t.Fatalf("UpdateClient(version 2) = %v, want nil", err)
	}
	next := func(version int64) storage.Client {
		n := v2
		n.Version, n.Name = version, fmt.Sprintf("name at %d", version)
		return n
	}
	tests := []struct {
		name string
		c    storage.Client
		want error
	}{
		{name: "same version", c: next(2), want: storage.ErrConflict},
		{name: "older version", c: next(1), want: storage.ErrConflict},
		{name: "version skipped", c: next(4), want: storage.ErrConflict},
		{name: "zero version", c: next(0), want: storage.ErrConflict},
		{name: "unknown client", c: func() storage.Client { n := next(3); n.ID = "missing"; return n }(),
			want: storage.ErrNotFound},
		{name: "key hash of another client", c: func() storage.Client {
			n := next(3)
			n.PublicKeyHash = other.PublicKeyHash
			return n
		}(), want: storage.ErrAlreadyExists},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.UpdateClient(t.Context(), tt.c)
			if !errors.Is(err, tt.want) {
				t.Errorf("UpdateClient(%q, version %d) = %v, want %v", tt.c.ID, tt.c.Version, err, tt.want)
			}
			checkClient(t, d, v2)
			checkClient(t, d, other)
			checkNoClient(t, d, "missing")
		})
	}
}

func testListClients(t *testing.T, d storage.Durable) {
	// Inserted out of order; ids that sort differently by locale than by
	// byte ("B" < "a" < "b" byte-wise).
	ids := []string{"b", "a", "c-2", "B", "c-10", "a.1"}
	for _, id := range ids {
		mustCreateClient(t, d, newClient(id))
	}
	want := []string{"B", "a", "a.1", "b", "c-10", "c-2"}
	var got []string
	after := ""
	for page := 0; page < 10; page++ {
		cs, err := d.ListClients(t.Context(), after, 4)
		if err != nil {
			t.Fatalf("ListClients(%q, 4) = %v, want nil", after, err)
		}
		for _, c := range cs {
			got = append(got, c.ID)
			if diff := diffClient(c, storedClient(newClient(c.ID))); diff != "" {
				t.Errorf("ListClients: %q: %s", c.ID, diff)
			}
		}
		if len(cs) < 4 {
			break
		}
		after = cs[len(cs)-1].ID
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListClients pages of 4 = %q, want %q", got, want)
	}
	if cs, err := d.ListClients(t.Context(), "a", 2); err != nil || len(cs) != 2 || cs[0].ID != "a.1" || cs[1].ID != "b" {
		t.Errorf("ListClients(%q, 2) = %d clients, %v, want a.1 and b", "a", len(cs), err)
	}
	for _, limit := range []int{0, -1} {
		if cs, err := d.ListClients(t.Context(), "", limit); len(cs) != 0 || err != nil {
			t.Errorf("ListClients(\"\", %d) = %d clients, %v, want none, nil", limit, len(cs), err)
		}
	}
}

func testDeleteClient(t *testing.T, d storage.Durable) {
	a, b := newClient("a"), newClient("b")
	mustCreateClient(t, d, a, b)
	if err := d.DeleteClient(t.Context(), "a"); err != nil {
		t.Fatalf("DeleteClient(%q) = %v, want nil", "a", err)
	}
	checkNoClient(t, d, "a")
	checkClient(t, d, b)
	if err := d.DeleteClient(t.Context(), "a"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("DeleteClient(%q) again = %v, want %v", "a", err, storage.ErrNotFound)
	}
	// The id and the key hash may be registered again.
	mustCreateClient(t, d, a)
	checkClient(t, d, a)
}

func testConcurrentUpdateClient(t *testing.T, d storage.Durable) {
	c := newClient("c")
	mustCreateClient(t, d, c)
	const n = 8
	errs := concurrently(n, func(i int) error {
		u := c
		u.Version, u.Name = 2, fmt.Sprintf("renamed by %d", i)
		return d.UpdateClient(t.Context(), u)
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("UpdateClient(version 2) succeeded in goroutines %d and %d, want once", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("UpdateClient(version 2) = %v, want nil or %v", err, storage.ErrConflict)
		}
	}
	if winner < 0 {
		t.Fatalf("UpdateClient(version 2) in %d goroutines never succeeded, want once", n)
	}
	want := c
	want.Version, want.Name = 2, fmt.Sprintf("renamed by %d", winner)
	checkClient(t, d, want)
}
