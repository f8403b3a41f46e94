package authn

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/storagetest"
)

// backend pairs a State with a Factors store. Every test runs on both
// pairs, so each of memory, Redis, SQLite and PostgreSQL is covered.
type backend struct {
	name  string
	state func(t testing.TB) storage.State
	db    func(t testing.TB) *sqldb.DB
}

var backends = []backend{
	{
		name:  "memory+sqlite",
		state: func(t testing.TB) storage.State { return storagetest.OpenMemory(t) },
		db:    storagetest.OpenSQLite,
	},
	{
		name:  "redis+postgres",
		state: func(t testing.TB) storage.State { return storagetest.OpenRedis(t) },
		db:    storagetest.OpenPostgres,
	},
}

// forEachBackend runs fn, in parallel, once per backend pair.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b)
		})
	}
}

// testArgon2 keeps verifiers cheap so the suite stays fast.
var testArgon2 = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLength: 16, KeyLength: 32}

// clock is a settable clock, safe for concurrent use.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock {
	return &clock{now: time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// directory is an in-memory Directory.
type directory struct {
	mu      sync.Mutex
	byLogin map[string]Person
	// invalid login IDs are reported as malformed.
	invalid map[string]bool
}

func newDirectory() *directory {
	return &directory{byLogin: map[string]Person{}, invalid: map[string]bool{}}
}

func (d *directory) Lookup(ctx context.Context, loginID string) (Person, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.invalid[loginID] {
		return Person{}, newError(ErrInvalidIdentifier, nil)
	}
	p, ok := d.byLogin[loginID]
	if !ok {
		return Person{}, storage.ErrNotFound
	}
	return p, nil
}

func (d *directory) add(p Person, loginIDs ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range loginIDs {
		d.byLogin[id] = p
	}
}

// consumingDirectory also implements LoginIDConsumer: each login ID may be
// consumed uses[id] times (absent: unlimited).
type consumingDirectory struct {
	*directory
	mu       sync.Mutex
	uses     map[string]int
	consumed atomic.Int64
}

func (d *consumingDirectory) ConsumeLoginID(ctx context.Context, loginID string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n, limited := d.uses[loginID]; limited {
		if n == 0 {
			return storage.ErrNotFound
		}
		d.uses[loginID] = n - 1
	}
	d.consumed.Add(1)
	return nil
}

// hmacMAC derives one HMAC-SHA-256 key per purpose from a random master key.
type hmacMAC struct {
	master []byte
	calls  atomic.Int64
}

func newMAC() *hmacMAC {
	k := make([]byte, 32)
	rand.Read(k)
	return &hmacMAC{master: k}
}

func (m *hmacMAC) MAC(ctx context.Context, purpose string, data []byte) ([]byte, error) {
	m.calls.Add(1)
	kh := hmac.New(sha256.New, m.master)
	kh.Write([]byte(purpose))
	h := hmac.New(sha256.New, kh.Sum(nil))
	h.Write(data)
	return h.Sum(nil), nil
}

// env is one Authenticator on real stores, with its fakes at hand.
type env struct {
	a       *Authenticator
	cfg     Config
	dir     *directory
	clock   *clock
	mac     *hmacMAC
	db      *sqldb.DB
	state   storage.State
	outbox  string
	logs    *bytes.Buffer
	logsMu  *sync.Mutex
	counter *counting
}

// newEnv builds an env on backend b; edit may change the Config.
func newEnv(t *testing.T, b backend, edit func(*Config)) *env {
	t.Helper()
	e := &env{dir: newDirectory(), clock: newClock(), mac: newMAC(), db: b.db(t), state: b.state(t),
		logs: &bytes.Buffer{}, logsMu: &sync.Mutex{}}
	e.outbox = filepath.Join(t.TempDir(), "outbox.jsonl")
	ob, err := notify.NewFileOutbox(e.outbox, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ob.Close() })
	ob.Now = e.clock.Now
	e.counter = &counting{state: e.state, factors: e.db}
	e.cfg = Config{
		Directory: e.dir,
		State:     e.counter,
		Factors:   e.counter,
		Notifier:  ob,
		MAC:       e.mac,
		Now:       e.clock.Now,
		Logger: slog.New(slog.NewJSONHandler(&lockedWriter{mu: e.logsMu, w: e.logs}, &slog.HandlerOptions{
			Level: slog.LevelDebug,
			// Wall-clock times could hold any six digits; the secrets check needs none.
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if a.Key == slog.TimeKey && len(groups) == 0 {
					return slog.Attr{}
				}
				return a
			},
		})),
		Policy: Policy{Argon2: testArgon2},
	}
	if edit != nil {
		edit(&e.cfg)
	}
	e.a, err = New(e.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return e
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (e *env) logText() string {
	e.logsMu.Lock()
	defer e.logsMu.Unlock()
	return e.logs.String()
}

// resident is a test person with its login IDs.
type resident struct {
	Person
	UIN, VID, Email, Phone string
}

var residentSeq atomic.Int64

// addResident creates a resident row (so factors can reference it) and
// lists the person in the directory under UIN, VID and e-mail.
func (e *env) addResident(t *testing.T, identity map[string]any) resident {
	t.Helper()
	n := residentSeq.Add(1)
	idBytes := make([]byte, 16)
	rand.Read(idBytes)
	r := resident{
		Person: Person{ID: "res-" + base64.RawURLEncoding.EncodeToString(idBytes), Status: StatusActive},
		UIN:    fmt.Sprintf("58%08d", n),
		VID:    fmt.Sprintf("4%015d", n),
	}
	if identity == nil {
		identity = map[string]any{}
	}
	if _, ok := identity["email"]; !ok {
		identity["email"] = fmt.Sprintf("jane.doe%d@example.org", n)
	}
	if _, ok := identity["phone"]; !ok {
		identity["phone"] = fmt.Sprintf("+9715%08d", n)
	}
	r.Identity = identity
	r.Email, _ = identity["email"].(string)
	r.Phone, _ = identity["phone"].(string)
	now := time.Now()
	hash := sha256.Sum256(idBytes)
	if err := e.db.CreateResidents(t.Context(), []storage.NewResident{{Resident: storage.Resident{
		ID: r.ID, UINHash: hash[:], Status: StatusActive, Version: 1, Sealed: []byte("sealed"),
		KeyID: "test", WrappedKey: []byte("wrapped"), CreatedAt: now, UpdatedAt: now,
	}}}); err != nil {
		t.Fatalf("CreateResidents: %v", err)
	}
	logins := []string{r.UIN, r.VID}
	if r.Email != "" {
		logins = append(logins, r.Email)
	}
	e.dir.add(r.Person, logins...)
	return r
}

// outboxLine is one line of the FileOutbox.
type outboxLine struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Message string `json:"message"`
	OTP     string `json:"otp"`
}

