package oidc

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/storage"
)

// Error codes of client management. They are eSignet's
// (io.mosip.esignet.core.constants.ErrorConstants), so that tools written for
// eSignet's client management API understand Sanad's answers.
const (
	ClientMgmtInvalidRequest          = "invalid_request"
	ClientMgmtInvalidClientID         = "invalid_client_id"
	ClientMgmtDuplicateClientID       = "duplicate_client_id"
	ClientMgmtInvalidClientName       = "invalid_client_name"
	ClientMgmtInvalidLanguageCode     = "invalid_language_code"
	ClientMgmtInvalidClientNameValue  = "invalid_client_name_value"
	ClientMgmtInvalidPublicKey        = "invalid_public_key"
	ClientMgmtDuplicatePublicKey      = "duplicate_public_key"
	ClientMgmtInvalidRPID             = "invalid_rp_id"
	ClientMgmtInvalidURI              = "invalid_uri"
	ClientMgmtInvalidRedirectURI      = "invalid_redirect_uri"
	ClientMgmtInvalidClaim            = "invalid_claim"
	ClientMgmtInvalidACR              = "invalid_acr"
	ClientMgmtInvalidGrantType        = "invalid_grant_type"
	ClientMgmtInvalidClientAuth       = "invalid_client_auth"
	ClientMgmtInvalidStatus           = "invalid_status"
	ClientMgmtInvalidAdditionalConfig = "invalid_additional_config"
	// ClientMgmtConcurrentUpdate is Sanad's: an update kept losing against
	// concurrent updates of the same client.
	ClientMgmtConcurrentUpdate = "concurrent_update"
	ClientMgmtUnknownError     = "unknown_error"
)

// Client statuses.
const (
	ClientStatusActive   = "ACTIVE"
	ClientStatusInactive = "INACTIVE"
)

// SupportedClientClaims are the user claims a client may register.
var SupportedClientClaims = []string{
	"name", "given_name", "family_name", "middle_name", "preferred_username", "nickname", "gender",
	"birthdate", "email", "email_verified", "phone_number", "phone_number_verified", "address",
	"picture", "locale", "individual_id",
}

// SupportedClientACRs are the authentication context classes a client may
// register (eSignet's, one per factor).
var SupportedClientACRs = []string{
	"mosip:idp:acr:generated-code", "mosip:idp:acr:static-code", "mosip:idp:acr:password",
	"mosip:idp:acr:knowledge", "mosip:idp:acr:linked-wallet", "mosip:idp:acr:biometrics",
}

// Limits of client registration.
const (
	maxClientIDLength     = 100
	maxClientNameLength   = 256
	maxRPIDLength         = 100
	maxClientURILength    = 2048
	maxClientRedirectURIs = 5
	minClientRSABits      = 2048
	maxClientRSABits      = 8192 // bounds the cost of verifying with a registered key
	clientUpdateAttempts  = 3
	clientRegistryPageMax = 1000
)

// clientIDPattern: client ids travel in URL paths and form posts, so they
// are limited to URI unreserved characters.
var clientIDPattern = regexp.MustCompile(`^[A-Za-z0-9._~-]+$`)

// clientLanguagePattern is an ISO 639-3 language code, as eSignet expects
// in clientNameLangMap.
var clientLanguagePattern = regexp.MustCompile(`^[a-z]{3}$`)

// ClientRegistryError is an error of client management: an eSignet error
// code, the HTTP status Sanad answers with, a description safe to send and
// an internal cause that is logged, never sent.
type ClientRegistryError struct {
	Code        string
	Description string
	Status      int
	Cause       error
}

func (e *ClientRegistryError) Error() string {
	if e.Cause != nil {
		return e.Code + ": " + e.Description + ": " + e.Cause.Error()
	}
	return e.Code + ": " + e.Description
}

func (e *ClientRegistryError) Unwrap() error { return e.Cause }

// clientInvalid is a 400 validation error.
func clientInvalid(code, desc string) *ClientRegistryError {
	return &ClientRegistryError{Code: code, Description: desc, Status: http.StatusBadRequest}
}

func clientNotFound(cause error) *ClientRegistryError {
	return &ClientRegistryError{Code: ClientMgmtInvalidClientID, Description: "no client has this id",
		Status: http.StatusNotFound, Cause: cause}
}

func clientServerError(cause error) *ClientRegistryError {
	return &ClientRegistryError{Code: ClientMgmtUnknownError, Description: "the request could not be completed",
		Status: http.StatusInternalServerError, Cause: cause}
}

