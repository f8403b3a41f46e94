// Package config loads Sanad's configuration: defaults, then a YAML file
// decoded strictly (an unknown field is an error), then SANAD_* environment
// variables, then command-line flags. Secrets can come from the environment
// or from files so they never need to sit in the YAML. Validate reports every
// problem at once so an operator fixes a bad deployment in one pass.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sanad-id/sanad/idrepo/notify"
)

// Components that `sanad serve` can run. "all" selects every one.
var Components = []string{"idrepo", "oidc", "issuer", "verifier", "wallet"}

// Config is the whole configuration of a Sanad process.
type Config struct {
	// Addr is the listen address.
	Addr string `yaml:"addr"`
	// PublicURL is the externally visible base URL (issuer identifier of the
	// OIDC provider, credential issuer id). Defaults to http://<Addr>.
	PublicURL string `yaml:"public_url"`
	// DataDir holds the SQLite database, generated demo secrets and the
	// development OTP outbox.
	DataDir string `yaml:"data_dir"`
	// Components lists what this process serves; empty or ["all"] means all.
	Components []string `yaml:"components"`
	// Demo seeds demo data and generates missing development secrets.
	Demo bool `yaml:"demo"`

	Log     Log     `yaml:"log"`
	HTTP    HTTP    `yaml:"http"`
	Storage Storage `yaml:"storage"`
	State   State   `yaml:"state"`
	Keys    Keys    `yaml:"keys"`
	Admin   Admin   `yaml:"admin"`
	IDRepo  IDRepo  `yaml:"idrepo"`
	Notify  Notify  `yaml:"notify"`
	OIDC    OIDC    `yaml:"oidc"`
	Issuer  Issuer  `yaml:"issuer"`
}

// Issuer configures the OpenID4VCI credential issuer. Zero values keep the
// defaults of package issuer.
type Issuer struct {
	// ID is the credential issuer identifier; empty means
	// <public_url>/issuer. It must differ from the OpenID provider's issuer:
	// credential access tokens are told apart from userinfo tokens by
	// their audience.
	ID string `yaml:"id"`
	// DID is the issuer's did:web DID: the issuer of its ldp_vc and W3C
	// status list credentials, whose document (the credential signing
	// keys) the issuer serves at the path the DID names. Empty means the
	// did:web of the issuer identifier's host (https://id.example/issuer
	// gives did:web:id.example, served at /.well-known/did.json).
	DID string `yaml:"did"`
	// Display names the issuer in wallets, per locale (BCP 47, e.g. "en");
	// empty means "Sanad" in English, French and Arabic.
	Display []IssuerDisplay `yaml:"display"`
	// TemplatesDir holds the credential configurations, one folder each
	// (see templates/README.md); empty means the templates built into the
	// binary (the demo National ID credential in every format).
	TemplatesDir string `yaml:"templates_dir"`
	// BatchSize is the most credentials one request may ask for (10); 1
	// turns batch issuance off.
	BatchSize int `yaml:"batch_size"`
	// NonceTTL (5m), PreAuthorizedCodeTTL (10m), ProofIATWindow (5m).
	NonceTTL             time.Duration `yaml:"nonce_ttl"`
	PreAuthorizedCodeTTL time.Duration `yaml:"pre_authorized_code_ttl"`
	ProofIATWindow       time.Duration `yaml:"proof_iat_window"`
	// TxCodeAttempts is how many wrong tx_codes void a pre-authorized code (3).
	TxCodeAttempts int `yaml:"tx_code_attempts"`
	// RateLimit is the nonce requests per client IP and minute (1200); -1
	// disables the limit (load tests only).
	RateLimit int `yaml:"rate_limit"`
	// StatusListSize is the number of entries of a new status list
	// (131072); at least 131072, the W3C Bitstring Status List minimum,
	// so that an index hides among as many credentials.
	StatusListSize int64 `yaml:"status_list_size"`
	// StatusListTTL is how long verifiers may cache a published status
	// list (5s): the longest a revocation or suspension takes to show.
	StatusListTTL time.Duration `yaml:"status_list_ttl"`
	// X5CFile is an optional PEM certificate chain (leaf first) for the
	// credential signing key, sent as x5c in SD-JWT VCs.
	X5CFile string `yaml:"x5c_file"`
	// AuthorizationServer, when set, makes the issuer accept the access
	// tokens of an external authorization server (for example a MOSIP
	// eSignet) instead of Sanad's own: its issuer identifier, JWKS URL and
	// the token claim holding the resident's individual id.
	AuthorizationServer ExternalAS `yaml:"authorization_server"`
}

