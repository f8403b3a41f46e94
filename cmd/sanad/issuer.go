package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"github.com/sanad-id/sanad/internal/vciwiring"
	"io/fs"
	"log/slog"
	"os"

	"github.com/sanad-id/sanad/idrepo"
	"github.com/sanad-id/sanad/idrepo/notify"
	"github.com/sanad-id/sanad/internal/config"
	"github.com/sanad-id/sanad/issuer"
	"github.com/sanad-id/sanad/keys"
	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/templates"
)

// issuerParts is what openIssuer builds: the issuer, and what the OpenID
// provider needs to know about it.
type issuerParts struct {
	issuer *issuer.Issuer
	// tokens is set to the provider once it exists (the issuer and the
	// provider need each other).
	tokens *vciwiring.ProviderTokens
}

// openIssuer builds the credential issuer from the configuration.
func openIssuer(cfg config.Config, db storage.Durable, state storage.State, ks keyring, repo *idrepo.Repository, notifier notify.Notifier, log *slog.Logger) (*issuerParts, error) {
	ic := cfg.Issuer
	var fsys fs.FS = templates.FS()
	if ic.TemplatesDir != "" {
		fsys = os.DirFS(ic.TemplatesDir)
	}
	id := cfg.IssuerID()
	configs, err := issuer.LoadTemplates(fsys, id)
	if err != nil {
		return nil, fmt.Errorf("issuer templates: %w", err)
	}
	if err := issuer.CheckIdentityFields(configs, repo.Schema().Properties()); err != nil {
		return nil, fmt.Errorf("issuer templates: %w", err)
	}
	x5c, err := readX5C(ic.X5CFile)
	if err != nil {
		return nil, err
	}
	parts := &issuerParts{tokens: &vciwiring.ProviderTokens{}}
	var tokens issuer.TokenVerifier = parts.tokens
	if as := ic.AuthorizationServer; as.Issuer != "" {
		dir := idrepo.Directory{Repo: repo}
		v, err := issuer.NewJWKSVerifier(issuer.JWKSVerifierConfig{
			Issuer:   as.Issuer,
			JWKSURL:  as.JWKSURL,
			Audience: id,
			Resolve: func(ctx context.Context, claims map[string]any) (string, error) {
				loginID, _ := claims[as.IndividualIDClaim].(string)
				if loginID == "" {
					return "", issuer.ErrUnknownPerson
				}
				p, err := dir.Lookup(ctx, loginID)
				if err != nil || p.Status != idrepo.StatusActive {
					return "", issuer.ErrUnknownPerson
				}
				return p.ID, nil
			},
			Logger: log,
		})
		if err != nil {
			return nil, fmt.Errorf("issuer.authorization_server: %w", err)
		}
		tokens = v
	}
	// Pre-authorized codes are redeemed at Sanad's own token endpoint,
	// whose tokens an issuer bound to an external authorization server
	// does not accept: offers are off then (POST /v1/credential-offers
	// answers offers_not_configured).
	var persons issuer.PersonFinder = vciwiring.Persons{Repo: repo}
	if ic.AuthorizationServer.Issuer != "" {
		persons = nil
	}
	var display []issuer.Display
	for _, d := range ic.Display {
		dd := issuer.Display{Name: d.Name, Locale: d.Locale}
		if d.LogoURI != "" {
			dd.Logo = &issuer.Image{URI: d.LogoURI, AltText: d.LogoAlt}
		}
		display = append(display, dd)
	}
	is, err := issuer.New(issuer.Config{
		CredentialIssuer:     id,
		DID:                  ic.DID,
		Display:              display,
		AuthorizationServers: authorizationServers(cfg),
		Configurations:       configs,
		Tokens:               tokens,
		DPoP:                 &oidc.DPoPVerifier{State: state},
		Data:                 repo,
		Persons:              persons,
		Ledger:               db,
		StatusLists:          db,
		StatusListSize:       ic.StatusListSize,
		StatusListTTL:        ic.StatusListTTL,
		State:                state,
		Signers:              issuer.NewKeySigners(ks.Service, keys.PurposeCredentialSigning),
		Notifier:             notifier,
		BatchSize:            ic.BatchSize,
		NonceTTL:             ic.NonceTTL,
		ProofIATWindow:       ic.ProofIATWindow,
		PreAuthorizedCodeTTL: ic.PreAuthorizedCodeTTL,
		TxCodeAttempts:       ic.TxCodeAttempts,
		RateLimit:            ic.RateLimit,
		X5C:                  x5c,
		Logger:               log,
	})
	if err != nil {
		return nil, err
	}
	parts.issuer = is
	return parts, nil
}

// authorizationServers are the authorization servers the metadata names.
func authorizationServers(cfg config.Config) []string {
	if as := cfg.Issuer.AuthorizationServer.Issuer; as != "" {
		return []string{as}
	}
	return []string{cfg.PublicURL}
}

// readX5C reads a PEM certificate chain, leaf first.
func readX5C(file string) ([][]byte, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("issuer.x5c_file: %w", err)
	}
	var chain [][]byte
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(blk.Bytes); err != nil {
			return nil, fmt.Errorf("issuer.x5c_file: %w", err)
		}
		chain = append(chain, blk.Bytes)
	}
	if len(chain) == 0 {
		return nil, fmt.Errorf("issuer.x5c_file: no certificate in %s", file)
	}
	return chain, nil
}
