package oidc

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/gin-gonic/gin"
)

// crServer serves the client management API of a new registry.
func crServer(t *testing.T) *httptest.Server {
	gin.SetMode(gin.TestMode)
	r, _ := crNewRegistry(t)
	e := gin.New()
	r.RegisterClientAdmin(e)
	s := httptest.NewServer(e)
	t.Cleanup(s.Close)
	return s
}

// crEnvelope is the answer envelope, with the response left raw.
type crEnvelope struct {
	ResponseTime string          `json:"responseTime"`
	Response     json.RawMessage `json:"response"`
	Errors       []struct {
		ErrorCode    string `json:"errorCode"`
		ErrorMessage string `json:"errorMessage"`
	} `json:"errors"`
}

// crDo sends body (marshalled unless it is a string) and decodes the
// envelope.
func crDo(t *testing.T, s *httptest.Server, method, path string, body any) (int, crEnvelope) {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("%s %s: Cache-Control %q, want no-store", method, path, cc)
	}
	raw, _ := io.ReadAll(res.Body)
	var env crEnvelope
	if err := json.Unmarshal(raw, &env); err != nil {
		t.Fatalf("%s %s: body %s is not an envelope: %v", method, path, raw, err)
	}
	if env.ResponseTime != "2025-06-01T10:00:00.123Z" || env.Errors == nil {
		t.Errorf("%s %s: envelope %s, want responseTime 2025-06-01T10:00:00.123Z and errors []", method, path, raw)
	}
	return res.StatusCode, env
}

func crWrap(req any) map[string]any {
	return map[string]any{"requestTime": "2025-06-01T09:59:59.000Z", "request": req}
}

