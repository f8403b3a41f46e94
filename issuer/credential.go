package issuer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/storage"
)

// The credential endpoint (OpenID4VCI 1.0 section 8, and the draft-13
// shapes Inji wallets send). One request is parsed once into a
// credentialRequest, then:
//
//  1. the access token is authenticated (authenticate) and must allow the
//     configuration asked for (its scope, or an openid_credential
//     authorization_details entry);
//  2. every proof is verified (verifyProof); their keys must be distinct
//     and they must all carry the same c_nonce, which is then spent once;
//  3. the resident's identity data is rendered through the configuration's
//     template and one credential is signed per proof;
//  4. the batch is recorded in the ledger in one write, and only then is
//     the response sent: a ledger failure answers 500 and issues nothing.

// maxCredentialRequestBytes bounds a credential request body: a full batch
// of proof JWTs with x5c chains fits comfortably.
const maxCredentialRequestBytes = 256 << 10

// proofTypeJWT is the only key proof type the issuer accepts (OpenID4VCI
// 1.0 appendix F.1).
const proofTypeJWT = "jwt"

// authorizationDetailsType is the RFC 9396 type of OpenID4VCI credential
// authorization details.
const authorizationDetailsType = "openid_credential"

// credentialRequest is a parsed credential request.
type credentialRequest struct {
	// ConfigurationID and Identifier: exactly one is set in a 1.0 request,
	// at most Identifier in a draft-13 one.
	ConfigurationID string
	Identifier      string
	// Proofs are the JWT key proofs, from proofs.jwt or from the single
	// proof object.
	Proofs []string
	// Draft13 is set for a draft-13 request (one with format): what it
	// says about the credential it wants.
	Draft13 *Draft13Selector
}

// credentialRequestWire is the JSON of a credential request. Members that
// may be absent or present-but-empty are raw, so Validate can tell.
type credentialRequestWire struct {
	CredentialConfigurationID    *string         `json:"credential_configuration_id"`
	CredentialIdentifier         *string         `json:"credential_identifier"`
	Proof                        json.RawMessage `json:"proof"`
	Proofs                       json.RawMessage `json:"proofs"`
	CredentialResponseEncryption json.RawMessage `json:"credential_response_encryption"`
	// Draft 13.
	Format               *string         `json:"format"`
	CredentialDefinition json.RawMessage `json:"credential_definition"`
	VCT                  *string         `json:"vct"`
}

// singleProof is the proof member (draft 13; still accepted).
type singleProof struct {
	ProofType string `json:"proof_type"`
	JWT       string `json:"jwt"`
}

// readCredentialRequest reads and validates the body of a credential
// request: application/json, at most maxCredentialRequestBytes, one JSON
// object. draft13 tells whether the request has the draft-13 shape (for
// rendering errors) even when it is invalid.
func (is *Issuer) readCredentialRequest(c *gin.Context) (req *credentialRequest, draft13 bool, err error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, false, errBadRequest("the request must be application/json", err)
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, maxCredentialRequestBytes))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, false, newError(CodeInvalidCredentialRequest, http.StatusRequestEntityTooLarge, "the request is too large", nil)
		}
		return nil, false, errBadRequest("the request body could not be read", err)
	}
	var w credentialRequestWire
	if err := decodeJSONObject(body, &w); err != nil {
		return nil, false, errBadRequest("the request is not a JSON object of the expected shape", err)
	}
	draft13 = w.Format != nil
	req, err = w.Validate(is.cfg.BatchSize)
	return req, draft13, err
}

