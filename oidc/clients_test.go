package oidc

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

var crB64 = base64.RawURLEncoding

// crRSAKey is one RSA key for all tests: generating them is slow.
var crRSAKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

// crJWK returns the JSON of a JWK with the given members.
func crJWK(t testing.TB, members map[string]any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(members)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func crRSAJWK(t testing.TB, extra map[string]any) json.RawMessage {
	pub := crRSAKey().PublicKey
	m := map[string]any{"kty": "RSA", "n": crB64.EncodeToString(pub.N.Bytes()),
		"e": crB64.EncodeToString(big.NewInt(int64(pub.E)).Bytes())}
	for k, v := range extra {
		m[k] = v
	}
	return crJWK(t, m)
}

func crECJWK(t testing.TB, extra map[string]any) json.RawMessage {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.PublicKey.Bytes() // 0x04 || x || y
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"kty": "EC", "crv": "P-256", "x": crB64.EncodeToString(pub[1:33]),
		"y": crB64.EncodeToString(pub[33:])}
	for k, v := range extra {
		m[k] = v
	}
	return crJWK(t, m)
}

func crEdJWK(t testing.TB, extra map[string]any) json.RawMessage {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": crB64.EncodeToString(pub)}
	for k, v := range extra {
		m[k] = v
	}
	return crJWK(t, m)
}

// crRegistration returns a valid registration with every field set.
func crRegistration(t testing.TB, id string) ClientRegistration {
	return ClientRegistration{
		ClientID:          id,
		ClientName:        "Bank of " + id,
		ClientNameLangMap: map[string]string{"eng": "Bank of " + id, "ara": "بنك " + id},
		PublicKey:         crEdJWK(t, map[string]any{"kid": "k1", "use": "sig", "alg": "EdDSA"}),
		RelyingPartyID:    "rp-" + id,
		UserClaims:        []string{"name", "email", "individual_id"},
		AuthContextRefs:   []string{"mosip:idp:acr:generated-code", "mosip:idp:acr:password"},
		LogoURI:           "https://bank.example/logo.png",
		RedirectURIs:      []string{"https://bank.example/callback"},
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
		AdditionalConfig: json.RawMessage(`{"userinfo_response_type":"JWS","require_pkce":true,` +
			`"dpop_bound_access_tokens":true,"require_pushed_authorization_requests":true,` +
			`"consent_expire_in_mins":60,"purpose":{"type":"verify","title":{"@none":"Verify"}},` +
			`"id_token_signed_response_alg":"ES256","sector_identifier":"bank.example"}`),
	}
}

// crCode returns the code of a *ClientRegistryError, "" for nil and
// "not a ClientRegistryError: ..." otherwise.
func crCode(err error) string {
	if err == nil {
		return ""
	}
	var e *ClientRegistryError
	if !errors.As(err, &e) {
		return "not a ClientRegistryError: " + err.Error()
	}
	return e.Code
}

