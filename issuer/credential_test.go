package issuer

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/sdjwt"
	"github.com/sanad-id/sanad/storage"
)

// crUUID is a urn:uuid of a version 4 UUID.
var crUUID = regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// crRequest is a 1.0 credential request for configuration id with jwt
// proofs.
func crRequest(id string, proofs ...string) map[string]any {
	req := map[string]any{"credential_configuration_id": id}
	if len(proofs) > 0 {
		req["proofs"] = map[string]any{"jwt": proofs}
	}
	return req
}

// crCredentials returns the credentials of a 1.0 response.
func crCredentials(t *testing.T, body map[string]any) []any {
	t.Helper()
	list, ok := body["credentials"].([]any)
	if !ok {
		t.Fatalf("response %v has no credentials array", body)
	}
	out := make([]any, len(list))
	for i, c := range list {
		obj, ok := c.(map[string]any)
		if !ok || len(obj) != 1 || obj["credential"] == nil {
			t.Fatalf("credentials[%d] = %v, want {\"credential\": ...}", i, c)
		}
		out[i] = obj["credential"]
	}
	return out
}

// wantNothingIssued checks that no credential was signed or recorded.
func (e *crEnv) wantNothingIssued(t *testing.T) {
	t.Helper()
	if _, entries := e.ledger.snapshot(); len(entries) != 0 {
		t.Errorf("ledger has %d entries, want none", len(entries))
	}
	if n := len(e.jwtvc.inputs()) + len(e.sdjwt.inputs()); n != 0 {
		t.Errorf("%d credentials were signed, want none", n)
	}
}

