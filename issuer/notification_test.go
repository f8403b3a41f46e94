package issuer

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// paLedgerFixture records credentials: two of notification "n-1" and one
// of "n-3" issued to paSubject, one of "n-2" issued to paOtherSubject.
func (e *paEnv) paLedgerFixture() []storage.IssuedCredential {
	e.t.Helper()
	mk := func(id, notification, subject string) storage.IssuedCredential {
		at := e.clock.Now().Add(-time.Minute)
		return storage.IssuedCredential{
			ID: id, ConfigurationID: paNID, Format: paFormatName, PersonID: paPerson, Subject: subject,
			NotificationID: notification, IssuedAt: at, ValidFrom: at, Status: storage.CredentialValid, StatusIndex: -1,
		}
	}
	cs := []storage.IssuedCredential{
		mk("urn:uuid:1", "n-1", paSubject), mk("urn:uuid:2", "n-1", paSubject),
		mk("urn:uuid:3", "n-2", paOtherSubject), mk("urn:uuid:4", "n-3", paSubject),
	}
	if err := e.ledger.RecordCredentials(e.t.Context(), cs); err != nil {
		e.t.Fatalf("RecordCredentials = %v", err)
	}
	return cs
}

// walletEvents returns the wallet event of each credential, by id.
func (e *paEnv) walletEvents(cs []storage.IssuedCredential) map[string]string {
	e.t.Helper()
	out := map[string]string{}
	for _, c := range cs {
		got, err := e.ledger.GetCredential(e.t.Context(), c.ID)
		if err != nil {
			e.t.Fatalf("GetCredential(%q) = %v", c.ID, err)
		}
		out[c.ID] = got.WalletEvent
		if got.WalletEvent != "" && !got.WalletEventAt.Equal(e.clock.Now()) {
			e.t.Errorf("credential %s: WalletEventAt = %v, want %v", c.ID, got.WalletEventAt, e.clock.Now())
		}
	}
	return out
}

var paJSONHeader = http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer bearer-token"}}

func TestNotification(t *testing.T) {
	e := newPaEnv(t)
	e.addTokens()
	cs := e.paLedgerFixture()
	body := []byte(`{"notification_id":"n-1","event":"credential_accepted","event_description":"Stored in wallet"}`)
	w := e.do(http.MethodPost, paNotifyPath, body, paJSONHeader)
	if w.Code != http.StatusNoContent || w.Body.Len() != 0 {
		t.Fatalf("POST notification = %d %q, want 204 and no body", w.Code, w.Body.String())
	}
	want := map[string]string{"urn:uuid:1": storage.WalletAccepted, "urn:uuid:2": storage.WalletAccepted, "urn:uuid:3": "", "urn:uuid:4": ""}
	if got := e.walletEvents(cs); !mapsEqual(got, want) {
		t.Errorf("wallet events = %v, want %v", got, want)
	}
	// A later event replaces the earlier, through a DPoP-bound token too.
	e.clock.Advance(time.Hour)
	w = e.do(http.MethodPost, paNotifyPath, []byte(`{"notification_id":"n-1","event":"credential_deleted"}`),
		http.Header{"Content-Type": {"application/json; charset=utf-8"}, "Authorization": {"DPoP dpop-token"}, "Dpop": {"proof:thumbprint-1"}})
	if w.Code != http.StatusNoContent {
		t.Fatalf("POST notification with DPoP = %d %s, want 204", w.Code, w.Body.String())
	}
	want["urn:uuid:1"], want["urn:uuid:2"] = storage.WalletDeleted, storage.WalletDeleted
	if got := e.walletEvents(cs); !mapsEqual(got, want) {
		t.Errorf("wallet events = %v, want %v", got, want)
	}
	if call, _ := e.dpop.lastCall(); call.url != paIssuer+PathNotification || call.method != http.MethodPost {
		t.Errorf("DPoP proof checked for %s %s, want POST %s", call.method, call.url, paIssuer+PathNotification)
	}
	// The logs hold neither the subject nor the wallet's description.
	for _, secret := range []string{paSubject, paPerson, "Stored in wallet", "bearer-token"} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("logs hold %q: %s", secret, e.logs.String())
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNotificationUnknownID(t *testing.T) {
	tests := []struct {
		name, token, notification string
	}{
		{"unknown notification id", "bearer-token", "n-9"},
		{"another subject's notification id", "bearer-token", "n-2"},
		{"own notification id with the other subject's token", "other-token", "n-1"},
		{"notification id in another case", "bearer-token", "N-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPaEnv(t)
			e.addTokens()
			cs := e.paLedgerFixture()
			body := []byte(`{"notification_id":"` + tt.notification + `","event":"credential_failure"}`)
			w := e.do(http.MethodPost, paNotifyPath, body,
				http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + tt.token}})
			paWantError(t, w, http.StatusBadRequest, CodeInvalidNotificationID)
			for id, ev := range e.walletEvents(cs) {
				if ev != "" {
					t.Errorf("credential %s got event %q, want none", id, ev)
				}
			}
		})
	}
}

