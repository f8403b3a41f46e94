// Package demobank is the demo relying party: a small bank web site that
// logs residents in with Sanad ("Login with National ID"), and the worked
// example that docs/integration.md walks through.
//
// It does what a demanding bank does against the provider, in the order of
// a login:
//
//   - discovery and key sets with coreos/go-oidc, on first use and with
//     retry, so the bank may start before the provider listens (discovery.go);
//   - a pushed authorization request (RFC 9126) carrying PKCE S256, state,
//     nonce, acr_values, claims_locales, ui_locales, a claims parameter and
//     dpop_jkt, authenticated with private_key_jwt (par.go, assertion.go);
//   - at the callback: state, the RFC 9207 iss parameter and error
//     responses are checked before anything else (pages.go);
//   - the code is exchanged by hand with a client assertion and a DPoP
//     proof (RFC 9449), retried once with the server's nonce when asked
//     (token.go, dpop.go);
//   - the ID token is verified with go-oidc (issuer, audience, algorithms
//     from discovery, expiry), then nonce, at_hash, acr and auth_time;
//   - userinfo is called with the DPoP-bound access token and its signed
//     answer (application/jwt) is verified with the provider's JWKS: iss,
//     aud and sub (userinfo.go).
//
// Sessions are server-side and in memory (session.go): a random id in an
// HttpOnly, SameSite=Lax cookie maps to a record with a TTL. Tokens are not
// kept once the login is over; only the verified claims are.
//
// Handler serves the full paths below BaseURL's path: mount it there
// without stripping the prefix, e.g. for BaseURL
// http://127.0.0.1:8080/demo/bank,
//
//	mux.Handle("/demo/bank/", bank.Handler())
//
// A test drives a login with a cookie jar: GET BaseURL+"/", read the login
// form's csrf field, POST BaseURL+"/login" with it (and acr, lang), follow
// the redirects through the provider's login, then read Bank.Account with a
// request carrying the session cookie, or the account page.
package demobank
