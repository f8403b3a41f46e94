package keys

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

func newSecrets(t *testing.T, st storage.Keys, mk MasterKey) *Secrets {
	t.Helper()
	s, err := NewSecrets(context.Background(), SecretsConfig{Store: st, Backend: mustBackend(t, mk), Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("NewSecrets() = %v", err)
	}
	return s
}

func TestSecretsWrapMACRotate(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		ctx := context.Background()
		st := open(t)
		mk := mustMasterKey(t)
		s := newSecrets(t, st, mk)

		dek := bytes.Repeat([]byte{7}, 32)
		kid, wrapped, err := s.WrapKey(ctx, PurposePIIEncryption, dek)
		if err != nil {
			t.Fatalf("WrapKey() = %v", err)
		}
		if bytes.Contains(wrapped, dek) {
			t.Fatal("wrapped key contains the data key in clear")
		}
		got, err := s.UnwrapKey(ctx, PurposePIIEncryption, kid, wrapped)
		if err != nil || !bytes.Equal(got, dek) {
			t.Fatalf("UnwrapKey() = %x, %v, want %x", got, err, dek)
		}

		mac1, err := s.MAC(ctx, PurposePIIIndex, []byte("uin\x002345678901"))
		if err != nil || len(mac1) != sha256.Size {
			t.Fatalf("MAC() = %x, %v", mac1, err)
		}
		other, _ := s.MAC(ctx, PurposePairwiseSubject, []byte("uin\x002345678901"))
		if hmac.Equal(mac1, other) {
			t.Error("two MAC purposes share a key")
		}

		// A restart (new process) with the same master key: same MACs, old
		// wraps still open, no new keys generated.
		before := len(records(t, st, ""))
		s2 := newSecrets(t, st, mk)
		if n := len(records(t, st, "")); n != before {
			t.Errorf("restart generated keys: %d records, want %d", n, before)
		}
		if mac2, _ := s2.MAC(ctx, PurposePIIIndex, []byte("uin\x002345678901")); !hmac.Equal(mac1, mac2) {
			t.Error("MAC changed across restarts: lookups would break")
		}

		// Rotation: new wraps use the new key; old wraps still unwrap, in
		// this process and in one that learns of the key late.
		info, err := s2.Rotate(ctx, PurposePIIEncryption)
		if err != nil {
			t.Fatalf("Rotate() = %v", err)
		}
		kid2, wrapped2, _ := s2.WrapKey(ctx, PurposePIIEncryption, dek)
		if kid2 != info.KID || kid2 == kid {
			t.Errorf("after rotation WrapKey used %s, want new key %s", kid2, info.KID)
		}
		for _, w := range []struct {
			kid     string
			wrapped []byte
		}{{kid, wrapped}, {kid2, wrapped2}} {
			if got, err := s.UnwrapKey(ctx, PurposePIIEncryption, w.kid, w.wrapped); err != nil || !bytes.Equal(got, dek) {
				t.Errorf("UnwrapKey(%s) in a process that missed the rotation = %v", w.kid, err)
			}
		}
		if _, err := s2.Rotate(ctx, PurposePIIIndex); err == nil {
			t.Error("Rotate(pii-index) = nil, want refusal: keyed hashes must not change")
		}
		if mac3, _ := s2.MAC(ctx, PurposePIIIndex, []byte("uin\x002345678901")); !hmac.Equal(mac1, mac3) {
			t.Error("MAC changed after a wrapping-key rotation")
		}

		// A retired wrapping key is never pruned by the signing service's maintenance.
		if n, err := st.DeleteKeysPublishedBefore(ctx, time.Now().AddDate(100, 0, 0)); err != nil || n != 0 {
			t.Errorf("DeleteKeysPublishedBefore(+100y) removed %d, %v; want 0: wrapping keys must be kept", n, err)
		}

		// Wrong master key: nothing opens.
		if _, err := NewSecrets(ctx, SecretsConfig{Store: st, Backend: mustBackend(t, mustMasterKey(t))}); err == nil {
			t.Error("NewSecrets(wrong master key) = nil, want error")
		}
	})
}

func TestSecretsRejects(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		ctx := context.Background()
		s := newSecrets(t, open(t), mustMasterKey(t))
		kid, wrapped, _ := s.WrapKey(ctx, PurposePIIEncryption, []byte("0123456789abcdef0123456789abcdef"))
		flipped := bytes.Clone(wrapped)
		flipped[len(flipped)-1] ^= 1
		tests := []struct {
			name    string
			purpose string
			kid     string
			wrapped []byte
		}{
			{"tampered", PurposePIIEncryption, kid, flipped},
			{"unknown kid", PurposePIIEncryption, "nope", wrapped},
			{"wrong purpose", PurposePIIIndex, kid, wrapped},
			{"truncated", PurposePIIEncryption, kid, wrapped[:5]},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if _, err := s.UnwrapKey(ctx, tt.purpose, tt.kid, tt.wrapped); !errors.Is(err, ErrInvalid) {
					t.Errorf("UnwrapKey(%s) = %v, want ErrInvalid", tt.name, err)
				}
			})
		}
		if _, _, err := s.WrapKey(ctx, PurposePIIIndex, []byte("x")); !errors.Is(err, ErrUnknownPurpose) {
			t.Errorf("WrapKey(MAC purpose) = %v, want ErrUnknownPurpose", err)
		}
		if _, err := s.MAC(ctx, PurposePIIEncryption, []byte("x")); !errors.Is(err, ErrUnknownPurpose) {
			t.Errorf("MAC(wrap purpose) = %v, want ErrUnknownPurpose", err)
		}
	})
}

func TestSecretsConcurrentStart(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		st := open(t)
		mk := mustMasterKey(t)
		var wg sync.WaitGroup
		macs := make([][]byte, 4)
		for i := range macs {
			wg.Go(func() {
				s, err := NewSecrets(context.Background(), SecretsConfig{Store: st, Backend: mustBackend(t, mk)})
				if err != nil {
					t.Error(err)
					return
				}
				macs[i], _ = s.MAC(context.Background(), PurposePIIIndex, []byte("x"))
			})
		}
		wg.Wait()
		// Every process agrees on the index key: only one can be created.
		s := newSecrets(t, st, mk)
		want, _ := s.MAC(context.Background(), PurposePIIIndex, []byte("x"))
		for i, m := range macs {
			if !hmac.Equal(m, want) {
				t.Errorf("process %d computed a different index MAC", i)
			}
		}
		for _, k := range s.List() {
			if strings.Contains(k.KID, " ") {
				t.Errorf("odd kid %q", k.KID)
			}
		}
	})
}
