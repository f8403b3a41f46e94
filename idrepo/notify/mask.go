package notify

import (
	"strings"
	"unicode/utf8"
)

// hidden replaces the masked part of a destination. It has a fixed width so
// a masked value does not tell the length of what it hides.
const hidden = "*****"

// MaskPhone hides the middle of a phone number for logs and for screens that
// confirm where a code went: "+971501234589" becomes "+97*****89". Numbers
// shorter than 8 characters are hidden entirely.
func MaskPhone(phone string) string {
	if phone == "" {
		return ""
	}
	if !utf8.ValidString(phone) {
		return hidden
	}
	r := []rune(phone)
	if len(r) < 8 {
		return hidden
	}
	return string(r[:3]) + hidden + string(r[len(r)-2:])
}

// MaskEmail hides the local part of an e-mail address but its first
// character: "jane.doe@example.com" becomes "j***@example.com". The domain
// stays readable so the resident can tell which mailbox to check. A value
// without "@" is hidden entirely.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	i := strings.LastIndexByte(email, '@')
	if i <= 0 || !utf8.ValidString(email) {
		return hidden
	}
	first, _ := utf8.DecodeRuneInString(email)
	return string(first) + "***" + email[i:]
}
