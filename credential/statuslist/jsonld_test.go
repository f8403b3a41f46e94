package statuslist_test

import (
	"strings"
	"testing"

	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/statuslist"
)

// TestJSONLD checks that list credentials and entries expand, with the
// bundled contexts only, to the Bitstring Status List vocabulary: what an
// ldp_vc proof signs.
func TestJSONLD(t *testing.T) {
	const status = "https://www.w3.org/ns/credentials/status#"
	entry := statuslist.NewEntry(listURL, "revocation", 5).Map()
	tests := []struct {
		name string
		doc  any
		want []string
	}{
		{"list credential, VCDM 2.0", listCredential(t, "revocation", true, 3), []string{
			"<" + status + "BitstringStatusListCredential>",
			"<" + status + "BitstringStatusList>",
			"<" + status + "encodedList> \"uH4sI",
			"^^<https://w3id.org/security#multibase>",
			"<" + status + "statusPurpose> \"revocation\"",
			"<https://www.w3.org/2018/credentials#validFrom>",
		}},
		{"list credential, VCDM 1.1", listCredential(t, "suspension", false, 3), []string{
			"<" + status + "BitstringStatusListCredential>",
			"<" + status + "statusPurpose> \"suspension\"",
			"<https://www.w3.org/2018/credentials#issuanceDate>",
		}},
		{"entry, VCDM 2.0", map[string]any{
			"@context": []any{statuslist.ContextV2}, "type": []any{"VerifiableCredential"}, "issuer": issuerDID,
			"validFrom": "2025-03-01T12:00:00Z", "credentialSubject": map[string]any{"id": "did:example:holder"}, "credentialStatus": entry,
		}, []string{
			"<" + listURL + "#5> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <" + status + "BitstringStatusListEntry>",
			"<" + status + "statusListCredential> <" + listURL + ">",
			"<" + status + "statusListIndex> \"5\"",
		}},
		{"entry, VCDM 1.1", map[string]any{
			"@context": []any{statuslist.ContextV1, statuslist.ContextStatusV1}, "type": []any{"VerifiableCredential"}, "issuer": issuerDID,
			"issuanceDate": "2025-03-01T12:00:00Z", "credentialSubject": map[string]any{"id": "did:example:holder"}, "credentialStatus": []any{entry},
		}, []string{
			"<" + status + "statusListIndex> \"5\"",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonld.Bundled().Canonicalize(roundTrip(t, tt.doc).(map[string]any))
			if err != nil {
				t.Fatalf("Canonicalize(%s) = %v", tt.name, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("Canonicalize(%s) = %s, want it to contain %s", tt.name, got, w)
				}
			}
		})
	}
}
