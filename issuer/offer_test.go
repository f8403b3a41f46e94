package issuer

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	qr "github.com/piglig/go-qr"

	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// paOfferGolden is the golden file of a pre-authorized offer with a
// tx_code; the code is replaced by a placeholder.
const paOfferGolden = "testdata/offer_pre_authorized.golden.json"

// paCodePlaceholder stands for the random pre-authorized code in the
// golden offer.
const paCodePlaceholder = "<pre-authorized code>"

// paOfferBody is an offer request with a tx_code.
func paOfferBody(individualID string, configs ...string) map[string]any {
	return map[string]any{
		"individualId":                 individualID,
		"credential_configuration_ids": configs,
		"tx_code":                      map[string]any{"length": 6, "input_mode": "numeric", "description": "Code sent to your phone"},
	}
}

func paMarshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// paOffer is what the tests read from a 201 answer.
type paOffer struct {
	ID                 string          `json:"id"`
	CredentialOffer    json.RawMessage `json:"credential_offer"`
	CredentialOfferURI string          `json:"credential_offer_uri"`
	OfferURL           string          `json:"offer_url"`
	QRPNG              string          `json:"qr_png"`
	ExpiresAt          string          `json:"expires_at"`
}

func (o paOffer) code(t *testing.T) string {
	t.Helper()
	var off struct {
		Grants map[string]struct {
			Code string `json:"pre-authorized_code"`
		} `json:"grants"`
	}
	if err := json.Unmarshal(o.CredentialOffer, &off); err != nil {
		t.Fatal(err)
	}
	return off.Grants[GrantTypePreAuthorizedCode].Code
}

// createOffer posts an offer request and decodes the 201 answer.
func (e *paEnv) createOffer(body map[string]any) paOffer {
	e.t.Helper()
	w := e.do(http.MethodPost, paAdminOffers, paMarshal(e.t, body), http.Header{"Content-Type": {"application/json"}})
	if w.Code != http.StatusCreated {
		e.t.Fatalf("POST %s = %d %s, want 201", paAdminOffers, w.Code, w.Body.String())
	}
	var o paOffer
	if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil {
		e.t.Fatalf("offer response %s: %v", w.Body.String(), err)
	}
	return o
}

// lastTxCode is the tx_code of the last message sent.
func (e *paEnv) lastTxCode() string {
	e.t.Helper()
	msgs := e.notifier.messages()
	if len(msgs) == 0 {
		e.t.Fatal("no tx_code was sent")
	}
	return msgs[len(msgs)-1].Data[notify.DataOTP]
}

// decodeQR reads the text of a QR code PNG.
func decodeQR(t *testing.T, pngBytes []byte) string {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	text, err := qr.Decode(img)
	if err != nil {
		t.Fatalf("QR code does not decode: %v", err)
	}
	return text
}

