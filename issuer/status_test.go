package issuer

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/storage"
)

// stListIDPattern is what newStatusListID makes: 16 random bytes,
// base64url.
var stListIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// stAllocate allocates total entries of kind in batches of 1 to 7 and
// fails t on an error.
func stAllocate(t *testing.T, a *statusAllocator, kind string, total int) []statusSlot {
	t.Helper()
	var out []statusSlot
	for len(out) < total {
		n := min(1+len(out)%7, total-len(out))
		slots, err := a.allocate(t.Context(), kind, n)
		if err != nil {
			t.Fatalf("allocate(%s, %d) = %v", kind, n, err)
		}
		if len(slots) != n {
			t.Fatalf("allocate(%s, %d) = %d slots", kind, n, len(slots))
		}
		out = append(out, slots...)
	}
	return out
}

// stCheckDistinct fails t unless slots are distinct and each index is
// below size.
func stCheckDistinct(t *testing.T, slots []statusSlot, size int) map[string]int {
	t.Helper()
	seen := map[statusSlot]bool{}
	perList := map[string]int{}
	for _, s := range slots {
		if seen[s] {
			t.Fatalf("slot %+v allocated twice", s)
		}
		seen[s] = true
		if s.Index < 0 || s.Index >= size {
			t.Fatalf("slot %+v: index outside [0, %d)", s, size)
		}
		perList[s.List]++
	}
	return perList
}

func TestStatusAllocatorFillsOneListInBlocks(t *testing.T) {
	const size, block = 1000, 16
	st := &stLists{}
	a := newStatusAllocator(st, crIssuer, size, block)
	slots := stAllocate(t, a, storage.StatusListW3C, size)
	perList := stCheckDistinct(t, slots, size)
	if len(perList) != 1 {
		t.Fatalf("%d entries of a %d-entry list went to %d lists, want 1", size, size, len(perList))
	}
	// One reservation per block, none wasted: ceil(1000/16).
	if reserves, _ := st.counts(); reserves != (size+block-1)/block {
		t.Errorf("ReserveStatusIndices called %d times for %d entries in blocks of %d, want %d", reserves, size, block, (size+block-1)/block)
	}
	// Every index of the list is used once, not in counter order.
	indices := make([]int, len(slots))
	for i, s := range slots {
		indices[i] = s.Index
	}
	if slices.IsSorted(indices) {
		t.Errorf("indices follow the allocation order: %v…", indices[:10])
	}
	// The list is full: the next entry opens a new one.
	next, err := a.allocate(t.Context(), storage.StatusListW3C, 1)
	if err != nil {
		t.Fatal(err)
	}
	if next[0].List == slots[0].List || !stListIDPattern.MatchString(next[0].List) || !stListIDPattern.MatchString(slots[0].List) {
		t.Errorf("list after a full one = %q (first %q), want a new id of 16 random bytes", next[0].List, slots[0].List)
	}
}

func TestStatusAllocatorUnpredictable(t *testing.T) {
	// Two issuers (two keys) allocate the same counters to different
	// indices; an index does not tell the counter.
	const size = 4096
	var runs [2][]int
	for r := range runs {
		a := newStatusAllocator(&stLists{}, crIssuer, size, 64)
		for _, s := range stAllocate(t, a, storage.StatusListToken, 64) {
			runs[r] = append(runs[r], s.Index)
		}
	}
	if slices.Equal(runs[0], runs[1]) {
		t.Fatalf("two lists with different keys allocate the same indices %v", runs[0][:8])
	}
	inOrder := 0
	for i, idx := range runs[0] {
		if idx == i {
			inOrder++
		}
	}
	if inOrder > 2 {
		t.Errorf("%d of the first 64 counters map to themselves, want a permutation", inOrder)
	}
}

func TestStatusAllocatorRollover(t *testing.T) {
	st := &stLists{}
	a := newStatusAllocator(st, crIssuer, 3, 2)
	slots, err := a.allocate(t.Context(), storage.StatusListToken, 5)
	if err != nil {
		t.Fatal(err)
	}
	perList := stCheckDistinct(t, slots, 3)
	lists := st.snapshot()
	if len(perList) != 2 || len(lists) != 2 {
		t.Fatalf("5 entries of 3-entry lists went to %v (%d lists), want 3 and 2 on 2 lists", perList, len(lists))
	}
	if perList[lists[0].ID] != 3 || perList[lists[1].ID] != 2 {
		t.Errorf("entries per list = %v, want 3 on %s and 2 on %s", perList, lists[0].ID, lists[1].ID)
	}
	for _, l := range lists {
		if len(l.Key) != 32 || l.Kind != storage.StatusListToken || l.Issuer != crIssuer || l.Size != 3 {
			t.Errorf("list %+v, want a %s list of %s, size 3, with a 32-byte key", l, storage.StatusListToken, crIssuer)
		}
	}
	if string(lists[0].Key) == string(lists[1].Key) {
		t.Errorf("two lists share a permutation key")
	}
}

