package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// secretsOf lists what must never appear in logs or errors about m: the
// destination, the code and the name (the expiry is no secret, and too short
// to search for).
func secretsOf(m Message) []string {
	return []string{m.To, m.Data[DataOTP], m.Data[DataName]}
}

// checkNoLeak fails if text shows any of secrets.
func checkNoLeak(t *testing.T, what, text string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s = %q, shows %q", what, text, s)
		}
	}
}

func otpMessage(ch Channel, to, lang string) Message {
	return Message{
		Channel:  ch,
		To:       to,
		Purpose:  PurposeLoginOTP,
		Language: lang,
		Data:     map[string]string{DataOTP: "482913", DataName: "Jane Doe", DataExpiresInMinutes: "10"},
	}
}

func TestMessageValidate(t *testing.T) {
	ok := otpMessage(Email, "jane@example.com", "eng")
	tests := []struct {
		name   string
		change func(*Message)
		want   []string // substrings of the error; none means valid
	}{
		{"valid email", func(*Message) {}, nil},
		{"valid phone", func(m *Message) { m.Channel, m.To = Phone, "+971501234589" }, nil},
		{"empty language", func(m *Message) { m.Language = "" }, nil},
		{"upper-case language", func(m *Message) { m.Language = "ARA" }, nil},
		{"open-ended purpose", func(m *Message) { m.Purpose = "tx-code" }, nil},
		{"unknown channel", func(m *Message) { m.Channel = "fax" }, []string{`channel: must be "email" or "phone", got "fax"`}},
		{"display name", func(m *Message) { m.To = "Jane <jane@example.com>" }, []string{"to: not a bare e-mail address"}},
		{"header injection", func(m *Message) { m.To = "jane@example.com\r\nBcc: x@evil.test" }, []string{"to: not a bare e-mail address"}},
		{"phone with letters", func(m *Message) { m.Channel, m.To = Phone, "+97150CALLME" }, []string{"to: not a phone number"}},
		{"phone too long", func(m *Message) { m.Channel, m.To = Phone, "+1234567890123456" }, []string{"to: not a phone number"}},
		{"email on phone channel", func(m *Message) { m.Channel = Phone }, []string{"to: not a phone number"}},
		{"bad purpose", func(m *Message) { m.Purpose = "../etc" }, []string{"purpose: must be lower-case"}},
		{"ISO 639-1 language", func(m *Message) { m.Language = "en" }, []string{`language: must be an ISO 639-3 code such as eng, got "en"`}},
		{"every problem at once", func(m *Message) { m.Channel, m.Purpose, m.Language = "fax", "", "english" }, []string{"channel:", "purpose:", "language:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.change(&m)
			err := m.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate(%v) = %v, want nil", m, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidMessage) {
				t.Fatalf("Validate(%v) = %v, want ErrInvalidMessage", m, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%v) = %q, want it to contain %q", m, err, w)
				}
			}
			checkNoLeak(t, "Validate() error", err.Error(), m.To)
		})
	}
}

func TestMessagePrintsRedacted(t *testing.T) {
	for _, m := range []Message{
		otpMessage(Email, "jane.doe@example.com", "eng"),
		otpMessage(Phone, "+971501234589", "ara"),
	} {
		t.Run(string(m.Channel), func(t *testing.T) {
			var logs bytes.Buffer
			slog.New(slog.NewJSONHandler(&logs, nil)).Info("sent", "message", m)
			slog.New(slog.NewTextHandler(&logs, nil)).Info("sent", "message", m)
			outputs := map[string]string{
				"%v":                        fmt.Sprintf("%v", m),
				"%+v":                       fmt.Sprintf("%+v", m),
				"%#v":                       fmt.Sprintf("%#v", m),
				"%v of a struct holding it": fmt.Sprintf("%v", struct{ M Message }{m}),
				"slog":                      logs.String(),
			}
			for how, out := range outputs {
				checkNoLeak(t, how, out, secretsOf(m)...)
				if !strings.Contains(out, m.maskedTo()) {
					t.Errorf("%s = %q, want the masked destination %q", how, out, m.maskedTo())
				}
			}
		})
	}
}

// recorder is a Notifier that remembers what it was given.
type recorder struct {
	got []Message
	err error
}

func (r *recorder) Notify(_ context.Context, m Message) error {
	r.got = append(r.got, m)
	return r.err
}

func TestRouter(t *testing.T) {
	failing := errors.New("gateway down")
	tests := []struct {
		name                 string
		email, phone         *recorder
		channel              Channel
		wantEmail, wantPhone int
		wantErr              error
	}{
		{"email to email", &recorder{}, &recorder{}, Email, 1, 0, nil},
		{"phone to phone", &recorder{}, &recorder{}, Phone, 0, 1, nil},
		{"error passed through", &recorder{}, &recorder{err: failing}, Phone, 0, 1, failing},
		{"no phone notifier", &recorder{}, nil, Phone, 0, 0, ErrUnsupportedChannel},
		{"no email notifier", nil, &recorder{}, Email, 0, 0, ErrUnsupportedChannel},
		{"unknown channel", &recorder{}, &recorder{}, "fax", 0, 0, ErrUnsupportedChannel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var email, phone Notifier
			if tt.email != nil {
				email = tt.email
			}
			if tt.phone != nil {
				phone = tt.phone
			}
			m := otpMessage(tt.channel, "x", "eng")
			err := NewRouter(email, phone).Notify(t.Context(), m)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Router.Notify(%s) = %v, want %v", tt.channel, err, tt.wantErr)
			}
			count := func(r *recorder) int {
				if r == nil {
					return 0
				}
				return len(r.got)
			}
			if got := count(tt.email); got != tt.wantEmail {
				t.Errorf("Router.Notify(%s) sent %d to the email notifier, want %d", tt.channel, got, tt.wantEmail)
			}
			if got := count(tt.phone); got != tt.wantPhone {
				t.Errorf("Router.Notify(%s) sent %d to the phone notifier, want %d", tt.channel, got, tt.wantPhone)
			}
		})
	}
}
