package oidc

import (
	"net/http"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/keys"
)

// ServiceDocumentation is the service_documentation of the discovery
// document: Sanad's documentation for relying-party developers.
const ServiceDocumentation = "https://github.com/sanad-id/sanad/tree/main/docs"

// Discovery advertises exactly what the provider implements.
var (
	// discoveryIDTokenAlgs are the ID token and userinfo signature
	// algorithms Sanad can sign with, RS256 (the default) first; the
	// document lists those the oidc-signing key set offers.
	discoveryIDTokenAlgs = []string{keys.AlgRS256, keys.AlgPS256, keys.AlgES256, keys.AlgEdDSA}
	// discoveryACRs are the authentication context classes of the factors
	// the provider can authenticate with.
	discoveryACRs = []string{
		"mosip:idp:acr:generated-code", "mosip:idp:acr:static-code", "mosip:idp:acr:password", "mosip:idp:acr:knowledge",
	}
	// discoveryUnreleasedClaims are claims a client may register that
	// IdentityClaims never yields: individual_id would carry the UIN or
	// VID, and MOSIP data has no source for the others.
	discoveryUnreleasedClaims = []string{"individual_id", "nickname", "preferred_username"}
	// discoveryProtocolClaims are the claims the provider itself sets.
	discoveryProtocolClaims = []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "at_hash"}
)

// discoveryDocument is the provider's metadata: OpenID Connect Discovery
// 1.0 section 3 and RFC 8414, with RFC 9126 (PAR), RFC 9449 (DPoP), RFC
// 9207 (iss), RFC 7662, RFC 7009 and OpenID4VCI members. Field order is the
// JSON order.
type discoveryDocument struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint"`
	TokenEndpoint                              string   `json:"token_endpoint"`
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	JWKSURI                                    string   `json:"jwks_uri"`
	PushedAuthorizationRequestEndpoint         string   `json:"pushed_authorization_request_endpoint"`
	RequirePushedAuthorizationRequests         bool     `json:"require_pushed_authorization_requests"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint"`
	IntrospectionEndpointAuthMethods           []string `json:"introspection_endpoint_auth_methods_supported"`
	IntrospectionEndpointAuthSigningAlgs       []string `json:"introspection_endpoint_auth_signing_alg_values_supported"`
	RevocationEndpoint                         string   `json:"revocation_endpoint"`
	RevocationEndpointAuthMethods              []string `json:"revocation_endpoint_auth_methods_supported"`
	RevocationEndpointAuthSigningAlgs          []string `json:"revocation_endpoint_auth_signing_alg_values_supported"`
	ResponseTypes                              []string `json:"response_types_supported"`
	ResponseModes                              []string `json:"response_modes_supported"`
	GrantTypes                                 []string `json:"grant_types_supported"`
	SubjectTypes                               []string `json:"subject_types_supported"`
	IDTokenSigningAlgs                         []string `json:"id_token_signing_alg_values_supported"`
	UserinfoSigningAlgs                        []string `json:"userinfo_signing_alg_values_supported"`
	UserinfoEncryptionAlgs                     []string `json:"userinfo_encryption_alg_values_supported"`
	UserinfoEncryptionEncs                     []string `json:"userinfo_encryption_enc_values_supported"`
	TokenEndpointAuthMethods                   []string `json:"token_endpoint_auth_methods_supported"`
	TokenEndpointAuthSigningAlgs               []string `json:"token_endpoint_auth_signing_alg_values_supported"`
	CodeChallengeMethods                       []string `json:"code_challenge_methods_supported"`
	DPoPSigningAlgs                            []string `json:"dpop_signing_alg_values_supported"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported"`
	Scopes                                     []string `json:"scopes_supported"`
	Claims                                     []string `json:"claims_supported"`
	ClaimsParameterSupported                   bool     `json:"claims_parameter_supported"`
	RequestParameterSupported                  bool     `json:"request_parameter_supported"`
	RequestURIParameterSupported               bool     `json:"request_uri_parameter_supported"`
	ACRValues                                  []string `json:"acr_values_supported"`
	ClaimsLocales                              []string `json:"claims_locales_supported"`
	UILocales                                  []string `json:"ui_locales_supported"`
	DisplayValues                              []string `json:"display_values_supported"`
	PromptValues                               []string `json:"prompt_values_supported"`
	ClaimTypes                                 []string `json:"claim_types_supported"`
	ServiceDocumentation                       string   `json:"service_documentation"`
	PreAuthorizedGrantAnonymousAccess          bool     `json:"pre-authorized_grant_anonymous_access_supported,omitempty"` // OpenID4VCI section 12.3
}