// Bounds of issuer.status_list_size: the W3C Bitstring Status List
// minimum (statuslist.MinEntries), and the largest list package issuer
// accepts (a token list of 2-bit entries in 16 MiB).
const (
	statusListMinSize = 131072
	statusListMaxSize = 16 << 20 * 4
)

// IssuerDisplay is the issuer's name and logo in one locale.
type IssuerDisplay struct {
	Name    string `yaml:"name"`
	Locale  string `yaml:"locale"`
	LogoURI string `yaml:"logo_uri"`
	LogoAlt string `yaml:"logo_alt"`
}

// ExternalAS is an external authorization server the issuer trusts.
type ExternalAS struct {
	Issuer  string `yaml:"issuer"`
	JWKSURL string `yaml:"jwks_url"`
	// IndividualIDClaim is the access token claim holding the UIN, VID or
	// handle the ID repository resolves.
	IndividualIDClaim string `yaml:"individual_id_claim"`
}

// OIDC configures the OpenID provider. Zero values keep the defaults of
// package oidc (eSignet's lifetimes, FAPI 2.0's 60-second codes).
type OIDC struct {
	// Profile is "" (eSignet's behaviour, PKCE required) or "fapi2" (PAR,
	// PKCE, DPoP and private_key_jwt with aud = issuer for every client).
	Profile string `yaml:"profile"`
	// RequirePAR makes every client push its authorization requests.
	RequirePAR bool `yaml:"require_par"`
	// PKCEOptional lets clients registered without require_pkce skip PKCE.
	PKCEOptional bool `yaml:"pkce_optional"`
	// Languages are the login pages' languages, ISO 639-3, default first
	// (eng, fra, ara).
	Languages []string `yaml:"languages"`
	// TransactionTTL is the time to sign in (5m); AuthenticatedTTL the time
	// to consent (2m); CodeTTL (60s), PARTTL (60s), AccessTokenTTL (1h),
	// IDTokenTTL (1h); NonceWindow (24h) refuses a reused nonce.
	TransactionTTL   time.Duration `yaml:"transaction_ttl"`
	AuthenticatedTTL time.Duration `yaml:"authenticated_ttl"`
	CodeTTL          time.Duration `yaml:"code_ttl"`
	PARTTL           time.Duration `yaml:"par_ttl"`
	AccessTokenTTL   time.Duration `yaml:"access_token_ttl"`
	IDTokenTTL       time.Duration `yaml:"id_token_ttl"`
	NonceWindow      time.Duration `yaml:"nonce_window"`
	// LoginRateLimit is the number of login requests per client IP and
	// minute (600); -1 disables the limit (load tests only).
	LoginRateLimit int `yaml:"login_rate_limit"`
	// DisableDemoBank stops --demo from registering and serving the demo
	// relying party at /demo/bank.
	DisableDemoBank bool `yaml:"disable_demo_bank"`
}

// IDRepo configures the ID repository. Zero values keep MOSIP's defaults.
type IDRepo struct {
	// SchemaFile is a JSON Schema for identity data; empty means the
	// built-in MOSIP-shaped schema.
	SchemaFile string `yaml:"schema_file"`
	// UINLength and VIDLength are the digits of new UINs (10) and VIDs
	// (16). Only about 58 million 10-digit UINs pass MOSIP's filters: a
	// large population wants 12.
	UINLength int `yaml:"uin_length"`
	VIDLength int `yaml:"vid_length"`
	// VIDPolicies override the rules of VID types ("perpetual",
	// "temporary") or add types.
	VIDPolicies map[string]VIDPolicy `yaml:"vid_policies"`
	// Authn limits authentication.
	Authn Authn `yaml:"authn"`
}

// VIDPolicy is the rule set of a VID type.
type VIDPolicy struct {
	Validity      time.Duration `yaml:"validity"`       // 0: forever
	Uses          int64         `yaml:"uses"`           // 0: unlimited
	MaxActive     int           `yaml:"max_active"`     // 0: no cap
	ReplaceOldest bool          `yaml:"replace_oldest"` // a new VID beyond max_active revokes the oldest
}

