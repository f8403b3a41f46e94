package issuer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// stResidents is a PersonFinder of active residents that is also a
// ResidentFinder of every resident, active or not.
type stResidents struct {
	active   map[string]string // individual id → person id
	inactive map[string]string
}

func (r *stResidents) FindPerson(_ context.Context, individualID string) (string, map[string]any, error) {
	if id, ok := r.active[individualID]; ok {
		return id, nil, nil
	}
	return "", nil, ErrUnknownPerson
}

func (r *stResidents) FindResident(_ context.Context, individualID string) (string, error) {
	if id, ok := r.active[individualID]; ok {
		return id, nil
	}
	if id, ok := r.inactive[individualID]; ok {
		return id, nil
	}
	return "", ErrUnknownPerson
}

// stActiveOnly hides FindResident.
type stActiveOnly struct{ r *stResidents }

func (a stActiveOnly) FindPerson(ctx context.Context, individualID string) (string, map[string]any, error) {
	return a.r.FindPerson(ctx, individualID)
}

// stRecord puts a credential in the fixture's ledger: on list "L" at index
// 5 unless list is empty.
func (e *stEnv) stRecord(t *testing.T, id, status, list string) storage.IssuedCredential {
	t.Helper()
	c := storage.IssuedCredential{
		ID: id, ConfigurationID: crNID, Format: credential.FormatJWTVC, PersonID: crPerson, Subject: crSubject,
		HolderKeyThumbprint: "thumb", NotificationID: "notif-1",
		IssuedAt: e.clock.Now(), ValidFrom: e.clock.Now(), ValidUntil: e.clock.Now().Add(time.Hour),
		Status: status, StatusList: list, StatusIndex: -1,
	}
	if list != "" {
		c.StatusIndex = 5
	}
	if err := e.ledger.RecordCredentials(t.Context(), []storage.IssuedCredential{c}); err != nil {
		t.Fatal(err)
	}
	return c
}

