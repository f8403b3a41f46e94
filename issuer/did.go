package issuer

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/ldp"
)

// The issuer's DID.
//
// ldp_vc credentials and W3C status list credentials name their issuer by
// a did:web DID (Config.DID, by default that of the issuer identifier's
// host), whose document the issuer serves: every credential signing key,
// current and retired, is a verification method "<DID>#<kid>" under
// assertionMethod, as a Multikey (what the Data Integrity cryptosuites
// require). When a configuration signs with Ed25519Signature2020, an
// Ed25519 key is listed a second time, as an Ed25519VerificationKey2020
// "<DID>#<kid>-ed25519-2020", which that suite's proofs name: Inji Verify
// reads publicKeyMultibase only under the key types of that suite. The
// JWKS and jwt-vc-issuer metadata are unchanged: they serve the JWT
// formats.

// WellKnownDID is where the DID document of a did:web DID without a path
// is served (did:web:id.example is https://id.example/.well-known/did.json).
const WellKnownDID = "/.well-known/did.json"

// didContentType is the media type of the served DID document: the JSON-LD
// representation (it has an @context).
const didContentType = "application/did+ld+json"

// ed2020MethodSuffix ends the fragment of an Ed25519 key's
// Ed25519VerificationKey2020 method.
const ed2020MethodSuffix = "-ed25519-2020"

// initDID sets the issuer's DID: Config.DID, or the did:web of the issuer
// identifier's scheme and host (port 0 left out). It must be a did:web
// DID of the issuer identifier's host, whose document the issuer can
// serve: resolvers fetch it from the DID's host, the issuer serves it on
// its own.
func (is *Issuer) initDID() error {
	d := is.cfg.DID
	if d == "" {
		host := is.id.Host
		if is.id.Port() == "0" {
			// A listener on an ephemeral port (tests): no DID can name
			// it, the host's is the nearest.
			host = is.id.Hostname()
		}
		d = did.WebDID(is.id.Scheme + "://" + host)
		if d == "" {
			return fmt.Errorf("issuer: the host of %q gives no did:web DID: set DID", is.cfg.CredentialIssuer)
		}
	}
	u, err := did.Parse(d)
	if err != nil {
		return fmt.Errorf("issuer: DID %q: %w", d, err)
	}
	if u.Fragment != "" || u.Method != "web" {
		return fmt.Errorf("issuer: DID %q must be a did:web DID (without fragment), whose document the issuer serves", d)
	}
	doc, err := did.WebDocumentURL(d)
	if err != nil {
		return fmt.Errorf("issuer: DID %q: %w", d, err)
	}
	du, err := url.Parse(doc)
	if err != nil {
		return fmt.Errorf("issuer: DID %q: %w", d, err)
	}
	if !sameWebHost(du, is.id) {
		return fmt.Errorf("issuer: DID %q: its document must be served on the DID's host (%s), but the issuer serves it on its own host, %s: set a did:web DID of %s, or leave DID empty", d, doc, is.id.Host, is.id.Host)
	}
	is.did, is.didPath = d, du.EscapedPath()
	is.didDoc = &didDocCache{is: is}
	for _, c := range is.cfg.Configurations {
		is.ed2020 = is.ed2020 || (c.Format == credential.FormatLDPVC && c.Cryptosuite == ldp.SuiteEd25519Signature2020)
	}
	return nil
}

// sameWebHost reports whether a did:web document URL (https) is on the
// host of the issuer identifier id: the same host name (case aside) and
// port, a scheme's default port being no port. An identifier on port 0 (an
// ephemeral listener, in tests) matches any port, as its default DID
// leaves the port out.
func sameWebHost(doc, id *url.URL) bool {
	if !strings.EqualFold(doc.Hostname(), id.Hostname()) {
		return false
	}
	docPort, idPort := doc.Port(), id.Port()
	if docPort == "443" {
		docPort = ""
	}
	switch {
	case idPort == "0":
		return true
	case id.Scheme == "https" && idPort == "443", id.Scheme == "http" && idPort == "80":
		idPort = ""
	}
	return docPort == idPort
}

// DID is the issuer's DID: the issuer of its ldp_vc and W3C status list
// credentials.
func (is *Issuer) DID() string { return is.did }

