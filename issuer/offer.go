package issuer

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"math"
	"math/big"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	qr "github.com/piglig/go-qr"

	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/storage"
)

// Pre-authorized credential offers (OpenID4VCI 1.0 sections 4.1 and 6.1).
//
// An operator asks for an offer for a resident (POST AdminOffers). The
// issuer makes a pre-authorized code, 256 random bits, and keeps under
// preAuthKey (the code's SHA-256, so a dump of the State gives no usable
// code) who it is for, which configurations it grants and, when the offer
// has a transaction code, a hash of that tx_code bound to the code. The
// tx_code goes to the resident alone, by SMS or e-mail; the operator sees
// the offer, its URL and a QR code of it, never the tx_code. The offer is
// stored too, under a random id of its own, and served by reference at
// PathOffer/{id} for as long as the code lives.
//
// The wallet redeems the code at the authorization server's token endpoint,
// which calls RedeemPreAuthorizedCode: the code is single use (State.Take),
// and a wrong tx_code counts against Config.TxCodeAttempts tries, after
// which the code is void.

// GrantTypePreAuthorizedCode is the grant type of pre-authorized codes, the
// key of their entry in an offer's grants.
const GrantTypePreAuthorizedCode = "urn:ietf:params:oauth:grant-type:pre-authorized_code"

// OfferURLScheme is the scheme of credential offer URLs (OpenID4VCI 1.0
// section 4.1.3).
const OfferURLScheme = "openid-credential-offer://"

// Transaction code input modes (OpenID4VCI 1.0 section 4.1.1).
const (
	TxCodeNumeric = "numeric"
	TxCodeText    = "text"
)

// Limits of offers.
const (
	// randomBytes is the entropy of pre-authorized codes and offer ids.
	randomBytes = 32
	// maxOfferRequestBytes bounds the body of an offer request.
	maxOfferRequestBytes = 64 << 10
	// maxIndividualIDLen bounds the individual id of an offer request.
	maxIndividualIDLen = 256
	// MinTxCodeLength, MaxTxCodeLength and DefaultTxCodeLength are the
	// lengths of the tx_codes the issuer makes.
	MinTxCodeLength     = 4
	MaxTxCodeLength     = 8
	DefaultTxCodeLength = 6
	// maxTxCodeDescription is the longest tx_code description (OpenID4VCI
	// 1.0 section 4.1.1: 300 characters).
	maxTxCodeDescription = 300
	// maxCodeLen and maxTxCodeLen bound a pre-authorized code and a
	// tx_code presented for redemption before they are hashed; ours are 43
	// and at most 8 characters.
	maxCodeLen   = 256
	maxTxCodeLen = 64
	// qrModuleSize is the pixels per QR module, qrQuietZone the modules of
	// margin around the code (ISO/IEC 18004 asks for 4).
	qrModuleSize = 6
	qrQuietZone  = 4
)

// txCodeTextAlphabet is the alphabet of text tx_codes: upper-case letters
// and digits without those easily confused (0/O, 1/I/L).
const txCodeTextAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

// randomIDPattern matches a pre-authorized code or offer id as the issuer
// makes them: 32 bytes, base64url without padding.
var randomIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)

// preAuthKey is the State key of a pre-authorized code.
func preAuthKey(code string) string {
	h := sha256.Sum256([]byte(code))
	return "issuer:preauth:" + hex.EncodeToString(h[:])
}

// preAuthAttemptsKey counts the wrong tx_codes presented with a code.
func preAuthAttemptsKey(code string) string {
	h := sha256.Sum256([]byte(code))
	return "issuer:preauth-attempts:" + hex.EncodeToString(h[:])
}

// offerKey is the State key of an offer served by reference.
func offerKey(id string) string { return "issuer:offer:" + id }

