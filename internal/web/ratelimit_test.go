package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

type mapCounter struct {
	mu   sync.Mutex
	m    map[string]int64
	fail bool
}

func (c *mapCounter) Incr(_ context.Context, key string, _ time.Duration) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fail {
		return 0, errors.New("state down")
	}
	c.m[key]++
	return c.m[key], nil
}

func TestRateLimit(t *testing.T) {
	gin.SetMode(gin.TestMode)
	c := &mapCounter{m: map[string]int64{}}
	r := gin.New()
	r.POST("/x", RateLimit(c, "test", 3, time.Minute), func(g *gin.Context) { g.Status(http.StatusNoContent) })
	do := func(ip string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/x", nil)
		req.RemoteAddr = ip + ":1234"
		w := httptest.NewRecorder()
		r.ServeHTTP(w, req)
		return w
	}
	for i := range 3 {
		if w := do("192.0.2.1"); w.Code != http.StatusNoContent {
			t.Fatalf("request %d from one IP = %d, want 204", i+1, w.Code)
		}
	}
	w := do("192.0.2.1")
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" {
		t.Errorf("4th request = %d Retry-After %q, want 429 and 60", w.Code, w.Header().Get("Retry-After"))
	}
	if w := do("192.0.2.2"); w.Code != http.StatusNoContent {
		t.Errorf("another IP = %d, want 204 (limits are per IP)", w.Code)
	}
	c.fail = true
	if w := do("192.0.2.3"); w.Code != http.StatusInternalServerError {
		t.Errorf("counter down = %d, want 500 (fail closed)", w.Code)
	}
}
