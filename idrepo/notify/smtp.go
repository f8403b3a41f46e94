package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SMTP TLS modes.
const (
	// SMTPStartTLS connects in plain text and upgrades with STARTTLS before
	// anything else; a server that does not offer STARTTLS is an error.
	// Usually port 587.
	SMTPStartTLS = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte. Usually port 465.
	SMTPImplicitTLS = "implicit"
	// SMTPInsecurePlaintext never encrypts: OTPs cross the network in clear.
	// Only for a relay on the same host or a test server.
	SMTPInsecurePlaintext = "insecure-plaintext"
)

// DefaultSMTPTimeout bounds one delivery when SMTPConfig.Timeout is 0.
const DefaultSMTPTimeout = 30 * time.Second

// SMTPConfig configures the SMTP notifier.
type SMTPConfig struct {
	// Host is the relay's host name, also checked against its certificate.
	Host string `yaml:"host"`
	// Port defaults to 587 for starttls, 465 for implicit and 25 for
	// insecure-plaintext.
	Port int `yaml:"port"`
	// Username and Password, if set, authenticate with AUTH PLAIN, only over
	// TLS or to a relay on localhost.
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// From is the sender, with or without a display name:
	// "Sanad <no-reply@id.example.gov>".
	From string `yaml:"from"`
	// TLS is SMTPStartTLS (the default when empty), SMTPImplicitTLS or
	// SMTPInsecurePlaintext.
	TLS string `yaml:"tls"`
	// CAFile, if set, is a PEM file of the certificate authorities trusted
	// for the relay instead of the system's.
	CAFile string `yaml:"ca_file"`
	// Timeout bounds one delivery, from dialling to QUIT; 0 means
	// DefaultSMTPTimeout.
	Timeout time.Duration `yaml:"timeout"`
}

// Validate reports every problem in c at once.
func (c SMTPConfig) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("smtp.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.Host == "" {
		bad("host", "required")
	} else if net.ParseIP(c.Host) == nil && strings.ContainsAny(c.Host, ":/ @") {
		bad("host", "want a host name or IP address without scheme or port, got %q", c.Host)
	}
	if c.Port < 0 || c.Port > 65535 {
		bad("port", "must be between 1 and 65535, got %d", c.Port)
	}
	if c.From == "" {
		bad("from", "required")
	} else if _, err := mail.ParseAddress(c.From); err != nil {
		bad("from", "not an e-mail address: %v", err)
	}
	switch c.TLS {
	case "", SMTPStartTLS, SMTPImplicitTLS:
	case SMTPInsecurePlaintext:
		if c.Username != "" && !plainAuthLocal(c.Host) {
			bad("username", "credentials are sent only over TLS or to localhost; tls is %s and host is %s", c.TLS, c.Host)
		}
		if c.CAFile != "" {
			bad("ca_file", "set, but tls is %s", c.TLS)
		}
	default:
		bad("tls", "must be %s, %s or %s, got %q", SMTPStartTLS, SMTPImplicitTLS, SMTPInsecurePlaintext, c.TLS)
	}
	if c.Password != "" && c.Username == "" {
		bad("password", "set without username")
	}
	if c.Username != "" && c.Password == "" {
		bad("password", "required with username")
	}
	if c.Timeout < 0 {
		bad("timeout", "must not be negative, got %s", c.Timeout)
	}
	return errors.Join(errs...)
}

// String prints c with the password redacted.
func (c SMTPConfig) String() string {
	return fmt.Sprintf("SMTPConfig{Host: %s, Port: %d, Username: %s, Password: %s, From: %s, TLS: %s, CAFile: %s, Timeout: %s}",
		c.Host, c.Port, c.Username, redact(c.Password), c.From, c.TLS, c.CAFile, c.Timeout)
}

// GoString prints c with the password redacted in %#v.
func (c SMTPConfig) GoString() string { return c.String() }

// LogValue logs c with the password redacted.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("username", c.Username),
		slog.String("password", redact(c.Password)),
		slog.String("from", c.From),
		slog.String("tls", c.TLS),
		slog.String("ca_file", c.CAFile),
		slog.Duration("timeout", c.Timeout),
	)
}

// redact hides a secret, showing only whether it is set.
func redact(s string) string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// SMTP sends e-mail messages through an SMTP relay, one connection per
// message.
type SMTP struct {
	// Now is the clock for the Date header; nil means time.Now.
	Now func() time.Time

	cfg  SMTPConfig
	tmpl *Templates
	from *mail.Address
	tls  *tls.Config
}

var _ Notifier = (*SMTP)(nil)

// NewSMTP validates cfg and returns an SMTP notifier rendering with tmpl, or
// with DefaultTemplates if tmpl is nil. It does not connect.
func NewSMTP(cfg SMTPConfig, tmpl *Templates) (*SMTP, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if tmpl == nil {
		tmpl = DefaultTemplates()
	}
	if cfg.TLS == "" {
		cfg.TLS = SMTPStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = map[string]int{SMTPStartTLS: 587, SMTPImplicitTLS: 465, SMTPInsecurePlaintext: 25}[cfg.TLS]
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultSMTPTimeout
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	s := &SMTP{cfg: cfg, tmpl: tmpl, from: from}
	if cfg.TLS != SMTPInsecurePlaintext {
		s.tls = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("smtp.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("smtp.ca_file: %s holds no PEM certificate", cfg.CAFile)
			}
			s.tls.RootCAs = pool
		}
	}
	return s, nil
}