// ClientAdditionalConfig is eSignet's additionalConfig, as Sanad reads it.
// An absent member is its zero value.
type ClientAdditionalConfig struct {
	// UserinfoResponseType is JWS (signed), JWE (signed, then encrypted to
	// the client) or JSON (plain JSON, Sanad's addition); "" means JWS. A
	// JWS client also gets plain JSON when its Accept header asks for
	// application/json alone; a JWE client never does.
	UserinfoResponseType string `json:"userinfo_response_type,omitempty"`
	// UserinfoEncryptionJWK is the public JWK userinfo responses are
	// encrypted to when UserinfoResponseType is JWE: RSA of 2048 bits or
	// more (RSA-OAEP-256) or EC P-256 (ECDH-ES). Absent, they are encrypted
	// to the client's registered key, as in eSignet, which must then be RSA
	// or EC P-256: a client registered with an Ed25519 key needs this
	// member to use JWE. A pointer keeps the struct comparable.
	UserinfoEncryptionJWK *json.RawMessage `json:"userinfo_encryption_jwk,omitempty"`
	RequirePKCE           bool             `json:"require_pkce,omitempty"`
	DPoPBoundTokens       bool             `json:"dpop_bound_access_tokens,omitempty"`
	RequirePAR            bool             `json:"require_pushed_authorization_requests,omitempty"`
	// ConsentExpireInMins is how long a consent stays valid; 0: it does
	// not expire.
	ConsentExpireInMins int            `json:"consent_expire_in_mins,omitempty"`
	Purpose             *ClientPurpose `json:"purpose,omitempty"`
	// IDTokenSignedResponseAlg is the algorithm the client wants its ID
	// tokens signed with; "" for the provider's default.
	IDTokenSignedResponseAlg string `json:"id_token_signed_response_alg,omitempty"`
	// SectorIdentifier is the host name pairwise subjects are computed for
	// (OpenID Connect Core section 8.1); "" for the host of the redirect
	// URIs.
	SectorIdentifier string `json:"sector_identifier,omitempty"`
	// ConsentManagement lets the client ask for ConsentScope: an access
	// token to the resident's consent API (list and withdraw consents).
	// For the authority's own account portal or wallet, not for banks.
	ConsentManagement     bool `json:"consent_management,omitempty"`
	SignupBannerRequired  bool `json:"signup_banner_required,omitempty"`
	ForgotPwdLinkRequired bool `json:"forgot_pwd_link_required,omitempty"`
	// Introspection lets the client introspect access tokens issued to any
	// client (a resource server); without it a client may introspect only
	// its own tokens.
	Introspection bool `json:"introspection,omitempty"`
	// Scope is the space-separated credential scopes a public client
	// (clientAuthMethods ["none"], a wallet app) may ask for (RFC 7591's
	// scope metadata); required for public clients and only for them.
	// OpenID Connect scopes and sanad:consents are refused here, and the
	// provider refuses at /authorize any that is not a scope of the
	// credential issuer.
	Scope string `json:"scope,omitempty"`
}

// scopes returns the registered scopes (Scope).
func (c *ClientAdditionalConfig) scopes() []string { return strings.Fields(c.Scope) }

// Limits of a public client's registered scopes.
const (
	maxClientScopes      = 20
	maxClientScopeLength = 100
)

