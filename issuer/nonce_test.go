package issuer

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

func TestNonceEndpoint(t *testing.T) {
	e := newCrEnv(t)
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, httptest.NewRequest(http.MethodPost, crNoncePath, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("POST %s = %d %s, want 200", crNoncePath, w.Code, w.Body)
	}
	if got := w.Header().Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	body := crJSON(t, w)
	if len(body) != 1 {
		t.Errorf("body = %v, want only c_nonce", body)
	}
	nonce, _ := body["c_nonce"].(string)
	raw, err := base64.RawURLEncoding.DecodeString(nonce)
	if err != nil || len(raw) != 32 {
		t.Fatalf("c_nonce %q is not 256 bits of base64url (%v)", nonce, err)
	}
	// The State holds its hash, not the nonce.
	h := sha256.Sum256([]byte(nonce))
	if _, err := e.state.Get(context.Background(), "issuer:nonce:"+hex.EncodeToString(h[:])); err != nil {
		t.Errorf("State has no issuer:nonce:<sha256> entry for the nonce: %v", err)
	}
	if _, err := e.state.Get(context.Background(), "issuer:nonce:"+nonce); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("State keeps the raw nonce as a key: %v", err)
	}

	// A second nonce differs.
	w2 := httptest.NewRecorder()
	e.router.ServeHTTP(w2, httptest.NewRequest(http.MethodPost, crNoncePath, nil))
	if n2 := crJSON(t, w2)["c_nonce"]; n2 == nonce {
		t.Errorf("two nonce requests returned the same nonce %q", nonce)
	}

	// GET is not the nonce endpoint.
	w3 := httptest.NewRecorder()
	e.router.ServeHTTP(w3, httptest.NewRequest(http.MethodGet, crNoncePath, nil))
	if w3.Code == http.StatusOK {
		t.Errorf("GET %s = 200, want it refused", crNoncePath)
	}
}

func TestNonceEndpointStateFailure(t *testing.T) {
	e := newCrEnv(t)
	e.state.Close() // every State call now fails
	w := httptest.NewRecorder()
	e.router.ServeHTTP(w, httptest.NewRequest(http.MethodPost, crNoncePath, nil))
	crWantError(t, w, http.StatusInternalServerError, CodeServerError)
	if _, ok := crJSON(t, w)["c_nonce"]; ok {
		t.Error("a failed nonce request carries a c_nonce")
	}
}

func TestNewCNonceTTL(t *testing.T) {
	e := newCrEnv(t, func(c *Config) { c.NonceTTL = 90 * time.Second })
	ctx := context.Background()
	n, ttl, err := e.is.NewCNonce(ctx)
	if err != nil || ttl != 90*time.Second {
		t.Fatalf("NewCNonce = %q, %v, %v; want a nonce, 1m30s, nil", n, ttl, err)
	}
	e.clock.Advance(89 * time.Second)
	if ok, err := e.is.consumeNonce(ctx, n); !ok || err != nil {
		t.Fatalf("consumeNonce(before expiry) = %v, %v; want true, nil", ok, err)
	}
	n2, _, _ := e.is.NewCNonce(ctx)
	e.clock.Advance(90 * time.Second)
	if ok, err := e.is.consumeNonce(ctx, n2); ok || err != nil {
		t.Fatalf("consumeNonce(expired) = %v, %v; want false, nil", ok, err)
	}
}

func TestConsumeNonce(t *testing.T) {
	e := newCrEnv(t)
	ctx := context.Background()
	n := e.nonce()
	tests := []struct {
		name  string
		nonce string
		want  bool
	}{
		{"fresh", n, true},
		{"spent", n, false},
		{"unknown", strings.Repeat("A", 43), false},
		{"empty", "", false},
		{"too long", strings.Repeat("A", maxNonceLen+1), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.is.consumeNonce(ctx, tt.nonce)
			if got != tt.want || err != nil {
				t.Fatalf("consumeNonce(%.20q) = %v, %v; want %v, nil", tt.nonce, got, err, tt.want)
			}
		})
	}

	t.Run("state failure", func(t *testing.T) {
		e := newCrEnv(t)
		n := e.nonce()
		e.state.Close()
		if got, err := e.is.consumeNonce(ctx, n); got || err == nil {
			t.Fatalf("consumeNonce with a failing State = %v, %v; want false and an error", got, err)
		}
	})
}

func TestConsumeNonceConcurrent(t *testing.T) {
	e := newCrEnv(t)
	n := e.nonce()
	const consumers = 50
	var wins, fails atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range consumers {
		wg.Go(func() {
			<-start
			ok, err := e.is.consumeNonce(context.Background(), n)
			if err != nil {
				fails.Add(1)
			}
			if ok {
				wins.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || fails.Load() != 0 {
		t.Fatalf("%d concurrent consumeNonce: %d won, %d failed; want exactly 1 win, 0 failures", consumers, wins.Load(), fails.Load())
	}
}