func TestClientRegistrationValidate(t *testing.T) {
	rsaN := crRSAKey().PublicKey.N.Bytes()
	small := make([]byte, 128)
	small[0], small[127] = 0x80, 1
	tests := []struct {
		name   string
		change func(q *ClientRegistration)
		want   string
	}{
		{"valid", func(q *ClientRegistration) {}, ""},
		{"no additionalConfig", func(q *ClientRegistration) { q.AdditionalConfig = nil }, ""},
		{"additionalConfig null", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage("null") }, ""},
		{"no clientNameLangMap", func(q *ClientRegistration) { q.ClientNameLangMap = nil }, ""},
		{"empty userClaims", func(q *ClientRegistration) { q.UserClaims = []string{} }, ""},
		{"all claims and ACRs", func(q *ClientRegistration) {
			q.UserClaims, q.AuthContextRefs = SupportedClientClaims, SupportedClientACRs
		}, ""},

		{"empty clientId", func(q *ClientRegistration) { q.ClientID = "" }, ClientMgmtInvalidClientID},
		{"clientId with a slash", func(q *ClientRegistration) { q.ClientID = "a/b" }, ClientMgmtInvalidClientID},
		{"clientId with a space", func(q *ClientRegistration) { q.ClientID = "a b" }, ClientMgmtInvalidClientID},
		{"clientId too long", func(q *ClientRegistration) { q.ClientID = strings.Repeat("a", 101) }, ClientMgmtInvalidClientID},
		{"clientId of 100", func(q *ClientRegistration) { q.ClientID = strings.Repeat("a", 100) }, ""},

		{"blank clientName", func(q *ClientRegistration) { q.ClientName = "  " }, ClientMgmtInvalidClientName},
		{"clientName too long", func(q *ClientRegistration) { q.ClientName = strings.Repeat("x", 257) }, ClientMgmtInvalidClientName},
		{"language code of 2 letters", func(q *ClientRegistration) { q.ClientNameLangMap = map[string]string{"en": "Bank"} },
			ClientMgmtInvalidLanguageCode},
		{"blank localized name", func(q *ClientRegistration) { q.ClientNameLangMap = map[string]string{"eng": ""} },
			ClientMgmtInvalidClientNameValue},

		{"no relyingPartyId", func(q *ClientRegistration) { q.RelyingPartyID = "" }, ClientMgmtInvalidRPID},
		{"relyingPartyId with spaces", func(q *ClientRegistration) { q.RelyingPartyID = " rp " }, ClientMgmtInvalidRPID},

		{"no publicKey", func(q *ClientRegistration) { q.PublicKey = nil }, ClientMgmtInvalidPublicKey},
		{"publicKey null", func(q *ClientRegistration) { q.PublicKey = json.RawMessage("null") }, ClientMgmtInvalidPublicKey},
		{"publicKey not an object", func(q *ClientRegistration) { q.PublicKey = json.RawMessage(`"key"`) }, ClientMgmtInvalidPublicKey},
		{"publicKey a set", func(q *ClientRegistration) {
			q.PublicKey = json.RawMessage(`{"keys":[` + string(crEdJWK(t, nil)) + `]}`)
		}, ClientMgmtInvalidPublicKey},
		{"RSA 2048", func(q *ClientRegistration) { q.PublicKey = crRSAJWK(t, map[string]any{"alg": "RS256"}) }, ""},
		{"RSA PS256", func(q *ClientRegistration) { q.PublicKey = crRSAJWK(t, map[string]any{"alg": "PS256"}) }, ""},
		{"RSA 1024", func(q *ClientRegistration) {
			q.PublicKey = crJWK(t, map[string]any{"kty": "RSA", "n": crB64.EncodeToString(small), "e": "AQAB"})
		}, ClientMgmtInvalidPublicKey},
		{"RSA with even exponent", func(q *ClientRegistration) {
			q.PublicKey = crJWK(t, map[string]any{"kty": "RSA", "n": crB64.EncodeToString(rsaN), "e": "AQAA"})
		}, ClientMgmtInvalidPublicKey},
		{"RSA with padded base64", func(q *ClientRegistration) {
			q.PublicKey = crJWK(t, map[string]any{"kty": "RSA", "n": base64.URLEncoding.EncodeToString(rsaN) + "=", "e": "AQAB"})
		}, ClientMgmtInvalidPublicKey},
		{"RSA private key", func(q *ClientRegistration) {
			q.PublicKey = crRSAJWK(t, map[string]any{"d": crB64.EncodeToString(crRSAKey().D.Bytes())})
		}, ClientMgmtInvalidPublicKey},
		{"RSA with ES256", func(q *ClientRegistration) { q.PublicKey = crRSAJWK(t, map[string]any{"alg": "ES256"}) },
			ClientMgmtInvalidPublicKey},
		{"EC P-256", func(q *ClientRegistration) { q.PublicKey = crECJWK(t, map[string]any{"alg": "ES256"}) }, ""},
		{"EC private key", func(q *ClientRegistration) { q.PublicKey = crECJWK(t, map[string]any{"d": "AAAA"}) },
			ClientMgmtInvalidPublicKey},
		{"EC P-384", func(q *ClientRegistration) { q.PublicKey = crECJWK(t, map[string]any{"crv": "P-384"}) },
			ClientMgmtInvalidPublicKey},
		{"EC point off the curve", func(q *ClientRegistration) {
			q.PublicKey = crECJWK(t, map[string]any{"y": crB64.EncodeToString(make([]byte, 32))})
		}, ClientMgmtInvalidPublicKey},
		{"Ed25519 private key", func(q *ClientRegistration) { q.PublicKey = crEdJWK(t, map[string]any{"d": "AAAA"}) },
			ClientMgmtInvalidPublicKey},
		{"X25519", func(q *ClientRegistration) { q.PublicKey = crEdJWK(t, map[string]any{"crv": "X25519"}) },
			ClientMgmtInvalidPublicKey},
		{"Ed25519 of 31 bytes", func(q *ClientRegistration) {
			q.PublicKey = crJWK(t, map[string]any{"kty": "OKP", "crv": "Ed25519", "x": crB64.EncodeToString(make([]byte, 31))})
		}, ClientMgmtInvalidPublicKey},
		{"symmetric key", func(q *ClientRegistration) { q.PublicKey = json.RawMessage(`{"kty":"oct","k":"c2VjcmV0"}`) },
			ClientMgmtInvalidPublicKey},
		{"encryption key", func(q *ClientRegistration) { q.PublicKey = crEdJWK(t, map[string]any{"use": "enc"}) },
			ClientMgmtInvalidPublicKey},
		{"key_ops sign", func(q *ClientRegistration) { q.PublicKey = crEdJWK(t, map[string]any{"key_ops": []string{"sign"}}) },
			ClientMgmtInvalidPublicKey},
		{"kty of the wrong type", func(q *ClientRegistration) { q.PublicKey = json.RawMessage(`{"kty":1}`) },
			ClientMgmtInvalidPublicKey},

		{"no userClaims", func(q *ClientRegistration) { q.UserClaims = nil }, ClientMgmtInvalidClaim},
		{"unknown claim", func(q *ClientRegistration) { q.UserClaims = []string{"name", "uin"} }, ClientMgmtInvalidClaim},
		{"repeated claim", func(q *ClientRegistration) { q.UserClaims = []string{"name", "name"} }, ClientMgmtInvalidClaim},
		{"no ACR", func(q *ClientRegistration) { q.AuthContextRefs = nil }, ClientMgmtInvalidACR},
		{"unknown ACR", func(q *ClientRegistration) { q.AuthContextRefs = []string{"mosip:idp:acr:face"} }, ClientMgmtInvalidACR},

		{"no logoUri", func(q *ClientRegistration) { q.LogoURI = "" }, ClientMgmtInvalidURI},
		{"relative logoUri", func(q *ClientRegistration) { q.LogoURI = "/logo.png" }, ClientMgmtInvalidURI},
		{"http logoUri", func(q *ClientRegistration) { q.LogoURI = "http://bank.example/logo.png" }, ClientMgmtInvalidURI},
		{"http logoUri on localhost", func(q *ClientRegistration) { q.LogoURI = "http://localhost:3000/logo.png" }, ""},

		{"no redirect URI", func(q *ClientRegistration) { q.RedirectURIs = nil }, ClientMgmtInvalidRedirectURI},
		{"5 redirect URIs", func(q *ClientRegistration) {
			q.RedirectURIs = []string{"https://a.example/1", "https://a.example/2", "https://a.example/3",
				"https://a.example/4", "https://a.example/5"}
		}, ""},
		{"6 redirect URIs", func(q *ClientRegistration) {
			q.RedirectURIs = []string{"https://a.example/1", "https://a.example/2", "https://a.example/3",
				"https://a.example/4", "https://a.example/5", "https://a.example/6"}
		}, ClientMgmtInvalidRedirectURI},
		{"repeated redirect URI", func(q *ClientRegistration) {
			q.RedirectURIs = []string{"https://a.example/cb", "https://a.example/cb"}
		}, ClientMgmtInvalidRedirectURI},
		{"redirect URI with query", func(q *ClientRegistration) { q.RedirectURIs = []string{"https://a.example/cb?x=1"} }, ""},
		{"http redirect URI", func(q *ClientRegistration) { q.RedirectURIs = []string{"http://bank.example/cb"} },
			ClientMgmtInvalidRedirectURI},
		{"http localhost", func(q *ClientRegistration) { q.RedirectURIs = []string{"http://localhost:5000/cb"} }, ""},
		{"http 127.0.0.1", func(q *ClientRegistration) { q.RedirectURIs = []string{"http://127.0.0.1:8080/cb"} }, ""},
		{"http [::1]", func(q *ClientRegistration) { q.RedirectURIs = []string{"http://[::1]:8080/cb"} }, ""},
		{"http localhost lookalike", func(q *ClientRegistration) { q.RedirectURIs = []string{"http://localhost.evil.example/cb"} },
			ClientMgmtInvalidRedirectURI},
		{"fragment", func(q *ClientRegistration) { q.RedirectURIs = []string{"https://a.example/cb#x"} }, ClientMgmtInvalidRedirectURI},
		{"empty fragment", func(q *ClientRegistration) { q.RedirectURIs = []string{"https://a.example/cb#"} }, ClientMgmtInvalidRedirectURI},
		{"wildcard", func(q *ClientRegistration) { q.RedirectURIs = []string{"https://a.example/*"} }, ClientMgmtInvalidRedirectURI},
		{"relative", func(q *ClientRegistration) { q.RedirectURIs = []string{"/cb"} }, ClientMgmtInvalidRedirectURI},
		{"userinfo", func(q *ClientRegistration) { q.RedirectURIs = []string{"https://u:p@a.example/cb"} }, ClientMgmtInvalidRedirectURI},
		{"https without host", func(q *ClientRegistration) { q.RedirectURIs = []string{"https:///cb"} }, ClientMgmtInvalidRedirectURI},
		{"reverse-domain app scheme", func(q *ClientRegistration) { q.RedirectURIs = []string{"io.mosip.residentapp://oauth"} }, ""},
		{"reverse-domain app scheme with path", func(q *ClientRegistration) {
			q.RedirectURIs = []string{"io.mosip.residentapp:/oauth/callback"}
		}, ""},
		{"app scheme without a dot", func(q *ClientRegistration) { q.RedirectURIs = []string{"myapp://cb"} }, ClientMgmtInvalidRedirectURI},
		{"javascript", func(q *ClientRegistration) { q.RedirectURIs = []string{"javascript:alert(1)"} }, ClientMgmtInvalidRedirectURI},
		{"data", func(q *ClientRegistration) { q.RedirectURIs = []string{"data:text/html,x"} }, ClientMgmtInvalidRedirectURI},
		{"file", func(q *ClientRegistration) { q.RedirectURIs = []string{"file:///etc/passwd"} }, ClientMgmtInvalidRedirectURI},

		{"no grant type", func(q *ClientRegistration) { q.GrantTypes = []string{} }, ClientMgmtInvalidGrantType},
		{"implicit", func(q *ClientRegistration) { q.GrantTypes = []string{"authorization_code", "implicit"} },
			ClientMgmtInvalidGrantType},
		{"no auth method", func(q *ClientRegistration) { q.ClientAuthMethods = nil }, ClientMgmtInvalidClientAuth},
		{"client_secret_basic", func(q *ClientRegistration) { q.ClientAuthMethods = []string{"client_secret_basic"} },
			ClientMgmtInvalidClientAuth},

		{"additionalConfig JWE to an Ed25519 key", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JWE"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"additionalConfig JWE to an RSA key", func(q *ClientRegistration) {
			q.PublicKey = crRSAJWK(t, nil)
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JWE"}`)
		}, ""},
		{"additionalConfig JWE to an EC key", func(q *ClientRegistration) {
			q.PublicKey = crECJWK(t, map[string]any{"use": "sig"})
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JWE"}`)
		}, ""},
		{"additionalConfig JWE to userinfo_encryption_jwk", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JWE","userinfo_encryption_jwk":` +
				string(crECJWK(t, map[string]any{"use": "enc", "kid": "e1"})) + `}`)
		}, ""},
		{"additionalConfig JSON", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JSON"}`)
		}, ""},
		{"additionalConfig userinfo_response_type jwe", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"jwe"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"additionalConfig introspection and consent management", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"introspection":true,"consent_management":true}`)
		}, ""},
		{"additionalConfig empty object", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`{}`) }, ""},
		{"additionalConfig eSignet UI flags", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"signup_banner_required":true,"forgot_pwd_link_required":false}`)
		}, ""},
		{"additionalConfig not an object", func(q *ClientRegistration) { q.AdditionalConfig = json.RawMessage(`[1]`) },
			ClientMgmtInvalidAdditionalConfig},
		{"additionalConfig unknown member", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"require_pkse":true}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"userinfo_response_type XML", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"XML"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"require_pkce a string", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"require_pkce":"true"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"negative consent expiry", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"consent_expire_in_mins":-1}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"fractional consent expiry", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"consent_expire_in_mins":1.5}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"ID token alg none", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"id_token_signed_response_alg":"none"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"sector_identifier a URL", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"sector_identifier":"https://bank.example/"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"PAR without PKCE", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"require_pushed_authorization_requests":true}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"purpose of the wrong type", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{"purpose":"verify"}`)
		}, ClientMgmtInvalidAdditionalConfig},
		{"two additionalConfig objects", func(q *ClientRegistration) {
			q.AdditionalConfig = json.RawMessage(`{} {}`)
		}, ClientMgmtInvalidAdditionalConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := crRegistration(t, "bank")
			tt.change(&q)
			if got := crCode(q.Validate()); got != tt.want {
				t.Errorf("ClientRegistration.Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func crUpdate() ClientUpdate {
	return ClientUpdate{
		ClientName:        "Renamed bank",
		ClientNameLangMap: map[string]string{"fra": "Banque"},
		Status:            ClientStatusInactive,
		LogoURI:           "https://bank.example/logo2.png",
		RedirectURIs:      []string{"https://bank.example/cb2", "io.bank.app://cb"},
		UserClaims:        []string{"phone_number"},
		AuthContextRefs:   []string{"mosip:idp:acr:static-code"},
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
		AdditionalConfig:  json.RawMessage(`{"userinfo_response_type": "JSON"}`),
	}
}

func TestClientUpdateValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(q *ClientUpdate)
		want   string
	}{
		{"valid", func(q *ClientUpdate) {}, ""},
		{"ACTIVE", func(q *ClientUpdate) { q.Status = ClientStatusActive }, ""},
		{"no status", func(q *ClientUpdate) { q.Status = "" }, ClientMgmtInvalidStatus},
		{"lower-case status", func(q *ClientUpdate) { q.Status = "active" }, ClientMgmtInvalidStatus},
		{"no name", func(q *ClientUpdate) { q.ClientName = "" }, ClientMgmtInvalidClientName},
		{"bad redirect URI", func(q *ClientUpdate) { q.RedirectURIs = []string{"http://bank.example"} }, ClientMgmtInvalidRedirectURI},
		{"bad claim", func(q *ClientUpdate) { q.UserClaims = []string{"ssn"} }, ClientMgmtInvalidClaim},
		{"bad ACR", func(q *ClientUpdate) { q.AuthContextRefs = []string{"pwd"} }, ClientMgmtInvalidACR},
		{"bad logo", func(q *ClientUpdate) { q.LogoURI = "ftp://bank.example/l.png" }, ClientMgmtInvalidURI},
		{"bad grant type", func(q *ClientUpdate) { q.GrantTypes = []string{"password"} }, ClientMgmtInvalidGrantType},
		{"bad auth method", func(q *ClientUpdate) { q.ClientAuthMethods = []string{"none"} }, ClientMgmtInvalidClientAuth},
		{"bad additionalConfig", func(q *ClientUpdate) { q.AdditionalConfig = json.RawMessage(`{"x":1}`) },
			ClientMgmtInvalidAdditionalConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := crUpdate()
			tt.change(&q)
			if got := crCode(q.Validate()); got != tt.want {
				t.Errorf("ClientUpdate.Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseClientAdditionalConfig(t *testing.T) {
	cfg, err := ParseClientAdditionalConfig(crRegistration(t, "x").AdditionalConfig)
	if err != nil {
		t.Fatalf("ParseClientAdditionalConfig() = %v, want nil", err)
	}
	want := ClientAdditionalConfig{UserinfoResponseType: "JWS", RequirePKCE: true, DPoPBoundTokens: true,
		RequirePAR: true, ConsentExpireInMins: 60, Purpose: &ClientPurpose{Type: "verify", Title: map[string]string{"@none": "Verify"}},
		IDTokenSignedResponseAlg: "ES256", SectorIdentifier: "bank.example"}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("ParseClientAdditionalConfig() = %+v, want %+v", cfg, want)
	}
	if cfg, err := ParseClientAdditionalConfig(nil); err != nil || cfg != (ClientAdditionalConfig{}) {
		t.Errorf("ParseClientAdditionalConfig(nil) = %+v, %v, want zero, nil", cfg, err)
	}
	cfg, err = ParseClientAdditionalConfig([]byte(`{"introspection":true,"consent_management":true,"userinfo_response_type":"JSON"}`))
	if err != nil || !cfg.Introspection || !cfg.ConsentManagement || cfg.UserinfoResponseType != UserinfoJSON {
		t.Errorf("ParseClientAdditionalConfig(introspection, consent_management, JSON) = %+v, %v", cfg, err)
	}
}

func TestUserinfoEncryptionJWK(t *testing.T) {
	rsaEnc := func(extra map[string]any) string { return string(crRSAJWK(t, extra)) }
	ecEnc := func(extra map[string]any) string { return string(crECJWK(t, extra)) }
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallJWK := string(crJWK(t, map[string]any{"kty": "RSA", "n": crB64.EncodeToString(small.N.Bytes()), "e": "AQAB"}))
	tests := []struct {
		name, jwk string
		wantAlg   string // "" for an error
	}{
		{"RSA", rsaEnc(nil), "RSA-OAEP-256"},
		{"RSA for encryption", rsaEnc(map[string]any{"use": "enc", "alg": "RSA-OAEP-256", "kid": "k"}), "RSA-OAEP-256"},
		{"EC P-256", ecEnc(nil), "ECDH-ES"},
		{"EC with key_ops", ecEnc(map[string]any{"key_ops": []string{"deriveKey"}}), "ECDH-ES"},
		{"RSA private key", rsaEnc(map[string]any{"d": "AQAB"}), ""},
		{"EC private key", ecEnc(map[string]any{"d": "AQAB"}), ""},
		{"RSA of 1024 bits", smallJWK, ""},
		{"use sig", rsaEnc(map[string]any{"use": "sig"}), ""},
		{"wrong alg", rsaEnc(map[string]any{"alg": "RSA1_5"}), ""},
		{"EC alg of RSA", ecEnc(map[string]any{"alg": "RSA-OAEP-256"}), ""},
		{"key_ops sign", ecEnc(map[string]any{"key_ops": []string{"sign"}}), ""},
		{"Ed25519", string(crEdJWK(t, nil)), ""},
		{"P-384", `{"kty":"EC","crv":"P-384","x":"AAAA","y":"AAAA"}`, ""},
		{"symmetric", `{"kty":"oct","k":"AAAA"}`, ""},
		{"not an object", `"x"`, ""},
		{"null", `null`, ""}, // absent: parseEncryptionJWK refuses it, the config has none
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, alg, err := parseEncryptionJWK(json.RawMessage(tt.jwk))
			if alg != tt.wantAlg || (err == nil) != (tt.wantAlg != "") {
				t.Errorf("parseEncryptionJWK(%s) = %q, %v, want %q", tt.jwk, alg, err, tt.wantAlg)
			}
			_, err = ParseClientAdditionalConfig([]byte(`{"userinfo_response_type":"JWE","userinfo_encryption_jwk":` + tt.jwk + `}`))
			if want := map[bool]string{true: "", false: ClientMgmtInvalidAdditionalConfig}[tt.wantAlg != "" || tt.jwk == "null"]; crCode(err) != want {
				t.Errorf("ParseClientAdditionalConfig(userinfo_encryption_jwk %s) = %v, want %q", tt.jwk, err, want)
			}
		})
	}
}

// TestClientUpdateUserinfoEncryption: an update to JWE is checked against
// the registered key, which updates can't change.
func TestClientUpdateUserinfoEncryption(t *testing.T) {
	r, _ := crNewRegistry(t)
	ctx := t.Context()
	if _, err := r.Create(ctx, crRegistration(t, "bank")); err != nil { // an Ed25519 key
		t.Fatal(err)
	}
	u := crUpdate()
	u.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JWE"}`)
	if _, err := r.Update(ctx, "bank", u); crCode(err) != ClientMgmtInvalidAdditionalConfig {
		t.Errorf("Update(Ed25519 client to JWE) = %v, want %s", err, ClientMgmtInvalidAdditionalConfig)
	}
	u.AdditionalConfig = json.RawMessage(`{"userinfo_response_type":"JWE","userinfo_encryption_jwk":` + string(crRSAJWK(t, nil)) + `}`)
	if _, err := r.Update(ctx, "bank", u); err != nil {
		t.Errorf("Update(Ed25519 client to JWE with an encryption key) = %v, want nil", err)
	}
}

