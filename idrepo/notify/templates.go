package notify

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode/utf8"
)

// defaultFS holds the built-in templates: login-otp and tx-code in eng, fra
// and ara.
//
//go:embed templates
var defaultFS embed.FS

// Templates renders messages. It holds one text/template file per purpose
// and language, at <purpose>/<language>.tmpl (login-otp/ara.tmpl), that
// defines two templates:
//
//	{{define "subject"}}Your Sanad sign-in code{{end}}
//	{{define "body"}}Your code is {{.otp}}.{{end}}
//
// The data is the message's Data map. A field written {{.otp}} is required:
// rendering fails if the message lacks it, so no code goes out with a blank
// where the OTP should be. An optional field is written with index, as in
// {{with index . "name"}}Hello {{.}},{{end}}. The rendered subject and body
// are trimmed of surrounding space; the subject is one line, used for e-mail
// only, and the body is what an SMS carries.
//
// Every purpose needs a DefaultLanguage (eng) template, used when the
// message's language has none. A Templates is safe for concurrent use.
type Templates struct {
	// files maps purpose, then language, to the parsed file.
	files map[string]map[string]*template.Template
}

// Rendered is a message's text.
type Rendered struct {
	Subject  string
	Body     string
	Language string // the language rendered: the message's, or DefaultLanguage
}

// DefaultFS returns the built-in templates, as a base for operators' own.
func DefaultFS() fs.FS {
	sub, err := fs.Sub(defaultFS, "templates")
	if err != nil {
		panic(err) // "templates" is a valid path, so fs.Sub cannot fail
	}
	return sub
}

// DefaultTemplates returns the built-in templates.
func DefaultTemplates() *Templates {
	t, err := LoadTemplates(DefaultFS())
	if err != nil {
		// The embedded files are checked by TestDefaultTemplates.
		panic(err)
	}
	return t
}

// LoadTemplatesDir loads the built-in templates overlaid with the .tmpl
// files in dir, so an operator can reword or translate some messages and
// keep the rest. Files in dir that do not end in .tmpl are ignored.
func LoadTemplatesDir(dir string) (*Templates, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("notify: templates: %s is not a directory", dir)
	}
	t, err := LoadTemplates(DefaultFS(), os.DirFS(dir))
	if err != nil {
		return nil, fmt.Errorf("templates in %s: %w", dir, err)
	}
	return t, nil
}

// LoadTemplates parses the .tmpl files of each layer; a later layer's file
// replaces an earlier layer's for the same purpose and language. It checks
// every file (name, syntax, both templates defined, a one-line subject, a
// non-empty body) and that every purpose has a DefaultLanguage template, and
// reports every problem at once, each naming its file.
func LoadTemplates(layers ...fs.FS) (*Templates, error) {
	t := &Templates{files: map[string]map[string]*template.Template{}}
	var errs []error
	for _, fsys := range layers {
		err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, err)
				return nil
			}
			if d.IsDir() || path.Ext(name) != ".tmpl" {
				return nil
			}
			purpose, lang, tmpl, err := parseTemplateFile(fsys, name)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
				return nil
			}
			if t.files[purpose] == nil {
				t.files[purpose] = map[string]*template.Template{}
			}
			t.files[purpose][lang] = tmpl
			return nil
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 && len(t.files) == 0 {
		errs = append(errs, errors.New("no .tmpl files found"))
	}
	for _, purpose := range slices.Sorted(maps.Keys(t.files)) {
		if t.files[purpose][DefaultLanguage] == nil {
			errs = append(errs, fmt.Errorf("%s: no %s.tmpl, needed when a message's language has no template", purpose, DefaultLanguage))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("notify: templates: %w", err)
	}
	return t, nil
}

