// Package identity reads identity data as the ID repository writes it, for
// the components that turn it into claims (the OpenID provider's userinfo,
// the credential issuer's templates): dates of birth as YYYY/MM/DD and
// photos as {format, data}. It has no dependencies, so every consumer can
// share one reading of the data.
package identity

import (
	"strings"
	"time"
)

// PhotoTypes maps the photo formats that may be released to their media
// types.
var PhotoTypes = map[string]string{"jpeg": "image/jpeg", "jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}

// PhotoDataURI returns a photo ({format, data}, data in padded standard
// base64) as a data: URI, or "" if v is not a photo of a format in
// PhotoTypes.
func PhotoDataURI(v any) string {
	p, _ := v.(map[string]any)
	format, _ := p["format"].(string)
	data, _ := p["data"].(string)
	typ, ok := PhotoTypes[strings.ToLower(format)]
	if !ok || !isBase64(data) {
		return ""
	}
	return "data:" + typ + ";base64," + data
}

// isBase64 reports whether s is non-empty, padded standard base64. It checks
// the alphabet rather than decoding, which would accept line breaks that
// have no place in a data: URI.
func isBase64(s string) bool {
	if s == "" || len(s)%4 != 0 {
		return false
	}
	// At most two '=' of padding; with len(s)%4 == 0 that is well formed.
	body := strings.TrimSuffix(strings.TrimSuffix(s, "="), "=")
	for i := 0; i < len(body); i++ {
		c := body[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// FullDate converts a date as identity data writes it (YYYY/MM/DD, or
// YYYY-MM-DD, one separator throughout) to a full-date (YYYY-MM-DD); a year
// alone (YYYY) stays as it is. "" if s is not a valid date.
func FullDate(s string) string {
	switch {
	case len(s) == 4:
		if _, err := time.Parse("2006", s); err == nil {
			return s
		}
		return ""
	case len(s) != 10 || s[4] != s[7] || (s[4] != '/' && s[4] != '-'):
		return ""
	}
	d := s[:4] + "-" + s[5:7] + "-" + s[8:]
	if _, err := time.Parse(time.DateOnly, d); err != nil {
		return ""
	}
	return d
}
