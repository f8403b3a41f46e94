package verify

import (
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/credtest"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/jwtvc"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// fixture holds the issuers, the status lists they publish and the
// fetcher serving them.
type fixture struct {
	loader *jsonld.Loader
	ed, ec *didSigner // issuers: Ed25519 and P-256 did:key
	other  *didSigner // a third party
	holder *didSigner
	fetch  *memFetcher
}

// listURL is the URL of the list of issuer for purpose; variant tells
// apart lists of different shapes.
func (f *fixture) listURL(issuer *didSigner, variant, purpose string) string {
	name := "ed"
	if issuer == f.ec {
		name = "ec"
	}
	return "https://issuer.example/" + name + "/" + variant + "/" + purpose
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{
		loader: testLoader(t),
		ed:     newDIDSigner(t, "EdDSA"),
		ec:     newDIDSigner(t, "ES256"),
		other:  newDIDSigner(t, "EdDSA"),
		holder: newDIDSigner(t, "ES256"),
		fetch:  newMemFetcher(),
	}
	for _, iss := range []*didSigner{f.ed, f.ec} {
		for _, p := range []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension} {
			u := f.listURL(iss, "v2", p)
			f.fetch.put(u, w3cList(t, f.loader, iss, u, p, listOptions{}), "application/vc+ld+json")
			u = f.listURL(iss, "jwt", p)
			f.fetch.put(u, w3cList(t, f.loader, iss, u, p, listOptions{jwt: true}), "application/vc+jwt")
		}
	}
	for _, p := range []string{statuslist.PurposeRevocation, statuslist.PurposeSuspension} {
		u := f.listURL(f.ed, "v1", p)
		f.fetch.put(u, w3cList(t, f.loader, f.ed, u, p, listOptions{v1: true}), "application/vc+ld+json")
	}
	// Token lists: in "revoked" idxSet is INVALID, in "suspended" it is
	// SUSPENDED.
	for _, iss := range []*didSigner{f.ed, f.ec} {
		u := f.listURL(iss, "token", "revoked")
		f.fetch.put(u, tokenList(t, iss, u, statuslist.TokenInvalid, testNow.Add(time.Hour)), statuslist.MediaType)
		u = f.listURL(iss, "token", "suspended")
		f.fetch.put(u, tokenList(t, iss, u, statuslist.TokenSuspended, testNow.Add(time.Hour)), statuslist.MediaType)
	}
	return f
}

// entries are the revocation and suspension entries of the list variant
// of issuer, at indices rev and susp.
func (f *fixture) entries(issuer *didSigner, variant string, rev, susp int) []statuslist.Entry {
	r := f.listURL(issuer, variant, statuslist.PurposeRevocation)
	s := f.listURL(issuer, variant, statuslist.PurposeSuspension)
	return []statuslist.Entry{
		statuslist.NewEntry(r, statuslist.PurposeRevocation, rev),
		statuslist.NewEntry(s, statuslist.PurposeSuspension, susp),
	}
}

// tokenRef is a token status reference of issuer: list "revoked" or
// "suspended", at index idx.
func (f *fixture) tokenRef(issuer *didSigner, list string, idx int) *statuslist.TokenReference {
	return &statuslist.TokenReference{Index: idx, URI: f.listURL(issuer, "token", list)}
}

func (f *fixture) options() Options {
	return Options{Contexts: f.loader, Status: f.fetch, Now: func() time.Time { return testNow }}
}

// credentialFormat builds a credential of one format for the table.
type credentialFormat struct {
	name  string
	build func(t testing.TB, f *fixture, o credOptions) []byte
	// status builds the status options: revocation bit rev, suspension
	// bit susp.
	status func(f *fixture, o *credOptions, rev, susp int)
	// tamper changes a signed claim.
	tamper func(t testing.TB, raw []byte) []byte
	// statusChecks is how many status checks a credential with status has.
	statusChecks int
}

func tamperLDP(t testing.TB, raw []byte) []byte {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	doc["credentialSubject"].(map[string]any)["name"] = "Eve"
	return marshal(t, doc)
}

func ldpFormat(suite string, issuer func(*fixture) *didSigner, variant string) credentialFormat {
	return credentialFormat{
		name: "ldp_vc " + suite,
		build: func(t testing.TB, f *fixture, o credOptions) []byte {
			return marshal(t, ldpCredential(t, f.loader, issuer(f), suite, o))
		},
		status: func(f *fixture, o *credOptions, rev, susp int) {
			o.status = f.entries(issuer(f), variant, rev, susp)
		},
		tamper:       tamperLDP,
		statusChecks: 2,
	}
}

