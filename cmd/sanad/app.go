package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/internal/config"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/memory"
	"github.com/sanad-id/sanad/storage/postgres"
	"github.com/sanad-id/sanad/storage/redis"
	"github.com/sanad-id/sanad/storage/sqldb"
	"github.com/sanad-id/sanad/storage/sqlite"
)

// Names of the development secrets --demo keeps in the data dir.
const (
	masterKeyFile  = "master-key"
	adminTokenFile = "admin-token"
)

// secrets are the resolved secrets of a process; notes are what the operator
// must be told about them (generated demo secrets).
type secrets struct {
	master     keys.MasterKey
	adminToken string
	notes      []string
}

// resolveSecrets fills in the secret file paths before validation: outside
// the configuration, a master key or admin token that --demo left in the data
// dir is used (with a warning); with --demo, missing ones are generated there.
func resolveSecrets(cfg *config.Config, needAdmin bool) (secrets, error) {
	var s secrets
	demoFile := func(name string) (string, bool) {
		p := filepath.Join(cfg.DataDir, name)
		_, err := os.Stat(p)
		return p, err == nil
	}
	if cfg.Keys.MasterKey == "" && cfg.Keys.MasterKeyFile == "" {
		p, exists := demoFile(masterKeyFile)
		switch {
		case exists:
			cfg.Keys.MasterKeyFile = p
			s.notes = append(s.notes, "using the development master key in "+p+"; set SANAD_MASTER_KEY in production")
		case cfg.Demo:
			if _, _, err := keys.LoadOrCreateMasterKeyFile(p); err != nil {
				return s, err
			}
			cfg.Keys.MasterKeyFile = p
			s.notes = append(s.notes, "generated a development master key in "+p+": it sits next to the data it protects, so this deployment is for demos only")
		}
	}
	if needAdmin && cfg.Admin.Token == "" && cfg.Admin.TokenFile == "" {
		p, exists := demoFile(adminTokenFile)
		switch {
		case exists:
			cfg.Admin.TokenFile = p
		case cfg.Demo:
			tok, err := createTokenFile(p)
			if err != nil {
				return s, err
			}
			cfg.Admin.TokenFile = p
			s.notes = append(s.notes, fmt.Sprintf("generated an admin API token: %s (saved in %s)", tok, p))
		}
	}
	validate := cfg.ValidateForTools
	if needAdmin {
		validate = cfg.Validate
	}
	if err := validate(); err != nil {
		return s, err
	}
	var err error
	switch {
	case cfg.Keys.MasterKey == "" && cfg.Keys.MasterKeyFile == "":
		return s, errors.New("keys.master_key: required (SANAD_MASTER_KEY or SANAD_MASTER_KEY_FILE)")
	case cfg.Keys.MasterKey != "":
		s.master, err = keys.ParseMasterKey(cfg.Keys.MasterKey.Reveal())
	default:
		s.master, err = keys.LoadMasterKeyFile(cfg.Keys.MasterKeyFile)
	}
	if err != nil {
		return s, fmt.Errorf("keys.master_key: %w", err)
	}
	if needAdmin {
		s.adminToken = cfg.Admin.Token.Reveal()
		if cfg.Admin.TokenFile != "" {
			v, err := config.ReadSecretFile(cfg.Admin.TokenFile)
			if err != nil {
				return s, fmt.Errorf("admin.token_file: %w", err)
			}
			s.adminToken = v.Reveal()
		}
		if len(s.adminToken) < 32 {
			return s, errors.New("admin token: must be at least 32 characters")
		}
	}
	return s, nil
}

// createTokenFile writes a new random token to path (mode 0600), or returns
// the one already there if another process won the race.
func createTokenFile(path string) (string, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		v, err := config.ReadSecretFile(path)
		return v.Reveal(), err
	}
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		return "", err
	}
	return tok, f.Close()
}