// post sends POST path with body (nil: none).
func (e *stEnv) adminPost(path string, body []byte) *httptest.ResponseRecorder {
	var r *http.Request
	if body == nil {
		r = httptest.NewRequest(http.MethodPost, path, nil)
	} else {
		r = httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	return w
}

// stLogs returns an option logging to a buffer.
func stLogs(buf *paLogs) crOptions {
	return func(c *Config) {
		c.Logger = slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

func TestAdminCredentialTransitions(t *testing.T) {
	logs := &paLogs{}
	e := newStEnv(t, stLogs(logs))
	for _, tc := range []struct {
		name, from, action string
		list               string
		status             int
		code, final        string
	}{
		{"revoke valid", storage.CredentialValid, ActionRevoke, "L", 200, "", storage.CredentialRevoked},
		{"suspend valid", storage.CredentialValid, ActionSuspend, "L", 200, "", storage.CredentialSuspended},
		{"reinstate valid", storage.CredentialValid, ActionReinstate, "L", 409, CodeCredentialNotSuspended, storage.CredentialValid},
		{"revoke suspended", storage.CredentialSuspended, ActionRevoke, "L", 200, "", storage.CredentialRevoked},
		{"suspend suspended", storage.CredentialSuspended, ActionSuspend, "L", 200, "", storage.CredentialSuspended},
		{"reinstate suspended", storage.CredentialSuspended, ActionReinstate, "L", 200, "", storage.CredentialValid},
		{"revoke revoked", storage.CredentialRevoked, ActionRevoke, "L", 200, "", storage.CredentialRevoked},
		{"suspend revoked", storage.CredentialRevoked, ActionSuspend, "L", 409, CodeCredentialRevoked, storage.CredentialRevoked},
		{"reinstate revoked", storage.CredentialRevoked, ActionReinstate, "L", 409, CodeCredentialRevoked, storage.CredentialRevoked},
		{"revoke without a list", storage.CredentialValid, ActionRevoke, "", 409, CodeCredentialNotRevocable, storage.CredentialValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "urn:uuid:" + strings.ReplaceAll(tc.name, " ", "-")
			e.stRecord(t, id, tc.from, tc.list)
			w := e.adminPost(AdminCredentials+"/"+id+"/"+tc.action, nil)
			if w.Code != tc.status {
				t.Fatalf("POST %s = %d %s, want %d", tc.action, w.Code, w.Body, tc.status)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if tc.code != "" && body["error"] != tc.code {
				t.Errorf("error = %v, want %s", body["error"], tc.code)
			}
			if tc.code == "" && (body["id"] != id || body["status"] != tc.final) {
				t.Errorf("answer %v, want the credential with status %s", body, tc.final)
			}
			got, err := e.ledger.GetCredential(t.Context(), id)
			if err != nil || got.Status != tc.final {
				t.Errorf("ledger status = %s (%v), want %s", got.Status, err, tc.final)
			}
		})
	}
	if w := e.adminPost(AdminCredentials+"/urn:uuid:nothing/revoke", nil); w.Code != http.StatusNotFound {
		t.Errorf("revoke an unknown credential = %d %s, want 404", w.Code, w.Body)
	}
	out := logs.String()
	if !strings.Contains(out, `"credential_id":"urn:uuid:revoke-valid"`) || !strings.Contains(out, `"action":"revoke"`) {
		t.Errorf("logs %s do not name the revoked credential and the action", out)
	}
	if strings.Contains(out, crPerson) {
		t.Errorf("logs carry the resident's internal id: %s", out)
	}
}

// stStaleLedger is a ledger whose GetCredential answers with the status
// in stale, as a read made before another process changed it would.
type stStaleLedger struct {
	storage.Ledger
	stale map[string]string // credential id → status read
}

func (l *stStaleLedger) GetCredential(ctx context.Context, id string) (storage.IssuedCredential, error) {
	c, err := l.Ledger.GetCredential(ctx, id)
	if s, ok := l.stale[id]; ok && err == nil {
		c.Status = s
	}
	return c, err
}

// TestAdminCredentialTransitionsAfterConcurrentChange changes a
// credential's status between the admin API's read and its change: the
// answer follows the status the ledger holds, and a revocation is never
// undone.
func TestAdminCredentialTransitionsAfterConcurrentChange(t *testing.T) {
	stale := &stStaleLedger{stale: map[string]string{}}
	e := newStEnv(t, func(c *Config) {
		stale.Ledger = c.Ledger
		c.Ledger = stale
	})
	for _, tc := range []struct {
		name          string
		read, current string // status the API reads, status the ledger holds
		action        string
		status        int
		code, final   string
	}{
		{"reinstate a credential revoked meanwhile", storage.CredentialSuspended, storage.CredentialRevoked, ActionReinstate,
			409, CodeCredentialRevoked, storage.CredentialRevoked},
		{"suspend a credential revoked meanwhile", storage.CredentialValid, storage.CredentialRevoked, ActionSuspend,
			409, CodeCredentialRevoked, storage.CredentialRevoked},
		{"reinstate a credential reinstated meanwhile", storage.CredentialSuspended, storage.CredentialValid, ActionReinstate,
			409, CodeCredentialNotSuspended, storage.CredentialValid},
		{"suspend a credential suspended meanwhile", storage.CredentialValid, storage.CredentialSuspended, ActionSuspend,
			200, "", storage.CredentialSuspended},
		{"revoke a credential revoked meanwhile", storage.CredentialValid, storage.CredentialRevoked, ActionRevoke,
			200, "", storage.CredentialRevoked},
		{"revoke a credential reinstated meanwhile", storage.CredentialSuspended, storage.CredentialValid, ActionRevoke,
			200, "", storage.CredentialRevoked},
		{"reinstate a credential suspended meanwhile", storage.CredentialValid, storage.CredentialSuspended, ActionReinstate,
			200, "", storage.CredentialValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := "urn:uuid:" + strings.ReplaceAll(tc.name, " ", "-")
			e.stRecord(t, id, tc.current, "L")
			stale.stale[id] = tc.read
			w := e.adminPost(AdminCredentials+"/"+id+"/"+tc.action, nil)
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
				t.Fatalf("POST %s = %d %s: %v", tc.action, w.Code, w.Body, err)
			}
			if w.Code != tc.status || tc.code != "" && body["error"] != tc.code || tc.code == "" && body["status"] != tc.final {
				t.Errorf("POST %s read as %s, held as %s = %d %s, want %d %s%s",
					tc.action, tc.read, tc.current, w.Code, w.Body, tc.status, tc.code, tc.final)
			}
			got, err := e.ledger.GetCredential(t.Context(), id)
			if err != nil || got.Status != tc.final {
				t.Errorf("ledger status after POST %s = %s (%v), want %s", tc.action, got.Status, err, tc.final)
			}
		})
	}
}

// stSlowReads is a ledger whose GetCredential waits before answering,
// so that concurrent requests all read before any of them writes.
type stSlowReads struct {
	storage.Ledger
	delay time.Duration
}

func (l stSlowReads) GetCredential(ctx context.Context, id string) (storage.IssuedCredential, error) {
	c, err := l.Ledger.GetCredential(ctx, id)
	time.Sleep(l.delay)
	return c, err
}

// TestAdminCredentialConcurrentRevokeAndReinstate revokes and reinstates
// one suspended credential in a SQLite ledger from many requests at once,
// each reading it before any writes: it ends revoked, and no
// reinstatement succeeds after the revocation.
func TestAdminCredentialConcurrentRevokeAndReinstate(t *testing.T) {
	ledger := storagetest.OpenSQLite(t)
	e := newStEnv(t, func(c *Config) { c.Ledger = stSlowReads{ledger, 20 * time.Millisecond} })
	const id = "urn:uuid:contested"
	c := storage.IssuedCredential{
		ID: id, ConfigurationID: crNID, Format: credential.FormatJWTVC, PersonID: crPerson, Subject: crSubject,
		IssuedAt: e.clock.Now(), ValidFrom: e.clock.Now(), Status: storage.CredentialSuspended,
		StatusList: "L", StatusIndex: 5,
	}
	if err := ledger.RecordCredentials(t.Context(), []storage.IssuedCredential{c}); err != nil {
		t.Fatal(err)
	}
	const requests = 50
	codes := make([]int, requests)
	statuses := make([]any, requests)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			action := ActionReinstate
			if i%2 == 0 {
				action = ActionRevoke
			}
			<-start
			w := e.adminPost(AdminCredentials+"/"+id+"/"+action, nil)
			codes[i] = w.Code
			var body map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &body); err == nil {
				statuses[i] = body["status"]
				if w.Code != http.StatusOK {
					statuses[i] = body["error"]
				}
			}
		})
	}
	close(start)
	wg.Wait()
	reinstated := 0
	for i := range requests {
		switch {
		case i%2 == 0 && (codes[i] != http.StatusOK || statuses[i] != storage.CredentialRevoked):
			t.Errorf("revoke %d = %d %v, want 200 %s", i, codes[i], statuses[i], storage.CredentialRevoked)
		case i%2 == 1 && codes[i] == http.StatusOK:
			reinstated++
			if statuses[i] != storage.CredentialValid {
				t.Errorf("reinstate %d = 200 %v, want 200 %s", i, statuses[i], storage.CredentialValid)
			}
		case i%2 == 1 && (codes[i] != http.StatusConflict ||
			statuses[i] != CodeCredentialRevoked && statuses[i] != CodeCredentialNotSuspended):
			t.Errorf("reinstate %d = %d %v, want 200, or 409 %s or %s",
				i, codes[i], statuses[i], CodeCredentialRevoked, CodeCredentialNotSuspended)
		}
	}
	if reinstated > 1 {
		t.Errorf("%d reinstatements succeeded, want at most 1", reinstated)
	}
	got, err := ledger.GetCredential(t.Context(), id)
	if err != nil || got.Status != storage.CredentialRevoked {
		t.Errorf("ledger status after the race = %s (%v), want %s", got.Status, err, storage.CredentialRevoked)
	}
}

