package issuer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/ldp"
)

// TemplateFile is the file of a credential configuration in its folder.
const TemplateFile = "credential.yaml"

// templateMaxFile bounds the size of a TemplateFile.
const templateMaxFile = 1 << 20

// templateMaxDepth bounds the nesting of a subject template.
const templateMaxDepth = 32

// LoadTemplates reads the credential configurations of fsys: one folder per
// configuration, each holding a TemplateFile (see templates/README.md).
// Folders whose name starts with "." or "_" and files at the top level are
// ignored. Configurations are returned in folder-name order.
//
// Everything is checked now, so that the issuer fails at start-up rather
// than at the first credential request: the file is decoded strictly
// (unknown fields fail), every expression of the subject template is
// parsed, every claim path must exist in the template, scopes and ids must
// be unique, and so on. All problems are reported at once, each with its
// file and field. A relative vct is resolved against issuerID, the
// credential issuer identifier.
func LoadTemplates(fsys fs.FS, issuerID string) ([]*Configuration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("issuer: templates: %w", err)
	}
	var errs []error
	var configs []*Configuration
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			continue
		}
		c, cerrs := loadTemplate(fsys, name, issuerID)
		errs = append(errs, cerrs...)
		if c != nil {
			configs = append(configs, c)
		}
	}
	ids := map[string]string{}
	scopes := map[string]string{}
	for _, c := range configs {
		file := path.Join(c.Dir, TemplateFile)
		if other, dup := ids[c.ID]; dup {
			errs = append(errs, templateErr(file, "id", "%q is also the id of %s", c.ID, other))
		} else {
			ids[c.ID] = file
		}
		if c.Scope == "" {
			continue
		}
		if other, dup := scopes[c.Scope]; dup {
			errs = append(errs, templateErr(file, "scope", "%q is also the scope of %s", c.Scope, other))
		} else {
			scopes[c.Scope] = file
		}
	}
	if len(configs) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("issuer: templates: no folder with a %s", TemplateFile))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return configs, nil
}

// TemplateError is one problem of a credential template.
type TemplateError struct {
	// File is the template's path in the templates folder
	// ("national-id-sd-jwt/credential.yaml").
	File string
	// Field is where in the file ("scope", "claims[2].path",
	// "subject.address.locality"); empty for the whole file.
	Field string
	// Line is the line in the file, when known.
	Line int
	Msg  string
}

func (e *TemplateError) Error() string {
	s := "issuer: template " + e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	if e.Field != "" {
		s += ": " + e.Field
	}
	return s + ": " + e.Msg
}

func templateErr(file, field, format string, args ...any) *TemplateError {
	return &TemplateError{File: file, Field: field, Msg: fmt.Sprintf(format, args...)}
}

// templateYAML is a TemplateFile.
type templateYAML struct {
	ID             string          `yaml:"id"`
	Format         string          `yaml:"format"`
	Scope          string          `yaml:"scope"`
	VCT            string          `yaml:"vct"`
	Types          []string        `yaml:"types"`
	Contexts       []string        `yaml:"contexts"`
	DataModel      string          `yaml:"data_model"`
	Cryptosuite    string          `yaml:"cryptosuite"`
	LegacyTyp      bool            `yaml:"legacy_typ"`
	Validity       string          `yaml:"validity"`
	SigningAlg     string          `yaml:"signing_alg"`
	ProofAlgs      []string        `yaml:"proof_algs"`
	BindingMethods []string        `yaml:"binding_methods"`
	Display        []Display       `yaml:"display"`
	Claims         []templateClaim `yaml:"claims"`
	Subject        yaml.Node       `yaml:"subject"`
}

type templateClaim struct {
	Path        []string       `yaml:"path"`
	Mandatory   bool           `yaml:"mandatory"`
	Disclosable bool           `yaml:"disclosable"`
	Display     []ClaimDisplay `yaml:"display"`
}

