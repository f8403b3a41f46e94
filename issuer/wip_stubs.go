package issuer

// Temporary stubs while the issuer is being written; each disappears as its
// real implementation lands. Owner in brackets.

import "github.com/gin-gonic/gin"

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