// String describes s with the password redacted.
func (s *SMTP) String() string { return "notify.SMTP{" + s.cfg.String() + "}" }

// LogValue logs s with the password redacted.
func (s *SMTP) LogValue() slog.Value { return s.cfg.LogValue() }

// Notify renders m and sends it by e-mail. It accepts only the Email channel.
// An error names the SMTP stage and the server's reply code, never the
// recipient in clear or the server's reply text, which often repeats the
// address.
func (s *SMTP) Notify(ctx context.Context, m Message) error {
	if m.Channel != Email {
		return fmt.Errorf("%w: smtp sends %q, not %q", ErrUnsupportedChannel, Email, m.Channel)
	}
	if err := m.Validate(); err != nil {
		return err
	}
	r, err := s.tmpl.Render(m)
	if err != nil {
		return err
	}
	msg, err := s.compose(m.To, r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.send(ctx, m.To, msg); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("notify: smtp to %s: %w", MaskEmail(m.To), ctx.Err())
		}
		return fmt.Errorf("notify: smtp to %s: %w", MaskEmail(m.To), err)
	}
	return nil
}

// send runs one SMTP session.
func (s *SMTP) send(ctx context.Context, to string, msg []byte) error {
	addr := net.JoinHostPort(s.cfg.Host, strconv.Itoa(s.cfg.Port))
	var (
		conn net.Conn
		err  error
	)
	if s.cfg.TLS == SMTPImplicitTLS {
		conn, err = (&tls.Dialer{Config: s.tls}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	// net/smtp knows no context: when ctx ends (Notify bounds it with the
	// timeout), a deadline in the past unblocks whatever I/O is under way.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return stageError("greeting", err)
	}
	defer c.Close()
	if err := c.Hello(helloName(s.from.Address)); err != nil {
		return stageError("EHLO", err)
	}
	if s.cfg.TLS == SMTPStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("server does not offer STARTTLS; refusing to send in clear")
		}
		if err := c.StartTLS(s.tls); err != nil {
			return stageError("STARTTLS", err)
		}
	}
	if s.cfg.Username != "" {
		ok, mechs := c.Extension("AUTH")
		if !ok || !slices.ContainsFunc(strings.Fields(mechs), func(m string) bool { return strings.EqualFold(m, "PLAIN") }) {
			return errors.New("server does not offer AUTH PLAIN")
		}
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return stageError("AUTH", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return stageError("MAIL FROM", err)
	}
	if err := c.Rcpt(to); err != nil {
		return stageError("RCPT TO", err)
	}
	w, err := c.Data()
	if err != nil {
		return stageError("DATA", err)
	}
	if _, err := w.Write(msg); err != nil {
		return stageError("DATA", err)
	}
	if err := w.Close(); err != nil {
		return stageError("DATA", err)
	}
	if err := c.Quit(); err != nil {
		return stageError("QUIT", err)
	}
	return nil
}

var enhancedCodeRE = regexp.MustCompile(`^[245]\.[0-9]{1,3}\.[0-9]{1,3}\b`)

// stageError describes a failed SMTP stage. A server reply keeps its code
// and enhanced status code (RFC 3463) but drops its text, which may repeat
// the recipient's address.
func stageError(stage string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		if ec := enhancedCodeRE.FindString(te.Msg); ec != "" {
			return fmt.Errorf("%s: server replied %d %s", stage, te.Code, ec)
		}
		return fmt.Errorf("%s: server replied %d", stage, te.Code)
	}
	return fmt.Errorf("%s: %w", stage, err)
}

// helloName is the name given in EHLO: the sender's domain, which relays
// accept more readily than net/smtp's default "localhost".
func helloName(from string) string {
	_, domain, ok := strings.Cut(from, "@")
	if !ok || domain == "" || strings.ContainsAny(domain, " \r\n[]") {
		return "localhost"
	}
	return domain
}

// compose builds an RFC 5322 message: UTF-8 text, quoted-printable, with the
// subject as RFC 2047 encoded words when it is not ASCII.
func (s *SMTP) compose(to string, r Rendered) ([]byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	_, domain, _ := strings.Cut(s.from.Address, "@")
	var b bytes.Buffer
	header := func(k, v string) { b.WriteString(k + ": " + v + "\r\n") }
	header("Date", now().Format(time.RFC1123Z))
	header("From", s.from.String())
	header("To", (&mail.Address{Address: to}).String())
	header("Subject", mime.QEncoding.Encode("utf-8", r.Subject))
	header("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	header("Auto-Submitted", "auto-generated")
	header("MIME-Version", "1.0")
	header("Content-Type", "text/plain; charset=utf-8")
	header("Content-Transfer-Encoding", "quoted-printable")
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	// The writer turns each line break into CRLF.
	if _, err := qp.Write([]byte(r.Body + "\n")); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// plainAuthLocal reports whether host is one of the names net/smtp lets
// AUTH PLAIN use without TLS.
func plainAuthLocal(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}
