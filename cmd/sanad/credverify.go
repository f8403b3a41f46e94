package main

import (
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/verify"
)

const credentialVerifyUsage = `Usage: sanad credential verify [flags] FILE|-

Verifies a credential (ldp_vc, jwt_vc_json, or an SD-JWT VC with or without
a key binding JWT) read from FILE, or from standard input with "-", and
prints one line per check: format, signature, issuer (with
--trusted-issuer), validity, holder_binding and status. Exit status 0 when
the credential verifies (SUCCESS), 1 when it does not (INVALID, EXPIRED,
REVOKED, SUSPENDED), 2 for a usage error.

did:key and did:jwk issuers are resolved offline; did:web documents are
fetched over HTTPS unless pinned with --did-doc. Issuers of JWT formats
named by a URL need their keys: --jwks. Status lists are fetched over
HTTPS; --offline fetches nothing (status checks are skipped, did:web only
from --did-doc).

  sanad credential verify --did-doc did.json --context https://id.example/ctx/v1=ctx.json cred.json
  sanad credential verify --jwks https://id.example=jwks.json --nonce n-123 --aud verifier presentation.txt

Flags:
`

// credentialCommand: `sanad credential verify`.
func credentialCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 || args[0] != "verify" {
		return usageError{errors.New("want `credential verify`")}
	}
	return credentialVerify(ctx, e, verifyDeps{stdin: os.Stdin}, args[1:])
}

// verifyDeps are what credentialVerify takes from outside its arguments;
// tests replace them.
type verifyDeps struct {
	stdin io.Reader
	// client fetches status lists and did:web documents; nil means the
	// defaults of verify.HTTPStatusFetcher and did.WebMethod.
	client *http.Client
	now    func() time.Time
}

// errNotVerified is the error of a credential that did not verify (exit
// status 1); the report is already printed.
var errNotVerified = errors.New("the credential did not verify")

func credentialVerify(ctx context.Context, e env, deps verifyDeps, args []string) error {
	var (
		didDocs, contexts, jwks, trusted listFlag
		offline, asJSON                  bool
		nonce, aud                       string
	)
	fs := flag.NewFlagSet("sanad credential verify", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), credentialVerifyUsage)
		fs.PrintDefaults()
	}
	fs.Var(&didDocs, "did-doc", "pinned DID document `FILE` (one document or an array; repeatable)")
	fs.Var(&contexts, "context", "extra JSON-LD context `URL=FILE` (repeatable)")
	fs.Var(&jwks, "jwks", "issuer keys for JWT formats, `ISSUER=FILE` with a JWKS (repeatable)")
	fs.Var(&trusted, "trusted-issuer", "accept only this issuer `ID` (repeatable)")
	fs.BoolVar(&offline, "offline", false, "never fetch: no status lists, did:web only from --did-doc")
	fs.BoolVar(&asJSON, "json", false, "print the result as JSON")
	fs.StringVar(&nonce, "nonce", "", "the `NONCE` a key binding JWT must carry (with --aud: binding required)")
	fs.StringVar(&aud, "aud", "", "the `AUDIENCE` a key binding JWT must carry (with --nonce)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(files) != 1:
		return usageError{errors.New("give exactly one FILE (or - for standard input)")}
	case (nonce == "") != (aud == ""):
		return usageError{errors.New("--nonce and --aud go together")}
	}

	opts := verify.Options{TrustedIssuers: trusted, Now: deps.now}
	if nonce != "" {
		opts.RequireHolderBinding, opts.Nonce, opts.Audience = true, nonce, aud
	}
	if opts.Contexts, err = contextLoader(contexts); err != nil {
		return err
	}
	trust, err := did.LoadTrustList(didDocs...)
	if err != nil {
		return usageError{fmt.Errorf("--did-doc: %w", err)}
	}
	resolver := did.NewResolver(did.KeyMethod{}, did.JWKMethod{},
		did.NewWebMethod(did.WebConfig{Trust: trust, Offline: offline, Client: deps.client}))
	opts.Methods = resolver
	if opts.Keys, err = jwksResolver(jwks, resolver); err != nil {
		return err
	}
	if !offline {
		opts.Status = &verify.HTTPStatusFetcher{Client: deps.client}
	}

	raw, err := readCredential(files[0], deps.stdin)
	if err != nil {
		return err
	}
	r, err := verify.Credential(ctx, raw, opts)
	if err != nil {
		return usageError{err}
	}
	if asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		printResult(e.stdout, r)
	}
	if r.Status != verify.StatusSuccess {
		return fmt.Errorf("%w: %s", errNotVerified, r.Status)
	}
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError{err}
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// splitAssignment splits NAME=FILE at the last "=" (a URL may hold "=",
// a file name rarely does).
func splitAssignment(flagName, v string) (string, string, error) {
	i := strings.LastIndexByte(v, '=')
	if i <= 0 || i == len(v)-1 {
		return "", "", usageError{fmt.Errorf("--%s %q: want NAME=FILE", flagName, v)}
	}
	return v[:i], v[i+1:], nil
}