// txCodeHash binds a tx_code to its pre-authorized code: whoever reads the
// State learns neither, and cannot try tx_codes offline without the code.
func txCodeHash(code, txCode string) []byte {
	h := sha256.New()
	h.Write([]byte("sanad issuer tx_code\x00"))
	h.Write([]byte(code))
	h.Write([]byte{0})
	h.Write([]byte(txCode))
	return h.Sum(nil)
}

// preAuthRecord is what the State keeps of a pre-authorized code.
type preAuthRecord struct {
	PersonID         string   `json:"person_id"`
	ConfigurationIDs []string `json:"configuration_ids"`
	// TxCodeHash is txCodeHash(code, tx_code); empty when the offer has no
	// tx_code.
	TxCodeHash []byte `json:"tx_code_hash,omitempty"`
	OfferID    string `json:"offer_id"`
	// Expires is when the code expires, in unix microseconds.
	Expires int64 `json:"exp"`
}

// CredentialOffer is a credential offer (OpenID4VCI 1.0 section 4.1.1).
type CredentialOffer struct {
	CredentialIssuer           string         `json:"credential_issuer"`
	CredentialConfigurationIDs []string       `json:"credential_configuration_ids"`
	Grants                     map[string]any `json:"grants,omitempty"`
}

// PreAuthorizedCodeGrant is the grants entry of GrantTypePreAuthorizedCode.
type PreAuthorizedCodeGrant struct {
	PreAuthorizedCode string  `json:"pre-authorized_code"`
	TxCode            *TxCode `json:"tx_code,omitempty"`
}

// TxCode describes the transaction code a wallet must ask its user for.
type TxCode struct {
	Length      int    `json:"length,omitempty"`
	InputMode   string `json:"input_mode,omitempty"`
	Description string `json:"description,omitempty"`
}

// PreAuthorizedGrant is what a redeemed pre-authorized code stands for: the
// resident, the credential configurations offered and their scopes (in the
// order of the configurations). PersonID is internal: it never leaves the
// server.
type PreAuthorizedGrant struct {
	PersonID         string
	ConfigurationIDs []string
	Scopes           []string
}

// offerRequest is the body of POST AdminOffers.
type offerRequest struct {
	IndividualID               string         `json:"individualId"`
	CredentialConfigurationIDs []string       `json:"credential_configuration_ids"`
	TxCode                     *TxCodeRequest `json:"tx_code"`
}

// TxCodeRequest is the tx_code an operator asks for: Length 4 to 8 (0
// means DefaultTxCodeLength), InputMode TxCodeNumeric (the default) or
// TxCodeText, and a Description of at most 300 characters for the wallet
// to show.
type TxCodeRequest struct {
	Length      int    `json:"length"`
	InputMode   string `json:"input_mode"`
	Description string `json:"description"`
}

// parseOfferRequest decodes an offer request strictly (unknown members and
// trailing data are refused), fills in the tx_code defaults and validates
// it against the issuer's configurations.
func parseOfferRequest(body io.Reader, known func(id string) bool) (*offerRequest, error) {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	var q offerRequest
	if err := dec.Decode(&q); err != nil {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "the body must be a JSON offer request: "+jsonProblem(err), err)
	}
	if dec.More() {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest, "the body must hold one JSON object", nil)
	}
	if err := q.Validate(known); err != nil {
		return nil, err
	}
	return &q, nil
}

// jsonProblem describes a decoding error without echoing the input.
func jsonProblem(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return "malformed JSON at offset " + strconv.FormatInt(syn.Offset, 10)
	case errors.As(err, &typ):
		return "member " + strconv.Quote(typ.Field) + " has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return strings.TrimPrefix(err.Error(), "json: ")
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "the body is empty or cut short"
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return "the body is too large"
	}
	return "not valid JSON"
}