// decodeJSONObject decodes exactly one JSON object from data into v.
func decodeJSONObject(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 || data[0] != '{' {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}

// present reports whether a raw member is present and not null.
func present(raw json.RawMessage) bool {
	return len(raw) > 0 && !bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// Validate checks the request's shape and returns it parsed. batchSize is
// the most proofs one request may carry.
func (w *credentialRequestWire) Validate(batchSize int) (*credentialRequest, error) {
	req := &credentialRequest{}
	draft13 := w.Format != nil
	if present(w.CredentialResponseEncryption) {
		return nil, newError(CodeInvalidEncryptionParameters, http.StatusBadRequest, "credential response encryption is not supported", nil)
	}
	if w.CredentialIdentifier != nil {
		if *w.CredentialIdentifier == "" {
			return nil, errBadRequest("credential_identifier is empty", nil)
		}
		req.Identifier = *w.CredentialIdentifier
	}
	if draft13 {
		sel, err := w.draft13Selector()
		if err != nil {
			return nil, err
		}
		if w.CredentialConfigurationID != nil || req.Identifier != "" {
			return nil, errBadRequest("format cannot be combined with credential_configuration_id or credential_identifier", nil)
		}
		req.Draft13 = sel
	} else {
		if w.CredentialConfigurationID != nil {
			if *w.CredentialConfigurationID == "" {
				return nil, errBadRequest("credential_configuration_id is empty", nil)
			}
			req.ConfigurationID = *w.CredentialConfigurationID
		}
		if (req.ConfigurationID == "") == (req.Identifier == "") {
			return nil, errBadRequest("exactly one of credential_configuration_id and credential_identifier is required", nil)
		}
	}

	hasProof, hasProofs := present(w.Proof), present(w.Proofs)
	switch {
	case hasProof && hasProofs:
		if draft13 {
			return nil, errProof("proof and proofs cannot both be present", nil)
		}
		return nil, errBadRequest("proof and proofs cannot both be present", nil)
	case hasProof:
		var p singleProof
		if err := decodeJSONObject(w.Proof, &p); err != nil {
			return nil, errBadRequest("proof must be an object", err)
		}
		if p.ProofType != proofTypeJWT {
			return nil, errProof("unsupported proof type", nil)
		}
		if p.JWT == "" {
			return nil, errProof("proof has no jwt", nil)
		}
		req.Proofs = []string{p.JWT}
	case hasProofs:
		// The common shape, {"jwt": ["…", …]}, decodes in one go; anything
		// else is taken apart member by member to say what is wrong.
		var jwts []string
		var fast map[string][]string
		if json.Unmarshal(w.Proofs, &fast) == nil && len(fast) == 1 && fast[proofTypeJWT] != nil {
			jwts = fast[proofTypeJWT]
		} else {
			var ps map[string]json.RawMessage
			if err := decodeJSONObject(w.Proofs, &ps); err != nil {
				return nil, errBadRequest("proofs must be an object", err)
			}
			if len(ps) != 1 {
				return nil, errBadRequest("proofs must name exactly one proof type", nil)
			}
			raw, ok := ps[proofTypeJWT]
			if !ok {
				return nil, errProof("unsupported proof type", nil)
			}
			if err := json.Unmarshal(raw, &jwts); err != nil {
				return nil, errBadRequest("proofs.jwt must be an array of strings", err)
			}
		}
		if len(jwts) == 0 {
			return nil, errBadRequest("proofs.jwt is empty", nil)
		}
		if len(jwts) > batchSize {
			return nil, errBadRequest(fmt.Sprintf("at most %d proofs may be sent in one request", batchSize), nil)
		}
		if slices.Contains(jwts, "") {
			return nil, errProof("a proof is empty", nil)
		}
		req.Proofs = jwts
	}
	return req, nil
}

// draft13Selector reads format, credential_definition.type and vct.
func (w *credentialRequestWire) draft13Selector() (*Draft13Selector, error) {
	sel := &Draft13Selector{Format: *w.Format}
	if sel.Format == "" {
		return nil, errBadRequest("format is empty", nil)
	}
	if present(w.CredentialDefinition) {
		var def struct {
			Type    []string        `json:"type"`
			Context json.RawMessage `json:"@context"`
		}
		if err := decodeJSONObject(w.CredentialDefinition, &def); err != nil {
			return nil, errBadRequest("credential_definition must be an object with a type array", err)
		}
		sel.Types = def.Type
		// @context (ldp_vc) is a URL or a list of URLs; any other shape is
		// ignored, as it was before ldp_vc.
		var many []string
		var one string
		switch {
		case json.Unmarshal(def.Context, &many) == nil:
			sel.Contexts = many
		case json.Unmarshal(def.Context, &one) == nil && one != "":
			sel.Contexts = []string{one}
		}
	}
	if w.VCT != nil {
		sel.VCT = *w.VCT
	}
	return sel, nil
}

// credentialAuthorization is one authorization_details entry of an access
// token (OpenID4VCI 1.0 sections 5.1.1 and 6.2).
type credentialAuthorization struct {
	Type                  string   `json:"type"`
	ConfigurationID       string   `json:"credential_configuration_id"`
	CredentialIdentifiers []string `json:"credential_identifiers"`
	Locations             []string `json:"locations"`
}

// credentialAuthorizations returns the token's openid_credential entries
// meant for this issuer. Details that do not parse grant nothing.
func (is *Issuer) credentialAuthorizations(tok *AccessToken) []credentialAuthorization {
	if len(tok.AuthorizationDetails) == 0 {
		return nil
	}
	var all []credentialAuthorization
	if err := json.Unmarshal(tok.AuthorizationDetails, &all); err != nil {
		return nil
	}
	out := all[:0]
	for _, d := range all {
		if d.Type != authorizationDetailsType || d.ConfigurationID == "" {
			continue
		}
		if len(d.Locations) > 0 && !slices.Contains(d.Locations, is.cfg.CredentialIssuer) {
			continue
		}
		out = append(out, d)
	}
	return out
}

// allows reports whether tok allows c: it has c's scope, or an
// openid_credential authorization_details entry names c. A request by
// credential_configuration_id is accepted for a configuration the token's
// details also give credential identifiers for: section 8.2 tells the
// wallet to use the identifier then, but the token does allow the
// configuration, and Sanad's identifiers each stand for a whole
// configuration.
func (is *Issuer) allows(tok *AccessToken, c *Configuration, details []credentialAuthorization) bool {
	if c.Scope != "" && slices.Contains(tok.Scopes, c.Scope) {
		return true
	}
	return slices.ContainsFunc(details, func(d credentialAuthorization) bool { return d.ConfigurationID == c.ID })
}

// errNotAllowed is a token that does not cover the configuration asked for.
func errNotAllowed() *Error {
	return newError(CodeInsufficientScope, http.StatusForbidden, "the access token does not allow this credential", nil)
}

// selectConfiguration finds the configuration req asks for and checks that
// tok allows it.
func (is *Issuer) selectConfiguration(req *credentialRequest, tok *AccessToken) (*Configuration, error) {
	details := is.credentialAuthorizations(tok)
	switch {
	case req.Draft13 != nil:
		return is.selectDraft13(req.Draft13, tok, details)
	case req.Identifier != "":
		for _, d := range details {
			if slices.Contains(d.CredentialIdentifiers, req.Identifier) {
				if c, ok := is.configs[d.ConfigurationID]; ok {
					return c, nil
				}
			}
		}
		return nil, newError(CodeUnknownCredentialIdentifier, http.StatusBadRequest, "unknown credential_identifier", nil)
	default:
		c, ok := is.configs[req.ConfigurationID]
		if !ok {
			return nil, newError(CodeUnknownCredentialConfiguration, http.StatusBadRequest, "unknown credential_configuration_id", nil)
		}
		if !is.allows(tok, c, details) {
			return nil, errNotAllowed()
		}
		return c, nil
	}
}

// selectDraft13 picks, among the configurations that match a draft-13
// request, the first (in configuration order) the token allows.
func (is *Issuer) selectDraft13(sel *Draft13Selector, tok *AccessToken, details []credentialAuthorization) (*Configuration, error) {
	matched := false
	for _, c := range is.cfg.Configurations {
		f := is.formats[c.Format]
		if f == nil || !f.MatchesDraft13(c, *sel) {
			continue
		}
		matched = true
		if is.allows(tok, c, details) {
			return c, nil
		}
	}
	if matched {
		return nil, errNotAllowed()
	}
	if !is.knownFormat(sel.Format) {
		return nil, newError(CodeUnsupportedCredentialFormat, http.StatusBadRequest, "unsupported credential format", nil)
	}
	return nil, newError(CodeUnsupportedCredentialType, http.StatusBadRequest, "unsupported credential type", nil)
}

// knownFormat reports whether some configuration is of format name (or of
// dc+sd-jwt, for the legacy name vc+sd-jwt).
func (is *Issuer) knownFormat(name string) bool {
	for _, c := range is.cfg.Configurations {
		if c.Format == name || (name == credential.FormatSDJWTVCLegacy && c.Format == credential.FormatSDJWTVC) {
			return true
		}
	}
	return false
}

// needsProof reports whether credentials of c are bound to a holder key,
// so a request for them must carry key proofs.
func needsProof(c *Configuration) bool { return len(c.BindingMethods) > 0 }

// checkProofs verifies the proofs of a request for c and spends their
// c_nonce; it returns the holder keys, one per credential to issue (a
// single nil key for an unbound credential).
func (is *Issuer) checkProofs(ctx context.Context, req *credentialRequest, c *Configuration, tok *AccessToken) ([]*HolderKey, error) {
	if !needsProof(c) {
		if len(req.Proofs) > 0 {
			return nil, errBadRequest("this credential is not bound to a key: send no proof", nil)
		}
		return []*HolderKey{nil}, nil
	}
	if len(req.Proofs) == 0 {
		return nil, errProof("a key proof is required", nil)
	}
	holders := make([]*HolderKey, 0, len(req.Proofs))
	seen := map[string]bool{}
	nonce := ""
	for i, p := range req.Proofs {
		hk, n, err := is.verifyProof(ctx, p, c, tok)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return nil, e
			}
			return nil, errProof("the key proof is invalid", err)
		}
		if hk == nil || hk.JWK == nil {
			return nil, errServer(errors.New("issuer: verifyProof returned no key"))
		}
		tp, err := holderThumbprint(hk)
		if err != nil {
			return nil, errServer(err)
		}
		if seen[tp] {
			return nil, errProof("the proofs of a batch must use distinct keys", nil)
		}
		seen[tp] = true
		if n == "" {
			return nil, errProof("the key proof has no nonce", nil)
		}
		if i > 0 && n != nonce {
			return nil, errProof("the key proofs carry different nonces", nil)
		}
		nonce = n
		holders = append(holders, hk)
	}
	ok, err := is.consumeNonce(ctx, nonce)
	if err != nil {
		return nil, errServer(err)
	}
	if !ok {
		return nil, newError(CodeInvalidNonce, http.StatusBadRequest, "the c_nonce is unknown, expired or already used", nil)
	}
	return holders, nil
}