// contextLoader is the bundled contexts plus the --context ones.
func contextLoader(flags []string) (*jsonld.Loader, error) {
	extra := make(map[string][]byte, len(flags))
	for _, f := range flags {
		u, file, err := splitAssignment("context", f)
		if err != nil {
			return nil, err
		}
		b, err := readFileMax(file, jsonld.MaxContextSize)
		if err != nil {
			return nil, usageError{fmt.Errorf("--context %s: %w", u, err)}
		}
		extra[u] = b
	}
	l, err := jsonld.NewLoader(extra)
	if err != nil {
		return nil, usageError{fmt.Errorf("--context: %w", err)}
	}
	return l, nil
}

// maxJWKSFile bounds a --jwks file.
const maxJWKSFile = 1 << 20

// jwksResolver resolves issuer keys from the --jwks files, and the keys of
// DID issuers with dids.
func jwksResolver(flags []string, dids credential.KeyResolver) (credential.KeyResolver, error) {
	sets := map[string]jwk.Set{}
	for _, f := range flags {
		issuer, file, err := splitAssignment("jwks", f)
		if err != nil {
			return nil, err
		}
		if _, dup := sets[issuer]; dup {
			return nil, usageError{fmt.Errorf("--jwks: two key sets for %s", issuer)}
		}
		b, err := readFileMax(file, maxJWKSFile)
		if err != nil {
			return nil, usageError{fmt.Errorf("--jwks %s: %w", issuer, err)}
		}
		set, err := jwk.Parse(b)
		if err != nil {
			return nil, usageError{fmt.Errorf("--jwks %s: %w", issuer, err)}
		}
		for i := range set.Len() {
			k, _ := set.Key(i)
			if private, err := jwk.IsPrivateKey(k); err != nil || private {
				return nil, usageError{fmt.Errorf("--jwks %s: key %d is not a public key", issuer, i)}
			}
		}
		sets[issuer] = set
	}
	return credential.KeyResolverFunc(func(ctx context.Context, issuer, kid string) (crypto.PublicKey, error) {
		set, ok := sets[issuer]
		if !ok {
			if strings.HasPrefix(issuer, "did:") {
				return dids.ResolveKey(ctx, issuer, kid)
			}
			return nil, fmt.Errorf("no keys for issuer %q (give --jwks ISSUER=FILE)", issuer)
		}
		var k jwk.Key
		switch {
		case kid != "":
			if k, ok = set.LookupKeyID(kid); !ok {
				return nil, fmt.Errorf("issuer %q has no key %q", issuer, kid)
			}
		case set.Len() == 1:
			k, _ = set.Key(0)
		default:
			return nil, fmt.Errorf("the signature names no kid and issuer %q has %d keys", issuer, set.Len())
		}
		var pub any
		if err := jwk.Export(k, &pub); err != nil {
			return nil, err
		}
		return pub, nil
	}), nil
}

// readCredential reads FILE, or standard input for "-", up to
// verify.MaxSize bytes.
func readCredential(name string, stdin io.Reader) ([]byte, error) {
	if name != "-" {
		b, err := readFileMax(name, verify.MaxSize)
		if err != nil {
			return nil, usageError{err}
		}
		return b, nil
	}
	if stdin == nil {
		return nil, usageError{errors.New("no standard input")}
	}
	b, err := io.ReadAll(io.LimitReader(stdin, verify.MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > verify.MaxSize {
		return nil, usageError{fmt.Errorf("standard input is larger than %d bytes", verify.MaxSize)}
	}
	return b, nil
}

func readFileMax(name string, max int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, max)
	}
	return b, nil
}

// printResult writes the human report: the summary, then one line per
// check. Claims are not printed (they are personal data; --json has them).
func printResult(w io.Writer, r verify.Result) {
	fmt.Fprintf(w, "%s", r.Status)
	if r.Format != "" {
		fmt.Fprintf(w, " %s", r.Format)
	}
	if r.Issuer != "" {
		fmt.Fprintf(w, " issued by %s", r.Issuer)
	}
	fmt.Fprintln(w)
	for _, c := range r.Checks {
		detail := c.Error
		if detail == "" {
			detail = c.Reason
		}
		if c.Entry != "" {
			detail = strings.TrimSuffix(c.Entry+": "+detail, ": ")
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-15s %-8s %s", c.Name, c.Status, detail), " "))
	}
}
