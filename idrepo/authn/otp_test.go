package authn

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/idrepo/notify"
)

var otpRE = regexp.MustCompile(`^[0-9]{6}$`)

func TestOTPHappyPath(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		ctx := t.Context()

		res, err := e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx-1", LoginID: r.UIN,
			Channels: []string{"email", "phone"}, Language: "fra", ClientID: "client-1"})
		if err != nil {
			t.Fatalf("SendOTP = %v", err)
		}
		want := SendOTPResult{MaskedEmail: notify.MaskEmail(r.Email), MaskedPhone: notify.MaskPhone(r.Phone)}
		if res != want {
			t.Errorf("SendOTP = %+v, want %+v", res, want)
		}
		lines := e.outboxLines(t)
		if len(lines) != 2 {
			t.Fatalf("outbox has %d lines, want 2", len(lines))
		}
		code := lines[0].OTP
		if !otpRE.MatchString(code) || lines[1].OTP != code {
			t.Fatalf("outbox OTPs = %q, %q, want the same 6 digits on both channels", lines[0].OTP, lines[1].OTP)
		}
		if lines[0].To != r.Email || lines[1].To != r.Phone {
			t.Errorf("outbox destinations = %s, %s, want the resident's e-mail and phone", lines[0].Channel, lines[1].Channel)
		}
		if !strings.Contains(lines[0].Message, code) || !strings.Contains(lines[0].Message, "expire dans 3 minutes") {
			t.Errorf("message is not the French template with the code and its lifetime: %q", lines[0].Message)
		}

		// Log in with the VID: same person, same OTP binding.
		got, err := e.auth(ctx, "tx-1", r.VID, otp(code))
		if err != nil {
			t.Fatalf("Authenticate(OTP) = %v", err)
		}
		sub, err := e.a.PairwiseSubject(ctx, "rp.example.com", r.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantRes := Result{PersonID: r.ID, Subject: sub, Factors: []string{"otp"}, AuthTime: e.clock.Now()}
		if got.PersonID != wantRes.PersonID || got.Subject != wantRes.Subject ||
			!slices.Equal(got.Factors, wantRes.Factors) || !got.AuthTime.Equal(wantRes.AuthTime) {
			t.Errorf("Authenticate = %+v, want %+v", got, wantRes)
		}
	})
}

func TestOTPRejected(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		tests := []struct {
			name string
			// run sends what it needs and returns the login ID, transaction and code to try.
			run func(t *testing.T, e *env, r, other resident) (loginID, tx, code string)
		}{
			{"wrong code", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				return r.UIN, "tx", wrongCode(code)
			}},
			{"expired", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				e.clock.Advance(3*time.Minute + time.Second)
				return r.UIN, "tx", code
			}},
			{"already used", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				if _, err := e.auth(t.Context(), "tx", r.UIN, otp(code)); err != nil {
					t.Fatalf("first Authenticate = %v", err)
				}
				return r.UIN, "tx", code
			}},
			{"other transaction", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				return r.UIN, "tx-other", code
			}},
			{"other person", func(t *testing.T, e *env, r, other resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				return other.UIN, "tx", code
			}},
			{"replaced by a resend", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				e.clock.Advance(31 * time.Second)
				e.sendOTP(t, "tx", r)
				return r.UIN, "tx", code
			}},
			{"no OTP sent", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				return r.UIN, "tx", "123456"
			}},
			{"not digits", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				return r.UIN, "tx", code[:5] + "a"
			}},
			{"code with extra digit", func(t *testing.T, e *env, r, _ resident) (string, string, string) {
				code := e.sendOTP(t, "tx", r)
				return r.UIN, "tx", code + "0"
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, b, nil)
				r, other := e.addResident(t, nil), e.addResident(t, nil)
				loginID, tx, code := tt.run(t, e, r, other)
				_, err := e.auth(t.Context(), tx, loginID, otp(code))
				wantCode(t, "Authenticate", err, ErrAuthFailed)
			})
		}
		t.Run("just before expiry", func(t *testing.T) {
			e := newEnv(t, b, nil)
			r := e.addResident(t, nil)
			code := e.sendOTP(t, "tx", r)
			e.clock.Advance(3*time.Minute - time.Second)
			if _, err := e.auth(t.Context(), "tx", r.UIN, otp(code)); err != nil {
				t.Fatalf("Authenticate 1 s before expiry = %v, want success", err)
			}
		})
	})
}