func TestCredentialIssue(t *testing.T) {
	e := newCrEnv(t)
	h := newCrHolder(t)
	now := e.clock.Now()
	req := crRequest(crNID, e.proof(h, e.nonce()))
	w := e.post("tok-nid", req)
	if w.Code != http.StatusOK {
		t.Fatalf("credential request = %d %s, want 200", w.Code, w.Body)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	body := crJSON(t, w)
	creds := crCredentials(t, body)
	notificationID, _ := body["notification_id"].(string)
	if len(creds) != 1 || notificationID == "" || len(body) != 2 {
		t.Fatalf("response = %v, want one credential and a notification_id only", body)
	}
	for _, k := range []string{"c_nonce", "c_nonce_expires_in", "credential", "format"} {
		if _, ok := body[k]; ok {
			t.Errorf("1.0 response has the draft-13 member %q", k)
		}
	}

	ins := e.jwtvc.inputs()
	if len(ins) != 1 {
		t.Fatalf("Format.Issue called %d times, want 1", len(ins))
	}
	in := ins[0]
	if creds[0] != credential.FormatJWTVC+":"+in.ID {
		t.Errorf("credential = %v, want what the Format returned for %s", creds[0], in.ID)
	}
	cfg := e.is.configs[crNID]
	wantClaims, err := cfg.Render(crIdentity(), RenderEnv{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if wantClaims["birthdate"] != "1990/01/02" {
		t.Fatalf("fixture: rendered claims = %v, want the template filled", wantClaims)
	}
	switch {
	case in.Config != cfg:
		t.Errorf("IssueInput.Config = %v, want %s", in.Config.ID, crNID)
	case !crUUID.MatchString(in.ID):
		t.Errorf("IssueInput.ID = %q, want a urn:uuid v4", in.ID)
	case in.Issuer != crIssuer:
		t.Errorf("IssueInput.Issuer = %q, want %q", in.Issuer, crIssuer)
	case !reflect.DeepEqual(in.Claims, wantClaims):
		t.Errorf("IssueInput.Claims = %v, want %v", in.Claims, wantClaims)
	case in.Holder == nil || in.Holder.Thumbprint != h.thumb:
		t.Errorf("IssueInput.Holder = %+v, want the proof key %s", in.Holder, h.thumb)
	case !in.IssuedAt.Equal(now) || !in.ValidFrom.Equal(now):
		t.Errorf("IssuedAt, ValidFrom = %v, %v; want %v", in.IssuedAt, in.ValidFrom, now)
	case !in.ValidUntil.Equal(now.Add(365 * 24 * time.Hour)):
		t.Errorf("ValidUntil = %v, want now + validity", in.ValidUntil)
	case in.Signer != e.signer:
		t.Errorf("IssueInput.Signer = %v, want the ES256 issuer signer", in.Signer)
	case !reflect.DeepEqual(in.X5C, e.x5c):
		t.Errorf("IssueInput.X5C = %q, want %q", in.X5C, e.x5c)
	case in.Status != nil:
		t.Errorf("IssueInput.Status = %v, want none", in.Status)
	}
	if tp, err := jwkThumbprint(in.Holder.JWK); err != nil || tp != h.thumb {
		t.Errorf("holder JWK thumbprint = %q, %v; want %q", tp, err, h.thumb)
	}

	calls, entries := e.ledger.snapshot()
	if calls != 1 || len(entries) != 1 {
		t.Fatalf("ledger: %d calls, %d entries; want 1, 1", calls, len(entries))
	}
	want := storage.IssuedCredential{
		ID: in.ID, ConfigurationID: crNID, Format: credential.FormatJWTVC,
		PersonID: crPerson, Subject: crSubject, HolderKeyThumbprint: h.thumb,
		NotificationID: notificationID, IssuedAt: now, ValidFrom: now,
		ValidUntil: now.Add(365 * 24 * time.Hour), Status: storage.CredentialValid, StatusIndex: -1,
	}
	if !reflect.DeepEqual(entries[0], want) {
		t.Errorf("ledger entry = %+v\nwant %+v", entries[0], want)
	}
	if d := e.data.calls; !slices.Equal(d, []string{crPerson}) {
		t.Errorf("IdentityData calls = %v, want [%s]", d, crPerson)
	}

	// The nonce was spent: the same request again is refused.
	w = e.post("tok-nid", req)
	crWantError(t, w, http.StatusBadRequest, CodeInvalidNonce)
	if _, entries := e.ledger.snapshot(); len(entries) != 1 {
		t.Errorf("a replayed request added ledger entries: %d, want 1", len(entries))
	}
}

func TestCredentialBatch(t *testing.T) {
	e := newCrEnv(t)
	n := e.nonce()
	holders := []*crHolder{newCrHolder(t), newCrHolder(t), newCrHolder(t)}
	var proofs []string
	for _, h := range holders {
		proofs = append(proofs, e.proof(h, n))
	}
	w := e.post("tok-nid", crRequest(crNID, proofs...))
	if w.Code != http.StatusOK {
		t.Fatalf("batch request = %d %s, want 200", w.Code, w.Body)
	}
	body := crJSON(t, w)
	creds := crCredentials(t, body)
	if len(creds) != 3 {
		t.Fatalf("batch of 3 proofs gave %d credentials", len(creds))
	}
	calls, entries := e.ledger.snapshot()
	if calls != 1 || len(entries) != 3 {
		t.Fatalf("ledger: %d calls, %d entries; want 1 call with 3 entries", calls, len(entries))
	}
	ids := map[string]bool{}
	for i, en := range entries {
		if en.HolderKeyThumbprint != holders[i].thumb {
			t.Errorf("entry %d bound to %q, want %q", i, en.HolderKeyThumbprint, holders[i].thumb)
		}
		if en.NotificationID != body["notification_id"] {
			t.Errorf("entry %d notification id %q, want the response's %v", i, en.NotificationID, body["notification_id"])
		}
		if creds[i] != credential.FormatJWTVC+":"+en.ID {
			t.Errorf("credentials[%d] = %v, not the credential recorded as %s", i, creds[i], en.ID)
		}
		ids[en.ID] = true
	}
	if len(ids) != 3 {
		t.Errorf("credential ids %v are not distinct", ids)
	}
}

func TestCredentialSingleProofObject(t *testing.T) {
	e := newCrEnv(t)
	h := newCrHolder(t)
	w := e.post("tok-nid", map[string]any{
		"credential_configuration_id": crNID,
		"proof":                       map[string]any{"proof_type": "jwt", "jwt": e.proof(h, e.nonce())},
	})
	if w.Code != http.StatusOK {
		t.Fatalf("request with proof = %d %s, want 200", w.Code, w.Body)
	}
	if creds := crCredentials(t, crJSON(t, w)); len(creds) != 1 {
		t.Fatalf("got %d credentials, want 1", len(creds))
	}
}

func TestCredentialTokenErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *crEnv) (token string, mod func(*http.Request))
		status int
		code   string
	}{
		{"no token", func(e *crEnv) (string, func(*http.Request)) { return "", nil },
			http.StatusUnauthorized, CodeInvalidToken},
		{"token in the query string", func(e *crEnv) (string, func(*http.Request)) {
			return "", func(r *http.Request) { r.URL.RawQuery = "access_token=tok-nid" }
		}, http.StatusBadRequest, CodeInvalidRequest},
		{"unknown token", func(e *crEnv) (string, func(*http.Request)) { return "not-a-token", nil },
			http.StatusUnauthorized, CodeInvalidToken},
		{"expired token", func(e *crEnv) (string, func(*http.Request)) {
			e.token("tok-old", crScopeNID).Expires = e.clock.Now().Add(-time.Second)
			return "tok-old", nil
		}, http.StatusUnauthorized, CodeInvalidToken},
		{"token for another configuration", func(e *crEnv) (string, func(*http.Request)) {
			e.token("tok-sd", crScopeSD)
			return "tok-sd", nil
		}, http.StatusForbidden, CodeInsufficientScope},
		{"token with details for another configuration", func(e *crEnv) (string, func(*http.Request)) {
			e.token("tok-ad").AuthorizationDetails = json.RawMessage(`[{"type":"openid_credential","credential_configuration_id":"` + crNIDSD + `"}]`)
			return "tok-ad", nil
		}, http.StatusForbidden, CodeInsufficientScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrEnv(t)
			h := newCrHolder(t)
			n := e.nonce()
			token, mod := tt.setup(e)
			var mods []func(*http.Request)
			if mod != nil {
				mods = append(mods, mod)
			}
			w := e.post(token, crRequest(crNID, e.proof(h, n)), mods...)
			crWantError(t, w, tt.status, tt.code)
			if tt.status != http.StatusBadRequest {
				crWantAuthChallenge(t, w, tt.code)
			}
			e.wantNothingIssued(t)
			if len(e.data.calls) != 0 {
				t.Errorf("identity data was read for a refused request")
			}
			// The refused request did not spend the nonce.
			if ok, err := e.is.consumeNonce(context.Background(), n); !ok || err != nil {
				t.Errorf("nonce after a refused request: consumeNonce = %v, %v; want true, nil", ok, err)
			}
		})
	}
}