// Validate checks q and fills in the tx_code defaults. known reports
// whether a credential configuration id exists.
func (q *offerRequest) Validate(known func(id string) bool) error {
	bad := func(desc string) error { return errAdmin(CodeInvalidRequest, http.StatusBadRequest, desc, nil) }
	switch {
	case strings.TrimSpace(q.IndividualID) == "":
		return bad("individualId is required")
	case len(q.IndividualID) > maxIndividualIDLen || !utf8.ValidString(q.IndividualID):
		return bad("individualId is too long or not UTF-8")
	case len(q.CredentialConfigurationIDs) == 0:
		return bad("credential_configuration_ids must name at least one credential configuration")
	}
	seen := map[string]bool{}
	for _, id := range q.CredentialConfigurationIDs {
		if seen[id] {
			return bad(fmt.Sprintf("credential configuration %q is named twice", truncateText(id)))
		}
		seen[id] = true
		if !known(id) {
			return errAdmin(CodeUnknownCredentialConfiguration, http.StatusBadRequest,
				fmt.Sprintf("credential configuration %q is not offered by this issuer", truncateText(id)), nil)
		}
	}
	if t := q.TxCode; t != nil {
		if t.Length == 0 {
			t.Length = DefaultTxCodeLength
		}
		if t.InputMode == "" {
			t.InputMode = TxCodeNumeric
		}
		switch {
		case t.Length < MinTxCodeLength || t.Length > MaxTxCodeLength:
			return bad(fmt.Sprintf("tx_code.length must be %d to %d", MinTxCodeLength, MaxTxCodeLength))
		case t.InputMode != TxCodeNumeric && t.InputMode != TxCodeText:
			return bad(`tx_code.input_mode must be "numeric" or "text"`)
		case !utf8.ValidString(t.Description) || utf8.RuneCountInString(t.Description) > maxTxCodeDescription:
			return bad(fmt.Sprintf("tx_code.description must be UTF-8 of at most %d characters", maxTxCodeDescription))
		}
	}
	return nil
}

// truncateText keeps an echoed value short and printable.
func truncateText(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return strings.ToValidUTF8(s, "?")
}

// errAdmin is an error of the operator API.
func errAdmin(code string, status int, desc string, cause error) *Error {
	return newError(code, status, desc, cause)
}

// Error codes of the operator API that OpenID4VCI does not define.
const (
	CodeUnknownIndividual    = "unknown_individual"
	CodeNoContact            = "no_contact"
	CodeTxCodeDeliveryFailed = "tx_code_delivery_failed"
	CodeOffersNotConfigured  = "offers_not_configured"
	CodeNotFound             = "not_found"
)

