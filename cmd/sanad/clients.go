package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/storage"
)

const clientsUsage = `Usage:
  sanad clients add --id ID --name NAME --public-key FILE --redirect-uri URI --logo-uri URI [flags]
  sanad clients add --public --scope SCOPES --id ID --name NAME --redirect-uri URI --logo-uri URI [flags]
  sanad clients add --from-json FILE [flags that override the file]
  sanad clients list [--json]
  sanad clients show ID [--json]
  sanad clients disable ID [--json]
  sanad clients enable ID [--json]
  sanad clients delete ID [--json]

They work on the configured database (--config, --data-dir), through the same
registry as the client management API, so they validate alike. Errors print
eSignet's error code. See sanad clients SUBCOMMAND -h for the flags.
`

// clientsCommand: `sanad clients add|list|show|disable|enable|delete`, the
// operator's client registry.
func clientsCommand(ctx context.Context, e env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, clientsUsage)
		return usageError{errors.New("want a subcommand")}
	}
	cc := clientsCmd{e: e}
	var run func(context.Context, []string) error
	switch args[0] {
	case "add":
		run = cc.add
	case "list":
		run = cc.list
	case "show":
		run = cc.show
	case "disable":
		run = cc.disable
	case "enable":
		run = cc.enable
	case "delete":
		run = cc.delete
	case "help", "-h", "--help":
		fmt.Fprint(e.stdout, clientsUsage)
		return nil
	default:
		fmt.Fprint(e.stderr, clientsUsage)
		return usageError{fmt.Errorf("unknown subcommand %q", args[0])}
	}
	err := run(ctx, args[1:])
	var re *oidc.ClientRegistryError
	if !errors.As(err, &re) {
		return err
	}
	if cc.asJSON {
		// The errors member of eSignet's envelope, for scripts.
		cc.printJSON(map[string]any{"errors": []map[string]string{{"errorCode": re.Code, "errorMessage": re.Description}}})
	}
	if re.Code == oidc.ClientMgmtUnknownError && re.Cause != nil {
		// The operator's own database failed: the cause is theirs to see.
		return fmt.Errorf("%s: %s: %w", re.Code, re.Description, re.Cause)
	}
	return fmt.Errorf("%s: %s", re.Code, re.Description)
}

// clientsCmd is one run of a clients subcommand.
type clientsCmd struct {
	e      env
	c      commonFlags
	asJSON bool
}

// flagSet is the subcommand's flag set: the common flags and --json.
func (cc *clientsCmd) flagSet(sub string) *flag.FlagSet {
	fs := newFlagSet("clients "+sub, cc.e.stderr, &cc.c)
	fs.BoolVar(&cc.asJSON, "json", false, "print JSON")
	return fs
}

// parseWithID parses the flags of a subcommand that names one client; the
// id may come before or after the flags.
func parseWithID(fs *flag.FlagSet, args []string) (string, error) {
	var id string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		id, args = args[0], args[1:]
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return "", err
		}
		return "", usageError{err}
	}
	if id == "" && fs.NArg() == 1 {
		id = fs.Arg(0)
	} else if fs.NArg() > 0 || id == "" {
		return "", usageError{errors.New("want exactly one client ID")}
	}
	return id, nil
}

// open opens the database and the client registry over it.
func (cc *clientsCmd) open(ctx context.Context, fs *flag.FlagSet) (*tool, *oidc.ClientRegistry, error) {
	t, err := openTool(ctx, cc.e, &cc.c, fs, needDB)
	if err != nil {
		return nil, nil, err
	}
	return t, oidc.NewClientRegistry(t.db, nil), nil
}

