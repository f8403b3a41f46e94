package issuer

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/sanad-id/sanad/storage"
)

// c_nonce values (OpenID4VCI 1.0 section 7) are 256 random bits, base64url
// encoded. The State holds only their SHA-256 (a dump of the State does not
// give usable nonces), under nonceKey, for Config.NonceTTL; a proof spends
// its nonce with State.Take, so a nonce is good for one credential request.

// nonceBytes is the entropy of a c_nonce.
const nonceBytes = 32

// maxNonceLen bounds the nonce a proof may carry before it is hashed; ours
// are 43 characters.
const maxNonceLen = 128

// nonceKey is the State key of a c_nonce.
func nonceKey(nonce string) string {
	h := sha256.Sum256([]byte(nonce))
	return "issuer:nonce:" + hex.EncodeToString(h[:])
}

// NewCNonce issues a c_nonce and returns it with its lifetime. The nonce
// endpoint answers with it, and so do draft-13 responses (credential
// responses, invalid_proof errors) and, for draft-13 wallets, the
// authorization server's token response (c_nonce, c_nonce_expires_in).
func (is *Issuer) NewCNonce(ctx context.Context) (string, time.Duration, error) {
	var b [nonceBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", 0, fmt.Errorf("issuer: c_nonce: %w", err)
	}
	nonce := base64.RawURLEncoding.EncodeToString(b[:])
	ttl := is.cfg.NonceTTL
	if err := is.cfg.State.Put(ctx, nonceKey(nonce), []byte("c_nonce"), ttl); err != nil {
		return "", 0, fmt.Errorf("issuer: store c_nonce: %w", err)
	}
	return nonce, ttl, nil
}

// consumeNonce spends a c_nonce; false if it is unknown, expired or already
// spent. Among concurrent callers presenting the same nonce exactly one gets
// true. An error is a failure of the State.
func (is *Issuer) consumeNonce(ctx context.Context, nonce string) (bool, error) {
	if nonce == "" || len(nonce) > maxNonceLen {
		return false, nil
	}
	_, err := is.cfg.State.Take(ctx, nonceKey(nonce))
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("issuer: spend c_nonce: %w", err)
	}
	return true, nil
}

// handleNonce is the nonce endpoint (OpenID4VCI 1.0 section 7): a POST
// with no parameters answered with a fresh c_nonce. It is not protected:
// the wallet may ask before it has an access token.
func (is *Issuer) handleNonce(c *gin.Context) {
	nonce, _, err := is.NewCNonce(c.Request.Context())
	if err != nil {
		is.writeError(c, errServer(err), "")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, gin.H{"c_nonce": nonce})
}

// cnonceSeconds is a nonce lifetime in whole seconds, for
// c_nonce_expires_in.
func cnonceSeconds(ttl time.Duration) int64 {
	return int64(ttl / time.Second)
}