func TestClientAdminAPI(t *testing.T) {
	s := crServer(t)
	reg := crRegistration(t, "bank")

	status, env := crDo(t, s, http.MethodPost, "/client-mgmt/client", crWrap(reg))
	if status != http.StatusOK || len(env.Errors) != 0 || string(env.Response) != `{"clientId":"bank","status":"ACTIVE"}` {
		t.Fatalf("POST /client-mgmt/client = %d %s %v, want 200 {clientId: bank, status: ACTIVE}", status, env.Response, env.Errors)
	}

	status, env = crDo(t, s, http.MethodGet, "/client-mgmt/client/bank", nil)
	var detail clientDetailResponse
	if err := json.Unmarshal(env.Response, &detail); status != http.StatusOK || err != nil {
		t.Fatalf("GET /client-mgmt/client/bank = %d %s, want 200 and the client", status, env.Response)
	}
	if detail.ClientID != "bank" || detail.RelyingPartyID != "rp-bank" || detail.Status != "ACTIVE" ||
		!bytes.Contains(detail.PublicKey, []byte(`"kid":"k1"`)) || !bytes.Contains(detail.AdditionalConfig, []byte(`"require_pkce":true`)) ||
		len(detail.UserClaims) != 3 || detail.ClientNameLangMap["ara"] != "بنك bank" {
		t.Errorf("GET /client-mgmt/client/bank = %s", env.Response)
	}

	up := crUpdate()
	status, env = crDo(t, s, http.MethodPut, "/client-mgmt/client/bank", crWrap(up))
	if status != http.StatusOK || string(env.Response) != `{"clientId":"bank","status":"INACTIVE"}` {
		t.Errorf("PUT /client-mgmt/client/bank = %d %s %v, want 200 {clientId: bank, status: INACTIVE}", status, env.Response, env.Errors)
	}

	otherKey := crRegistration(t, "other")
	otherKey.PublicKey = reg.PublicKey
	badURI := crRegistration(t, "bad")
	badURI.RedirectURIs = []string{"https://bank.example/cb#frag"}
	badUpdate := crUpdate()
	badUpdate.UserClaims = []string{"uin"}
	errorCases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"duplicate id", http.MethodPost, "/client-mgmt/client", crWrap(reg), http.StatusConflict, ClientMgmtDuplicateClientID},
		{"duplicate key", http.MethodPost, "/client-mgmt/client", crWrap(otherKey), http.StatusConflict, ClientMgmtDuplicatePublicKey},
		{"invalid redirect URI", http.MethodPost, "/client-mgmt/client", crWrap(badURI), http.StatusBadRequest, ClientMgmtInvalidRedirectURI},
		{"no requestTime", http.MethodPost, "/client-mgmt/client", map[string]any{"request": reg}, http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"bad requestTime", http.MethodPost, "/client-mgmt/client", map[string]any{"requestTime": "yesterday", "request": reg},
			http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"no request", http.MethodPost, "/client-mgmt/client", map[string]any{"requestTime": "2025-06-01T09:59:59.000Z"},
			http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"unknown member", http.MethodPost, "/client-mgmt/client",
			map[string]any{"requestTime": "2025-06-01T09:59:59.000Z", "request": map[string]any{"clientSecret": "x"}},
			http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"not JSON", http.MethodPost, "/client-mgmt/client", "clientId=bank", http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"trailing data", http.MethodPost, "/client-mgmt/client", `{"requestTime":"2025-06-01T09:59:59.000Z","request":{}} {}`,
			http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"update of an unknown client", http.MethodPut, "/client-mgmt/client/missing", crWrap(crUpdate()), http.StatusNotFound, ClientMgmtInvalidClientID},
		{"update with publicKey", http.MethodPut, "/client-mgmt/client/bank",
			crWrap(map[string]any{"clientName": "x", "publicKey": reg.PublicKey}), http.StatusBadRequest, ClientMgmtInvalidRequest},
		{"invalid update", http.MethodPut, "/client-mgmt/client/bank", crWrap(badUpdate), http.StatusBadRequest, ClientMgmtInvalidClaim},
		{"get unknown", http.MethodGet, "/client-mgmt/client/missing", nil, http.StatusNotFound, ClientMgmtInvalidClientID},
		{"delete unknown", http.MethodDelete, "/client-mgmt/client/missing", nil, http.StatusNotFound, ClientMgmtInvalidClientID},
		{"list with a bad limit", http.MethodGet, "/client-mgmt/client?limit=0", nil, http.StatusBadRequest, ClientMgmtInvalidRequest},
	}
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			status, env := crDo(t, s, tt.method, tt.path, tt.body)
			if status != tt.status || len(env.Errors) != 1 || env.Errors[0].ErrorCode != tt.code ||
				env.Errors[0].ErrorMessage == "" || string(env.Response) != "null" {
				t.Errorf("%s %s = %d %s %+v, want %d with error %s", tt.method, tt.path, status, env.Response, env.Errors, tt.status, tt.code)
			}
		})
	}

	for _, id := range []string{"c", "a"} {
		if status, env := crDo(t, s, http.MethodPost, "/client-mgmt/client", crWrap(crRegistration(t, id))); status != http.StatusOK {
			t.Fatalf("POST /client-mgmt/client (%s) = %d %v", id, status, env.Errors)
		}
	}
	var ids []string
	path := "/client-mgmt/client?limit=2"
	for range 3 {
		status, env := crDo(t, s, http.MethodGet, path, nil)
		var page struct {
			Clients []clientDetailResponse `json:"clients"`
			Next    string                 `json:"next"`
		}
		if err := json.Unmarshal(env.Response, &page); status != http.StatusOK || err != nil {
			t.Fatalf("GET %s = %d %s", path, status, env.Response)
		}
		for _, c := range page.Clients {
			ids = append(ids, c.ClientID)
		}
		if page.Next == "" {
			break
		}
		path = "/client-mgmt/client?limit=2&after=" + page.Next
	}
	if want := []string{"a", "bank", "c"}; !slices.Equal(ids, want) {
		t.Errorf("GET /client-mgmt/client pages of 2 = %q, want %q", ids, want)
	}

	status, env = crDo(t, s, http.MethodDelete, "/client-mgmt/client/bank", nil)
	if status != http.StatusOK || string(env.Response) != `{"clientId":"bank","status":"DELETED"}` {
		t.Errorf("DELETE /client-mgmt/client/bank = %d %s %v, want 200", status, env.Response, env.Errors)
	}
	if status, env := crDo(t, s, http.MethodGet, "/client-mgmt/client/bank", nil); status != http.StatusNotFound {
		t.Errorf("GET /client-mgmt/client/bank after DELETE = %d %s, want 404", status, env.Response)
	}
}
