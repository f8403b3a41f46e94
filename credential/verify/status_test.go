package verify

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// jwtList is the credential a verified JWT status list carries, with
// bit idxSet set.
func jwtList(t testing.TB, contexts []string, from, until time.Time) jwtvc.Credential {
	t.Helper()
	bits := statuslist.NewBitstring(statuslist.DefaultSize)
	if err := bits.Set(idxSet, true); err != nil {
		t.Fatal(err)
	}
	encoded, err := bits.Encode()
	if err != nil {
		t.Fatal(err)
	}
	const u = "https://issuer.example/status/jwt"
	return jwtvc.Credential{
		ID: u, Issuer: "https://issuer.example", Contexts: contexts,
		Types:     []string{"VerifiableCredential", statuslist.TypeListCredential},
		SubjectID: u + "#list",
		Subject: map[string]any{
			"type": statuslist.TypeList, "statusPurpose": statuslist.PurposeRevocation, "encodedList": encoded,
		},
		ValidFrom: from, ValidUntil: until,
	}
}

// TestJWTListDocument: the document read from a JWT status list carries
// its validity period under the names of its data model, so that
// statuslist.ParseListCredential reads it and the status check enforces
// it; a bound that is not set is left out, not written as year 1.
func TestJWTListDocument(t *testing.T) {
	v1 := []string{jwtvc.ContextV1, statuslist.ContextStatusV1}
	v2 := []string{statuslist.ContextV2}
	from, until := testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour) // past
	for _, tt := range []struct {
		name       string
		c          jwtvc.Credential
		wantFields []string // date members present
		absent     []string // date members absent
		wantErr    error    // of the validity check at testNow
	}{
		{name: "VCDM 1.1, past its validity", c: jwtList(t, v1, from, until),
			wantFields: []string{"issuanceDate", "expirationDate"}, absent: []string{"validFrom", "validUntil"},
			wantErr: credential.ErrExpired},
		{name: "VCDM 2.0, past its validity", c: jwtList(t, v2, from, until),
			wantFields: []string{"validFrom", "validUntil"}, absent: []string{"issuanceDate", "expirationDate"},
			wantErr: credential.ErrExpired},
		{name: "VCDM 2.0, not yet valid", c: jwtList(t, v2, testNow.Add(time.Hour), testNow.Add(2*time.Hour)),
			wantFields: []string{"validFrom", "validUntil"}, absent: []string{"issuanceDate", "expirationDate"},
			wantErr: credential.ErrNotYetValid},
		{name: "VCDM 2.0, valid", c: jwtList(t, v2, from, testNow.Add(time.Hour)),
			wantFields: []string{"validFrom", "validUntil"}, absent: []string{"issuanceDate", "expirationDate"}},
		{name: "VCDM 1.1 without exp", c: jwtList(t, v1, from, time.Time{}),
			wantFields: []string{"issuanceDate"}, absent: []string{"expirationDate", "validFrom", "validUntil"}},
		{name: "VCDM 2.0 without nbf", c: jwtList(t, v2, time.Time{}, testNow.Add(time.Hour)),
			wantFields: []string{"validUntil"}, absent: []string{"validFrom", "issuanceDate", "expirationDate"}},
		{name: "VCDM 1.1 without nbf", c: jwtList(t, v1, time.Time{}, testNow.Add(time.Hour)),
			wantFields: []string{"expirationDate"}, absent: []string{"issuanceDate", "validFrom", "validUntil"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := jwtListDocument(tt.c)
			for _, f := range tt.wantFields {
				if _, ok := doc[f].(string); !ok {
					t.Errorf("jwtListDocument() has no %s; %v", f, doc)
				}
			}
			for _, f := range tt.absent {
				if v, ok := doc[f]; ok {
					t.Errorf("jwtListDocument() has %s = %v, want none", f, v)
				}
			}
			list, err := statuslist.ParseListCredential(doc)
			if err != nil {
				t.Fatalf("ParseListCredential(jwtListDocument()) = %v", err)
			}
			v := &verifier{now: testNow, skew: DefaultClockSkew}
			if err := v.checkPeriod(list.ValidFrom, list.ValidUntil); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("checkPeriod(%s, %s) = %v, want %v", list.ValidFrom, list.ValidUntil, err, tt.wantErr)
			}
		})
	}
}

// TestJWTListVCDM2PastValidity: a credential whose status list is a
// VCDM 2.0 JWT list past its validity fails the status check. Today
// jwtvc.Verify refuses a vc whose @context is VCDM 2.0's before it reads
// the dates; should it accept them, jwtListDocument writes the period
// where ParseListCredential reads a VCDM 2.0 list's (TestJWTListDocument),
// and the list's own validity check applies.
func TestJWTListVCDM2PastValidity(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const u = "https://issuer.example/ed/jwt-v2-expired"
	bits := statuslist.NewBitstring(statuslist.DefaultSize)
	encoded, err := bits.Encode()
	if err != nil {
		t.Fatal(err)
	}
	from, until := testNow.Add(-48*time.Hour), testNow.Add(-24*time.Hour)
	payload := marshal(t, map[string]any{
		"iss": f.ed.did, "jti": u, "sub": u + "#list", "nbf": from.Unix(), "exp": until.Unix(),
		"vc": map[string]any{
			"@context": []any{statuslist.ContextV2},
			"type":     []any{"VerifiableCredential", statuslist.TypeListCredential},
			"credentialSubject": map[string]any{
				"type": statuslist.TypeList, "statusPurpose": statuslist.PurposeRevocation, "encodedList": encoded,
			},
			"validFrom": from.Format(time.RFC3339), "validUntil": until.Format(time.RFC3339),
		},
	})
	list, err := f.ed.SignJWS(ctx, payload, map[string]any{"typ": "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	f.fetch.put(u, []byte(list), "application/jwt")
	cred := jwtCredential(t, f.ed, credOptions{status: []statuslist.Entry{statuslist.NewEntry(u, statuslist.PurposeRevocation, idxValid)}})
	r, err := Credential(ctx, cred, f.options())
	if err != nil {
		t.Fatal(err)
	}
	c, ok := r.Check(CheckStatus)
	if !ok || c.Status != Failure || !errors.Is(c.Err, ErrStatusList) {
		t.Errorf("Credential() status check = %+v, want a failure matching %v", c, ErrStatusList)
	}
	if r.Status != StatusInvalid {
		t.Errorf("Credential().Status = %s, want %s", r.Status, StatusInvalid)
	}
}
