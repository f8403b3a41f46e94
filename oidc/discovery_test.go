package oidc

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"testing"
)

var discoveryUpdate = flag.Bool("update", false, "rewrite the discovery golden files")

func TestDiscoveryGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		opts   []func(*Config)
	}{
		{name: "default", golden: "discovery.golden.json"},
		{name: "fapi2", golden: "discovery-fapi2.golden.json", opts: []func(*Config){func(c *Config) {
			c.Profile = ProfileFAPI2
			c.Languages = []string{"ara", "eng"}
		}}},
		// The authorization server of a credential issuer: the
		// pre-authorized grant, anonymous access and public clients.
		{name: "issuance", golden: "discovery-issuance.golden.json", opts: []func(*Config){func(c *Config) {
			c.CredentialGrants = &cgGrants{}
			c.Authn = cgAuthn{}
			c.CredentialConfigurationIDs = []string{"NationalID_SDJWT"}
		}}},
		{name: "no credential issuer", golden: "discovery-oidc.golden.json", opts: []func(*Config){func(c *Config) {
			c.CredentialIssuer, c.CredentialScopes = "", nil
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tkNewEnv(t, tt.opts...)
			oidcDoc := e.do(httptestGet(PathDiscoveryOIDC))
			asDoc := e.do(httptestGet(PathDiscoveryAS))
			for _, w := range []interface {
				Result() *http.Response
			}{oidcDoc, asDoc} {
				res := w.Result()
				if res.StatusCode != 200 || res.Header.Get("Cache-Control") != "public, max-age=300" ||
					res.Header.Get("Content-Type") != "application/json; charset=utf-8" {
					t.Errorf("discovery = %d, Cache-Control %q, Content-Type %q, want 200, public, max-age=300, JSON",
						res.StatusCode, res.Header.Get("Cache-Control"), res.Header.Get("Content-Type"))
				}
			}
			if !bytes.Equal(oidcDoc.Body.Bytes(), asDoc.Body.Bytes()) {
				t.Errorf("%s and %s differ", PathDiscoveryOIDC, PathDiscoveryAS)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, oidcDoc.Body.Bytes(), "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", tt.golden)
			if *discoveryUpdate {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Errorf("discovery document = %s, want %s (run with -update to accept)", pretty.Bytes(), want)
			}
		})
	}
}

// TestDiscoveryAlgorithms: only the algorithms the key set offers are
// advertised for ID tokens and userinfo.
func TestDiscoveryAlgorithms(t *testing.T) {
	e := tkNewEnvAlgs(t, []string{"EdDSA", "ES256"})
	var doc map[string]any
	if err := json.Unmarshal(e.do(httptestGet(PathDiscoveryOIDC)).Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id_token_signing_alg_values_supported", "userinfo_signing_alg_values_supported"} {
		got, _ := json.Marshal(doc[k])
		if string(got) != `["ES256","EdDSA"]` {
			t.Errorf("%s = %s, want [ES256 EdDSA]", k, got)
		}
	}
}
