package web

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"
)

// Counter counts events in fixed windows: Incr adds one to key and returns
// the new count, the window starting at the first Incr (storage.State does
// this, shared by every process using the same state store).
type Counter interface {
	Incr(ctx context.Context, key string, ttl time.Duration) (int64, error)
}

// RateLimit allows limit requests per client IP and window, counted in c
// under "<prefix>:<ip>". Beyond the limit it answers 429 with Retry-After
// and the OAuth error slow_down. When the counter fails it refuses the
// request (security checks fail closed) with 500 server_error and records
// the error on the context for the access log.
func RateLimit(c Counter, prefix string, limit int, window time.Duration) gin.HandlerFunc {
	retry := strconv.Itoa(int(window.Seconds()))
	return func(g *gin.Context) {
		n, err := c.Incr(g.Request.Context(), prefix+":"+g.ClientIP(), window)
		if err != nil {
			_ = g.Error(err)
			g.Header("Cache-Control", "no-store")
			g.AbortWithStatusJSON(http.StatusInternalServerError, gin.H{"error": "server_error", "error_description": "internal error"})
			return
		}
		if n > int64(limit) {
			g.Header("Retry-After", retry)
			g.Header("Cache-Control", "no-store")
			g.AbortWithStatusJSON(http.StatusTooManyRequests, gin.H{"error": "slow_down", "error_description": "too many requests, try again later"})
		}
	}
}
