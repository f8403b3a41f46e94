package verify

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// relabel is an inline context standing for the test template context
// with schema.org/name under another term, "nom": a credential signed with
// "name" still verifies with "nom" in its place, since the RDF is the
// same, while its JSON says otherwise.
var relabel = map[string]any{
	"@version":       1.1,
	"nom":            "https://schema.org/name",
	"TestCredential": "https://sanad.example/vocab#TestCredential",
}

// TestContextValidation: an ldp_vc credential (or status list credential)
// whose @context, its proof's or an embedded one, holds anything but
// context URLs fails the format check, unless Options.AllowInlineContexts.
func TestContextValidation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	signed := func(t testing.TB) map[string]any {
		return ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, credOptions{})
	}
	for _, tt := range []struct {
		name       string
		raw        func(t testing.TB) []byte
		allow      bool
		wantStatus string
		wantChecks string
		wantErr    error
		wantText   string
	}{
		{name: "context URLs",
			raw:        func(t testing.TB) []byte { return marshal(t, signed(t)) },
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=skipped"},
		{name: "inline context re-labelling a claim",
			raw:        func(t testing.TB) []byte { return marshal(t, relabelled(t, signed(t))) },
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "@context[1] is an object"},
		{name: "inline context re-labelling a claim, allowed",
			raw:   func(t testing.TB) []byte { return marshal(t, relabelled(t, signed(t))) },
			allow: true,
			// The signature verifies: the JSON says "nom", the issuer
			// signed "name". This is what the check refuses by default.
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=skipped"},
		{name: "single inline context",
			raw: func(t testing.TB) []byte {
				doc := signed(t)
				doc["@context"] = relabel
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "@context is an object"},
		{name: "null context",
			raw: func(t testing.TB) []byte {
				doc := signed(t)
				doc["@context"] = []any{jsonld.CredentialsV2, nil, testContextURL}
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "@context[1] is null"},
		{name: "relative context URL",
			raw: func(t testing.TB) []byte {
				doc := signed(t)
				doc["@context"] = []any{jsonld.CredentialsV2, "contexts/test/v1"}
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "not an absolute URL"},
		{name: "inline context in the proof",
			raw: func(t testing.TB) []byte {
				doc := signed(t)
				doc["proof"].(map[string]any)["@context"] = []any{jsonld.CredentialsV2, relabel}
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "proof.@context[1] is an object"},
		{name: "inline context in a proof array",
			raw: func(t testing.TB) []byte {
				doc := signed(t)
				p := doc["proof"].(map[string]any)
				p["@context"] = relabel
				doc["proof"] = []any{p}
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "proof[0].@context is an object"},
		{name: "context embedded in a claim",
			raw: func(t testing.TB) []byte {
				doc := signed(t)
				s := doc["credentialSubject"].(map[string]any)
				s["@context"] = relabel
				s["nom"] = s["name"]
				delete(s, "name")
				return marshal(t, doc)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=failure signature=skipped validity=skipped holder_binding=skipped status=skipped",
			wantErr:    credential.ErrMalformed, wantText: "credentialSubject.@context is an object"},
		{name: "status list with an inline context",
			raw: func(t testing.TB) []byte {
				return withInlineList(t, f)
			},
			wantStatus: StatusInvalid,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=failure",
			wantErr:    ErrStatusList, wantText: "@context[1] is an object"},
		{name: "status list with an inline context, allowed",
			raw:        func(t testing.TB) []byte { return withInlineList(t, f) },
			allow:      true,
			wantStatus: StatusSuccess,
			wantChecks: "format=success signature=success validity=success holder_binding=skipped status=success"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := f.options()
			opts.AllowInlineContexts = tt.allow
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
			switch {
			case tt.wantErr == nil && r.Err() != nil:
				t.Errorf("Credential().Err() = %v, want nil", r.Err())
			case tt.wantErr != nil && !errors.Is(r.Err(), tt.wantErr):
				t.Errorf("Credential().Err() = %v, want %v", r.Err(), tt.wantErr)
			case tt.wantText != "" && !strings.Contains(r.Err().Error(), tt.wantText):
				t.Errorf("Credential().Err() = %v, want it to mention %q", r.Err(), tt.wantText)
			}
		})
	}
}

// relabelled is doc with its template context replaced by relabel and the
// subject's "name" by "nom": the same RDF, other JSON.
func relabelled(t testing.TB, doc map[string]any) map[string]any {
	t.Helper()
	doc["@context"] = []any{jsonld.CredentialsV2, relabel}
	s := doc["credentialSubject"].(map[string]any)
	s["nom"] = s["name"]
	delete(s, "name")
	return doc
}

// withInlineList serves a revocation list of f.ed whose @context has an
// empty inline context after the base one (which changes no RDF, so its
// proof still verifies), and returns a credential with an entry in it.
func withInlineList(t testing.TB, f *fixture) []byte {
	t.Helper()
	u := "https://issuer.example/ed/inline-context"
	var list map[string]any
	if err := json.Unmarshal(w3cList(t, f.loader, f.ed, u, statuslist.PurposeRevocation, listOptions{}), &list); err != nil {
		t.Fatal(err)
	}
	list["@context"] = append(list["@context"].([]any), map[string]any{})
	f.fetch.put(u, marshal(t, list), "application/vc+ld+json")
	entry := statuslist.NewEntry(u, statuslist.PurposeRevocation, idxValid)
	return marshal(t, ldpCredential(t, f.loader, f.ed, ldp.SuiteEdDSARDFC2022, credOptions{status: []statuslist.Entry{entry}}))
}