func jwtFormat(name string, issuer func(*fixture) *didSigner, variant string) credentialFormat {
	return credentialFormat{
		name: name,
		build: func(t testing.TB, f *fixture, o credOptions) []byte {
			return jwtCredential(t, issuer(f), o)
		},
		status: func(f *fixture, o *credOptions, rev, susp int) {
			o.status = f.entries(issuer(f), variant, rev, susp)
		},
		tamper: func(t testing.TB, raw []byte) []byte {
			return []byte(tamperJWS(t, string(raw), func(p map[string]any) {
				p["vc"].(map[string]any)["credentialSubject"].(map[string]any)["name"] = "Eve"
			}))
		},
		statusChecks: 2,
	}
}

var sdJWTFormat = credentialFormat{
	name: "dc+sd-jwt",
	build: func(t testing.TB, f *fixture, o credOptions) []byte {
		return []byte(sdJWTCredential(t, f.ec, o))
	},
	status: func(f *fixture, o *credOptions, rev, susp int) {
		switch {
		case rev == idxSet:
			o.token = f.tokenRef(f.ec, "revoked", idxSet)
		case susp == idxSet:
			o.token = f.tokenRef(f.ec, "suspended", idxSet)
		default:
			o.token = f.tokenRef(f.ec, "revoked", idxValid)
		}
	},
	tamper: func(t testing.TB, raw []byte) []byte {
		return []byte(tamperJWS(t, string(raw), func(p map[string]any) { p["vct"] = "https://issuer.example/vct/other" }))
	},
	statusChecks: 1,
}

var formats = []credentialFormat{
	ldpFormat(ldp.SuiteEdDSARDFC2022, func(f *fixture) *didSigner { return f.ed }, "v2"),
	ldpFormat(ldp.SuiteECDSARDFC2019, func(f *fixture) *didSigner { return f.ec }, "v2"),
	ldpFormat(ldp.SuiteEd25519Signature2020, func(f *fixture) *didSigner { return f.ed }, "v1"),
	jwtFormat("jwt_vc_json EdDSA", func(f *fixture) *didSigner { return f.ed }, "v2"),
	jwtFormat("jwt_vc_json ES256, JWT lists", func(f *fixture) *didSigner { return f.ec }, "jwt"),
	sdJWTFormat,
}

// statuses renders n status checks of outcome s, with the one at index
// odd (when >= 0) being other.
func statuses(n int, s string, odd int, other string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = "status=" + s
		if i == odd {
			parts[i] = "status=" + other
		}
	}
	return strings.Join(parts, " ")
}

