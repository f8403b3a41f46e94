package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/storage"
)

func TestSetPINAndPasswordRules(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		ctx := t.Context()
		tests := []struct {
			name   string
			set    func(ctx context.Context, id, v string) error
			value  string
			wantOK bool
		}{
			{"PIN of 6 digits", e.a.SetPIN, "048213", true},
			{"PIN of 5 digits", e.a.SetPIN, "48213", false},
			{"PIN of 7 digits", e.a.SetPIN, "4821399", false},
			{"PIN with a letter", e.a.SetPIN, "48213a", false},
			{"PIN with a space", e.a.SetPIN, "482 13", false},
			{"PIN of Arabic-Indic digits", e.a.SetPIN, "٤٨٢١٣٩", false},
			{"empty PIN", e.a.SetPIN, "", false},
			{"password of 8", e.a.SetPassword, "s3cret!x", true},
			{"password of 30", e.a.SetPassword, strings.Repeat("ab", 15), true},
			{"password of 30 non-ASCII characters", e.a.SetPassword, strings.Repeat("كلمة", 7) + "سر", true},
			{"password of 7", e.a.SetPassword, "s3cret!", false},
			{"password of 31", e.a.SetPassword, strings.Repeat("a", 31), false},
			{"password with a control character", e.a.SetPassword, "s3cret!\x00xx", false},
			{"password with a newline", e.a.SetPassword, "s3cret!\nxx", false},
			{"password of invalid UTF-8", e.a.SetPassword, "s3cret!\xffxx", false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := tt.set(ctx, r.ID, tt.value)
				if tt.wantOK && err != nil {
					t.Errorf("Set(%q) = %v, want nil", tt.value, err)
				}
				if !tt.wantOK {
					wantCode(t, fmt.Sprintf("Set(%q)", tt.value), err, ErrInvalidRequest)
				}
			})
		}
		t.Run("unknown resident", func(t *testing.T) {
			if err := e.a.SetPIN(ctx, "res-nobody", "482913"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("SetPIN(unknown resident) = %v, want storage.ErrNotFound", err)
			}
		})
	})
}

func TestPINAndPassword(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r, r2 := e.addResident(t, nil), e.addResident(t, nil)
		ctx := t.Context()
		const thePIN = "048213"
		// The password is stored composed (é = U+00E9) and typed decomposed (e + U+0301).
		const composed, decomposed = "caf\u00e9-au-lait", "cafe\u0301-au-lait"
		for _, err := range []error{
			e.a.SetPIN(ctx, r.ID, thePIN),
			e.a.SetPIN(ctx, r2.ID, thePIN),
			e.a.SetPassword(ctx, r.ID, composed),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}

		// Verifiers: Argon2id PHC strings, random salts.
		f1, err := e.db.GetFactor(ctx, r.ID, "pin")
		if err != nil {
			t.Fatal(err)
		}
		f2, err := e.db.GetFactor(ctx, r2.ID, "pin")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(f1.Hash, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(f1.Hash, thePIN) {
			t.Errorf("PIN verifier = %q, want an argon2id PHC string with the configured costs", f1.Hash)
		}
		if f1.Hash == f2.Hash {
			t.Errorf("two residents with the same PIN have the same verifier: salts are not random")
		}
		if !f1.UpdatedAt.Equal(e.clock.Now()) {
			t.Errorf("verifier UpdatedAt = %v, want %v", f1.UpdatedAt, e.clock.Now())
		}

		tests := []struct {
			name    string
			tx      string
			loginID string
			cs      []Challenge
			want    []string // amr; nil: auth_failed
		}{
			{"PIN", "t1", r.UIN, []Challenge{pin(thePIN)}, []string{"pin"}},
			{"wrong PIN", "t2", r.UIN, []Challenge{pin("048214")}, nil},
			{"PIN with trailing space", "t3", r.UIN, []Challenge{pin(thePIN + " ")}, nil},
			{"overlong PIN", "t4", r.UIN, []Challenge{pin(strings.Repeat("0", 10000)[:maxChallengeBytes])}, nil},
			{"password, other Unicode composition", "t5", r.UIN, []Challenge{pwd(decomposed)}, []string{"pwd"}},
			{"wrong password", "t6", r.UIN, []Challenge{pwd("cafe-au-lait")}, nil},
			{"password in other case", "t7", r.UIN, []Challenge{pwd(strings.ToUpper(composed))}, nil},
			{"PIN and password", "t8", r.VID, []Challenge{pwd(composed), pin(thePIN)}, []string{"pwd", "pin"}},
			{"PIN and wrong password", "t9", r.UIN, []Challenge{pin(thePIN), pwd("nope-nope")}, nil},
			{"no password enrolled", "t10", r2.UIN, []Challenge{pwd(composed)}, nil},
			{"other person's PIN+password", "t11", r2.UIN, []Challenge{pin(thePIN), pwd(composed)}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				res, err := e.auth(ctx, tt.tx, tt.loginID, tt.cs...)
				if tt.want == nil {
					wantCode(t, "Authenticate", err, ErrAuthFailed)
					return
				}
				if err != nil || !slices.Equal(res.Factors, tt.want) {
					t.Errorf("Authenticate = %+v, %v, want factors %v", res, err, tt.want)
				}
			})
		}
	})
}