func (cc *clientsCmd) printJSON(v any) error {
	enc := json.NewEncoder(cc.e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printStatus prints the answer of add, disable, enable and delete: the
// client id and its status, as the client management API answers.
func (cc *clientsCmd) printStatus(id, status, human string) error {
	if cc.asJSON {
		return cc.printJSON(map[string]string{"clientId": id, "status": status})
	}
	_, err := fmt.Fprintln(cc.e.stdout, human)
	return err
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// clientDefaultACRs is what --acrs defaults to.
var clientDefaultACRs = []string{"mosip:idp:acr:generated-code"}

func (cc *clientsCmd) add(ctx context.Context, args []string) error {
	var (
		id, name, publicKey, logoURI, rpID, claims, acrs, additional, fromJSON string
		scope, grantTypes                                                      string
		public                                                                 bool
		nameLang, redirectURIs                                                 listFlag
	)
	fs := cc.flagSet("add")
	fs.StringVar(&id, "id", "", "client `ID` (letters, digits, . _ ~ -)")
	fs.StringVar(&name, "name", "", "display `name`")
	fs.Var(&nameLang, "name-lang", "display names by ISO 639-3 language, comma-separated `LANG=NAME` pairs (repeatable)")
	fs.StringVar(&publicKey, "public-key", "", "`file` holding the client's public JWK (JSON)")
	fs.Var(&redirectURIs, "redirect-uri", "redirect `URI` (repeatable, 1 to 5)")
	fs.StringVar(&claims, "claims", "", "comma-separated user `claims` the client may receive (default none)")
	fs.StringVar(&acrs, "acrs", strings.Join(clientDefaultACRs, ","), "comma-separated authentication context `classes`")
	fs.StringVar(&logoURI, "logo-uri", "", "https `URI` of the logo the login page shows")
	fs.StringVar(&rpID, "rp-id", "", "relying party `ID` (default: the client ID)")
	fs.StringVar(&additional, "additional-config", "", "eSignet additionalConfig: a JSON `object`, or @FILE")
	fs.BoolVar(&public, "public", false, "a public client (a wallet app): token endpoint auth method none, no --public-key, no claims, credential scopes (--scope) only, PKCE")
	fs.StringVar(&scope, "scope", "", "space- or comma-separated credential `scopes` of a public client (additionalConfig scope)")
	fs.StringVar(&grantTypes, "grant-types", oidc.GrantTypeAuthorizationCode, "comma-separated `grant types`: authorization_code, "+oidc.GrantTypePreAuthorizedCode)
	fs.StringVar(&fromJSON, "from-json", "", "`file` holding an eSignet v3 create request (with or without its requestTime/request envelope); flags given override it")
	if err := parse(fs, args); err != nil {
		return err
	}

	// Without a file, the flags are the request; with one, the flags that
	// were given replace what it says.
	q := oidc.ClientRegistration{
		UserClaims:        []string{},
		AuthContextRefs:   clientDefaultACRs,
		GrantTypes:        []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
	}
	if fromJSON != "" {
		var err error
		if q, err = readClientRegistration(fromJSON); err != nil {
			return err
		}
	} else {
		var missing []string
		required := []struct{ name, value string }{
			{"--id", id}, {"--name", name}, {"--redirect-uri", redirectURIs.String()}, {"--logo-uri", logoURI},
		}
		if public {
			required = append(required, struct{ name, value string }{"--scope", scope})
		} else {
			required = append(required, struct{ name, value string }{"--public-key", publicKey})
		}
		for _, f := range required {
			if f.value == "" {
				missing = append(missing, f.name)
			}
		}
		if len(missing) > 0 {
			return usageError{fmt.Errorf("%s required (or --from-json FILE)", strings.Join(missing, ", "))}
		}
	}
	var err error
	fs.Visit(func(f *flag.Flag) {
		if err != nil {
			return
		}
		switch f.Name {
		case "id":
			q.ClientID = id
		case "name":
			q.ClientName = name
		case "name-lang":
			q.ClientNameLangMap, err = parseNameLang(nameLang)
		case "public-key":
			q.PublicKey, err = readPublicJWK(publicKey)
		case "redirect-uri":
			q.RedirectURIs = redirectURIs
		case "claims":
			q.UserClaims = splitList(claims)
			if q.UserClaims == nil {
				q.UserClaims = []string{}
			}
		case "acrs":
			q.AuthContextRefs = splitList(acrs)
		case "logo-uri":
			q.LogoURI = logoURI
		case "rp-id":
			q.RelyingPartyID = rpID
		case "additional-config":
			q.AdditionalConfig, err = readAdditionalConfig(additional)
		case "public":
			if public {
				q.ClientAuthMethods, q.PublicKey = []string{oidc.AuthMethodNone}, nil
			}
		case "grant-types":
			q.GrantTypes = splitList(grantTypes)
		}
	})
	if err == nil && scope != "" {
		// After --additional-config, whichever order the flags came in.
		q.AdditionalConfig, err = withScope(q.AdditionalConfig, scope)
	}
	if err != nil {
		return err
	}
	if fromJSON == "" && rpID == "" {
		q.RelyingPartyID = q.ClientID
	}
	// Validate before the database is opened: a mistake costs nothing.
	if err := q.Validate(); err != nil {
		return err
	}

	t, reg, err := cc.open(ctx, fs)
	if err != nil {
		return err
	}
	defer t.close()
	c, err := reg.Create(ctx, q)
	if err != nil {
		return err
	}
	return cc.printStatus(c.ID, c.Status, fmt.Sprintf("created client %s (%s)", c.ID, c.Status))
}

// withScope sets the scope member of additionalConfig (a JSON object, or
// nothing) to scopes, given space- or comma-separated.
func withScope(additionalConfig json.RawMessage, scopes string) (json.RawMessage, error) {
	cfg := map[string]json.RawMessage{}
	if len(bytes.TrimSpace(additionalConfig)) > 0 && string(bytes.TrimSpace(additionalConfig)) != "null" {
		if err := json.Unmarshal(additionalConfig, &cfg); err != nil || cfg == nil {
			return nil, &oidc.ClientRegistryError{Code: oidc.ClientMgmtInvalidAdditionalConfig, Status: http.StatusBadRequest,
				Description: "additionalConfig must be a JSON object", Cause: err}
		}
	}
	s, err := json.Marshal(strings.Join(strings.Fields(strings.ReplaceAll(scopes, ",", " ")), " "))
	if err != nil {
		return nil, err
	}
	cfg["scope"] = s
	return json.Marshal(cfg)
}

// clientInvalidRequest is the error of a request the CLI could not read.
func clientInvalidRequest(desc string, cause error) *oidc.ClientRegistryError {
	return &oidc.ClientRegistryError{Code: oidc.ClientMgmtInvalidRequest, Description: desc, Status: http.StatusBadRequest, Cause: cause}
}

// readClientRegistration reads an eSignet v3 create request, bare or in its
// {"requestTime", "request"} envelope. As in the API, unknown members and
// trailing data are errors.
func readClientRegistration(path string) (oidc.ClientRegistration, error) {
	var q oidc.ClientRegistration
	b, err := os.ReadFile(path)
	if err != nil {
		return q, err
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return q, clientInvalidRequest(path+" is not a JSON object", err)
	}
	var target any = &q
	envelope := struct {
		RequestTime string                   `json:"requestTime"`
		Request     *oidc.ClientRegistration `json:"request"`
	}{Request: &q}
	if _, ok := top["request"]; ok {
		target = &envelope
	}
	if err := decodeStrict(b, target); err != nil {
		return q, clientInvalidRequest(path+" is not an eSignet client create request (unknown member or wrong type)", err)
	}
	return q, nil
}

// decodeStrict decodes one JSON value into v: unknown members and trailing
// data are errors.
func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// readPublicJWK reads the client's public key: one JWK, or a JWK set that
// holds exactly one. The registry checks the key (and refuses private ones).
func readPublicJWK(path string) (json.RawMessage, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--public-key: %w", err)
	}
	b = bytes.TrimSpace(b)
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if json.Unmarshal(b, &set) == nil && set.Keys != nil {
		if len(set.Keys) != 1 {
			return nil, &oidc.ClientRegistryError{Code: oidc.ClientMgmtInvalidPublicKey, Status: http.StatusBadRequest,
				Description: fmt.Sprintf("%s is a JWK set of %d keys; give one key", path, len(set.Keys))}
		}
		return set.Keys[0], nil
	}
	return b, nil
}

// readAdditionalConfig takes a JSON object or @FILE.
func readAdditionalConfig(v string) (json.RawMessage, error) {
	if path, ok := strings.CutPrefix(v, "@"); ok {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--additional-config: %w", err)
		}
		return bytes.TrimSpace(b), nil
	}
	return json.RawMessage(strings.TrimSpace(v)), nil
}

// nameLangSplit finds the commas that start a new lang=NAME pair, so that a
// name may itself hold commas ("Bank, Ltd.").
var nameLangSplit = regexp.MustCompile(`,\s*([a-z]{3})=`)

// parseNameLang reads --name-lang values: lang=NAME pairs, comma-separated
// or repeated.
func parseNameLang(values []string) (map[string]string, error) {
	m := map[string]string{}
	for _, v := range values {
		v = nameLangSplit.ReplaceAllString(v, "\x00$1=")
		for _, pair := range strings.Split(v, "\x00") {
			lang, name, ok := strings.Cut(pair, "=")
			if !ok {
				return nil, usageError{fmt.Errorf("--name-lang: want LANG=NAME, got %q", pair)}
			}
			m[strings.TrimSpace(lang)] = name
		}
	}
	return m, nil
}

// clientsPageSize is how many clients list reads at a time (the registry's
// largest page).
const clientsPageSize = 1000

func (cc *clientsCmd) list(ctx context.Context, args []string) error {
	fs := cc.flagSet("list")
	if err := parse(fs, args); err != nil {
		return err
	}
	t, reg, err := cc.open(ctx, fs)
	if err != nil {
		return err
	}
	defer t.close()
	cs, err := listAllClients(ctx, reg, clientsPageSize)
	if err != nil {
		return err
	}
	if cc.asJSON {
		out := make([]clientDetail, 0, len(cs))
		for _, c := range cs {
			d, err := clientDetailOf(c)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return cc.printJSON(out)
	}
	tw := tabwriter.NewWriter(cc.e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tREDIRECT URIS\tACRS")
	for _, c := range cs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", c.ID, oneLine(c.Name), c.Status, len(c.RedirectURIs), strings.Join(c.ACRs, ","))
	}
	return tw.Flush()
}

// oneLine keeps a table row on one line whatever a name holds.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// listAllClients pages through the registry, pageSize clients at a time.
func listAllClients(ctx context.Context, reg *oidc.ClientRegistry, pageSize int) ([]storage.Client, error) {
	var all []storage.Client
	after := ""
	for {
		cs, err := reg.List(ctx, after, pageSize)
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
		if len(cs) < pageSize {
			return all, nil
		}
		after = cs[len(cs)-1].ID
	}
}

// clientDetail is a whole client, in the shape the client management API
// answers GET /client-mgmt/client/{clientId} with.
type clientDetail struct {
	oidc.ClientRegistration
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

func clientDetailOf(c storage.Client) (clientDetail, error) {
	key, err := oidc.ClientPublicJWK(c)
	if err != nil {
		return clientDetail{}, err
	}
	cfg := json.RawMessage(c.AdditionalConfig)
	if len(cfg) == 0 {
		cfg = json.RawMessage("null")
	}
	return clientDetail{
		ClientRegistration: oidc.ClientRegistration{
			ClientID: c.ID, ClientName: c.Name, ClientNameLangMap: c.NameLangMap, PublicKey: key,
			RelyingPartyID: c.RelyingPartyID, UserClaims: c.UserClaims, AuthContextRefs: c.ACRs,
			LogoURI: c.LogoURI, RedirectURIs: c.RedirectURIs, GrantTypes: c.GrantTypes,
			ClientAuthMethods: c.AuthMethods, AdditionalConfig: cfg,
		},
		Status: c.Status, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}, nil
}

func (cc *clientsCmd) show(ctx context.Context, args []string) error {
	fs := cc.flagSet("show")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	t, reg, err := cc.open(ctx, fs)
	if err != nil {
		return err
	}
	defer t.close()
	c, err := reg.Get(ctx, id)
	if err != nil {
		return err
	}
	d, err := clientDetailOf(c)
	if err != nil {
		return err
	}
	if cc.asJSON {
		return cc.printJSON(d)
	}
	tw := tabwriter.NewWriter(cc.e.stdout, 0, 4, 2, ' ', 0)
	row := func(k string, vs ...string) {
		if len(vs) == 0 {
			vs = []string{"-"}
		}
		for i, v := range vs {
			if i > 0 {
				k = ""
			}
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	var names []string
	for lang, n := range c.NameLangMap {
		names = append(names, lang+"="+oneLine(n))
	}
	slices.Sort(names)
	row("client id:", c.ID)
	row("name:", oneLine(c.Name))
	row("names:", names...)
	row("status:", c.Status)
	row("relying party:", c.RelyingPartyID)
	row("redirect URIs:", c.RedirectURIs...)
	row("claims:", c.UserClaims...)
	row("ACRs:", c.ACRs...)
	row("logo URI:", c.LogoURI)
	row("grant types:", strings.Join(c.GrantTypes, ", "))
	row("auth methods:", strings.Join(c.AuthMethods, ", "))
	if string(d.PublicKey) == "null" {
		row("public key:", "none (public client)")
	} else {
		row("public key:", string(d.PublicKey))
	}
	row("additional config:", string(d.AdditionalConfig))
	row("created:", c.CreatedAt.UTC().Format(time.RFC3339))
	row("updated:", c.UpdatedAt.UTC().Format(time.RFC3339))
	row("version:", fmt.Sprint(c.Version))
	return tw.Flush()
}

func (cc *clientsCmd) disable(ctx context.Context, args []string) error {
	return cc.setStatus(ctx, "disable", args, oidc.ClientStatusInactive)
}

func (cc *clientsCmd) enable(ctx context.Context, args []string) error {
	return cc.setStatus(ctx, "enable", args, oidc.ClientStatusActive)
}

// clientStatusAttempts bounds the retries of a status change that keeps
// meeting concurrent updates.
const clientStatusAttempts = 3

// setStatus disables or enables a client through the registry's update,
// which replaces every mutable field. The update is built from the client
// as read, and is written only on top of that version (pinnedClients): a
// concurrent change is never overwritten with stale fields; the status
// change is then computed again from the new version.
func (cc *clientsCmd) setStatus(ctx context.Context, sub string, args []string, status string) error {
	fs := cc.flagSet(sub)
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	t, reg, err := cc.open(ctx, fs)
	if err != nil {
		return err
	}
	defer t.close()
	for range clientStatusAttempts {
		c, err := reg.Get(ctx, id)
		if err != nil {
			return err
		}
		if c.Status == status {
			return cc.printStatus(c.ID, c.Status, fmt.Sprintf("client %s is already %s", c.ID, c.Status))
		}
		q := clientUpdateOf(c)
		q.Status = status
		pinned := oidc.NewClientRegistry(pinnedClients{Clients: t.db, version: c.Version}, nil)
		updated, err := pinned.Update(ctx, id, q)
		var re *oidc.ClientRegistryError
		if errors.As(err, &re) && re.Code == oidc.ClientMgmtConcurrentUpdate {
			continue
		}
		if err != nil {
			return err
		}
		return cc.printStatus(updated.ID, updated.Status, fmt.Sprintf("client %s is now %s", updated.ID, updated.Status))
	}
	return &oidc.ClientRegistryError{Code: oidc.ClientMgmtConcurrentUpdate, Status: http.StatusConflict,
		Description: "the client is being updated concurrently; try again"}
}

// clientUpdateOf is the update that leaves c as it is.
func clientUpdateOf(c storage.Client) oidc.ClientUpdate {
	claims := c.UserClaims
	if claims == nil {
		claims = []string{} // required, and may be empty
	}
	return oidc.ClientUpdate{
		ClientName: c.Name, ClientNameLangMap: c.NameLangMap, Status: c.Status, LogoURI: c.LogoURI,
		RedirectURIs: c.RedirectURIs, UserClaims: claims, AuthContextRefs: c.ACRs,
		GrantTypes: c.GrantTypes, ClientAuthMethods: c.AuthMethods, AdditionalConfig: json.RawMessage(c.AdditionalConfig),
	}
}

// pinnedClients is the client store of one status change: it writes an
// update only if it follows version, the version the update was built
// from; otherwise it reports storage.ErrConflict without writing.
type pinnedClients struct {
	storage.Clients
	version int64
}

func (p pinnedClients) UpdateClient(ctx context.Context, c storage.Client) error {
	if c.Version != p.version+1 {
		return storage.ErrConflict
	}
	return p.Clients.UpdateClient(ctx, c)
}

func (cc *clientsCmd) delete(ctx context.Context, args []string) error {
	fs := cc.flagSet("delete")
	id, err := parseWithID(fs, args)
	if err != nil {
		return err
	}
	t, reg, err := cc.open(ctx, fs)
	if err != nil {
		return err
	}
	defer t.close()
	if err := reg.Delete(ctx, id); err != nil {
		return err
	}
	return cc.printStatus(id, "DELETED", "deleted client "+id)
}
