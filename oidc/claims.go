package oidc

import (
	"encoding/json"
	"errors"
	idata "github.com/sanad-id/sanad/idrepo/identity"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file holds the claims logic of the provider, as pure functions: the
// claims request parameter (OpenID Connect Core section 5.5, with eSignet's
// purpose member), the claims a request asks for (scopes and claims
// parameter, restricted to what the client registered), the claims an
// identity from the ID repository yields, in the requested languages, and
// the labels the consent screen shows.
//
// Release policy, as in eSignet: a claim is released only if the client
// registered it (storage.Client.UserClaims). A requested claim the client
// did not register is silently not released, even when the request marks
// it essential: OpenID Connect Core section 5.5.1 says an essential claim
// the provider does not return is not an error, and eSignet drops such
// claims the same way. UnregisteredClaims lists them so that a caller can
// log them or refuse the request if it chooses to.

// Limits of the claims request parameter.
const (
	maxClaimsRequestSize    = 8 << 10 // bytes
	maxClaimsRequestMembers = 100     // claims in userinfo and id_token together
	maxClaimsRequestValues  = 100     // strings in one values member
	maxClaimNameLength      = 128     // bytes
	minClaimPurposeLength   = 3       // characters (OpenID Connect for Identity Assurance)
	maxClaimPurposeLength   = 300     // characters
	maxClaimsLocales        = 16      // distinct languages considered from claims_locales
)

// ClaimsRequest is the claims request parameter (OpenID Connect Core
// section 5.5): the claims a client asks for at the userinfo endpoint and
// in the ID token. A nil *ClaimRequest member is a claim asked for with
// JSON null: voluntary and without constraints.
type ClaimsRequest struct {
	UserInfo map[string]*ClaimRequest `json:"userinfo,omitempty"`
	IDToken  map[string]*ClaimRequest `json:"id_token,omitempty"`
}

// ClaimRequest is one member of a ClaimsRequest (OpenID Connect Core
// section 5.5.1), with the purpose member of OpenID Connect for Identity
// Assurance that eSignet shows on its consent screen. Value and Values are
// strings, as eSignet reads them.
type ClaimRequest struct {
	Essential bool     `json:"essential,omitempty"`
	Value     string   `json:"value,omitempty"`
	Values    []string `json:"values,omitempty"`
	Purpose   string   `json:"purpose,omitempty"`
}

// isEssential reports whether c marks its claim essential; nil is voluntary.
func (c *ClaimRequest) isEssential() bool { return c != nil && c.Essential }

// ParseClaimsRequest parses the claims request parameter. The empty string
// (no parameter) yields an empty request.
//
// It is strict where the specification is and lenient where it allows:
// the parameter must be one JSON object of at most 8 KiB, in UTF-8, without
// duplicate member names; userinfo and id_token, when present, must be
// objects whose members are objects or null, 100 claims in all. In a
// claim, essential must be a boolean, value a string, values an array of
// strings and purpose a string of 3 to 300 characters; each of them may
// also be null, which is the same as absent (Java clients built on Jackson
// send nulls). Unknown top-level members and unknown members of a claim
// are ignored, as Core section 5.5 asks. An empty userinfo, id_token or
// values is the same as none, so the result marshals back to an
// equivalent parameter.
//
// Errors are invalid_request *Error values whose description says what is
// wrong, and names the claim when its name is plain enough to be shown.
func ParseClaimsRequest(s string) (*ClaimsRequest, error) {
	if s == "" {
		return &ClaimsRequest{}, nil
	}
	if len(s) > maxClaimsRequestSize {
		return nil, claimsError("claims: larger than 8 KiB", nil)
	}
	if !utf8.ValidString(s) {
		return nil, claimsError("claims: not valid UTF-8", nil)
	}
	p := claimsParser{dec: json.NewDecoder(strings.NewReader(s))}
	p.dec.UseNumber()
	r, err := p.request()
	if err != nil {
		return nil, err
	}
	return r, nil
}

// ACRValues returns the authentication context classes the client asks for
// in id_token.acr (values, then value), without duplicates, or nil. eSignet
// resolves the ACR from these first, then from acr_values.
func (r *ClaimsRequest) ACRValues() []string {
	if r == nil {
		return nil
	}
	c := r.IDToken["acr"]
	if c == nil {
		return nil
	}
	var out []string
	for _, v := range append(slices.Clip(c.Values), c.Value) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// ACREssential reports whether id_token.acr is marked essential: the
// provider must then authenticate with one of ACRValues or fail the request
// (Core section 5.5.1.1).
func (r *ClaimsRequest) ACREssential() bool {
	return r != nil && r.IDToken["acr"].isEssential()
}

// Essential returns the names of the claims marked essential in userinfo or
// id_token, sorted. Names are as requested (protocol claims such as acr
// included, language tags kept); RequestedClaims narrows them to the user
// claims a client may receive.
func (r *ClaimsRequest) Essential() []string {
	e, _ := r.split()
	return e
}

// Voluntary returns the names of the claims requested in userinfo or
// id_token and marked essential in neither, sorted.
func (r *ClaimsRequest) Voluntary() []string {
	_, v := r.split()
	return v
}

func (r *ClaimsRequest) split() (essential, voluntary []string) {
	if r == nil {
		return nil, nil
	}
	ess := map[string]bool{}
	for _, sec := range []map[string]*ClaimRequest{r.UserInfo, r.IDToken} {
		for name, c := range sec {
			ess[name] = ess[name] || c.isEssential()
		}
	}
	return claimsSplit(ess)
}

// claimsSplit splits the names of m into those mapped to true and the
// others, each sorted.
func claimsSplit(m map[string]bool) (essential, voluntary []string) {
	essential, voluntary = []string{}, []string{}
	for name, e := range m {
		if e {
			essential = append(essential, name)
		} else {
			voluntary = append(voluntary, name)
		}
	}
	slices.Sort(essential)
	slices.Sort(voluntary)
	return essential, voluntary
}

// claimsError is an invalid_request error about the claims parameter.
func claimsError(desc string, cause error) *Error { return ErrInvalidRequest(desc, cause) }

// claimsShowableName is a claim name safe to repeat in an error description.
var claimsShowableName = regexp.MustCompile(`^[A-Za-z0-9_.:#-]{1,64}$`)

// claimsParser reads the claims parameter token by token, to tell each
// problem precisely and to refuse duplicate member names, which
// encoding/json would silently resolve to the last one.
type claimsParser struct {
	dec     *json.Decoder
	members int
}

func (p *claimsParser) request() (*ClaimsRequest, error) {
	if err := p.open("claims: must be a JSON object"); err != nil {
		return nil, err
	}
	r := &ClaimsRequest{}
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			return nil, claimsError("claims: duplicate top-level member", nil)
		}
		seen[key] = true
		switch key {
		case "userinfo":
			r.UserInfo, err = p.section(key)
		case "id_token":
			r.IDToken, err = p.section(key)
		default:
			err = p.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := p.close(); err != nil {
		return nil, err
	}
	if _, err := p.dec.Token(); err != io.EOF {
		return nil, claimsError("claims: data after the JSON object", err)
	}
	return r, nil
}

// section reads userinfo or id_token.
func (p *claimsParser) section(sec string) (map[string]*ClaimRequest, error) {
	if err := p.open("claims: " + sec + " must be an object"); err != nil {
		return nil, err
	}
	m := map[string]*ClaimRequest{}
	for i := 1; p.dec.More(); i++ {
		name, err := p.key()
		if err != nil {
			return nil, err
		}
		where := "claims: " + sec + "." + name
		if !claimsShowableName.MatchString(name) {
			where = "claims: " + sec + ".(member " + strconv.Itoa(i) + ")"
		}
		switch _, dup := m[name]; {
		case name == "":
			return nil, claimsError(where+": empty claim name", nil)
		case len(name) > maxClaimNameLength:
			return nil, claimsError(where+": claim name longer than "+strconv.Itoa(maxClaimNameLength)+" bytes", nil)
		case dup:
			return nil, claimsError(where+": duplicate claim", nil)
		}
		if p.members++; p.members > maxClaimsRequestMembers {
			return nil, claimsError("claims: more than "+strconv.Itoa(maxClaimsRequestMembers)+" claims", nil)
		}
		m[name], err = p.claim(where)
		if err != nil {
			return nil, err
		}
	}
	if len(m) == 0 {
		m = nil // the same as absent
	}
	return m, p.close()
}

// claim reads one claim request: null or an object.
func (p *claimsParser) claim(where string) (*ClaimRequest, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('{') {
		return nil, claimsError(where+": must be an object or null", nil)
	}
	c := &ClaimRequest{}
	seen := map[string]bool{}
	for p.dec.More() {
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		if seen[key] {
			switch key {
			case "essential", "value", "values", "purpose":
				return nil, claimsError(where+": duplicate "+key, nil)
			}
			return nil, claimsError(where+": duplicate member", nil)
		}
		seen[key] = true
		switch key {
		case "essential":
			tok, err := p.token()
			if err != nil {
				return nil, err
			}
			b, ok := tok.(bool)
			if !ok && tok != nil {
				return nil, claimsError(where+": essential must be a boolean", nil)
			}
			c.Essential = b
		case "value":
			if c.Value, _, err = p.string(where + ": value must be a string"); err != nil {
				return nil, err
			}
		case "values":
			if c.Values, err = p.strings(where); err != nil {
				return nil, err
			}
		case "purpose":
			var null bool
			if c.Purpose, null, err = p.string(where + ": purpose must be a string"); err != nil {
				return nil, err
			}
			if n := utf8.RuneCountInString(c.Purpose); !null && (n < minClaimPurposeLength || n > maxClaimPurposeLength) {
				return nil, claimsError(where+": purpose must be 3 to 300 characters", nil)
			}
		default:
			if err := p.skip(); err != nil {
				return nil, err
			}
		}
	}
	return c, p.close()
}

// string reads a string, or null ("", true); anything else fails with
// desc.
func (p *claimsParser) string(desc string) (s string, null bool, err error) {
	tok, err := p.token()
	if err != nil {
		return "", false, err
	}
	switch v := tok.(type) {
	case nil:
		return "", true, nil
	case string:
		return v, false, nil
	}
	return "", false, claimsError(desc, nil)
}

// strings reads values: an array of strings or null. An empty array is nil.
func (p *claimsParser) strings(where string) ([]string, error) {
	desc := where + ": values must be an array of strings"
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if tok != json.Delim('[') {
		return nil, claimsError(desc, nil)
	}
	var out []string
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		s, ok := tok.(string)
		if !ok {
			return nil, claimsError(desc, nil)
		}
		if len(out) == maxClaimsRequestValues {
			return nil, claimsError(where+": more than "+strconv.Itoa(maxClaimsRequestValues)+" values", nil)
		}
		out = append(out, s)
	}
	if _, err := p.token(); err != nil { // ]
		return nil, err
	}
	return out, nil
}

// open reads the '{' that starts an object; anything else fails with desc.
func (p *claimsParser) open(desc string) error {
	tok, err := p.token()
	if err != nil {
		return err
	}
	if tok != json.Delim('{') {
		return claimsError(desc, nil)
	}
	return nil
}

// close reads the '}' that ends an object (More returned false).
func (p *claimsParser) close() error {
	_, err := p.token()
	return err
}

// key reads a member name (the decoder only returns strings there).
func (p *claimsParser) key() (string, error) {
	tok, err := p.token()
	if err != nil {
		return "", err
	}
	s, ok := tok.(string)
	if !ok {
		return "", claimsError("claims: not valid JSON", nil)
	}
	return s, nil
}

// skip reads and discards one value of any type.
func (p *claimsParser) skip() error {
	var raw json.RawMessage
	if err := p.dec.Decode(&raw); err != nil {
		return claimsError("claims: not valid JSON", err)
	}
	return nil
}

func (p *claimsParser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, claimsError("claims: not valid JSON", err)
	}
	return tok, nil
}

