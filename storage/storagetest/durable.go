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

// RunDurable checks that a storage.Durable backend keeps the contract of
// package storage. open must return a new, empty store on each call, also
// when called from parallel subtests, and close it when t ends. Each case
// opens its own store; the concurrency cases run one at a time, the others in
// parallel.
func RunDurable(t *testing.T, open func(t *testing.T) storage.Durable) {
	cases := []struct {
		name string
		test func(t *testing.T, d storage.Durable)
	}{
		{"Ping", testPing},
		{"CreateKey then ListKeys returns it", testCreateKey},
		{"CreateKey with a taken KID", testCreateKeyTaken},
		{"times round-trip", testKeyTimes},
		{"bytes round-trip", testKeyBytes},
		{"ListKeys orders and filters", testListKeys},
		{"RotateKey retires same purpose and alg only", testRotateKey},
		{"RotateKey with a taken KID changes nothing", testRotateKeyTaken},
		{"DeleteKeysPublishedBefore", testDeleteKeys},
	}
	cases = append(cases, idrepoCases...)
	cases = append(cases, clientCases...)
	cases = append(cases, consentCases...)
	cases = append(cases, ledgerCases...)
	cases = append(cases, statusListCases...)
	t.Run("basic", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				c.test(t, open(t))
			})
		}
	})
	t.Run("concurrent CreateKey of distinct KIDs", func(t *testing.T) { testConcurrentCreateKeys(t, open(t)) })
	t.Run("concurrent CreateKey of one KID", func(t *testing.T) { testConcurrentCreateKeySame(t, open(t)) })
	t.Run("concurrent RotateKey", func(t *testing.T) { testConcurrentRotateKey(t, open(t)) })
	runIDRepoConcurrent(t, open)
	t.Run("concurrent PutConsent of one consent", func(t *testing.T) { testConcurrentPutConsent(t, open(t)) })
	runLedgerConcurrent(t, open)
	runStatusListsConcurrent(t, open)
}

func testPing(t *testing.T, d storage.Durable) {
	if err := d.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
}

// t0 is the base of the times in key records.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newKey returns a key record with every field set, created at t0 plus
// minutes.
func newKey(kid, purpose, alg string, minutes int) storage.KeyRecord {
	created := t0.Add(time.Duration(minutes) * time.Minute)
	return storage.KeyRecord{
		KID:       kid,
		Purpose:   purpose,
		Alg:       alg,
		Use:       "sig",
		Backend:   "software",
		Public:    []byte(`{"kty":"OKP","crv":"Ed25519","x":"` + kid + `"}`),
		Private:   []byte("sealed:" + kid),
		CreatedAt: created,
		NotBefore: created.Add(time.Hour),
	}
}

// stored is k as a backend returns it: times in UTC, to the microsecond.
func stored(k storage.KeyRecord) storage.KeyRecord {
	for _, p := range []*time.Time{&k.CreatedAt, &k.NotBefore, &k.RetiredAt, &k.PublishUntil} {
		if !p.IsZero() {
			*p = p.Truncate(time.Microsecond).UTC()
		}
	}
	return k
}

// diffKey describes how got differs from want, "" if it does not. Times
// must be equal instants, in UTC unless zero; nil and empty bytes are equal.
func diffKey(got, want storage.KeyRecord) string {
	var d []string
	str := func(name, g, w string) {
		if g != w {
			d = append(d, fmt.Sprintf("%s %q, want %q", name, g, w))
		}
	}
	str("KID", got.KID, want.KID)
	str("Purpose", got.Purpose, want.Purpose)
	str("Alg", got.Alg, want.Alg)
	str("Use", got.Use, want.Use)
	str("Backend", got.Backend, want.Backend)
	if !bytes.Equal(got.Public, want.Public) {
		d = append(d, fmt.Sprintf("Public %q, want %q", got.Public, want.Public))
	}
	if !bytes.Equal(got.Private, want.Private) {
		d = append(d, fmt.Sprintf("Private %x, want %x", got.Private, want.Private))
	}
	tm := func(name string, g, w time.Time) {
		switch {
		case !g.Equal(w) || g.IsZero() != w.IsZero():
			d = append(d, fmt.Sprintf("%s %v, want %v", name, g, w))
		case !g.IsZero() && g.Location() != time.UTC:
			d = append(d, fmt.Sprintf("%s in %v, want UTC", name, g.Location()))
		}
	}
	tm("CreatedAt", got.CreatedAt, want.CreatedAt)
	tm("NotBefore", got.NotBefore, want.NotBefore)
	tm("RetiredAt", got.RetiredAt, want.RetiredAt)
	tm("PublishUntil", got.PublishUntil, want.PublishUntil)
	return strings.Join(d, "; ")
}

