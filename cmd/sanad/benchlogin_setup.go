package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/oidc"
)

// adminAPI calls the server's admin APIs (ID repository, client management)
// with the admin bearer token.
type adminAPI struct {
	base, token string
	client      *http.Client
}

// do sends body as JSON and decodes a 2xx answer into out (if not nil). A
// non-2xx answer is an *adminStatusError with the error code of either
// envelope.
func (a adminAPI) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return &adminStatusError{method: method, path: path, status: resp.StatusCode, code: errorCodeOf(b)}
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

type adminStatusError struct {
	method, path string
	status       int
	code         string
}

func (e *adminStatusError) Error() string {
	s := fmt.Sprintf("%s %s: %d %s", e.method, e.path, e.status, http.StatusText(e.status))
	if e.code != "" {
		s += " (" + e.code + ")"
	}
	if e.status == http.StatusUnauthorized {
		s += ": wrong admin token (--admin-token-file, SANAD_ADMIN_TOKEN)"
	}
	return s
}

// errorCodeOf reads the error code of an error answer: OAuth's and the ID
// repository's {"error"}, or eSignet's envelope {"errors": [{"errorCode"}]}.
func errorCodeOf(body []byte) string {
	var e struct {
		Error  string `json:"error"`
		Errors []struct {
			ErrorCode string `json:"errorCode"`
		} `json:"errors"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	if e.Error != "" {
		return e.Error
	}
	if len(e.Errors) > 0 {
		return e.Errors[0].ErrorCode
	}
	return ""
}

// benchPhones are the phone numbers of a run's synthetic residents: a range
// of the unassigned country code +999 chosen by the run id, so that a second
// run with the same id finds the residents of the first.
func benchPhones(runID string, n int) []string {
	h := fnv.New32a()
	h.Write([]byte(runID))
	block := h.Sum32() % 10_000
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+999%04d%06d", block, i)
	}
	return out
}

// benchIdentity is synthetic resident i of a run. Its address line is the
// marker that says which run made it. Names have no digits: the OTP is read
// out of the message text. It has an e-mail address because send-otp asks
// for both channels, as oidc-ui does; the e-mail copy of the code goes to
// the server's e-mail transport (with --demo, the outbox file).
func benchIdentity(runID string, i int, phone string) map[string]any {
	g, f := synthGiven[i%len(synthGiven)], synthFamily[(i/len(synthGiven))%len(synthFamily)]
	eng := func(v string) []map[string]string { return []map[string]string{{"language": "eng", "value": v}} }
	return map[string]any{
		"fullName":     eng(g + " " + f),
		"givenName":    eng(g),
		"familyName":   eng(f),
		"gender":       eng([]string{"Female", "Male"}[i%2]),
		"dateOfBirth":  fmt.Sprintf("%04d/%02d/%02d", 1940+i%60, 1+i%12, 1+i%28),
		"phone":        phone,
		"email":        fmt.Sprintf("bench-%s-%d@example.org", runID, i),
		"addressLine1": eng("sanad bench login, run " + runID),
	}
}

// ensureResidents creates the run's residents through POST /v1/identities;
// a phone number already registered (409 duplicate_handle) is a resident of
// an earlier run with the same id, and is reused.
func ensureResidents(ctx context.Context, api adminAPI, runID string, n, parallel int) (phones []string, created, reused int, err error) {
	phones = benchPhones(runID, n)
	var nCreated, nReused, next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range max(1, parallel) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				err := api.do(ctx, http.MethodPost, "/v1/identities", map[string]any{"identity": benchIdentity(runID, i, phones[i])}, nil)
				var se *adminStatusError
				switch {
				case err == nil:
					nCreated.Add(1)
				case errors.As(err, &se) && se.status == http.StatusConflict && se.code == "duplicate_handle":
					nReused.Add(1)
				default:
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, 0, 0, fmt.Errorf("create residents: %w", errs[0])
	}
	return phones, int(nCreated.Load()), int(nReused.Load()), ctx.Err()
}

// ACRs of the factors the benchmark signs in with.
const (
	acrOTP = "mosip:idp:acr:generated-code"
	acrPIN = "mosip:idp:acr:static-code"
)

// benchClient is the relying party a run registers.
type benchClient struct {
	ID          string
	Key         jwk.Key // ES256 private key of private_key_jwt
	RedirectURI string
}

// benchRedirectURI is the benchmark client's redirect URI: auth-code answers
// it, nothing ever loads it.
const benchRedirectURI = "https://rp.bench.invalid/callback"

// registerBenchClient registers a new client through POST
// /client-mgmt/client: an ES256 key made now for private_key_jwt, ID tokens
// and signed userinfo with alg, DPoP-bound tokens and PAR as asked.
func registerBenchClient(ctx context.Context, api adminAPI, alg string, dpop, par bool) (*benchClient, error) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	key, err := jwk.Import(priv)
	if err != nil {
		return nil, err
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	id := "bench-login-" + hex.EncodeToString(suffix)
	if err := key.Set(jwk.KeyIDKey, id); err != nil {
		return nil, err
	}
	if err := key.Set(jwk.AlgorithmKey, "ES256"); err != nil {
		return nil, err
	}
	pub, err := key.PublicKey()
	if err != nil {
		return nil, err
	}
	pubJSON, err := json.Marshal(pub)
	if err != nil {
		return nil, err
	}
	extra, err := json.Marshal(oidc.ClientAdditionalConfig{
		UserinfoResponseType:     oidc.UserinfoJWS,
		IDTokenSignedResponseAlg: alg,
		DPoPBoundTokens:          dpop,
		RequirePAR:               par,
		RequirePKCE:              true,
	})
	if err != nil {
		return nil, err
	}
	reg := oidc.ClientRegistration{
		ClientID: id, ClientName: "sanad bench login",
		ClientNameLangMap: map[string]string{"eng": "sanad bench login"},
		PublicKey:         pubJSON, RelyingPartyID: "sanad-bench",
		UserClaims:        []string{"name", "phone_number", "birthdate", "gender"},
		AuthContextRefs:   []string{acrOTP, acrPIN},
		LogoURI:           "https://rp.bench.invalid/logo.png",
		RedirectURIs:      []string{benchRedirectURI},
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
		AdditionalConfig:  extra,
	}
	body := map[string]any{"requestTime": time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), "request": reg}
	if err := api.do(ctx, http.MethodPost, "/client-mgmt/client", body, nil); err != nil {
		return nil, fmt.Errorf("register the benchmark client: %w", err)
	}
	return &benchClient{ID: id, Key: key, RedirectURI: benchRedirectURI}, nil
}

// deleteBenchClient removes the run's client.
func deleteBenchClient(ctx context.Context, api adminAPI, id string) error {
	return api.do(ctx, http.MethodDelete, "/client-mgmt/client/"+id, nil, nil)
}

// serverCommand is the `sanad serve` the benchmark expects, for the message
// that says OTPs do not arrive.
func serverCommand(webhookURL, secret string) string {
	var b strings.Builder
	b.WriteString("SANAD_NOTIFY_PHONE=webhook SANAD_NOTIFY_WEBHOOK_URL=" + webhookURL)
	if secret != "" {
		b.WriteString(" SANAD_NOTIFY_WEBHOOK_HMAC_SECRET=<the --webhook-secret>")
	}
	b.WriteString(" SANAD_OIDC_LOGIN_RATE_LIMIT=-1 sanad serve --demo --data-dir /tmp/sanad-bench")
	return b.String()
}