func TestAdminCredentialRecord(t *testing.T) {
	e := newStEnv(t)
	id := "urn:uuid:00000000-0000-4000-8000-000000000001"
	e.stRecord(t, id, storage.CredentialValid, "LIST")
	r := httptest.NewRequest(http.MethodGet, AdminCredentials+"/"+url.PathEscape(id), nil)
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET credential = %d %s", w.Code, w.Body)
	}
	if strings.Contains(w.Body.String(), crPerson) || strings.Contains(w.Body.String(), "person") || strings.Contains(w.Body.String(), "notif-1") {
		t.Errorf("credential record %s carries the resident's internal id or the notification id", w.Body)
	}
	var rec CredentialRecord
	if err := json.Unmarshal(w.Body.Bytes(), &rec); err != nil {
		t.Fatal(err)
	}
	base := crIssuer + PathStatus + "/LIST"
	want := CredentialStatusRef{ID: "LIST", Index: 5, URLs: []string{base + "/jwt/revocation", base + "/jwt/suspension"}}
	if rec.ID != id || rec.ConfigurationID != crNID || !rec.Revocable || rec.StatusList == nil ||
		rec.StatusList.ID != want.ID || rec.StatusList.Index != want.Index || strings.Join(rec.StatusList.URLs, " ") != strings.Join(want.URLs, " ") ||
		rec.ValidUntil == nil || rec.Subject != crSubject || rec.HolderKeyThumbprint != "thumb" {
		t.Errorf("record %+v (status list %+v), want %s of %s, revocable at %+v", rec, rec.StatusList, id, crNID, want)
	}

	// Percent-encoded colons name the same credential.
	r = httptest.NewRequest(http.MethodGet, AdminCredentials+"/"+strings.ReplaceAll(id, ":", "%3A"), nil)
	w = httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), id) {
		t.Errorf("GET credential with %%3A = %d %s, want the credential", w.Code, w.Body)
	}

	r = httptest.NewRequest(http.MethodGet, AdminCredentials+"/urn:uuid:nothing", nil)
	w = httptest.NewRecorder()
	e.router.ServeHTTP(w, r)
	if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), CodeNotFound) {
		t.Errorf("GET unknown credential = %d %s, want 404 not_found", w.Code, w.Body)
	}
}