func kids(keys []storage.KeyRecord) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.KID)
	}
	return out
}

func mustCreate(t *testing.T, d storage.Durable, keys ...storage.KeyRecord) {
	t.Helper()
	for _, k := range keys {
		if err := d.CreateKey(t.Context(), k); err != nil {
			t.Fatalf("CreateKey(%q) = %v, want nil", k.KID, err)
		}
	}
}

func mustList(t *testing.T, d storage.Durable, purpose string) []storage.KeyRecord {
	t.Helper()
	keys, err := d.ListKeys(t.Context(), purpose)
	if err != nil {
		t.Fatalf("ListKeys(%q) = %v, want nil error", purpose, err)
	}
	return keys
}

// checkKeys compares a listing with want, record by record.
func checkKeys(t *testing.T, call string, got, want []storage.KeyRecord) {
	t.Helper()
	if !slices.Equal(kids(got), kids(want)) {
		t.Errorf("%s = %q, want %q", call, kids(got), kids(want))
		return
	}
	for i := range got {
		if diff := diffKey(got[i], stored(want[i])); diff != "" {
			t.Errorf("%s: key %q: %s", call, got[i].KID, diff)
		}
	}
}

func testCreateKey(t *testing.T, d storage.Durable) {
	k := newKey("k1", "oidc-signing", "ES256", 0)
	mustCreate(t, d, k)
	checkKeys(t, `ListKeys("oidc-signing")`, mustList(t, d, "oidc-signing"), []storage.KeyRecord{k})
}

func testCreateKeyTaken(t *testing.T, d storage.Durable) {
	k := newKey("k1", "oidc-signing", "ES256", 0)
	mustCreate(t, d, k)
	tests := []struct {
		name string
		key  storage.KeyRecord
	}{
		{"same record", k},
		{"other purpose and alg", newKey("k1", "vc-signing", "EdDSA", 5)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := d.CreateKey(t.Context(), tt.key)
			if !errors.Is(err, storage.ErrAlreadyExists) {
				t.Errorf("CreateKey(%q) = %v, want %v", tt.key.KID, err, storage.ErrAlreadyExists)
			}
		})
	}
	checkKeys(t, `ListKeys("")`, mustList(t, d, ""), []storage.KeyRecord{k})
}

func testKeyTimes(t *testing.T, d storage.Durable) {
	riyadh := time.FixedZone("AST", 3*60*60)
	tests := []struct {
		name string
		time time.Time
	}{
		{"UTC", time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)},
		{"nanoseconds truncated", time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)},
		{"other zone", time.Date(2025, 3, 1, 15, 0, 0, 999, riyadh)},
		{"local with monotonic clock", time.Now()},
		{"before 1970", time.Date(1969, 7, 20, 20, 17, 40, 1000, time.UTC)},
		{"far future", time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKey(fmt.Sprintf("k%d", i), fmt.Sprintf("p%d", i), "ES256", 0)
			k.CreatedAt, k.NotBefore = tt.time, tt.time.Add(time.Nanosecond)
			k.RetiredAt, k.PublishUntil = tt.time.Add(time.Microsecond), tt.time.Add(time.Hour)
			mustCreate(t, d, k)
			checkKeys(t, fmt.Sprintf("ListKeys(%q)", k.Purpose), mustList(t, d, k.Purpose), []storage.KeyRecord{k})
		})
	}
	t.Run("zero times stay zero", func(t *testing.T) {
		k := newKey("zero", "zero", "ES256", 0)
		k.NotBefore = time.Time{}
		mustCreate(t, d, k)
		got := mustList(t, d, "zero")
		checkKeys(t, `ListKeys("zero")`, got, []storage.KeyRecord{k})
		if len(got) == 1 && !(got[0].NotBefore.IsZero() && got[0].RetiredAt.IsZero() && got[0].PublishUntil.IsZero()) {
			t.Errorf(`ListKeys("zero") = %+v, want zero NotBefore, RetiredAt and PublishUntil`, got[0])
		}
	})
}

