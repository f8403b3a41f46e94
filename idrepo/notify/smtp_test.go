package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeSMTP is an SMTP server speaking just enough of the protocol for
// net/smtp: EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT.
type fakeSMTP struct {
	t    *testing.T
	addr string
	port int

	tls      *tls.Config // certificate for STARTTLS and implicit TLS
	implicit bool        // speak TLS from the start
	startTLS bool        // offer STARTTLS
	auth     bool        // offer and require AUTH PLAIN
	user     string
	pass     string
	rcptBad  string // if set, the reply to every RCPT
	silent   bool   // accept connections but never greet

	mu   sync.Mutex
	mail []receivedMail
}

type receivedMail struct {
	from, to string
	authUser string
	tls      bool
	data     []byte
}

// startFakeSMTP listens on 127.0.0.1 and serves until the test ends.
func startFakeSMTP(t *testing.T, s *fakeSMTP) *fakeSMTP {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if s.implicit {
		ln = tls.NewListener(ln, s.tls)
	}
	s.t = t
	s.addr = ln.Addr().String()
	s.port = ln.Addr().(*net.TCPAddr).Port
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { s.serve(conn) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return s
}

func (s *fakeSMTP) received() []receivedMail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]receivedMail(nil), s.mail...)
}

func (s *fakeSMTP) serve(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if s.silent {
		_, _ = io.Copy(io.Discard, conn) // until the client hangs up
		return
	}
	tp := textproto.NewConn(conn)
	reply := func(format string, args ...any) {
		if err := tp.PrintfLine(format, args...); err != nil {
			s.t.Logf("fake SMTP: %v", err)
		}
	}
	var m receivedMail
	m.tls = s.implicit
	reply("220 fake.test ESMTP")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ext := []string{"fake.test greets " + arg}
			if s.startTLS && !m.tls {
				ext = append(ext, "STARTTLS")
			}
			if s.auth {
				ext = append(ext, "AUTH LOGIN PLAIN")
			}
			for i, e := range ext {
				sep := "-"
				if i == len(ext)-1 {
					sep = " "
				}
				reply("250%s%s", sep, e)
			}
		case "STARTTLS":
			reply("220 2.0.0 ready")
			tc := tls.Server(conn, s.tls)
			if err := tc.Handshake(); err != nil {
				return
			}
			tp, m.tls = textproto.NewConn(tc), true
		case "AUTH":
			mech, ir, _ := strings.Cut(arg, " ")
			creds, err := base64.StdEncoding.DecodeString(ir)
			if !strings.EqualFold(mech, "PLAIN") || err != nil || string(creds) != "\x00"+s.user+"\x00"+s.pass {
				reply("535 5.7.8 authentication failed")
				continue
			}
			m.authUser = s.user
			reply("235 2.7.0 authenticated")
		case "MAIL":
			if s.auth && m.authUser == "" {
				reply("530 5.7.0 authentication required")
				continue
			}
			m.from = arg
			reply("250 2.1.0 ok")
		case "RCPT":
			if s.rcptBad != "" {
				reply("%s", s.rcptBad)
				continue
			}
			m.to = arg
			reply("250 2.1.5 ok")
		case "DATA":
			reply("354 go ahead")
			data, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			m.data = data
			s.mu.Lock()
			s.mail = append(s.mail, m)
			s.mu.Unlock()
			reply("250 2.0.0 queued")
		case "RSET", "NOOP":
			reply("250 ok")
		case "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 5.5.2 unknown command")
		}
	}
}

// testCA makes a self-signed certificate for 127.0.0.1 and writes it to a
// PEM file, for the client to trust.
func testCA(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "fake SMTP"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, path
}

// parsedMail is a received message decoded the way a mail client would.
type parsedMail struct {
	header mail.Header
	date   time.Time
	from   string
	to     string
	subj   string // decoded
	body   string // decoded, LF line ends
	raw    string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received message does not parse: %v\n%s", err, data)
	}
	var p parsedMail
	p.header, p.raw = msg.Header, string(data)
	if p.date, err = msg.Header.Date(); err != nil {
		t.Errorf("Date header: %v", err)
	}
	p.from, p.to = msg.Header.Get("From"), msg.Header.Get("To")
	if p.subj, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Errorf("Subject header: %v", err)
	}
	body, err := io.ReadAll(quotedprintable.NewReader(msg.Body))
	if err != nil {
		t.Errorf("body is not quoted-printable: %v", err)
	}
	p.body = strings.TrimSpace(strings.ReplaceAll(string(body), "\r\n", "\n"))
	return p
}