// TestAdminCredentialRecordURLs checks that a record names the published
// documents its credential's status entry points to, for each format.
func TestAdminCredentialRecordURLs(t *testing.T) {
	e := newStEnv(t)
	base := crIssuer + PathStatus + "/LIST"
	for _, tc := range []struct {
		format string
		want   []string
	}{
		{credential.FormatJWTVC, []string{base + "/jwt/revocation", base + "/jwt/suspension"}},
		{credential.FormatLDPVC, []string{base + "/revocation", base + "/suspension"}},
		{credential.FormatSDJWTVC, []string{base}},
	} {
		t.Run(tc.format, func(t *testing.T) {
			c := storage.IssuedCredential{ID: "urn:uuid:x", Format: tc.format, Status: storage.CredentialValid,
				StatusList: "LIST", StatusIndex: 7}
			r := e.is.record(c)
			if r.StatusList == nil || !slices.Equal(r.StatusList.URLs, tc.want) || r.StatusList.Index != 7 {
				t.Errorf("record(%s on LIST at 7).StatusList = %+v, want URLs %q, index 7", tc.format, r.StatusList, tc.want)
			}
		})
	}
}

func TestAdminListCredentialsPages(t *testing.T) {
	e := newStEnv(t)
	for _, id := range []string{"urn:uuid:a", "urn:uuid:b", "urn:uuid:c"} {
		e.stRecord(t, id, storage.CredentialValid, "")
	}
	get := func(q string) (*httptest.ResponseRecorder, CredentialList) {
		r := httptest.NewRequest(http.MethodGet, AdminCredentials+"?"+q, nil)
		w := httptest.NewRecorder()
		e.router.ServeHTTP(w, r)
		var out CredentialList
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		return w, out
	}
	// The fake ledger ignores the filter: 3 entries, a full page of 3.
	w, out := get("limit=3")
	if w.Code != http.StatusOK || len(out.Credentials) != 3 || out.NextAfter != "urn:uuid:c" {
		t.Errorf("limit=3 = %d, %d credentials, next_after %q; want 3 and urn:uuid:c", w.Code, len(out.Credentials), out.NextAfter)
	}
	w, out = get("limit=10&status=valid")
	if w.Code != http.StatusOK || len(out.Credentials) != 3 || out.NextAfter != "" || out.Credentials[0].Revocable {
		t.Errorf("limit=10 = %d, %d credentials, next_after %q; want 3, none, not revocable", w.Code, len(out.Credentials), out.NextAfter)
	}
	if strings.Contains(w.Body.String(), crPerson) {
		t.Errorf("listing carries the resident's internal id")
	}
	w, _ = get("colour=red")
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `unknown query parameter \"colour\"`) {
		t.Errorf("unknown parameter = %d %s, want 400 naming it", w.Code, w.Body)
	}
}