func testKeyBytes(t *testing.T, d storage.Durable) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	tests := []struct {
		name            string
		public, private []byte
	}{
		{"every byte value", []byte(`{"kty":"EC"}`), all},
		{"nil", nil, nil},
		{"empty", []byte{}, []byte{}},
		{"large", bytes.Repeat([]byte("j"), 64<<10), bytes.Repeat(all, 256)},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := newKey(fmt.Sprintf("k%d", i), fmt.Sprintf("p%d", i), "ES256", 0)
			k.Public, k.Private = tt.public, tt.private
			mustCreate(t, d, k)
			checkKeys(t, fmt.Sprintf("ListKeys(%q)", k.Purpose), mustList(t, d, k.Purpose), []storage.KeyRecord{k})
		})
	}
}

func testListKeys(t *testing.T, d storage.Durable) {
	// Created out of order; b1 and b2 at the same instant.
	mustCreate(t, d,
		newKey("c", "oidc-signing", "ES256", 30),
		newKey("a", "oidc-signing", "ES256", 10),
		newKey("b2", "vc-signing", "EdDSA", 20),
		newKey("b1", "oidc-signing", "RS256", 20),
		newKey("old", "vc-signing", "EdDSA", -60),
	)
	tests := []struct {
		purpose string
		want    []string
	}{
		{"", []string{"old", "a", "b1", "b2", "c"}},
		{"oidc-signing", []string{"a", "b1", "c"}},
		{"vc-signing", []string{"old", "b2"}},
		{"missing", []string{}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("purpose %q", tt.purpose), func(t *testing.T) {
			got := kids(mustList(t, d, tt.purpose))
			if !slices.Equal(got, tt.want) {
				t.Errorf("ListKeys(%q) = %q, want %q", tt.purpose, got, tt.want)
			}
		})
	}
}

func testRotateKey(t *testing.T, d storage.Durable) {
	active := newKey("active", "oidc-signing", "ES256", 0)
	retired := newKey("retired", "oidc-signing", "ES256", -10)
	retired.RetiredAt, retired.PublishUntil = t0.Add(-time.Minute), t0.Add(time.Hour)
	otherAlg := newKey("other-alg", "oidc-signing", "RS256", 1)
	otherPurpose := newKey("other-purpose", "vc-signing", "ES256", 2)
	mustCreate(t, d, active, retired, otherAlg, otherPurpose)

	next := newKey("next", "oidc-signing", "ES256", 60)
	retiredAt, publishUntil := t0.Add(61*time.Minute), t0.Add(48*time.Hour)
	if err := d.RotateKey(t.Context(), next, retiredAt, publishUntil); err != nil {
		t.Fatalf("RotateKey(%q) = %v, want nil", next.KID, err)
	}
	wantActive := active
	wantActive.RetiredAt, wantActive.PublishUntil = retiredAt, publishUntil
	checkKeys(t, `ListKeys("")`, mustList(t, d, ""),
		[]storage.KeyRecord{retired, wantActive, otherAlg, otherPurpose, next})
}

func testRotateKeyTaken(t *testing.T, d storage.Durable) {
	active := newKey("active", "oidc-signing", "ES256", 0)
	taken := newKey("taken", "vc-signing", "EdDSA", 1)
	mustCreate(t, d, active, taken)
	next := newKey("taken", "oidc-signing", "ES256", 60)
	err := d.RotateKey(t.Context(), next, t0.Add(time.Hour), t0.Add(2*time.Hour))
	if !errors.Is(err, storage.ErrAlreadyExists) {
		t.Errorf("RotateKey(%q) = %v, want %v", next.KID, err, storage.ErrAlreadyExists)
	}
	checkKeys(t, `ListKeys("")`, mustList(t, d, ""), []storage.KeyRecord{active, taken})
}