func TestCredentialNonceErrors(t *testing.T) {
	tests := []struct {
		name   string
		proofs func(e *crEnv, hs []*crHolder) []string
		code   string
	}{
		{"no nonce", func(e *crEnv, hs []*crHolder) []string {
			return []string{e.proof(hs[0], "")}
		}, CodeInvalidProof},
		{"unknown nonce", func(e *crEnv, hs []*crHolder) []string {
			return []string{e.proof(hs[0], "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")}
		}, CodeInvalidNonce},
		{"spent nonce", func(e *crEnv, hs []*crHolder) []string {
			n := e.nonce()
			if ok, _ := e.is.consumeNonce(context.Background(), n); !ok {
				t.Fatal("fixture: could not spend the nonce")
			}
			return []string{e.proof(hs[0], n)}
		}, CodeInvalidNonce},
		{"expired nonce", func(e *crEnv, hs []*crHolder) []string {
			n := e.nonce()
			e.clock.Advance(DefaultNonceTTL + time.Second)
			return []string{e.proof(hs[0], n)}
		}, CodeInvalidNonce},
		{"different nonces in a batch", func(e *crEnv, hs []*crHolder) []string {
			return []string{e.proof(hs[0], e.nonce()), e.proof(hs[1], e.nonce())}
		}, CodeInvalidProof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrEnv(t)
			proofs := tt.proofs(e, []*crHolder{newCrHolder(t), newCrHolder(t)})
			w := e.post("tok-nid", crRequest(crNID, proofs...))
			body := crWantError(t, w, http.StatusBadRequest, tt.code)
			if _, ok := body["c_nonce"]; ok {
				t.Errorf("1.0 error carries a c_nonce: %v", body)
			}
			e.wantNothingIssued(t)
		})
	}
}

func TestCredentialRequestErrors(t *testing.T) {
	type mk func(e *crEnv) (body any, mod func(*http.Request))
	proof := func(e *crEnv) string { return e.proof(newCrHolder(t), e.nonce()) }
	tests := []struct {
		name   string
		make   mk
		status int
		code   string
	}{
		{"not JSON content type", func(e *crEnv) (any, func(*http.Request)) {
			return crRequest(crNID, proof(e)), func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"no content type", func(e *crEnv) (any, func(*http.Request)) {
			return crRequest(crNID, proof(e)), func(r *http.Request) { r.Header.Del("Content-Type") }
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"form body", func(e *crEnv) (any, func(*http.Request)) {
			return "credential_configuration_id=" + crNID, func(r *http.Request) {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"malformed JSON", func(e *crEnv) (any, func(*http.Request)) { return `{"credential_configuration_id":`, nil },
			http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"JSON array", func(e *crEnv) (any, func(*http.Request)) { return `[]`, nil },
			http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"JSON null", func(e *crEnv) (any, func(*http.Request)) { return `null`, nil },
			http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"data after the object", func(e *crEnv) (any, func(*http.Request)) {
			b, _ := json.Marshal(crRequest(crNID, proof(e)))
			return string(b) + ` {}`, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"wrong member type", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_configuration_id": 7}, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"too large", func(e *crEnv) (any, func(*http.Request)) {
			r := crRequest(crNID, proof(e))
			r["padding"] = strings.Repeat("x", maxCredentialRequestBytes)
			return r, nil
		}, http.StatusRequestEntityTooLarge, CodeInvalidCredentialRequest},
		{"configuration id and identifier", func(e *crEnv) (any, func(*http.Request)) {
			r := crRequest(crNID, proof(e))
			r["credential_identifier"] = crNID
			return r, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"neither configuration id nor identifier", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"proofs": map[string]any{"jwt": []string{proof(e)}}}, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"empty configuration id", func(e *crEnv) (any, func(*http.Request)) {
			return crRequest("", proof(e)), nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"unknown configuration", func(e *crEnv) (any, func(*http.Request)) {
			return crRequest("DriverLicence", proof(e)), nil
		}, http.StatusBadRequest, CodeUnknownCredentialConfiguration},
		{"unknown identifier", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_identifier": crNID, "proofs": map[string]any{"jwt": []string{proof(e)}}}, nil
		}, http.StatusBadRequest, CodeUnknownCredentialIdentifier},
		{"proof and proofs", func(e *crEnv) (any, func(*http.Request)) {
			p := proof(e)
			r := crRequest(crNID, p)
			r["proof"] = map[string]any{"proof_type": "jwt", "jwt": p}
			return r, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"empty proofs", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_configuration_id": crNID, "proofs": map[string]any{"jwt": []string{}}}, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"batch over the limit", func(e *crEnv) (any, func(*http.Request)) {
			n := e.nonce()
			var ps []string
			for range DefaultBatchSize + 1 {
				ps = append(ps, e.proof(newCrHolder(t), n))
			}
			return crRequest(crNID, ps...), nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"proofs of an unsupported type", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_configuration_id": crNID, "proofs": map[string]any{"di_vp": []any{map[string]any{}}}}, nil
		}, http.StatusBadRequest, CodeInvalidProof},
		{"proofs of two types", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_configuration_id": crNID, "proofs": map[string]any{"jwt": []string{proof(e)}, "attestation": []string{"x"}}}, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"proofs.jwt not an array", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_configuration_id": crNID, "proofs": map[string]any{"jwt": proof(e)}}, nil
		}, http.StatusBadRequest, CodeInvalidCredentialRequest},
		{"proof of an unsupported type", func(e *crEnv) (any, func(*http.Request)) {
			return map[string]any{"credential_configuration_id": crNID, "proof": map[string]any{"proof_type": "cwt", "cwt": "x"}}, nil
		}, http.StatusBadRequest, CodeInvalidProof},
		{"no proof for a bound credential", func(e *crEnv) (any, func(*http.Request)) {
			return crRequest(crNID), nil
		}, http.StatusBadRequest, CodeInvalidProof},
		{"garbage proof", func(e *crEnv) (any, func(*http.Request)) {
			return crRequest(crNID, "not.a.jwt"), nil
		}, http.StatusBadRequest, CodeInvalidProof},
		{"response encryption asked", func(e *crEnv) (any, func(*http.Request)) {
			r := crRequest(crNID, proof(e))
			r["credential_response_encryption"] = map[string]any{"jwk": map[string]any{"kty": "EC"}, "enc": "A256GCM"}
			return r, nil
		}, http.StatusBadRequest, CodeInvalidEncryptionParameters},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrEnv(t)
			body, mod := tt.make(e)
			var mods []func(*http.Request)
			if mod != nil {
				mods = append(mods, mod)
			}
			w := e.post("tok-nid", body, mods...)
			crWantError(t, w, tt.status, tt.code)
			e.wantNothingIssued(t)
		})
	}
}