// randomID returns 32 random bytes, base64url encoded.
func randomID() (string, error) {
	var b [randomBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// newTxCode returns a random tx_code of n characters: digits for
// TxCodeNumeric, txCodeTextAlphabet for TxCodeText.
func newTxCode(n int, mode string) (string, error) {
	alphabet := "0123456789"
	if mode == TxCodeText {
		alphabet = txCodeTextAlphabet
	}
	max := big.NewInt(int64(len(alphabet)))
	b := make([]byte, n)
	for i := range b {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", err
		}
		b[i] = alphabet[v.Int64()]
	}
	return string(b), nil
}

// OfferResponse is the answer to POST AdminOffers: the offer, its
// credential_offer_uri, the openid-credential-offer URL that refers to it,
// a QR code of that URL (PNG) and when the offer expires. ID is the offer's
// id, for AdminOffers/{id}/qr.png. It carries the pre-authorized code:
// only the operator and the resident may see it.
type OfferResponse struct {
	ID                 string          `json:"id"`
	CredentialOffer    CredentialOffer `json:"credential_offer"`
	CredentialOfferURI string          `json:"credential_offer_uri"`
	OfferURL           string          `json:"offer_url"`
	QRPNG              []byte          `json:"qr_png"` // base64 in JSON
	ExpiresAt          time.Time       `json:"expires_at"`
}

// registerOfferAdmin mounts the operator API of offers.
func (is *Issuer) registerOfferAdmin(admin gin.IRouter) {
	admin.POST(AdminOffers, is.handleCreateOffer)
	admin.GET(AdminOffers+"/:id/qr.png", is.handleOfferQR)
}

// offerURI is the credential_offer_uri of the offer with id.
func (is *Issuer) offerURI(id string) string { return is.url(PathOffer + "/" + url.PathEscape(id)) }

// offerURL is the openid-credential-offer URL of the offer with id.
func (is *Issuer) offerURL(id string) string {
	return OfferURLScheme + "?credential_offer_uri=" + url.QueryEscape(is.offerURI(id))
}

// handleCreateOffer is POST AdminOffers: it makes a pre-authorized offer
// for a resident, sends the resident its tx_code, and answers 201 with the
// offer, its URLs and a QR code of the offer URL.
func (is *Issuer) handleCreateOffer(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxOfferRequestBytes)
	q, err := parseOfferRequest(c.Request.Body, func(id string) bool { return is.configs[id] != nil })
	if err != nil {
		is.writeError(c, err, "")
		return
	}
	resp, err := is.createOffer(c.Request.Context(), q)
	if err != nil {
		is.writeError(c, err, "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, resp)
}

// CreateOffer makes a pre-authorized offer of the configurations
// configIDs for the resident individualID names (UIN, VID, phone or
// e-mail, as Config.Persons resolves it), with a tx_code sent to the
// resident when txCode is not nil. It is what POST AdminOffers does; the
// request is checked as there. Errors are *Error values.
func (is *Issuer) CreateOffer(ctx context.Context, individualID string, configIDs []string, txCode *TxCodeRequest) (*OfferResponse, error) {
	q := &offerRequest{IndividualID: individualID, CredentialConfigurationIDs: configIDs}
	if txCode != nil {
		t := *txCode
		q.TxCode = &t
	}
	if err := q.Validate(func(id string) bool { return is.configs[id] != nil }); err != nil {
		return nil, err
	}
	return is.createOffer(ctx, q)
}

// createOffer is CreateOffer of a validated request.
func (is *Issuer) createOffer(ctx context.Context, q *offerRequest) (*OfferResponse, error) {
	if is.cfg.Persons == nil {
		return nil, errAdmin(CodeOffersNotConfigured, http.StatusNotImplemented,
			"pre-authorized offers are not configured on this issuer", nil)
	}
	if q.TxCode != nil && is.cfg.Notifier == nil {
		return nil, errAdmin(CodeInvalidRequest, http.StatusBadRequest,
			"this issuer has no notifier to send a tx_code with; make the offer without tx_code", nil)
	}
	personID, identity, err := is.cfg.Persons.FindPerson(ctx, q.IndividualID)
	if errors.Is(err, ErrUnknownPerson) {
		return nil, errAdmin(CodeUnknownIndividual, http.StatusNotFound, "no active resident has this individual id", nil)
	}
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: find the resident of an offer: %w", err))
	}
	var msg *notify.Message
	if q.TxCode != nil {
		if msg = txCodeMessage(identity); msg == nil {
			return nil, errAdmin(CodeNoContact, http.StatusUnprocessableEntity,
				"the resident has no phone number or e-mail address to send the tx_code to", nil)
		}
	}

	code, err := randomID()
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: pre-authorized code: %w", err))
	}
	offerID, err := randomID()
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: offer id: %w", err))
	}
	ttl := is.cfg.PreAuthorizedCodeTTL
	expires := is.now().Add(ttl)
	rec := preAuthRecord{
		PersonID:         personID,
		ConfigurationIDs: q.CredentialConfigurationIDs,
		OfferID:          offerID,
		Expires:          expires.UnixMicro(),
	}
	grant := PreAuthorizedCodeGrant{PreAuthorizedCode: code}
	var tx string
	if t := q.TxCode; t != nil {
		if tx, err = newTxCode(t.Length, t.InputMode); err != nil {
			return nil, errServer(fmt.Errorf("issuer: tx_code: %w", err))
		}
		rec.TxCodeHash = txCodeHash(code, tx)
		grant.TxCode = &TxCode{Length: t.Length, InputMode: t.InputMode, Description: t.Description}
	}
	offer := CredentialOffer{
		CredentialIssuer:           is.cfg.CredentialIssuer,
		CredentialConfigurationIDs: q.CredentialConfigurationIDs,
		Grants:                     map[string]any{GrantTypePreAuthorizedCode: grant},
	}
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: encode pre-authorized code: %w", err))
	}
	offerJSON, err := json.Marshal(offer)
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: encode offer: %w", err))
	}
	offerURL := is.offerURL(offerID)
	qrPNG, err := qrCodePNG(offerURL)
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: offer QR code: %w", err))
	}

	if err := is.cfg.State.Put(ctx, preAuthKey(code), recJSON, ttl); err != nil {
		return nil, errServer(fmt.Errorf("issuer: store pre-authorized code: %w", err))
	}
	if err := is.cfg.State.Put(ctx, offerKey(offerID), offerJSON, ttl); err != nil {
		return nil, is.voidOffer(ctx, code, offerID, errServer(fmt.Errorf("issuer: store offer: %w", err)))
	}
	if msg != nil {
		msg.Purpose = notify.PurposeTxCode
		msg.Data = map[string]string{
			notify.DataOTP:              tx,
			notify.DataExpiresInMinutes: strconv.Itoa(int(math.Ceil(ttl.Minutes()))),
		}
		if err := is.cfg.Notifier.Notify(ctx, *msg); err != nil {
			// Notifiers keep destinations and codes out of their errors.
			return nil, is.voidOffer(ctx, code, offerID, errAdmin(CodeTxCodeDeliveryFailed, http.StatusBadGateway,
				"the tx_code could not be sent to the resident; no offer was made", err))
		}
	}
	is.log.LogAttrs(ctx, slog.LevelInfo, "issuer: credential offer created",
		slog.Any("credential_configuration_ids", q.CredentialConfigurationIDs),
		slog.Bool("tx_code", q.TxCode != nil), slog.String("tx_code_channel", channelOf(msg)))
	return &OfferResponse{
		ID:                 offerID,
		CredentialOffer:    offer,
		CredentialOfferURI: is.offerURI(offerID),
		OfferURL:           offerURL,
		QRPNG:              qrPNG,
		ExpiresAt:          expires.UTC().Truncate(time.Second),
	}, nil
}

