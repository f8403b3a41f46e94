package keys

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

func TestAdminAPI(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		svc := e.service(t)
		sec, err := NewSecrets(context.Background(), SecretsConfig{Store: e.store, Backend: e.backend})
		if err != nil {
			t.Fatal(err)
		}
		gin.SetMode(gin.ReleaseMode)
		r := gin.New()
		RegisterAdmin(r, svc, sec)

		call := func(method, path, body string) (int, map[string]any) {
			req := httptest.NewRequest(method, path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			var out map[string]any
			json.Unmarshal(w.Body.Bytes(), &out)
			if cc := w.Header().Get("Cache-Control"); w.Code == 200 && cc != "no-store" {
				t.Errorf("%s %s Cache-Control = %q, want no-store", method, path, cc)
			}
			return w.Code, out
		}
		count := func(purpose string) int {
			code, out := call("GET", "/admin/v1/keys?purpose="+purpose, "")
			if code != 200 {
				t.Fatalf("GET keys?purpose=%s = %d", purpose, code)
			}
			keys, _ := out["keys"].([]any)
			return len(keys)
		}
		before := count(PurposeOIDCSigning)
		tests := []struct {
			name, body string
			want       int
			wantErr    string
		}{
			{"rotate signing", `{"purpose":"oidc-signing","prepublish":"10m"}`, 200, ""},
			{"rotate wrapping secret", `{"purpose":"pii-encryption"}`, 200, ""},
			{"index secret is not rotatable", `{"purpose":"pii-index"}`, 409, "not_rotatable"},
			{"unknown purpose", `{"purpose":"nope"}`, 404, "unknown_purpose"},
			{"missing purpose", `{}`, 400, "invalid_request"},
			{"bad prepublish", `{"purpose":"oidc-signing","prepublish":"soon"}`, 400, "invalid_request"},
			{"negative prepublish", `{"purpose":"oidc-signing","prepublish":"-1h"}`, 400, "invalid_request"},
			{"not JSON", `purpose=oidc-signing`, 400, "invalid_request"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				code, out := call("POST", "/admin/v1/keys/rotate", tt.body)
				if code != tt.want || (tt.wantErr != "" && out["error"] != tt.wantErr) {
					t.Errorf("rotate %s = %d %v, want %d %s", tt.body, code, out, tt.want, tt.wantErr)
				}
			})
		}
		if after := count(PurposeOIDCSigning); after != before+len(fastSets()[0].Algs) {
			t.Errorf("signing keys after rotation = %d, want %d", after, before+len(fastSets()[0].Algs))
		}
		if n := count(PurposePIIEncryption); n != 2 {
			t.Errorf("pii-encryption keys after rotation = %d, want 2", n)
		}
		_, out := call("GET", "/admin/v1/keys", "")
		b, _ := json.Marshal(out)
		for _, private := range []string{`"private"`, `"d":`} {
			if strings.Contains(string(b), private) {
				t.Errorf("key listing contains %s", private)
			}
		}
	})
}
