package issuer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
)

// metadataMaxAge is how long clients may cache the metadata documents, in
// seconds (Cache-Control: public, max-age). The JWKS has the same, as
// keys.Service's JWKS handler does: rotate keys with a prepublish period
// longer than this.
const metadataMaxAge = 300

// metadataJWKSTTL is how long the issuer keeps the JWKS it built before
// asking Signers again: long enough to spare the key store on bursts, short
// enough that a rotation shows at once.
const metadataJWKSTTL = 30 * time.Second

// DefaultIssuerDisplay is the issuer's display metadata (name per locale)
// when Config.Display is empty.
var DefaultIssuerDisplay = []Display{
	{Name: "Sanad", Locale: "en"},
	{Name: "Sanad", Locale: "fr"},
	{Name: "سند", Locale: "ar"},
}

// metadataW3CFormats are the formats whose claims live in
// credentialSubject: their claim paths in the metadata start there
// (OpenID4VCI 1.0 appendix A.1).
var metadataW3CFormats = []string{credential.FormatJWTVC, "jwt_vc_json-ld", credential.FormatLDPVC}

// metadataDocument is the credential issuer metadata (OpenID4VCI 1.0
// section 12.2.4). Field order is the JSON order.
type metadataDocument struct {
	CredentialIssuer     string            `json:"credential_issuer"`
	AuthorizationServers []string          `json:"authorization_servers,omitempty"`
	CredentialEndpoint   string            `json:"credential_endpoint"`
	NonceEndpoint        string            `json:"nonce_endpoint,omitempty"`
	NotificationEndpoint string            `json:"notification_endpoint"`
	BatchIssuance        *metadataBatch    `json:"batch_credential_issuance,omitempty"`
	Display              []metadataDisplay `json:"display,omitempty"`
	// Configurations are the entries of credential_configurations_supported
	// by id: maps, as formats add their own members.
	Configurations map[string]map[string]any `json:"credential_configurations_supported"`
}

type metadataBatch struct {
	BatchSize int `json:"batch_size"`
}

// metadataDisplay is one display entry: of the issuer (name, locale, logo)
// or of a credential (all members).
type metadataDisplay struct {
	Name            string         `json:"name"`
	Locale          string         `json:"locale,omitempty"`
	Logo            *metadataImage `json:"logo,omitempty"`
	Description     string         `json:"description,omitempty"`
	BackgroundColor string         `json:"background_color,omitempty"`
	BackgroundImage *metadataImage `json:"background_image,omitempty"`
	TextColor       string         `json:"text_color,omitempty"`
}

type metadataImage struct {
	URI string `json:"uri"`
	// URL repeats URI in the draft-13 document: Inji wallets of that era
	// read logo.url.
	URL     string `json:"url,omitempty"`
	AltText string `json:"alt_text,omitempty"`
}

// metadataClaim is a claim description (OpenID4VCI 1.0 appendix B.2).
type metadataClaim struct {
	Path      []string       `json:"path"`
	Mandatory bool           `json:"mandatory,omitempty"`
	Display   []ClaimDisplay `json:"display,omitempty"`
}

// jwtIssuerDocument is the JWT VC Issuer Metadata of SD-JWT VC (section 5).
type jwtIssuerDocument struct {
	Issuer string          `json:"issuer"`
	JWKS   json.RawMessage `json:"jwks"`
}

