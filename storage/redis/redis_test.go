package redis_test

import (
	"context"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/sanad-id/sanad/storage"
	"github.com/sanad-id/sanad/storage/redis"
	"github.com/sanad-id/sanad/storage/storagetest"
)

func TestState(t *testing.T) {
	storagetest.RedisURL(t) // skip once rather than in every case
	storagetest.RunState(t, func(t *testing.T) storage.State { return storagetest.OpenRedis(t) })
}

func TestPrefix(t *testing.T) {
	url := storagetest.RedisURL(t)
	ctx := t.Context()
	open := func(prefix string) *redis.State {
		s, err := redis.Open(ctx, url, prefix)
		if err != nil {
			t.Fatalf("Open(%q) = %v", prefix, err)
		}
		t.Cleanup(func() {
			// t.Context() is canceled by the time cleanups run.
			if err := s.Delete(context.Background(), "k"); err != nil {
				t.Errorf("Delete = %v", err)
			}
			s.Close()
		})
		return s
	}
	prefix := "sanad_test:" + rand.Text() + ":"
	a, b := open(prefix+"a:"), open(prefix+"b:")
	if err := a.Put(ctx, "k", []byte("in a"), time.Minute); err != nil {
		t.Fatalf("Put = %v", err)
	}
	if got, err := b.Get(ctx, "k"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(%q) under another prefix = %q, %v, want %v", "k", got, err, storage.ErrNotFound)
	}

	opt, err := goredis.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	raw := goredis.NewClient(opt)
	defer raw.Close()
	if got, err := raw.Get(ctx, prefix+"a:k").Result(); got != "in a" || err != nil {
		t.Errorf("GET %sa:k = %q, %v, want %q, nil", prefix, got, err, "in a")
	}
	if ttl, err := raw.PTTL(ctx, prefix+"a:k").Result(); ttl <= 0 || ttl > time.Minute || err != nil {
		t.Errorf("PTTL %sa:k = %v, %v, want at most a minute", prefix, ttl, err)
	}
}

func TestOpenHidesPassword(t *testing.T) {
	tests := []struct {
		name, url string
	}{
		{"bad escape", "redis://user:s3cret-pw%zz@cache:6379/0"},
		{"bad port", "redis://user:s3cret-pw@cache:port/0"},
		{"bad scheme", "http://user:s3cret-pw@cache:6379/0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := redis.Open(t.Context(), tt.url, "sanad:")
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want an error", tt.url)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("Open(%q) = %q, want an error without the password", tt.url, err)
			}
		})
	}
}

func BenchmarkState(b *testing.B) {
	storagetest.BenchState(b, storagetest.OpenRedis(b))
}