func testDeleteKeys(t *testing.T, d storage.Durable) {
	cut := t0.Add(24 * time.Hour)
	retire := func(k storage.KeyRecord, publishUntil time.Time) storage.KeyRecord {
		k.RetiredAt, k.PublishUntil = t0, publishUntil
		return k
	}
	active := newKey("active", "p", "ES256", 0)
	gone1 := retire(newKey("gone1", "p", "ES256", 1), cut.Add(-time.Microsecond))
	gone2 := retire(newKey("gone2", "q", "EdDSA", 2), t0)
	atCut := retire(newKey("at-cut", "p", "ES256", 3), cut)
	after := retire(newKey("after", "p", "ES256", 4), cut.Add(time.Hour))
	mustCreate(t, d, active, gone1, gone2, atCut, after)

	n, err := d.DeleteKeysPublishedBefore(t.Context(), cut)
	if n != 2 || err != nil {
		t.Errorf("DeleteKeysPublishedBefore(%v) = %d, %v, want 2, nil", cut, n, err)
	}
	checkKeys(t, `ListKeys("")`, mustList(t, d, ""), []storage.KeyRecord{active, atCut, after})

	n, err = d.DeleteKeysPublishedBefore(t.Context(), cut)
	if n != 0 || err != nil {
		t.Errorf("DeleteKeysPublishedBefore(%v) again = %d, %v, want 0, nil", cut, n, err)
	}
}

// concurrently runs fn(0) … fn(n-1) in n goroutines released at once and
// returns their errors by index.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// goroutines is how many goroutines the concurrency cases run.
const goroutines = 50

func testConcurrentCreateKeys(t *testing.T, d storage.Durable) {
	errs := concurrently(goroutines, func(i int) error {
		return d.CreateKey(t.Context(), newKey(fmt.Sprintf("k%02d", i), "p", "ES256", i))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("CreateKey(%q) = %v, want nil", fmt.Sprintf("k%02d", i), err)
		}
	}
	if got := mustList(t, d, "p"); len(got) != goroutines {
		t.Errorf(`len(ListKeys("p")) = %d, want %d`, len(got), goroutines)
	}
}

func testConcurrentCreateKeySame(t *testing.T, d storage.Durable) {
	errs := concurrently(goroutines, func(i int) error {
		k := newKey("same", "p", "ES256", 0)
		k.Private = []byte(fmt.Sprint(i))
		return d.CreateKey(t.Context(), k)
	})
	winners := 0
	for _, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, storage.ErrAlreadyExists):
			t.Errorf("CreateKey(%q) = %v, want nil or %v", "same", err, storage.ErrAlreadyExists)
		}
	}
	if winners != 1 {
		t.Errorf("CreateKey(%q) succeeded %d times in %d goroutines, want once", "same", winners, goroutines)
	}
	if got := mustList(t, d, "p"); len(got) != 1 {
		t.Errorf(`len(ListKeys("p")) = %d, want 1`, len(got))
	}
}

func testConcurrentRotateKey(t *testing.T, d storage.Durable) {
	mustCreate(t, d, newKey("first", "p", "ES256", 0))
	const n = 20
	errs := concurrently(n, func(i int) error {
		k := newKey(fmt.Sprintf("k%02d", i), "p", "ES256", 10+i)
		return d.RotateKey(t.Context(), k, t0.Add(time.Hour), t0.Add(2*time.Hour))
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("RotateKey(%q) = %v, want nil", fmt.Sprintf("k%02d", i), err)
		}
	}
	var active []string
	keys := mustList(t, d, "p")
	for _, k := range keys {
		if k.RetiredAt.IsZero() {
			active = append(active, k.KID)
		}
	}
	if len(keys) != n+1 || len(active) != 1 {
		t.Errorf(`after %d concurrent RotateKey, ListKeys("p") has %d keys, %q unretired; want %d keys, one unretired`,
			n, len(keys), active, n+1)
	}
}
