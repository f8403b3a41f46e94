// Package notify delivers one-time codes and other short notices to
// residents: sign-in OTPs from the OpenID provider, transaction codes
// (tx_code) from the credential issuer, and whatever purpose comes next.
//
// A caller builds a [Message] (channel, destination, purpose, language and
// template data such as the OTP) and hands it to a [Notifier]. The message
// text comes from [Templates], text/template files with a subject and a body
// per purpose and language, so wording and translations are data that
// operators can replace without a rebuild. Three transports implement
// Notifier:
//
//   - [FileOutbox] appends each message, OTP included, to a JSON-lines file.
//     It exists for development and demos only: it writes codes in clear.
//   - [SMTP] sends e-mail through a relay with net/smtp.
//   - [Webhook] POSTs the rendered message to an SMS gateway.
//
// [Router] sends e-mail messages to one notifier and phone messages to
// another.
//
// Nothing here logs or returns in an error the OTP, the destination or the
// message text. Where a destination must appear (logs, the eSignet UI),
// use [MaskEmail] or [MaskPhone].
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strings"
)

// Notifier delivers a message to a resident.
type Notifier interface {
	Notify(ctx context.Context, m Message) error
}

// Channel says how a message reaches the resident.
type Channel string

// Channels.
const (
	Email Channel = "email"
	Phone Channel = "phone"
)

// Purposes with default templates. Purposes are open-ended: any purpose with
// templates (see [Templates]) can be sent.
const (
	PurposeLoginOTP = "login-otp" // OpenID provider: sign-in code
	PurposeTxCode   = "tx-code"   // credential issuer: transaction code of a pre-authorized offer
)

// Data keys used by the default templates. The one-time value, whatever the
// purpose calls it (OTP, tx_code), goes under DataOTP, so that [FileOutbox]
// records it in its otp field.
const (
	DataOTP              = "otp"              // required by the default templates
	DataName             = "name"             // optional: the resident's name, for the greeting
	DataExpiresInMinutes = "expiresInMinutes" // optional: how long the code is valid
)

// DefaultLanguage is the language used when a message has none, or when its
// purpose has no template in the message's language. Every purpose must have
// a template in it.
const DefaultLanguage = "eng"

// Errors, to match with errors.Is.
var (
	// ErrInvalidMessage: the message is missing a field or has a malformed one.
	ErrInvalidMessage = errors.New("notify: invalid message")
	// ErrUnknownPurpose: there are no templates for the message's purpose.
	ErrUnknownPurpose = errors.New("notify: no templates for purpose")
	// ErrUnsupportedChannel: the notifier cannot deliver on the message's channel.
	ErrUnsupportedChannel = errors.New("notify: unsupported channel")
)

// Message is one notice to one resident.
type Message struct {
	// Channel is Email or Phone.
	Channel Channel
	// To is an e-mail address (addr-spec, no display name) or a phone number
	// (digits, optionally starting with +).
	To string
	// Purpose selects the templates, for example PurposeLoginOTP.
	Purpose string
	// Language is an ISO 639-3 code (eng, fra, ara). Empty means DefaultLanguage.
	Language string
	// Data fills the templates, for example DataOTP.
	Data map[string]string
}

var (
	purposeRE  = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)
	languageRE = regexp.MustCompile(`^[a-z]{3}$`)
	phoneRE    = regexp.MustCompile(`^\+?[0-9]{4,15}$`)
)

// Validate reports every problem with m at once. Errors match
// ErrInvalidMessage and never contain the destination or the data.
func (m Message) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: %s", ErrInvalidMessage, fmt.Sprintf(format, args...)))
	}
	switch m.Channel {
	case Email:
		if a, err := mail.ParseAddress(m.To); err != nil || a.Name != "" || a.Address != m.To {
			bad("to: not a bare e-mail address (%s)", MaskEmail(m.To))
		}
	case Phone:
		if !phoneRE.MatchString(m.To) {
			bad("to: not a phone number of 4 to 15 digits with an optional + (%s)", MaskPhone(m.To))
		}
	default:
		bad("channel: must be %q or %q, got %q", Email, Phone, m.Channel)
	}
	if !purposeRE.MatchString(m.Purpose) {
		bad("purpose: must be lower-case letters, digits and hyphens, got %q", m.Purpose)
	}
	if m.Language != "" && !languageRE.MatchString(strings.ToLower(m.Language)) {
		bad("language: must be an ISO 639-3 code such as eng, got %q", m.Language)
	}
	return errors.Join(errs...)
}

// String describes m without the destination in clear or the data values.
func (m Message) String() string {
	return fmt.Sprintf("notify.Message{Channel: %s, To: %s, Purpose: %s, Language: %s, Data keys: %v}",
		m.Channel, m.maskedTo(), m.Purpose, m.Language, m.dataKeys())
}

// GoString redacts m in %#v like String.
func (m Message) GoString() string { return m.String() }

// LogValue logs m without the destination in clear or the data values.
func (m Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("channel", string(m.Channel)),
		slog.String("to", m.maskedTo()),
		slog.String("purpose", m.Purpose),
		slog.String("language", m.Language),
		slog.Any("data_keys", m.dataKeys()),
	)
}

func (m Message) maskedTo() string {
	if m.Channel == Email {
		return MaskEmail(m.To)
	}
	return MaskPhone(m.To)
}

func (m Message) dataKeys() []string {
	return slices.Sorted(maps.Keys(m.Data))
}

// Router sends each message to the notifier of its channel.
type Router struct {
	email, phone Notifier
}

var _ Notifier = (*Router)(nil)

// NewRouter returns a Router sending e-mail messages to email and phone
// messages to phone. Either may be nil: messages on that channel then fail
// with ErrUnsupportedChannel.
func NewRouter(email, phone Notifier) *Router {
	return &Router{email: email, phone: phone}
}

// Notify hands m to the notifier of m.Channel.
func (r *Router) Notify(ctx context.Context, m Message) error {
	var n Notifier
	switch m.Channel {
	case Email:
		n = r.email
	case Phone:
		n = r.phone
	}
	if n == nil {
		return fmt.Errorf("%w: no notifier configured for channel %q", ErrUnsupportedChannel, m.Channel)
	}
	return n.Notify(ctx, m)
}
