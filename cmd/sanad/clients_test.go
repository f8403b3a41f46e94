package main

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sanad-id/sanad/oidc"
	"github.com/sanad-id/sanad/storage/sqlite"
)

// testJWK returns a new P-256 key as a public JWK and as a private one.
func testJWK(t *testing.T) (public, private map[string]string) {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	pt := k.PublicKey().Bytes() // 0x04 || X || Y
	public = map[string]string{"kty": "EC", "crv": "P-256", "x": b64(pt[1:33]), "y": b64(pt[33:]), "use": "sig"}
	private = maps.Clone(public)
	private["d"] = b64(k.Bytes())
	return public, private
}

// writeJSON writes v to a new file in dir and returns its path.
func writeJSON(t *testing.T, dir, name string, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func compactJSON(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	return out.String()
}

// cliErrors decodes the errors that --json prints.
func cliErrors(t *testing.T, out string) []string {
	t.Helper()
	var v struct {
		Errors []struct{ ErrorCode, ErrorMessage string }
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("--json error output is not JSON: %v\n%s", err, out)
	}
	var codes []string
	for _, e := range v.Errors {
		codes = append(codes, e.ErrorCode)
	}
	return codes
}

func TestClientsCLI(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, cleanEnv, append(append([]string{"clients"}, args...), "--data-dir", data)...)
	}
	pub1, _ := testJWK(t)
	pub2, _ := testJWK(t)
	pub3, _ := testJWK(t)
	pub4, priv4 := testJWK(t)
	key1 := writeJSON(t, dir, "key1.json", pub1)
	key4 := writeJSON(t, dir, "key4.json", pub4)
	privKey := writeJSON(t, dir, "private.json", priv4)

	addFlags := func(id, key string, extra ...string) []string {
		return append([]string{"add", "--id", id, "--name", "Demo Bank, Ltd.", "--public-key", key,
			"--redirect-uri", "https://bank.example/cb", "--redirect-uri", "https://bank.example/cb2",
			"--logo-uri", "https://bank.example/logo.png"}, extra...)
	}

	// From flags.
	code, out, errOut := cli(addFlags("bank-1", key1, "--name-lang", "eng=Demo Bank, Ltd.,ara=بنك العرض",
		"--claims", "name,email", "--acrs", "mosip:idp:acr:generated-code,mosip:idp:acr:password",
		"--additional-config", `{"require_pkce":true}`)...)
	if code != 0 || out != "created client bank-1 (ACTIVE)\n" {
		t.Fatalf("clients add (flags) = %d %q %q, want created client bank-1 (ACTIVE)", code, out, errOut)
	}

	// From eSignet v3 create requests: in the envelope and bare.
	request := map[string]any{
		"clientId": "wallet-app", "clientName": "Wallet", "clientNameLangMap": map[string]string{"eng": "Wallet"},
		"publicKey": pub2, "relyingPartyId": "wallet-rp", "userClaims": []string{"name"},
		"authContextRefs": []string{"mosip:idp:acr:linked-wallet"}, "logoUri": "https://wallet.example/logo.png",
		"redirectUris": []string{"io.wallet.app://oauth"}, "grantTypes": []string{"authorization_code"},
		"clientAuthMethods": []string{"private_key_jwt"}, "additionalConfig": map[string]any{"dpop_bound_access_tokens": true},
	}
	envelope := writeJSON(t, dir, "create.json", map[string]any{"requestTime": "2026-11-24T10:00:00.000Z", "request": request})
	code, out, errOut = cli("add", "--from-json", envelope, "--json")
	var created struct{ ClientID, Status string }
	if json.Unmarshal([]byte(out), &created); code != 0 || created.ClientID != "wallet-app" || created.Status != "ACTIVE" {
		t.Fatalf("clients add --from-json (envelope) --json = %d %q %q, want wallet-app ACTIVE", code, out, errOut)
	}
	request["clientId"], request["publicKey"] = "portal", pub3
	bare := writeJSON(t, dir, "bare.json", request)
	// A flag given with --from-json overrides the file.
	if code, out, errOut := cli("add", "--from-json", bare, "--name", "Portal"); code != 0 || !strings.Contains(out, "portal") {
		t.Fatalf("clients add --from-json (bare) = %d %q %q", code, out, errOut)
	}

	// Refusals carry eSignet's error code; nothing is stored.
	unknownMember := writeJSON(t, dir, "unknown.json", map[string]any{"clientId": "x", "colour": "blue"})
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"duplicate id", addFlags("bank-1", key4), oidc.ClientMgmtDuplicateClientID},
		{"duplicate key", addFlags("bank-2", key1), oidc.ClientMgmtDuplicatePublicKey},
		{"http redirect URI", append(addFlags("bank-3", key4), "--redirect-uri", "http://bank.example/cb"), oidc.ClientMgmtInvalidRedirectURI},
		{"wildcard redirect URI", append(addFlags("bank-3", key4), "--redirect-uri", "https://*.bank.example/cb"), oidc.ClientMgmtInvalidRedirectURI},
		{"private JWK", addFlags("bank-3", privKey), oidc.ClientMgmtInvalidPublicKey},
		{"unknown claim", append(addFlags("bank-3", key4), "--claims", "name,shoe_size"), oidc.ClientMgmtInvalidClaim},
		{"bad language", append(addFlags("bank-3", key4), "--name-lang", "english=Bank"), oidc.ClientMgmtInvalidLanguageCode},
		{"bad additional config", append(addFlags("bank-3", key4), "--additional-config", `{"colour":1}`), oidc.ClientMgmtInvalidAdditionalConfig},
		{"unknown member in file", []string{"add", "--from-json", unknownMember}, oidc.ClientMgmtInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(tc.args...)
			if code != 1 || !strings.Contains(errOut, "sanad clients: "+tc.want+": ") {
				t.Errorf("clients %s = %d %q, want exit 1 and %s", strings.Join(tc.args, " "), code, errOut, tc.want)
			}
			if strings.Contains(out+errOut, priv4["d"]) {
				t.Error("the output shows the private key")
			}
			code, out, _ = cli(append(tc.args, "--json")...)
			if codes := cliErrors(t, out); code != 1 || !slices.Equal(codes, []string{tc.want}) {
				t.Errorf("clients %s --json = %d %v, want [%s]", strings.Join(tc.args, " "), code, codes, tc.want)
			}
		})
	}
	if code, _, errOut := cli("show", "bank-3"); code != 1 || !strings.Contains(errOut, oidc.ClientMgmtInvalidClientID) {
		t.Errorf("show of a refused client = %d %q, want invalid_client_id", code, errOut)
	}

	// Mistakes in the command line are usage errors (exit 2).
	for _, args := range [][]string{{"add", "--id", "x"}, {"show"}, {"show", "a", "b"}, {"frobnicate"}} {
		if code, _, _ := cli(args...); code != 2 {
			t.Errorf("clients %s = %d, want 2", strings.Join(args, " "), code)
		}
	}

	if code, _, errOut := runCLI(t, cleanEnv, "clients"); code != 2 || !strings.Contains(errOut, "sanad clients add") {
		t.Errorf("clients without a subcommand = %d %q, want 2 and the usage", code, errOut)
	}

	// list: every client, ordered by id.
	code, out, errOut = cli("list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 || !strings.HasPrefix(lines[0], "ID ") {
		t.Fatalf("clients list = %d\n%s%s\nwant a header and 3 rows", code, out, errOut)
	}
	for i, want := range [][]string{
		{"bank-1", "Demo Bank, Ltd.", "ACTIVE", "2", "mosip:idp:acr:generated-code,mosip:idp:acr:password"},
		{"portal", "Portal", "ACTIVE", "1", "mosip:idp:acr:linked-wallet"},
		{"wallet-app", "Wallet", "ACTIVE", "1", "mosip:idp:acr:linked-wallet"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) || !strings.HasPrefix(lines[i+1], want[0]+" ") {
				t.Errorf("clients list row %d = %q, want %v", i+1, lines[i+1], want)
			}
		}
	}
	code, out, _ = cli("list", "--json")
	var all []clientDetail
	if err := json.Unmarshal([]byte(out), &all); code != 0 || err != nil || len(all) != 3 {
		t.Fatalf("clients list --json = %d %v\n%s", code, err, out)
	}

	// show: what was registered, in the API's shape.
	show := func(id string) clientDetail {
		t.Helper()
		code, out, errOut := cli("show", id, "--json")
		var d clientDetail
		if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil {
			t.Fatalf("clients show %s --json = %d %v\n%s%s", id, code, err, out, errOut)
		}
		return d
	}
	b := show("bank-1")
	var gotKey map[string]string
	json.Unmarshal(b.PublicKey, &gotKey)
	if b.ClientName != "Demo Bank, Ltd." || b.ClientNameLangMap["eng"] != "Demo Bank, Ltd." || b.ClientNameLangMap["ara"] != "بنك العرض" ||
		b.RelyingPartyID != "bank-1" || !slices.Equal(b.UserClaims, []string{"name", "email"}) ||
		!slices.Equal(b.RedirectURIs, []string{"https://bank.example/cb", "https://bank.example/cb2"}) ||
		!maps.Equal(gotKey, pub1) || compactJSON(b.AdditionalConfig) != `{"require_pkce":true}` || b.Status != "ACTIVE" {
		t.Errorf("clients show bank-1 --json = %s", mustJSON(b))
	}
	if w := show("wallet-app"); w.RelyingPartyID != "wallet-rp" || compactJSON(w.AdditionalConfig) != `{"dpop_bound_access_tokens":true}` {
		t.Errorf("clients show wallet-app --json = %s, want the file's relying party and additionalConfig", mustJSON(w))
	}
	// The id may also follow the flags.
	code, out, _ = runCLI(t, cleanEnv, "clients", "show", "--data-dir", data, "bank-1")
	for _, want := range []string{"client id:", "bank-1", "ara=بنك العرض", "https://bank.example/cb2", "ACTIVE", "version:"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("clients show bank-1 = %d, lacks %q:\n%s", code, want, out)
		}
	}

	// disable, then enable: only the status (and the update time) changes.
	if code, out, errOut := cli("disable", "bank-1"); code != 0 || out != "client bank-1 is now INACTIVE\n" {
		t.Fatalf("clients disable = %d %q %q", code, out, errOut)
	}
	d := show("bank-1")
	if d.Status != "INACTIVE" {
		t.Errorf("after disable status = %s, want INACTIVE", d.Status)
	}
	if code, out, _ := cli("disable", "bank-1"); code != 0 || !strings.Contains(out, "already INACTIVE") {
		t.Errorf("second disable = %d %q, want already INACTIVE", code, out)
	}
	code, out, errOut = cli("enable", "bank-1", "--json")
	if json.Unmarshal([]byte(out), &created); code != 0 || created.Status != "ACTIVE" {
		t.Fatalf("clients enable --json = %d %q %q", code, out, errOut)
	}
	e := show("bank-1")
	if !e.UpdatedAt.After(b.UpdatedAt) {
		t.Errorf("updatedAt after enable = %v, want after %v", e.UpdatedAt, b.UpdatedAt)
	}
	e.UpdatedAt = b.UpdatedAt
	if mustJSON(e) != mustJSON(b) {
		t.Errorf("disable+enable changed the client:\n got %s\nwant %s", mustJSON(e), mustJSON(b))
	}
	if code, _, errOut := cli("enable", "nobody"); code != 1 || !strings.Contains(errOut, oidc.ClientMgmtInvalidClientID) {
		t.Errorf("enable of an unknown client = %d %q, want invalid_client_id", code, errOut)
	}

	// delete.
	if code, out, errOut := cli("delete", "portal"); code != 0 || out != "deleted client portal\n" {
		t.Fatalf("clients delete = %d %q %q", code, out, errOut)
	}
	if code, _, errOut := cli("show", "portal"); code != 1 || !strings.Contains(errOut, oidc.ClientMgmtInvalidClientID) {
		t.Errorf("show after delete = %d %q, want invalid_client_id", code, errOut)
	}
	if code, _, errOut := cli("delete", "portal"); code != 1 || !strings.Contains(errOut, oidc.ClientMgmtInvalidClientID) {
		t.Errorf("second delete = %d %q, want invalid_client_id", code, errOut)
	}
	if code, out, _ := cli("list", "--json"); code != 0 || strings.Count(out, `"clientId"`) != 2 {
		t.Errorf("clients list --json after delete = %d\n%s\nwant 2 clients", code, out)
	}
}