// holderThumbprint returns hk's RFC 7638 thumbprint, computing it (and
// filling it in) when the proof verifier did not.
func holderThumbprint(hk *HolderKey) (string, error) {
	if hk.Thumbprint != "" {
		return hk.Thumbprint, nil
	}
	tp, err := jwkThumbprint(hk.JWK)
	if err != nil {
		return "", fmt.Errorf("issuer: holder key thumbprint: %w", err)
	}
	hk.Thumbprint = tp
	return tp, nil
}

// jwkThumbprint is the base64url SHA-256 thumbprint of k (RFC 7638).
func jwkThumbprint(k jwk.Key) (string, error) {
	tp, err := k.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// draft13Error turns a proof or nonce error of a draft-13 request into
// invalid_proof with a fresh c_nonce (what draft-13 wallets retry with).
func (is *Issuer) draft13Error(ctx context.Context, err error) error {
	e := asError(err)
	if e.Code != CodeInvalidProof && e.Code != CodeInvalidNonce {
		return err
	}
	out := *e
	out.Code = CodeInvalidProof
	nonce, ttl, nerr := is.NewCNonce(ctx)
	if nerr != nil {
		is.log.WarnContext(ctx, "no fresh c_nonce for an invalid_proof answer", "err", nerr)
		return &out
	}
	out.CNonce, out.CNonceTTL = nonce, cnonceSeconds(ttl)
	return &out
}

// errDenied is credential_request_denied: nothing can be issued for the
// token's resident (no such active resident any more, or a record without
// a claim the credential must carry). The wallet should not retry.
func errDenied(cause error) *Error {
	return newError(CodeCredentialRequestDenied, http.StatusBadRequest, "the credential cannot be issued", cause)
}

// isNotFound reports whether a DataProvider error means that the resident
// does not exist or is not active: storage.ErrNotFound, or an error that
// carries the HTTP status 404 (idrepo.Error, without importing idrepo).
func isNotFound(err error) bool {
	if errors.Is(err, storage.ErrNotFound) {
		return true
	}
	var s interface{ HTTPStatus() int }
	return errors.As(err, &s) && s.HTTPStatus() == http.StatusNotFound
}

// issued is one signed credential and its ledger entry.
type issued struct {
	credential any
	entry      storage.IssuedCredential
}

// issue renders and signs one credential per holder key for tok's
// resident.
func (is *Issuer) issue(ctx context.Context, c *Configuration, tok *AccessToken, holders []*HolderKey, now time.Time, notificationID string) ([]issued, error) {
	if tok.PersonID == "" {
		return nil, errServer(errors.New("issuer: the access token names no resident"))
	}
	identity, err := is.cfg.Data.IdentityData(ctx, tok.PersonID)
	if err != nil {
		if isNotFound(err) {
			return nil, errDenied(err)
		}
		return nil, errServer(fmt.Errorf("issuer: identity data: %w", err))
	}
	claims, err := c.Render(identity, RenderEnv{Now: now})
	if errors.Is(err, ErrMissingMandatoryClaim) {
		// The resident's record lacks what the credential must carry.
		return nil, errDenied(err)
	}
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: render %s: %w", c.ID, err))
	}
	signer, err := is.cfg.Signers.Signer(c.SigningAlg)
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: signer for %s: %w", c.SigningAlg, err))
	}
	f := is.formats[c.Format]
	var validUntil time.Time
	if c.Validity > 0 {
		validUntil = now.Add(c.Validity)
	}
	// The status entries come first: a credential that could not be
	// revoked is not issued.
	slots, err := is.allocateStatus(ctx, f.Name(), len(holders))
	if err != nil {
		return nil, errServer(err)
	}
	out := make([]issued, 0, len(holders))
	for i, hk := range holders {
		id, err := newCredentialID()
		if err != nil {
			return nil, errServer(err)
		}
		var status any
		if slots != nil {
			if status, err = is.credentialStatus(f.Name(), slots[i]); err != nil {
				return nil, errServer(err)
			}
		}
		cred, err := f.Issue(ctx, IssueInput{
			Config:     c,
			ID:         id,
			Issuer:     is.cfg.CredentialIssuer,
			IssuerDID:  is.did,
			Contexts:   is.loader,
			Claims:     cloneClaims(claims),
			Holder:     hk,
			IssuedAt:   now,
			ValidFrom:  now,
			ValidUntil: validUntil,
			Status:     status,
			Signer:     signer,
			X5C:        is.cfg.X5C,
		})
		if err != nil {
			return nil, errServer(fmt.Errorf("issuer: issue %s: %w", c.ID, err))
		}
		entry := storage.IssuedCredential{
			ID:              id,
			ConfigurationID: c.ID,
			Format:          f.Name(),
			PersonID:        tok.PersonID,
			Subject:         tok.Subject,
			NotificationID:  notificationID,
			IssuedAt:        now,
			ValidFrom:       now,
			ValidUntil:      validUntil,
			Status:          storage.CredentialValid,
			StatusIndex:     -1,
		}
		if hk != nil {
			entry.HolderKeyThumbprint = hk.Thumbprint
		}
		if slots != nil {
			entry.StatusList, entry.StatusIndex = slots[i].List, int64(slots[i].Index)
		}
		out = append(out, issued{credential: cred, entry: entry})
	}
	return out, nil
}