func TestCredentialDuplicateKeysInBatch(t *testing.T) {
	e := newCrEnv(t)
	h := newCrHolder(t)
	n := e.nonce()
	w := e.post("tok-nid", crRequest(crNID, e.proof(h, n), e.proof(newCrHolder(t), n), e.proof(h, n)))
	crWantError(t, w, http.StatusBadRequest, CodeInvalidProof)
	e.wantNothingIssued(t)
	// The refused batch did not spend the nonce: a correct one still works.
	w = e.post("tok-nid", crRequest(crNID, e.proof(h, n), e.proof(newCrHolder(t), n)))
	if w.Code != http.StatusOK {
		t.Fatalf("batch with distinct keys after a refused one = %d %s, want 200", w.Code, w.Body)
	}
}

func TestCredentialUnbound(t *testing.T) {
	e := newCrEnv(t)
	e.token("tok-member", crScopeMember)
	w := e.post("tok-member", crRequest(crMembership))
	if w.Code != http.StatusOK {
		t.Fatalf("unbound credential request = %d %s, want 200", w.Code, w.Body)
	}
	if creds := crCredentials(t, crJSON(t, w)); len(creds) != 1 {
		t.Fatalf("got %d credentials, want 1", len(creds))
	}
	ins := e.jwtvc.inputs()
	if len(ins) != 1 || ins[0].Holder != nil || !ins[0].ValidUntil.IsZero() {
		t.Fatalf("Format inputs = %+v, want one unbound credential without expiry", ins)
	}
	_, entries := e.ledger.snapshot()
	if len(entries) != 1 || entries[0].HolderKeyThumbprint != "" || !entries[0].ValidUntil.IsZero() {
		t.Fatalf("ledger = %+v, want one entry without holder key or expiry", entries)
	}

	// A proof for an unbound credential is refused.
	w = e.post("tok-member", crRequest(crMembership, e.proof(newCrHolder(t), e.nonce())))
	crWantError(t, w, http.StatusBadRequest, CodeInvalidCredentialRequest)
}

