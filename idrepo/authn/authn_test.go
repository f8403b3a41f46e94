package authn

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sanad-id/sanad/idrepo/notify"
)

// TestLookAlike checks that the caller cannot tell a wrong factor from an
// unknown or inactive person, or from a person without the factor: same
// error value, and the same calls to the stores and the MAC.
func TestLookAlike(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(c *Config) { c.Policy.MaxFailures = 1000 })
		ctx := t.Context()
		identity := func() map[string]any {
			return map[string]any{"fullName": []any{map[string]any{"language": "eng", "value": "Jane Doe"}}, "dateOfBirth": "1990/05/17"}
		}
		r := e.addResident(t, identity())
		noPIN := e.addResident(t, identity())
		inactive := e.addResident(t, identity())
		inactive.Status = "DEACTIVATED"
		e.dir.add(inactive.Person, inactive.UIN)
		for _, p := range []resident{r, inactive} {
			if err := e.a.SetPIN(ctx, p.ID, "271828"); err != nil {
				t.Fatal(err)
			}
			if err := e.a.SetPassword(ctx, p.ID, "correct horse"); err != nil {
				t.Fatal(err)
			}
		}
		goodKBI := kbi(t, map[string]any{"fullName": "jane doe", "dateOfBirth": "1990/05/17"})
		badKBI := kbi(t, map[string]any{"fullName": "john doe", "dateOfBirth": "1990/05/17"})

		type row struct {
			name    string
			loginID string
			cs      []Challenge
		}
		groups := map[string][]row{
			"PIN": {
				{"wrong PIN", r.UIN, []Challenge{pin("271829")}},
				{"unknown UIN", "5899999999", []Challenge{pin("271828")}},
				{"unknown e-mail", "nobody@example.org", []Challenge{pin("271828")}},
				{"inactive person, right PIN", inactive.UIN, []Challenge{pin("271828")}},
				{"no PIN enrolled", noPIN.UIN, []Challenge{pin("271828")}},
			},
			"password+KBI": {
				{"wrong password", r.UIN, []Challenge{pwd("wrong horse"), goodKBI}},
				{"wrong KBI", r.UIN, []Challenge{pwd("correct horse"), badKBI}},
				{"unknown person", "5899999998", []Challenge{pwd("correct horse"), goodKBI}},
				{"inactive person, right answers", inactive.UIN, []Challenge{pwd("correct horse"), goodKBI}},
			},
			"OTP": {
				{"wrong OTP", r.UIN, []Challenge{otp("000000")}},
				{"unknown person", "5899999997", []Challenge{otp("000000")}},
				{"inactive person", inactive.UIN, []Challenge{otp("000000")}},
			},
		}
		for _, group := range slices.Sorted(maps.Keys(groups)) {
			t.Run(group, func(t *testing.T) {
				var firstErr error
				var firstWork map[string]int64
				var firstMACs int64
				for i, tt := range groups[group] {
					tx := fmt.Sprintf("%s-%d", group, i)
					if tt.cs[0].Factor == FactorOTP {
						// Every row gets a send first, real or not.
						if _, err := e.a.SendOTP(ctx, SendOTPRequest{TransactionID: tx, LoginID: tt.loginID, Channels: []string{"email"}}); err != nil {
							t.Fatalf("%s: SendOTP = %v", tt.name, err)
						}
					}
					e.counter.reset()
					macs := e.mac.calls.Load()
					_, err := e.auth(ctx, tx, tt.loginID, tt.cs...)
					work, macs := e.counter.snapshot(), e.mac.calls.Load()-macs
					wantCode(t, tt.name, err, ErrAuthFailed)
					if errors.Unwrap(err) != nil {
						t.Errorf("%s: error has a cause %v; auth_failed must carry none", tt.name, errors.Unwrap(err))
					}
					if i == 0 {
						firstErr, firstWork, firstMACs = err, work, macs
						continue
					}
					if !reflect.DeepEqual(err, firstErr) || err.Error() != firstErr.Error() {
						t.Errorf("%s: error %#v differs from %s's %#v", tt.name, err, groups[group][0].name, firstErr)
					}
					if !maps.Equal(work, firstWork) || macs != firstMACs {
						t.Errorf("%s: work %v + %d MACs differs from %s's %v + %d MACs",
							tt.name, work, macs, groups[group][0].name, firstWork, firstMACs)
					}
				}
			})
		}
	})
}