// TestCredentialFormats runs the same scenarios over every format.
func TestCredentialFormats(t *testing.T) {
	f := newFixture(t)
	past, future := testNow.AddDate(-2, 0, 0), testNow.Add(2*time.Hour)
	for _, ff := range formats {
		n := ff.statusChecks
		suspIndex := 1
		if n == 1 {
			suspIndex = 0
		}
		for _, tt := range []struct {
			name       string
			opts       credOptions
			rev, susp  int
			tamper     bool
			wantStatus string
			wantChecks string
			wantErr    error
			wantFormat string
		}{
			{name: "valid", rev: idxValid, susp: idxValid, wantStatus: StatusSuccess,
				wantChecks: "format=success signature=success validity=success holder_binding=skipped " + statuses(n, Success, -1, "")},
			{name: "tampered", rev: idxValid, susp: idxValid, tamper: true, wantStatus: StatusInvalid,
				wantChecks: "format=success signature=failure validity=skipped holder_binding=skipped status=skipped",
				wantErr:    credential.ErrSignature},
			{name: "expired", opts: credOptions{from: past, until: testNow.Add(-2 * time.Minute)}, rev: idxValid, susp: idxValid,
				wantStatus: StatusExpired,
				wantChecks: "format=success signature=success validity=failure holder_binding=skipped " + statuses(n, Success, -1, ""),
				wantErr:    credential.ErrExpired},
			{name: "not yet valid", opts: credOptions{from: future, until: future.AddDate(1, 0, 0)}, rev: idxValid, susp: idxValid,
				wantStatus: StatusInvalid,
				wantChecks: "format=success signature=success validity=failure holder_binding=skipped " + statuses(n, Success, -1, ""),
				wantErr:    credential.ErrNotYetValid},
			{name: "revoked", rev: idxSet, susp: idxValid, wantStatus: StatusRevoked,
				wantChecks: "format=success signature=success validity=success holder_binding=skipped " + statuses(n, Success, 0, Failure),
				wantErr:    ErrRevoked},
			{name: "suspended", rev: idxValid, susp: idxSet, wantStatus: StatusSuspended,
				wantChecks: "format=success signature=success validity=success holder_binding=skipped " + statuses(n, Success, suspIndex, Failure),
				wantErr:    ErrSuspended},
		} {
			t.Run(ff.name+"/"+tt.name, func(t *testing.T) {
				o := tt.opts
				ff.status(f, &o, tt.rev, tt.susp)
				raw := ff.build(t, f, o)
				if tt.tamper {
					raw = ff.tamper(t, raw)
				}
				r, err := Credential(context.Background(), raw, f.options())
				if err != nil {
					t.Fatalf("Credential: %v", err)
				}
				if r.Status != tt.wantStatus {
					t.Errorf("Credential().Status = %s, want %s; checks %+v", r.Status, tt.wantStatus, r.Checks)
				}
				if got := checkSummary(r); got != tt.wantChecks {
					t.Errorf("Credential() checks = %s, want %s; %+v", got, tt.wantChecks, r.Checks)
				}
				if tt.wantErr == nil {
					if err := r.Err(); err != nil {
						t.Errorf("Credential().Err() = %v, want nil", err)
					}
				} else if err := r.Err(); !errors.Is(err, tt.wantErr) {
					t.Errorf("Credential().Err() = %v, want %v", err, tt.wantErr)
				}
				for _, c := range r.Checks {
					if (c.Status == Failure) != (c.Error != "") || (c.Status == Skipped) != (c.Reason != "") {
						t.Errorf("check %+v: Error set iff failure, Reason iff skipped", c)
					}
				}
				if tt.tamper {
					return
				}
				if r.Issuer == "" || r.Subject != "did:example:holder" || len(r.Types) == 0 {
					t.Errorf("Credential() issuer %q subject %q types %v, want all set", r.Issuer, r.Subject, r.Types)
				}
				name := r.Claims["name"]
				if name == nil {
					name = r.Claims["given_name"]
				}
				if name != "Amina" {
					t.Errorf("Credential().Claims = %v, want the subject's name", r.Claims)
				}
				if r.ValidFrom.IsZero() || r.ValidUntil.IsZero() {
					t.Errorf("Credential() validity %s to %s, want both set", r.ValidFrom, r.ValidUntil)
				}
			})
		}
	}
}