// registerMetadata serves the well-known documents of the issuer and its
// JWKS. The metadata documents are built once: they hold configuration
// only. The keys are read from Signers and kept metadataJWKSTTL.
func (is *Issuer) registerMetadata(r gin.IRouter) {
	final, err := json.Marshal(is.metadata(false))
	if err != nil {
		panic(fmt.Sprintf("issuer: metadata: %v", err)) // a Format's Metadata is not JSON: a programming error
	}
	draft13, err := json.Marshal(is.metadata(true))
	if err != nil {
		panic(fmt.Sprintf("issuer: draft-13 metadata: %v", err))
	}
	serve := func(c *gin.Context, body []byte) {
		c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", metadataMaxAge))
		c.Header("Access-Control-Allow-Origin", "*")
		c.Data(http.StatusOK, "application/json", body)
	}
	for _, p := range is.wellKnownPaths(WellKnownIssuer) {
		r.GET(p, func(c *gin.Context) {
			if c.Query("version") == Draft13Query {
				serve(c, draft13)
				return
			}
			serve(c, final)
		})
	}
	keys := &metadataKeys{is: is}
	for _, p := range is.wellKnownPaths(WellKnownJWTIssuer) {
		r.GET(p, func(c *gin.Context) {
			set, err := keys.get(c.Request.Context())
			if err != nil {
				is.writeError(c, errServer(err), "")
				return
			}
			body, err := json.Marshal(jwtIssuerDocument{Issuer: is.cfg.CredentialIssuer, JWKS: set})
			if err != nil {
				is.writeError(c, errServer(err), "")
				return
			}
			serve(c, body)
		})
	}
	r.GET(is.issuerPath()+PathJWKS, func(c *gin.Context) {
		set, err := keys.get(c.Request.Context())
		if err != nil {
			is.writeError(c, errServer(err), "")
			return
		}
		serve(c, set)
	})
}

// issuerPath is the path of the issuer identifier without a trailing
// slash ("" for an issuer at the root of its host).
func (is *Issuer) issuerPath() string {
	return strings.TrimRight(is.id.EscapedPath(), "/")
}

// wellKnownPaths are the paths a well-known document of the issuer is
// served at: with the well-known segment inserted before the path of the
// identifier (RFC 8414 section 3.1, what the specifications say) and
// appended to it (what several wallets request).
func (is *Issuer) wellKnownPaths(wellKnown string) []string {
	p := is.issuerPath()
	if p == "" {
		return []string{wellKnown}
	}
	return []string{wellKnown + p, p + wellKnown}
}

// metadata builds the issuer metadata: OpenID4VCI 1.0, or the draft-13
// shape that Inji wallets and Mimoto read (display and claims at the top
// of each configuration, order, no nonce endpoint, no batch issuance).
func (is *Issuer) metadata(draft13 bool) *metadataDocument {
	doc := &metadataDocument{
		CredentialIssuer:     is.cfg.CredentialIssuer,
		AuthorizationServers: is.cfg.AuthorizationServers,
		CredentialEndpoint:   is.url(PathCredential),
		NotificationEndpoint: is.url(PathNotification),
		Display:              metadataDisplays(is.issuerDisplay(), draft13),
		Configurations:       make(map[string]map[string]any, len(is.cfg.Configurations)),
	}
	if !draft13 {
		doc.NonceEndpoint = is.url(PathNonce)
		if is.cfg.BatchSize > 1 {
			doc.BatchIssuance = &metadataBatch{BatchSize: is.cfg.BatchSize}
		}
	}
	for _, c := range is.cfg.Configurations {
		doc.Configurations[c.ID] = is.metadataConfiguration(c, draft13)
	}
	return doc
}

// metadataConfiguration is c's entry in
// credential_configurations_supported. The members the format adds
// (Format.Metadata) come last and win.
func (is *Issuer) metadataConfiguration(c *Configuration, draft13 bool) map[string]any {
	e := map[string]any{
		"format": c.Format,
		"credential_signing_alg_values_supported": []string{c.SigningAlg},
	}
	if draft13 && c.Format == credential.FormatSDJWTVC {
		e["format"] = credential.FormatSDJWTVCLegacy // the name draft 13 knows
	}
	if c.Scope != "" {
		e["scope"] = c.Scope
	}
	if len(c.BindingMethods) > 0 {
		algs := c.ProofAlgs
		if algs == nil {
			algs = []string{}
		}
		e["cryptographic_binding_methods_supported"] = c.BindingMethods
		e["proof_types_supported"] = map[string]any{
			"jwt": map[string]any{"proof_signing_alg_values_supported": algs},
		}
	}
	display := metadataDisplays(c.Display, draft13)
	if draft13 {
		if len(display) > 0 {
			e["display"] = display
		}
		if order := metadataOrder(c.Claims); len(order) > 0 {
			e["order"] = order
		}
	} else {
		cm := map[string]any{}
		if len(display) > 0 {
			cm["display"] = display
		}
		if claims := metadataClaims(c); len(claims) > 0 {
			cm["claims"] = claims
		}
		if len(cm) > 0 {
			e["credential_metadata"] = cm
		}
	}
	if f, ok := is.formats[c.Format]; ok {
		for k, v := range f.Metadata(c, draft13) {
			e[k] = v
		}
	}
	return e
}