func TestCredentialIdentifiers(t *testing.T) {
	details := func(entries ...string) json.RawMessage {
		return json.RawMessage("[" + strings.Join(entries, ",") + "]")
	}
	sdEntry := `{"type":"openid_credential","credential_configuration_id":"` + crNIDSD + `","credential_identifiers":["sd-1","sd-2"]}`
	tests := []struct {
		name    string
		details json.RawMessage
		req     func(proof string) map[string]any
		status  int
		code    string
		config  string
	}{
		{"identifier", details(sdEntry), func(p string) map[string]any {
			return map[string]any{"credential_identifier": "sd-2", "proofs": map[string]any{"jwt": []string{p}}}
		}, http.StatusOK, "", crNIDSD},
		{"configuration id the details grant", details(sdEntry), func(p string) map[string]any {
			return crRequest(crNIDSD, p)
		}, http.StatusOK, "", crNIDSD},
		{"details without identifiers", details(`{"type":"openid_credential","credential_configuration_id":"` + crNIDSD + `"}`), func(p string) map[string]any {
			return crRequest(crNIDSD, p)
		}, http.StatusOK, "", crNIDSD},
		{"unknown identifier", details(sdEntry), func(p string) map[string]any {
			return map[string]any{"credential_identifier": "sd-3", "proofs": map[string]any{"jwt": []string{p}}}
		}, http.StatusBadRequest, CodeUnknownCredentialIdentifier, ""},
		{"identifier for another issuer", details(`{"type":"openid_credential","credential_configuration_id":"` + crNIDSD + `","credential_identifiers":["sd-1"],"locations":["https://other.example.org"]}`), func(p string) map[string]any {
			return map[string]any{"credential_identifier": "sd-1", "proofs": map[string]any{"jwt": []string{p}}}
		}, http.StatusBadRequest, CodeUnknownCredentialIdentifier, ""},
		{"details of another type", details(`{"type":"payment","credential_configuration_id":"` + crNIDSD + `"}`), func(p string) map[string]any {
			return crRequest(crNIDSD, p)
		}, http.StatusForbidden, CodeInsufficientScope, ""},
		{"malformed details", json.RawMessage(`{"type":"openid_credential"}`), func(p string) map[string]any {
			return crRequest(crNIDSD, p)
		}, http.StatusForbidden, CodeInsufficientScope, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrEnv(t)
			e.token("tok-ad").AuthorizationDetails = tt.details
			w := e.post("tok-ad", tt.req(e.proof(newCrHolder(t), e.nonce())))
			if tt.status != http.StatusOK {
				crWantError(t, w, tt.status, tt.code)
				e.wantNothingIssued(t)
				return
			}
			if w.Code != http.StatusOK {
				t.Fatalf("request = %d %s, want 200", w.Code, w.Body)
			}
			_, entries := e.ledger.snapshot()
			if len(entries) != 1 || entries[0].ConfigurationID != tt.config || entries[0].Format != credential.FormatSDJWTVC {
				t.Fatalf("ledger = %+v, want one %s entry", entries, tt.config)
			}
		})
	}
}

func TestCredentialDraft13(t *testing.T) {
	w3c := func(types ...string) map[string]any {
		return map[string]any{"@context": []string{"https://www.w3.org/2018/credentials/v1"}, "type": types}
	}
	tests := []struct {
		name   string
		token  string // scope of the token
		req    map[string]any
		batch  int
		status int
		code   string
		format string // of the credential
		config string
	}{
		{"jwt_vc_json by type", crScopeNID, map[string]any{
			"format": credential.FormatJWTVC, "credential_definition": w3c("VerifiableCredential", "NationalIDCredential"),
		}, 1, http.StatusOK, "", credential.FormatJWTVC, crNID},
		{"vc+sd-jwt by vct", crScopeSD, map[string]any{"format": credential.FormatSDJWTVCLegacy, "vct": crVCT},
			1, http.StatusOK, "", credential.FormatSDJWTVC, crNIDSD},
		{"dc+sd-jwt by vct, batch", crScopeSD, map[string]any{"format": credential.FormatSDJWTVC, "vct": crVCT},
			2, http.StatusOK, "", credential.FormatSDJWTVC, crNIDSD},
		{"unknown type", crScopeNID, map[string]any{
			"format": credential.FormatJWTVC, "credential_definition": w3c("VerifiableCredential", "PassportCredential"),
		}, 1, http.StatusBadRequest, CodeUnsupportedCredentialType, "", ""},
		{"no credential_definition", crScopeNID, map[string]any{"format": credential.FormatJWTVC},
			1, http.StatusBadRequest, CodeUnsupportedCredentialType, "", ""},
		{"unknown format", crScopeNID, map[string]any{"format": credential.FormatMsoMdoc, "doctype": "org.iso.18013.5.1.mDL"},
			1, http.StatusBadRequest, CodeUnsupportedCredentialFormat, "", ""},
		{"empty format", crScopeNID, map[string]any{"format": ""},
			1, http.StatusBadRequest, CodeInvalidCredentialRequest, "", ""},
		{"type the token does not allow", crScopeSD, map[string]any{
			"format": credential.FormatJWTVC, "credential_definition": w3c("VerifiableCredential", "NationalIDCredential"),
		}, 1, http.StatusForbidden, CodeInsufficientScope, "", ""},
		{"format with a configuration id", crScopeNID, map[string]any{
			"format": credential.FormatJWTVC, "credential_definition": w3c("VerifiableCredential", "NationalIDCredential"),
			"credential_configuration_id": crNID,
		}, 1, http.StatusBadRequest, CodeInvalidCredentialRequest, "", ""},
		{"malformed credential_definition", crScopeNID, map[string]any{
			"format": credential.FormatJWTVC, "credential_definition": "NationalIDCredential",
		}, 1, http.StatusBadRequest, CodeInvalidCredentialRequest, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrEnv(t)
			e.token("tok-13", tt.token)
			n := e.nonce()
			req := maps.Clone(tt.req)
			if tt.batch == 1 {
				req["proof"] = map[string]any{"proof_type": "jwt", "jwt": e.proof(newCrHolder(t), n)}
			} else {
				var ps []string
				for range tt.batch {
					ps = append(ps, e.proof(newCrHolder(t), n))
				}
				req["proofs"] = map[string]any{"jwt": ps}
			}
			w := e.post("tok-13", req)
			if tt.status != http.StatusOK {
				crWantError(t, w, tt.status, tt.code)
				e.wantNothingIssued(t)
				return
			}
			if w.Code != http.StatusOK {
				t.Fatalf("draft-13 request = %d %s, want 200", w.Code, w.Body)
			}
			if got := w.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
			body := crJSON(t, w)
			_, entries := e.ledger.snapshot()
			if len(entries) != tt.batch {
				t.Fatalf("ledger has %d entries, want %d", len(entries), tt.batch)
			}
			if tt.batch == 1 {
				if body["credential"] != tt.format+":"+entries[0].ID {
					t.Errorf("credential = %v, want the recorded %s credential", body["credential"], tt.format)
				}
				if _, ok := body["credentials"]; ok {
					t.Errorf("single-proof draft-13 response has credentials: %v", body)
				}
			} else {
				list, _ := body["credentials"].([]any)
				if len(list) != tt.batch || list[0] != tt.format+":"+entries[0].ID {
					t.Errorf("credentials = %v, want %d raw credentials", body["credentials"], tt.batch)
				}
			}
			if body["format"] != tt.req["format"] || body["notification_id"] != entries[0].NotificationID || entries[0].ConfigurationID != tt.config {
				t.Errorf("response = %v, ledger = %+v; want format %v, notification id, configuration %s", body, entries[0], tt.req["format"], tt.config)
			}
			if body["c_nonce_expires_in"] != float64(DefaultNonceTTL/time.Second) {
				t.Errorf("c_nonce_expires_in = %v, want %v", body["c_nonce_expires_in"], DefaultNonceTTL/time.Second)
			}
			fresh, _ := body["c_nonce"].(string)
			if fresh == n {
				t.Fatalf("c_nonce is the spent nonce")
			}
			if ok, err := e.is.consumeNonce(context.Background(), fresh); !ok || err != nil {
				t.Errorf("the response's c_nonce is not usable: %v, %v", ok, err)
			}
		})
	}
}