// TestCredentialCases covers what is not per format: trust, status list
// failures, holder binding, options.
func TestCredentialCases(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	valid := credOptions{status: f.entries(f.ed, "v2", idxValid, idxValid)}
	eddsa := func(t testing.TB, o credOptions) []byte {
		return marshal(t, ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, o))
	}
	// withList serves a revocation list built with lo at a fresh URL and
	// returns a credential whose entry names it.
	withList := func(t testing.TB, name string, lo listOptions) []byte {
		u := "https://issuer.example/ed/" + name
		f.fetch.put(u, w3cList(t, f.loader, f.ed, u, statuslist.PurposeRevocation, lo), "application/vc+ld+json")
		return eddsa(t, credOptions{status: []statuslist.Entry{statuslist.NewEntry(u, statuslist.PurposeRevocation, idxValid)}})
	}
	bound := func(t testing.TB) string {
		return sdJWTCredential(t, f.ec, credOptions{holder: f.holder, token: f.tokenRef(f.ec, "revoked", idxValid)})
	}
	for _, tt := range []struct {
		name       string
		raw        func(t testing.TB) []byte
		opts       func(*Options)
		wantStatus string
		wantChecks string
		wantErr    error
		wantText   string // in the failed check's Error
	}{
		{name: "trusted issuer",
			raw:        func(t testing.TB) []byte { return eddsa(t, valid) },
			opts:       func(o *Options) { o.TrustedIssuers = []string{f.other.did, f.ed.did} },
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success issuer=success validity=success holder_binding=skipped status=success status=success"},
		{name: "untrusted issuer",
			raw:        func(t testing.TB) []byte { return eddsa(t, valid) },
			opts:       func(o *Options) { o.TrustedIssuers = []string{f.other.did} },
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success issuer=failure validity=success holder_binding=skipped status=skipped",
			wantErr:    ErrUntrustedIssuer, wantText: "not a trusted issuer"},
		{name: "untrusted JWT issuer",
			raw:        func(t testing.TB) []byte { return jwtCredential(t, f.ed, credOptions{}) },
			opts:       func(o *Options) { o.TrustedIssuers = []string{f.other.did} },
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success issuer=failure validity=success holder_binding=skipped status=skipped",
			wantErr:    ErrUntrustedIssuer},
		{name: "list by another issuer",
			raw:        func(t testing.TB) []byte { return withList(t, "other", listOptions{signer: f.other}) },
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    ErrStatusList, wantText: "not by the credential's issuer"},
		{name: "list claiming the issuer, signed by another",
			raw: func(t testing.TB) []byte {
				return withList(t, "forged", listOptions{signer: f.other, issuer: f.ed.did})
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    credential.ErrSignature, wantText: "proof"},
		{name: "list past validUntil",
			raw: func(t testing.TB) []byte {
				return withList(t, "stale", listOptions{validUntil: testNow.Add(-time.Hour)})
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    credential.ErrExpired, wantText: "list credential"},
		{name: "unreachable list",
			raw: func(t testing.TB) []byte {
				return eddsa(t, credOptions{status: []statuslist.Entry{statuslist.NewEntry("https://issuer.example/gone", statuslist.PurposeRevocation, 1)}})
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    ErrStatusUnavailable, wantText: "status list unavailable"},
		{name: "entry naming another list",
			raw: func(t testing.TB) []byte {
				u := f.listURL(f.ed, "v2", statuslist.PurposeRevocation)
				f.fetch.put("https://issuer.example/alias", f.fetch.docs[u].body, "application/vc+ld+json")
				return eddsa(t, credOptions{status: []statuslist.Entry{statuslist.NewEntry("https://issuer.example/alias", statuslist.PurposeRevocation, 1)}})
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    statuslist.ErrMismatch},
		{name: "entry with the wrong purpose",
			raw: func(t testing.TB) []byte {
				u := f.listURL(f.ed, "v2", statuslist.PurposeRevocation)
				return eddsa(t, credOptions{status: []statuslist.Entry{statuslist.NewEntry(u, statuslist.PurposeSuspension, 1)}})
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    statuslist.ErrMismatch},
		{name: "offline: status skipped",
			raw:        func(t testing.TB) []byte { return eddsa(t, valid) },
			opts:       func(o *Options) { o.Status = nil },
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=skipped status=skipped"},
		{name: "no status entry",
			raw:        func(t testing.TB) []byte { return eddsa(t, credOptions{}) },
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=skipped"},
		{name: "suite not allowed",
			raw:        func(t testing.TB) []byte { return eddsa(t, valid) },
			opts:       func(o *Options) { o.Suites = []string{ldp.SuiteECDSARDFC2019} },
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=failure validity=skipped holder_binding=skipped status=skipped",
			wantErr:    ldp.ErrUnsupportedSuite},
		{name: "unknown DID method",
			raw: func(t testing.TB) []byte {
				doc := ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, credOptions{})
				doc["issuer"] = "did:web:issuer.example"
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=failure validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrSignature},
		{name: "issuer not the key's controller",
			raw: func(t testing.TB) []byte {
				doc := map[string]any{
					"@context": []any{jsonld.CredentialsV2}, "type": []any{"VerifiableCredential"},
					"issuer": f.other.did, "credentialSubject": map[string]any{"id": "did:example:holder"},
				}
				signed, err := ldp.Sign(ctx, f.loader, doc, f.ed, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: testNow})
				if err != nil {
					t.Fatal(err)
				}
				return marshal(t, signed)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=failure validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrSignature, wantText: "controlled by"},
		{name: "KB-JWT",
			raw: func(t testing.TB) []byte {
				return []byte(present(t, bound(t), f.holder, "n-123", "https://verifier.example"))
			},
			opts: func(o *Options) {
				o.RequireHolderBinding, o.Nonce, o.Audience = true, "n-123", "https://verifier.example"
			},
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=success status=success"},
		{name: "KB-JWT with the wrong nonce",
			raw: func(t testing.TB) []byte {
				return []byte(present(t, bound(t), f.holder, "n-old", "https://verifier.example"))
			},
			opts: func(o *Options) {
				o.RequireHolderBinding, o.Nonce, o.Audience = true, "n-123", "https://verifier.example"
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=failure status=success",
			wantErr:    credential.ErrHolderBinding, wantText: "nonce"},
		{name: "KB-JWT by another key",
			raw: func(t testing.TB) []byte {
				return []byte(present(t, bound(t), f.ec, "n-123", "https://verifier.example"))
			},
			opts:       func(o *Options) { o.Nonce, o.Audience = "n-123", "https://verifier.example" },
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=failure status=success",
			wantErr:    credential.ErrHolderBinding},
		{name: "bound SD-JWT without KB-JWT, required",
			raw: func(t testing.TB) []byte { return []byte(bound(t)) },
			opts: func(o *Options) {
				o.RequireHolderBinding, o.Nonce, o.Audience = true, "n-123", "https://verifier.example"
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=failure status=success",
			wantErr:    credential.ErrHolderBinding},
		{name: "bound SD-JWT without KB-JWT, not required",
			raw:        func(t testing.TB) []byte { return []byte(bound(t)) },
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=success"},
		{name: "jwt_vc_json with binding required",
			raw:        func(t testing.TB) []byte { return jwtCredential(t, f.ed, credOptions{}) },
			opts:       func(o *Options) { o.RequireHolderBinding, o.Nonce, o.Audience = true, "n", "a" },
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=failure status=skipped",
			wantErr:    credential.ErrHolderBinding},
		{name: "expired status list token",
			raw: func(t testing.TB) []byte {
				u := tokenListURL + "/expired"
				f.fetch.put(u, tokenList(t, f.ec, u, statuslist.TokenValid, testNow.Add(-time.Second)), statuslist.MediaType)
				return []byte(sdJWTCredential(t, f.ec, credOptions{token: &statuslist.TokenReference{Index: 1, URI: u}}))
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    credential.ErrExpired},
		{name: "status list token by another issuer",
			raw: func(t testing.TB) []byte {
				u := tokenListURL + "/other"
				f.fetch.put(u, tokenList(t, f.other, u, statuslist.TokenValid, testNow.Add(time.Hour)), statuslist.MediaType)
				return []byte(sdJWTCredential(t, f.ec, credOptions{token: &statuslist.TokenReference{Index: 1, URI: u}}))
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    credential.ErrSignature},
		{name: "unreachable status list token",
			raw: func(t testing.TB) []byte {
				return []byte(sdJWTCredential(t, f.ec, credOptions{token: &statuslist.TokenReference{Index: 1, URI: tokenListURL + "/gone"}}))
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    ErrStatusUnavailable},
		{name: "application-specific token status",
			raw: func(t testing.TB) []byte {
				u := tokenListURL + "/three"
				f.fetch.put(u, tokenList(t, f.ec, u, 3, testNow.Add(time.Hour)), statuslist.MediaType)
				return []byte(sdJWTCredential(t, f.ec, credOptions{token: &statuslist.TokenReference{Index: idxSet, URI: u}}))
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    ErrStatusValue},
		{name: "SD-JWT with a changed header",
			raw: func(t testing.TB) []byte {
				return []byte(tamperHeader(t, sdJWTCredential(t, f.ec, credOptions{}), "vc+sd-jwt"))
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=failure validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrSignature},
		{name: "garbage",
			raw:        func(testing.TB) []byte { return []byte("not a credential") },
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed},
		{name: "JSON without proof",
			raw: func(testing.TB) []byte {
				return []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"issuer":"did:example:x"}`)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "no proof"},
		{name: "JWT without vc",
			raw:        func(testing.TB) []byte { return []byte("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln") },
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "no vc claim"},
		{name: "SD-JWT of another typ",
			raw: func(testing.TB) []byte {
				return []byte("eyJhbGciOiJFUzI1NiIsInR5cCI6ImtiK2p3dCJ9.eyJpc3MiOiJ4In0.c2ln~")
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "typ"},
		{name: "unknown context",
			raw: func(t testing.TB) []byte {
				doc := ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, credOptions{})
				return marshal(t, doc)
			},
			opts:       func(o *Options) { o.Contexts = nil }, // the bundled contexts lack the test context
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=failure validity=skipped holder_binding=skipped status=skipped",
			wantErr:    jsonld.ErrUnknownContext},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := f.options()
			if tt.opts != nil {
				tt.opts(&opts)
			}
			r, err := Credential(ctx, tt.raw(t), opts)
			if err != nil {
				t.Fatalf("Credential: %v", err)
			}
			if r.Status != tt.wantStatus {
				t.Errorf("Credential().Status = %s, want %s; checks %+v", r.Status, tt.wantStatus, r.Checks)
			}
			if got := checkSummary(r); got != tt.wantChecks {
				t.Errorf("Credential() checks = %s, want %s; %+v", got, tt.wantChecks, r.Checks)
			}
			if tt.wantErr != nil && !errors.Is(r.Err(), tt.wantErr) {
				t.Errorf("Credential().Err() = %v, want %v", r.Err(), tt.wantErr)
			}
			if tt.wantErr == nil && r.Err() != nil {
				t.Errorf("Credential().Err() = %v, want nil", r.Err())
			}
			if tt.wantText != "" && !strings.Contains(r.Err().Error(), tt.wantText) {
				t.Errorf("Credential().Err() = %v, want it to mention %q", r.Err(), tt.wantText)
			}
		})
	}
}

// tamperHeader changes the typ of an SD-JWT's issuer JWT.
func tamperHeader(t testing.TB, s, typ string) string {
	t.Helper()
	jwt, rest, _ := strings.Cut(s, "~")
	parts := strings.Split(jwt, ".")
	h := map[string]any{}
	b, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		t.Fatal(err)
	}
	h["typ"] = typ
	parts[0] = base64.RawURLEncoding.EncodeToString(marshal(t, h))
	return strings.Join(parts, ".") + "~" + rest
}

func TestCredentialLegacyFormatName(t *testing.T) {
	f := newFixture(t)
	raw := tamperHeader(t, sdJWTCredential(t, f.ec, credOptions{}), "vc+sd-jwt")
	r, err := Credential(context.Background(), []byte(raw), f.options())
	if err != nil {
		t.Fatal(err)
	}
	if r.Format != credential.FormatSDJWTVCLegacy {
		t.Errorf("Credential(vc+sd-jwt).Format = %q, want %q", r.Format, credential.FormatSDJWTVCLegacy)
	}
}

// TestStatusNotFetchedForBadSignature: a credential whose signature does
// not verify never makes the verifier fetch the URL it names.
func TestStatusNotFetchedForBadSignature(t *testing.T) {
	f := newFixture(t)
	o := credOptions{status: f.entries(f.ed, "v2", idxValid, idxValid)}
	raw := tamperLDP(t, marshal(t, ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, o)))
	before := len(f.fetch.fetches)
	r, err := Credential(context.Background(), raw, f.options())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != StatusInvalid || len(f.fetch.fetches) != before {
		t.Errorf("Credential(tampered) = %s with %d fetches, want INVALID with none", r.Status, len(f.fetch.fetches)-before)
	}
}

// TestStatusAccept checks the Accept headers and that a list shared by two
// entries is fetched once per verification.
func TestStatusAccept(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	u := f.listURL(f.ed, "v2", statuslist.PurposeRevocation)
	o := credOptions{status: []statuslist.Entry{
		statuslist.NewEntry(u, statuslist.PurposeRevocation, 1),
		statuslist.NewEntry(u, statuslist.PurposeRevocation, 2),
	}}
	f.fetch.fetches = nil
	r, err := Credential(ctx, marshal(t, ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, o)), f.options())
	if err != nil || r.Status != StatusSuccess {
		t.Fatalf("Credential = %s, %v; want SUCCESS (%+v)", r.Status, err, r.Checks)
	}
	if want := []string{AcceptListCredential + " " + u}; !equal(f.fetch.fetches, want) {
		t.Errorf("fetches = %q, want %q", f.fetch.fetches, want)
	}
	f.fetch.fetches = nil
	ref := f.tokenRef(f.ec, "revoked", idxValid)
	if _, err := Credential(ctx, []byte(sdJWTCredential(t, f.ec, credOptions{token: ref})), f.options()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"application/statuslist+jwt " + ref.URI}; !equal(f.fetch.fetches, want) {
		t.Errorf("fetches = %q, want %q", f.fetch.fetches, want)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCredentialOptions(t *testing.T) {
	_, err := Credential(context.Background(), []byte("{}"), Options{RequireHolderBinding: true})
	if err == nil {
		t.Errorf("Credential(RequireHolderBinding without Nonce) = nil error, want one")
	}
}

// TestCredentialDefaults verifies a did:key credential with the zero
// Options: bundled contexts, offline DID resolution, the real clock.
func TestCredentialDefaults(t *testing.T) {
	l := jsonld.Bundled()
	issuer := newDIDSigner(t, "EdDSA")
	now := time.Now()
	doc := map[string]any{
		"@context": []any{jsonld.CredentialsV2}, "type": []any{"VerifiableCredential"},
		"issuer": issuer.did, "validFrom": now.Add(-time.Hour).UTC().Format(time.RFC3339),
		"credentialSubject": map[string]any{"id": "did:example:holder"},
	}
	signed, err := ldp.Sign(context.Background(), l, doc, issuer, ldp.SignOptions{Suite: ldp.SuiteEdDSARDFC2022, Created: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range [][]byte{marshal(t, signed), jwtCredential(t, issuer, credOptions{from: now.Add(-time.Hour), until: now.Add(time.Hour)})} {
		r, err := Credential(context.Background(), raw, Options{})
		if err != nil || r.Status != StatusSuccess {
			t.Errorf("Credential(zero Options) = %s, %v, want SUCCESS; %+v", r.Status, err, r.Checks)
		}
	}
}

func TestResultJSON(t *testing.T) {
	f := newFixture(t)
	raw := jwtCredential(t, f.ed, credOptions{status: f.entries(f.ed, "v2", idxSet, idxValid)})
	r, err := Credential(context.Background(), raw, f.options())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Status string `json:"status"`
		Format string `json:"format"`
		Checks []struct {
			Name, Status, Entry, Error, Reason string
		} `json:"checks"`
		ValidFrom time.Time `json:"validFrom"`
	}
	if err := json.Unmarshal(marshal(t, r), &got); err != nil {
		t.Fatal(err)
	}
	if got.Status != StatusRevoked || got.Format != credential.FormatJWTVC || got.ValidFrom.IsZero() {
		t.Errorf("JSON status %q format %q validFrom %s, want REVOKED jwt_vc_json and a date", got.Status, got.Format, got.ValidFrom)
	}
	last := got.Checks[len(got.Checks)-2]
	if last.Name != CheckStatus || last.Status != Failure || !strings.HasPrefix(last.Entry, "revocation https://") || !strings.Contains(last.Error, "revoked") {
		t.Errorf("JSON revocation check = %+v, want a failure naming the entry", last)
	}
}

// issuerKeyring resolves the keys of issuers by kid and records which
// issuers' keys were asked for.
type issuerKeyring struct {
	mu    sync.Mutex
	keys  map[string][]*didSigner // issuer → its keys
	asked []string
}

func (k *issuerKeyring) ResolveKey(_ context.Context, issuer, kid string) (crypto.PublicKey, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.asked = append(k.asked, issuer)
	for _, s := range k.keys[issuer] {
		if s.kid == kid {
			return s.Public(), nil
		}
	}
	return nil, fmt.Errorf("no key %q of %q", kid, issuer)
}

// TestStatusListIssuerExact: a status list counts only when its issuer is
// exactly the credential's, and a JWT list is verified only with the keys
// of the credential's issuer. The issuer identifier has a path, as
// Sanad's does (<public_url>/issuer).
func TestStatusListIssuerExact(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	const (
		issuerURL = "https://issuer.example/tenant"
		otherURL  = "https://other.example"
		webDID    = "did:web:issuer.example:tenant" // what the removed heuristic related to issuerURL
	)
	issuerKey := &didSigner{Signer: credtest.NewSigner(t, "ES256", "unused"), did: issuerURL, kid: "issuer-es256"}
	otherKey := &didSigner{Signer: credtest.NewSigner(t, "EdDSA", "unused"), did: otherURL, kid: "other-ed25519"}
	webKey := &didSigner{Signer: credtest.NewSigner(t, "EdDSA", "unused"), did: webDID, kid: webDID + "#list-1"}

	pub, err := jwk.Import(webKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := did.NewDocument(webDID, []did.VerificationMethod{{ID: "#list-1", Type: did.TypeMultikey, Key: pub, Relationships: []string{did.AssertionMethod}}})
	if err != nil {
		t.Fatal(err)
	}
	trust, err := did.NewTrustList(doc)
	if err != nil {
		t.Fatal(err)
	}
	methods := did.NewResolver(did.KeyMethod{}, did.JWKMethod{}, did.NewWebMethod(did.WebConfig{Trust: trust, Offline: true}))

	// bareJWTList is a JWT list whose vc claim leaves issuer, id and the
	// dates to iss, jti, nbf and exp (VCDM 1.1 section 6.3.1).
	bareJWTList := func(t testing.TB, u, purpose string) []byte {
		bits := statuslist.NewBitstring(statuslist.DefaultSize)
		if err := bits.Set(idxSet, true); err != nil {
			t.Fatal(err)
		}
		encoded, err := bits.Encode()
		if err != nil {
			t.Fatal(err)
		}
		payload := marshal(t, map[string]any{
			"iss": issuerURL, "jti": u, "sub": u + "#list",
			"nbf": testNow.Add(-time.Hour).Unix(), "exp": testNow.Add(time.Hour).Unix(),
			"vc": map[string]any{
				"@context": []any{jwtvc.ContextV1, statuslist.ContextStatusV1},
				"type":     []any{"VerifiableCredential", statuslist.TypeListCredential},
				"credentialSubject": map[string]any{
					"type": statuslist.TypeList, "statusPurpose": purpose, "encodedList": encoded,
				},
			},
		})
		jwt, err := issuerKey.SignJWS(ctx, payload, map[string]any{"typ": "JWT"})
		if err != nil {
			t.Fatal(err)
		}
		return []byte(jwt)
	}

	for _, tt := range []struct {
		name    string
		purpose string // of the list and the entry; empty: revocation
		index   int
		list    func(t testing.TB, u, purpose string) []byte
		want    string
		wantErr error
	}{
		{name: "JWT list of the issuer", index: idxValid, want: StatusSuccess,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, issuerKey, u, p, listOptions{jwt: true})
			}},
		{name: "JWT list of the issuer, revoked", index: idxSet, want: StatusRevoked, wantErr: ErrRevoked,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, issuerKey, u, p, listOptions{jwt: true})
			}},
		{name: "JWT list of the issuer, suspended", purpose: statuslist.PurposeSuspension, index: idxSet, want: StatusSuspended, wantErr: ErrSuspended,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, issuerKey, u, p, listOptions{jwt: true})
			}},
		{name: "JWT list with iss and jti only", index: idxSet, want: StatusRevoked, wantErr: ErrRevoked, list: bareJWTList},
		{name: "Data Integrity list of the issuer's did:web", index: idxValid, want: StatusInvalid, wantErr: ErrStatusList,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, webKey, u, p, listOptions{})
			}},
		{name: "JWT list of the host without the path", index: idxValid, want: StatusInvalid, wantErr: ErrStatusList,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, issuerKey, u, p, listOptions{jwt: true, issuer: "https://issuer.example"})
			}},
		{name: "JWT list of the issuer with a trailing slash", index: idxValid, want: StatusInvalid, wantErr: ErrStatusList,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, issuerKey, u, p, listOptions{jwt: true, issuer: issuerURL + "/"})
			}},
		{name: "JWT list of another issuer", index: idxValid, want: StatusInvalid, wantErr: ErrStatusList,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, otherKey, u, p, listOptions{jwt: true})
			}},
		{name: "JWT list claiming the issuer, signed by another", index: idxValid, want: StatusInvalid, wantErr: credential.ErrSignature,
			list: func(t testing.TB, u, p string) []byte {
				return w3cList(t, f.loader, otherKey, u, p, listOptions{jwt: true, issuer: issuerURL})
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			purpose := tt.purpose
			if purpose == "" {
				purpose = statuslist.PurposeRevocation
			}
			u := "https://issuer.example/tenant/status/" + strings.ReplaceAll(tt.name, " ", "-")
			f.fetch.put(u, tt.list(t, u, purpose), "application/jwt")
			cred := jwtCredential(t, issuerKey, credOptions{status: []statuslist.Entry{statuslist.NewEntry(u, purpose, tt.index)}})
			keys := &issuerKeyring{keys: map[string][]*didSigner{issuerURL: {issuerKey}, otherURL: {otherKey}}}
			opts := f.options()
			opts.Methods, opts.Keys = methods, keys
			r, err := Credential(ctx, cred, opts)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tt.want {
				t.Errorf("Credential() = %s, want %s; %+v", r.Status, tt.want, r.Checks)
			}
			if tt.wantErr == nil {
				if err := r.Err(); err != nil {
					t.Errorf("Credential().Err() = %v, want nil", err)
				}
			} else if err := r.Err(); !errors.Is(err, tt.wantErr) {
				t.Errorf("Credential().Err() = %v, want %v", err, tt.wantErr)
			}
			if err := r.Err(); errors.Is(tt.wantErr, ErrStatusList) && (err == nil || !strings.Contains(err.Error(), "not by the credential's issuer")) {
				t.Errorf("Credential().Err() = %v, want it to name the issuer mismatch", err)
			}
			for _, iss := range keys.asked {
				if iss != issuerURL {
					t.Errorf("a key of %q was resolved, want only the credential issuer's (%s)", iss, issuerURL)
				}
			}
		})
	}
}
