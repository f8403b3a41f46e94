package idrepo

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/internal/web"
	"github.com/sanad-id/sanad/storage/sqldb"
)

const testAdminToken = "test-admin-token-0123456789abcdefghij"

// adminServer serves r's admin API behind the bearer token, as the sanad
// binary mounts it, with the access log going to log.
func adminServer(t *testing.T, r *Repository, log *slog.Logger) *httptest.Server {
	t.Helper()
	eng, err := web.New(web.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r.RegisterAdmin(eng.Group("", web.RequireBearer(testAdminToken)))
	srv := httptest.NewServer(eng)
	t.Cleanup(srv.Close)
	return srv
}

type apiResponse struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func call(t *testing.T, srv *httptest.Server, method, path, body string, header ...string) apiResponse {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testAdminToken)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		if header[i+1] == "" {
			req.Header.Del(header[i])
			continue
		}
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := apiResponse{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 {
		json.Unmarshal(b, &out.body)
	}
	return out
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestAdminAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, db *sqldb.DB) {
		r := newTestRepo(t, db)
		srv := adminServer(t, r, nil)

		// Without the token.
		for _, h := range []string{"", "Bearer wrong", "Basic " + testAdminToken} {
			resp := call(t, srv, "GET", "/v1/identities/9169748726", "", "Authorization", h)
			if resp.status != http.StatusUnauthorized || resp.body["error"] != "unauthorized" {
				t.Errorf("GET with Authorization %q = %d %s, want 401", h, resp.status, resp.raw)
			}
		}

		// Create.
		resp := call(t, srv, "POST", "/v1/identities", mustJSON(map[string]any{"identity": amina()}))
		if resp.status != http.StatusCreated {
			t.Fatalf("POST /v1/identities = %d %s, want 201", resp.status, resp.raw)
		}
		uin, _ := resp.body["uin"].(string)
		if testUINRules.Check(uin) != nil || resp.body["status"] != "ACTIVE" || resp.body["version"] != 1.0 || resp.body["createdAt"] == nil {
			t.Errorf("POST body = %s", resp.raw)
		}
		if got := resp.header.Get("Location"); got != "/v1/identities/"+uin {
			t.Errorf("Location = %q, want /v1/identities/%s", got, uin)
		}
		if got := resp.header.Get("ETag"); got != `"v1"` {
			t.Errorf("ETag = %q, want \"v1\"", got)
		}
		if got := resp.header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q, want no-store", got)
		}

		// Read.
		resp = call(t, srv, "GET", "/v1/identities/"+uin, "")
		if resp.status != http.StatusOK || resp.header.Get("ETag") != `"v1"` || resp.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("GET = %d %v %s", resp.status, resp.header, resp.raw)
		}
		ident, _ := resp.body["identity"].(map[string]any)
		if resp.body["uin"] != uin || ident["phone"] != "+447700900555" {
			t.Errorf("GET body = %s", resp.raw)
		}

		// Update.
		patch := `{"identity": {"postalCode": "10200", "email": null}}`
		resp = call(t, srv, "PATCH", "/v1/identities/"+uin, patch)
		if resp.status != http.StatusPreconditionRequired || resp.body["error"] != CodePreconditionRequired {
			t.Errorf("PATCH without If-Match = %d %s, want 428", resp.status, resp.raw)
		}
		resp = call(t, srv, "PATCH", "/v1/identities/"+uin, patch, "If-Match", `"v1"`)
		if resp.status != http.StatusOK || resp.header.Get("ETag") != `"v2"` {
			t.Fatalf("PATCH = %d %s (ETag %s), want 200 with \"v2\"", resp.status, resp.raw, resp.header.Get("ETag"))
		}
		if ident, _ := resp.body["identity"].(map[string]any); ident["postalCode"] != "10200" || ident["email"] != nil {
			t.Errorf("PATCH body = %s", resp.raw)
		}
		resp = call(t, srv, "PATCH", "/v1/identities/"+uin, patch, "If-Match", `"v1"`)
		if resp.status != http.StatusPreconditionFailed || resp.body["error"] != CodeVersionMismatch {
			t.Errorf("PATCH with a stale ETag = %d %s, want 412 version_mismatch", resp.status, resp.raw)
		}
		resp = call(t, srv, "PATCH", "/v1/identities/"+uin, patch, "If-Match", `W/"v2"`)
		if resp.status != http.StatusPreconditionFailed {
			t.Errorf("PATCH with a weak ETag = %d %s, want 412", resp.status, resp.raw)
		}
		for _, im := range []string{`v2`, `"2"`, `"v-2"`, `*`, `"v2", "v3"`} {
			resp = call(t, srv, "PATCH", "/v1/identities/"+uin, patch, "If-Match", im)
			if resp.status != http.StatusBadRequest || resp.body["error"] != CodeInvalidRequest {
				t.Errorf("PATCH with If-Match %s = %d %s, want 400 invalid_request", im, resp.status, resp.raw)
			}
		}
		resp = call(t, srv, "PATCH", "/v1/identities/"+uin, `{"identity": {"dateOfBirth": "1990-01-01"}}`, "If-Match", `"v2"`)
		if resp.status != http.StatusBadRequest || resp.body["error"] != CodeInvalidIdentity {
			t.Errorf("PATCH with an invalid date = %d %s, want 400 invalid_identity", resp.status, resp.raw)
		}

		// Status.
		resp = call(t, srv, "PUT", "/v1/identities/"+uin+"/status", `{"status": "BLOCKED", "reason": "investigation 42"}`)
		if resp.status != http.StatusOK || resp.body["status"] != "BLOCKED" || resp.header.Get("ETag") != `"v3"` {
			t.Errorf("PUT status = %d %s", resp.status, resp.raw)
		}
		resp = call(t, srv, "PUT", "/v1/identities/"+uin+"/status", `{"status": "ACTIVE"}`)
		if resp.status != http.StatusOK || resp.body["status"] != "ACTIVE" {
			t.Errorf("PUT status ACTIVE = %d %s", resp.status, resp.raw)
		}
		resp = call(t, srv, "PUT", "/v1/identities/"+uin+"/status", `{"status": "ASLEEP"}`)
		if resp.status != http.StatusBadRequest || resp.body["error"] != CodeInvalidRequest {
			t.Errorf("PUT status ASLEEP = %d %s, want 400", resp.status, resp.raw)
		}

		// VIDs.
		resp = call(t, srv, "POST", "/v1/identities/"+uin+"/vids", `{"type": "temporary"}`)
		if resp.status != http.StatusCreated || resp.body["usesLeft"] != 2.0 || resp.body["expiresAt"] == nil || resp.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("POST vids = %d %s", resp.status, resp.raw)
		}
		vid, _ := resp.body["vid"].(string)
		resp = call(t, srv, "POST", "/v1/identities/"+uin+"/vids", `{"type": "perpetual"}`)
		if resp.status != http.StatusCreated || resp.body["usesLeft"] != nil || resp.body["expiresAt"] != nil || resp.body["type"] != "perpetual" {
			t.Errorf("POST perpetual vid = %d %s, want null usesLeft and expiresAt", resp.status, resp.raw)
		}
		resp = call(t, srv, "GET", "/v1/identities/"+uin+"/vids", "")
		if vids, _ := resp.body["vids"].([]any); resp.status != http.StatusOK || len(vids) != 2 {
			t.Errorf("GET vids = %d %s, want 2", resp.status, resp.raw)
		}
		resp = call(t, srv, "DELETE", "/v1/vids/"+vid, "")
		if resp.status != http.StatusNoContent || resp.raw != "" {
			t.Errorf("DELETE vid = %d %q, want 204", resp.status, resp.raw)
		}

		// Errors.
		for _, tt := range []struct {
			name, method, path, body string
			status                   int
			code                     string
		}{
			{"invalid identity", "POST", "/v1/identities", `{"identity": {"fullName": []}}`, 400, CodeInvalidIdentity},
			{"no identity", "POST", "/v1/identities", `{}`, 400, CodeInvalidRequest},
			{"identity not an object", "POST", "/v1/identities", `{"identity": "Amina"}`, 400, CodeInvalidRequest},
			{"unknown member", "POST", "/v1/identities", `{"identity": {}, "uin": "9169748726"}`, 400, CodeInvalidRequest},
			{"not JSON", "POST", "/v1/identities", `identity=1`, 400, CodeInvalidRequest},
			{"two values", "POST", "/v1/identities", `{"identity": {}} {}`, 400, CodeInvalidRequest},
			{"duplicate handle", "POST", "/v1/identities", mustJSON(map[string]any{"identity": amina()}), 409, CodeDuplicateHandle},
			{"bad check digit", "GET", "/v1/identities/9169748727", "", 400, CodeInvalidUIN},
			{"unknown UIN", "GET", "/v1/identities/2916593705", "", 404, CodeNotFound},
			{"unknown UIN vids", "GET", "/v1/identities/2916593705/vids", "", 404, CodeNotFound},
			{"bad VID", "DELETE", "/v1/vids/123", "", 400, CodeInvalidVID},
			{"unknown VID", "DELETE", "/v1/vids/9607632495471680", "", 404, CodeNotFound},
			{"unknown VID type", "POST", "/v1/identities/" + uin + "/vids", `{"type": "forever"}`, 400, CodeInvalidRequest},
			{"no VID type", "POST", "/v1/identities/" + uin + "/vids", `{}`, 400, CodeInvalidRequest},
		} {
			resp := call(t, srv, tt.method, tt.path, tt.body)
			if resp.status != tt.status || resp.body["error"] != tt.code || resp.body["error_description"] == "" {
				t.Errorf("%s: %s %s = %d %s, want %d %s", tt.name, tt.method, tt.path, resp.status, resp.raw, tt.status, tt.code)
			}
			if resp.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: Cache-Control = %q, want no-store", tt.name, resp.header.Get("Cache-Control"))
			}
		}

		// Field errors are listed.
		resp = call(t, srv, "POST", "/v1/identities", `{"identity": {"fullName": [{"language": "english", "value": "A"}], "phone": "12"}}`)
		var body struct {
			Fields []FieldError `json:"fields"`
		}
		json.Unmarshal([]byte(resp.raw), &body)
		want := map[string]string{"/dateOfBirth": "required", "/fullName/0/language": "pattern", "/phone": "pattern"}
		if len(body.Fields) != len(want) {
			t.Errorf("fields = %+v, want %v", body.Fields, want)
		}
		for _, f := range body.Fields {
			if want[f.Field] != f.Rule || f.Message == "" {
				t.Errorf("field error %+v, want one of %v with a message", f, want)
			}
		}

		// A body over the engine's limit.
		big := `{"identity": {"postalCode": "` + strings.Repeat("x", 2<<20) + `"}}`
		resp = call(t, srv, "POST", "/v1/identities", big)
		if resp.status != http.StatusRequestEntityTooLarge && resp.status != http.StatusBadRequest {
			t.Errorf("POST 2 MB = %d %s, want 413 or 400", resp.status, resp.raw)
		}
	})
}