func (e *env) outboxLines(t *testing.T) []outboxLine {
	t.Helper()
	data, err := os.ReadFile(e.outbox)
	if err != nil {
		t.Fatal(err)
	}
	var out []outboxLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var l outboxLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("outbox line: %v", err)
		}
		out = append(out, l)
	}
	return out
}

// lastOTP returns the last OTP sent to dest.
func (e *env) lastOTP(t *testing.T, dest string) string {
	t.Helper()
	lines := e.outboxLines(t)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i].To == dest {
			return lines[i].OTP
		}
	}
	t.Fatalf("no OTP sent to the test resident")
	return ""
}

// sendOTP sends an OTP by e-mail and returns it.
func (e *env) sendOTP(t *testing.T, tx string, r resident) string {
	t.Helper()
	if _, err := e.a.SendOTP(t.Context(), SendOTPRequest{TransactionID: tx, LoginID: r.UIN, Channels: []string{"email"}}); err != nil {
		t.Fatalf("SendOTP: %v", err)
	}
	return e.lastOTP(t, r.Email)
}

func (e *env) auth(ctx context.Context, tx, loginID string, cs ...Challenge) (Result, error) {
	return e.a.Authenticate(ctx, AuthRequest{TransactionID: tx, LoginID: loginID, ClientID: "client-1",
		Sector: "rp.example.com", Challenges: cs})
}