// validScopeToken reports whether s is a scope token (RFC 6749 section
// 3.3: NQCHAR, no space, quote or backslash) of at most
// maxClientScopeLength characters.
func validScopeToken(s string) bool {
	if s == "" || len(s) > maxClientScopeLength {
		return false
	}
	for i := range len(s) {
		if c := s[i]; c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Userinfo response types (ClientAdditionalConfig.UserinfoResponseType).
const (
	UserinfoJWS  = "JWS"
	UserinfoJWE  = "JWE"
	UserinfoJSON = "JSON"
)

// Userinfo encryption algorithms: key management by key type, and the
// content encryption.
const (
	userinfoAlgRSA = "RSA-OAEP-256"
	userinfoAlgEC  = "ECDH-ES"
	userinfoEnc    = "A256GCM"
)

// parseEncryptionJWK checks that raw is a public JWK userinfo can be
// encrypted to and returns it with its key management algorithm: RSA of
// 2048 to 8192 bits (RSA-OAEP-256) or EC P-256 (ECDH-ES), without private
// members, and with "use", "key_ops" and "alg", where present, allowing
// encryption with that algorithm. The error's text is safe to send.
func parseEncryptionJWK(raw json.RawMessage) (jwk.Key, string, error) {
	var members map[string]json.RawMessage
	if isJSONNull(raw) || json.Unmarshal(raw, &members) != nil || members == nil {
		return nil, "", errors.New("must be a JWK object")
	}
	for _, m := range clientJWKPrivateMembers {
		if _, ok := members[m]; ok {
			return nil, "", errors.New("must hold only the public part of the key")
		}
	}
	var k struct {
		Kty    string   `json:"kty"`
		Crv    string   `json:"crv"`
		Use    string   `json:"use"`
		Alg    string   `json:"alg"`
		KeyOps []string `json:"key_ops"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return nil, "", errors.New("has a member of the wrong type")
	}
	if k.Use != "" && k.Use != "enc" {
		return nil, "", errors.New(`"use" must be "enc"`)
	}
	for _, op := range k.KeyOps {
		if op != "encrypt" && op != "wrapKey" && op != "deriveKey" {
			return nil, "", errors.New(`"key_ops" may only hold "encrypt", "wrapKey" or "deriveKey"`)
		}
	}
	key, err := jwk.ParseKey(raw)
	if err != nil {
		return nil, "", errors.New("is not a valid JWK")
	}
	if private, err := jwk.IsPrivateKey(key); err != nil || private {
		return nil, "", errors.New("must hold only the public part of the key")
	}
	var alg string
	var pub any
	if err := jwk.Export(key, &pub); err != nil {
		return nil, "", errors.New("is not a valid JWK")
	}
	switch pk := pub.(type) {
	case *rsa.PublicKey:
		if bits := pk.N.BitLen(); bits < minClientRSABits || bits > maxClientRSABits {
			return nil, "", fmt.Errorf("an RSA key must have %d to %d bits", minClientRSABits, maxClientRSABits)
		}
		if pk.E < 3 || pk.E%2 == 0 {
			return nil, "", errors.New("is not a valid RSA key")
		}
		alg = userinfoAlgRSA
	case *ecdsa.PublicKey:
		if k.Crv != "P-256" || pk.Curve != elliptic.P256() {
			return nil, "", errors.New("an EC key must be on curve P-256")
		}
		if _, err := pk.ECDH(); err != nil {
			return nil, "", errors.New("is not a point on P-256")
		}
		alg = userinfoAlgEC
	default:
		return nil, "", errors.New("must be an RSA or EC P-256 key")
	}
	if k.Alg != "" && k.Alg != alg {
		return nil, "", fmt.Errorf(`"alg" must be %s for this key type`, alg)
	}
	return key, alg, nil
}

// checkUserinfoEncryption refuses a JWE client that has nothing userinfo
// can be encrypted to: no userinfo_encryption_jwk and a registered key
// that is not RSA or EC (Ed25519 keys only sign).
func checkUserinfoEncryption(additionalConfig, publicKey json.RawMessage) error {
	if isJSONNull(additionalConfig) {
		return nil
	}
	cfg, err := ParseClientAdditionalConfig(additionalConfig)
	if err != nil {
		return err
	}
	if cfg.UserinfoResponseType != UserinfoJWE || cfg.UserinfoEncryptionJWK != nil {
		return nil
	}
	var k struct {
		Kty string `json:"kty"`
	}
	if json.Unmarshal(publicKey, &k) != nil || (k.Kty != "RSA" && k.Kty != "EC") {
		return clientInvalid(ClientMgmtInvalidAdditionalConfig,
			"userinfo_response_type JWE needs userinfo_encryption_jwk: the client's public key cannot encrypt")
	}
	return nil
}

// ClientPurpose is what the login page tells the resident the client wants:
// a type and texts by language ("@none" for any).
type ClientPurpose struct {
	Type     string            `json:"type"`
	Title    map[string]string `json:"title,omitempty"`
	SubTitle map[string]string `json:"subTitle,omitempty"`
}

// clientIDTokenAlgs are the ID token signature algorithms a client may ask
// for: those the keys package signs with.
var clientIDTokenAlgs = []string{"ES256", "EdDSA", "RS256", "PS256"}

// hostnamePattern is a DNS host name in lower case.
var hostnamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ParseClientAdditionalConfig reads a client's additionalConfig. Unknown
// members, members of the wrong type and values out of range are errors
// (invalid_additional_config); an empty input is the zero config.
func ParseClientAdditionalConfig(b []byte) (ClientAdditionalConfig, error) {
	var cfg ClientAdditionalConfig
	if len(bytes.TrimSpace(b)) == 0 {
		return cfg, nil
	}
	bad := func(desc string) (ClientAdditionalConfig, error) {
		return ClientAdditionalConfig{}, clientInvalid(ClientMgmtInvalidAdditionalConfig, desc)
	}
	if b = bytes.TrimSpace(b); b[0] != '{' {
		return bad("additionalConfig must be a JSON object")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&cfg); err != nil {
		return bad("additionalConfig has an unknown member or a member of the wrong type")
	}
	if _, err := d.Token(); err != io.EOF {
		return bad("additionalConfig must be one JSON object")
	}
	switch cfg.UserinfoResponseType {
	case "", UserinfoJWS, UserinfoJWE, UserinfoJSON:
	default:
		return bad("userinfo_response_type must be JWS, JWE or JSON")
	}
	if cfg.UserinfoEncryptionJWK != nil {
		if _, _, err := parseEncryptionJWK(*cfg.UserinfoEncryptionJWK); err != nil {
			return bad("userinfo_encryption_jwk: " + err.Error())
		}
	}
	if cfg.ConsentExpireInMins < 0 {
		return bad("consent_expire_in_mins must not be negative")
	}
	if cfg.IDTokenSignedResponseAlg != "" && !slices.Contains(clientIDTokenAlgs, cfg.IDTokenSignedResponseAlg) {
		return bad("id_token_signed_response_alg must be one of " + strings.Join(clientIDTokenAlgs, ", "))
	}
	if cfg.SectorIdentifier != "" && (len(cfg.SectorIdentifier) > 253 || !hostnamePattern.MatchString(cfg.SectorIdentifier)) {
		return bad("sector_identifier must be a host name in lower case")
	}
	if cfg.RequirePAR && !cfg.RequirePKCE {
		// FAPI 2.0: PAR without PKCE is not a profile Sanad offers.
		return bad("require_pushed_authorization_requests needs require_pkce")
	}
	scopes := cfg.scopes()
	if len(scopes) > maxClientScopes {
		return bad(fmt.Sprintf("scope may hold at most %d scopes", maxClientScopes))
	}
	for i, sc := range scopes {
		switch {
		case !validScopeToken(sc):
			return bad(fmt.Sprintf("scope must be space-separated scope tokens of 1 to %d characters", maxClientScopeLength))
		case slices.Contains(standardScopes, sc) || sc == ConsentScope:
			return bad("scope may hold credential scopes only, not " + sc)
		case slices.Contains(scopes[:i], sc):
			return bad("scope must not repeat a scope")
		}
	}
	return cfg, nil
}

// ClientRegistration is a new client: eSignet's v3 create request.
type ClientRegistration struct {
	ClientID          string            `json:"clientId"`
	ClientName        string            `json:"clientName"`
	ClientNameLangMap map[string]string `json:"clientNameLangMap"`
	// PublicKey is one public JWK: RSA (2048 bits or more), EC P-256 or
	// Ed25519.
	PublicKey         json.RawMessage `json:"publicKey"`
	RelyingPartyID    string          `json:"relyingPartyId"`
	UserClaims        []string        `json:"userClaims"`
	AuthContextRefs   []string        `json:"authContextRefs"`
	LogoURI           string          `json:"logoUri"`
	RedirectURIs      []string        `json:"redirectUris"`
	GrantTypes        []string        `json:"grantTypes"`
	ClientAuthMethods []string        `json:"clientAuthMethods"`
	AdditionalConfig  json.RawMessage `json:"additionalConfig"`
}

// Validate checks every field as eSignet does and reports the first
// problem as a *ClientRegistryError with eSignet's code.
func (q *ClientRegistration) Validate() error {
	if q.ClientID == "" || len(q.ClientID) > maxClientIDLength || !clientIDPattern.MatchString(q.ClientID) {
		return clientInvalid(ClientMgmtInvalidClientID,
			fmt.Sprintf("clientId must be 1 to %d letters, digits or . _ ~ -", maxClientIDLength))
	}
	if isPublicClient(q.ClientAuthMethods) {
		if !isJSONNull(q.PublicKey) {
			return clientInvalid(ClientMgmtInvalidPublicKey, `a public client (clientAuthMethods ["none"]) registers no publicKey`)
		}
	} else if _, err := parseClientPublicKey(q.PublicKey); err != nil {
		return err
	}
	if q.RelyingPartyID == "" || strings.TrimSpace(q.RelyingPartyID) != q.RelyingPartyID ||
		utf8.RuneCountInString(q.RelyingPartyID) > maxRPIDLength {
		return clientInvalid(ClientMgmtInvalidRPID,
			fmt.Sprintf("relyingPartyId must be 1 to %d characters without surrounding spaces", maxRPIDLength))
	}
	if err := validateClientFields(clientFields{
		name: q.ClientName, nameLangMap: q.ClientNameLangMap, userClaims: q.UserClaims, acrs: q.AuthContextRefs,
		logoURI: q.LogoURI, redirectURIs: q.RedirectURIs, grantTypes: q.GrantTypes,
		authMethods: q.ClientAuthMethods, additionalConfig: q.AdditionalConfig, status: ClientStatusActive,
	}); err != nil {
		return err
	}
	return checkUserinfoEncryption(q.AdditionalConfig, q.PublicKey)
}

// ClientUpdate is eSignet's v3 update request: everything but the id, the
// public key and the relying party may change.
type ClientUpdate struct {
	ClientName        string            `json:"clientName"`
	ClientNameLangMap map[string]string `json:"clientNameLangMap"`
	Status            string            `json:"status"`
	LogoURI           string            `json:"logoUri"`
	RedirectURIs      []string          `json:"redirectUris"`
	UserClaims        []string          `json:"userClaims"`
	AuthContextRefs   []string          `json:"authContextRefs"`
	GrantTypes        []string          `json:"grantTypes"`
	ClientAuthMethods []string          `json:"clientAuthMethods"`
	AdditionalConfig  json.RawMessage   `json:"additionalConfig"`
}

// Validate checks every field as eSignet does and reports the first
// problem as a *ClientRegistryError with eSignet's code.
func (q *ClientUpdate) Validate() error {
	return validateClientFields(clientFields{
		name: q.ClientName, nameLangMap: q.ClientNameLangMap, userClaims: q.UserClaims, acrs: q.AuthContextRefs,
		logoURI: q.LogoURI, redirectURIs: q.RedirectURIs, grantTypes: q.GrantTypes,
		authMethods: q.ClientAuthMethods, additionalConfig: q.AdditionalConfig, status: q.Status,
	})
}

// clientFields are the fields create and update have in common.
type clientFields struct {
	name                    string
	nameLangMap             map[string]string
	userClaims, acrs        []string
	logoURI                 string
	redirectURIs            []string
	grantTypes, authMethods []string
	additionalConfig        json.RawMessage
	status                  string
}

func validateClientFields(f clientFields) error {
	if !validClientName(f.name) {
		return clientInvalid(ClientMgmtInvalidClientName,
			fmt.Sprintf("clientName must be 1 to %d characters, not blank", maxClientNameLength))
	}
	for lang, name := range f.nameLangMap {
		if !clientLanguagePattern.MatchString(lang) {
			return clientInvalid(ClientMgmtInvalidLanguageCode, "clientNameLangMap keys must be ISO 639-3 language codes")
		}
		if !validClientName(name) {
			return clientInvalid(ClientMgmtInvalidClientNameValue,
				fmt.Sprintf("clientNameLangMap values must be 1 to %d characters, not blank", maxClientNameLength))
		}
	}
	if f.status != ClientStatusActive && f.status != ClientStatusInactive {
		return clientInvalid(ClientMgmtInvalidStatus, "status must be ACTIVE or INACTIVE")
	}
	if f.userClaims == nil {
		return clientInvalid(ClientMgmtInvalidClaim, "userClaims is required (it may be empty)")
	}
	if err := clientSubset(f.userClaims, SupportedClientClaims, ClientMgmtInvalidClaim, "userClaims"); err != nil {
		return err
	}
	if len(f.acrs) == 0 {
		return clientInvalid(ClientMgmtInvalidACR, "authContextRefs must name at least one ACR")
	}
	if err := clientSubset(f.acrs, SupportedClientACRs, ClientMgmtInvalidACR, "authContextRefs"); err != nil {
		return err
	}
	if err := validateClientLogoURI(f.logoURI); err != nil {
		return err
	}
	if err := validateRedirectURIs(f.redirectURIs); err != nil {
		return err
	}
	clientGrantTypes := []string{GrantTypeAuthorizationCode, GrantTypePreAuthorizedCode}
	if len(f.grantTypes) == 0 {
		return clientInvalid(ClientMgmtInvalidGrantType, "grantTypes must hold "+strings.Join(clientGrantTypes, ", ")+" or both")
	}
	if err := clientSubset(f.grantTypes, clientGrantTypes, ClientMgmtInvalidGrantType, "grantTypes"); err != nil {
		return err
	}
	if len(f.authMethods) != 1 || (f.authMethods[0] != AuthMethodPrivateKeyJWT && f.authMethods[0] != AuthMethodNone) {
		// Both at once would let anyone act as the client without its key.
		return clientInvalid(ClientMgmtInvalidClientAuth, `clientAuthMethods must be ["private_key_jwt"], or ["none"] for a public client`)
	}
	var cfg ClientAdditionalConfig
	if !isJSONNull(f.additionalConfig) {
		var err error
		if cfg, err = ParseClientAdditionalConfig(f.additionalConfig); err != nil {
			return err
		}
	}
	return validatePublicClientFields(f, cfg)
}

// isPublicClient reports whether clientAuthMethods make a public client.
func isPublicClient(authMethods []string) bool {
	return slices.Equal(authMethods, []string{AuthMethodNone})
}

// validatePublicClientFields: anyone can claim a public client's id (a
// wallet app holds no secret), so such a client may only get what the
// resident who logs in gets anyway, a credential: it registers its
// credential scopes (additionalConfig "scope"), no userClaims, and none of
// consent_management, introspection or the userinfo and ID token settings.
// Only public clients register a scope.
func validatePublicClientFields(f clientFields, cfg ClientAdditionalConfig) error {
	if !isPublicClient(f.authMethods) {
		if cfg.Scope != "" {
			return clientInvalid(ClientMgmtInvalidAdditionalConfig, `scope is for public clients (clientAuthMethods ["none"]) only`)
		}
		return nil
	}
	// "none" is what is refused when the rest does not fit a public client.
	if len(f.userClaims) > 0 {
		return clientInvalid(ClientMgmtInvalidClientAuth, `clientAuthMethods ["none"] is for clients without userClaims: a public client gets credential scopes only`)
	}
	if len(cfg.scopes()) == 0 {
		return clientInvalid(ClientMgmtInvalidClientAuth, `clientAuthMethods ["none"] needs the client's credential scopes in additionalConfig scope`)
	}
	if cfg.ConsentManagement || cfg.Introspection || cfg.UserinfoResponseType != "" || cfg.UserinfoEncryptionJWK != nil ||
		cfg.IDTokenSignedResponseAlg != "" {
		return clientInvalid(ClientMgmtInvalidAdditionalConfig,
			"a public client may not set consent_management, introspection, userinfo or ID token settings")
	}
	return nil
}

func validClientName(s string) bool {
	return strings.TrimSpace(s) != "" && utf8.ValidString(s) && utf8.RuneCountInString(s) <= maxClientNameLength
}

// clientSubset checks that every value is one of allowed, each at most once.
func clientSubset(values, allowed []string, code, field string) error {
	for i, v := range values {
		if !slices.Contains(allowed, v) {
			return clientInvalid(code, field+" may only hold "+strings.Join(allowed, ", "))
		}
		if slices.Contains(values[:i], v) {
			return clientInvalid(code, field+" must not repeat a value")
		}
	}
	return nil
}

func isJSONNull(b json.RawMessage) bool {
	b = bytes.TrimSpace(b)
	return len(b) == 0 || string(b) == "null"
}

// isLoopbackHost reports whether host (without port) is the loopback
// interface, where plain http is acceptable (RFC 8252 section 7.3).
func isLoopbackHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// validateClientLogoURI: the logo is shown on the login page, so it must be
// https (http only on the loopback interface, for development).
func validateClientLogoURI(s string) error {
	u, err := url.Parse(s)
	if s == "" || len(s) > maxClientURILength || err != nil || u.Host == "" || u.User != nil ||
		!(u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return clientInvalid(ClientMgmtInvalidURI, "logoUri must be an https URL")
	}
	return nil
}

// validateRedirectURIs checks a client's redirect URIs: 1 to 5 of them,
// distinct, absolute, without a fragment (RFC 6749 section 3.1.2) and
// without wildcards (Sanad compares redirect URIs exactly). A redirect URI
// is one of
//
//   - https with a host;
//   - http to the loopback interface (localhost, 127.0.0.1, [::1]), for
//     native apps and development (RFC 8252 section 7.3);
//   - a private-use scheme in reverse domain form, like
//     io.mosip.residentapp://oauth, for mobile apps (RFC 8252 section 7.1).
//     The dot in the scheme is what RFC 8252 asks for, and it keeps out
//     javascript:, data:, file: and other schemes a browser would act on.
func validateRedirectURIs(uris []string) error {
	if len(uris) == 0 || len(uris) > maxClientRedirectURIs {
		return clientInvalid(ClientMgmtInvalidRedirectURI,
			fmt.Sprintf("redirectUris must hold 1 to %d URIs", maxClientRedirectURIs))
	}
	for i, s := range uris {
		if !validRedirectURI(s) {
			return clientInvalid(ClientMgmtInvalidRedirectURI,
				"a redirect URI must be https, http to localhost, or a reverse-domain app scheme, without fragment or wildcard")
		}
		if slices.Contains(uris[:i], s) {
			return clientInvalid(ClientMgmtInvalidRedirectURI, "redirectUris must not repeat a URI")
		}
	}
	return nil
}

func validRedirectURI(s string) bool {
	if s == "" || len(s) > maxClientURILength || strings.ContainsAny(s, "#* \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.User != nil {
		return false
	}
	switch {
	case u.Scheme == "https":
		return u.Host != "" && u.Hostname() != ""
	case u.Scheme == "http":
		return isLoopbackHost(u.Hostname())
	default:
		// url.Parse lower-cases nothing: a scheme is [a-zA-Z][a-zA-Z0-9+.-]*.
		return strings.Contains(u.Scheme, ".") && !strings.HasPrefix(u.Scheme, ".") &&
			!strings.HasSuffix(u.Scheme, ".") && (u.Host != "" || u.Path != "" || u.Opaque != "")
	}
}

// clientPublicKey is a client's verified public JWK.
type clientPublicKey struct {
	jwk        json.RawMessage // the JWK as registered, compacted
	thumbprint []byte          // RFC 7638 SHA-256 thumbprint
}

// clientJWKPrivateMembers are the JWK members of private and symmetric keys
// (RFC 7518 section 6).
var clientJWKPrivateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// parseClientPublicKey checks that raw is one public JWK Sanad can verify
// client assertions with: RSA of 2048 to 8192 bits, EC on P-256 or OKP
// Ed25519, with no private member, and with "use", "key_ops" and "alg",
// where present, allowing signature verification with that key type.
func parseClientPublicKey(raw json.RawMessage) (clientPublicKey, error) {
	bad := func(desc string) (clientPublicKey, error) {
		return clientPublicKey{}, clientInvalid(ClientMgmtInvalidPublicKey, desc)
	}
	var members map[string]json.RawMessage
	if isJSONNull(raw) || json.Unmarshal(raw, &members) != nil || members == nil {
		return bad("publicKey must be a JWK object")
	}
	for _, m := range clientJWKPrivateMembers {
		if _, ok := members[m]; ok {
			return bad("publicKey must hold only the public part of the key")
		}
	}
	var k struct {
		Kty    string   `json:"kty"`
		Crv    string   `json:"crv"`
		N      string   `json:"n"`
		E      string   `json:"e"`
		X      string   `json:"x"`
		Y      string   `json:"y"`
		Use    string   `json:"use"`
		Alg    string   `json:"alg"`
		KeyOps []string `json:"key_ops"`
	}
	if err := json.Unmarshal(raw, &k); err != nil {
		return bad("publicKey has a member of the wrong type")
	}
	if k.Use != "" && k.Use != "sig" {
		return bad(`publicKey "use" must be "sig"`)
	}
	for _, op := range k.KeyOps {
		if op != "verify" {
			return bad(`publicKey "key_ops" may only hold "verify"`)
		}
	}
	b64 := base64.RawURLEncoding.Strict()
	var canonical map[string]string // the RFC 7638 required members
	var algs []string
	switch k.Kty {
	case "RSA":
		n, errN := b64.DecodeString(k.N)
		e, errE := b64.DecodeString(k.E)
		if errN != nil || errE != nil || len(n) == 0 || len(e) == 0 {
			return bad("publicKey is not a valid RSA key")
		}
		nInt, eInt := new(big.Int).SetBytes(n), new(big.Int).SetBytes(e)
		if bits := nInt.BitLen(); bits < minClientRSABits || bits > maxClientRSABits {
			return bad(fmt.Sprintf("an RSA publicKey must have %d to %d bits", minClientRSABits, maxClientRSABits))
		}
		if !eInt.IsInt64() || eInt.Int64() < 3 || eInt.Int64() > 1<<31-1 || eInt.Bit(0) == 0 || nInt.Bit(0) == 0 {
			return bad("publicKey is not a valid RSA key")
		}
		canonical = map[string]string{"kty": "RSA", "n": b64.EncodeToString(nInt.Bytes()), "e": b64.EncodeToString(eInt.Bytes())}
		algs = []string{"RS256", "PS256"}
	case "EC":
		if k.Crv != "P-256" {
			return bad("an EC publicKey must be on curve P-256")
		}
		x, errX := b64.DecodeString(k.X)
		y, errY := b64.DecodeString(k.Y)
		if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
			return bad("publicKey is not a valid P-256 key")
		}
		if _, err := ecdh.P256().NewPublicKey(append(append([]byte{4}, x...), y...)); err != nil {
			return bad("publicKey is not a point on P-256")
		}
		canonical = map[string]string{"kty": "EC", "crv": "P-256", "x": k.X, "y": k.Y}
		algs = []string{"ES256"}
	case "OKP":
		if k.Crv != "Ed25519" {
			return bad("an OKP publicKey must be Ed25519")
		}
		if x, err := b64.DecodeString(k.X); err != nil || len(x) != 32 {
			return bad("publicKey is not a valid Ed25519 key")
		}
		canonical = map[string]string{"kty": "OKP", "crv": "Ed25519", "x": k.X}
		algs = []string{"EdDSA"}
	default:
		return bad("publicKey must be an RSA, EC or OKP key")
	}
	if k.Alg != "" && !slices.Contains(algs, k.Alg) {
		return bad(`publicKey "alg" must be one of ` + strings.Join(algs, ", ") + " for this key type")
	}
	// encoding/json writes map keys sorted and without spaces: exactly the
	// RFC 7638 form.
	tp, err := json.Marshal(canonical)
	if err != nil {
		return clientPublicKey{}, clientServerError(err)
	}
	sum := sha256.Sum256(tp)
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return bad("publicKey must be a JWK object")
	}
	return clientPublicKey{jwk: compact.Bytes(), thumbprint: sum[:]}, nil
}

