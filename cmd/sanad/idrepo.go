package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/idrepo/idgen"
	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/internal/config"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/sqldb"
)

// openRepo builds the ID repository on the database.
func openRepo(cfg config.Config, db *sqldb.DB, ks keyring, log *slog.Logger) (*idrepo.Repository, error) {
	var schema *idrepo.Schema
	if cfg.IDRepo.SchemaFile != "" {
		var err error
		if schema, err = idrepo.LoadSchemaFile(cfg.IDRepo.SchemaFile, idrepo.SchemaOptions{}); err != nil {
			return nil, fmt.Errorf("idrepo.schema_file: %w", err)
		}
	}
	rc := idrepo.Config{Store: db, Keys: ks.secrets, MAC: ks.secrets, Schema: schema, Logger: log}
	gen := func(rules idgen.Rules, length int) (*idgen.Generator, error) {
		if length != 0 {
			rules.Length = length
		}
		return idgen.New(rules, nil)
	}
	var err error
	if rc.UINGen, err = gen(idgen.DefaultUINRules(), cfg.IDRepo.UINLength); err != nil {
		return nil, fmt.Errorf("idrepo.uin_length: %w", err)
	}
	if rc.VIDGen, err = gen(idgen.DefaultVIDRules(), cfg.IDRepo.VIDLength); err != nil {
		return nil, fmt.Errorf("idrepo.vid_length: %w", err)
	}
	if len(cfg.IDRepo.VIDPolicies) > 0 {
		rc.VIDPolicies = idrepo.DefaultVIDPolicies()
		for name, p := range cfg.IDRepo.VIDPolicies {
			rc.VIDPolicies[name] = idrepo.VIDPolicy{Validity: p.Validity, Uses: p.Uses, MaxActive: p.MaxActive, ReplaceOldest: p.ReplaceOldest}
		}
	}
	return idrepo.New(rc)
}

// authnPolicy turns the configuration into the authenticator's limits;
// zero fields keep the defaults.
func authnPolicy(a config.Authn) authn.Policy {
	p := authn.Policy{
		OTPLength: a.OTPLength, OTPTTL: a.OTPTTL, ResendDelay: a.ResendDelay,
		MaxSends: a.MaxSends, MaxAttempts: a.MaxAttempts, BlockDuration: a.BlockDuration,
		MaxFailures: a.MaxFailures, FailureWindow: a.FailureWindow, KBIFields: a.KBIFields,
	}
	if a.Argon2MemoryKiB != 0 || a.Argon2Time != 0 {
		p.Argon2 = authn.DefaultPolicy().Argon2
		if a.Argon2MemoryKiB != 0 {
			p.Argon2.Memory = a.Argon2MemoryKiB
		}
		if a.Argon2Time != 0 {
			p.Argon2.Time = a.Argon2Time
		}
	}
	return p
}

// openNotifier builds the OTP delivery of each channel.
func openNotifier(cfg config.Config) (notify.Notifier, error) {
	tmpl := notify.DefaultTemplates()
	if cfg.Notify.TemplatesDir != "" {
		var err error
		if tmpl, err = notify.LoadTemplatesDir(cfg.Notify.TemplatesDir); err != nil {
			return nil, fmt.Errorf("notify.templates_dir: %w", err)
		}
	}
	var outbox *notify.FileOutbox
	transport := func(name string) (notify.Notifier, error) {
		switch name {
		case "outbox":
			if outbox == nil {
				var err error
				if outbox, err = notify.NewFileOutbox(cfg.OutboxFile(), tmpl); err != nil {
					return nil, err
				}
			}
			return outbox, nil
		case "smtp":
			return notify.NewSMTP(cfg.Notify.SMTP, tmpl)
		case "webhook":
			return notify.NewWebhook(cfg.Notify.Webhook, tmpl)
		}
		return nil, nil
	}
	email, err := transport(cfg.Notify.Email)
	if err != nil {
		return nil, fmt.Errorf("notify.email: %w", err)
	}
	phone, err := transport(cfg.Notify.Phone)
	if err != nil {
		return nil, fmt.Errorf("notify.phone: %w", err)
	}
	return notify.NewRouter(email, phone), nil
}

// openAuthn builds the authenticator the OIDC provider calls.
func openAuthn(cfg config.Config, repo *idrepo.Repository, db *sqldb.DB, state storage.State, n notify.Notifier, ks keyring, log *slog.Logger) (*authn.Authenticator, error) {
	return authn.New(authn.Config{Directory: idrepo.Directory{Repo: repo}, State: state, Factors: db, Notifier: n, MAC: ks.secrets,
		Policy: authnPolicy(cfg.IDRepo.Authn), Logger: log})
}

// seedDemo creates the demo residents (once) and gives them their PIN and
// password.
func seedDemo(ctx context.Context, repo *idrepo.Repository, auth *authn.Authenticator) ([]idrepo.DemoResident, error) {
	residents, err := idrepo.SeedDemo(ctx, repo)
	if err != nil {
		return nil, fmt.Errorf("demo residents: %w", err)
	}
	for _, r := range residents {
		if r.PIN != "" {
			if err := auth.SetPIN(ctx, r.ResidentID, r.PIN); err != nil {
				return nil, fmt.Errorf("demo resident PIN: %w", err)
			}
		}
		if r.Password != "" {
			if err := auth.SetPassword(ctx, r.ResidentID, r.Password); err != nil {
				return nil, fmt.Errorf("demo resident password: %w", err)
			}
		}
	}
	return residents, nil
}
