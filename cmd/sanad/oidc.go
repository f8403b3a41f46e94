package main

import (
	"context"
	"fmt"
	"github.com/sanad-id/sanad/internal/vciwiring"
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/internal/config"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/oidc/demobank"
	"github.com/sanad-id/sanad/storage"
)

// openProvider builds the OpenID provider from the configuration.
func openProvider(cfg config.Config, db storage.Durable, state storage.State, ks keyring, auth *authn.Authenticator, is *issuer.Issuer, log *slog.Logger) (*oidc.Provider, error) {
	o := cfg.OIDC
	pol := authnPolicy(cfg.IDRepo.Authn)
	def := authn.DefaultPolicy()
	if pol.OTPLength == 0 {
		pol.OTPLength = def.OTPLength
	}
	if pol.ResendDelay == 0 {
		pol.ResendDelay = def.ResendDelay
	}
	return oidc.New(oidc.Config{
		Issuer:           cfg.PublicURL,
		Clients:          db,
		Consents:         db,
		State:            state,
		Keys:             ks.Service,
		Sealer:           ks.secrets,
		Authn:            auth,
		Profile:          o.Profile,
		RequirePAR:       o.RequirePAR,
		PKCEOptional:     o.PKCEOptional,
		Languages:        o.Languages,
		TransactionTTL:   o.TransactionTTL,
		AuthenticatedTTL: o.AuthenticatedTTL,
		CodeTTL:          o.CodeTTL,
		PARTTL:           o.PARTTL,
		AccessTokenTTL:   o.AccessTokenTTL,
		IDTokenTTL:       o.IDTokenTTL,
		NonceWindow:      o.NonceWindow,
		LoginRateLimit:   o.LoginRateLimit,
		OTPLength:        pol.OTPLength,
		OTPResendDelay:   pol.ResendDelay,
		Logger:           log,

		CredentialIssuer:           is.Identifier(),
		CredentialScopes:           is.Scopes(),
		CredentialConfigurationIDs: is.ConfigurationIDs(),
		CredentialGrants:           vciwiring.CredentialGrants{Issuer: is},
	})
}

// demoBankID is the client id --demo registers for the demo bank.
const demoBankID = "sanad-demo-bank"

// startDemoBank registers the demo relying party (once; its key is kept in
// the data dir) and mounts it at /demo/bank.
func startDemoBank(ctx context.Context, cfg config.Config, eng gin.IRouter, db storage.Clients, log *slog.Logger) (string, error) {
	key, err := demobank.LoadOrCreateKey(filepath.Join(cfg.DataDir, "demo-bank-key.json"))
	if err != nil {
		return "", fmt.Errorf("demo bank key: %w", err)
	}
	base := strings.TrimRight(cfg.PublicURL, "/") + "/demo/bank"
	reg := oidc.NewClientRegistry(db, nil)
	want := demobank.Registration(demoBankID, key, base+"/callback")
	if _, err := reg.Get(ctx, demoBankID); err == nil {
		// Registered by an earlier start: bring it up to date (the public
		// URL or the key may have changed).
		if err := reg.Delete(ctx, demoBankID); err != nil {
			return "", fmt.Errorf("demo bank: %w", err)
		}
	}
	if _, err := reg.Create(ctx, want); err != nil {
		return "", fmt.Errorf("demo bank registration: %w", err)
	}
	bank, err := demobank.New(ctx, demobank.Config{Issuer: cfg.PublicURL, ClientID: demoBankID, SigningKey: key, BaseURL: base, Logger: log})
	if err != nil {
		return "", err
	}
	h := gin.WrapH(bank.Handler())
	eng.Any("/demo/bank", h)
	eng.Any("/demo/bank/*path", h)
	return base + "/", nil
}