// voidOffer removes what was stored of an offer that failed and returns
// cause, joined with any failure to remove.
func (is *Issuer) voidOffer(ctx context.Context, code, offerID string, cause *Error) error {
	err := errors.Join(is.cfg.State.Delete(ctx, preAuthKey(code)), is.cfg.State.Delete(ctx, offerKey(offerID)))
	if err != nil {
		cause.Cause = errors.Join(cause.Cause, fmt.Errorf("issuer: remove the failed offer: %w", err))
	}
	return cause
}

func channelOf(m *notify.Message) string {
	if m == nil {
		return ""
	}
	return string(m.Channel)
}

// languagePattern is an ISO 639-3 language code.
var languagePattern = regexp.MustCompile(`^[a-z]{3}$`)

// txCodeMessage returns the message that carries a tx_code to the
// resident, without purpose or data: by phone if the identity has a phone
// number, else by e-mail; in the first language of the resident's
// fullName, else notify.DefaultLanguage. nil if the identity has neither
// contact.
func txCodeMessage(identity map[string]any) *notify.Message {
	m := &notify.Message{Language: notify.DefaultLanguage}
	if s, _ := identity["phone"].(string); strings.TrimSpace(s) != "" {
		m.Channel, m.To = notify.Phone, strings.TrimSpace(s)
	} else if s, _ := identity["email"].(string); strings.TrimSpace(s) != "" {
		m.Channel, m.To = notify.Email, strings.TrimSpace(s)
	} else {
		return nil
	}
	if names, ok := identity["fullName"].([]any); ok && len(names) > 0 {
		if first, ok := names[0].(map[string]any); ok {
			if lang, _ := first["language"].(string); languagePattern.MatchString(strings.ToLower(lang)) {
				m.Language = strings.ToLower(lang)
			}
		}
	}
	return m
}

