package demobank

import (
	"encoding/json"
	"slices"
	"testing"

	sanad "github.com/sanad-id/sanad/oidc"
)

func TestRegistration(t *testing.T) {
	key := testKey(t)
	reg := Registration("demo-bank", key, "http://127.0.0.1:8080/demo/bank/callback")
	if err := reg.Validate(); err != nil {
		t.Fatalf("Registration(...).Validate() = %v, want nil", err)
	}
	var members map[string]any
	if err := json.Unmarshal(reg.PublicKey, &members); err != nil {
		t.Fatal(err)
	}
	if _, ok := members["d"]; ok {
		t.Fatal("the registration carries the private key")
	}
	if kid, _ := key.KeyID(); members["kid"] != kid {
		t.Errorf("registered kid = %v, want %s (assertions name it)", members["kid"], kid)
	}
	if reg.LogoURI != "http://127.0.0.1:8080/demo/bank/logo.svg" {
		t.Errorf("LogoURI = %q", reg.LogoURI)
	}
	cfg, err := sanad.ParseClientAdditionalConfig(reg.AdditionalConfig)
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.RequirePKCE || !cfg.RequirePAR || !cfg.DPoPBoundTokens || cfg.UserinfoResponseType != "JWS" ||
		cfg.IDTokenSignedResponseAlg != "ES256" || cfg.Purpose == nil || cfg.Purpose.Title["ara"] == "" {
		t.Errorf("additionalConfig = %+v", cfg)
	}
	for _, lang := range []string{"eng", "fra", "ara"} {
		if reg.ClientNameLangMap[lang] == "" {
			t.Errorf("no client name in %s", lang)
		}
	}
	for _, acr := range []string{acrOTP, acrPIN, acrPassword, acrKBI} {
		if !slices.Contains(reg.AuthContextRefs, acr) {
			t.Errorf("ACR %s not registered", acr)
		}
	}
	// Everything the claims parameter asks for is registered (else it is
	// silently not released).
	var req map[string]map[string]any
	if err := json.Unmarshal([]byte(claimsRequest("")), &req); err != nil {
		t.Fatal(err)
	}
	for name := range req["userinfo"] {
		if !slices.Contains(reg.UserClaims, name) {
			t.Errorf("claims parameter asks for %s, not registered", name)
		}
	}
	if _, err := sanad.ParseClaimsRequest(claimsRequest(acrOTP)); err != nil {
		t.Errorf("the provider refuses the claims parameter: %v", err)
	}
}