func TestStatusAllocatorKindsAreSeparate(t *testing.T) {
	st := &stLists{}
	a := newStatusAllocator(st, crIssuer, 100, 8)
	w3c := stAllocate(t, a, storage.StatusListW3C, 10)
	tok := stAllocate(t, a, storage.StatusListToken, 10)
	if w3c[0].List == tok[0].List {
		t.Fatalf("W3C and token entries share list %s", w3c[0].List)
	}
	for _, l := range st.snapshot() {
		want := storage.StatusListW3C
		if l.ID == tok[0].List {
			want = storage.StatusListToken
		}
		if l.Kind != want {
			t.Errorf("list %s is of kind %s, want %s", l.ID, l.Kind, want)
		}
	}
	if _, err := a.allocate(t.Context(), "mdoc", 1); err == nil {
		t.Errorf("allocate(mdoc) succeeded, want an error for an unknown kind")
	}
}

func TestStatusAllocatorConcurrent(t *testing.T) {
	const size, workers, each = 500, 40, 25 // 1000 entries: two full lists
	st := &stLists{}
	a := newStatusAllocator(st, crIssuer, size, 8)
	var (
		mu  sync.Mutex
		all []statusSlot
		wg  sync.WaitGroup
	)
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := 0; i < each; {
				n := min(1+(w+i)%3, each-i)
				slots, err := a.allocate(context.Background(), storage.StatusListW3C, n)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				all = append(all, slots...)
				mu.Unlock()
				i += n
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent allocate = %v", err)
	}
	perList := stCheckDistinct(t, all, size)
	if len(all) != workers*each || len(perList) != 2 {
		t.Fatalf("%d concurrent entries on lists %v, want %d on 2 full lists", len(all), perList, workers*each)
	}
	for id, n := range perList {
		if n != size {
			t.Errorf("list %s holds %d entries, want %d", id, n, size)
		}
	}
}

func TestStatusAllocatorStoreFailure(t *testing.T) {
	st := &stLists{failReserve: errors.New("database is down")}
	a := newStatusAllocator(st, crIssuer, 100, 8)
	if _, err := a.allocate(t.Context(), storage.StatusListW3C, 1); err == nil || !errors.Is(err, st.failReserve) {
		t.Fatalf("allocate with a failing store = %v, want the store's error wrapped", err)
	}
}

// stWithLists gives the fixture's issuer the status lists st of size.
func stWithLists(st storage.StatusLists, size int64) crOptions {
	return func(c *Config) {
		c.StatusLists = st
		c.StatusListSize = size
	}
}

func TestCredentialStatusEntries(t *testing.T) {
	st := &stLists{}
	e := newCrEnv(t, stWithLists(st, 1000))
	e.token("tok-sd", crScopeSD)

	// A batch of two jwt_vc_json credentials and one SD-JWT VC.
	n := e.nonce()
	w := e.post("tok-nid", crRequest(crNID, e.proof(newCrHolder(t), n), e.proof(newCrHolder(t), n)))
	if w.Code != http.StatusOK {
		t.Fatalf("jwt_vc_json batch = %d %s, want 200", w.Code, w.Body)
	}
	w = e.post("tok-sd", crRequest(crNIDSD, e.proof(newCrHolder(t), e.nonce())))
	if w.Code != http.StatusOK {
		t.Fatalf("SD-JWT VC request = %d %s, want 200", w.Code, w.Body)
	}

	_, entries := e.ledger.snapshot()
	inputs := append(e.jwtvc.inputs(), e.sdjwt.inputs()...)
	if len(entries) != 3 || len(inputs) != 3 {
		t.Fatalf("%d ledger entries, %d issued; want 3", len(entries), len(inputs))
	}
	seen := map[string]bool{}
	for _, in := range inputs {
		i := slices.IndexFunc(entries, func(en storage.IssuedCredential) bool { return en.ID == in.ID })
		if i < 0 {
			t.Fatalf("credential %s is not in the ledger", in.ID)
		}
		en := entries[i]
		if !stListIDPattern.MatchString(en.StatusList) || en.StatusIndex < 0 || en.StatusIndex >= 1000 {
			t.Fatalf("ledger entry of %s: status list %q index %d, want an allocated entry", en.Format, en.StatusList, en.StatusIndex)
		}
		key := en.StatusList + "/" + strconv.FormatInt(en.StatusIndex, 10)
		if seen[key] {
			t.Errorf("two credentials share status entry %s", key)
		}
		seen[key] = true
		base := crIssuer + PathStatus + "/" + en.StatusList
		switch in.Config.Format {
		case credential.FormatJWTVC:
			got, err := statuslist.ParseEntries(in.Status)
			if err != nil {
				t.Fatalf("ParseEntries(jwt_vc_json status) = %v", err)
			}
			// The VC-JWT form of the lists, the securing mechanism of
			// jwt_vc_json.
			jwtBase := base + "/jwt"
			want := []statuslist.Entry{
				{ID: jwtBase + "/revocation#" + strconv.FormatInt(en.StatusIndex, 10), StatusPurpose: statuslist.PurposeRevocation, StatusListIndex: int(en.StatusIndex), StatusListCredential: jwtBase + "/revocation", Type: statuslist.TypeEntry},
				{ID: jwtBase + "/suspension#" + strconv.FormatInt(en.StatusIndex, 10), StatusPurpose: statuslist.PurposeSuspension, StatusListIndex: int(en.StatusIndex), StatusListCredential: jwtBase + "/suspension", Type: statuslist.TypeEntry},
			}
			if !slices.Equal(got, want) {
				t.Errorf("jwt_vc_json credentialStatus = %+v, want %+v", got, want)
			}
		case credential.FormatSDJWTVC:
			got, err := statuslist.ParseTokenReference(in.Status)
			if err != nil {
				t.Fatalf("ParseTokenReference(SD-JWT VC status) = %v", err)
			}
			if want := (statuslist.TokenReference{Index: int(en.StatusIndex), URI: base}); got != want {
				t.Errorf("SD-JWT VC status = %+v, want %+v", got, want)
			}
		}
	}
	// The W3C and token credentials are on lists of their kinds.
	for _, l := range st.snapshot() {
		for _, en := range entries {
			if en.StatusList == l.ID && statusKind(en.Format) != l.Kind {
				t.Errorf("%s credential on a %s list", en.Format, l.Kind)
			}
		}
	}
}