// Authn holds the authentication limits; zero fields keep eSignet's values
// (6-digit OTPs valid 3 minutes, 3 sends and 3 attempts per transaction,
// 10-minute block).
type Authn struct {
	OTPLength     int           `yaml:"otp_length"`
	OTPTTL        time.Duration `yaml:"otp_ttl"`
	ResendDelay   time.Duration `yaml:"resend_delay"`
	MaxSends      int           `yaml:"max_sends"`
	MaxAttempts   int           `yaml:"max_attempts"`
	BlockDuration time.Duration `yaml:"block_duration"`
	// MaxFailures failed authentications within FailureWindow, across
	// transactions, block the individual (5 in 1 hour).
	MaxFailures   int           `yaml:"max_failures"`
	FailureWindow time.Duration `yaml:"failure_window"`
	// KBIFields are what a knowledge-based challenge asks (fullName, dateOfBirth).
	KBIFields []string `yaml:"kbi_fields"`
	// Argon2MemoryKiB and Argon2Time are the costs of new PIN and password
	// verifiers (19456 KiB, 2 passes).
	Argon2MemoryKiB uint32 `yaml:"argon2_memory_kib"`
	Argon2Time      uint32 `yaml:"argon2_time"`
}

// Notify configures how OTPs and other messages reach residents.
type Notify struct {
	// Email and Phone name the transport of each channel: "outbox" (the
	// development file outbox), "smtp" (email), "webhook" (SMS gateway), or
	// "" (none). --demo defaults both to "outbox".
	Email string `yaml:"email"`
	Phone string `yaml:"phone"`
	// Outbox is the development outbox file; default <data_dir>/outbox.jsonl.
	// It holds OTPs in clear: never use it in production.
	Outbox string `yaml:"outbox"`
	// TemplatesDir overrides some or all built-in message templates.
	TemplatesDir string               `yaml:"templates_dir"`
	SMTP         notify.SMTPConfig    `yaml:"smtp"`
	Webhook      notify.WebhookConfig `yaml:"webhook"`
}

// OutboxFile is the development outbox path.
func (c Config) OutboxFile() string {
	if c.Notify.Outbox != "" {
		return c.Notify.Outbox
	}
	return filepath.Join(c.DataDir, "outbox.jsonl")
}

// Log configures log/slog output.
type Log struct {
	Format string `yaml:"format"` // json (default) or text
	Level  string `yaml:"level"`  // debug, info (default), warn, error
}

// HTTP configures the server's limits.
type HTTP struct {
	ReadHeaderTimeout time.Duration `yaml:"read_header_timeout"`
	ReadTimeout       time.Duration `yaml:"read_timeout"`
	WriteTimeout      time.Duration `yaml:"write_timeout"`
	IdleTimeout       time.Duration `yaml:"idle_timeout"`
	ShutdownTimeout   time.Duration `yaml:"shutdown_timeout"`
	MaxBodyBytes      int64         `yaml:"max_body_bytes"`
	// TrustedProxies are the proxies (IPs or CIDRs) whose X-Forwarded-For
	// names the client; empty trusts none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) on this
	// address, apart from the public listener; it must be a loopback
	// address. For load tests and diagnosis only.
	PprofAddr string `yaml:"pprof_addr"`
}

// Storage selects the durable store.
type Storage struct {
	Driver      string `yaml:"driver"`       // sqlite (default) or postgres
	SQLitePath  string `yaml:"sqlite_path"`  // default <data_dir>/sanad.db
	PostgresURL Secret `yaml:"postgres_url"` // may hold a password
}

// State selects the transaction-state store.
type State struct {
	Driver      string `yaml:"driver"` // memory (default) or redis
	RedisURL    Secret `yaml:"redis_url"`
	RedisPrefix string `yaml:"redis_prefix"`
}

// Keys configures the key service.
type Keys struct {
	// MasterKey seals private keys at rest (32 bytes, base64 or hex).
	// Prefer SANAD_MASTER_KEY or MasterKeyFile over writing it here.
	MasterKey       Secret        `yaml:"master_key" env:"SANAD_MASTER_KEY"`
	MasterKeyFile   string        `yaml:"master_key_file" env:"SANAD_MASTER_KEY_FILE"`
	RefreshInterval time.Duration `yaml:"refresh_interval"`
}