func TestParseCredentialQuery(t *testing.T) {
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, query string
		want        storage.CredentialFilter
		err         string
	}{
		{"empty", "", storage.CredentialFilter{Limit: 100}, ""},
		{"everything", "configuration_id=nid&status=REVOKED&issued_from=2026-03-01T00:00:00Z&issued_before=2026-03-02T01:00:00%2B01:00&after=urn:uuid:x&limit=1000",
			storage.CredentialFilter{ConfigurationID: "nid", Status: storage.CredentialRevoked, IssuedFrom: from, IssuedBefore: from.Add(24 * time.Hour), After: "urn:uuid:x", Limit: 1000}, ""},
		{"lower-case status", "status=suspended", storage.CredentialFilter{Status: storage.CredentialSuspended, Limit: 100}, ""},
		{"fractional seconds", "issued_from=2026-03-01T00:00:00.5Z", storage.CredentialFilter{IssuedFrom: from.Add(500 * time.Millisecond), Limit: 100}, ""},
		{"unknown status", "status=EXPIRED", storage.CredentialFilter{}, "status must be VALID, REVOKED or SUSPENDED"},
		{"date only", "issued_from=2026-03-01", storage.CredentialFilter{}, "issued_from must be an RFC 3339 time"},
		{"bad before", "issued_before=yesterday", storage.CredentialFilter{}, "issued_before must be an RFC 3339 time"},
		{"empty range", "issued_from=2026-03-01T00:00:00Z&issued_before=2026-03-01T00:00:00Z", storage.CredentialFilter{}, "issued_from must be before issued_before"},
		{"limit zero", "limit=0", storage.CredentialFilter{}, "limit must be an integer from 1 to 1000"},
		{"limit too big", "limit=1001", storage.CredentialFilter{}, "limit must be an integer from 1 to 1000"},
		{"limit not a number", "limit=ten", storage.CredentialFilter{}, "limit must be an integer from 1 to 1000"},
		{"repeated", "status=VALID&status=REVOKED", storage.CredentialFilter{}, "query parameter status is given 2 times"},
		{"unknown", "person_id=p1", storage.CredentialFilter{}, `unknown query parameter "person_id"`},
		{"too long", "configuration_id=" + strings.Repeat("x", 257), storage.CredentialFilter{}, "longer than 256 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			q, err := parseCredentialQuery(v)
			if tc.err != "" {
				var e *Error
				if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != CodeInvalidRequest || !strings.Contains(e.Description, tc.err) {
					t.Fatalf("parseCredentialQuery(%q) = %v, want invalid_request %q", tc.query, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseCredentialQuery(%q) = %v", tc.query, err)
			}
			got := q.filter()
			if got.ConfigurationID != tc.want.ConfigurationID || got.Status != tc.want.Status || !got.IssuedFrom.Equal(tc.want.IssuedFrom) ||
				!got.IssuedBefore.Equal(tc.want.IssuedBefore) || got.After != tc.want.After || got.Limit != tc.want.Limit || got.PersonID != "" {
				t.Errorf("parseCredentialQuery(%q) = %+v, want %+v", tc.query, got, tc.want)
			}
		})
	}
}