// wrongCode returns another code of the same length.
func wrongCode(code string) string {
	b := []byte(code)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func TestOTPResend(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		ctx := t.Context()
		first := e.sendOTP(t, "tx", r)

		e.clock.Advance(29 * time.Second)
		_, err := e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"email"}})
		wantCode(t, "SendOTP after 29 s", err, ErrOTPResendTooSoon)
		if n := len(e.outboxLines(t)); n != 1 {
			t.Fatalf("outbox has %d lines after a refused resend, want 1", n)
		}

		e.clock.Advance(2 * time.Second)
		second := e.sendOTP(t, "tx", r)
		if _, err := e.auth(ctx, "tx", r.UIN, otp(first)); err == nil && first != second {
			t.Fatalf("Authenticate(first OTP after resend) succeeded, want auth_failed")
		}
		if _, err := e.auth(ctx, "tx", r.UIN, otp(second)); err != nil {
			t.Fatalf("Authenticate(resent OTP) = %v", err)
		}
	})
}

func TestOTPSendLimitBlocks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		ctx := t.Context()
		for range 3 {
			e.sendOTP(t, "tx", r)
			e.clock.Advance(31 * time.Second)
		}
		_, err := e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"phone"}})
		wantCode(t, "4th SendOTP", err, ErrNoAttemptsLeft)

		// Blocked in every transaction, under every login ID of the person.
		_, err = e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx-2", LoginID: r.VID, Channels: []string{"email"}})
		wantCode(t, "SendOTP in another transaction", err, ErrIndividualBlocked)
		_, err = e.auth(ctx, "tx-3", r.Email, otp("123456"))
		wantCode(t, "Authenticate in another transaction", err, ErrIndividualBlocked)

		// The block lasts 10 minutes from the 4th send.
		e.clock.Advance(10*time.Minute - 2*time.Second)
		_, err = e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx-4", LoginID: r.UIN, Channels: []string{"email"}})
		wantCode(t, "SendOTP just before the block ends", err, ErrIndividualBlocked)
		e.clock.Advance(3 * time.Second)
		code := e.sendOTP(t, "tx-5", r)
		if _, err := e.auth(ctx, "tx-5", r.UIN, otp(code)); err != nil {
			t.Fatalf("Authenticate after the block = %v", err)
		}
	})
}

func TestOTPAttemptLimitBlocks(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		ctx := t.Context()
		code := e.sendOTP(t, "tx", r)
		for i := range 3 {
			_, err := e.auth(ctx, "tx", r.UIN, otp(wrongCode(code)))
			wantCode(t, "Authenticate(wrong OTP) #"+string(rune('1'+i)), err, ErrAuthFailed)
		}
		// The 4th call fails even with the right code, and blocks.
		_, err := e.auth(ctx, "tx", r.UIN, otp(code))
		wantCode(t, "4th Authenticate", err, ErrNoAttemptsLeft)

		_, err = e.a.SendOTP(ctx, SendOTPRequest{TransactionID: "tx-2", LoginID: r.UIN, Channels: []string{"email"}})
		wantCode(t, "SendOTP while blocked", err, ErrIndividualBlocked)
		_, err = e.auth(ctx, "tx-2", r.VID, pin("123456"))
		wantCode(t, "Authenticate while blocked", err, ErrIndividualBlocked)

		e.clock.Advance(10*time.Minute + time.Second)
		code = e.sendOTP(t, "tx-3", r)
		if _, err := e.auth(ctx, "tx-3", r.UIN, otp(code)); err != nil {
			t.Fatalf("Authenticate after the block = %v", err)
		}
	})
}

func TestFailuresAcrossTransactionsBlock(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil) // MaxFailures 5
		r := e.addResident(t, nil)
		ctx := t.Context()
		if err := e.a.SetPIN(ctx, r.ID, "482916"); err != nil {
			t.Fatal(err)
		}
		txs := []string{"a", "a", "a", "b", "b"}
		for i, tx := range txs {
			_, err := e.auth(ctx, tx, r.UIN, pin("000000"))
			wantCode(t, "Authenticate(wrong PIN) #"+string(rune('1'+i)), err, ErrAuthFailed)
		}
		_, err := e.auth(ctx, "c", r.UIN, pin("482916"))
		wantCode(t, "Authenticate after 5 failures", err, ErrIndividualBlocked)

		// A success restarts the count.
		e.clock.Advance(10*time.Minute + time.Second)
		for i, tx := range []string{"d", "d", "e", "e"} {
			_, err := e.auth(ctx, tx, r.UIN, pin("000000"))
			wantCode(t, "Authenticate(wrong PIN) after block #"+string(rune('1'+i)), err, ErrAuthFailed)
		}
		if _, err := e.auth(ctx, "e", r.UIN, pin("482916")); err != nil {
			t.Fatalf("Authenticate(PIN) = %v", err)
		}
		for i, tx := range []string{"f", "f", "f", "g"} {
			_, err := e.auth(ctx, tx, r.UIN, pin("000000"))
			wantCode(t, "Authenticate(wrong PIN) after success #"+string(rune('1'+i)), err, ErrAuthFailed)
		}
		if _, err := e.auth(ctx, "g", r.UIN, pin("482916")); err != nil {
			t.Fatalf("Authenticate(PIN) after 4 new failures = %v, want success", err)
		}
	})
}