// TestClientsStatusChangeKeepsConcurrentUpdates: a status change built from
// an old version of the client is not written over a newer one.
func TestClientsStatusChangeKeepsConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sanad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := oidc.NewClientRegistry(db, nil)
	pub, _ := testJWK(t)
	key, _ := json.Marshal(pub)
	c, err := reg.Create(ctx, oidc.ClientRegistration{
		ClientID: "rp", ClientName: "Before", PublicKey: key, RelyingPartyID: "rp", UserClaims: []string{},
		AuthContextRefs: []string{"mosip:idp:acr:generated-code"}, LogoURI: "https://rp.example/logo.png",
		RedirectURIs: []string{"https://rp.example/cb"}, GrantTypes: []string{"authorization_code"},
		ClientAuthMethods: []string{"private_key_jwt"},
	})
	if err != nil {
		t.Fatal(err)
	}
	// Someone renames the client after the status change read it.
	rename := clientUpdateOf(c)
	rename.ClientName = "After"
	if _, err := reg.Update(ctx, "rp", rename); err != nil {
		t.Fatal(err)
	}
	q := clientUpdateOf(c)
	q.Status = oidc.ClientStatusInactive
	_, err = oidc.NewClientRegistry(pinnedClients{Clients: db, version: c.Version}, nil).Update(ctx, "rp", q)
	var re *oidc.ClientRegistryError
	if !errors.As(err, &re) || re.Code != oidc.ClientMgmtConcurrentUpdate {
		t.Errorf("pinned update over a newer version = %v, want %s", err, oidc.ClientMgmtConcurrentUpdate)
	}
	if got, _ := reg.Get(ctx, "rp"); got.Name != "After" || got.Status != oidc.ClientStatusActive {
		t.Errorf("after the refused update the client is %q %s, want After ACTIVE", got.Name, got.Status)
	}
}

