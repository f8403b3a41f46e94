package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/sdjwt"
	"github.com/sanad-id/sanad/credential/statuslist"
	"github.com/sanad-id/sanad/credential/verify"
)

const (
	cvContextURL = "https://sanad.example/contexts/cli/v1"
	cvContext    = `{"@context": {"@version": 1.1, "@protected": true, "name": "https://schema.org/name"}}`
	cvWebDID     = "did:web:issuer.example"
	cvJWTIssuer  = "https://issuer.example"
)

// cvFiles are the files of the command tests.
type cvFiles struct {
	dir                                 string
	context                             string // the template context
	keyCred, tamperedCred, webCred      string // ldp_vc: did:key, did:key tampered, did:web
	didDoc                              string // the did:web document
	jwtCred, jwks                       string // jwt_vc_json by cvJWTIssuer and its JWKS
	sdCred, presentation, presentedElse string // SD-JWT VC; KB-JWT for nonce n-1 and n-2
	keyDID                              string
}

func cvWrite(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func cvJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// ldpTestCredential signs a VCDM 2.0 credential of issuer with signer's
// key named vm; status is its credentialStatus (nil for none).
func ldpTestCredential(t *testing.T, l *jsonld.Loader, signer *credtest.Signer, issuer, vm string, status any) map[string]any {
	t.Helper()
	now := time.Now()
	doc := map[string]any{
		"@context":          []any{jsonld.CredentialsV2, cvContextURL},
		"type":              []any{"VerifiableCredential"},
		"issuer":            issuer,
		"validFrom":         now.Add(-time.Hour).UTC().Format(time.RFC3339),
		"validUntil":        now.AddDate(1, 0, 0).UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{"id": "did:example:holder", "name": "Amina"},
	}
	if status != nil {
		doc["credentialStatus"] = status
	}
	signed, err := ldp.Sign(context.Background(), l, doc, signer, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, VerificationMethod: vm, Created: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

func keyDIDOf(t *testing.T, s *credtest.Signer) (string, string) {
	t.Helper()
	d, err := did.KeyDID(s.Public())
	if err != nil {
		t.Fatal(err)
	}
	return d, d + "#" + strings.TrimPrefix(d, "did:key:")
}

func newCVFiles(t *testing.T) *cvFiles {
	t.Helper()
	ctx := context.Background()
	f := &cvFiles{dir: t.TempDir()}
	f.context = cvWrite(t, f.dir, "context.json", []byte(cvContext))
	l, err := jsonld.NewLoader(map[string][]byte{cvContextURL: []byte(cvContext)})
	if err != nil {
		t.Fatal(err)
	}

	// ldp_vc by a did:key issuer, and the same tampered.
	keyIssuer := credtest.NewSigner(t, "EdDSA", "unused")
	var vm string
	f.keyDID, vm = keyDIDOf(t, keyIssuer)
	cred := ldpTestCredential(t, l, keyIssuer, f.keyDID, vm, nil)
	f.keyCred = cvWrite(t, f.dir, "key.json", cvJSON(t, cred))
	cred["credentialSubject"] = map[string]any{"id": "did:example:holder", "name": "Eve"}
	f.tamperedCred = cvWrite(t, f.dir, "tampered.json", cvJSON(t, cred))

	// ldp_vc by a did:web issuer, and its DID document.
	webIssuer := credtest.NewSigner(t, "EdDSA", cvWebDID+"#key-1")
	pub, err := jwk.Import(webIssuer.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.NewDocument(cvWebDID, []did.VerificationMethod{{ID: "#key-1", Type: did.TypeMultikey, Key: pub, Relationships: []string{did.AssertionMethod}}})
	if err != nil {
		t.Fatal(err)
	}
	f.didDoc = cvWrite(t, f.dir, "did.json", cvJSON(t, doc))
	f.webCred = cvWrite(t, f.dir, "web.json", cvJSON(t, ldpTestCredential(t, l, webIssuer, cvWebDID, cvWebDID+"#key-1", nil)))

	// jwt_vc_json and SD-JWT VC by an https issuer with a JWKS.
	jwtIssuer := credtest.NewSigner(t, "ES256", "k1")
	key, err := jwk.Import(jwtIssuer.Public())
	if err != nil {
		t.Fatal(err)
	}
	if err := key.Set(jwk.KeyIDKey, "k1"); err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(key); err != nil {
		t.Fatal(err)
	}
	f.jwks = cvWrite(t, f.dir, "jwks.json", cvJSON(t, set))
	now := time.Now()
	jwt, err := jwtvc.Issue(ctx, jwtIssuer, jwtvc.Credential{
		Issuer: cvJWTIssuer, Types: []string{"VerifiableCredential"}, Subject: map[string]any{"name": "Amina"},
		SubjectID: "did:example:holder", ValidFrom: now.Add(-time.Hour), ValidUntil: now.AddDate(1, 0, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.jwtCred = cvWrite(t, f.dir, "cred.jwt", []byte(jwt+"\n"))

	holder := credtest.NewSigner(t, "ES256", "holder")
	sd, err := sdjwt.IssueVC(ctx, jwtIssuer, sdjwt.VC{
		Issuer: cvJWTIssuer, VCT: "https://issuer.example/vct/id", IssuedAt: now.Add(-time.Hour),
		Expires: now.AddDate(1, 0, 0), Claims: map[string]any{"given_name": "Amina"},
		Disclosable: []sdjwt.Path{{"given_name"}}, Holder: holder.Public(),
	})
	if err != nil {
		t.Fatal(err)
	}
	f.sdCred = cvWrite(t, f.dir, "cred.sdjwt", []byte(sd))
	tok, err := sdjwt.Parse(sd)
	if err != nil {
		t.Fatal(err)
	}
	for _, nonce := range []string{"n-1", "n-2"} {
		p, err := tok.Present(ctx, []sdjwt.Path{{"given_name"}}, &sdjwt.KeyBinding{Signer: holder, Audience: "https://verifier.example", Nonce: nonce})
		if err != nil {
			t.Fatal(err)
		}
		if nonce == "n-1" {
			f.presentation = cvWrite(t, f.dir, "presentation-1.txt", []byte(p))
		} else {
			f.presentedElse = cvWrite(t, f.dir, "presentation-2.txt", []byte(p))
		}
	}
	return f
}

func TestCredentialVerifyCommand(t *testing.T) {
	f := newCVFiles(t)
	ctxFlag := cvContextURL + "=" + f.context
	jwksFlag := cvJWTIssuer + "=" + f.jwks
	for _, tt := range []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout
		wantErr  string   // in stderr
	}{
		{name: "did:key ldp_vc", args: []string{"--context", ctxFlag, f.keyCred}, wantCode: 0,
			want: []string{"SUCCESS ldp_vc issued by " + f.keyDID, "  signature       success", "  status          skipped  the credential has no status entry"}},
		{name: "flags after the file", args: []string{f.keyCred, "--context", ctxFlag, "--offline"}, wantCode: 0,
			want: []string{"SUCCESS ldp_vc"}},
		{name: "tampered", args: []string{"--context", ctxFlag, f.tamperedCred}, wantCode: 1,
			want: []string{"INVALID ldp_vc", "  signature       failure  credential: invalid signature"}, wantErr: "did not verify: INVALID"},
		{name: "context not given", args: []string{f.keyCred}, wantCode: 1,
			want: []string{"INVALID", "unknown context"}},
		{name: "did:web pinned, offline", args: []string{"--offline", "--did-doc", f.didDoc, "--context", ctxFlag, f.webCred}, wantCode: 0,
			want: []string{"SUCCESS ldp_vc issued by " + cvWebDID}},
		{name: "did:web not pinned, offline", args: []string{"--offline", "--context", ctxFlag, f.webCred}, wantCode: 1,
			want: []string{"INVALID", "not available offline"}},
		{name: "untrusted issuer", args: []string{"--context", ctxFlag, "--trusted-issuer", cvWebDID, f.keyCred}, wantCode: 1,
			want: []string{"  issuer          failure  verify: issuer not trusted"}},
		{name: "trusted issuer", args: []string{"--context", ctxFlag, "--trusted-issuer", f.keyDID, f.keyCred}, wantCode: 0,
			want: []string{"  issuer          success"}},
		{name: "jwt_vc_json with its JWKS", args: []string{"--jwks", jwksFlag, f.jwtCred}, wantCode: 0,
			want: []string{"SUCCESS jwt_vc_json issued by " + cvJWTIssuer}},
		{name: "jwt_vc_json without keys", args: []string{f.jwtCred}, wantCode: 1,
			want: []string{"INVALID", "give --jwks"}},
		{name: "SD-JWT VC", args: []string{"--jwks", jwksFlag, f.sdCred}, wantCode: 0,
			want: []string{"SUCCESS dc+sd-jwt", "  holder_binding  skipped"}},
		{name: "SD-JWT VC, binding required", args: []string{"--jwks", jwksFlag, "--nonce", "n-1", "--aud", "https://verifier.example", f.sdCred}, wantCode: 1,
			want: []string{"  holder_binding  failure"}},
		{name: "KB-JWT", args: []string{"--jwks", jwksFlag, "--nonce", "n-1", "--aud", "https://verifier.example", f.presentation}, wantCode: 0,
			want: []string{"  holder_binding  success"}},
		{name: "KB-JWT for another nonce", args: []string{"--jwks", jwksFlag, "--nonce", "n-1", "--aud", "https://verifier.example", f.presentedElse}, wantCode: 1,
			want: []string{"  holder_binding  failure  sdjwt: key binding JWT nonce does not match"}},
		{name: "no file", args: nil, wantCode: 2, wantErr: "exactly one FILE"},
		{name: "two files", args: []string{f.keyCred, f.jwtCred}, wantCode: 2, wantErr: "exactly one FILE"},
		{name: "missing file", args: []string{filepath.Join(f.dir, "nope.json")}, wantCode: 2, wantErr: "no such file"},
		{name: "nonce without aud", args: []string{"--nonce", "n", f.sdCred}, wantCode: 2, wantErr: "--nonce and --aud"},
		{name: "bad --jwks", args: []string{"--jwks", f.jwks, f.jwtCred}, wantCode: 2, wantErr: "want NAME=FILE"},
		{name: "private --jwks", args: []string{"--jwks", cvJWTIssuer + "=" + writePrivateJWKS(t, f.dir), f.jwtCred}, wantCode: 2, wantErr: "not a public key"},
		{name: "bad --did-doc", args: []string{"--did-doc", f.context, f.webCred}, wantCode: 2, wantErr: "--did-doc"},
		{name: "bad --context", args: []string{"--context", "https://x.example/c=" + f.jwks, f.keyCred}, wantCode: 2, wantErr: "--context"},
		{name: "unknown flag", args: []string{"--frobnicate", f.keyCred}, wantCode: 2},
		{name: "help", args: []string{"-h"}, wantCode: 0, wantErr: "Usage: sanad credential verify"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut lockedBuffer
			code := run(context.Background(), append([]string{"credential", "verify"}, tt.args...), &out, &errOut, nil)
			if code != tt.wantCode {
				t.Errorf("sanad credential verify %v = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, code, tt.wantCode, out.String(), errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("stdout:\n%s\nwant it to contain %q", out.String(), w)
				}
			}
			if tt.wantErr != "" && !strings.Contains(errOut.String(), tt.wantErr) {
				t.Errorf("stderr:\n%s\nwant it to contain %q", errOut.String(), tt.wantErr)
			}
			if strings.Contains(out.String(), "Amina") {
				t.Errorf("stdout prints a claim value:\n%s", out.String())
			}
		})
	}
}

func writePrivateJWKS(t *testing.T, dir string) string {
	t.Helper()
	k, err := jwk.Import(credtest.NewSigner(t, "ES256", "p").Private())
	if err != nil {
		t.Fatal(err)
	}
	set := jwk.NewSet()
	if err := set.AddKey(k); err != nil {
		t.Fatal(err)
	}
	return cvWrite(t, dir, "private-jwks.json", cvJSON(t, set))
}

func TestCredentialCommandUsage(t *testing.T) {
	var out, errOut lockedBuffer
	if code := run(context.Background(), []string{"credential"}, &out, &errOut, nil); code != 2 {
		t.Errorf("sanad credential = %d, want 2", code)
	}
	if code := run(context.Background(), []string{"credential", "issue"}, &out, &errOut, nil); code != 2 {
		t.Errorf("sanad credential issue = %d, want 2", code)
	}
}

func TestCredentialVerifyJSONFromStdin(t *testing.T) {
	f := newCVFiles(t)
	raw, err := os.ReadFile(f.jwtCred)
	if err != nil {
		t.Fatal(err)
	}
	var out, errOut lockedBuffer
	e := env{stdout: &out, stderr: &errOut}
	err = credentialVerify(context.Background(), e, verifyDeps{stdin: strings.NewReader(string(raw))},
		[]string{"--json", "--offline", "--jwks", cvJWTIssuer + "=" + f.jwks, "-"})
	if err != nil {
		t.Fatalf("credentialVerify(-) = %v\n%s", err, errOut.String())
	}
	var r struct {
		Status  string         `json:"status"`
		Format  string         `json:"format"`
		Issuer  string         `json:"issuer"`
		Claims  map[string]any `json:"claims"`
		Checks  []verify.Check `json:"checks"`
		Subject string         `json:"subject"`
	}
	if err := json.Unmarshal([]byte(out.String()), &r); err != nil {
		t.Fatalf("--json output %q: %v", out.String(), err)
	}
	if r.Status != verify.StatusSuccess || r.Format != "jwt_vc_json" || r.Issuer != cvJWTIssuer || r.Claims["name"] != "Amina" || len(r.Checks) != 5 {
		t.Errorf("--json = %+v, want a verified jwt_vc_json with its claims and 5 checks", r)
	}
}

// TestCredentialVerifyStatus fetches a status list over HTTPS.
func TestCredentialVerifyStatus(t *testing.T) {
	ctx := context.Background()
	l, err := jsonld.NewLoader(map[string][]byte{cvContextURL: []byte(cvContext)})
	if err != nil {
		t.Fatal(err)
	}
	issuer := credtest.NewSigner(t, "EdDSA", "unused")
	issuerDID, vm := keyDIDOf(t, issuer)
	var listBody []byte
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/vc+ld+json")
		w.Write(listBody)
	}))
	defer srv.Close()
	listURL := srv.URL + "/status/1"
	bits := statuslist.NewBitstring(statuslist.DefaultSize)
	if err := bits.Set(7, true); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	list, err := statuslist.ListCredential(listURL, issuerDID, statuslist.PurposeRevocation, bits, now.Add(-time.Hour), now.Add(time.Hour), true)
	if err != nil {
		t.Fatal(err)
	}
	signedList, err := ldp.Sign(ctx, l, list, issuer, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, VerificationMethod: vm, Created: now.Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	listBody = cvJSON(t, signedList)

	dir := t.TempDir()
	ctxFile := cvWrite(t, dir, "context.json", []byte(cvContext))
	for _, tt := range []struct {
		name    string
		index   int
		offline bool
		want    string
		wantErr bool
	}{
		{"valid", 3, false, "  status          success  revocation " + listURL + "#3", false},
		{"revoked", 7, false, "  status          failure  revocation " + listURL + "#7: verify: credential revoked", true},
		{"offline", 7, true, "  status          skipped  revocation " + listURL + "#7: not checked", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			entry := statuslist.NewEntry(listURL, statuslist.PurposeRevocation, tt.index)
			cred := cvWrite(t, dir, tt.name+".json", cvJSON(t, ldpTestCredential(t, l, issuer, issuerDID, vm, entry.Map())))
			args := []string{"--context", cvContextURL + "=" + ctxFile, cred}
			if tt.offline {
				args = append(args, "--offline")
			}
			var out, errOut lockedBuffer
			err := credentialVerify(ctx, env{stdout: &out, stderr: &errOut}, verifyDeps{client: srv.Client()}, args)
			if gotErr := err != nil; gotErr != tt.wantErr || (err != nil && !errors.Is(err, errNotVerified)) {
				t.Errorf("credentialVerify(%s) = %v, want error %v", tt.name, err, tt.wantErr)
			}
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("stdout:\n%s\nwant it to contain %q", out.String(), tt.want)
			}
		})
	}
}
