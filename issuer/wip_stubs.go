package issuer

// Temporary stubs while the issuer is being written; each disappears as its
// real implementation lands. Owner in brackets.

import (
	"context"
	"time"

	"github.com/gin-gonic/gin"
)

// [metadata.go]
func (is *Issuer) registerMetadata(r gin.IRouter) {}

// [nonce.go]
func (is *Issuer) handleNonce(c *gin.Context) {}

// [credential.go]
func (is *Issuer) handleCredential(c *gin.Context) {}

// [notification.go]
func (is *Issuer) handleNotification(c *gin.Context) {}

// [offer.go]
func (is *Issuer) handleOfferByReference(c *gin.Context) {}
func (is *Issuer) registerOfferAdmin(admin gin.IRouter)  {}

// [formats.go]
func DefaultFormats() map[string]Format { return map[string]Format{} }

// [format_sdjwt.go] the SD-JWT VC format.
type sdJWTVCFormat struct{}

// [format_jwtvc.go] the jwt_vc_json format.
type jwtVCFormat struct{}

// [proof.go] verifyProof checks a proof JWT for configuration c presented
// with token tok and returns the holder key and the proof's nonce (the
// caller consumes the nonce).
func (is *Issuer) verifyProof(ctx context.Context, jwt string, c *Configuration, tok *AccessToken) (*HolderKey, string, error) {
	return nil, "", errServer(nil)
}

// [render.go] Render fills c's template with identity data.
func (c *Configuration) Render(identity map[string]any, env RenderEnv) (map[string]any, error) {
	return nil, nil
}

// [render.go] RenderEnv is what a template can use besides identity data.
type RenderEnv struct {
	// Now is the time of issuance.
	Now time.Time
}

// [nonce.go] consumeNonce spends a c_nonce; false if it is unknown,
// expired or already spent.
func (is *Issuer) consumeNonce(ctx context.Context, nonce string) (bool, error) { return false, nil }

// [nonce.go] NewCNonce issues a c_nonce.
func (is *Issuer) NewCNonce(ctx context.Context) (string, time.Duration, error) {
	return "", 0, nil
}