// Values a template may name.
var (
	// templateFormats are the formats a configuration may have (the issuer
	// then needs a Format for it).
	templateFormats = []string{credential.FormatJWTVC, "jwt_vc_json-ld", credential.FormatLDPVC, credential.FormatSDJWTVC, credential.FormatMsoMdoc}
	// templateW3CFormats carry types, contexts and a credentialSubject.
	templateW3CFormats = []string{credential.FormatJWTVC, "jwt_vc_json-ld", credential.FormatLDPVC}
	// templateAlgs are the asymmetric JOSE algorithms for signing_alg and
	// proof_algs.
	templateAlgs = []string{"ES256", "ES384", "ES512", "ES256K", "EdDSA", "Ed25519", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512"}
	// templateBindingMethods are the holder key forms the issuer resolves.
	templateBindingMethods = []string{"jwk", "did:key", "did:jwk"}
	// templateOIDCScopes are scopes of the OpenID provider that a credential
	// configuration may not take.
	templateOIDCScopes = []string{"openid", "profile", "email", "phone", "address", "offline_access"}
	// templateSDJWTReserved are claims an SD-JWT VC's issuer sets itself
	// (SD-JWT VC section 3.2.2, RFC 9901): a template may not set them.
	templateSDJWTReserved = []string{"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity", "status", "sub", "jti", "_sd", "_sd_alg", "..."}
	// templateW3CReserved are credentialSubject members a W3C format sets
	// itself (id is the holder's DID).
	templateW3CReserved = []string{"id"}
	// templateDataModels are the W3C data models of ldp_vc, default first.
	templateDataModels = []string{DataModel20, DataModel11}
	// templateSuites are the cryptosuites of ldp_vc, default first.
	templateSuites = []string{ldp.SuiteEdDSARDFC2022, ldp.SuiteECDSARDFC2019, ldp.SuiteEd25519Signature2020}
)

var (
	templateIDPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$`)
	templateScopePattern = regexp.MustCompile(`^[\x21\x23-\x5B\x5D-\x7E]{1,128}$`) // RFC 6749 scope-token
	templateColorPattern = regexp.MustCompile(`^#(?:[0-9A-Fa-f]{3,4}|[0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$`)
	templateDaysPattern  = regexp.MustCompile(`^([0-9]{1,5})d$`)
	templateYAMLUnknown  = regexp.MustCompile(`^line ([0-9]+): field (.+) not found in type \S+$`)
	templateYAMLLine     = regexp.MustCompile(`^(?:yaml: )?line ([0-9]+): (.*)$`)
	// templateContextFile is a contexts entry naming a JSON-LD context in
	// the template folder.
	templateContextFile = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(?:jsonld|json)$`)
)

// loadTemplate reads and checks the configuration of folder dir.
func loadTemplate(fsys fs.FS, dir, issuerID string) (*Configuration, []error) {
	file := path.Join(dir, TemplateFile)
	data, err := readTemplateFile(fsys, file)
	if err != nil {
		return nil, []error{templateErr(file, "", "%v", err)}
	}
	return parseTemplate(fsys, data, file, dir, issuerID)
}

func readTemplateFile(fsys fs.FS, file string) ([]byte, error) {
	f, err := fsys.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("missing: every folder of the templates folder holds one credential configuration")
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, templateMaxFile+1))
	if err != nil {
		return nil, err
	}
	if len(data) > templateMaxFile {
		return nil, fmt.Errorf("larger than %d bytes", templateMaxFile)
	}
	return data, nil
}

// parseTemplate decodes and checks one TemplateFile; the context files it
// names are read from folder dir of fsys.
func parseTemplate(fsys fs.FS, data []byte, file, dir, issuerID string) (*Configuration, []error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, templateErr(file, field, format, args...))
	}
	var t templateYAML
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&t); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, []error{templateErr(file, "", "empty file")}
		}
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return nil, []error{templateYAMLError(file, err.Error())}
		}
		// Field errors: decoding went on, report them with the rest.
		for _, msg := range te.Errors {
			errs = append(errs, templateYAMLError(file, msg))
		}
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case err == nil:
		bad("", "holds more than one YAML document")
	case !errors.Is(err, io.EOF):
		errs = append(errs, templateYAMLError(file, err.Error()))
	}

	c := &Configuration{
		ID:             t.ID,
		Format:         t.Format,
		Scope:          t.Scope,
		Types:          t.Types,
		Contexts:       t.Contexts,
		VCT:            t.VCT,
		LegacyTyp:      t.LegacyTyp,
		SigningAlg:     t.SigningAlg,
		ProofAlgs:      t.ProofAlgs,
		BindingMethods: t.BindingMethods,
		Display:        t.Display,
		Dir:            dir,
	}
	if c.ID == "" {
		c.ID = dir
	}
	if !templateIDPattern.MatchString(c.ID) {
		field := "id"
		if t.ID == "" {
			field = "id (the folder name)"
		}
		bad(field, "%q is not a configuration id: letters, digits and . _ : + -, at most 128", c.ID)
	}

	w3c := slices.Contains(templateW3CFormats, c.Format)
	sdjwt := c.Format == credential.FormatSDJWTVC
	switch {
	case c.Format == "":
		bad("format", "is required (one of %s)", strings.Join(templateFormats, ", "))
	case c.Format == credential.FormatSDJWTVCLegacy:
		bad("format", "write %s (and legacy_typ: true to issue typ %s)", credential.FormatSDJWTVC, credential.FormatSDJWTVCLegacy)
	case !slices.Contains(templateFormats, c.Format):
		bad("format", "%q is not a credential format (one of %s)", c.Format, strings.Join(templateFormats, ", "))
	}

	switch {
	case c.Scope == "":
		bad("scope", "is required: it is how a wallet asks for the credential")
	case !templateScopePattern.MatchString(c.Scope):
		bad("scope", "%q is not an OAuth scope (printable ASCII without spaces, quotes or backslashes)", c.Scope)
	case slices.Contains(templateOIDCScopes, c.Scope):
		bad("scope", "%q is a scope of the OpenID provider", c.Scope)
	}

	// Format-specific members.
	if sdjwt {
		if c.VCT == "" {
			bad("vct", "is required for %s", c.Format)
		} else if vct, err := templateResolveVCT(c.VCT, issuerID); err != nil {
			bad("vct", "%v", err)
		} else {
			c.VCT = vct
		}
	} else if c.VCT != "" {
		bad("vct", "applies only to %s", credential.FormatSDJWTVC)
	}
	if c.LegacyTyp && !sdjwt {
		bad("legacy_typ", "applies only to %s", credential.FormatSDJWTVC)
	}
	if w3c {
		switch {
		case len(c.Types) == 0:
			bad("types", "is required for %s", c.Format)
		case !slices.Contains(c.Types, "VerifiableCredential"):
			bad("types", "must include VerifiableCredential")
		}
		templateCheckList(bad, "types", c.Types, func(s string) string {
			if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\n") {
				return "is not a type name"
			}
			return ""
		})
		templateCheckList(bad, "contexts", c.Contexts, func(s string) string {
			if templateContextFile.MatchString(s) {
				return ""
			}
			if u, err := url.Parse(s); err != nil || !u.IsAbs() || u.Host == "" {
				return "is not an absolute URL (nor the name of a context file of the template folder, such as context.jsonld)"
			}
			return ""
		})
		templateContextFiles(bad, fsys, c, issuerID)
	} else {
		if len(c.Types) > 0 {
			bad("types", "applies only to %s", strings.Join(templateW3CFormats, ", "))
		}
		if len(c.Contexts) > 0 {
			bad("contexts", "applies only to %s", strings.Join(templateW3CFormats, ", "))
		}
	}

	templateLDP(bad, c, t.DataModel, t.Cryptosuite)

	if t.Validity != "" {
		d, err := templateValidity(t.Validity)
		if err != nil {
			bad("validity", "%v", err)
		}
		c.Validity = d
	}

	switch {
	case c.SigningAlg == "" && c.Format == credential.FormatLDPVC:
		// Derived from the cryptosuite (templateLDP), or the suite is bad.
	case c.SigningAlg == "":
		bad("signing_alg", "is required (one of %s)", strings.Join(templateAlgs, ", "))
	case !slices.Contains(templateAlgs, c.SigningAlg):
		bad("signing_alg", "%q is not an asymmetric JOSE algorithm (one of %s)", c.SigningAlg, strings.Join(templateAlgs, ", "))
	}
	templateCheckList(bad, "proof_algs", c.ProofAlgs, func(s string) string {
		if !slices.Contains(templateAlgs, s) {
			return "is not an asymmetric JOSE algorithm (" + strings.Join(templateAlgs, ", ") + ")"
		}
		return ""
	})
	templateCheckList(bad, "binding_methods", c.BindingMethods, func(s string) string {
		if !slices.Contains(templateBindingMethods, s) {
			return "is not a binding method the issuer supports (" + strings.Join(templateBindingMethods, ", ") + ")"
		}
		return ""
	})
	switch {
	case len(c.BindingMethods) > 0 && len(c.ProofAlgs) == 0:
		bad("proof_algs", "is required with binding_methods: the algorithms of the wallet's proof of its key")
	case len(c.BindingMethods) == 0 && len(c.ProofAlgs) > 0:
		bad("binding_methods", "is required with proof_algs (no binding_methods issues credentials bound to no key)")
	}

	templateCheckDisplay(bad, "display", c.Display)

	// The subject template.
	if t.Subject.Kind == 0 {
		bad("subject", "is required: the template of the credential's claims")
	} else {
		subject, serrs := templateTree(&t.Subject, "subject", 0)
		for _, e := range serrs {
			e.File = file
			errs = append(errs, e)
		}
		m, ok := subject.(map[string]any)
		switch {
		case len(serrs) > 0:
		case !ok:
			bad("subject", "must be a mapping of claim names to values")
		case len(m) == 0:
			bad("subject", "is empty")
		default:
			c.Subject = m
			reserved := []string(nil)
			switch {
			case sdjwt:
				reserved = templateSDJWTReserved
			case w3c:
				reserved = templateW3CReserved
			}
			for _, k := range reserved {
				if _, ok := m[k]; ok {
					bad("subject."+k, "is set by the %s format, not by the template", c.Format)
				}
			}
			errs = append(errs, templateCheckExpressions(file, m, "subject")...)
		}
	}

	// Claims.
	seen := map[string]int{}
	for i, tc := range t.Claims {
		field := "claims[" + strconv.Itoa(i) + "]"
		c.Claims = append(c.Claims, Claim(tc))
		if len(tc.Path) == 0 {
			bad(field+".path", "is required: the claim's object keys, such as [address, locality]")
			continue
		}
		if slices.Contains(tc.Path, "") {
			bad(field+".path", "has an empty name")
			continue
		}
		key := strings.Join(tc.Path, "\x00")
		if j, dup := seen[key]; dup {
			bad(field+".path", "%v is also the path of claims[%d]", tc.Path, j)
		}
		seen[key] = i
		if c.Subject != nil {
			if msg := templateClaimInSubject(c.Subject, tc.Path); msg != "" {
				bad(field+".path", "%v %s", tc.Path, msg)
			}
		}
		if tc.Disclosable && !sdjwt {
			bad(field+".disclosable", "applies only to %s", credential.FormatSDJWTVC)
		}
		templateCheckClaimDisplay(bad, field+".display", tc.Display)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return c, nil
}

// templateLDP checks data_model and cryptosuite, which only ldp_vc has,
// and sets c's DataModel, Cryptosuite and (when the template leaves it
// out) SigningAlg, the algorithm of the suite's key.
func templateLDP(bad func(string, string, ...any), c *Configuration, model, suite string) {
	if c.Format != credential.FormatLDPVC {
		if model != "" {
			bad("data_model", "applies only to %s", credential.FormatLDPVC)
		}
		if suite != "" {
			bad("cryptosuite", "applies only to %s", credential.FormatLDPVC)
		}
		return
	}
	if model == "" {
		model = templateDataModels[0]
	}
	if suite == "" {
		suite = templateSuites[0]
	}
	okModel := slices.Contains(templateDataModels, model)
	if !okModel {
		bad("data_model", "%q is not a W3C data model Sanad issues: write \"2.0\" or \"1.1\" (quoted)", model)
	}
	if !slices.Contains(templateSuites, suite) {
		bad("cryptosuite", "%q is not a cryptosuite Sanad signs with (one of %s)", suite, strings.Join(templateSuites, ", "))
		return
	}
	if suite == ldp.SuiteEd25519Signature2020 && okModel && model != DataModel11 {
		bad("cryptosuite", "%s secures VCDM 1.1 credentials only: add data_model: \"1.1\"", suite)
	}
	c.DataModel, c.Cryptosuite = model, suite
	alg, err := ldp.SuiteAlg(suite)
	switch {
	case err != nil:
		bad("cryptosuite", "%v", err)
	case c.SigningAlg == "":
		c.SigningAlg = alg
	case c.SigningAlg != alg:
		bad("signing_alg", "%q does not sign %s, which needs a %s key (leave signing_alg out to take it from the cryptosuite)", c.SigningAlg, suite, alg)
	}
}

// templateContextFiles resolves the contexts entries of c that name files
// of the template folder: each becomes the URL the issuer serves it at,
// "<issuerID>/contexts/<id>/<file>", and its content goes to
// c.ContextFiles. The content must be a JSON object with an @context.
func templateContextFiles(bad func(string, string, ...any), fsys fs.FS, c *Configuration, issuerID string) {
	for i, name := range c.Contexts {
		if !templateContextFile.MatchString(name) || slices.Index(c.Contexts, name) < i {
			continue
		}
		field := "contexts[" + strconv.Itoa(i) + "]"
		data, err := readContextFile(fsys, path.Join(c.Dir, name))
		if err != nil {
			bad(field, "%s: %v", name, err)
			continue
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			bad(field, "%s is not a JSON object: %v", name, err)
			continue
		}
		if _, ok := doc["@context"]; !ok {
			bad(field, "%s is not a JSON-LD context: it has no @context member", name)
			continue
		}
		u, err := url.Parse(issuerID)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			bad(field, "%s is a file, and the issuer identifier %q is not an http(s) URL to serve it at", name, issuerID)
			continue
		}
		ctxURL := ContextURL(issuerID, c.ID, name)
		if c.ContextFiles == nil {
			c.ContextFiles = map[string][]byte{}
		}
		c.ContextFiles[ctxURL] = data
		c.Contexts[i] = ctxURL
	}
}

// ContextURL is the URL at which the issuer identified by issuerID serves
// the context file name of configuration id: every contexts entry of a
// template that names a file resolves to it.
func ContextURL(issuerID, id, name string) string {
	return strings.TrimRight(issuerID, "/") + PathContexts + "/" + url.PathEscape(id) + "/" + url.PathEscape(name)
}

// readContextFile reads a context file of a template folder, at most
// jsonld.MaxContextSize bytes.
func readContextFile(fsys fs.FS, name string) ([]byte, error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errors.New("no such file in the template folder")
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, jsonld.MaxContextSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > jsonld.MaxContextSize {
		return nil, fmt.Errorf("larger than %d bytes", jsonld.MaxContextSize)
	}
	return data, nil
}

// templateYAMLError turns a message of the YAML decoder into a
// TemplateError with its line.
func templateYAMLError(file, msg string) *TemplateError {
	e := &TemplateError{File: file, Msg: msg}
	if m := templateYAMLUnknown.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Field = m[2]
		e.Msg = "unknown field"
		return e
	}
	if m := templateYAMLLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	return e
}

// templateCheckList checks that a list has no empty or duplicate entries
// and that check (which returns a problem or "") accepts each.
func templateCheckList(bad func(string, string, ...any), field string, list []string, check func(string) string) {
	for i, s := range list {
		f := field + "[" + strconv.Itoa(i) + "]"
		switch {
		case s == "":
			bad(f, "is empty")
		case slices.Index(list, s) < i:
			bad(f, "%q is listed twice", s)
		default:
			if msg := check(s); msg != "" {
				bad(f, "%q %s", s, msg)
			}
		}
	}
}

// templateCheckDisplay checks display entries (OpenID4VCI section 12.2.4).
func templateCheckDisplay(bad func(string, string, ...any), field string, display []Display) {
	var locales []string
	for i, d := range display {
		f := field + "[" + strconv.Itoa(i) + "]"
		if d.Name == "" {
			bad(f+".name", "is required")
		}
		templateCheckLocale(bad, f+".locale", d.Locale, &locales)
		for _, col := range []struct{ name, v string }{{"background_color", d.BackgroundColor}, {"text_color", d.TextColor}} {
			if col.v != "" && !templateColorPattern.MatchString(col.v) {
				bad(f+"."+col.name, "%q is not a colour: write #rgb or #rrggbb (with alpha, #rgba or #rrggbbaa)", col.v)
			}
		}
		for _, img := range []struct {
			name string
			v    *Image
		}{{"logo", d.Logo}, {"background_image", d.BackgroundImage}} {
			if img.v == nil {
				continue
			}
			if msg := templateImageURI(img.v.URI); msg != "" {
				bad(f+"."+img.name+".uri", "%s", msg)
			}
		}
	}
}

// templateCheckClaimDisplay checks a claim's names per locale.
func templateCheckClaimDisplay(bad func(string, string, ...any), field string, display []ClaimDisplay) {
	var locales []string
	for i, d := range display {
		f := field + "[" + strconv.Itoa(i) + "]"
		if d.Name == "" {
			bad(f+".name", "is required")
		}
		templateCheckLocale(bad, f+".locale", d.Locale, &locales)
	}
}

// templateCheckLocale checks a BCP 47 locale and that no earlier entry of
// the same list had it.
func templateCheckLocale(bad func(string, string, ...any), field, locale string, seen *[]string) {
	if locale != "" {
		if _, err := language.Parse(locale); err != nil || len(locale) > 35 {
			bad(field, "%q is not a BCP 47 language tag such as en, fr or ar", locale)
			return
		}
	}
	key := strings.ToLower(locale)
	if slices.Contains(*seen, key) {
		if locale == "" {
			bad(field, "more than one entry without a locale")
		} else {
			bad(field, "%q appears twice", locale)
		}
		return
	}
	*seen = append(*seen, key)
}

// templateImageURI checks a logo or background image URI: an absolute
// https or http URL, or a data: URI of an image. It returns the problem or
// "".
func templateImageURI(s string) string {
	if s == "" {
		return "is required"
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || !u.IsAbs():
		return fmt.Sprintf("%q is not an absolute URI", s)
	case u.Scheme == "https" || u.Scheme == "http":
		if u.Host == "" {
			return fmt.Sprintf("%q has no host", s)
		}
	case u.Scheme == "data":
		if !strings.HasPrefix(u.Opaque, "image/") {
			return fmt.Sprintf("%q is a data: URI of something other than an image", s)
		}
	default:
		return fmt.Sprintf("%q: use an https or data: URI", s)
	}
	return ""
}

// templateValidity parses a validity: a Go duration ("8760h") or days
// ("365d"). Zero is no expiry.
func templateValidity(s string) (time.Duration, error) {
	if m := templateDaysPattern.FindStringSubmatch(s); m != nil {
		n, _ := strconv.Atoi(m[1])
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is not a duration: write days (365d) or a Go duration (8760h)", s)
	case d < 0:
		return 0, fmt.Errorf("%q is negative", s)
	case d > 0 && d < time.Minute:
		return 0, fmt.Errorf("%q is shorter than a minute", s)
	}
	return d, nil
}

// templateResolveVCT resolves a vct: an absolute URI (with a scheme, such
// as https: or urn:) stays as it is; a relative one ("national-id") is
// appended to the issuer identifier as path segments.
func templateResolveVCT(vct, issuerID string) (string, error) {
	if u, err := url.Parse(vct); err == nil && u.Scheme != "" {
		if strings.ContainsAny(vct, " \t\n") {
			return "", fmt.Errorf("%q contains spaces", vct)
		}
		return vct, nil
	}
	if strings.ContainsAny(vct, "?#:% \t\n\\") || strings.HasPrefix(vct, "/") || strings.HasSuffix(vct, "/") {
		return "", fmt.Errorf("%q is neither an absolute URI nor a relative path such as national-id", vct)
	}
	for _, seg := range strings.Split(vct, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", fmt.Errorf("%q is neither an absolute URI nor a relative path such as national-id", vct)
		}
	}
	u, err := url.Parse(issuerID)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("%q is relative, and the issuer identifier %q is not an http(s) URL to resolve it against", vct, issuerID)
	}
	return strings.TrimRight(issuerID, "/") + "/" + vct, nil
}

// templateTree turns a YAML node into a JSON tree: map[string]any, []any,
// string, int64, float64, bool and nil. Anchors, aliases, merge keys,
// binary values and custom tags are refused; so are keys that are not
// strings and duplicate keys.
func templateTree(n *yaml.Node, where string, depth int) (any, []*TemplateError) {
	fail := func(format string, args ...any) (any, []*TemplateError) {
		return nil, []*TemplateError{{Field: where, Line: n.Line, Msg: fmt.Sprintf(format, args...)}}
	}
	if depth > templateMaxDepth {
		return fail("nests deeper than %d levels", templateMaxDepth)
	}
	if n.Anchor != "" {
		return fail("anchors and aliases are not supported")
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return fail("is not one value")
		}
		return templateTree(n.Content[0], where, depth)
	case yaml.AliasNode:
		return fail("anchors and aliases are not supported")
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		var errs []*TemplateError
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || k.ShortTag() != "!!str" {
				hint := ""
				if k.Kind == yaml.MappingNode {
					hint = ` (quote expressions: name: "{{ fullName | lang \"eng\" }}")`
				}
				if k.ShortTag() == "!!merge" {
					hint = " (merge keys are not supported)"
				}
				errs = append(errs, &TemplateError{Field: where, Line: k.Line, Msg: "has a key that is not a string" + hint})
				continue
			}
			if _, dup := m[k.Value]; dup {
				errs = append(errs, &TemplateError{Field: where + "." + k.Value, Line: k.Line, Msg: "is defined twice"})
				continue
			}
			child, cerrs := templateTree(v, where+"."+k.Value, depth+1)
			errs = append(errs, cerrs...)
			m[k.Value] = child
		}
		return m, errs
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		var errs []*TemplateError
		for i, e := range n.Content {
			child, cerrs := templateTree(e, where+"["+strconv.Itoa(i)+"]", depth+1)
			errs = append(errs, cerrs...)
			s = append(s, child)
		}
		return s, errs
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!str", "!!timestamp":
			return n.Value, nil
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return fail("%v", err)
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return fail("%q is not a 64-bit integer", n.Value)
			}
			return i, nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
				return fail("%q is not a finite number", n.Value)
			}
			return f, nil
		}
		return fail("tag %s is not supported", n.Tag)
	}
	return fail("is not a YAML value")
}

// templateCheckExpressions parses every string leaf of a subject template
// and returns the problems.
func templateCheckExpressions(file string, v any, where string) []error {
	var errs []error
	templateWalkLeaves(v, where, func(where string, l templateString, err error) {
		if err != nil {
			errs = append(errs, templateErr(file, where, "%v", err))
		}
	})
	return errs
}

// templateWalkLeaves calls fn with every string leaf of a template, parsed.
func templateWalkLeaves(v any, where string, fn func(where string, l templateString, err error)) {
	switch t := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			templateWalkLeaves(t[k], where+"."+k, fn)
		}
	case []any:
		for i, e := range t {
			templateWalkLeaves(e, where+"["+strconv.Itoa(i)+"]", fn)
		}
	case string:
		l, err := parseTemplateString(t)
		fn(where, l, err)
	}
}

// templateClaimInSubject checks that a claim path leads somewhere in the
// subject template: through objects to any value, or to an expression
// that may yield an object. It returns the problem or "".
func templateClaimInSubject(subject map[string]any, p []string) string {
	var v any = subject
	for i, k := range p {
		switch t := v.(type) {
		case map[string]any:
			next, ok := t[k]
			if !ok {
				return "is not in the subject template"
			}
			v = next
		case string:
			if l, err := parseTemplateString(t); err == nil && l.whole != nil {
				return "" // {{ expr }} may yield an object
			}
			return fmt.Sprintf("is not in the subject template (%s is text)", strings.Join(p[:i], "."))
		default:
			return fmt.Sprintf("is not in the subject template (%s is not an object)", strings.Join(p[:i], "."))
		}
	}
	return ""
}

// IdentityFields returns the identity fields c's template reads (the first
// name of each path; UIN for uin), sorted and without duplicates: what a
// DataProvider must supply.
func (c *Configuration) IdentityFields() []string {
	var out []string
	templateWalkLeaves(c.Subject, "subject", func(_ string, l templateString, err error) {
		for _, e := range l.expressions() {
			if f := e.identityField(); f != "" && !slices.Contains(out, f) {
				out = append(out, f)
			}
		}
	})
	slices.Sort(out)
	return out
}

// identityField is the identity field e reads, or "".
func (e *templateExpr) identityField() string {
	switch e.term.kind {
	case termPath:
		return e.term.path[0]
	case termUIN:
		return renderUINField
	}
	return ""
}

// CheckIdentityFields checks that the templates of configs read only
// identity fields in fields (the identity schema's properties,
// idrepo.Schema.Properties; the UIN is always known): a misspelt field
// would otherwise render as missing for every resident. It reports every
// problem at once.
func CheckIdentityFields(configs []*Configuration, fields []string) error {
	var errs []error
	for _, c := range configs {
		file := path.Join(c.Dir, TemplateFile)
		templateWalkLeaves(c.Subject, "subject", func(where string, l templateString, _ error) {
			for _, e := range l.expressions() {
				if f := e.identityField(); f != "" && f != renderUINField && !slices.Contains(fields, f) {
					errs = append(errs, templateErr(file, where, "{{ %s }} reads %q, which is not a field of the identity schema", e, f))
				}
			}
		})
	}
	return errors.Join(errs...)
}
