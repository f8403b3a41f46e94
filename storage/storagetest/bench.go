package storagetest

import (
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// BenchState measures the State operations on the hot paths: PutNew of a
// fresh key (every replay check) and Put followed by Take (every code issued
// and redeemed), from parallel goroutines.
func BenchState(b *testing.B, s storage.State) {
	value := []byte(`{"client_id":"wallet","redirect_uri":"https://wallet.example/cb","nonce":"n-0S6_WzA2Mj"}`)
	var seq atomic.Int64
	b.Run("PutNew", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				key := "bench:jti:" + strconv.FormatInt(seq.Add(1), 10)
				if ok, err := s.PutNew(b.Context(), key, value, time.Minute); !ok || err != nil {
					b.Fatalf("PutNew(%q) = %v, %v, want true, nil", key, ok, err)
				}
			}
		})
	})
	b.Run("PutTake", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				key := "bench:code:" + strconv.FormatInt(seq.Add(1), 10)
				if err := s.Put(b.Context(), key, value, time.Minute); err != nil {
					b.Fatalf("Put(%q) = %v, want nil", key, err)
				}
				if _, err := s.Take(b.Context(), key); err != nil {
					b.Fatalf("Take(%q) = %v, want nil", key, err)
				}
			}
		})
	})
}

// BenchKeys measures CreateKey, and ListKeys of one purpose among keysPerSet
// keys, on a Durable store that starts empty.
func BenchKeys(b *testing.B, d storage.Durable) {
	const keysPerSet = 20
	for i := range keysPerSet {
		if err := d.CreateKey(b.Context(), newKey(fmt.Sprintf("list-%02d", i), "list", "ES256", i)); err != nil {
			b.Fatalf("CreateKey = %v, want nil", err)
		}
	}
	i := 0
	b.Run("CreateKey", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			i++
			if err := d.CreateKey(b.Context(), newKey("create-"+strconv.Itoa(i), "create", "ES256", i)); err != nil {
				b.Fatalf("CreateKey = %v, want nil", err)
			}
		}
	})
	b.Run("ListKeys", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			keys, err := d.ListKeys(b.Context(), "list")
			if len(keys) != keysPerSet || err != nil {
				b.Fatalf("ListKeys = %d keys, %v, want %d, nil", len(keys), err, keysPerSet)
			}
		}
	})
}
