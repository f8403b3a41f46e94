package notify

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

// TestDefaultTemplates renders every built-in file; DefaultTemplates panics
// if any of them fails to load.
func TestDefaultTemplates(t *testing.T) {
	tmpl := DefaultTemplates()
	if err := tmpl.Require(PurposeLoginOTP, PurposeTxCode); err != nil {
		t.Fatalf("DefaultTemplates().Require(login-otp, tx-code) = %v, want nil", err)
	}
	tests := []struct {
		purpose, lang string
		wantSubject   string
	}{
		{PurposeLoginOTP, "eng", "Your Sanad sign-in code"},
		{PurposeLoginOTP, "fra", "Votre code de connexion Sanad"},
		{PurposeLoginOTP, "ara", "رمز الدخول إلى سند"},
		{PurposeTxCode, "eng", "Your Sanad credential code"},
		{PurposeTxCode, "fra", "Votre code d'attestation Sanad"},
		{PurposeTxCode, "ara", "رمز استلام وثيقتك من سند"},
	}
	for _, tt := range tests {
		t.Run(tt.purpose+"/"+tt.lang, func(t *testing.T) {
			m := otpMessage(Email, "jane@example.com", tt.lang)
			m.Purpose = tt.purpose
			r, err := tmpl.Render(m)
			if err != nil {
				t.Fatalf("Render(%v) error = %v", m, err)
			}
			if r.Subject != tt.wantSubject || r.Language != tt.lang {
				t.Errorf("Render(%v) = subject %q in %s, want %q in %s", m, r.Subject, r.Language, tt.wantSubject, tt.lang)
			}
			for _, want := range []string{"482913", "Jane Doe", "10"} {
				if !strings.Contains(r.Body, want) {
					t.Errorf("Render(%v).Body = %q, want it to contain %q", m, r.Body, want)
				}
			}
			// Without the optional fields the greeting and expiry go, the code stays.
			m.Data = map[string]string{DataOTP: "482913"}
			r, err = tmpl.Render(m)
			if err != nil {
				t.Fatalf("Render(%v) error = %v", m, err)
			}
			if !strings.Contains(r.Body, "482913") || strings.Contains(r.Body, "<no value>") || strings.Contains(r.Body, "10") {
				t.Errorf("Render(%v).Body = %q, want the code without greeting or expiry", m, r.Body)
			}
		})
	}
}