// qrCodePNG renders text as a QR code (error correction level M) in a
// two-colour PNG.
func qrCodePNG(text string) ([]byte, error) {
	code, err := qr.EncodeText(text, qr.Medium)
	if err != nil {
		return nil, err
	}
	n := code.Size()
	side := (n + 2*qrQuietZone) * qrModuleSize
	img := image.NewPaletted(image.Rect(0, 0, side, side), color.Palette{color.White, color.Black})
	for y := range n {
		for x := range n {
			if !code.Module(x, y) {
				continue
			}
			x0, y0 := (x+qrQuietZone)*qrModuleSize, (y+qrQuietZone)*qrModuleSize
			for dy := range qrModuleSize {
				row := img.Pix[(y0+dy)*img.Stride+x0:]
				for dx := range qrModuleSize {
					row[dx] = 1
				}
			}
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// loadOffer returns the stored offer with id; nil if there is none (or id
// is not one the issuer makes).
func (is *Issuer) loadOffer(ctx context.Context, id string) ([]byte, error) {
	if !randomIDPattern.MatchString(id) {
		return nil, nil
	}
	b, err := is.cfg.State.Get(ctx, offerKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("issuer: load offer: %w", err)
	}
	return b, nil
}

// errNoOffer is an unknown, expired or redeemed offer.
func errNoOffer() *Error {
	return errAdmin(CodeNotFound, http.StatusNotFound, "unknown or expired credential offer", nil)
}

// handleOfferByReference serves an offer by reference (the
// credential_offer_uri of OpenID4VCI 1.0 section 4.1.3). It is public:
// the offer id is 256 random bits, as unguessable as the code the offer
// carries.
func (is *Issuer) handleOfferByReference(c *gin.Context) {
	b, err := is.loadOffer(c.Request.Context(), c.Param("id"))
	switch {
	case err != nil:
		is.writeError(c, errServer(err), "")
		return
	case b == nil:
		is.writeError(c, errNoOffer(), "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "application/json", b)
}

// handleOfferQR is GET AdminOffers/{id}/qr.png: the QR code of an offer's
// URL, for printing or showing to the resident.
func (is *Issuer) handleOfferQR(c *gin.Context) {
	id := c.Param("id")
	b, err := is.loadOffer(c.Request.Context(), id)
	switch {
	case err != nil:
		is.writeError(c, errServer(err), "")
		return
	case b == nil:
		is.writeError(c, errNoOffer(), "")
		return
	}
	img, err := qrCodePNG(is.offerURL(id))
	if err != nil {
		is.writeError(c, errServer(fmt.Errorf("issuer: offer QR code: %w", err)), "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "image/png", img)
}

// errGrant is invalid_grant: the same answer whether the code is unknown,
// expired, used or voided, or the tx_code is wrong.
func errGrant(cause error) *Error {
	return newError(CodeInvalidGrant, http.StatusBadRequest,
		"the pre-authorized code is invalid or expired, or the tx_code is wrong", cause)
}

// RedeemPreAuthorizedCode consumes a pre-authorized code and returns what
// it grants. The authorization server's token endpoint calls it for the
// pre-authorized code grant.
//
// Errors are *Error values (render them with OAuthError): invalid_grant
// for a code that is unknown, expired, already redeemed or voided, and for
// a wrong tx_code; invalid_request for a missing tx_code when the offer has
// one, and for a tx_code when it has none (OpenID4VCI 1.0 section 6.3);
// server_error when the State fails.
//
// Every presentation of a code with an offer's tx_code counts against
// Config.TxCodeAttempts, counted before the tx_code is compared, so that
// concurrent guesses cannot exceed the limit; the code is voided by the
// wrong presentation that reaches the limit. A code is consumed with
// State.Take: among concurrent redemptions exactly one gets the grant.
func (is *Issuer) RedeemPreAuthorizedCode(ctx context.Context, code, txCode string) (*PreAuthorizedGrant, error) {
	if code == "" || len(code) > maxCodeLen {
		return nil, errGrant(errors.New("malformed pre-authorized code"))
	}
	key := preAuthKey(code)
	raw, err := is.cfg.State.Get(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errGrant(errors.New("unknown, expired or used pre-authorized code"))
	}
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: load pre-authorized code: %w", err))
	}
	var rec preAuthRecord
	if err := json.Unmarshal(raw, &rec); err != nil {
		return nil, errServer(fmt.Errorf("issuer: decode pre-authorized code: %w", err))
	}
	if !is.now().Before(time.UnixMicro(rec.Expires)) {
		return nil, errGrant(errors.Join(errors.New("expired pre-authorized code"), is.cfg.State.Delete(ctx, key)))
	}
	if len(rec.TxCodeHash) == 0 {
		if txCode != "" {
			return nil, newError(CodeInvalidRequest, http.StatusBadRequest, "this offer has no tx_code", nil)
		}
	} else {
		if txCode == "" {
			return nil, newError(CodeInvalidRequest, http.StatusBadRequest, "tx_code is required", nil)
		}
		n, err := is.cfg.State.Incr(ctx, preAuthAttemptsKey(code), is.cfg.PreAuthorizedCodeTTL)
		if err != nil {
			return nil, errServer(fmt.Errorf("issuer: count tx_code attempts: %w", err))
		}
		limit := int64(is.cfg.TxCodeAttempts)
		if n > limit {
			return nil, errGrant(errors.New("too many tx_code attempts"))
		}
		ok := len(txCode) <= maxTxCodeLen &&
			subtle.ConstantTimeCompare(txCodeHash(code, txCode), rec.TxCodeHash) == 1
		if !ok {
			if n == limit {
				// The code and the offer that carries it both go: a wallet
				// fetching the offer afterwards learns it is void.
				if err := errors.Join(is.cfg.State.Delete(ctx, key), is.cfg.State.Delete(ctx, offerKey(rec.OfferID))); err != nil {
					return nil, errServer(fmt.Errorf("issuer: void pre-authorized code: %w", err))
				}
				is.log.LogAttrs(ctx, slog.LevelInfo, "issuer: pre-authorized code voided after wrong tx_codes",
					slog.Int64("attempts", n))
			}
			return nil, errGrant(fmt.Errorf("wrong tx_code (attempt %d of %d)", n, limit))
		}
	}
	taken, err := is.cfg.State.Take(ctx, key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, errGrant(errors.New("pre-authorized code redeemed concurrently"))
	}
	if err != nil {
		return nil, errServer(fmt.Errorf("issuer: consume pre-authorized code: %w", err))
	}
	if !bytes.Equal(taken, raw) {
		// Nothing rewrites a code's record; refuse rather than trust one
		// that was not checked.
		return nil, errServer(errors.New("issuer: pre-authorized code record changed while redeemed"))
	}
	// The offer and the attempt counter are of no further use.
	if err := errors.Join(is.cfg.State.Delete(ctx, offerKey(rec.OfferID)),
		is.cfg.State.Delete(ctx, preAuthAttemptsKey(code))); err != nil {
		is.log.LogAttrs(ctx, slog.LevelWarn, "issuer: clean up after a redeemed pre-authorized code",
			slog.String("error", err.Error()))
	}
	g := &PreAuthorizedGrant{PersonID: rec.PersonID, ConfigurationIDs: rec.ConfigurationIDs}
	for _, id := range rec.ConfigurationIDs {
		c := is.configs[id]
		if c == nil {
			// The configuration was removed since the offer was made.
			return nil, errGrant(fmt.Errorf("configuration %q of the offer is gone", id))
		}
		g.Scopes = append(g.Scopes, c.Scope)
	}
	return g, nil
}