func TestVerifierUpgrade(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b, nil)
		r := e.addResident(t, nil)
		ctx := t.Context()
		if err := e.a.SetPIN(ctx, r.ID, "731906"); err != nil {
			t.Fatal(err)
		}
		// The operator raises the costs; the old verifier still works and is upgraded.
		cfg := e.cfg
		cfg.Policy.Argon2 = Argon2Params{Memory: 128, Time: 2, Threads: 1, SaltLength: 16, KeyLength: 32}
		a2, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a2.Authenticate(ctx, AuthRequest{TransactionID: "tx", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{pin("731906")}}); err != nil {
			t.Fatalf("Authenticate with old verifier = %v", err)
		}
		f, err := e.db.GetFactor(ctx, r.ID, "pin")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(f.Hash, "$argon2id$v=19$m=128,t=2,p=1$") {
			t.Errorf("verifier after sign-in = %q, want it re-hashed with m=128,t=2", f.Hash)
		}
		if _, err := a2.Authenticate(ctx, AuthRequest{TransactionID: "tx2", LoginID: r.UIN, Sector: "s", Challenges: []Challenge{pin("731906")}}); err != nil {
			t.Fatalf("Authenticate with upgraded verifier = %v", err)
		}
	})
}

func TestPHC(t *testing.T) {
	p := Argon2Params{Memory: 64, Time: 1, Threads: 2, SaltLength: 16, KeyLength: 32}
	salt, key := make([]byte, 16), make([]byte, 32)
	rand.Read(salt)
	rand.Read(key)
	good := encodePHC(p, salt, key)
	gotP, gotSalt, gotKey, err := parsePHC(good)
	if err != nil || gotP != p || string(gotSalt) != string(salt) || string(gotKey) != string(key) {
		t.Fatalf("parsePHC(encodePHC) = %+v, %v", gotP, err)
	}
	bad := []string{
		"",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=64", "m=064", 1),
		strings.Replace(good, "m=64", "m=4194304", 1), // 4 GiB
		strings.Replace(good, "m=64", "m=8", 1),       // less than 8×lanes
		strings.Replace(good, "t=1", "t=0", 1),
		strings.Replace(good, "t=1", "t=100", 1),
		strings.Replace(good, "p=2", "p=0", 1),
		strings.Replace(good, "p=2", "p=300", 1),
		strings.Replace(good, "m=64,t=1,p=2", "t=1,m=64,p=2", 1),
		strings.Replace(good, "m=64,t=1,p=2", "m=64,t=1", 1),
		good + "$",
		good + "==",
		"$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + strings.Repeat("A", 43), // 4-byte salt
		"$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 22) + "$AAAA",
	}
	for _, s := range bad {
		if _, _, _, err := parsePHC(s); !errors.Is(err, errBadPHC) {
			t.Errorf("parsePHC(%q) = %v, want errBadPHC", s, err)
		}
	}
}

func FuzzParsePHC(f *testing.F) {
	f.Add(encodePHC(testArgon2, make([]byte, 16), make([]byte, 32)))
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=99999999999,t=2,p=1$$")
	f.Add("$$$$$")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, key, err := parsePHC(s)
		if err != nil {
			return
		}
		if p.validate() != nil || int(p.SaltLength) != len(salt) || int(p.KeyLength) != len(key) {
			t.Fatalf("parsePHC(%q) accepted out-of-bounds %+v", s, p)
		}
		if again := encodePHC(p, salt, key); again != s {
			t.Fatalf("parsePHC(%q) is not canonical: re-encodes as %q", s, again)
		}
	})
}