func TestCredentialDraft13InvalidProofGivesNonce(t *testing.T) {
	e := newCrEnv(t)
	h := newCrHolder(t)
	req := func(p string) map[string]any {
		return map[string]any{
			"format":                credential.FormatJWTVC,
			"credential_definition": map[string]any{"type": []string{"VerifiableCredential", "NationalIDCredential"}},
			"proof":                 map[string]any{"proof_type": "jwt", "jwt": p},
		}
	}
	// A nonce we never issued (one from another authorization server).
	w := e.post("tok-nid", req(e.proof(h, "nonce-of-the-authorization-server")))
	body := crWantError(t, w, http.StatusBadRequest, CodeInvalidProof)
	fresh, _ := body["c_nonce"].(string)
	if fresh == "" || body["c_nonce_expires_in"] != float64(DefaultNonceTTL/time.Second) {
		t.Fatalf("draft-13 invalid_proof = %v, want a fresh c_nonce and c_nonce_expires_in", body)
	}
	e.wantNothingIssued(t)

	// No proof at all: also invalid_proof with a nonce.
	w = e.post("tok-nid", map[string]any{"format": credential.FormatJWTVC,
		"credential_definition": map[string]any{"type": []string{"VerifiableCredential", "NationalIDCredential"}}})
	if b := crWantError(t, w, http.StatusBadRequest, CodeInvalidProof); b["c_nonce"] == nil {
		t.Errorf("draft-13 request without proof = %v, want a c_nonce", b)
	}

	// The wallet retries with the fresh nonce and gets its credential.
	w = e.post("tok-nid", req(e.proof(h, fresh)))
	if w.Code != http.StatusOK {
		t.Fatalf("retry with the fresh c_nonce = %d %s, want 200", w.Code, w.Body)
	}

	// Other draft-13 errors carry no nonce.
	w = e.post("tok-nid", map[string]any{"format": "ldp_vc", "proof": map[string]any{"proof_type": "jwt", "jwt": e.proof(h, e.nonce())}})
	if b := crWantError(t, w, http.StatusBadRequest, CodeUnsupportedCredentialFormat); b["c_nonce"] != nil {
		t.Errorf("unsupported_credential_format carries a c_nonce: %v", b)
	}
}