func TestRender(t *testing.T) {
	custom, err := LoadTemplates(fstest.MapFS{
		"greet/eng.tmpl": {Data: []byte(`{{define "subject"}}Hello {{.name}}{{end}}{{define "body"}}Hi {{.name}}{{end}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		tmpl        *Templates
		m           Message
		wantLang    string
		wantBody    string
		wantErr     error
		wantErrText string
	}{
		{"missing language falls back to eng", DefaultTemplates(), Message{Purpose: PurposeLoginOTP, Language: "deu", Data: map[string]string{DataOTP: "1"}}, "eng", "Your Sanad sign-in code is 1.", nil, ""},
		{"empty language is eng", DefaultTemplates(), Message{Purpose: PurposeLoginOTP, Data: map[string]string{DataOTP: "1"}}, "eng", "Your Sanad sign-in code is 1.", nil, ""},
		{"language is case-insensitive", DefaultTemplates(), Message{Purpose: PurposeLoginOTP, Language: "FRA", Data: map[string]string{DataOTP: "1"}}, "fra", "Votre code de connexion Sanad est 1.", nil, ""},
		{"unknown purpose", DefaultTemplates(), Message{Purpose: "welcome"}, "", "", ErrUnknownPurpose, `"welcome"`},
		{"missing required field", DefaultTemplates(), Message{Purpose: PurposeTxCode, Language: "ara"}, "", "", nil, `render tx-code/ara: template: tx-code/ara.tmpl:6:70: executing "body" at <.otp>: map has no entry for key "otp"`},
		{"line break in subject data", custom, Message{Purpose: "greet", Data: map[string]string{DataName: "Jane\r\nBcc: all@example.com"}}, "", "", nil, "subject is more than one line"},
		{"subject data", custom, Message{Purpose: "greet", Data: map[string]string{DataName: "Jane"}}, "eng", "Hi Jane", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tt.tmpl.Render(tt.m)
			if tt.wantErr == nil && tt.wantErrText == "" {
				if err != nil {
					t.Fatalf("Render(%v) error = %v", tt.m, err)
				}
				if r.Language != tt.wantLang || !strings.HasPrefix(r.Body, tt.wantBody) {
					t.Errorf("Render(%v) = %q in %s, want a body starting %q in %s", tt.m, r.Body, r.Language, tt.wantBody, tt.wantLang)
				}
				return
			}
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) || !strings.Contains(err.Error(), tt.wantErrText) {
				t.Fatalf("Render(%v) error = %v, want %v containing %q", tt.m, err, tt.wantErr, tt.wantErrText)
			}
			checkNoLeak(t, "Render() error", err.Error(), "Jane")
		})
	}
}

func TestLoadTemplatesReportsEveryProblem(t *testing.T) {
	good := `{{define "subject"}}S{{end}}{{define "body"}}B {{.otp}}{{end}}`
	tests := []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"no files", map[string]string{"README.md": "x"}, []string{"no .tmpl files found"}},
		{"file at the top", map[string]string{"eng.tmpl": good}, []string{"eng.tmpl: want a file named <purpose>/<language>.tmpl"}},
		{"file too deep", map[string]string{"a/b/eng.tmpl": good}, []string{"a/b/eng.tmpl: want a file named"}},
		{"bad purpose", map[string]string{"Login_OTP/eng.tmpl": good}, []string{`Login_OTP/eng.tmpl: purpose "Login_OTP"`}},
		{"two-letter language", map[string]string{"x/eng.tmpl": good, "x/en.tmpl": good}, []string{`x/en.tmpl: language "en": want an ISO 639-3 code`}},
		{"syntax error", map[string]string{"x/eng.tmpl": `{{define "subject"}}S{{end}}{{define "body"}}{{.otp}{{end}}`}, []string{"x/eng.tmpl: template: x/eng.tmpl:1: bad character U+007D '}'"}},
		{"no subject", map[string]string{"x/eng.tmpl": `{{define "body"}}B{{end}}`}, []string{`x/eng.tmpl: no {{define "subject"}} block`}},
		{"no body", map[string]string{"x/eng.tmpl": `{{define "subject"}}S{{end}}`}, []string{`x/eng.tmpl: no {{define "body"}} block`}},
		{"text outside blocks", map[string]string{"x/eng.tmpl": "Dear resident\n" + good}, []string{"x/eng.tmpl: text outside the {{define}} blocks"}},
		{"empty subject", map[string]string{"x/eng.tmpl": `{{define "subject"}} {{end}}{{define "body"}}B{{end}}`}, []string{"x/eng.tmpl: subject is empty"}},
		{"two-line subject", map[string]string{"x/eng.tmpl": "{{define \"subject\"}}S\nT{{end}}{{define \"body\"}}B{{end}}"}, []string{"x/eng.tmpl: subject is more than one line"}},
		{"empty body", map[string]string{"x/eng.tmpl": `{{define "subject"}}S{{end}}{{define "body"}}{{end}}`}, []string{"x/eng.tmpl: body is empty"}},
		{"execution error", map[string]string{"x/eng.tmpl": `{{define "subject"}}S{{end}}{{define "body"}}{{template "nope"}}{{end}}`}, []string{`x/eng.tmpl: template: x/eng.tmpl:1:56: executing "body"`, `template "nope" not defined`}},
		{"runaway body", map[string]string{"x/eng.tmpl": `{{define "subject"}}S{{end}}{{define "body"}}{{range 1000000000}}x{{end}}{{end}}`}, []string{"x/eng.tmpl: body is longer than 16384 bytes"}},
		{"long subject", map[string]string{"x/eng.tmpl": `{{define "subject"}}{{range 501}}s{{end}}{{end}}{{define "body"}}B{{end}}`}, []string{"subject is longer than 500 bytes"}},
		{"invalid UTF-8", map[string]string{"x/eng.tmpl": "{{define \"subject\"}}\xff{{end}}{{define \"body\"}}B{{end}}"}, []string{"x/eng.tmpl: not valid UTF-8"}},
		{"no eng fallback", map[string]string{"x/fra.tmpl": good}, []string{"x: no eng.tmpl"}},
		{"all at once", map[string]string{"x/eng.tmpl": `{{define "body"}}{{end}}`, "y/ara.tmpl": good, "z/e.tmpl": good}, []string{`x/eng.tmpl: no {{define "subject"}} block`, "y: no eng.tmpl", `z/e.tmpl: language "e"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range tt.files {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			_, err := LoadTemplates(fsys)
			if err == nil {
				t.Fatalf("LoadTemplates(%v) = nil, want errors %q", tt.files, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("LoadTemplates(%v) = %q, want it to contain %q", tt.files, err, w)
				}
			}
		})
	}
}

func TestLoadTemplatesDir(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("login-otp/eng.tmpl", `{{define "subject"}}Ministry sign-in{{end}}{{define "body"}}Code: {{.otp}}{{end}}`)
	write("welcome/eng.tmpl", `{{define "subject"}}Welcome{{end}}{{define "body"}}Welcome, {{.name}}{{end}}`)
	write("README.md", "Operators' notes, not a template.")

	tmpl, err := LoadTemplatesDir(dir)
	if err != nil {
		t.Fatalf("LoadTemplatesDir(%s) error = %v", dir, err)
	}
	tests := []struct {
		name        string
		m           Message
		wantSubject string
	}{
		{"operator's file replaces the built-in one", Message{Purpose: PurposeLoginOTP, Language: "eng", Data: map[string]string{DataOTP: "1"}}, "Ministry sign-in"},
		{"built-in files the operator left alone stay", Message{Purpose: PurposeLoginOTP, Language: "fra", Data: map[string]string{DataOTP: "1"}}, "Votre code de connexion Sanad"},
		{"operator's new purpose", Message{Purpose: "welcome", Language: "ara", Data: map[string]string{DataName: "Jane"}}, "Welcome"},
		{"other built-in purposes stay", Message{Purpose: PurposeTxCode, Data: map[string]string{DataOTP: "1"}}, "Your Sanad credential code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := tmpl.Render(tt.m)
			if err != nil || r.Subject != tt.wantSubject {
				t.Errorf("Render(%v) = %q, %v, want subject %q", tt.m, r.Subject, err, tt.wantSubject)
			}
		})
	}

	write("welcome/fra.tmpl", `{{define "subject"}}Bienvenue{{end}}`)
	if _, err := LoadTemplatesDir(dir); err == nil || !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "welcome/fra.tmpl") {
		t.Errorf("LoadTemplatesDir(broken) error = %v, want one naming %s and welcome/fra.tmpl", err, dir)
	}
	if _, err := LoadTemplatesDir(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadTemplatesDir(missing) error = %v, want fs.ErrNotExist", err)
	}
	if _, err := LoadTemplatesDir(filepath.Join(dir, "README.md")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("LoadTemplatesDir(file) error = %v, want not a directory", err)
	}
}

func TestRequire(t *testing.T) {
	err := DefaultTemplates().Require(PurposeLoginOTP, "welcome", "reset-pin")
	if !errors.Is(err, ErrUnknownPurpose) || !strings.Contains(err.Error(), `"welcome"`) || !strings.Contains(err.Error(), `"reset-pin"`) {
		t.Errorf("Require(login-otp, welcome, reset-pin) = %v, want ErrUnknownPurpose naming welcome and reset-pin", err)
	}
}

// FuzzLoadTemplates feeds operator-supplied template files to the loader:
// it must not panic, and what it accepts must render.
func FuzzLoadTemplates(f *testing.F) {
	for _, s := range []string{
		`{{define "subject"}}S{{end}}{{define "body"}}B {{index . "otp"}}{{end}}`,
		`{{define "subject"}}S{{end}}{{define "body"}}{{with index . "name"}}Hi {{.}}{{end}}x{{end}}`,
		`{{define "subject"}}{{end}}`,
		`{{define "body"}}{{.otp}`,
		"text {{define \"subject\"}}\n{{end}}",
		`{{define "subject"}}S{{end}}{{define "body"}}{{range .}}{{.}}{{end}}{{end}}`,
		"\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		tmpl, err := LoadTemplates(fstest.MapFS{"x/eng.tmpl": {Data: []byte(src)}})
		if err != nil {
			return
		}
		// Render may fail on a required field the data lacks, but not panic.
		r, err := tmpl.Render(Message{Purpose: "x", Data: map[string]string{DataOTP: "1"}})
		if err == nil && (r.Subject == "" || r.Body == "" || strings.ContainsAny(r.Subject, "\r\n")) {
			t.Fatalf("Render() = %q, want a one-line subject and a body", r)
		}
	})
}