func TestOfferCreate(t *testing.T) {
	e := newPaEnv(t)
	w := e.do(http.MethodPost, paAdminOffers, paMarshal(t, paOfferBody(paUIN, paNID, paHealth)),
		http.Header{"Content-Type": {"application/json"}})
	if w.Code != http.StatusCreated {
		t.Fatalf("POST %s = %d %s, want 201", paAdminOffers, w.Code, w.Body.String())
	}
	if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	var o paOffer
	if err := json.Unmarshal(w.Body.Bytes(), &o); err != nil {
		t.Fatal(err)
	}
	code := o.code(t)
	if !randomIDPattern.MatchString(code) || !randomIDPattern.MatchString(o.ID) || code == o.ID {
		t.Errorf("pre-authorized code %q and offer id %q, want two distinct 43-character base64url values", code, o.ID)
	}

	// The offer itself, against the golden file.
	got := strings.Replace(string(o.CredentialOffer), code, paCodePlaceholder, 1)
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, []byte(got), "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	want, err := os.ReadFile(paOfferGolden)
	if err != nil {
		t.Fatalf("read golden file: %v (the offer is:\n%s)", err, pretty.String())
	}
	if pretty.String() != string(want) {
		t.Errorf("credential_offer =\n%s\nwant (%s)\n%s", pretty.String(), filepath.Base(paOfferGolden), want)
	}

	// Its URLs and QR code.
	wantURI := paIssuer + PathOffer + "/" + o.ID
	if o.CredentialOfferURI != wantURI {
		t.Errorf("credential_offer_uri = %q, want %q", o.CredentialOfferURI, wantURI)
	}
	wantURL := "openid-credential-offer://?credential_offer_uri=" + url.QueryEscape(wantURI)
	if o.OfferURL != wantURL {
		t.Errorf("offer_url = %q, want %q", o.OfferURL, wantURL)
	}
	if u, err := url.Parse(o.OfferURL); err != nil || u.Query().Get("credential_offer_uri") != wantURI {
		t.Errorf("offer_url %q: credential_offer_uri parameter = %q, %v, want %q", o.OfferURL, u.Query().Get("credential_offer_uri"), err, wantURI)
	}
	pngBytes, err := base64.StdEncoding.DecodeString(o.QRPNG)
	if err != nil {
		t.Fatalf("qr_png is not base64: %v", err)
	}
	if text := decodeQR(t, pngBytes); text != wantURL {
		t.Errorf("qr_png holds %q, want %q", text, wantURL)
	}
	if want := e.clock.Now().Add(DefaultPreAuthorizedCodeTTL).Format(time.RFC3339); o.ExpiresAt != want {
		t.Errorf("expires_at = %q, want %q", o.ExpiresAt, want)
	}

	// The tx_code went to the resident's phone, in the language of the
	// first name, and nowhere else.
	msgs := e.notifier.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages sent, want 1", len(msgs))
	}
	m := msgs[0]
	tx := m.Data[notify.DataOTP]
	if m.Channel != notify.Phone || m.To != paPhone || m.Purpose != notify.PurposeTxCode || m.Language != "ara" ||
		m.Data[notify.DataExpiresInMinutes] != "10" || !regexp.MustCompile(`^[0-9]{6}$`).MatchString(tx) {
		t.Errorf("message = %+v (data %v), want a 6-digit tx-code by phone to %s in ara, expiring in 10 minutes", m, m.Data, paPhone)
	}
	if err := m.Validate(); err != nil {
		t.Errorf("message.Validate() = %v", err)
	}
	if strings.Contains(w.Body.String(), `"`+tx+`"`) || strings.Contains(e.logs.String(), tx) {
		t.Errorf("the tx_code %s is in the response or the logs", tx)
	}
	for _, secret := range []string{code, o.ID, paUIN, paPerson, paPhone} {
		if strings.Contains(e.logs.String(), secret) {
			t.Errorf("logs hold %q: %s", secret, e.logs.String())
		}
	}

	// The State holds the code only as a hash, and not the tx_code.
	raw, err := e.state.Get(t.Context(), preAuthKey(code))
	if err != nil {
		t.Fatalf("State.Get(preAuthKey) = %v", err)
	}
	for _, k := range e.state.keysPut() {
		if strings.Contains(k, code) {
			t.Errorf("State key %q holds the code in clear", k)
		}
	}
	if bytes.Contains(raw, []byte(code)) || bytes.Contains(raw, []byte(tx)) {
		t.Errorf("pre-authorized code record %s holds the code or the tx_code in clear", raw)
	}

	// The offer by reference is the same offer.
	r := e.do(http.MethodGet, paOfferPath+"/"+o.ID, nil, nil)
	if r.Code != http.StatusOK || r.Header().Get("Cache-Control") != "no-store" ||
		!strings.HasPrefix(r.Header().Get("Content-Type"), "application/json") {
		t.Errorf("GET offer by reference = %d, Cache-Control %q, Content-Type %q, want 200, no-store, JSON",
			r.Code, r.Header().Get("Cache-Control"), r.Header().Get("Content-Type"))
	}
	if !jsonEqual(t, r.Body.Bytes(), o.CredentialOffer) {
		t.Errorf("GET offer by reference = %s, want %s", r.Body.String(), o.CredentialOffer)
	}

	// And the admin QR code is the QR code of the offer URL.
	q := e.do(http.MethodGet, paAdminOffers+"/"+o.ID+"/qr.png", nil, nil)
	if q.Code != http.StatusOK || q.Header().Get("Content-Type") != "image/png" {
		t.Fatalf("GET qr.png = %d, Content-Type %q, want 200 image/png", q.Code, q.Header().Get("Content-Type"))
	}
	if text := decodeQR(t, q.Body.Bytes()); text != wantURL {
		t.Errorf("GET qr.png holds %q, want %q", text, wantURL)
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		return false
	}
	if err := json.Unmarshal(b, &y); err != nil {
		return false
	}
	return fmt.Sprint(x) == fmt.Sprint(y)
}

