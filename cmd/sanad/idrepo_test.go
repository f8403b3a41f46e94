package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// call sends a JSON request with the admin token.
func call(t *testing.T, method, url, token, body string, header ...string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(b, &out)
	return resp.StatusCode, resp.Header, out
}

// TestIDRepoFullRunKeepsPersonalDataOutOfLogsAndDisk drives the ID
// repository through the binary (admin API, import, audit verification) and
// then searches every log line and every file of the data dir for the
// personal data it handled.
func TestIDRepoFullRunKeepsPersonalDataOutOfLogsAndDisk(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	// Debug level: every line any component can write is searched.
	s := startServer(t, []string{"SANAD_LOG_LEVEL=debug"}, "--demo", "--data-dir", dir)
	tokenBytes, _ := os.ReadFile(filepath.Join(dir, "admin-token"))
	token := strings.TrimSpace(string(tokenBytes))

	pii := []string{"Zanele Okonkwo-Baptiste", "Zanele", "Okonkwo-Baptiste", "zanele.ob@example.net", "+254711222333", "Ngong Road 42"}
	identity := `{"identity":{"fullName":[{"language":"eng","value":"Zanele Okonkwo-Baptiste"},{"language":"fra","value":"Zanele Okonkwo-Baptiste"}],
		"givenName":[{"language":"eng","value":"Zanele"}],"familyName":[{"language":"eng","value":"Okonkwo-Baptiste"}],
		"dateOfBirth":"1987/03/21","phone":"+254711222333","email":"zanele.ob@example.net",
		"addressLine1":[{"language":"eng","value":"Ngong Road 42"}]}}`
	code, h, out := call(t, "POST", s.base+"/v1/identities", token, identity)
	if code != 201 {
		t.Fatalf("POST /v1/identities = %d %v", code, out)
	}
	uin, _ := out["uin"].(string)
	pii = append(pii, uin)
	if code, _, _ := call(t, "GET", s.base+"/v1/identities/"+uin, "wrong-token", ""); code != 401 {
		t.Errorf("GET identity with a wrong token = %d, want 401", code)
	}
	code, _, got := call(t, "GET", s.base+"/v1/identities/"+uin, token, "")
	if code != 200 || !strings.Contains(mustJSON(got), "Zanele Okonkwo-Baptiste") {
		t.Fatalf("GET identity = %d %v", code, got)
	}
	patch := `{"identity":{"email":"zanele.new@example.net"}}`
	pii = append(pii, "zanele.new@example.net")
	if code, _, _ := call(t, "PATCH", s.base+"/v1/identities/"+uin, token, patch); code != 428 {
		t.Errorf("PATCH without If-Match = %d, want 428", code)
	}
	if code, _, _ := call(t, "PATCH", s.base+"/v1/identities/"+uin, token, patch, "If-Match", h.Get("ETag")); code != 200 {
		t.Errorf("PATCH with If-Match = %d, want 200", code)
	}
	if code, _, _ := call(t, "PATCH", s.base+"/v1/identities/"+uin, token, patch, "If-Match", h.Get("ETag")); code != 412 {
		t.Errorf("PATCH with a stale If-Match = %d, want 412", code)
	}
	code, _, vid := call(t, "POST", s.base+"/v1/identities/"+uin+"/vids", token, `{"type":"temporary"}`)
	if code != 201 {
		t.Fatalf("POST vids = %d %v", code, vid)
	}
	pii = append(pii, vid["vid"].(string))
	if code, _, _ := call(t, "DELETE", s.base+"/v1/vids/"+vid["vid"].(string), token, ""); code != 204 {
		t.Errorf("DELETE vid = %d, want 204", code)
	}
	if code, _, _ := call(t, "GET", s.base+"/v1/identities/2345678901", token, ""); code != 400 && code != 404 {
		t.Errorf("GET identity with a mistyped UIN = %d, want 400", code)
	}
	s.stop()

	// Import: good rows land, bad rows are reported with their line numbers.
	csvFile := filepath.Join(t.TempDir(), "people.csv")
	os.WriteFile(csvFile, []byte("fullName#eng,dateOfBirth,phone,email\n"+
		"Imani Wanjiru-Kamau,1991/02/03,+254722000001,imani.wk@example.net\n"+
		"Bad Date Person,03-02-1991,+254722000002,\n"+
		"Baraka Otieno-Njoroge,1985/12/30,+254722000003,\n"), 0o600)
	pii = append(pii, "Imani Wanjiru-Kamau", "imani.wk@example.net", "+254722000001", "Baraka Otieno-Njoroge")
	code, stdout, stderr := runCLI(t, cleanEnv, "residents", "import", csvFile, "--data-dir", dir)
	if code != 1 || !strings.Contains(stdout, "imported 2 residents, rejected 1 rows") || !strings.Contains(stdout, "line 3:") {
		t.Errorf("residents import = %d\n%s%s\nwant 2 imported and line 3 rejected", code, stdout, stderr)
	}
	for _, p := range pii {
		if strings.Contains(stdout+stderr, p) {
			t.Errorf("residents import output contains %q", p)
		}
	}

	code, stdout, stderr = runCLI(t, cleanEnv, "audit", "verify", "--data-dir", dir)
	if code != 0 || !strings.Contains(stdout, "audit log intact") {
		t.Errorf("audit verify = %d %s %s", code, stdout, stderr)
	}

	logs := s.stderr.String()
	if !strings.Contains(logs, "/v1/identities/:uin") {
		t.Fatalf("the server logged no identity requests; the search below would prove nothing:\n%s", logs)
	}
	for _, p := range pii {
		if strings.Contains(logs, p) {
			t.Errorf("server logs contain %q", p)
		}
	}
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Base(path) == "outbox.jsonl" {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, p := range pii {
			if bytes.Contains(b, []byte(p)) {
				t.Errorf("%s contains %q in clear", filepath.Base(path), p)
			}
		}
		return nil
	})
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestIDRepoConfiguration(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "sanad.yaml")
	os.WriteFile(cfgPath, []byte(`
idrepo:
  uin_length: 12
  vid_policies:
    temporary: {validity: 5m, uses: 1, max_active: 1}
  authn: {block_duration: 30m, otp_length: 8, argon2_time: 3}
`), 0o600)
	token := strings.Repeat("k", 40)
	env := append([]string{"SANAD_ADMIN_TOKEN=" + token, "SANAD_MASTER_KEY=" + strings.Repeat("ab", 32)}, cleanEnv...)
	s := startServer(t, env, "--data-dir", filepath.Join(dir, "data"), "--config", cfgPath)
	code, _, out := call(t, "POST", s.base+"/v1/identities", token,
		`{"identity":{"fullName":[{"language":"eng","value":"Config Test"}],"dateOfBirth":"1970/01/01"}}`)
	if code != 201 || len(out["uin"].(string)) != 12 {
		t.Fatalf("POST identity with uin_length 12 = %d %v, want a 12-digit UIN", code, out)
	}
	uin := out["uin"].(string)
	if code, _, v := call(t, "POST", s.base+"/v1/identities/"+uin+"/vids", token, `{"type":"temporary"}`); code != 201 || v["usesLeft"] != float64(1) {
		t.Errorf("first temporary VID = %d %v, want 201 with 1 use", code, v)
	}
	if code, _, v := call(t, "POST", s.base+"/v1/identities/"+uin+"/vids", token, `{"type":"temporary"}`); code != 409 && code != 422 && code != 400 {
		t.Errorf("second temporary VID with max_active 1 = %d %v, want refusal", code, v)
	}

	os.WriteFile(cfgPath, []byte("idrepo:\n  uin_length: 16\n  authn: {otp_length: 2, block_duration: -1m}\n"), 0o600)
	code, _, errOut := runCLI(t, nil, "serve", "--demo", "--config", cfgPath, "--data-dir", filepath.Join(dir, "data2"))
	for _, want := range []string{"idrepo.vid_length", "idrepo.authn.otp_length", "idrepo.authn.block_duration",
		"--demo seeds residents with 10-digit UINs"} {
		if code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("serve with bad idrepo config = %d, error lacks %q:\n%s", code, want, errOut)
		}
	}
}