// clientKeySetHash is the stored PublicKeyHash: SHA-256 over the sorted
// thumbprints of the set's keys, so that no two clients register the same
// key, whatever its kid, alg or encoding.
func clientKeySetHash(keys ...clientPublicKey) []byte {
	tps := make([][]byte, len(keys))
	for i, k := range keys {
		tps[i] = k.thumbprint
	}
	slices.SortFunc(tps, bytes.Compare)
	h := sha256.New()
	for _, tp := range tps {
		h.Write(tp)
	}
	return h.Sum(nil)
}

// publicClientKeyHash is the stored PublicKeyHash of a public client, which
// has no key: unique per client id (the column is), and never the hash of
// a key set, whose input is a sequence of 32-byte thumbprints.
func publicClientKeyHash(clientID string) []byte {
	sum := sha256.Sum256([]byte("sanad:public-client\x00" + clientID))
	return sum[:]
}

// clientKeySet is the stored PublicKeys: a JWK set.
type clientKeySet struct {
	Keys []json.RawMessage `json:"keys"`
}

// ClientRegistry manages relying-party clients: it validates registrations
// and updates as eSignet does and keeps the clients in storage.
type ClientRegistry struct {
	store storage.Clients
	now   func() time.Time
}

// NewClientRegistry returns a registry over store; now is the clock (nil for
// time.Now).
func NewClientRegistry(store storage.Clients, now func() time.Time) *ClientRegistry {
	if now == nil {
		now = time.Now
	}
	return &ClientRegistry{store: store, now: now}
}