func TestOfferWithoutTxCode(t *testing.T) {
	e := newPaEnv(t)
	o := e.createOffer(map[string]any{"individualId": paUIN, "credential_configuration_ids": []string{paHealth}})
	var off map[string]any
	if err := json.Unmarshal(o.CredentialOffer, &off); err != nil {
		t.Fatal(err)
	}
	grant, _ := off["grants"].(map[string]any)[GrantTypePreAuthorizedCode].(map[string]any)
	if _, has := grant["tx_code"]; has || grant["pre-authorized_code"] == nil {
		t.Errorf("grant = %v, want a pre-authorized_code and no tx_code", grant)
	}
	if n := len(e.notifier.messages()); n != 0 {
		t.Errorf("%d messages sent, want none", n)
	}
	g, err := e.is.RedeemPreAuthorizedCode(t.Context(), o.code(t), "")
	if err != nil {
		t.Fatalf("RedeemPreAuthorizedCode = %v, want a grant", err)
	}
	if g.PersonID != paPerson || !slices.Equal(g.ConfigurationIDs, []string{paHealth}) || !slices.Equal(g.Scopes, []string{paScopeHealth}) {
		t.Errorf("RedeemPreAuthorizedCode = %+v, want %s, [%s], [%s]", g, paPerson, paHealth, paScopeHealth)
	}
}

func TestOfferTxCodeText(t *testing.T) {
	e := newPaEnv(t)
	body := paOfferBody("email-only", paNID)
	body["tx_code"] = map[string]any{"length": 8, "input_mode": "text"}
	e.createOffer(body)
	m := e.notifier.messages()[0]
	tx := m.Data[notify.DataOTP]
	if m.Channel != notify.Email || m.To != paEmail || m.Language != notify.DefaultLanguage {
		t.Errorf("message = %+v, want e-mail to %s in %s", m, paEmail, notify.DefaultLanguage)
	}
	if len(tx) != 8 || strings.Trim(tx, txCodeTextAlphabet) != "" {
		t.Errorf("text tx_code %q, want 8 characters of %q", tx, txCodeTextAlphabet)
	}
}

func TestOfferDefaults(t *testing.T) {
	e := newPaEnv(t)
	body := paOfferBody(paUIN, paNID)
	body["tx_code"] = map[string]any{}
	o := e.createOffer(body)
	var off struct {
		Grants map[string]PreAuthorizedCodeGrant `json:"grants"`
	}
	if err := json.Unmarshal(o.CredentialOffer, &off); err != nil {
		t.Fatal(err)
	}
	tc := off.Grants[GrantTypePreAuthorizedCode].TxCode
	if tc == nil || tc.Length != DefaultTxCodeLength || tc.InputMode != TxCodeNumeric || tc.Description != "" {
		t.Errorf("tx_code = %+v, want length %d, numeric, no description", tc, DefaultTxCodeLength)
	}
	if tx := e.lastTxCode(); len(tx) != DefaultTxCodeLength {
		t.Errorf("tx_code sent %d characters, want %d", len(tx), DefaultTxCodeLength)
	}
}