func TestCredentialNoStatusLists(t *testing.T) {
	e := newCrEnv(t)
	w := e.post("tok-nid", crRequest(crNID, e.proof(newCrHolder(t), e.nonce())))
	if w.Code != http.StatusOK {
		t.Fatalf("request = %d %s, want 200", w.Code, w.Body)
	}
	_, entries := e.ledger.snapshot()
	ins := e.jwtvc.inputs()
	if len(entries) != 1 || len(ins) != 1 {
		t.Fatalf("%d entries, %d issued; want 1", len(entries), len(ins))
	}
	if ins[0].Status != nil || entries[0].StatusList != "" || entries[0].StatusIndex != -1 {
		t.Errorf("without StatusLists: status %v, ledger list %q index %d; want none, \"\", -1", ins[0].Status, entries[0].StatusList, entries[0].StatusIndex)
	}
}

func TestCredentialStatusAllocationFailure(t *testing.T) {
	st := &stLists{failReserve: errors.New("database is down")}
	e := newCrEnv(t, stWithLists(st, 1000))
	w := e.post("tok-nid", crRequest(crNID, e.proof(newCrHolder(t), e.nonce())))
	crWantError(t, w, http.StatusInternalServerError, CodeServerError)
	if calls, entries := e.ledger.snapshot(); calls != 0 || len(entries) != 0 || len(e.jwtvc.inputs()) != 0 {
		t.Errorf("after a failed allocation: %d ledger writes, %d entries, %d signed; want nothing issued", calls, len(entries), len(e.jwtvc.inputs()))
	}
}

func TestNewStatusListSettings(t *testing.T) {
	var base Config
	newCrEnv(t, func(c *Config) { base = *c })
	base.StatusLists = &stLists{}
	for _, tc := range []struct {
		name     string
		size     int64
		ttl      time.Duration
		ok       bool
		wantSize int64
		wantTTL  time.Duration
	}{
		{"defaults", 0, 0, true, statuslist.DefaultSize, DefaultStatusListTTL},
		{"tiny", 1, time.Second, true, 1, time.Second},
		{"largest", maxStatusListSize, time.Hour, true, maxStatusListSize, time.Hour},
		{"negative size", -1, 0, false, 0, 0},
		{"too large", maxStatusListSize + 1, 0, false, 0, 0},
		{"negative ttl", 0, -time.Second, false, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			cfg.StatusListSize, cfg.StatusListTTL = tc.size, tc.ttl
			is, err := New(cfg)
			if (err == nil) != tc.ok {
				t.Fatalf("New(StatusListSize %d, StatusListTTL %s) = %v, want ok %v", tc.size, tc.ttl, err, tc.ok)
			}
			if err != nil {
				return
			}
			if is.cfg.StatusListSize != tc.wantSize || is.cfg.StatusListTTL != tc.wantTTL || is.status == nil || is.status.alloc.size != tc.wantSize {
				t.Errorf("New: size %d, TTL %s, want %d, %s and an allocator", is.cfg.StatusListSize, is.cfg.StatusListTTL, tc.wantSize, tc.wantTTL)
			}
		})
	}
}