// openDurable opens the configured database and applies its migrations.
func openDurable(ctx context.Context, cfg config.Config) (*sqldb.DB, []string, error) {
	var (
		db  *sqldb.DB
		err error
	)
	switch cfg.Storage.Driver {
	case "postgres":
		db, err = postgres.OpenNoMigrate(ctx, cfg.Storage.PostgresURL.Reveal())
	default:
		if err := os.MkdirAll(filepath.Dir(cfg.SQLiteFile()), 0o700); err != nil {
			return nil, nil, fmt.Errorf("storage: %w", err)
		}
		db, err = sqlite.OpenNoMigrate(ctx, cfg.SQLiteFile())
	}
	if err != nil {
		return nil, nil, fmt.Errorf("storage (%s): %w", cfg.Storage.Driver, err)
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("storage (%s): migrate: %w", cfg.Storage.Driver, err)
	}
	return db, applied, nil
}

// openState opens the configured transaction-state store.
func openState(ctx context.Context, cfg config.Config) (storage.State, error) {
	if cfg.State.Driver == "redis" {
		st, err := redis.Open(ctx, cfg.State.RedisURL.Reveal(), cfg.State.RedisPrefix)
		if err != nil {
			return nil, fmt.Errorf("state (redis): %w", err)
		}
		return st, nil
	}
	return memory.New(memory.Config{}), nil
}

// keyring is the key service of a process: signing and encryption key sets,
// and the symmetric keys that protect personal data.
type keyring struct {
	*keys.Service
	secrets *keys.Secrets
}

// openKeys starts the key services on the store: keys missing from any key
// set are generated now.
func openKeys(ctx context.Context, cfg config.Config, store storage.Keys, master keys.MasterKey, log *slog.Logger) (keyring, error) {
	backend, err := keys.NewSoftwareBackend(master)
	if err != nil {
		return keyring{}, err
	}
	svc, err := keys.New(ctx, keys.Config{
		Store:           store,
		Backend:         backend,
		Sets:            keys.DefaultSets(),
		Logger:          log,
		RefreshInterval: cfg.Keys.RefreshInterval,
	})
	if err != nil {
		return keyring{}, err
	}
	sec, err := keys.NewSecrets(ctx, keys.SecretsConfig{Store: store, Backend: backend, Logger: log})
	if err != nil {
		return keyring{}, err
	}
	return keyring{Service: svc, secrets: sec}, nil
}

// toolNeeds says what an operator command opens besides the database.
type toolNeeds int

const (
	needDB   toolNeeds = iota // the database only: no secrets
	needKeys                  // and the key services (master key required)
	needRepo                  // and the ID repository
)

// tool is what an operator command opened; close releases it.
type tool struct {
	cfg     config.Config
	db      *sqldb.DB
	applied []string
	keys    keyring
	repo    *idrepo.Repository
}

// openTool loads the configuration of an operator command (after its flags
// are parsed) and opens what it needs.
func openTool(ctx context.Context, e env, c *commonFlags, fs *flag.FlagSet, needs toolNeeds) (*tool, error) {
	cfg, err := c.load(fs, e.environ)
	if err != nil {
		return nil, err
	}
	var sec secrets
	if needs >= needKeys {
		sec, err = resolveSecrets(&cfg, false)
	} else {
		err = cfg.ValidateForTools()
	}
	if err != nil {
		return nil, err
	}
	t := &tool{cfg: cfg}
	if t.db, t.applied, err = openDurable(ctx, cfg); err != nil {
		return nil, err
	}
	if needs >= needKeys {
		if t.keys, err = openKeys(ctx, cfg, t.db, sec.master, nil); err != nil {
			t.close()
			return nil, err
		}
	}
	if needs >= needRepo {
		if t.repo, err = openRepo(cfg, t.db, t.keys, nil); err != nil {
			t.close()
			return nil, err
		}
	}
	return t, nil
}

// close flushes the repository's audit log and closes the database.
func (t *tool) close() error {
	var err error
	if t.repo != nil {
		err = t.repo.Close()
	}
	return errors.Join(err, t.db.Close())
}