func otp(v string) Challenge { return Challenge{Factor: FactorOTP, Value: v, Format: "alpha-numeric"} }
func pin(v string) Challenge { return Challenge{Factor: FactorPIN, Value: v, Format: "number"} }
func pwd(v string) Challenge { return Challenge{Factor: FactorPassword, Value: v} }

func kbi(t testing.TB, answers map[string]any) Challenge {
	t.Helper()
	raw, err := json.Marshal(answers)
	if err != nil {
		t.Fatal(err)
	}
	return Challenge{Factor: FactorKBI, Value: base64.RawURLEncoding.EncodeToString(raw), Format: "base64url-encoded-json"}
}

// wantCode fails t unless err is an *Error matching want.
func wantCode(t *testing.T, call string, err error, want *Error) {
	t.Helper()
	var ae *Error
	if !errors.As(err, &ae) || !errors.Is(err, want) {
		t.Fatalf("%s = %v, want %s", call, err, want.Code)
	}
}

// counting wraps State and Factors and counts calls, to compare the work
// done for different people.
type counting struct {
	state   storage.State
	factors storage.Factors
	calls   sync.Map // method name → *atomic.Int64
}

func (c *counting) count(name string) {
	v, _ := c.calls.LoadOrStore(name, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

func (c *counting) snapshot() map[string]int64 {
	out := map[string]int64{}
	c.calls.Range(func(k, v any) bool {
		out[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}

func (c *counting) reset() { c.calls.Clear() }

func (c *counting) Put(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	c.count("Put")
	return c.state.Put(ctx, key, value, ttl)
}

func (c *counting) PutNew(ctx context.Context, key string, value []byte, ttl time.Duration) (bool, error) {
	c.count("PutNew")
	return c.state.PutNew(ctx, key, value, ttl)
}

func (c *counting) Get(ctx context.Context, key string) ([]byte, error) {
	c.count("Get")
	return c.state.Get(ctx, key)
}

func (c *counting) Take(ctx context.Context, key string) ([]byte, error) {
	c.count("Take")
	return c.state.Take(ctx, key)
}

func (c *counting) Swap(ctx context.Context, key string, old, value []byte, ttl time.Duration) error {
	c.count("Swap")
	return c.state.Swap(ctx, key, old, value, ttl)
}

func (c *counting) Delete(ctx context.Context, key string) error {
	c.count("Delete")
	return c.state.Delete(ctx, key)
}

func (c *counting) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	c.count("Incr")
	return c.state.Incr(ctx, key, ttl)
}

func (c *counting) Ping(ctx context.Context) error { return c.state.Ping(ctx) }
func (c *counting) Close() error                   { return nil }

func (c *counting) PutFactor(ctx context.Context, f storage.FactorSecret) error {
	c.count("PutFactor")
	return c.factors.PutFactor(ctx, f)
}

func (c *counting) GetFactor(ctx context.Context, residentID, kind string) (storage.FactorSecret, error) {
	c.count("GetFactor")
	return c.factors.GetFactor(ctx, residentID, kind)
}

var (
	_ storage.State   = (*counting)(nil)
	_ storage.Factors = (*counting)(nil)
	_ storage.Factors = (*sqldb.DB)(nil)
	_ Directory       = (*directory)(nil)
	_ LoginIDConsumer = (*consumingDirectory)(nil)
	_ MAC             = (*hmacMAC)(nil)
)