// crFixedNow is the registry's clock in tests.
var crFixedNow = time.Date(2025, 6, 1, 10, 0, 0, 123456789, time.UTC)

func crNewRegistry(t *testing.T) (*ClientRegistry, storage.Durable) {
	d := storagetest.OpenSQLite(t)
	return NewClientRegistry(d, func() time.Time { return crFixedNow }), d
}

func TestClientRegistry(t *testing.T) {
	r, d := crNewRegistry(t)
	ctx := t.Context()
	q := crRegistration(t, "bank")
	c, err := r.Create(ctx, q)
	if err != nil {
		t.Fatalf("Create(bank) = %v, want nil", err)
	}
	stored, err := d.GetClient(ctx, "bank")
	if err != nil {
		t.Fatalf("GetClient(bank) = %v", err)
	}
	if stored.Status != ClientStatusActive || stored.Version != 1 || !stored.CreatedAt.Equal(crFixedNow.Truncate(time.Microsecond)) ||
		len(stored.PublicKeyHash) != 32 || !slices.Equal(stored.RedirectURIs, q.RedirectURIs) || c.ID != "bank" {
		t.Errorf("Create(bank) stored %+v", stored)
	}
	key, err := ClientPublicJWK(stored)
	if err != nil {
		t.Fatalf("ClientPublicJWK() = %v", err)
	}
	var k, want map[string]any
	_ = json.Unmarshal(key, &k)
	_ = json.Unmarshal(q.PublicKey, &want)
	if fmt.Sprint(k) != fmt.Sprint(want) {
		t.Errorf("ClientPublicJWK() = %s, want %s", key, q.PublicKey)
	}

	dupID := crRegistration(t, "bank")
	// The same key with another kid, alg and member order is the same key.
	var members map[string]any
	_ = json.Unmarshal(q.PublicKey, &members)
	dupKey := crRegistration(t, "other")
	dupKey.PublicKey = crJWK(t, map[string]any{"x": members["x"], "crv": "Ed25519", "kty": "OKP", "kid": "another"})
	errorCases := []struct {
		name string
		call func() error
		want string
		code int
	}{
		{"duplicate id", func() error { _, err := r.Create(ctx, dupID); return err }, ClientMgmtDuplicateClientID, http.StatusConflict},
		{"duplicate key", func() error { _, err := r.Create(ctx, dupKey); return err }, ClientMgmtDuplicatePublicKey, http.StatusConflict},
		{"invalid registration", func() error {
			bad := crRegistration(t, "bad")
			bad.GrantTypes = []string{"implicit"}
			_, err := r.Create(ctx, bad)
			return err
		}, ClientMgmtInvalidGrantType, http.StatusBadRequest},
		{"get unknown", func() error { _, err := r.Get(ctx, "missing"); return err }, ClientMgmtInvalidClientID, http.StatusNotFound},
		{"update unknown", func() error { _, err := r.Update(ctx, "missing", crUpdate()); return err }, ClientMgmtInvalidClientID, http.StatusNotFound},
		{"invalid update", func() error {
			u := crUpdate()
			u.Status = "DELETED"
			_, err := r.Update(ctx, "bank", u)
			return err
		}, ClientMgmtInvalidStatus, http.StatusBadRequest},
		{"delete unknown", func() error { return r.Delete(ctx, "missing") }, ClientMgmtInvalidClientID, http.StatusNotFound},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *ClientRegistryError
			if !errors.As(err, &e) || e.Code != tt.want || e.Status != tt.code {
				t.Errorf("%s = %v, want %s (%d)", tt.name, err, tt.want, tt.code)
			}
		})
	}

	u := crUpdate()
	got, err := r.Update(ctx, "bank", u)
	if err != nil {
		t.Fatalf("Update(bank) = %v, want nil", err)
	}
	stored, err = d.GetClient(ctx, "bank")
	if err != nil {
		t.Fatalf("GetClient(bank) = %v", err)
	}
	if stored.Version != 2 || stored.Status != ClientStatusInactive || stored.Name != u.ClientName ||
		string(stored.AdditionalConfig) != `{"userinfo_response_type":"JSON"}` || got.Version != 2 ||
		!slices.Equal(stored.RedirectURIs, u.RedirectURIs) || stored.RelyingPartyID != "rp-bank" {
		t.Errorf("Update(bank) stored %+v", stored)
	}

	// Concurrent updates all land, one after the other.
	errs := make([]error, 5)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			u := crUpdate()
			u.ClientName = fmt.Sprintf("name %d", i)
			_, errs[i] = r.Update(ctx, "bank", u)
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch crCode(err) {
		case "":
			ok++
		case ClientMgmtConcurrentUpdate:
		default:
			t.Errorf("concurrent Update(bank) = %v, want nil or %s", err, ClientMgmtConcurrentUpdate)
		}
	}
	if stored, _ := d.GetClient(ctx, "bank"); stored.Version != int64(2+ok) || ok == 0 {
		t.Errorf("after %d successful concurrent updates, version %d, want %d", ok, stored.Version, 2+ok)
	}

	if err := r.Delete(ctx, "bank"); err != nil {
		t.Fatalf("Delete(bank) = %v, want nil", err)
	}
	if _, err := r.Get(ctx, "bank"); crCode(err) != ClientMgmtInvalidClientID {
		t.Errorf("Get(bank) after Delete = %v, want %s", err, ClientMgmtInvalidClientID)
	}
	// Once deleted, its key may be registered again.
	if _, err := r.Create(ctx, dupKey); err != nil {
		t.Errorf("Create(other) with the deleted client's key = %v, want nil", err)
	}
}