// parseTemplateFile reads and checks one <purpose>/<language>.tmpl file.
func parseTemplateFile(fsys fs.FS, name string) (purpose, lang string, tmpl *template.Template, err error) {
	dir, file := path.Split(name)
	purpose = strings.TrimSuffix(dir, "/")
	lang = strings.TrimSuffix(file, ".tmpl")
	if purpose == "" || strings.Contains(purpose, "/") {
		return "", "", nil, errors.New("want a file named <purpose>/<language>.tmpl, such as login-otp/eng.tmpl")
	}
	if !purposeRE.MatchString(purpose) {
		return "", "", nil, fmt.Errorf("purpose %q: want lower-case letters, digits and hyphens", purpose)
	}
	if !languageRE.MatchString(lang) {
		return "", "", nil, fmt.Errorf("language %q: want an ISO 639-3 code in lower case, such as eng, fra or ara", lang)
	}
	src, err := fs.ReadFile(fsys, name)
	if err != nil {
		return "", "", nil, err
	}
	if !utf8.Valid(src) {
		return "", "", nil, errors.New("not valid UTF-8")
	}
	tmpl, err = template.New(name).Option("missingkey=error").Parse(string(src))
	if err != nil {
		return "", "", nil, err
	}
	if err := checkTemplate(tmpl); err != nil {
		return "", "", nil, err
	}
	// A trial run with no data, where missing fields print "<no value>",
	// catches what only shows when executing: an empty or multi-line subject,
	// an empty body, a wrong call.
	trial, err := template.New(name).Parse(string(src))
	if err != nil {
		return "", "", nil, err
	}
	if _, err := render(trial, map[string]string{}); err != nil {
		return "", "", nil, err
	}
	return purpose, lang, tmpl, nil
}

// checkTemplate checks the shape of a parsed file: subject and body defined,
// nothing outside the define blocks.
func checkTemplate(tmpl *template.Template) error {
	var errs []error
	for _, name := range []string{"subject", "body"} {
		if d := tmpl.Lookup(name); d == nil || d.Tree == nil {
			errs = append(errs, fmt.Errorf(`no {{define %q}} block`, name))
		}
	}
	if tmpl.Tree != nil && !parse.IsEmptyTree(tmpl.Tree.Root) {
		errs = append(errs, errors.New(`text outside the {{define}} blocks, which would never be sent`))
	}
	return errors.Join(errs...)
}

// Render renders m's subject and body in m's language, or in
// DefaultLanguage if its purpose has no template in m's language. It fails
// with ErrUnknownPurpose if no template has m's purpose, and if a template
// uses a data field that m lacks.
func (t *Templates) Render(m Message) (Rendered, error) {
	langs := t.files[m.Purpose]
	if langs == nil {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownPurpose, m.Purpose)
	}
	lang := strings.ToLower(m.Language)
	tmpl := langs[lang]
	if tmpl == nil {
		lang = DefaultLanguage
		tmpl = langs[lang]
	}
	data := m.Data
	if data == nil {
		data = map[string]string{}
	}
	r, err := render(tmpl, data)
	if err != nil {
		return Rendered{}, fmt.Errorf("notify: render %s/%s: %w", m.Purpose, lang, err)
	}
	r.Language = lang
	return r, nil
}

// Require reports every purpose that has no templates, so a service can
// check at start-up that the purposes it sends exist.
func (t *Templates) Require(purposes ...string) error {
	var errs []error
	for _, p := range purposes {
		if t.files[p] == nil {
			errs = append(errs, fmt.Errorf("%w %q", ErrUnknownPurpose, p))
		}
	}
	return errors.Join(errs...)
}

// Limits of rendered text, which also stop a runaway template early.
const (
	maxSubjectBytes = 500      // well under the 998 of an RFC 5322 line
	maxBodyBytes    = 16 << 10 // an OTP notice is a few hundred
)

// render executes a file's subject and body and checks the result.
func render(tmpl *template.Template, data map[string]string) (Rendered, error) {
	subject := &limitedBuffer{name: "subject", max: maxSubjectBytes}
	body := &limitedBuffer{name: "body", max: maxBodyBytes}
	if err := tmpl.ExecuteTemplate(subject, "subject", data); err != nil {
		return Rendered{}, err
	}
	if err := tmpl.ExecuteTemplate(body, "body", data); err != nil {
		return Rendered{}, err
	}
	r := Rendered{
		Subject: strings.TrimSpace(subject.String()),
		Body:    strings.TrimSpace(body.String()),
	}
	var errs []error
	if r.Subject == "" {
		errs = append(errs, errors.New("subject is empty"))
	}
	if strings.ContainsAny(r.Subject, "\r\n") {
		errs = append(errs, errors.New("subject is more than one line"))
	}
	if r.Body == "" {
		errs = append(errs, errors.New("body is empty"))
	}
	if err := errors.Join(errs...); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

// limitedBuffer is a bytes.Buffer that refuses to grow past max.
type limitedBuffer struct {
	bytes.Buffer
	name string
	max  int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, fmt.Errorf("%s is longer than %d bytes", b.name, b.max)
	}
	return b.Buffer.Write(p)
}