// claimsByScope are the claims of the standard scopes (Core section 5.4).
var claimsByScope = map[string][]string{
	"profile": {"name", "family_name", "given_name", "middle_name", "nickname", "preferred_username",
		"profile", "picture", "website", "gender", "birthdate", "zoneinfo", "locale", "updated_at"},
	"email":   {"email", "email_verified"},
	"phone":   {"phone_number", "phone_number_verified"},
	"address": {"address"},
}

// ScopeClaims returns the claims a standard scope (profile, email, phone,
// address) asks for, per Core section 5.4, or nil for any other scope.
// Some of them (profile, website, zoneinfo, updated_at) are not in
// SupportedClientClaims and are never released.
func ScopeClaims(scope string) []string { return slices.Clone(claimsByScope[scope]) }

// RequestedClaims returns the user claims a request asks for and the
// client may receive: the claims of the scopes (voluntary) and the members
// of userinfo and id_token in cr (essential if either marks them so),
// restricted to SupportedClientClaims and to registered (the client's
// storage.Client.UserClaims). A claims member with a language tag
// ("name#fra") counts as its claim ("name"): languages come from
// claims_locales. Both lists are sorted, without duplicates and never nil;
// a claim essential anywhere is in essential only. cr may be nil.
//
// Claims outside the result are never released, whether essential or not
// (see UnregisteredClaims).
func RequestedClaims(scopes []string, cr *ClaimsRequest, registered []string) (essential, voluntary []string) {
	all := claimsRequested(scopes, cr)
	for name := range all {
		if !slices.Contains(SupportedClientClaims, name) || !slices.Contains(registered, name) {
			delete(all, name)
		}
	}
	return claimsSplit(all)
}

