package issuer

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/jwtvc"
)

const jvfIssuer = "https://id.example/issuer"

var jvfNow = time.Date(2030, 3, 4, 5, 6, 7, 0, time.UTC)

func jvfConfig() *Configuration {
	return &Configuration{
		ID:         "NationalID",
		Format:     credential.FormatJWTVC,
		Scope:      "national_id",
		Types:      []string{"VerifiableCredential", "NationalIDCredential"},
		Contexts:   []string{jwtvc.ContextV1, "https://id.example/contexts/nid.jsonld"},
		SigningAlg: "ES256",
		Subject:    map[string]any{"fullName": "{{ name }}"},
		Claims: []Claim{
			{Path: []string{"fullName"}, Mandatory: true, Display: []ClaimDisplay{{Name: "Full name", Locale: "en"}, {Name: "Nom", Locale: "fr"}}},
			{Path: []string{"address", "locality"}, Display: []ClaimDisplay{{Name: "City", Locale: "en"}}},
		},
	}
}

func jvfInput(t *testing.T, s credential.Signer, holder *HolderKey) IssueInput {
	t.Helper()
	return IssueInput{
		Config:     jvfConfig(),
		ID:         "urn:uuid:0b4b8a0a-4b5e-4f0e-9a51-5b0c7e7d2a11",
		Issuer:     jvfIssuer,
		Claims:     map[string]any{"fullName": "Amina K.", "address": map[string]any{"locality": "Rabat"}},
		Holder:     holder,
		IssuedAt:   jvfNow,
		ValidFrom:  jvfNow,
		ValidUntil: jvfNow.Add(365 * 24 * time.Hour),
		Status:     map[string]any{"type": "BitstringStatusListEntry", "statusListIndex": "7"},
		Signer:     s,
	}
}

func TestJWTVCFormatValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Configuration)
		ok     bool
	}{
		{"valid", func(*Configuration) {}, true},
		{"no VerifiableCredential", func(c *Configuration) { c.Types = []string{"NationalIDCredential", "Other"} }, false},
		{"only VerifiableCredential", func(c *Configuration) { c.Types = []string{"VerifiableCredential"} }, false},
		{"type twice", func(c *Configuration) {
			c.Types = []string{"VerifiableCredential", "NationalIDCredential", "NationalIDCredential"}
		}, false},
		{"no contexts: the VCDM 1.1 one", func(c *Configuration) { c.Contexts = nil }, true},
		{"VCDM 2.0 context first", func(c *Configuration) { c.Contexts = []string{"https://www.w3.org/ns/credentials/v2"} }, false},
		{"template sets the subject id", func(c *Configuration) { c.Subject = map[string]any{"id": "did:example:1"} }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := jvfConfig()
			tc.change(c)
			err := jwtVCFormat{}.Validate(c)
			if (err == nil) != tc.ok {
				t.Errorf("Validate(%s) = %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
}

func TestJWTVCFormatMetadata(t *testing.T) {
	tests := []struct {
		draft13 bool
		want    string
	}{
		{false, `{"credential_definition":{"type":["VerifiableCredential","NationalIDCredential"]}}`},
		{true, `{"credential_definition":{"@context":["https://www.w3.org/2018/credentials/v1","https://id.example/contexts/nid.jsonld"],` +
			`"credentialSubject":{"address":{"locality":{"display":[{"name":"City","locale":"en"}]}},` +
			`"fullName":{"display":[{"name":"Full name","locale":"en"},{"name":"Nom","locale":"fr"}],"mandatory":true}},` +
			`"type":["VerifiableCredential","NationalIDCredential"]}}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(jwtVCFormat{}.Metadata(jvfConfig(), tc.draft13))
		if err != nil || string(b) != tc.want {
			t.Errorf("Metadata(draft13=%v) = %s, %v, want %s", tc.draft13, b, err, tc.want)
		}
	}
	c := jvfConfig()
	c.Contexts, c.Claims = nil, nil
	b, _ := json.Marshal(jwtVCFormat{}.Metadata(c, true))
	if want := `{"credential_definition":{"@context":["https://www.w3.org/2018/credentials/v1"],"credentialSubject":{},"type":["VerifiableCredential","NationalIDCredential"]}}`; string(b) != want {
		t.Errorf("Metadata(no contexts, draft13) = %s, want %s", b, want)
	}
}

func TestJWTVCFormatMatchesDraft13(t *testing.T) {
	c := jvfConfig()
	tests := []struct {
		name string
		sel  Draft13Selector
		want bool
	}{
		{"same types", Draft13Selector{Format: "jwt_vc_json", Types: []string{"VerifiableCredential", "NationalIDCredential"}}, true},
		{"other order", Draft13Selector{Format: "jwt_vc_json", Types: []string{"NationalIDCredential", "VerifiableCredential"}}, true},
		{"subset", Draft13Selector{Format: "jwt_vc_json", Types: []string{"VerifiableCredential"}}, false},
		{"superset", Draft13Selector{Format: "jwt_vc_json", Types: []string{"VerifiableCredential", "NationalIDCredential", "X"}}, false},
		{"no types", Draft13Selector{Format: "jwt_vc_json"}, false},
		{"other format", Draft13Selector{Format: "ldp_vc", Types: []string{"VerifiableCredential", "NationalIDCredential"}}, false},
	}
	for _, tc := range tests {
		if got := (jwtVCFormat{}).MatchesDraft13(c, tc.sel); got != tc.want {
			t.Errorf("MatchesDraft13(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestJWTVCFormatIssue(t *testing.T) {
	s := credtest.NewSigner(t, "ES256", "issuer-key-1")
	holder := newPfKey(t, "EdDSA")
	holderDID, _ := did.KeyDID(holder.priv.Public())
	jwkDID, _ := did.JWKDID(holder.pub)
	tests := []struct {
		name        string
		holder      *HolderKey
		wantSubject string
	}{
		{"holder DID", &HolderKey{JWK: holder.pub, DID: holderDID, Thumbprint: holder.thumbprint(t)}, holderDID},
		{"holder jwk", &HolderKey{JWK: holder.pub, Thumbprint: holder.thumbprint(t)}, jwkDID},
		{"unbound", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := jvfInput(t, s, tc.holder)
			out, err := jwtVCFormat{}.Issue(context.Background(), in)
			if err != nil {
				t.Fatalf("Issue(%s) = %v", tc.name, err)
			}
			jwt, ok := out.(string)
			if !ok {
				t.Fatalf("Issue(%s) = %T, want a string", tc.name, out)
			}
			v, err := jwtvc.Verify(context.Background(), jwt, jwtvc.VerifyOptions{
				Keys: credtest.Resolver(s), Algs: []string{"ES256"}, Now: func() time.Time { return jvfNow },
			})
			if err != nil {
				t.Fatalf("jwtvc.Verify(Issue(%s)) = %v", tc.name, err)
			}
			got := v.Credential
			if got.SubjectID != tc.wantSubject {
				t.Errorf("Issue(%s) subject id = %q, want %q", tc.name, got.SubjectID, tc.wantSubject)
			}
			if got.ID != in.ID || got.Issuer != jvfIssuer || !got.ValidUntil.Equal(in.ValidUntil) || got.Status.(map[string]any)["statusListIndex"] != "7" {
				t.Errorf("Issue(%s) = %+v, want id, issuer, validity and status of the input", tc.name, got)
			}
			if strings.Join(got.Types, ",") != "VerifiableCredential,NationalIDCredential" || len(got.Contexts) != 3 || got.Contexts[2] != jsonld.StatusListV1 {
				t.Errorf("Issue(%s) types %v, contexts %v, want the configuration's plus the status list context", tc.name, got.Types, got.Contexts)
			}
			if got.Subject["fullName"] != "Amina K." {
				t.Errorf("Issue(%s) subject = %v, want the rendered claims", tc.name, got.Subject)
			}
			var gotThumb string
			if got.HolderJWK != nil {
				tp, _ := got.HolderJWK.Thumbprint(crypto.SHA256)
				gotThumb = base64.RawURLEncoding.EncodeToString(tp)
			}
			if want := map[bool]string{true: holder.thumbprint(t), false: ""}[tc.holder != nil]; gotThumb != want {
				t.Errorf("Issue(%s) cnf.jwk thumbprint = %q, want %q", tc.name, gotThumb, want)
			}
		})
	}

	in := jvfInput(t, s, &HolderKey{DID: holderDID})
	if _, err := (jwtVCFormat{}).Issue(context.Background(), in); err == nil {
		t.Error("Issue(holder without JWK) succeeded, want an error")
	}
	in = jvfInput(t, nil, nil)
	if _, err := (jwtVCFormat{}).Issue(context.Background(), in); err == nil {
		t.Error("Issue(no signer) succeeded, want an error")
	}
	in = jvfInput(t, s, nil)
	in.Claims = map[string]any{"id": "did:example:forged"}
	if _, err := (jwtVCFormat{}).Issue(context.Background(), in); err == nil {
		t.Error("Issue(claims with id) succeeded, want an error")
	}
}

func TestDefaultFormats(t *testing.T) {
	fs := DefaultFormats()
	for _, name := range []string{credential.FormatJWTVC, credential.FormatSDJWTVC, credential.FormatLDPVC} {
		f, ok := fs[name]
		if !ok {
			t.Errorf("DefaultFormats() has no %s", name)
			continue
		}
		if f.Name() != name {
			t.Errorf("DefaultFormats()[%s].Name() = %s", name, f.Name())
		}
	}
	if len(fs) != 3 {
		t.Errorf("DefaultFormats() = %d formats, want 3", len(fs))
	}
	// Callers may add formats to the map they get.
	fs["x"] = nil
	if _, ok := DefaultFormats()["x"]; ok {
		t.Error("DefaultFormats() returns a shared map")
	}
}

// TestJWTVCThroughCredentialEndpoint issues a jwt_vc_json through the
// credential endpoint with the real format and proof checks, for a key
// named by jwk and by did:key, and verifies the credential.
func TestJWTVCThroughCredentialEndpoint(t *testing.T) {
	e := newCrEnv(t, func(cfg *Config) { cfg.Formats = nil }) // DefaultFormats
	h := newCrHolder(t)
	edKey := newPfKey(t, "EdDSA")
	edDID, _ := did.KeyDID(edKey.priv.Public())
	didProof := func(nonce string) string {
		hd := map[string]any{"typ": ProofTyp, "alg": "EdDSA", "kid": edDID + "#" + strings.TrimPrefix(edDID, "did:key:")}
		c := map[string]any{"iss": crClientID, "aud": crIssuer, "iat": e.clock.Now().Unix(), "nonce": nonce}
		return pfJWS(t, hd, c, func(in []byte) []byte { return edKey.sign(t, "EdDSA", in) })
	}
	jwkDID, _ := did.JWKDID(h.pub)
	tests := []struct {
		name        string
		proof       func(nonce string) string
		wantSubject string
		wantThumb   string
	}{
		{"jwk", func(n string) string { return e.proof(h, n) }, jwkDID, h.thumb},
		{"did:key", didProof, edDID, edKey.thumbprint(t)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := e.post("tok-nid", crRequest(crNID, tc.proof(e.nonce())))
			if w.Code != http.StatusOK {
				t.Fatalf("credential request = %d %s, want 200", w.Code, w.Body)
			}
			creds := crCredentials(t, crJSON(t, w))
			jwt, _ := creds[0].(string)
			v, err := jwtvc.Verify(context.Background(), jwt, jwtvc.VerifyOptions{
				Keys: credtest.Resolver(e.signer), Algs: []string{"ES256"}, Now: e.clock.Now,
			})
			if err != nil {
				t.Fatalf("jwtvc.Verify(issued credential) = %v", err)
			}
			if got := v.Credential.SubjectID; got != tc.wantSubject {
				t.Errorf("credential subject id = %q, want %q", got, tc.wantSubject)
			}
			tp, _ := v.Credential.HolderJWK.Thumbprint(crypto.SHA256)
			if got := base64.RawURLEncoding.EncodeToString(tp); got != tc.wantThumb {
				t.Errorf("credential cnf.jwk thumbprint = %s, want the proof key's %s", got, tc.wantThumb)
			}
			if v.Credential.Issuer != crIssuer || v.Credential.Subject["birthdate"] != "1990/01/02" {
				t.Errorf("credential = %+v, want issuer %s and the rendered claims", v.Credential, crIssuer)
			}
		})
	}

	// A proof for another audience is refused with invalid_proof.
	bad := pfJWS(t, map[string]any{"typ": ProofTyp, "alg": "EdDSA", "kid": edDID},
		map[string]any{"aud": "https://evil.example", "iat": e.clock.Now().Unix(), "nonce": e.nonce()},
		func(in []byte) []byte { return edKey.sign(t, "EdDSA", in) })
	w := e.post("tok-nid", crRequest(crNID, bad))
	crWantError(t, w, http.StatusBadRequest, CodeInvalidProof)
}