func FuzzParseCredentialQuery(f *testing.F) {
	for _, s := range []string{
		"", "status=valid&limit=5", "issued_from=2026-03-01T00:00:00Z&issued_before=2026-03-02T00:00:00Z",
		"limit=-1", "after=%ff", "status=REVOKED&status=VALID", "issued_from=2026-13-40T99:00:00Z", "x=1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := parseCredentialQuery(v)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("parseCredentialQuery(%q) = %v, want a 400 *Error", raw, err)
			}
			return
		}
		switch {
		case q.Limit < 1 || q.Limit > maxListLimit:
			t.Fatalf("limit %d out of range", q.Limit)
		case q.Status != "" && actionStatusOf(q.Status) == "":
			t.Fatalf("status %q accepted", q.Status)
		case !q.IssuedFrom.IsZero() && !q.IssuedBefore.IsZero() && !q.IssuedFrom.Before(q.IssuedBefore):
			t.Fatalf("empty range accepted")
		}
	})
}

// actionStatusOf returns s when it is a ledger status, else "".
func actionStatusOf(s string) string {
	for _, v := range actionStatus {
		if v == s {
			return s
		}
	}
	return ""
}

func TestAdminResidentActions(t *testing.T) {
	logs := &paLogs{}
	residents := &stResidents{
		active:   map[string]string{"5647382910": "person-active"},
		inactive: map[string]string{"1029384756": "person-gone"},
	}
	e := newStEnv(t, stLogs(logs), func(c *Config) { c.Persons = residents })
	e.lists.personCount = 2
	for _, tc := range []struct {
		name, individual, action, body string
		status                         int
		code                           string
		call                           *stPersonCall
	}{
		{"revoke all", "5647382910", ActionRevoke, "", 200, "", &stPersonCall{"person-active", "", "", storage.CredentialRevoked}},
		{"suspend one configuration", "5647382910", ActionSuspend, `{"configuration_id":"` + crNIDSD + `"}`, 200, "",
			&stPersonCall{"person-active", crNIDSD, storage.CredentialValid, storage.CredentialSuspended}},
		{"reinstate", "5647382910", ActionReinstate, `{}`, 200, "", &stPersonCall{"person-active", "", storage.CredentialSuspended, storage.CredentialValid}},
		{"revoke a deactivated resident", "1029384756", ActionRevoke, "", 200, "", &stPersonCall{"person-gone", "", "", storage.CredentialRevoked}},
		{"unknown resident", "0000000000", ActionRevoke, "", 404, CodeUnknownIndividual, nil},
		{"unknown configuration", "5647382910", ActionRevoke, `{"configuration_id":"nope"}`, 400, CodeUnknownCredentialConfiguration, nil},
		{"unknown member", "5647382910", ActionRevoke, `{"configuration":"x"}`, 400, CodeInvalidRequest, nil},
		{"two objects", "5647382910", ActionRevoke, `{}{}`, 400, CodeInvalidRequest, nil},
		{"not JSON", "5647382910", ActionRevoke, `revoke!`, 400, CodeInvalidRequest, nil},
		{"body too large", "5647382910", ActionRevoke, `{"configuration_id":"` + strings.Repeat("x", maxResidentRequestBytes) + `"}`, 413, CodeInvalidRequest, nil},
		{"too long an id", strings.Repeat("9", 300), ActionRevoke, "", 400, CodeInvalidRequest, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.lists.mu.Lock()
			e.lists.personCalls = nil
			e.lists.mu.Unlock()
			var body []byte
			if tc.body != "" {
				body = []byte(tc.body)
			}
			w := e.adminPost(AdminResidents+"/"+tc.individual+"/credentials/"+tc.action, body)
			if w.Code != tc.status {
				t.Fatalf("POST = %d %s, want %d", w.Code, w.Body, tc.status)
			}
			var out map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
				t.Fatal(err)
			}
			e.lists.mu.Lock()
			calls := e.lists.personCalls
			e.lists.mu.Unlock()
			if tc.code != "" {
				if out["error"] != tc.code || len(calls) != 0 {
					t.Errorf("answer %v after %d store calls, want %s and none", out, len(calls), tc.code)
				}
				if desc, _ := out["error_description"].(string); tc.status == http.StatusRequestEntityTooLarge && !strings.Contains(desc, "larger than 4096 bytes") {
					t.Errorf("error_description = %q, want it to say the body is larger than 4096 bytes", desc)
				}
				return
			}
			if len(calls) != 1 || calls[0] != *tc.call {
				t.Fatalf("store calls %+v, want %+v", calls, *tc.call)
			}
			if out["action"] != tc.action || out["status"] != tc.call.status || out["changed"] != float64(2) || out["configuration_id"] != nilIfEmpty(tc.call.configurationID) {
				t.Errorf("answer %v, want action %s, status %s, changed 2", out, tc.action, tc.call.status)
			}
			if strings.Contains(w.Body.String(), tc.individual) || strings.Contains(w.Body.String(), "person-") {
				t.Errorf("answer %s echoes the individual id or the internal id", w.Body)
			}
		})
	}
	out := logs.String()
	for _, secret := range []string{"5647382910", "1029384756", "person-active", "person-gone"} {
		if strings.Contains(out, secret) {
			t.Errorf("logs carry %s: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"changed":2`) {
		t.Errorf("logs %s do not record the resident actions", out)
	}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func TestAdminResidentActionsNeedPersons(t *testing.T) {
	e := newStEnv(t, func(c *Config) { c.Persons = nil })
	w := e.adminPost(AdminResidents+"/5647382910/credentials/revoke", nil)
	if w.Code != http.StatusNotImplemented || !strings.Contains(w.Body.String(), CodeResidentsNotConfigured) {
		t.Errorf("without Persons = %d %s, want 501 %s", w.Code, w.Body, CodeResidentsNotConfigured)
	}

	// A PersonFinder without FindResident finds active residents only.
	residents := &stResidents{inactive: map[string]string{"1029384756": "person-gone"}}
	e = newStEnv(t, func(c *Config) { c.Persons = stActiveOnly{residents} })
	w = e.adminPost(AdminResidents+"/1029384756/credentials/revoke", nil)
	if w.Code != http.StatusNotFound {
		t.Errorf("inactive resident through FindPerson = %d %s, want 404", w.Code, w.Body)
	}
}

func FuzzParseResidentStatusRequest(f *testing.F) {
	for _, s := range []string{"", "{}", `{"configuration_id":"` + crNID + `"}`, `{"configuration_id":"x"}`, `{"a":1}`, "[]", "{}{}", "null", " \n"} {
		f.Add(s)
	}
	known := func(id string) bool { return id == crNID }
	f.Fuzz(func(t *testing.T, body string) {
		q, err := parseResidentStatusRequest(strings.NewReader(body), known)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("parseResidentStatusRequest(%q) = %v, want a 400 *Error", body, err)
			}
			return
		}
		if q.ConfigurationID != "" && !known(q.ConfigurationID) {
			t.Fatalf("parseResidentStatusRequest(%q) accepted configuration %q", body, q.ConfigurationID)
		}
	})
}