func TestNotificationRequestErrors(t *testing.T) {
	tests := []struct {
		name        string
		contentType string
		body        string
	}{
		{"not JSON", "application/json", `{"notification_id":`},
		{"empty body", "application/json", ``},
		{"array", "application/json", `[{"notification_id":"n-1","event":"credential_accepted"}]`},
		{"null", "application/json", `null`},
		{"trailing data", "application/json", `{"notification_id":"n-1","event":"credential_accepted"} {}`},
		{"no notification_id", "application/json", `{"event":"credential_accepted"}`},
		{"notification_id not a string", "application/json", `{"notification_id":1,"event":"credential_accepted"}`},
		{"notification_id too long", "application/json", `{"notification_id":"` + strings.Repeat("n", maxNotificationIDLen+1) + `","event":"credential_accepted"}`},
		{"no event", "application/json", `{"notification_id":"n-1"}`},
		{"unknown event", "application/json", `{"notification_id":"n-1","event":"credential_lost"}`},
		{"event in upper case", "application/json", `{"notification_id":"n-1","event":"CREDENTIAL_ACCEPTED"}`},
		{"description with a quote", "application/json", `{"notification_id":"n-1","event":"credential_failure","event_description":"say \"hi\""}`},
		{"description with a newline", "application/json", `{"notification_id":"n-1","event":"credential_failure","event_description":"a\nb"}`},
		{"description not ASCII", "application/json", `{"notification_id":"n-1","event":"credential_failure","event_description":"خطأ"}`},
		{"description too long", "application/json", `{"notification_id":"n-1","event":"credential_failure","event_description":"` + strings.Repeat("x", maxEventDescriptionLen+1) + `"}`},
		{"form body", "application/x-www-form-urlencoded", `notification_id=n-1&event=credential_accepted`},
		{"no content type", "", `{"notification_id":"n-1","event":"credential_accepted"}`},
		{"body too large", "application/json", `{"notification_id":"n-1","event":"credential_accepted","x":"` + strings.Repeat("x", maxNotificationBytes) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPaEnv(t)
			e.addTokens()
			cs := e.paLedgerFixture()
			h := http.Header{"Authorization": {"Bearer bearer-token"}}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			paWantError(t, e.do(http.MethodPost, paNotifyPath, []byte(tt.body), h), http.StatusBadRequest, CodeInvalidNotificationRequest)
			for id, ev := range e.walletEvents(cs) {
				if ev != "" {
					t.Errorf("credential %s got event %q, want none", id, ev)
				}
			}
		})
	}
}

func TestNotificationAuthentication(t *testing.T) {
	// The token is checked before the body.
	body := []byte(`{"notification_id":"n-1","event":"credential_accepted"}`)
	tests := []struct {
		name   string
		header http.Header
		target string
		status int
		code   string
	}{
		{"no token", http.Header{"Content-Type": {"application/json"}}, paNotifyPath, 401, CodeInvalidToken},
		{"unknown token", http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer forged"}}, paNotifyPath, 401, CodeInvalidToken},
		{"token in the query", http.Header{"Content-Type": {"application/json"}}, paNotifyPath + "?access_token=bearer-token", 400, CodeInvalidRequest},
		{"bound token as bearer", http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer dpop-token"}}, paNotifyPath, 401, CodeInvalidToken},
		{"bound token without proof", http.Header{"Content-Type": {"application/json"}, "Authorization": {"DPoP dpop-token"}}, paNotifyPath, 401, CodeInvalidDPoPProof},
		{"bad body and no token", http.Header{"Content-Type": {"text/plain"}}, paNotifyPath, 401, CodeInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPaEnv(t)
			e.addTokens()
			cs := e.paLedgerFixture()
			paWantError(t, e.do(http.MethodPost, tt.target, body, tt.header), tt.status, tt.code)
			for id, ev := range e.walletEvents(cs) {
				if ev != "" {
					t.Errorf("credential %s got event %q, want none", id, ev)
				}
			}
		})
	}
}

// paFailingLedger fails SetWalletEvent.
type paFailingLedger struct{ storage.Ledger }

func (paFailingLedger) SetWalletEvent(context.Context, string, string, string, time.Time) (int, error) {
	return 0, errors.New("database is locked")
}

func TestNotificationLedgerFailure(t *testing.T) {
	e := newPaEnv(t, paWithLedger(paFailingLedger{}))
	e.addTokens()
	m := paWantError(t, e.do(http.MethodPost, paNotifyPath, []byte(`{"notification_id":"n-1","event":"credential_accepted"}`), paJSONHeader),
		http.StatusInternalServerError, CodeServerError)
	if desc, _ := m["error_description"].(string); strings.Contains(desc, "locked") {
		t.Errorf("error_description %q holds the cause", desc)
	}
}

func FuzzNotificationRequest(f *testing.F) {
	for _, s := range []string{
		`{"notification_id":"n-1","event":"credential_accepted"}`,
		`{"notification_id":"n-1","event":"credential_failure","event_description":"Could not store"}`,
		`{"notification_id":"n-1","event":"credential_deleted","extension":{"a":1}}`,
		`{"notification_id":"","event":"credential_accepted"}`,
		`{"notification_id":"n-1","event":"credential_lost"}`,
		`{"notification_id":"n-1","event":"credential_failure","event_description":"\u0000"}`,
		`{"notification_id":"n-1"} x`, `[]`, `null`, ``, `{`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseNotificationRequest(bytes.NewReader(body))
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeInvalidNotificationRequest || e.Status != http.StatusBadRequest {
				t.Fatalf("parseNotificationRequest(%q) = %v, want invalid_notification_request", body, err)
			}
			return
		}
		switch q.Event {
		case storage.WalletAccepted, storage.WalletFailure, storage.WalletDeleted:
		default:
			t.Fatalf("parseNotificationRequest(%q) accepted event %q", body, q.Event)
		}
		if q.NotificationID == "" || len(q.NotificationID) > maxNotificationIDLen {
			t.Fatalf("parseNotificationRequest(%q) accepted notification_id %q", body, q.NotificationID)
		}
		for _, r := range q.EventDescription {
			if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
				t.Fatalf("parseNotificationRequest(%q) accepted event_description %q", body, q.EventDescription)
			}
		}
	})
}