// TestLookAlikeTiming compares the time of a wrong PIN with an unknown
// person's, with Argon2id costs high enough to dominate (1 MiB, t=2).
func TestLookAlikeTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("timing test")
	}
	e := newEnv(t, backends[0], func(c *Config) {
		c.Policy.Argon2 = Argon2Params{Memory: 1024, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
		c.Policy.MaxAttempts, c.Policy.MaxFailures = 1000, 1000
	})
	r := e.addResident(t, nil)
	ctx := t.Context()
	if err := e.a.SetPIN(ctx, r.ID, "314159"); err != nil {
		t.Fatal(err)
	}
	const rounds = 11
	var known, unknown []time.Duration
	for i := range rounds {
		for _, loginID := range []string{r.UIN, "5800000000"} {
			start := time.Now()
			_, err := e.auth(ctx, fmt.Sprintf("tx-%d", i), loginID, pin("000000"))
			d := time.Since(start)
			wantCode(t, "Authenticate", err, ErrAuthFailed)
			if loginID == r.UIN {
				known = append(known, d)
			} else {
				unknown = append(unknown, d)
			}
		}
	}
	median := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	mk, mu := median(known), median(unknown)
	t.Logf("median: wrong PIN %v, unknown person %v", mk, mu)
	if ratio := float64(mk) / float64(mu); ratio < 0.5 || ratio > 2 {
		t.Errorf("wrong PIN takes %v, unknown person %v: want about the same", mk, mu)
	}
}

func TestSendOTPUnknownPerson(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(c *Config) { c.Policy.Decoy.PhonePrefix = "+971" })
		r := e.addResident(t, nil)
		ctx := t.Context()
		// A real send first, so the decoy has a delivery time to imitate.
		e.sendOTP(t, "real", r)
		lines := len(e.outboxLines(t))

		req := SendOTPRequest{TransactionID: "tx", LoginID: "nobody@example.org", Channels: []string{"email", "phone"}}
		res, err := e.a.SendOTP(ctx, req)
		if err != nil {
			t.Fatalf("SendOTP(unknown) = %v, want success", err)
		}
		if !regexp.MustCompile(`^[a-z]\*\*\*@(gmail|yahoo|outlook)\.com$`).MatchString(res.MaskedEmail) ||
			!regexp.MustCompile(`^\+97\*\*\*\*\*[0-9]{2}$`).MatchString(res.MaskedPhone) {
			t.Errorf("SendOTP(unknown) = %+v, want masks shaped like a real resident's", res)
		}
		if got := len(e.outboxLines(t)); got != lines {
			t.Errorf("SendOTP(unknown) wrote %d outbox lines, want none", got-lines)
		}
		// Same login ID, same decoy (another transaction; a resend would be too soon).
		again, err := e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx-2", LoginID: "Nobody@Example.org ", Channels: req.Channels})
		if err != nil || again != res {
			t.Errorf("SendOTP(unknown) again = %+v, %v, want %+v", again, err, res)
		}
		// Then it behaves like a real transaction: resend delay, limits, block.
		_, err = e.a.SendOTP(ctx, req)
		wantCode(t, "SendOTP(unknown) resend", err, ErrOTPResendTooSoon)
		for range 2 {
			e.clock.Advance(31 * time.Second)
			if _, err := e.a.SendOTP(ctx, req); err != nil {
				t.Fatalf("SendOTP(unknown) = %v", err)
			}
		}
		e.clock.Advance(31 * time.Second)
		_, err = e.a.SendOTP(ctx, req)
		wantCode(t, "4th SendOTP(unknown)", err, ErrNoAttemptsLeft)
		_, err = e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx-3", LoginID: req.LoginID, Channels: req.Channels})
		wantCode(t, "SendOTP(unknown) when blocked", err, ErrIndividualBlocked)
		_, err = e.auth(ctx, "tx-3", req.LoginID, pin("123456"))
		wantCode(t, "Authenticate(unknown) when blocked", err, ErrIndividualBlocked)
	})
}