// handleCredential is the credential endpoint.
func (is *Issuer) handleCredential(c *gin.Context) {
	ctx := c.Request.Context()
	tok, scheme, err := is.authenticate(c)
	if err != nil {
		is.writeError(c, err, scheme)
		return
	}
	req, draft13, err := is.readCredentialRequest(c)
	if err != nil {
		if draft13 {
			err = is.draft13Error(ctx, err)
		}
		is.writeError(c, err, scheme)
		return
	}
	body, err := is.credentialResponse(ctx, req, tok)
	if err != nil {
		if draft13 {
			err = is.draft13Error(ctx, err)
		}
		is.writeError(c, err, scheme)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, body)
}

// credentialResponse serves a validated request: it returns the response
// body once the credentials are recorded in the ledger.
func (is *Issuer) credentialResponse(ctx context.Context, req *credentialRequest, tok *AccessToken) (gin.H, error) {
	cfg, err := is.selectConfiguration(req, tok)
	if err != nil {
		return nil, err
	}
	holders, err := is.checkProofs(ctx, req, cfg, tok)
	if err != nil {
		return nil, err
	}
	now := is.now()
	notificationID := rand.Text()
	creds, err := is.issue(ctx, cfg, tok, holders, now, notificationID)
	if err != nil {
		return nil, err
	}

	// Everything that can fail happens before the ledger write: once the
	// credentials are recorded, the response is sent.
	body := gin.H{"notification_id": notificationID}
	if req.Draft13 != nil {
		nonce, ttl, err := is.NewCNonce(ctx)
		if err != nil {
			return nil, errServer(err)
		}
		body["c_nonce"] = nonce
		body["c_nonce_expires_in"] = cnonceSeconds(ttl)
		body["format"] = req.Draft13.Format
		if len(req.Proofs) > 1 {
			list := make([]any, len(creds))
			for i, cr := range creds {
				list[i] = cr.credential
			}
			body["credentials"] = list
		} else {
			body["credential"] = creds[0].credential
		}
	} else {
		list := make([]gin.H, len(creds))
		for i, cr := range creds {
			list[i] = gin.H{"credential": cr.credential}
		}
		body["credentials"] = list
	}

	entries := make([]storage.IssuedCredential, len(creds))
	for i, cr := range creds {
		entries[i] = cr.entry
	}
	if err := is.ledger.record(ctx, entries); err != nil {
		return nil, errServer(fmt.Errorf("issuer: record credentials: %w", err))
	}
	is.log.InfoContext(ctx, "credentials issued", "configuration", cfg.ID, "count", len(creds), "client_id", tok.ClientID)
	return body, nil
}

// newCredentialID returns a fresh "urn:uuid:" id (a random, version 4
// UUID).
func newCredentialID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("issuer: credential id: %w", err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 9562 variant
	return fmt.Sprintf("urn:uuid:%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// cloneClaims deep-copies the JSON containers of rendered claims, so that
// a Format changing its input cannot affect the next credential of a
// batch.
func cloneClaims(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = cloneJSON(v)
	}
	return out
}

func cloneJSON(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneClaims(t)
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = cloneJSON(e)
		}
		return out
	}
	return v
}
