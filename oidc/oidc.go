// Package oidc is Sanad's OpenID provider: "Login with National ID" for
// relying parties such as banks and public services. It serves discovery,
// the JWKS, authorize, PAR, token, userinfo, the login pages and eSignet's UI
// API, and authenticates residents against the ID repository. It never holds
// a private key: tokens are signed through the keys package.
package oidc

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/keys"
)

// KeySets is what the provider needs of the key service.
type KeySets interface {
	JWKSHandler(purposes ...string) http.Handler
}

// RegisterJWKS serves the provider's public keys at /.well-known/jwks.json:
// the token signing keys and the encryption keys clients encrypt to,
// including retired keys still valid for verification.
func RegisterJWKS(r gin.IRouter, ks KeySets) {
	r.GET("/.well-known/jwks.json", gin.WrapH(ks.JWKSHandler(keys.PurposeOIDCSigning, keys.PurposeOIDCEncryption)))
}