func TestPairwiseSubject(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r, r2 := e.addResident(t, nil), e.addResident(t, nil)
		ctx := t.Context()
		sub := func(sector, id string) string {
			t.Helper()
			s, err := e.a.PairwiseSubject(ctx, sector, id)
			if err != nil {
				t.Fatalf("PairwiseSubject(%q, …) = %v", sector, err)
			}
			return s
		}
		s1 := sub("bank.example", r.ID)
		if s1 != sub("bank.example", r.ID) {
			t.Error("PairwiseSubject is not stable")
		}
		if s1 == sub("tax.example", r.ID) {
			t.Error("PairwiseSubject is the same for two sectors")
		}
		if s1 == sub("bank.example", r2.ID) {
			t.Error("PairwiseSubject is the same for two people")
		}
		// The separator keeps (sector, id) pairs apart.
		if sub("a", "bc") == sub("ab", "c") {
			t.Error("PairwiseSubject(a, bc) = PairwiseSubject(ab, c)")
		}
		if raw, err := base64.RawURLEncoding.DecodeString(s1); err != nil || len(raw) != 32 {
			t.Errorf("PairwiseSubject = %q, want base64url of 32 bytes", s1)
		}
		if strings.Contains(s1, r.UIN) || strings.Contains(s1, r.ID) {
			t.Errorf("PairwiseSubject = %q contains the UIN or the person id", s1)
		}
		for _, in := range [][2]string{{"", r.ID}, {"bank.example", ""}, {"a\x00b", r.ID}} {
			_, err := e.a.PairwiseSubject(ctx, in[0], in[1])
			wantCode(t, fmt.Sprintf("PairwiseSubject(%q, %q)", in[0], in[1]), err, ErrInvalidRequest)
		}
		// Authenticate returns the subject of the request's sector.
		if err := e.a.SetPIN(ctx, r.ID, "161803"); err != nil {
			t.Fatal(err)
		}
		res, err := e.a.Authenticate(ctx, AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "tax.example", Challenges: []Challenge{pin("161803")}})
		if err != nil || res.Subject != sub("tax.example", r.ID) {
			t.Errorf("Authenticate = %+v, %v, want the tax.example subject", res, err)
		}
	})
}

func TestRequestValidation(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		e.dir.invalid["5800000001"] = true
		ctx := t.Context()
		sends := []struct {
			name string
			req  SendOTPRequest
			want *Error
		}{
			{"no transaction", SendOTPRequest{LoginID: r.UIN, Channels: []string{"email"}}, ErrInvalidTransaction},
			{"long transaction", SendOTPRequest{TransactionID: strings.Repeat("x", 257), LoginID: r.UIN, Channels: []string{"email"}}, ErrInvalidTransaction},
			{"no login ID", SendOTPRequest{TransactionID: "tx", LoginID: "  ", Channels: []string{"email"}}, ErrInvalidIdentifier},
			{"control character in login ID", SendOTPRequest{TransactionID: "tx", LoginID: "58\n00", Channels: []string{"email"}}, ErrInvalidIdentifier},
			{"malformed UIN", SendOTPRequest{TransactionID: "tx", LoginID: "5800000001", Channels: []string{"email"}}, ErrInvalidIdentifier},
			{"no channel", SendOTPRequest{TransactionID: "tx", LoginID: r.UIN}, ErrInvalidOTPChannel},
			{"unknown channel", SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"sms"}}, ErrInvalidOTPChannel},
			{"repeated channel", SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"email", "email"}}, ErrInvalidOTPChannel},
		}
		for _, tt := range sends {
			t.Run("SendOTP/"+tt.name, func(t *testing.T) {
				_, err := e.a.SendOTP(ctx, tt.req)
				wantCode(t, "SendOTP", err, tt.want)
			})
		}
		auths := []struct {
			name string
			req  AuthRequest
			want *Error
		}{
			{"no transaction", AuthRequest{LoginID: r.UIN, Sector: "s", Challenges: []Challenge{pin("123456")}}, ErrInvalidTransaction},
			{"no login ID", AuthRequest{TransactionID: "tx", Sector: "s", Challenges: []Challenge{pin("123456")}}, ErrInvalidIdentifier},
			{"malformed UIN", AuthRequest{TransactionID: "tx", LoginID: "5800000001", Sector: "s", Challenges: []Challenge{pin("123456")}}, ErrInvalidIdentifier},
			{"no sector", AuthRequest{TransactionID: "tx", LoginID: r.UIN, Challenges: []Challenge{pin("123456")}}, ErrInvalidRequest},
			{"no challenge", AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s"}, ErrAuthFactorMismatch},
			{"biometrics", AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{{Factor: "BIO", Value: "x"}}}, ErrAuthFactorMismatch},
			{"repeated factor", AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{pin("1"), pin("2")}}, ErrAuthFactorMismatch},
			{"wrong format", AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{{Factor: FactorPIN, Value: "123456", Format: "jwt"}}}, ErrAuthFactorMismatch},
			{"oversized value", AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{pwd(strings.Repeat("x", maxChallengeBytes+1))}}, ErrAuthFactorMismatch},
		}
		for _, tt := range auths {
			t.Run("Authenticate/"+tt.name, func(t *testing.T) {
				_, err := e.a.Authenticate(ctx, tt.req)
				wantCode(t, "Authenticate", err, tt.want)
			})
		}
		// None of these used up the transaction's calls.
		if err := e.a.SetPIN(ctx, r.ID, "123456"); err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			if _, err := e.auth(ctx, "tx", r.UIN, pin("123456")); err != nil {
				t.Fatalf("Authenticate #%d after rejected requests = %v", i+1, err)
			}
		}
	})
}