func TestOTPConcurrentVerification(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, func(c *Config) { c.Policy.MaxAttempts = 100; c.Policy.MaxFailures = 100 })
		r := e.addResident(t, nil)
		code := e.sendOTP(t, "tx", r)

		const n = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = e.auth(t.Context(), "tx", r.UIN, otp(code))
			})
		}
		close(start)
		wg.Wait()
		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, ErrAuthFailed):
				t.Errorf("goroutine %d: Authenticate = %v, want success or auth_failed", i, err)
			}
		}
		if ok != 1 {
			t.Errorf("%d goroutines authenticated with one OTP, want exactly 1", ok)
		}
	})
}

func TestOTPGeneration(t *testing.T) {
	seen := map[string]bool{}
	var counts [10]int
	for range 2000 {
		c, err := newOTP(6)
		if err != nil {
			t.Fatal(err)
		}
		if !otpRE.MatchString(c) {
			t.Fatalf("newOTP(6) = %q, want 6 digits", c)
		}
		seen[c] = true
		counts[c[0]-'0']++
	}
	if len(seen) < 1990 {
		t.Errorf("newOTP gave %d distinct codes in 2000, want nearly all distinct", len(seen))
	}
	// Leading zeros must occur as often as any other digit (no formatting loss).
	for d, n := range counts {
		if n < 120 || n > 290 {
			t.Errorf("first digit %d appeared %d times in 2000, want about 200", d, n)
		}
	}
	for _, n := range []int{4, 8, 10} {
		c, err := newOTP(n)
		if err != nil || len(c) != n || !isDigits(c) {
			t.Errorf("newOTP(%d) = %q, %v", n, c, err)
		}
	}
}

func TestSendOTPDelivery(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		t.Run("all channels fail", func(t *testing.T) {
			e := newEnv(t, b, func(c *Config) { c.Notifier = notify.NewRouter(nil, nil) })
			r := e.addResident(t, nil)
			_, err := e.a.SendOTP(t.Context(), SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"email", "phone"}})
			wantCode(t, "SendOTP", err, ErrSendOTPFailed)
			if !errors.Is(err, notify.ErrUnsupportedChannel) {
				t.Errorf("SendOTP = %v, want the notifier's error as cause", err)
			}
			// Nothing was delivered, so asking again at once is allowed.
			_, err = e.a.SendOTP(t.Context(), SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"email"}})
			wantCode(t, "second SendOTP", err, ErrSendOTPFailed)
		})
		t.Run("one channel fails", func(t *testing.T) {
			var ob notify.Notifier
			e := newEnv(t, b, func(c *Config) { ob = c.Notifier; c.Notifier = notify.NewRouter(nil, ob) })
			r := e.addResident(t, nil)
			res, err := e.a.SendOTP(t.Context(), SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"email", "phone"}})
			if err != nil {
				t.Fatalf("SendOTP = %v", err)
			}
			if want := (SendOTPResult{MaskedPhone: notify.MaskPhone(r.Phone)}); res != want {
				t.Errorf("SendOTP = %+v, want %+v", res, want)
			}
			if _, err := e.auth(t.Context(), "tx", r.UIN, otp(e.lastOTP(t, r.Phone))); err != nil {
				t.Errorf("Authenticate = %v", err)
			}
		})
		t.Run("missing channel", func(t *testing.T) {
			e := newEnv(t, b, nil)
			r := e.addResident(t, map[string]any{"email": ""})
			_, err := e.a.SendOTP(t.Context(), SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"phone", "email"}})
			wantCode(t, "SendOTP(email) to a person without e-mail", err, ErrInvalidOTPChannel)
			if _, err := e.a.SendOTP(t.Context(), SendOTPRequest{TransactionID: "tx", LoginID: r.UIN, Channels: []string{"phone"}}); err != nil {
				t.Errorf("SendOTP(phone) = %v; a refused channel must not use up a send", err)
			}
		})
	})
}