// Create validates and stores a new, ACTIVE client.
// duplicate_client_id or duplicate_public_key (409) if the id or the key is
// registered already.
func (r *ClientRegistry) Create(ctx context.Context, q ClientRegistration) (storage.Client, error) {
	if err := q.Validate(); err != nil {
		return storage.Client{}, err
	}
	keys := clientKeySet{Keys: []json.RawMessage{}}
	var hash []byte
	if isPublicClient(q.ClientAuthMethods) {
		hash = publicClientKeyHash(q.ClientID)
	} else {
		key, err := parseClientPublicKey(q.PublicKey)
		if err != nil {
			return storage.Client{}, err
		}
		keys.Keys, hash = []json.RawMessage{key.jwk}, clientKeySetHash(key)
	}
	set, err := json.Marshal(keys)
	if err != nil {
		return storage.Client{}, clientServerError(err)
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	c := storage.Client{
		ID:               q.ClientID,
		Name:             q.ClientName,
		NameLangMap:      q.ClientNameLangMap,
		PublicKeys:       set,
		PublicKeyHash:    hash,
		RelyingPartyID:   q.RelyingPartyID,
		UserClaims:       q.UserClaims,
		ACRs:             q.AuthContextRefs,
		LogoURI:          q.LogoURI,
		RedirectURIs:     q.RedirectURIs,
		GrantTypes:       q.GrantTypes,
		AuthMethods:      q.ClientAuthMethods,
		AdditionalConfig: compactClientConfig(q.AdditionalConfig),
		Status:           ClientStatusActive,
		Version:          1,
		CreatedAt:        now,
		UpdatedAt:        now,
	}
	err = r.store.CreateClient(ctx, c)
	if errors.Is(err, storage.ErrAlreadyExists) {
		// The store reports one kind of duplicate; tell the two apart.
		if _, gerr := r.store.GetClient(ctx, c.ID); gerr == nil {
			return storage.Client{}, &ClientRegistryError{Code: ClientMgmtDuplicateClientID,
				Description: "a client with this id exists", Status: http.StatusConflict, Cause: err}
		} else if !errors.Is(gerr, storage.ErrNotFound) {
			return storage.Client{}, clientServerError(gerr)
		}
		return storage.Client{}, &ClientRegistryError{Code: ClientMgmtDuplicatePublicKey,
			Description: "another client has registered this public key", Status: http.StatusConflict, Cause: err}
	}
	if err != nil {
		return storage.Client{}, clientServerError(err)
	}
	return c, nil
}

// compactClientConfig returns additionalConfig compacted, nil for JSON null
// or nothing. It has been validated.
func compactClientConfig(b json.RawMessage) []byte {
	if isJSONNull(b) {
		return nil
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return nil
	}
	return out.Bytes()
}

// Get returns a client; invalid_client_id (404) if there is none.
func (r *ClientRegistry) Get(ctx context.Context, id string) (storage.Client, error) {
	c, err := r.store.GetClient(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return storage.Client{}, clientNotFound(err)
	case err != nil:
		return storage.Client{}, clientServerError(err)
	}
	return c, nil
}

// Update validates q and replaces the client's mutable fields with it.
// An update replaces every field it carries, so when a concurrent update
// wins the race it is applied again on top (up to three times), as eSignet's
// last-writer-wins update would; then concurrent_update (409).
func (r *ClientRegistry) Update(ctx context.Context, id string, q ClientUpdate) (storage.Client, error) {
	if err := q.Validate(); err != nil {
		return storage.Client{}, err
	}
	var lastErr error
	for range clientUpdateAttempts {
		c, err := r.Get(ctx, id)
		if err != nil {
			return storage.Client{}, err
		}
		key, err := ClientPublicJWK(c)
		if err != nil {
			return storage.Client{}, clientServerError(err)
		}
		if isJSONNull(key) && !isPublicClient(q.ClientAuthMethods) {
			return storage.Client{}, clientInvalid(ClientMgmtInvalidClientAuth,
				`the client was registered without a public key: its clientAuthMethods must stay ["none"]`)
		}
		if err := checkUserinfoEncryption(q.AdditionalConfig, key); err != nil {
			return storage.Client{}, err
		}
		c.Name, c.NameLangMap, c.Status, c.LogoURI = q.ClientName, q.ClientNameLangMap, q.Status, q.LogoURI
		c.RedirectURIs, c.UserClaims, c.ACRs = q.RedirectURIs, q.UserClaims, q.AuthContextRefs
		c.GrantTypes, c.AuthMethods = q.GrantTypes, q.ClientAuthMethods
		c.AdditionalConfig = compactClientConfig(q.AdditionalConfig)
		c.Version++
		c.UpdatedAt = r.now().UTC().Truncate(time.Microsecond)
		err = r.store.UpdateClient(ctx, c)
		switch {
		case err == nil:
			return c, nil
		case errors.Is(err, storage.ErrConflict):
			lastErr = err
		case errors.Is(err, storage.ErrNotFound):
			return storage.Client{}, clientNotFound(err)
		default:
			return storage.Client{}, clientServerError(err)
		}
	}
	return storage.Client{}, &ClientRegistryError{Code: ClientMgmtConcurrentUpdate,
		Description: "the client is being updated concurrently; try again", Status: http.StatusConflict, Cause: lastErr}
}

// Delete removes a client; invalid_client_id (404) if there is none.
func (r *ClientRegistry) Delete(ctx context.Context, id string) error {
	err := r.store.DeleteClient(ctx, id)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return clientNotFound(err)
	case err != nil:
		return clientServerError(err)
	}
	return nil
}

// List returns up to limit clients (at most 1000) whose id sorts after
// after, ordered by id.
func (r *ClientRegistry) List(ctx context.Context, after string, limit int) ([]storage.Client, error) {
	limit = min(limit, clientRegistryPageMax)
	cs, err := r.store.ListClients(ctx, after, limit)
	if err != nil {
		return nil, clientServerError(err)
	}
	return cs, nil
}

// ClientPublicJWK returns the first key of a client's stored JWK set, as it
// was registered; JSON null for a public client registered without one.
func ClientPublicJWK(c storage.Client) (json.RawMessage, error) {
	var set clientKeySet
	if err := json.Unmarshal(c.PublicKeys, &set); err != nil || set.Keys == nil {
		return nil, fmt.Errorf("oidc: client %q has no stored public key set", c.ID)
	}
	if len(set.Keys) == 0 {
		return json.RawMessage("null"), nil
	}
	return set.Keys[0], nil
}