// UnregisteredClaims returns the claims of SupportedClientClaims that the
// request asks for (as RequestedClaims reads it) but the client did not
// register, sorted and never nil. They are not released: the provider
// drops them silently, as eSignet does, even when they are essential; the
// caller may log them or refuse the request.
func UnregisteredClaims(scopes []string, cr *ClaimsRequest, registered []string) []string {
	out := []string{}
	for name := range claimsRequested(scopes, cr) {
		if slices.Contains(SupportedClientClaims, name) && !slices.Contains(registered, name) {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// claimsRequested maps every claim name the request asks for (language
// tags removed) to whether it is essential.
func claimsRequested(scopes []string, cr *ClaimsRequest) map[string]bool {
	all := map[string]bool{}
	for _, s := range scopes {
		for _, name := range claimsByScope[s] {
			if _, ok := all[name]; !ok {
				all[name] = false
			}
		}
	}
	if cr != nil {
		for _, sec := range []map[string]*ClaimRequest{cr.UserInfo, cr.IDToken} {
			for name, c := range sec {
				name, _, _ = strings.Cut(name, "#")
				all[name] = all[name] || c.isEssential()
			}
		}
	}
	return all
}

// IdentityClaims returns the claims an identity from the ID repository
// yields for names (claim names, as RequestedClaims returns them), in the
// languages of locales (claims_locales: ISO 639-3 codes such as "eng", or
// BCP 47 tags such as "fr" or "ar-MA"), and, for each name, whether the
// person has it.
//
// Languages (Core section 5.2, eSignet): a multi-language value (name,
// given_name, family_name, middle_name, gender, address) is released as
// "name#<locale>" for each requested locale the person's data has, with the
// locale written as the client wrote it ("name#fr" for "fr", "name#fra" for
// "fra"); when one locale is requested, or only one matches, the plain
// "name" carries the first match too. Without locales, or when none of them
// matches, only the plain "name" is released, in the first language of the
// data. Locales that are neither ISO 639-3 codes nor BCP 47 tags whose
// language Sanad knows are ignored.
//
// Mapping from MOSIP's identity fields: name←fullName,
// given_name←givenName, family_name←familyName, middle_name←middleName,
// gender←gender, birthdate←dateOfBirth (YYYY/MM/DD, YYYY-MM-DD or YYYY,
// released as YYYY-MM-DD or YYYY), email←email, phone_number←phone,
// email_verified and phone_number_verified←emailVerified and phoneVerified
// (MOSIP has no such flags, so these are released only when the identity
// carries the boolean and the address it is about), address←addressLine1..3
// (street_address, joined with ", "), city (locality), region or else
// province (region) and postalCode (postal_code), with formatted joining
// them, picture←photo as a data URI (jpeg, jpg, png or webp), locale←the
// first requested language the person's data has (else its first
// language), as a BCP 47 tag.
//
// individual_id is never available: in eSignet it carries the UIN or VID,
// and Sanad never releases the UIN to a relying party (a national
// identifier shared by every relying party links the person across them;
// sub is pairwise instead). nickname and preferred_username have no source
// in MOSIP data. Nothing else of the identity is read, so no other field,
// the UIN included, can reach a claim.
//
// Values are copied as they are: no escaping and no normalisation. A field
// of the wrong shape (a number where a string is expected, an invalid date,
// an unknown photo format) makes its claim unavailable; IdentityClaims
// never fails. The returned maps are fresh, and claims holds only strings,
// booleans and map[string]any values.
func IdentityClaims(identity map[string]any, names []string, locales []string) (claims map[string]any, available map[string]bool) {
	claims, available = map[string]any{}, map[string]bool{}
	req := claimsLocales(locales)
	for _, name := range names {
		if _, done := available[name]; done {
			continue
		}
		available[name] = claimsFromIdentity(claims, identity, name, req)
	}
	return claims, available
}

// claimsIdentityFields maps claims to the multi-language identity fields
// they come from.
var claimsIdentityFields = map[string]string{
	"name":        "fullName",
	"given_name":  "givenName",
	"family_name": "familyName",
	"middle_name": "middleName",
	"gender":      "gender",
}

// claimsAddressFields are the multi-language fields of the address, in
// order; their languages are the address's.
var claimsAddressFields = []string{"addressLine1", "addressLine2", "addressLine3", "city", "region", "province"}

// claimsFromIdentity adds claim name (and its language variants) to
// claims and reports whether the person has it.
func claimsFromIdentity(claims, identity map[string]any, name string, req []claimsLocale) bool {
	if field, ok := claimsIdentityFields[name]; ok {
		return claimsMultiLanguage(identity, field).emit(claims, name, req)
	}
	switch name {
	case "address":
		return claimsAddress(identity).emit(claims, name, req)
	case "birthdate":
		s, _ := identity["dateOfBirth"].(string)
		return claimsSetString(claims, name, idata.FullDate(s))
	case "email":
		s, _ := identity["email"].(string)
		return claimsSetString(claims, name, s)
	case "phone_number":
		s, _ := identity["phone"].(string)
		return claimsSetString(claims, name, s)
	case "email_verified", "phone_number_verified":
		flag, of := "emailVerified", "email"
		if name == "phone_number_verified" {
			flag, of = "phoneVerified", "phone"
		}
		v, ok := identity[flag].(bool)
		if s, _ := identity[of].(string); !ok || s == "" {
			return false
		}
		claims[name] = v
		return true
	case "picture":
		return claimsSetString(claims, name, idata.PhotoDataURI(identity["photo"]))
	case "locale":
		return claimsSetString(claims, name, claimsLocaleClaim(identity, req))
	}
	// individual_id (never released), nickname, preferred_username (no
	// source), and anything else.
	return false
}

// claimsSetString sets claims[name] to v unless v is empty, and reports
// whether it did.
func claimsSetString(claims map[string]any, name, v string) bool {
	if v == "" {
		return false
	}
	claims[name] = v
	return true
}

// claimsLocalized is a claim's value per language, in the data's order. A
// value without language has language "".
type claimsLocalized []claimsLocalizedValue

type claimsLocalizedValue struct {
	lang  string // ISO 639-3
	value any
}

func (l claimsLocalized) get(lang string) (any, bool) {
	for _, v := range l {
		if v.lang == lang {
			return v.value, true
		}
	}
	return nil, false
}

// emit adds the claim name and its language variants for req to claims and
// reports whether there was anything to add.
func (l claimsLocalized) emit(claims map[string]any, name string, req []claimsLocale) bool {
	if len(l) == 0 {
		return false
	}
	var first any
	matched := 0
	for _, r := range req {
		if v, ok := l.get(r.lang); ok {
			claims[name+"#"+r.tag] = v
			if matched == 0 {
				first = v
			}
			matched++
		}
	}
	switch {
	case matched == 0:
		claims[name] = l[0].value
	case matched == 1 || len(req) == 1:
		claims[name] = first
	}
	return true
}

// claimsMultiLanguage reads a multi-language field: an array of
// {language, value}. Entries that are not of that shape, have an empty
// value, a language that is not a language code, or a language seen
// before, are skipped.
func claimsMultiLanguage(identity map[string]any, field string) claimsLocalized {
	entries, _ := identity[field].([]any)
	var out claimsLocalized
	for _, e := range entries {
		m, _ := e.(map[string]any)
		lang, _ := m["language"].(string)
		value, _ := m["value"].(string)
		code, ok := claimsLanguage(lang)
		if !ok || value == "" {
			continue
		}
		if _, dup := out.get(code); !dup {
			out = append(out, claimsLocalizedValue{code, value})
		}
	}
	return out
}

// claimsAddress builds the address claim (Core section 5.1.1) in each
// language of the address fields; a postal code alone makes an address
// without language.
func claimsAddress(identity map[string]any) claimsLocalized {
	fields := map[string]claimsLocalized{}
	var langs []string
	for _, f := range claimsAddressFields {
		fields[f] = claimsMultiLanguage(identity, f)
		for _, v := range fields[f] {
			if !slices.Contains(langs, v.lang) {
				langs = append(langs, v.lang)
			}
		}
	}
	postal, _ := identity["postalCode"].(string)
	if len(langs) == 0 {
		if postal == "" {
			return nil
		}
		langs = []string{""}
	}
	in := func(field, lang string) string {
		v, _ := fields[field].get(lang)
		s, _ := v.(string)
		return s
	}
	var out claimsLocalized
	for _, lang := range langs {
		addr := map[string]any{}
		var lines, formatted []string
		for _, f := range claimsAddressFields[:3] {
			if s := in(f, lang); s != "" {
				lines = append(lines, s)
			}
		}
		region := in("region", lang)
		if region == "" {
			region = in("province", lang)
		}
		for _, m := range []struct{ key, value string }{
			{"street_address", strings.Join(lines, ", ")},
			{"locality", in("city", lang)},
			{"region", region},
			{"postal_code", postal},
		} {
			if m.value != "" {
				addr[m.key] = m.value
				formatted = append(formatted, m.value)
			}
		}
		addr["formatted"] = strings.Join(formatted, ", ")
		out = append(out, claimsLocalizedValue{lang, addr})
	}
	return out
}

// claimsLocaleClaim is the locale claim: the first requested language the
// person's multi-language data has, else the first language of the data,
// as a BCP 47 tag; "" if the data has no language.
func claimsLocaleClaim(identity map[string]any, req []claimsLocale) string {
	var langs []string
	for _, f := range []string{"fullName", "givenName", "familyName", "middleName", "gender"} {
		for _, v := range claimsMultiLanguage(identity, f) {
			if !slices.Contains(langs, v.lang) {
				langs = append(langs, v.lang)
			}
		}
	}
	for _, v := range claimsAddress(identity) {
		if v.lang != "" && !slices.Contains(langs, v.lang) {
			langs = append(langs, v.lang)
		}
	}
	if len(langs) == 0 {
		return ""
	}
	for _, r := range req {
		if slices.Contains(langs, r.lang) {
			return claimsBCP47(r.lang)
		}
	}
	return claimsBCP47(langs[0])
}

// claimsLocale is one locale of claims_locales: the tag as the client wrote
// it and its ISO 639-3 language.
type claimsLocale struct {
	tag  string
	lang string
}

// claimsLocaleTag is an ISO 639-3 code or a BCP 47 tag as far as Sanad reads
// it: a 2 or 3 letter language, then subtags.
var claimsLocaleTag = regexp.MustCompile(`^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$`)

// claimsLocales reads claims_locales: known languages, the first tag of
// each language only, at most maxClaimsLocales of them.
func claimsLocales(locales []string) []claimsLocale {
	var out []claimsLocale
	for _, tag := range locales {
		if len(out) == maxClaimsLocales {
			break
		}
		if len(tag) > 35 || !claimsLocaleTag.MatchString(tag) {
			continue
		}
		lang, ok := claimsLanguage(tag)
		if !ok || slices.ContainsFunc(out, func(l claimsLocale) bool { return l.lang == lang }) {
			continue
		}
		out = append(out, claimsLocale{tag: tag, lang: lang})
	}
	return out
}

// claimsLanguages maps ISO 639-1 codes to ISO 639-3 codes (macrolanguage
// codes where ISO 639-3 has one). Tagalog (tl) maps to Filipino (fil), the
// code MOSIP deployments use.
var claimsLanguages = map[string]string{
	"am": "amh", "ar": "ara", "bn": "ben", "de": "deu", "en": "eng", "es": "spa", "fa": "fas",
	"fr": "fra", "ha": "hau", "hi": "hin", "id": "ind", "ig": "ibo", "it": "ita", "ja": "jpn",
	"km": "khm", "ko": "kor", "mg": "mlg", "ms": "msa", "ne": "nep", "om": "orm", "ps": "pus",
	"pt": "por", "ru": "rus", "rw": "kin", "si": "sin", "so": "som", "sw": "swa", "ta": "tam",
	"th": "tha", "ti": "tir", "tl": "fil", "tr": "tur", "ur": "urd", "vi": "vie", "wo": "wol",
	"yo": "yor", "zh": "zho", "zu": "zul",
}

// claimsLanguagesShort is claimsLanguages reversed.
var claimsLanguagesShort = func() map[string]string {
	m := make(map[string]string, len(claimsLanguages))
	for short, long := range claimsLanguages {
		m[long] = short
	}
	return m
}()

// claimsLanguage returns the ISO 639-3 code of a language tag: its primary
// subtag, lower-cased, if it has 3 letters, or the code of a 2 letter
// language Sanad knows.
func claimsLanguage(tag string) (string, bool) {
	primary := strings.ToLower(tag)
	if i := strings.IndexAny(primary, "-_"); i >= 0 {
		primary = primary[:i]
	}
	for i := 0; i < len(primary); i++ {
		if primary[i] < 'a' || primary[i] > 'z' {
			return "", false
		}
	}
	switch len(primary) {
	case 3:
		return primary, true
	case 2:
		lang, ok := claimsLanguages[primary]
		return lang, ok
	}
	return "", false
}

// claimsBCP47 returns the shortest BCP 47 tag of an ISO 639-3 code: its
// ISO 639-1 code if Sanad knows one, else the code itself.
func claimsBCP47(lang string) string {
	if short, ok := claimsLanguagesShort[lang]; ok {
		return short
	}
	return lang
}

// claimLabels are the consent screen's names of SupportedClientClaims, by
// ISO 639-3 language.
var claimLabels = map[string]map[string]string{
	"eng": {
		"name": "Full name", "given_name": "Given name", "family_name": "Family name",
		"middle_name": "Middle name", "preferred_username": "Preferred username", "nickname": "Nickname",
		"gender": "Gender", "birthdate": "Date of birth", "email": "Email address",
		"email_verified": "Email address verified", "phone_number": "Phone number",
		"phone_number_verified": "Phone number verified", "address": "Address", "picture": "Photo",
		"locale": "Preferred language", "individual_id": "ID number",
	},
	"fra": {
		"name": "Nom complet", "given_name": "Prénom", "family_name": "Nom de famille",
		"middle_name": "Deuxième prénom", "preferred_username": "Nom d'utilisateur préféré", "nickname": "Surnom",
		"gender": "Genre", "birthdate": "Date de naissance", "email": "Adresse e-mail",
		"email_verified": "Adresse e-mail vérifiée", "phone_number": "Numéro de téléphone",
		"phone_number_verified": "Numéro de téléphone vérifié", "address": "Adresse", "picture": "Photo",
		"locale": "Langue préférée", "individual_id": "Numéro d'identification",
	},
	"ara": {
		"name": "الاسم الكامل", "given_name": "الاسم الأول", "family_name": "اسم العائلة",
		"middle_name": "الاسم الأوسط", "preferred_username": "اسم المستخدم المفضل", "nickname": "اللقب",
		"gender": "الجنس", "birthdate": "تاريخ الميلاد", "email": "البريد الإلكتروني",
		"email_verified": "تم التحقق من البريد الإلكتروني", "phone_number": "رقم الهاتف",
		"phone_number_verified": "تم التحقق من رقم الهاتف", "address": "العنوان", "picture": "الصورة",
		"locale": "اللغة المفضلة", "individual_id": "رقم الهوية",
	},
}

// ClaimLabel returns the name the consent screen shows for claim in
// language lang (ISO 639-3 such as "fra", or BCP 47 such as "fr"): labels
// exist in eng, fra and ara; other languages fall back to English, unknown
// claims to the claim name itself. A language tag on the claim ("name#fra")
// is ignored.
func ClaimLabel(claim, lang string) string {
	base, _, _ := strings.Cut(claim, "#")
	if code, ok := claimsLanguage(lang); ok {
		if l, ok := claimLabels[code][base]; ok {
			return l
		}
	}
	if l, ok := claimLabels["eng"][base]; ok {
		return l
	}
	return claim
}