func TestLoginIDConsumer(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		cd := &consumingDirectory{uses: map[string]int{}}
		e := newEnv(t, b, func(c *Config) {
			cd.directory = c.Directory.(*directory)
			c.Directory = cd
		})
		r := e.addResident(t, nil)
		ctx := t.Context()
		if err := e.a.SetPIN(ctx, r.ID, "141421"); err != nil {
			t.Fatal(err)
		}
		cd.uses[r.VID] = 1 // a temporary VID with one use left
		if _, err := e.auth(ctx, "tx1", r.VID, pin("141421")); err != nil {
			t.Fatalf("Authenticate(VID) = %v", err)
		}
		_, err := e.auth(ctx, "tx2", r.VID, pin("141421"))
		wantCode(t, "Authenticate(used-up VID)", err, ErrAuthFailed)
		_, err = e.auth(ctx, "tx3", r.VID, pin("000000"))
		wantCode(t, "Authenticate(wrong PIN)", err, ErrAuthFailed)
		if n := cd.consumed.Load(); n != 1 {
			t.Errorf("ConsumeLoginID succeeded %d times, want 1 (only after every factor verified)", n)
		}
	})
}

func TestConfigValidate(t *testing.T) {
	err := Config{}.Validate()
	for _, want := range []string{"Directory", "State", "Factors", "Notifier", "MAC"} {
		if err == nil || !strings.Contains(err.Error(), want+" is required") {
			t.Errorf("Config{}.Validate() = %v, want it to report %s", err, want)
		}
	}
	base := func() Config {
		return Config{Directory: newDirectory(), State: &counting{}, Factors: &counting{}, Notifier: notify.NewRouter(nil, nil), MAC: newMAC()}
	}
	if err := base().Validate(); err != nil {
		t.Fatalf("Validate(defaults) = %v", err)
	}
	tests := []struct {
		name string
		edit func(*Policy)
		want []string
	}{
		{"OTP length", func(p *Policy) { p.OTPLength = 3 }, []string{"OTPLength"}},
		{"negative TTL", func(p *Policy) { p.OTPTTL = -time.Second }, []string{"OTPTTL must be positive"}},
		{"resend delay too long", func(p *Policy) { p.ResendDelay = 5 * time.Minute }, []string{"ResendDelay"}},
		{"OTP outlives transaction", func(p *Policy) { p.TransactionTTL = time.Minute }, []string{"must not exceed Policy.TransactionTTL"}},
		{"limits", func(p *Policy) { p.MaxSends, p.MaxAttempts, p.MaxFailures = -1, -1, -1 },
			[]string{"MaxSends", "MaxAttempts", "MaxFailures"}},
		{"KBI fields", func(p *Policy) { p.KBIFields = []string{"fullName", "full name", "fullName"} },
			[]string{`"full name" is not`, `"fullName" is listed twice`}},
		{"no KBI fields", func(p *Policy) { p.KBIFields = []string{} }, []string{"at least one field"}},
		{"Argon2", func(p *Policy) { p.Argon2 = Argon2Params{Memory: 1, Time: 0, Threads: 1, SaltLength: 4, KeyLength: 8} },
			[]string{"Memory", "Time", "SaltLength", "KeyLength"}},
		{"decoy", func(p *Policy) { p.Decoy = Decoy{EmailDomains: []string{"Example.COM"}, PhonePrefix: "971"} },
			[]string{"EmailDomains[0]", "PhonePrefix"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base()
			tt.edit(&c.Policy)
			err := c.Validate()
			for _, w := range tt.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to mention %q", err, w)
				}
			}
			if _, nerr := New(c); nerr == nil {
				t.Error("New accepted an invalid config")
			}
		})
	}
}