func TestOfferRequestErrors(t *testing.T) {
	long := strings.Repeat("x", maxTxCodeDescription+1)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
	}{
		{"not JSON", `{"individualId":`, 400, CodeInvalidRequest},
		{"empty body", ``, 400, CodeInvalidRequest},
		{"array", `[]`, 400, CodeInvalidRequest},
		{"unknown member", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"],"claims":{}}`, 400, CodeInvalidRequest},
		{"trailing data", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"]} {}`, 400, CodeInvalidRequest},
		{"no individualId", `{"credential_configuration_ids":["NationalID"]}`, 400, CodeInvalidRequest},
		{"blank individualId", `{"individualId":"  ","credential_configuration_ids":["NationalID"]}`, 400, CodeInvalidRequest},
		{"individualId too long", `{"individualId":"` + strings.Repeat("1", maxIndividualIDLen+1) + `","credential_configuration_ids":["NationalID"]}`, 400, CodeInvalidRequest},
		{"individualId a number", `{"individualId":4829103756,"credential_configuration_ids":["NationalID"]}`, 400, CodeInvalidRequest},
		{"no configurations", `{"individualId":"` + paUIN + `"}`, 400, CodeInvalidRequest},
		{"empty configurations", `{"individualId":"` + paUIN + `","credential_configuration_ids":[]}`, 400, CodeInvalidRequest},
		{"unknown configuration", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID","Passport"]}`, 400, CodeUnknownCredentialConfiguration},
		{"configuration twice", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID","NationalID"]}`, 400, CodeInvalidRequest},
		{"tx_code too short", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"],"tx_code":{"length":3}}`, 400, CodeInvalidRequest},
		{"tx_code too long", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"],"tx_code":{"length":9}}`, 400, CodeInvalidRequest},
		{"tx_code negative", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"],"tx_code":{"length":-6}}`, 400, CodeInvalidRequest},
		{"tx_code input mode", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"],"tx_code":{"input_mode":"alpha"}}`, 400, CodeInvalidRequest},
		{"tx_code description too long", `{"individualId":"` + paUIN + `","credential_configuration_ids":["NationalID"],"tx_code":{"description":"` + long + `"}}`, 400, CodeInvalidRequest},
		{"unknown individual", `{"individualId":"0000000000","credential_configuration_ids":["NationalID"]}`, 404, CodeUnknownIndividual},
		{"no contact for the tx_code", `{"individualId":"no-contact","credential_configuration_ids":["NationalID"],"tx_code":{}}`, 422, CodeNoContact},
		{"body too large", `{"individualId":"` + strings.Repeat("1", maxOfferRequestBytes) + `"}`, 400, CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPaEnv(t, paWithLedger(paNoLedger{}))
			w := e.do(http.MethodPost, paAdminOffers, []byte(tt.body), http.Header{"Content-Type": {"application/json"}})
			m := paWantError(t, w, tt.status, tt.code)
			if desc, _ := m["error_description"].(string); desc == "" || strings.Contains(desc, "0000000000") {
				t.Errorf("error_description = %q, want a description that does not echo the individual id", desc)
			}
			if keys := e.state.keysPut(); len(keys) != 0 {
				t.Errorf("a refused offer stored %q", keys)
			}
			if n := len(e.notifier.messages()); n != 0 {
				t.Errorf("a refused offer sent %d messages", n)
			}
		})
	}
}

// paNoLedger is a Ledger for tests that never reach it.
type paNoLedger struct{ storage.Ledger }

func TestOfferConfigurationErrors(t *testing.T) {
	body := paMarshal(t, paOfferBody(paUIN, paNID))
	t.Run("no person finder", func(t *testing.T) {
		e := newPaEnv(t, paWithLedger(paNoLedger{}), func(c *Config) { c.Persons = nil })
		paWantError(t, e.do(http.MethodPost, paAdminOffers, body, nil), http.StatusNotImplemented, CodeOffersNotConfigured)
	})
	t.Run("tx_code and no notifier", func(t *testing.T) {
		e := newPaEnv(t, paWithLedger(paNoLedger{}), func(c *Config) { c.Notifier = nil })
		paWantError(t, e.do(http.MethodPost, paAdminOffers, body, nil), http.StatusBadRequest, CodeInvalidRequest)
		// Without a tx_code the offer is made.
		e.createOffer(map[string]any{"individualId": paUIN, "credential_configuration_ids": []string{paNID}})
	})
	t.Run("person finder fails", func(t *testing.T) {
		e := newPaEnv(t, paWithLedger(paNoLedger{}))
		e.persons.err = errors.New("database down")
		paWantError(t, e.do(http.MethodPost, paAdminOffers, body, nil), http.StatusInternalServerError, CodeServerError)
	})
	t.Run("tx_code not delivered", func(t *testing.T) {
		e := newPaEnv(t, paWithLedger(paNoLedger{}))
		e.notifier.err = errors.New("SMS gateway down")
		paWantError(t, e.do(http.MethodPost, paAdminOffers, body, nil), http.StatusBadGateway, CodeTxCodeDeliveryFailed)
		// Nothing the offer stored is left.
		keys := e.state.keysPut()
		if len(keys) != 2 {
			t.Fatalf("State keys put = %q, want the code and the offer", keys)
		}
		for _, k := range keys {
			if _, err := e.state.Get(t.Context(), k); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("State.Get(%q) after a failed delivery = %v, want %v", k, err, storage.ErrNotFound)
			}
		}
	})
}

func TestOfferByReferenceUnknown(t *testing.T) {
	e := newPaEnv(t, paWithLedger(paNoLedger{}))
	o := e.createOffer(paOfferBody(paUIN, paNID))
	for _, id := range []string{
		strings.Repeat("A", 43), // well formed, unknown
		o.ID[:42],               // too short
		o.ID + "A",              // too long
		strings.Repeat("!", 43), // not base64url
	} {
		paWantError(t, e.do(http.MethodGet, paOfferPath+"/"+id, nil, nil), http.StatusNotFound, CodeNotFound)
		paWantError(t, e.do(http.MethodGet, paAdminOffers+"/"+id+"/qr.png", nil, nil), http.StatusNotFound, CodeNotFound)
	}
	// Expired with its code.
	e.clock.Advance(DefaultPreAuthorizedCodeTTL + time.Second)
	paWantError(t, e.do(http.MethodGet, paOfferPath+"/"+o.ID, nil, nil), http.StatusNotFound, CodeNotFound)
}

func TestTxCodeMessage(t *testing.T) {
	name := func(langs ...string) []any {
		var out []any
		for _, l := range langs {
			out = append(out, map[string]any{"language": l, "value": "x"})
		}
		return out
	}
	tests := []struct {
		name     string
		identity map[string]any
		channel  notify.Channel
		to, lang string
	}{
		{"phone first", map[string]any{"phone": paPhone, "email": paEmail, "fullName": name("fra", "eng")}, notify.Phone, paPhone, "fra"},
		{"e-mail when no phone", map[string]any{"email": paEmail, "fullName": name("ara")}, notify.Email, paEmail, "ara"},
		{"blank phone", map[string]any{"phone": "  ", "email": paEmail}, notify.Email, paEmail, "eng"},
		{"phone not a string", map[string]any{"phone": 971501234567, "email": paEmail}, notify.Email, paEmail, "eng"},
		{"language upper case", map[string]any{"phone": paPhone, "fullName": name("ARA")}, notify.Phone, paPhone, "ara"},
		{"language not ISO 639-3", map[string]any{"phone": paPhone, "fullName": name("en")}, notify.Phone, paPhone, "eng"},
		{"fullName a string", map[string]any{"phone": paPhone, "fullName": "Sara"}, notify.Phone, paPhone, "eng"},
		{"fullName of the wrong shape", map[string]any{"phone": paPhone, "fullName": []any{"ara"}}, notify.Phone, paPhone, "eng"},
		{"no contact", map[string]any{"fullName": name("ara")}, "", "", ""},
		{"nil identity", nil, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := txCodeMessage(tt.identity)
			if tt.channel == "" {
				if m != nil {
					t.Errorf("txCodeMessage() = %+v, want nil", m)
				}
				return
			}
			if m == nil || m.Channel != tt.channel || m.To != tt.to || m.Language != tt.lang {
				t.Errorf("txCodeMessage() = %+v, want %s to %s in %s", m, tt.channel, tt.to, tt.lang)
			}
		})
	}
}

// paRedeemable makes an offer through CreateOffer and returns its code and
// tx_code ("" without one).
func (e *paEnv) paRedeemable(withTxCode bool, configs ...string) (code, tx string) {
	e.t.Helper()
	var txReq *TxCodeRequest
	if withTxCode {
		txReq = &TxCodeRequest{Length: 6}
	}
	resp, err := e.is.CreateOffer(e.t.Context(), paUIN, configs, txReq)
	if err != nil {
		e.t.Fatalf("CreateOffer = %v", err)
	}
	code = resp.CredentialOffer.Grants[GrantTypePreAuthorizedCode].(PreAuthorizedCodeGrant).PreAuthorizedCode
	if withTxCode {
		tx = e.lastTxCode()
	}
	return code, tx
}

// wrongTx returns a tx_code of the same form other than tx.
func wrongTx(tx string) string {
	b := []byte(tx)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestRedeemPreAuthorizedCode(t *testing.T) {
	e := newPaEnv(t, paWithLedger(paNoLedger{}))
	resp, err := e.is.CreateOffer(t.Context(), paUIN, []string{paHealth, paNID}, &TxCodeRequest{Length: 4})
	if err != nil {
		t.Fatalf("CreateOffer = %v", err)
	}
	code := resp.CredentialOffer.Grants[GrantTypePreAuthorizedCode].(PreAuthorizedCodeGrant).PreAuthorizedCode
	tx := e.lastTxCode()
	g, err := e.is.RedeemPreAuthorizedCode(t.Context(), code, tx)
	if err != nil {
		t.Fatalf("RedeemPreAuthorizedCode = %v, want a grant", err)
	}
	want := &PreAuthorizedGrant{PersonID: paPerson, ConfigurationIDs: []string{paHealth, paNID}, Scopes: []string{paScopeHealth, paScopeNID}}
	if g.PersonID != want.PersonID || !slices.Equal(g.ConfigurationIDs, want.ConfigurationIDs) || !slices.Equal(g.Scopes, want.Scopes) {
		t.Errorf("RedeemPreAuthorizedCode = %+v, want %+v", g, want)
	}
	// Single use; and the offer is gone with the code.
	_, err = e.is.RedeemPreAuthorizedCode(t.Context(), code, tx)
	paWantGrantError(t, "RedeemPreAuthorizedCode again", err, CodeInvalidGrant, http.StatusBadRequest)
	paWantError(t, e.do(http.MethodGet, paOfferPath+"/"+resp.ID, nil, nil), http.StatusNotFound, CodeNotFound)
}

func TestRedeemPreAuthorizedCodeErrors(t *testing.T) {
	tests := []struct {
		name       string
		withTxCode bool
		redeem     func(e *paEnv, code, tx string) (string, string) // the code and tx_code to present
		wantCode   string
		stillValid bool // the code can still be redeemed afterwards
	}{
		{"unknown code", true, func(e *paEnv, code, tx string) (string, string) { return strings.Repeat("A", 43), tx },
			CodeInvalidGrant, true},
		{"empty code", false, func(e *paEnv, code, tx string) (string, string) { return "", "" }, CodeInvalidGrant, true},
		{"code too long", false, func(e *paEnv, code, tx string) (string, string) {
			return strings.Repeat(code, 10), ""
		}, CodeInvalidGrant, true},
		{"missing tx_code", true, func(e *paEnv, code, tx string) (string, string) { return code, "" },
			CodeInvalidRequest, true},
		{"unexpected tx_code", false, func(e *paEnv, code, tx string) (string, string) { return code, "123456" },
			CodeInvalidRequest, true},
		{"wrong tx_code", true, func(e *paEnv, code, tx string) (string, string) { return code, wrongTx(tx) },
			CodeInvalidGrant, true},
		{"tx_code with a suffix", true, func(e *paEnv, code, tx string) (string, string) { return code, tx + "0" },
			CodeInvalidGrant, true},
		{"huge tx_code", true, func(e *paEnv, code, tx string) (string, string) {
			return code, strings.Repeat("9", 10000)
		}, CodeInvalidGrant, true},
		{"expired", true, func(e *paEnv, code, tx string) (string, string) {
			e.clock.Advance(DefaultPreAuthorizedCodeTTL)
			return code, tx
		}, CodeInvalidGrant, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newPaEnv(t, paWithLedger(paNoLedger{}))
			code, tx := e.paRedeemable(tt.withTxCode, paNID)
			c, x := tt.redeem(e, code, tx)
			g, err := e.is.RedeemPreAuthorizedCode(t.Context(), c, x)
			if g != nil {
				t.Errorf("RedeemPreAuthorizedCode = %+v, want no grant", g)
			}
			paWantGrantError(t, "RedeemPreAuthorizedCode", err, tt.wantCode, http.StatusBadRequest)
			_, err = e.is.RedeemPreAuthorizedCode(t.Context(), code, tx)
			if tt.stillValid && err != nil {
				t.Errorf("RedeemPreAuthorizedCode(the right code and tx_code) afterwards = %v, want a grant", err)
			}
			if !tt.stillValid && err == nil {
				t.Errorf("RedeemPreAuthorizedCode(the right code and tx_code) afterwards succeeded, want invalid_grant")
			}
		})
	}
}

func TestRedeemTxCodeAttempts(t *testing.T) {
	for _, attempts := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d attempts", attempts), func(t *testing.T) {
			t.Run("wrong until the last", func(t *testing.T) {
				e := newPaEnv(t, paWithLedger(paNoLedger{}), func(c *Config) { c.TxCodeAttempts = attempts })
				code, tx := e.paRedeemable(true, paNID)
				for i := range attempts - 1 {
					_, err := e.is.RedeemPreAuthorizedCode(t.Context(), code, wrongTx(tx))
					paWantGrantError(t, fmt.Sprintf("wrong tx_code %d", i+1), err, CodeInvalidGrant, http.StatusBadRequest)
				}
				if _, err := e.is.RedeemPreAuthorizedCode(t.Context(), code, tx); err != nil {
					t.Errorf("RedeemPreAuthorizedCode after %d wrong tx_codes = %v, want a grant", attempts-1, err)
				}
			})
			t.Run("all wrong", func(t *testing.T) {
				e := newPaEnv(t, paWithLedger(paNoLedger{}), func(c *Config) { c.TxCodeAttempts = attempts })
				resp, err := e.is.CreateOffer(t.Context(), paUIN, []string{paNID}, &TxCodeRequest{Length: 6})
				if err != nil {
					t.Fatalf("CreateOffer = %v", err)
				}
				code := resp.CredentialOffer.Grants[GrantTypePreAuthorizedCode].(PreAuthorizedCodeGrant).PreAuthorizedCode
				tx := e.lastTxCode()
				for i := range attempts {
					_, err := e.is.RedeemPreAuthorizedCode(t.Context(), code, wrongTx(tx))
					paWantGrantError(t, fmt.Sprintf("wrong tx_code %d", i+1), err, CodeInvalidGrant, http.StatusBadRequest)
				}
				_, err = e.is.RedeemPreAuthorizedCode(t.Context(), code, tx)
				paWantGrantError(t, fmt.Sprintf("the right tx_code after %d wrong", attempts), err, CodeInvalidGrant, http.StatusBadRequest)
				if _, err := e.state.Get(t.Context(), preAuthKey(code)); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("State.Get(the voided code) = %v, want %v", err, storage.ErrNotFound)
				}
				if _, err := e.state.Get(t.Context(), offerKey(resp.ID)); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("State.Get(the voided code's offer) = %v, want %v", err, storage.ErrNotFound)
				}
			})
		})
	}
}