// registerDiscovery serves the discovery document at both well-known
// paths: OpenID Connect's and RFC 8414's. It is built once: everything in
// it is configuration.
func (p *Provider) registerDiscovery(r gin.IRouter) {
	doc := p.discovery()
	serve := func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=300")
		c.JSON(http.StatusOK, doc)
	}
	r.GET(PathDiscoveryOIDC, serve)
	r.GET(PathDiscoveryAS, serve)
}

// discovery builds the discovery document.
func (p *Provider) discovery() *discoveryDocument {
	offered := p.cfg.Keys.Algorithms(keys.PurposeOIDCSigning)
	var signing []string
	for _, alg := range discoveryIDTokenAlgs {
		if slices.Contains(offered, alg) {
			signing = append(signing, alg)
		}
	}
	scopes := []string{"openid", "profile", "email", "phone", "address"}
	if p.cfg.CredentialIssuer != "" {
		for _, s := range p.cfg.CredentialScopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	scopes = append(scopes, ConsentScope)
	claims := slices.Clone(discoveryProtocolClaims)
	for _, c := range SupportedClientClaims {
		if !slices.Contains(discoveryUnreleasedClaims, c) {
			claims = append(claims, c)
		}
	}
	var locales []string
	for _, lang := range p.cfg.Languages {
		for _, tag := range []string{lang, claimsBCP47(lang)} {
			if !slices.Contains(locales, tag) {
				locales = append(locales, tag)
			}
		}
	}
	authMethods := []string{AuthMethodPrivateKeyJWT}
	// Public clients (wallet apps) use none at the token endpoint, never at
	// introspection or revocation; they exist for credential scopes, and
	// not under FAPI 2.0.
	tokenAuthMethods := authMethods
	if p.cfg.CredentialIssuer != "" && p.cfg.Profile != ProfileFAPI2 {
		tokenAuthMethods = []string{AuthMethodPrivateKeyJWT, AuthMethodNone}
	}
	grantTypes := []string{GrantTypeAuthorizationCode}
	if p.cfg.CredentialGrants != nil {
		grantTypes = append(grantTypes, GrantTypePreAuthorizedCode)
	}
	return &discoveryDocument{
		Issuer:                                     p.issuer,
		AuthorizationEndpoint:                      p.endpoint(PathAuthorize),
		TokenEndpoint:                              p.endpoint(PathToken),
		UserinfoEndpoint:                           p.endpoint(PathUserinfo),
		JWKSURI:                                    p.endpoint(PathJWKS),
		PushedAuthorizationRequestEndpoint:         p.endpoint(PathPAR),
		RequirePushedAuthorizationRequests:         p.cfg.RequirePAR,
		IntrospectionEndpoint:                      p.endpoint(PathIntrospect),
		IntrospectionEndpointAuthMethods:           authMethods,
		IntrospectionEndpointAuthSigningAlgs:       ClientAssertionAlgs,
		RevocationEndpoint:                         p.endpoint(PathRevoke),
		RevocationEndpointAuthMethods:              authMethods,
		RevocationEndpointAuthSigningAlgs:          ClientAssertionAlgs,
		ResponseTypes:                              []string{"code"},
		ResponseModes:                              []string{"query"},
		GrantTypes:                                 grantTypes,
		SubjectTypes:                               []string{"pairwise"},
		IDTokenSigningAlgs:                         signing,
		UserinfoSigningAlgs:                        signing,
		UserinfoEncryptionAlgs:                     []string{userinfoAlgRSA, userinfoAlgEC},
		UserinfoEncryptionEncs:                     []string{userinfoEnc},
		TokenEndpointAuthMethods:                   tokenAuthMethods,
		TokenEndpointAuthSigningAlgs:               ClientAssertionAlgs,
		CodeChallengeMethods:                       []string{PKCEMethodS256},
		PreAuthorizedGrantAnonymousAccess:          p.cfg.CredentialGrants != nil,
		DPoPSigningAlgs:                            DPoPAlgs,
		AuthorizationResponseIssParameterSupported: true,
		Scopes:                   scopes,
		Claims:                   claims,
		ClaimsParameterSupported: true,
		// Request objects are refused; a request_uri is accepted only
		// from PAR, which RFC 9126 section 5 does not count as
		// request_uri_parameter_supported (whose default is true, so it
		// is stated).
		RequestParameterSupported:    false,
		RequestURIParameterSupported: false,
		ACRValues:                    discoveryACRs,
		ClaimsLocales:                locales,
		UILocales:                    locales,
		DisplayValues:                []string{"page"},
		PromptValues:                 []string{"none", "login", "consent"},
		ClaimTypes:                   []string{"normal"},
		ServiceDocumentation:         ServiceDocumentation,
	}
}