func TestClientsListPages(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "sanad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	reg := oidc.NewClientRegistry(db, nil)
	var want []string
	for i := range 5 {
		pub, _ := testJWK(t)
		key, _ := json.Marshal(pub)
		id := fmt.Sprintf("rp-%d", i)
		want = append(want, id)
		if _, err := reg.Create(ctx, oidc.ClientRegistration{
			ClientID: id, ClientName: id, PublicKey: key, RelyingPartyID: id, UserClaims: []string{},
			AuthContextRefs: []string{"mosip:idp:acr:generated-code"}, LogoURI: "https://rp.example/logo.png",
			RedirectURIs: []string{"https://rp.example/cb"}, GrantTypes: []string{"authorization_code"},
			ClientAuthMethods: []string{"private_key_jwt"},
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, size := range []int{1, 2, 5, 1000} {
		cs, err := listAllClients(ctx, reg, size)
		var got []string
		for _, c := range cs {
			got = append(got, c.ID)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("listAllClients(page %d) = %v, %v, want %v", size, got, err, want)
		}
	}
}

func TestClientsParseNameLang(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []string
		want map[string]string
		ok   bool
	}{
		{"one", []string{"eng=Bank"}, map[string]string{"eng": "Bank"}, true},
		{"comma-separated", []string{"eng=Bank,ara=بنك"}, map[string]string{"eng": "Bank", "ara": "بنك"}, true},
		{"comma in a name", []string{"eng=Bank, Ltd., fra=Banque, SA"}, map[string]string{"eng": "Bank, Ltd.", "fra": "Banque, SA"}, true},
		{"repeated", []string{"eng=Bank", "fra=Banque"}, map[string]string{"eng": "Bank", "fra": "Banque"}, true},
		{"no equals", []string{"Bank"}, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseNameLang(tc.in)
			if (err == nil) != tc.ok || tc.ok && !maps.Equal(got, tc.want) {
				t.Errorf("parseNameLang(%q) = %v, %v, want %v", tc.in, got, err, tc.want)
			}
		})
	}
}

// TestClientsCLIPublic: a public client (a wallet app) from the command
// line.
func TestClientsCLIPublic(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	cli := func(args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, cleanEnv, append(append([]string{"clients"}, args...), "--data-dir", data)...)
	}
	pub, _ := testJWK(t)
	key := writeJSON(t, dir, "key.json", pub)
	add := func(id string, extra ...string) []string {
		return append([]string{"add", "--public", "--id", id, "--name", "Inji", "--redirect-uri", "io.inji.wallet://cb",
			"--logo-uri", "https://inji.example/logo.png"}, extra...)
	}

	code, out, errOut := cli(add("inji", "--scope", "national_id_vc,farmer_vc", "--additional-config", `{"dpop_bound_access_tokens":true}`,
		"--grant-types", "authorization_code,"+oidc.GrantTypePreAuthorizedCode)...)
	if code != 0 || out != "created client inji (ACTIVE)\n" {
		t.Fatalf("clients add --public = %d %q %q, want created client inji (ACTIVE)", code, out, errOut)
	}
	code, out, errOut = cli("show", "inji", "--json")
	var d clientDetail
	if err := json.Unmarshal([]byte(out), &d); code != 0 || err != nil {
		t.Fatalf("clients show inji --json = %d %v\n%s%s", code, err, out, errOut)
	}
	if string(d.PublicKey) != "null" || !slices.Equal(d.ClientAuthMethods, []string{oidc.AuthMethodNone}) ||
		!slices.Equal(d.GrantTypes, []string{"authorization_code", oidc.GrantTypePreAuthorizedCode}) || len(d.UserClaims) != 0 ||
		compactJSON(d.AdditionalConfig) != `{"dpop_bound_access_tokens":true,"scope":"national_id_vc farmer_vc"}` {
		t.Errorf("clients show inji --json = %s, want a public client with both grants and its scope", mustJSON(d))
	}
	if code, out, _ := cli("show", "inji"); code != 0 || !strings.Contains(out, "none (public client)") {
		t.Errorf("clients show inji = %d\n%s\nwant the public key shown as none (public client)", code, out)
	}
	if code, out, errOut := cli("disable", "inji"); code != 0 || out != "client inji is now INACTIVE\n" {
		t.Errorf("clients disable inji = %d %q %q", code, out, errOut)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"with a key", add("w1", "--scope", "national_id_vc", "--public-key", key), oidc.ClientMgmtInvalidPublicKey},
		{"openid", add("w2", "--scope", "openid"), oidc.ClientMgmtInvalidAdditionalConfig},
		{"claims", add("w3", "--scope", "national_id_vc", "--claims", "name"), oidc.ClientMgmtInvalidClientAuth},
		{"unknown grant type", add("w4", "--scope", "national_id_vc", "--grant-types", "implicit"), oidc.ClientMgmtInvalidGrantType},
	} {
		if code, _, errOut := cli(tc.args...); code != 1 || !strings.Contains(errOut, "sanad clients: "+tc.want+": ") {
			t.Errorf("%s: clients %s = %d %q, want exit 1 and %s", tc.name, strings.Join(tc.args, " "), code, errOut, tc.want)
		}
	}
	if code, _, errOut := cli(add("w5")...); code != 2 || !strings.Contains(errOut, "--scope") {
		t.Errorf("clients add --public without --scope = %d %q, want 2 naming --scope", code, errOut)
	}
}
