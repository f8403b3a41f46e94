package keys

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/gin-gonic/gin"
)

// RegisterAdmin serves the key administration API on r, which the caller
// has already put behind admin authentication:
//
//	GET  /admin/v1/keys[?purpose=P]                     list keys (no private parts)
//	POST /admin/v1/keys/rotate {"purpose", "prepublish"} rotate a key set
//
// Symmetric purposes (secrets) rotate without prepublication: nothing
// outside Sanad needs to learn their keys.
func RegisterAdmin(r gin.IRouter, s *Service, secrets *Secrets) {
	r.GET("/admin/v1/keys", func(c *gin.Context) {
		purpose := c.Query("purpose")
		infos, err := s.List(c.Request.Context(), purpose)
		if err != nil {
			adminError(c, err)
			return
		}
		if secrets != nil {
			infos = slices.DeleteFunc(infos, func(k KeyInfo) bool { return secrets.IsSecretPurpose(k.Purpose) })
			for _, k := range secrets.List() {
				if purpose == "" || purpose == k.Purpose {
					infos = append(infos, k)
				}
			}
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"keys": infos})
	})
	r.POST("/admin/v1/keys/rotate", func(c *gin.Context) {
		var req struct {
			Purpose    string `json:"purpose"`
			Prepublish string `json:"prepublish"`
		}
		if err := c.ShouldBindJSON(&req); err != nil || req.Purpose == "" {
			c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid_request",
				"error_description": `body must be {"purpose": "...", "prepublish": "1h" (optional)}`})
			return
		}
		var prepublish time.Duration
		if req.Prepublish != "" {
			d, err := time.ParseDuration(req.Prepublish)
			if err != nil || d < 0 {
				c.AbortWithStatusJSON(http.StatusBadRequest, gin.H{"error": "invalid_request",
					"error_description": "prepublish must be a non-negative duration such as 1h"})
				return
			}
			prepublish = d
		}
		var infos []KeyInfo
		var err error
		if secrets != nil && secrets.IsSecretPurpose(req.Purpose) {
			var info KeyInfo
			info, err = secrets.Rotate(c.Request.Context(), req.Purpose)
			infos = []KeyInfo{info}
		} else {
			infos, err = s.Rotate(c.Request.Context(), req.Purpose, prepublish)
		}
		if err != nil {
			adminError(c, err)
			return
		}
		c.Header("Cache-Control", "no-store")
		c.JSON(http.StatusOK, gin.H{"keys": infos})
	})
}

func adminError(c *gin.Context, err error) {
	switch {
	case errors.Is(err, ErrUnknownPurpose):
		c.AbortWithStatusJSON(http.StatusNotFound, gin.H{"error": "unknown_purpose", "error_description": err.Error()})
	case errors.Is(err, ErrNotRotatable):
		c.AbortWithStatusJSON(http.StatusConflict, gin.H{"error": "not_rotatable", "error_description": err.Error()})
	default:
		_ = c.Error(err)
		c.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "server_error", "error_description": "internal error"})
	}
}