// paStates are the State backends of the concurrency tests: in memory
// always, Redis when SANAD_TEST_REDIS_URL is set.
func paStates(t *testing.T) map[string]func(t *testing.T) storage.State {
	return map[string]func(t *testing.T) storage.State{
		"memory": func(t *testing.T) storage.State { return nil },
		"redis":  func(t *testing.T) storage.State { return storagetest.OpenRedis(t) },
	}
}

func TestRedeemConcurrent(t *testing.T) {
	const n = 50
	for name, open := range paStates(t) {
		for _, withTx := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s, tx_code %v", name, withTx), func(t *testing.T) {
				var opts []paOption
				if s := open(t); s != nil {
					opts = append(opts, paWithState(s))
				}
				e := newPaEnv(t, append(opts, paWithLedger(paNoLedger{}))...)
				code, tx := e.paRedeemable(withTx, paNID)
				var (
					wg     sync.WaitGroup
					start  = make(chan struct{})
					grants = make([]*PreAuthorizedGrant, n)
					errs   = make([]error, n)
				)
				for i := range n {
					wg.Go(func() {
						<-start
						grants[i], errs[i] = e.is.RedeemPreAuthorizedCode(context.Background(), code, tx)
					})
				}
				close(start)
				wg.Wait()
				won := 0
				for i := range n {
					if errs[i] == nil && grants[i] != nil {
						won++
						continue
					}
					paWantGrantError(t, fmt.Sprintf("redemption %d", i), errs[i], CodeInvalidGrant, http.StatusBadRequest)
				}
				if won != 1 {
					t.Errorf("%d concurrent redemptions gave %d grants, want exactly 1", n, won)
				}
			})
		}
	}
}