func TestCredentialLedgerFailure(t *testing.T) {
	e := newCrEnv(t)
	e.ledger.fail = errors.New("ledger: disk full")
	w := e.post("tok-nid", crRequest(crNID, e.proof(newCrHolder(t), e.nonce())))
	body := crWantError(t, w, http.StatusInternalServerError, CodeServerError)
	if strings.Contains(w.Body.String(), "disk full") || strings.Contains(w.Body.String(), credential.FormatJWTVC+":") {
		t.Errorf("error response leaks the cause or a credential: %v", body)
	}
	calls, entries := e.ledger.snapshot()
	if calls != 1 || len(entries) != 0 {
		t.Errorf("ledger: %d calls, %d entries; want 1 failed call and nothing recorded", calls, len(entries))
	}
}

func TestCredentialIssuanceErrors(t *testing.T) {
	tests := []struct {
		name   string
		setup  func(e *crEnv)
		status int
		code   string
	}{
		{"resident unknown", func(e *crEnv) { e.token("tok-nid", crScopeNID).PersonID = "person-gone" },
			http.StatusBadRequest, CodeCredentialRequestDenied},
		{"resident not active", func(e *crEnv) { e.data.err = crNotFound{} },
			http.StatusBadRequest, CodeCredentialRequestDenied},
		{"mandatory claim missing", func(e *crEnv) {
			e.data.err = nil
			e.is.cfg.Data = dataFunc(func(context.Context, string) (map[string]any, error) {
				return map[string]any{"fullName": "no birth date"}, nil
			})
		}, http.StatusBadRequest, CodeCredentialRequestDenied},
		{"identity data unavailable", func(e *crEnv) { e.data.err = errors.New("database down") },
			http.StatusInternalServerError, CodeServerError},
		{"token without a resident", func(e *crEnv) { e.token("tok-nid", crScopeNID).PersonID = "" },
			http.StatusInternalServerError, CodeServerError},
		{"signing fails", func(e *crEnv) { e.jwtvc.fail = errors.New("hsm offline") },
			http.StatusInternalServerError, CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newCrEnv(t)
			tt.setup(e)
			w := e.post("tok-nid", crRequest(crNID, e.proof(newCrHolder(t), e.nonce())))
			body := crWantError(t, w, tt.status, tt.code)
			for _, leak := range []string{"database down", "hsm offline", "person-gone", crPerson} {
				if strings.Contains(w.Body.String(), leak) {
					t.Errorf("error response %v leaks %q", body, leak)
				}
			}
			e.wantNothingIssued(t)
			if calls, _ := e.ledger.snapshot(); calls != 0 {
				t.Errorf("the ledger was written %d times, want 0", calls)
			}
		})
	}
}

// dataFunc adapts a function to DataProvider.
type dataFunc func(ctx context.Context, personID string) (map[string]any, error)

func (f dataFunc) IdentityData(ctx context.Context, personID string) (map[string]any, error) {
	return f(ctx, personID)
}

// TestCredentialLogsNoSecrets runs a success and failures with a logger
// and checks that no token, proof, nonce, person id or claim is logged.
func TestCredentialLogsNoSecrets(t *testing.T) {
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := newCrEnv(t, func(c *Config) { c.Logger = logger })
	h := newCrHolder(t)
	n := e.nonce()
	p := e.proof(h, n)
	if w := e.post("tok-nid", crRequest(crNID, p)); w.Code != http.StatusOK {
		t.Fatalf("credential request = %d %s, want 200", w.Code, w.Body)
	}
	e.post("tok-nid", crRequest(crNID, p))     // replay: invalid_nonce
	e.post("not-a-token", crRequest(crNID, p)) // invalid_token
	e.ledger.fail = errors.New("ledger down")
	e.post("tok-nid", crRequest(crNID, e.proof(h, e.nonce()))) // server_error
	logs := buf.String()
	if !strings.Contains(logs, "credentials issued") || !strings.Contains(logs, "ledger down") {
		t.Fatalf("logs miss the issuance or the failure cause:\n%s", logs)
	}
	for _, secret := range []string{"tok-nid", "not-a-token", p, n, crPerson, "1990/01/02", "Amina"} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %.30q:\n%s", secret, logs)
		}
	}
}

func TestNewCredentialID(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		id, err := newCredentialID()
		if err != nil || !crUUID.MatchString(id) || seen[id] {
			t.Fatalf("newCredentialID() = %q, %v; want a fresh urn:uuid v4", id, err)
		}
		seen[id] = true
	}
}