// stRSASigners has an RS256 key only.
type stRSASigners struct{ *crSigners }

func (stRSASigners) Algs() []string { return []string{"RS256"} }

func TestNewStatusListsNeedKeys(t *testing.T) {
	var base Config
	newCrEnv(t, func(c *Config) { base = *c })
	base.Signers = stRSASigners{&crSigners{}}
	var configs []*Configuration
	for _, c := range base.Configurations {
		cc := *c
		cc.SigningAlg = "RS256"
		configs = append(configs, &cc)
	}
	base.Configurations = configs
	if _, err := New(base); err != nil {
		t.Fatalf("New(RS256 issuer without status lists) = %v, want nil", err)
	}
	base.StatusLists = &stLists{}
	_, err := New(base)
	if err == nil || !strings.Contains(err.Error(), "W3C status lists need an EdDSA or ES256 issuer key") || strings.Contains(err.Error(), crNIDSD) {
		t.Errorf("New(RS256 issuer with status lists) = %v, want W3C configurations refused (and SD-JWT VC accepted: RS256 signs tokens)", err)
	}
}

// stAlgSigners has keys of algs (only Algs is used).
type stAlgSigners struct {
	*crSigners
	algs []string
}

func (s stAlgSigners) Algs() []string { return s.algs }

func TestStatusListJWTAlg(t *testing.T) {
	jwtVC := func(alg string) *Configuration {
		return &Configuration{ID: "vc-" + alg, Format: credential.FormatJWTVC, SigningAlg: alg}
	}
	ldpVC := &Configuration{ID: "ldp", Format: credential.FormatLDPVC, SigningAlg: "EdDSA"}
	for _, tc := range []struct {
		name    string
		algs    []string
		configs []*Configuration
		want    string
	}{
		{"the jwt_vc_json configuration's", []string{"ES256", "EdDSA"}, []*Configuration{ldpVC, jwtVC("EdDSA"), jwtVC("ES256")}, "EdDSA"},
		{"a jwt_vc_json alg without a key is skipped", []string{"ES256", "EdDSA"}, []*Configuration{jwtVC("PS256"), jwtVC("EdDSA")}, "EdDSA"},
		{"ES256 without jwt_vc_json", []string{"EdDSA", "ES256"}, []*Configuration{ldpVC}, "ES256"},
		{"the issuer's first otherwise", []string{"EdDSA", "RS256"}, []*Configuration{ldpVC}, "EdDSA"},
		{"no keys", nil, []*Configuration{ldpVC}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &Config{Signers: stAlgSigners{&crSigners{}, tc.algs}, Configurations: tc.configs}
			if got := statusListJWTAlg(cfg); got != tc.want {
				t.Errorf("statusListJWTAlg(keys %v) = %q, want %q", tc.algs, got, tc.want)
			}
		})
	}
}

// TestStatusDocuments: each format names the lists of its own securing
// mechanism, on the same list and index.
func TestStatusDocuments(t *testing.T) {
	e := newStEnv(t)
	base := crIssuer + PathStatus + "/L1"
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{credential.FormatLDPVC, []string{base + "/revocation", base + "/suspension"}},
		{credential.FormatJWTVC, []string{base + "/jwt/revocation", base + "/jwt/suspension"}},
		{credential.FormatSDJWTVC, []string{base}},
		{credential.FormatMsoMdoc, nil},
	} {
		t.Run(tc.format, func(t *testing.T) {
			status, err := e.is.credentialStatus(tc.format, statusSlot{List: "L1", Index: 42})
			if tc.want == nil {
				if err == nil {
					t.Errorf("credentialStatus(%s) = %v, want an error", tc.format, status)
				}
				return
			}
			if err != nil {
				t.Fatalf("credentialStatus(%s) = %v", tc.format, err)
			}
			var got []string
			if tc.format == credential.FormatSDJWTVC {
				ref, err := statuslist.ParseTokenReference(status.(map[string]any))
				if err != nil || ref.Index != 42 {
					t.Fatalf("credentialStatus(%s) = %v (%v), want index 42", tc.format, status, err)
				}
				got = []string{ref.URI}
			} else {
				entries, err := statuslist.ParseEntries(status)
				if err != nil {
					t.Fatal(err)
				}
				for i, en := range entries {
					purpose := []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension}[i]
					if en.StatusListIndex != 42 || en.StatusPurpose != purpose {
						t.Errorf("credentialStatus(%s) entry %d = %+v, want %s at index 42", tc.format, i, en, purpose)
					}
					got = append(got, en.StatusListCredential)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("credentialStatus(%s) names %v, want %v", tc.format, got, tc.want)
			}
		})
	}
}