func FuzzParseClientPublicKey(f *testing.F) {
	f.Add([]byte(crRSAJWK(f, nil)))
	f.Add([]byte(crECJWK(f, nil)))
	f.Add([]byte(crEdJWK(f, map[string]any{"alg": "EdDSA", "key_ops": []string{"verify"}})))
	f.Add([]byte(`{"kty":"oct","k":"AAAA"}`))
	f.Add([]byte(`{"kty":"RSA","n":"","e":"AQAB"}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("A", 43) + `","y":"` + strings.Repeat("A", 43) + `"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := parseClientPublicKey(b)
		if err != nil {
			if crCode(err) != ClientMgmtInvalidPublicKey {
				t.Fatalf("parseClientPublicKey(%q) = %v, want %s", b, err, ClientMgmtInvalidPublicKey)
			}
			return
		}
		if len(k.thumbprint) != 32 || !json.Valid(k.jwk) {
			t.Fatalf("parseClientPublicKey(%q) = %+v, want a thumbprint and a JWK", b, k)
		}
	})
}

func FuzzParseClientAdditionalConfig(f *testing.F) {
	f.Add([]byte(crRegistration(f, "x").AdditionalConfig))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"consent_expire_in_mins":1e99}`))
	f.Add([]byte(`{"purpose":{"type":"login","subTitle":{"eng":"x"}}}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if _, err := ParseClientAdditionalConfig(b); err != nil && crCode(err) != ClientMgmtInvalidAdditionalConfig {
			t.Fatalf("ParseClientAdditionalConfig(%q) = %v, want nil or %s", b, err, ClientMgmtInvalidAdditionalConfig)
		}
	})
}