func FuzzCredentialRequest(f *testing.F) {
	for _, seed := range []string{
		`{"credential_configuration_id":"NationalIDCredential","proofs":{"jwt":["a.b.c"]}}`,
		`{"credential_identifier":"nid-1","proof":{"proof_type":"jwt","jwt":"a.b.c"}}`,
		`{"format":"jwt_vc_json","credential_definition":{"type":["VerifiableCredential"]},"proof":{"proof_type":"jwt","jwt":"x"}}`,
		`{"format":"vc+sd-jwt","vct":"https://x/vct","proofs":{"jwt":["a","b"]}}`,
		`{"credential_configuration_id":"x","proofs":{"di_vp":[{}]}}`,
		`{"credential_configuration_id":"x","proof":null,"proofs":null,"credential_response_encryption":null}`,
		`{"format":null}`, `{}`, `[]`, `null`, `{"proofs":{"jwt":[""]}}`, `{"a":1} {}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var w credentialRequestWire
		if err := decodeJSONObject(data, &w); err != nil {
			return
		}
		req, err := w.Validate(3)
		if err != nil {
			if e := asError(err); e.Status != http.StatusBadRequest {
				t.Fatalf("Validate(%q) error %v has status %d, want 400", data, err, e.Status)
			}
			return
		}
		if len(req.Proofs) > 3 || slices.Contains(req.Proofs, "") {
			t.Fatalf("Validate(%q) accepted proofs %q", data, req.Proofs)
		}
		if req.Draft13 == nil && (req.ConfigurationID == "") == (req.Identifier == "") {
			t.Fatalf("Validate(%q) = %+v, want exactly one of configuration id and identifier", data, req)
		}
		if req.Draft13 != nil && (req.Draft13.Format == "" || req.ConfigurationID != "" || req.Identifier != "") {
			t.Fatalf("Validate(%q) = %+v, not a valid draft-13 request", data, req)
		}
	})
}

// TestCredentialRealFormats issues through the endpoint with the default
// formats and verifies the credentials with the credential packages.
func TestCredentialRealFormats(t *testing.T) {
	e := newCrEnv(t, func(c *Config) { c.Formats = nil; c.X5C = nil })
	e.token("tok-both", crScopeNID, crScopeSD)
	ctx := context.Background()
	keys := credtest.Resolver(e.signer)

	t.Run("dc+sd-jwt batch", func(t *testing.T) {
		n := e.nonce()
		hs := []*crHolder{newCrHolder(t), newCrHolder(t)}
		w := e.post("tok-both", crRequest(crNIDSD, e.proof(hs[0], n), e.proof(hs[1], n)))
		if w.Code != http.StatusOK {
			t.Fatalf("request = %d %s, want 200", w.Code, w.Body)
		}
		creds := crCredentials(t, crJSON(t, w))
		if len(creds) != 2 {
			t.Fatalf("got %d credentials, want 2", len(creds))
		}
		for i, c := range creds {
			s, _ := c.(string)
			tok, err := sdjwt.VerifyVC(ctx, s, sdjwt.VerifyOptions{Keys: keys, Algs: []string{"ES256"}, Issuer: crIssuer, Now: e.clock.Now})
			if err != nil {
				t.Fatalf("credential %d does not verify: %v", i, err)
			}
			if tok.VCT != crVCT || tok.Claims["birthdate"] != "1990/01/02" || tok.Header["typ"] != "dc+sd-jwt" {
				t.Errorf("credential %d: vct %q, claims %v, header %v", i, tok.VCT, tok.Claims, tok.Header)
			}
			want, err := jwk.Import(hs[i].priv.Public())
			if err != nil {
				t.Fatal(err)
			}
			got, err := jwk.Import(tok.HolderKey)
			if err != nil || !jwk.Equal(got, want) {
				t.Errorf("credential %d is bound to %v, want holder %d's key", i, tok.HolderKey, i)
			}
		}
	})

	t.Run("jwt_vc_json", func(t *testing.T) {
		h := newCrHolder(t)
		w := e.post("tok-both", crRequest(crNID, e.proof(h, e.nonce())))
		if w.Code != http.StatusOK {
			t.Fatalf("request = %d %s, want 200", w.Code, w.Body)
		}
		s, _ := crCredentials(t, crJSON(t, w))[0].(string)
		v, err := jwtvc.Verify(ctx, s, jwtvc.VerifyOptions{Keys: keys, Algs: []string{"ES256"}, Now: e.clock.Now})
		if err != nil {
			t.Fatalf("credential does not verify: %v", err)
		}
		_, entries := e.ledger.snapshot()
		last := entries[len(entries)-1]
		if v.Credential.ID != last.ID || v.Credential.Issuer != crIssuer || !strings.HasPrefix(v.Credential.SubjectID, "did:jwk:") {
			t.Errorf("credential id %q, issuer %q, subject %q; want ledger id %q, %q, a did:jwk", v.Credential.ID, v.Credential.Issuer, v.Credential.SubjectID, last.ID, crIssuer)
		}
	})

	t.Run("draft 13", func(t *testing.T) {
		for _, req := range []map[string]any{
			{"format": credential.FormatSDJWTVCLegacy, "vct": crVCT},
			{"format": credential.FormatJWTVC, "credential_definition": map[string]any{"type": []string{"NationalIDCredential", "VerifiableCredential"}}},
		} {
			req["proof"] = map[string]any{"proof_type": "jwt", "jwt": e.proof(newCrHolder(t), e.nonce())}
			w := e.post("tok-both", req)
			if w.Code != http.StatusOK {
				t.Fatalf("draft-13 %v = %d %s, want 200", req["format"], w.Code, w.Body)
			}
			if s, _ := crJSON(t, w)["credential"].(string); s == "" {
				t.Errorf("draft-13 %v response has no credential", req["format"])
			}
		}
	})
}