// Admin configures the admin APIs.
type Admin struct {
	// Token is the bearer token of the admin APIs.
	Token     Secret `yaml:"token" env:"SANAD_ADMIN_TOKEN"`
	TokenFile string `yaml:"token_file" env:"SANAD_ADMIN_TOKEN_FILE"`
}

// Secret is a string that never prints.
type Secret string

// String redacts the value.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString redacts the value in %#v.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the value; call it only where the secret is used.
func (s Secret) Reveal() string { return string(s) }

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Addr:       "127.0.0.1:8080",
		DataDir:    "./sanad-data",
		Components: []string{"all"},
		Log:        Log{Format: "json", Level: "info"},
		HTTP: HTTP{
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       15 * time.Second,
			WriteTimeout:      30 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   20 * time.Second,
			MaxBodyBytes:      1 << 20,
		},
		Storage: Storage{Driver: "sqlite"},
		State:   State{Driver: "memory", RedisPrefix: "sanad:"},
		Keys:    Keys{RefreshInterval: 30 * time.Second},
	}
}

// Load builds a configuration from defaults, the YAML file at path (if path
// is not empty) and the environment. It does not validate.
func Load(path string, environ []string) (Config, error) {
	cfg := Default()
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return cfg, fmt.Errorf("config: %w", err)
		}
		defer f.Close()
		if err := Decode(f, &cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Decode reads YAML into cfg strictly: unknown fields are errors.
func Decode(r io.Reader, cfg *Config) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return err
	}
	return nil
}

// IssuerID is the credential issuer identifier: issuer.id, or
// <public_url>/issuer.
func (c Config) IssuerID() string {
	if c.Issuer.ID != "" {
		return c.Issuer.ID
	}
	return strings.TrimRight(c.PublicURL, "/") + "/issuer"
}

// ResolvedComponents returns the components to run, in a fixed order.
func (c Config) ResolvedComponents() []string {
	if len(c.Components) == 0 || slices.Contains(c.Components, "all") {
		return slices.Clone(Components)
	}
	var out []string
	for _, name := range Components {
		if slices.Contains(c.Components, name) {
			out = append(out, name)
		}
	}
	return out
}

// Runs reports whether the component is enabled.
func (c Config) Runs(component string) bool {
	return slices.Contains(c.ResolvedComponents(), component)
}

// SQLiteFile is the SQLite database path.
func (c Config) SQLiteFile() string {
	if c.Storage.SQLitePath != "" {
		return c.Storage.SQLitePath
	}
	return filepath.Join(c.DataDir, "sanad.db")
}

// Validate reports every problem in the configuration of a server at once.
func (c *Config) Validate() error { return c.validate(true) }

// ValidateForTools is Validate for the operator commands (migrate, keys),
// which serve no admin API and need no admin token; the commands that need
// the master key check for it themselves.
func (c *Config) ValidateForTools() error { return c.validate(false) }