// TestNothingSecretLogged runs every flow with a debug logger and checks
// the log and the values' String forms for secrets and identifiers.
func TestNothingSecretLogged(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(c *Config) { c.Policy.MaxFailures = 2 })
		r := e.addResident(t, map[string]any{"fullName": []any{map[string]any{"language": "eng", "value": "Zaynab Haddad"}}, "dateOfBirth": "1985/11/02"})
		ctx := t.Context()
		if err := e.a.SetPIN(ctx, r.ID, "907132"); err != nil {
			t.Fatal(err)
		}
		if err := e.a.SetPassword(ctx, r.ID, "Tr0ub4dor&3"); err != nil {
			t.Fatal(err)
		}
		code := e.sendOTP(t, "tx", r)
		kb := kbi(t, map[string]any{"fullName": "zaynab haddad", "dateOfBirth": "1985/11/02"})
		req := AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{otp(code), pin("907132"), pwd("Tr0ub4dor&3"), kb}}
		if _, err := e.a.Authenticate(ctx, req); err != nil {
			t.Fatal(err)
		}
		e.auth(ctx, "tx2", r.Email, pin("111111"))
		e.auth(ctx, "tx2", r.VID, pin("222222")) // blocks
		e.auth(ctx, "tx3", "unknown@example.org", pin("333333"))
		e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx4", LoginID: "unknown@example.org", Channels: []string{"email", "phone"}})

		var values bytes.Buffer
		lg := slog.New(slog.NewTextHandler(&values, nil))
		lg.Info("values", "auth", req, "send", SendOTPRequest{LoginID: r.UIN}, "person", r.Person, "challenge", req.Challenges[0])
		fmt.Fprintf(&values, "%v %+v %#v %v %#v", req, req, req, r.Person, SendOTPRequest{LoginID: r.UIN})

		out := e.logText() + values.String()
		if !strings.Contains(e.logText(), "individual blocked") || !strings.Contains(e.logText(), r.ID) {
			t.Errorf("log lacks the block or the person id:\n%s", e.logText())
		}
		for _, secret := range []string{code, "907132", "Tr0ub4dor", kb.Value, r.UIN, r.VID, r.Email, r.Phone,
			"unknown@example.org", "Zaynab", "zaynab", "1985/11/02", "111111", "222222", "333333"} {
			if strings.Contains(out, secret) {
				t.Errorf("log or String form contains a secret or identifier (%d bytes)", len(secret))
			}
		}
	})
}

func TestErrorMatching(t *testing.T) {
	err := fmt.Errorf("oidc: %w", newError(ErrSendOTPFailed, context.DeadlineExceeded))
	if !errors.Is(err, ErrSendOTPFailed) || errors.Is(err, ErrAuthFailed) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("errors.Is on %v does not match by code and cause", err)
	}
	var ae *Error
	if !errors.As(err, &ae) || ae.Code != "send_otp_failed" || ae.Description != ErrSendOTPFailed.Description {
		t.Errorf("errors.As(%v) = %+v", err, ae)
	}
	if ae == ErrSendOTPFailed {
		t.Error("newError returned the sentinel itself, want a fresh value")
	}
	codes := map[string]bool{}
	for _, s := range []*Error{ErrAuthFailed, ErrNoAttemptsLeft, ErrIndividualBlocked, ErrInvalidIdentifier,
		ErrInvalidOTPChannel, ErrAuthFactorMismatch, ErrSendOTPFailed, ErrOTPResendTooSoon, ErrInvalidTransaction, ErrInvalidRequest} {
		if codes[s.Code] {
			t.Errorf("code %s used twice", s.Code)
		}
		codes[s.Code] = true
	}
}