// metadataDisplays converts display entries; draft13 adds logo.url.
func metadataDisplays(display []Display, draft13 bool) []metadataDisplay {
	out := make([]metadataDisplay, 0, len(display))
	for _, d := range display {
		m := metadataDisplay{
			Name:            d.Name,
			Locale:          d.Locale,
			Description:     d.Description,
			BackgroundColor: d.BackgroundColor,
			TextColor:       d.TextColor,
		}
		if d.Logo != nil {
			m.Logo = &metadataImage{URI: d.Logo.URI, AltText: d.Logo.AltText}
			if draft13 {
				m.Logo.URL = d.Logo.URI
			}
		}
		if d.BackgroundImage != nil {
			m.BackgroundImage = &metadataImage{URI: d.BackgroundImage.URI}
		}
		out = append(out, m)
	}
	return out
}

// metadataClaims are c's claim descriptions for credential_metadata;
// paths of W3C formats start at credentialSubject.
func metadataClaims(c *Configuration) []metadataClaim {
	var prefix []string
	for _, f := range metadataW3CFormats {
		if c.Format == f {
			prefix = []string{"credentialSubject"}
		}
	}
	out := make([]metadataClaim, 0, len(c.Claims))
	for _, cl := range c.Claims {
		out = append(out, metadataClaim{
			Path:      append(append([]string{}, prefix...), cl.Path...),
			Mandatory: cl.Mandatory,
			Display:   cl.Display,
		})
	}
	return out
}

// metadataOrder is draft 13's order: the top-level claim names in the order
// of the claims.
func metadataOrder(claims []Claim) []string {
	var out []string
	for _, cl := range claims {
		if len(cl.Path) == 0 {
			continue
		}
		name := cl.Path[0]
		dup := false
		for _, o := range out {
			dup = dup || o == name
		}
		if !dup {
			out = append(out, name)
		}
	}
	return out
}

// draft13ClaimDescriptions describes claims as draft 13 does, for the
// formats' draft-13 Metadata (credential_definition.credentialSubject of
// W3C formats, claims of vc+sd-jwt): an object keyed by claim name, nested
// along the paths, each claim with mandatory (when true) and display.
func draft13ClaimDescriptions(claims []Claim) map[string]any {
	out := map[string]any{}
	for _, cl := range claims {
		if len(cl.Path) == 0 {
			continue
		}
		m := out
		for _, k := range cl.Path {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		if cl.Mandatory {
			m["mandatory"] = true
		}
		if len(cl.Display) > 0 {
			m["display"] = cl.Display
		}
	}
	return out
}

// metadataKeys keeps the issuer's JWKS ({"keys": [...]}, public members
// only) for metadataJWKSTTL.
type metadataKeys struct {
	is    *Issuer
	mu    sync.Mutex
	jwks  []byte
	until time.Time
}

func (k *metadataKeys) get(ctx context.Context) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	now := k.is.now()
	if k.jwks != nil && now.Before(k.until) {
		return k.jwks, nil
	}
	set, err := k.is.cfg.Signers.JWKS(ctx)
	if err != nil {
		return nil, fmt.Errorf("issuer: JWKS: %w", err)
	}
	// Public members only, whatever Signers returned.
	pub, err := jwk.PublicSetOf(set)
	if err != nil {
		return nil, fmt.Errorf("issuer: JWKS: %w", err)
	}
	body, err := json.Marshal(pub)
	if err != nil {
		return nil, fmt.Errorf("issuer: JWKS: %w", err)
	}
	k.jwks, k.until = body, now.Add(metadataJWKSTTL)
	return body, nil
}

// issuerDisplay is Config.Display, or DefaultIssuerDisplay.
func (is *Issuer) issuerDisplay() []Display {
	if len(is.cfg.Display) > 0 {
		return is.cfg.Display
	}
	return DefaultIssuerDisplay
}