func TestSMTP(t *testing.T) {
	serverTLS, caFile := testCA(t)
	fixed := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	tests := []struct {
		name     string
		server   *fakeSMTP
		cfg      SMTPConfig
		m        Message
		wantSubj string
		wantTLS  bool
	}{
		{
			name:     "STARTTLS with AUTH, Arabic",
			server:   &fakeSMTP{tls: serverTLS, startTLS: true, auth: true, user: "sanad", pass: "relay-pass"},
			cfg:      SMTPConfig{Host: "127.0.0.1", Username: "sanad", Password: "relay-pass", From: "Sanad <no-reply@id.example.gov>", CAFile: caFile},
			m:        otpMessage(Email, "jane.doe@example.com", "ara"),
			wantSubj: "رمز الدخول إلى سند",
			wantTLS:  true,
		},
		{
			name:     "implicit TLS, French",
			server:   &fakeSMTP{tls: serverTLS, implicit: true},
			cfg:      SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", TLS: SMTPImplicitTLS, CAFile: caFile},
			m:        otpMessage(Email, "jane.doe@example.com", "fra"),
			wantSubj: "Votre code de connexion Sanad",
			wantTLS:  true,
		},
		{
			name:     "plaintext with AUTH to localhost, fallback to English",
			server:   &fakeSMTP{auth: true, user: "sanad", pass: "relay-pass"},
			cfg:      SMTPConfig{Host: "127.0.0.1", Username: "sanad", Password: "relay-pass", From: "Sanad Identité <no-reply@id.example.gov>", TLS: SMTPInsecurePlaintext},
			m:        otpMessage(Email, "jane.doe@example.com", "deu"),
			wantSubj: "Your Sanad sign-in code",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeSMTP(t, tt.server)
			tt.cfg.Port = srv.port
			s, err := NewSMTP(tt.cfg, nil)
			if err != nil {
				t.Fatalf("NewSMTP(%v) error = %v", tt.cfg, err)
			}
			s.Now = func() time.Time { return fixed }
			if err := s.Notify(t.Context(), tt.m); err != nil {
				t.Fatalf("Notify(%v) error = %v", tt.m, err)
			}
			got := srv.received()
			if len(got) != 1 {
				t.Fatalf("server received %d messages, want 1", len(got))
			}
			rm := got[0]
			if rm.from != "FROM:<no-reply@id.example.gov>" || rm.to != "TO:<jane.doe@example.com>" {
				t.Errorf("envelope = MAIL %s, RCPT %s, want FROM:<no-reply@id.example.gov>, TO:<jane.doe@example.com>", rm.from, rm.to)
			}
			if rm.tls != tt.wantTLS {
				t.Errorf("message sent over TLS = %t, want %t", rm.tls, tt.wantTLS)
			}
			if rm.authUser != tt.server.user {
				t.Errorf("authenticated as %q, want %q", rm.authUser, tt.server.user)
			}
			want, err := DefaultTemplates().Render(tt.m)
			if err != nil {
				t.Fatal(err)
			}
			p := parseMail(t, rm.data)
			from, err := mail.ParseAddress(p.from)
			if err != nil || from.String() != s.from.String() {
				t.Errorf("From = %q, want %q", p.from, s.from)
			}
			checks := []struct {
				name      string
				got, want any
			}{
				{"Subject", p.subj, tt.wantSubj},
				{"body", p.body, want.Body},
				{"To", p.to, "<jane.doe@example.com>"},
				{"Date", p.date.Equal(fixed), true},
				{"MIME-Version", p.header.Get("MIME-Version"), "1.0"},
				{"Content-Type", p.header.Get("Content-Type"), "text/plain; charset=utf-8"},
				{"Content-Transfer-Encoding", p.header.Get("Content-Transfer-Encoding"), "quoted-printable"},
				{"Auto-Submitted", p.header.Get("Auto-Submitted"), "auto-generated"},
				{"Message-ID", regexp.MustCompile(`^<[0-9a-f]{32}@id\.example\.gov>$`).MatchString(p.header.Get("Message-ID")), true},
				{"body has the OTP", strings.Contains(p.body, "482913"), true},
			}
			for _, c := range checks {
				if c.got != c.want {
					t.Errorf("received %s = %v, want %v", c.name, c.got, c.want)
				}
			}
			if !isASCII(p.raw) {
				t.Errorf("raw message has non-ASCII bytes, want every header and the body encoded:\n%s", p.raw)
			}
			for line := range strings.SplitSeq(p.raw, "\n") {
				if len(line) > 998 {
					t.Errorf("raw message has a line of %d bytes, want at most 998", len(line))
				}
			}
		})
	}
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func TestSMTPErrors(t *testing.T) {
	serverTLS, caFile := testCA(t)
	_, otherCA := testCA(t)
	m := otpMessage(Email, "jane.doe@example.com", "eng")
	tests := []struct {
		name    string
		server  *fakeSMTP
		cfg     SMTPConfig
		m       Message
		ctx     func(context.Context) context.Context
		want    []string // substrings of the error
		wantErr error
	}{
		{
			name:   "STARTTLS not offered",
			server: &fakeSMTP{},
			cfg:    SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", CAFile: caFile},
			m:      m,
			want:   []string{"server does not offer STARTTLS; refusing to send in clear"},
		},
		{
			name:   "untrusted certificate",
			server: &fakeSMTP{tls: serverTLS, startTLS: true},
			cfg:    SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", CAFile: otherCA},
			m:      m,
			want:   []string{"STARTTLS: tls: failed to verify certificate"},
		},
		{
			name:   "wrong password",
			server: &fakeSMTP{auth: true, user: "sanad", pass: "relay-pass"},
			cfg:    SMTPConfig{Host: "127.0.0.1", Username: "sanad", Password: "guess", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext},
			m:      m,
			want:   []string{"AUTH: server replied 535 5.7.8"},
		},
		{
			name:   "AUTH not offered",
			server: &fakeSMTP{},
			cfg:    SMTPConfig{Host: "127.0.0.1", Username: "sanad", Password: "relay-pass", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext},
			m:      m,
			want:   []string{"server does not offer AUTH PLAIN"},
		},
		{
			name:   "recipient rejected, reply text dropped",
			server: &fakeSMTP{rcptBad: "550 5.1.1 <jane.doe@example.com>: Recipient address rejected"},
			cfg:    SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext},
			m:      m,
			want:   []string{"notify: smtp to j***@example.com: RCPT TO: server replied 550 5.1.1"},
		},
		{
			name:    "timeout",
			server:  &fakeSMTP{silent: true},
			cfg:     SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext, Timeout: 100 * time.Millisecond},
			m:       m,
			wantErr: context.DeadlineExceeded,
		},
		{
			name:   "canceled",
			server: &fakeSMTP{silent: true},
			cfg:    SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext},
			m:      m,
			ctx: func(ctx context.Context) context.Context {
				ctx, cancel := context.WithCancel(ctx)
				time.AfterFunc(100*time.Millisecond, cancel)
				return ctx
			},
			wantErr: context.Canceled,
		},
		{
			name:    "phone channel",
			server:  &fakeSMTP{},
			cfg:     SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext},
			m:       otpMessage(Phone, "+971501234589", "eng"),
			wantErr: ErrUnsupportedChannel,
		},
		{
			name:    "invalid address",
			server:  &fakeSMTP{},
			cfg:     SMTPConfig{Host: "127.0.0.1", From: "no-reply@id.example.gov", TLS: SMTPInsecurePlaintext},
			m:       otpMessage(Email, "jane.doe@example.com>\r\nRCPT TO:<all@example.com", "eng"),
			wantErr: ErrInvalidMessage,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFakeSMTP(t, tt.server)
			tt.cfg.Port = srv.port
			s, err := NewSMTP(tt.cfg, nil)
			if err != nil {
				t.Fatalf("NewSMTP(%v) error = %v", tt.cfg, err)
			}
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(ctx)
			}
			start := time.Now()
			err = s.Notify(ctx, tt.m)
			if err == nil {
				t.Fatalf("Notify(%v) = nil, want an error", tt.m)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("Notify(%v) took %s, want it to give up sooner", tt.m, elapsed)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("Notify(%v) = %v, want %v", tt.m, err, tt.wantErr)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Notify(%v) = %q, want it to contain %q", tt.m, err, w)
				}
			}
			checkNoLeak(t, "Notify() error", err.Error(), append(secretsOf(tt.m), tt.cfg.Password)...)
			if got := srv.received(); len(got) != 0 {
				t.Errorf("server received %d messages, want 0", len(got))
			}
		})
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	ok := SMTPConfig{Host: "smtp.example.gov", Username: "sanad", Password: "pw", From: "Sanad <no-reply@id.example.gov>"}
	tests := []struct {
		name   string
		change func(*SMTPConfig)
		want   []string
	}{
		{"valid", func(*SMTPConfig) {}, nil},
		{"valid implicit TLS", func(c *SMTPConfig) { c.TLS, c.Port = SMTPImplicitTLS, 465 }, nil},
		{"valid IPv6 host", func(c *SMTPConfig) { c.Host = "::1" }, nil},
		{"valid plaintext to localhost with AUTH", func(c *SMTPConfig) { c.Host, c.TLS = "localhost", SMTPInsecurePlaintext }, nil},
		{"no host", func(c *SMTPConfig) { c.Host = "" }, []string{"smtp.host: required"}},
		{"host with port", func(c *SMTPConfig) { c.Host = "smtp.example.gov:587" }, []string{"smtp.host: want a host name or IP address without scheme or port"}},
		{"bad port", func(c *SMTPConfig) { c.Port = 70000 }, []string{"smtp.port: must be between 1 and 65535, got 70000"}},
		{"no from", func(c *SMTPConfig) { c.From = "" }, []string{"smtp.from: required"}},
		{"bad from", func(c *SMTPConfig) { c.From = "Sanad" }, []string{"smtp.from: not an e-mail address"}},
		{"unknown TLS mode", func(c *SMTPConfig) { c.TLS = "none" }, []string{`smtp.tls: must be starttls, implicit or insecure-plaintext, got "none"`}},
		{"credentials in clear to a remote host", func(c *SMTPConfig) { c.TLS = SMTPInsecurePlaintext }, []string{"smtp.username: credentials are sent only over TLS or to localhost"}},
		{"CA file without TLS", func(c *SMTPConfig) { c.Username, c.Password, c.TLS, c.CAFile = "", "", SMTPInsecurePlaintext, "ca.pem" }, []string{"smtp.ca_file: set, but tls is insecure-plaintext"}},
		{"password without username", func(c *SMTPConfig) { c.Username = "" }, []string{"smtp.password: set without username"}},
		{"username without password", func(c *SMTPConfig) { c.Password = "" }, []string{"smtp.password: required with username"}},
		{"negative timeout", func(c *SMTPConfig) { c.Timeout = -time.Second }, []string{"smtp.timeout: must not be negative"}},
		{"every problem at once", func(c *SMTPConfig) { c.Host, c.From, c.TLS = "", "", "ssl" }, []string{"smtp.host:", "smtp.from:", "smtp.tls:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.change(&c)
			err := c.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Errorf("Validate(%v) = %v, want nil", c, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate(%v) = nil, want %q", c, tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate(%v) = %q, want it to contain %q", c, err, w)
				}
			}
			if _, nerr := NewSMTP(c, nil); nerr == nil {
				t.Errorf("NewSMTP(%v) = nil error, want the Validate error", c)
			}
		})
	}
	if _, err := NewSMTP(SMTPConfig{Host: "smtp.example.gov", From: "a@b.example", CAFile: filepath.Join(t.TempDir(), "missing.pem")}, nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("NewSMTP(missing CA file) = %v, want os.ErrNotExist", err)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("not PEM"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := NewSMTP(SMTPConfig{Host: "smtp.example.gov", From: "a@b.example", CAFile: empty}, nil); err == nil || !strings.Contains(err.Error(), "holds no PEM certificate") {
		t.Errorf("NewSMTP(CA file without PEM) = %v, want holds no PEM certificate", err)
	}
}

func TestSMTPPrintsRedacted(t *testing.T) {
	cfg := SMTPConfig{Host: "smtp.example.gov", Username: "sanad", Password: "hunter2-relay-password", From: "no-reply@id.example.gov"}
	s, err := NewSMTP(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("smtp", "config", cfg, "notifier", s)
	outputs := map[string]string{
		"%v config":              fmt.Sprintf("%v", cfg),
		"%+v config":             fmt.Sprintf("%+v", cfg),
		"%#v config":             fmt.Sprintf("%#v", cfg),
		"%+v notifier":           fmt.Sprintf("%+v", s),
		"%v of a struct with it": fmt.Sprintf("%+v", struct{ SMTP SMTPConfig }{cfg}),
		"slog":                   logs.String(),
	}
	for how, out := range outputs {
		checkNoLeak(t, how, out, cfg.Password)
		if !strings.Contains(out, "smtp.example.gov") || !strings.Contains(out, "[redacted]") {
			t.Errorf("%s = %q, want the host and a redacted password", how, out)
		}
	}
}