func TestRedeemConcurrentGuesses(t *testing.T) {
	// 50 wrong tx_codes at once against a limit of 3: all fail and the
	// code is void, however the attempts interleave.
	const n = 50
	e := newPaEnv(t, paWithLedger(paNoLedger{}))
	code, tx := e.paRedeemable(true, paNID)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			guess := fmt.Sprintf("%06d", i)
			if guess == tx {
				guess = wrongTx(tx)
			}
			_, errs[i] = e.is.RedeemPreAuthorizedCode(context.Background(), code, guess)
		})
	}
	wg.Wait()
	for i, err := range errs {
		paWantGrantError(t, fmt.Sprintf("guess %d", i), err, CodeInvalidGrant, http.StatusBadRequest)
	}
	_, err := e.is.RedeemPreAuthorizedCode(t.Context(), code, tx)
	paWantGrantError(t, "the right tx_code after the guesses", err, CodeInvalidGrant, http.StatusBadRequest)
}

func FuzzOfferRequest(f *testing.F) {
	for _, s := range []string{
		`{"individualId":"4829103756","credential_configuration_ids":["NationalID"]}`,
		`{"individualId":"4829103756","credential_configuration_ids":["NationalID","HealthInsurance"],"tx_code":{"length":6,"input_mode":"numeric","description":"d"}}`,
		`{"individualId":"x","credential_configuration_ids":["NationalID"],"tx_code":{}}`,
		`{"individualId":"x","credential_configuration_ids":["NationalID"],"tx_code":{"length":9}}`,
		`{"individualId":"x","credential_configuration_ids":["NationalID","NationalID"]}`,
		`{"individualId":"x","credential_configuration_ids":["Unknown"]}`,
		`{"individualId":"x"} {}`, `{"individualId":`, `[]`, `null`, ``, `{"tx_code":null}`,
		`{"individualId":"\u0000","credential_configuration_ids":["NationalID"],"tx_code":{"description":"\ud800"}}`,
	} {
		f.Add([]byte(s))
	}
	known := func(id string) bool { return id == paNID || id == paHealth }
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := parseOfferRequest(bytes.NewReader(body), known)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest {
				t.Fatalf("parseOfferRequest(%q) = %v, want an *Error with status 400", body, err)
			}
			return
		}
		if strings.TrimSpace(q.IndividualID) == "" || len(q.CredentialConfigurationIDs) == 0 {
			t.Fatalf("parseOfferRequest(%q) accepted %+v without individualId or configurations", body, q)
		}
		seen := map[string]bool{}
		for _, id := range q.CredentialConfigurationIDs {
			if !known(id) || seen[id] {
				t.Fatalf("parseOfferRequest(%q) accepted configuration %q (unknown or repeated)", body, id)
			}
			seen[id] = true
		}
		if tc := q.TxCode; tc != nil {
			if tc.Length < MinTxCodeLength || tc.Length > MaxTxCodeLength ||
				(tc.InputMode != TxCodeNumeric && tc.InputMode != TxCodeText) {
				t.Fatalf("parseOfferRequest(%q) accepted tx_code %+v", body, tc)
			}
			if _, err := newTxCode(tc.Length, tc.InputMode); err != nil {
				t.Fatalf("newTxCode(%+v) = %v", tc, err)
			}
		}
	})
}

func FuzzRedeemPreAuthorizedCode(f *testing.F) {
	e := newPaEnv(f, paWithLedger(paNoLedger{}), func(c *Config) { c.TxCodeAttempts = 1 << 30 })
	code, tx := e.paRedeemable(true, paNID)
	f.Add(code, tx+"0")
	f.Add(code, wrongTx(tx))
	f.Add(code, "")
	f.Add(code[:42], tx)
	f.Add("", tx)
	f.Add(strings.Repeat("A", 43), tx)
	f.Add(code+"\x00", tx)
	f.Fuzz(func(t *testing.T, c, x string) {
		if c == code && x == tx {
			return // the one right answer; redeeming it would end the fuzzing
		}
		g, err := e.is.RedeemPreAuthorizedCode(context.Background(), c, x)
		if g != nil || err == nil {
			t.Fatalf("RedeemPreAuthorizedCode(%q, %q) = %+v, %v, want an error", c, x, g, err)
		}
		var pe *Error
		if !errors.As(err, &pe) || (pe.Code != CodeInvalidGrant && pe.Code != CodeInvalidRequest) {
			t.Fatalf("RedeemPreAuthorizedCode(%q, %q) = %v, want invalid_grant or invalid_request", c, x, err)
		}
	})
}