func (c *Config) validate(serving bool) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "%q is not host:port", c.Addr)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		switch {
		case err != nil || u.Host == "":
			bad("public_url", "%q is not an absolute URL", c.PublicURL)
		case u.Scheme != "https" && u.Scheme != "http":
			bad("public_url", "scheme must be https (or http for local development), got %q", u.Scheme)
		case u.RawQuery != "" || u.Fragment != "":
			bad("public_url", "must not have a query or fragment")
		}
	}
	if c.DataDir == "" {
		bad("data_dir", "must not be empty")
	}
	for _, name := range c.Components {
		if name != "all" && !slices.Contains(Components, name) {
			bad("components", "unknown component %q (known: all, %s)", name, strings.Join(Components, ", "))
		}
	}
	if !slices.Contains([]string{"json", "text"}, c.Log.Format) {
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		bad("log.level", "must be debug, info, warn or error, got %q", c.Log.Level)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"http.read_header_timeout", c.HTTP.ReadHeaderTimeout},
		{"http.read_timeout", c.HTTP.ReadTimeout},
		{"http.write_timeout", c.HTTP.WriteTimeout},
		{"http.idle_timeout", c.HTTP.IdleTimeout},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout},
		{"keys.refresh_interval", c.Keys.RefreshInterval},
	} {
		if d.v <= 0 {
			bad(d.name, "must be a positive duration, got %s", d.v)
		}
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		bad("http.max_body_bytes", "must be at least 1024, got %d", c.HTTP.MaxBodyBytes)
	}
	switch c.Storage.Driver {
	case "sqlite":
		if c.Storage.PostgresURL != "" {
			bad("storage.postgres_url", "set, but storage.driver is sqlite")
		}
	case "postgres":
		if c.Storage.PostgresURL == "" {
			bad("storage.postgres_url", "required when storage.driver is postgres")
		} else if u, err := url.Parse(c.Storage.PostgresURL.Reveal()); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			bad("storage.postgres_url", "must be a postgres:// URL")
		}
	default:
		bad("storage.driver", "must be sqlite or postgres, got %q", c.Storage.Driver)
	}
	switch c.State.Driver {
	case "memory":
		if c.State.RedisURL != "" {
			bad("state.redis_url", "set, but state.driver is memory")
		}
	case "redis":
		if c.State.RedisURL == "" {
			bad("state.redis_url", "required when state.driver is redis")
		} else if u, err := url.Parse(c.State.RedisURL.Reveal()); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") {
			bad("state.redis_url", "must be a redis:// or rediss:// URL")
		}
	default:
		bad("state.driver", "must be memory or redis, got %q", c.State.Driver)
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"idrepo.uin_length", c.IDRepo.UINLength}, {"idrepo.vid_length", c.IDRepo.VIDLength}} {
		if f.v != 0 && (f.v < 8 || f.v > 24) {
			bad(f.name, "must be between 8 and 24 digits, got %d", f.v)
		}
	}
	if c.Demo && c.IDRepo.UINLength != 0 && c.IDRepo.UINLength != 10 {
		bad("idrepo.uin_length", "--demo seeds residents with 10-digit UINs; leave uin_length unset or 10 with --demo")
	}
	if cmp.Or(c.IDRepo.UINLength, 10) == cmp.Or(c.IDRepo.VIDLength, 16) {
		bad("idrepo.vid_length", "must differ from idrepo.uin_length: the length tells a UIN from a VID")
	}
	for name, p := range c.IDRepo.VIDPolicies {
		if p.Validity < 0 || p.Uses < 0 || p.MaxActive < 0 {
			bad("idrepo.vid_policies."+name, "validity, uses and max_active must not be negative")
		}
	}
	o := c.OIDC
	if o.Profile != "" && o.Profile != "fapi2" {
		bad("oidc.profile", "must be empty or fapi2, got %q", o.Profile)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"transaction_ttl", o.TransactionTTL}, {"authenticated_ttl", o.AuthenticatedTTL}, {"code_ttl", o.CodeTTL},
		{"par_ttl", o.PARTTL}, {"access_token_ttl", o.AccessTokenTTL}, {"id_token_ttl", o.IDTokenTTL}, {"nonce_window", o.NonceWindow}} {
		if d.v < 0 {
			bad("oidc."+d.name, "must not be negative")
		}
	}
	if o.CodeTTL > 10*time.Minute {
		bad("oidc.code_ttl", "must be at most 10m (RFC 6749 section 4.1.2)")
	}
	if o.LoginRateLimit < -1 {
		bad("oidc.login_rate_limit", "must be -1 (off), 0 (default) or positive")
	}
	for _, l := range o.Languages {
		if len(l) != 3 {
			bad("oidc.languages", "%q is not an ISO 639-3 code", l)
		}
	}
	if a := c.HTTP.PprofAddr; a != "" {
		host, _, err := net.SplitHostPort(a)
		if ip := net.ParseIP(host); err != nil || ((ip == nil || !ip.IsLoopback()) && host != "localhost") {
			bad("http.pprof_addr", "must be a loopback host:port, got %q", a)
		}
	}
	is := c.Issuer
	if is.ID != "" {
		if u, err := url.Parse(is.ID); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.RawQuery != "" || u.Fragment != "" {
			bad("issuer.id", "must be an http(s) URL without query or fragment")
		} else if strings.TrimRight(is.ID, "/") == strings.TrimRight(c.PublicURL, "/") {
			bad("issuer.id", "must differ from public_url, the OpenID provider's issuer")
		}
	}
	if d := is.DID; d != "" {
		if id, ok := strings.CutPrefix(d, "did:web:"); !ok || id == "" || strings.ContainsAny(id, "#/?") {
			bad("issuer.did", "must be a did:web DID without fragment, such as did:web:id.example")
		}
	}
	if is.BatchSize < 0 || is.BatchSize > 100 {
		bad("issuer.batch_size", "must be between 1 and 100 (0 for the default)")
	}
	for i, d := range is.Display {
		if d.Name == "" {
			bad(fmt.Sprintf("issuer.display[%d].name", i), "is required")
		}
		if d.LogoURI != "" {
			if u, err := url.Parse(d.LogoURI); err != nil || (u.Scheme != "https" && u.Scheme != "data") {
				bad(fmt.Sprintf("issuer.display[%d].logo_uri", i), "must be an https or data: URI")
			}
		}
	}
	if is.RateLimit < -1 {
		bad("issuer.rate_limit", "must be -1 (off), 0 (default) or positive")
	}
	if is.TxCodeAttempts < 0 {
		bad("issuer.tx_code_attempts", "must not be negative")
	}
	if is.StatusListSize != 0 && (is.StatusListSize < statusListMinSize || is.StatusListSize > statusListMaxSize) {
		bad("issuer.status_list_size", "must be between %d and %d (0 for the default), got %d", statusListMinSize, statusListMaxSize, is.StatusListSize)
	}
	if is.StatusListTTL < 0 || is.StatusListTTL > time.Hour {
		bad("issuer.status_list_ttl", "must be between 0 (the default, 5s) and 1h, got %s", is.StatusListTTL)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"nonce_ttl", is.NonceTTL}, {"pre_authorized_code_ttl", is.PreAuthorizedCodeTTL}, {"proof_iat_window", is.ProofIATWindow}} {
		if d.v < 0 {
			bad("issuer."+d.name, "must not be negative")
		}
	}
	if as := is.AuthorizationServer; as != (ExternalAS{}) && (as.Issuer == "" || as.JWKSURL == "" || as.IndividualIDClaim == "") {
		bad("issuer.authorization_server", "needs issuer, jwks_url and individual_id_claim together")
	}
	a := c.IDRepo.Authn
	if a.OTPLength != 0 && (a.OTPLength < 4 || a.OTPLength > 10) {
		bad("idrepo.authn.otp_length", "must be between 4 and 10, got %d", a.OTPLength)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"otp_ttl", a.OTPTTL}, {"resend_delay", a.ResendDelay}, {"block_duration", a.BlockDuration}, {"failure_window", a.FailureWindow}} {
		if d.v < 0 {
			bad("idrepo.authn."+d.name, "must not be negative, got %s", d.v)
		}
	}
	if a.MaxSends < 0 || a.MaxAttempts < 0 || a.MaxFailures < 0 {
		bad("idrepo.authn", "max_sends, max_attempts and max_failures must not be negative")
	}
	switch c.Notify.Email {
	case "", "outbox":
	case "smtp":
		if err := c.Notify.SMTP.Validate(); err != nil {
			bad("notify.smtp", "%v", err)
		}
	default:
		bad("notify.email", "must be outbox, smtp or empty, got %q", c.Notify.Email)
	}
	switch c.Notify.Phone {
	case "", "outbox":
	case "webhook":
		if err := c.Notify.Webhook.Validate(); err != nil {
			bad("notify.webhook", "%v", err)
		}
	default:
		bad("notify.phone", "must be outbox, webhook or empty, got %q", c.Notify.Phone)
	}
	if c.Keys.MasterKey != "" && c.Keys.MasterKeyFile != "" {
		bad("keys", "set master_key or master_key_file, not both")
	}
	if serving && c.Keys.MasterKey == "" && c.Keys.MasterKeyFile == "" && !c.Demo {
		bad("keys.master_key", "required outside --demo (SANAD_MASTER_KEY or SANAD_MASTER_KEY_FILE)")
	}
	if c.Admin.Token != "" && c.Admin.TokenFile != "" {
		bad("admin", "set token or token_file, not both")
	}
	if c.Admin.Token != "" && len(c.Admin.Token) < 32 {
		bad("admin.token", "must be at least 32 characters")
	}
	if serving && c.Admin.Token == "" && c.Admin.TokenFile == "" && !c.Demo {
		bad("admin.token", "required outside --demo (SANAD_ADMIN_TOKEN or SANAD_ADMIN_TOKEN_FILE)")
	}
	return errors.Join(errs...)
}

// ReadSecretFile reads a secret from a file, trimming surrounding space, and
// refuses files other users can read.
func ReadSecretFile(path string) (Secret, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: mode %v lets other users read a secret; chmod 600 it", path, st.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s: empty", path)
	}
	return Secret(v), nil
}