// ldpMethodID is the verification method of the issuer's key kid that
// proofs of suite name.
func ldpMethodID(didID, kid, suite string) string {
	if suite == ldp.SuiteEd25519Signature2020 {
		return didID + "#" + kid + ed2020MethodSuffix
	}
	return didID + "#" + kid
}

// signLDP signs doc with a Data Integrity proof of suite by the issuer's
// current key for it, as its DID's verification method, created now.
// Ed25519Signature2020 needs a configuration of that suite: only then
// does the DID document list the methods its proofs name.
func (is *Issuer) signLDP(ctx context.Context, doc map[string]any, suite string) (map[string]any, error) {
	alg, err := ldp.SuiteAlg(suite)
	if err != nil {
		return nil, err
	}
	if suite == ldp.SuiteEd25519Signature2020 && !is.ed2020 {
		return nil, fmt.Errorf("%w: no configuration signs with %s, so the DID document lists no key for it", ldp.ErrUnsupportedSuite, suite)
	}
	signer, err := is.cfg.Signers.Signer(alg)
	if err != nil {
		return nil, fmt.Errorf("issuer: signer for %s: %w", alg, err)
	}
	return ldp.Sign(ctx, is.loader, doc, signer, ldp.SignOptions{
		Suite:              suite,
		VerificationMethod: ldpMethodID(is.did, signer.KeyID(), suite),
		Created:            is.now(),
	})
}

// DIDDocument builds the issuer's DID document from its signing keys
// (Signers.JWKS, current and retired): each key with a kid that a
// Multikey can hold (Ed25519, P-256, P-384, P-521) is a verification
// method "#<kid>" under assertionMethod, and an Ed25519 key also an
// Ed25519VerificationKey2020 "#<kid>-ed25519-2020" when a configuration
// signs with Ed25519Signature2020. Keys of other types (RSA) sign no
// ldp_vc and are left out.
func (is *Issuer) DIDDocument(ctx context.Context) (*did.Document, error) {
	set, err := is.cfg.Signers.JWKS(ctx)
	if err != nil {
		return nil, fmt.Errorf("issuer: JWKS: %w", err)
	}
	var methods []did.VerificationMethod
	for i := 0; i < set.Len(); i++ {
		k, ok := set.Key(i)
		if !ok {
			continue
		}
		kid, _ := k.KeyID()
		if use, ok := k.KeyUsage(); kid == "" || (ok && use != "" && use != "sig") {
			continue
		}
		pub, err := k.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("issuer: key %s: %w", kid, err)
		}
		var raw any
		if err := jwk.Export(pub, &raw); err != nil {
			return nil, fmt.Errorf("issuer: key %s: %w", kid, err)
		}
		if _, err := did.EncodeMultikey(raw); err != nil {
			continue
		}
		rel := []string{did.AssertionMethod}
		methods = append(methods, did.VerificationMethod{ID: "#" + kid, Type: did.TypeMultikey, Key: pub, Relationships: rel})
		if is.ed2020 && pub.KeyType().String() == "OKP" {
			methods = append(methods, did.VerificationMethod{ID: "#" + kid + ed2020MethodSuffix, Type: did.TypeEd25519VerificationKey2020, Key: pub, Relationships: rel})
		}
	}
	return did.NewDocument(is.did, methods)
}

// didDocCache keeps the served DID document for metadataJWKSTTL, as the
// JWKS is kept.
type didDocCache struct {
	is    *Issuer
	mu    sync.Mutex
	body  []byte
	until time.Time
}

func (c *didDocCache) get(ctx context.Context) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.is.now()
	if c.body != nil && now.Before(c.until) {
		return c.body, nil
	}
	doc, err := c.is.DIDDocument(ctx)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("issuer: DID document: %w", err)
	}
	c.body, c.until = body, now.Add(metadataJWKSTTL)
	return body, nil
}

// registerDID serves the DID document at the path its did:web names.
func (is *Issuer) registerDID(r gin.IRouter) {
	r.GET(is.didPath, is.handleDIDDocument)
}

// handleDIDDocument serves the issuer's DID document.
func (is *Issuer) handleDIDDocument(c *gin.Context) {
	body, err := is.didDoc.get(c.Request.Context())
	if err != nil {
		is.writeError(c, errServer(err), "")
		return
	}
	c.Header("Cache-Control", fmt.Sprintf("public, max-age=%d", metadataMaxAge))
	c.Header("Access-Control-Allow-Origin", "*")
	c.Data(http.StatusOK, didContentType, body)
}
