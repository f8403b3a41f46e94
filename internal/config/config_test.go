package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sanad.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadYAMLAndEnv(t *testing.T) {
	path := writeFile(t, `
addr: 0.0.0.0:9000
public_url: https://id.example.gov
components: [oidc, issuer]
storage:
  driver: postgres
  postgres_url: postgres://sanad@db/sanad
http:
  read_timeout: 7s
`)
	cfg, err := Load(path, []string{
		"SANAD_STATE_DRIVER=redis",
		"SANAD_STATE_REDIS_URL=redis://cache:6379/0",
		"SANAD_MASTER_KEY=abc",
		"SANAD_ADMIN_TOKEN=" + strings.Repeat("t", 40),
		"SANAD_HTTP_IDLE_TIMEOUT=9s",
		"SANAD_ISSUER_STATUS_LIST_TTL=2s",
		"SANAD_ISSUER_STATUS_LIST_SIZE=262144",
		"SANAD_ISSUER_DID=did:web:id.example.gov:issuer",
		"SANAD_TEST_POSTGRES_URL=ignored",
		"PATH=/usr/bin",
	})
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", cfg.Addr, "0.0.0.0:9000"},
		{"public_url", cfg.PublicURL, "https://id.example.gov"},
		{"components", strings.Join(cfg.ResolvedComponents(), ","), "oidc,issuer"},
		{"storage.driver", cfg.Storage.Driver, "postgres"},
		{"read_timeout", cfg.HTTP.ReadTimeout, 7 * time.Second},
		{"idle_timeout from env", cfg.HTTP.IdleTimeout, 9 * time.Second},
		{"state.driver from env", cfg.State.Driver, "redis"},
		{"master key alias", cfg.Keys.MasterKey.Reveal(), "abc"},
		{"default kept", cfg.HTTP.ShutdownTimeout, 20 * time.Second},
		{"issuer.status_list_ttl from env", cfg.Issuer.StatusListTTL, 2 * time.Second},
		{"issuer.status_list_size from env", cfg.Issuer.StatusListSize, int64(262144)},
		{"issuer.did from env", cfg.Issuer.DID, "did:web:id.example.gov:issuer"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() = %v, want nil", err)
	}
}

func TestUnknownYAMLFieldIsAnError(t *testing.T) {
	path := writeFile(t, "addr: 127.0.0.1:1\nstorage:\n  drivr: sqlite\n")
	_, err := Load(path, nil)
	if err == nil || !strings.Contains(err.Error(), "drivr") {
		t.Fatalf("Load(unknown field) error = %v, want one naming drivr", err)
	}
}

func TestUnknownEnvVariableIsAnError(t *testing.T) {
	_, err := Load("", []string{"SANAD_STORAGE_DRIVR=sqlite", "SANAD_HTTP_READ_TIMEOUT=soon"})
	if err == nil {
		t.Fatal("Load(bad env) error = nil, want errors")
	}
	for _, want := range []string{"SANAD_STORAGE_DRIVR", "SANAD_HTTP_READ_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Load(bad env) error = %v, want it to name %s", err, want)
		}
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := Default()
	cfg.Addr = "nohost"
	cfg.PublicURL = "ftp://x"
	cfg.Components = []string{"oidc", "bank"}
	cfg.Log.Format = "xml"
	cfg.HTTP.ReadTimeout = 0
	cfg.Storage.Driver = "postgres"
	cfg.State.Driver = "memcached"
	cfg.Admin.Token = "short"
	cfg.Issuer.StatusListSize = 1000
	cfg.Issuer.StatusListTTL = -time.Second
	cfg.Issuer.DID = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
	err := cfg.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, want := range []string{"addr", "public_url", `"bank"`, "log.format", "http.read_timeout",
		"storage.postgres_url", "state.driver", "admin.token", "keys.master_key",
		"issuer.status_list_size", "issuer.status_list_ttl", "issuer.did"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() error lacks %q:\n%v", want, err)
		}
	}
}

func TestDemoNeedsNoSecrets(t *testing.T) {
	cfg := Default()
	cfg.Demo = true
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate(demo defaults) = %v, want nil", err)
	}
	cfg.Demo = false
	if err := cfg.Validate(); err == nil {
		t.Fatal("Validate(defaults without demo) = nil, want missing master key and admin token")
	}
}

func TestSecretNeverPrints(t *testing.T) {
	cfg := Default()
	cfg.Keys.MasterKey = "super-secret-value"
	for _, s := range []string{cfg.Keys.MasterKey.String(), fmtAll(cfg)} {
		if strings.Contains(s, "super-secret-value") {
			t.Errorf("printed config contains the secret: %s", s)
		}
	}
}

func TestReadSecretFileRefusesWorldReadable(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open")
	closed := filepath.Join(dir, "closed")
	os.WriteFile(open, []byte("x\n"), 0o644)
	os.WriteFile(closed, []byte(" tok \n"), 0o600)
	if _, err := ReadSecretFile(open); err == nil {
		t.Error("ReadSecretFile(0644) error = nil, want refusal")
	}
	got, err := ReadSecretFile(closed)
	if err != nil || got.Reveal() != "tok" {
		t.Errorf("ReadSecretFile(0600) = %q, %v, want tok", got.Reveal(), err)
	}
}

func TestEnvNamesCoverAliases(t *testing.T) {
	names := EnvNames()
	for _, want := range []string{"SANAD_ADDR", "SANAD_STORAGE_POSTGRES_URL", "SANAD_MASTER_KEY", "SANAD_ADMIN_TOKEN_FILE"} {
		if !slices.Contains(names, want) {
			t.Errorf("EnvNames() lacks %s", want)
		}
	}
}

func TestToolsNeedNoAdminToken(t *testing.T) {
	cfg := Default()
	if err := cfg.ValidateForTools(); err != nil {
		t.Errorf("ValidateForTools() = %v, want nil", err)
	}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "admin.token") {
		t.Errorf("Validate() = %v, want admin.token required", err)
	}
}
