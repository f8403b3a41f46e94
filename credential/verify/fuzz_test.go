package verify

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// FuzzCredential feeds raw input to Credential with no status fetcher (no
// network): it must never panic, always report a known status with the
// format check first, and never report SUCCESS without a verified
// signature.
func FuzzCredential(f *testing.F) {
	fx := newFixture(f)
	valid := credOptions{status: fx.entries(fx.ed, "v2", idxValid, idxSet)}
	for _, suite := range []string{ldp.SuiteEdDSARDFC2022, ldp.SuiteEd25519Signature2020} {
		f.Add(marshal(f, ldpCredential(f, fx.loader, fx.ed, suite, valid)))
	}
	f.Add(marshal(f, ldpCredential(f, fx.loader, fx.ec, ldp.SuiteECDSARDFC2019, credOptions{})))
	f.Add(marshal(f, relabelled(f, ldpCredential(f, fx.loader, fx.ed, ldp.SuiteEdDSARDFC2022, credOptions{}))))
	f.Add(jwtCredential(f, fx.ed, valid))
	sd := sdJWTCredential(f, fx.ec, credOptions{holder: fx.holder, token: fx.tokenRef(fx.ec, "revoked", idxValid)})
	f.Add([]byte(sd))
	f.Add([]byte(present(f, sd, fx.holder, "n", "https://verifier.example")))
	for _, s := range []string{
		"", " ", "{}", "[]", "null", `{"proof":{}}`, `{"proof":null,"issuer":{"id":1}}`,
		`{"@context":"https://www.w3.org/ns/credentials/v2","issuer":"did:key:z","credentialSubject":[],"proof":{"type":"DataIntegrityProof"}}`,
		`{"@context":["https://www.w3.org/ns/credentials/v2",{"a":"b"},null,"rel"],"issuer":"did:key:z","credentialSubject":{"@context":{}},"proof":{"@context":[{}]}}`,
		"a.b.c", "a.b.c~", "~", "~~~", "eyJ9.eyJ9.", "eyJhbGciOiJFUzI1NiJ9.eyJ2YyI6e319.c2ln",
		"eyJhbGciOiJFUzI1NiIsInR5cCI6ImRjK3NkLWp3dCJ9.eyJpc3MiOiJ4In0.c2ln~WyJhIiwiYiJd~",
	} {
		f.Add([]byte(s))
	}
	opts := Options{Contexts: fx.loader, Now: fx.options().Now}
	known := []string{StatusSuccess, StatusInvalid, StatusExpired, StatusRevoked, StatusSuspended}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Credential(context.Background(), raw, opts)
		if err != nil {
			t.Fatalf("Credential: %v", err)
		}
		if !slices.Contains(known, r.Status) {
			t.Fatalf("Credential().Status = %q", r.Status)
		}
		if len(r.Checks) == 0 || r.Checks[0].Name != CheckFormat {
			t.Fatalf("Credential() checks %+v, want format first", r.Checks)
		}
		sig, ok := r.Check(CheckSignature)
		if r.Status == StatusSuccess && (!ok || sig.Status != Success) {
			t.Fatalf("Credential() = SUCCESS with signature check %+v", sig)
		}
		for _, c := range r.Checks {
			if c.Status == Failure && c.Err == nil {
				t.Fatalf("failed check %+v has no Err", c)
			}
		}
	})
}

// FuzzStatusList feeds a fetched status list (the body of a W3C list
// credential, JSON or JWT, or of a status list token) to the status
// checks of valid credentials: it must never panic, and a list that does
// not verify must never decide the status.
func FuzzStatusList(f *testing.F) {
	fx := newFixture(f)
	const u = "https://issuer.example/fuzz/list"
	entry := []statuslist.Entry{statuslist.NewEntry(u, statuslist.PurposeRevocation, idxSet)}
	w3c := marshal(f, ldpCredential(f, fx.loader, fx.ed, ldp.SuiteEdDSARDFC2022, credOptions{status: entry}))
	jwt := jwtCredential(f, fx.ed, credOptions{status: entry})
	sd := []byte(sdJWTCredential(f, fx.ed, credOptions{token: &statuslist.TokenReference{Index: idxSet, URI: u}}))
	f.Add(w3cList(f, fx.loader, fx.ed, u, statuslist.PurposeRevocation, listOptions{}))
	f.Add(w3cList(f, fx.loader, fx.ed, u, statuslist.PurposeRevocation, listOptions{jwt: true}))
	f.Add(w3cList(f, fx.loader, fx.other, u, statuslist.PurposeRevocation, listOptions{}))
	f.Add(w3cList(f, fx.loader, fx.other, u, statuslist.PurposeRevocation, listOptions{jwt: true}))
	f.Add(w3cList(f, fx.loader, fx.other, u, statuslist.PurposeRevocation, listOptions{jwt: true, issuer: fx.ed.did}))
	f.Add(tokenList(f, fx.ed, u, statuslist.TokenSuspended, testNow.Add(time.Hour)))
	for _, s := range []string{"", "{}", "[]", "a.b.c", `{"proof":{},"issuer":"x"}`, "eyJ9.eyJ9.c2ln"} {
		f.Add([]byte(s))
	}
	known := []string{StatusSuccess, StatusInvalid, StatusRevoked, StatusSuspended}
	f.Fuzz(func(t *testing.T, body []byte) {
		fetch := newMemFetcher()
		fetch.put(u, body, "")
		opts := fx.options()
		opts.Status = fetch
		for _, raw := range [][]byte{w3c, jwt, sd} {
			r, err := Credential(context.Background(), raw, opts)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := r.Check(CheckStatus)
			if !ok || !slices.Contains(known, r.Status) {
				t.Fatalf("Credential() = %s with checks %+v", r.Status, r.Checks)
			}
			if c.Status == Skipped {
				t.Fatalf("status check skipped: %+v", c)
			}
		}
	})
}
