package demobank

import (
	"encoding/json"
	"net/url"

	"github.com/lestrrat-go/jwx/v3/jwk"

	sanad "github.com/sanad-id/sanad/oidc"
)

// registeredClaims are the user claims the bank registers: those its
// claims parameter asks for, and no more (a claim is released only if the
// client registered it).
var registeredClaims = []string{"name", "birthdate", "gender", "email", "phone_number", "address", "picture"}

// Registration is the client registration --demo makes for the bank
// (eSignet's v3 client-management create request): the public part of pub
// (a private key is reduced to it), redirectURI, the claims the bank asks
// for, every ACR, private_key_jwt, and an additionalConfig that makes the
// provider require of this client what the bank does anyway: PKCE, PAR,
// DPoP-bound access tokens, ES256 ID tokens and signed userinfo. The logo
// is logo.svg next to redirectURI (which the bank serves).
//
// If pub cannot be encoded, PublicKey is left empty and the registration
// fails validation (invalid_public_key).
func Registration(clientID string, pub jwk.Key, redirectURI string) sanad.ClientRegistration {
	var publicKey json.RawMessage
	if pub != nil {
		if pk, err := pub.PublicKey(); err == nil {
			if b, err := json.Marshal(pk); err == nil {
				publicKey = b
			}
		}
	}
	logo := redirectURI
	if u, err := url.Parse(redirectURI); err == nil {
		logo = u.ResolveReference(&url.URL{Path: "logo.svg"}).String()
	}
	return sanad.ClientRegistration{
		ClientID:   clientID,
		ClientName: "Demo Bank",
		ClientNameLangMap: map[string]string{
			"eng": "Demo Bank",
			"fra": "Banque Démo",
			"ara": "البنك التجريبي",
		},
		PublicKey:         publicKey,
		RelyingPartyID:    "sanad-demo-bank",
		UserClaims:        registeredClaims,
		AuthContextRefs:   registeredACRs,
		LogoURI:           logo,
		RedirectURIs:      []string{redirectURI},
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
		AdditionalConfig:  json.RawMessage(registrationConfig),
	}
}

// registrationConfig is the bank's additionalConfig, written out as an
// integrator would send it.
const registrationConfig = `{
  "userinfo_response_type": "JWS",
  "require_pkce": true,
  "dpop_bound_access_tokens": true,
  "require_pushed_authorization_requests": true,
  "id_token_signed_response_alg": "ES256",
  "consent_expire_in_mins": 43200,
  "purpose": {
    "type": "login",
    "title": {
      "@none": "Open your account",
      "eng": "Open your account",
      "fra": "Ouvrez votre compte",
      "ara": "افتح حسابك"
    },
    "subTitle": {
      "@none": "Demo Bank asks for your identity details to open your account",
      "eng": "Demo Bank asks for your identity details to open your account",
      "fra": "Banque Démo demande vos données d'identité pour ouvrir votre compte",
      "ara": "يطلب البنك التجريبي بيانات هويتك لفتح حسابك"
    }
  }
}`
