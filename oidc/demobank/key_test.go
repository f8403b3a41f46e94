package demobank

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestLoadOrCreateKey(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "demo-bank.jwk")
	k1, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", fi.Mode().Perm())
	}
	kid, _ := k1.KeyID()
	tp, _ := thumbprint(k1)
	if kid == "" || kid != tp {
		t.Errorf("kid = %q, want the thumbprint %q", kid, tp)
	}
	if alg, _ := k1.Algorithm(); alg.String() != "ES256" {
		t.Errorf("alg = %v, want ES256", alg)
	}

	k2, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	tp2, _ := thumbprint(k2)
	if tp2 != tp {
		t.Error("a second load made a new key")
	}
	if err := checkSigningKey(k2); err != nil {
		t.Errorf("loaded key: %v", err)
	}

	if runtime.GOOS != "windows" {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadOrCreateKey(path); err == nil {
			t.Error("a world-readable key file was accepted")
		}
	}

	bad := filepath.Join(t.TempDir(), "bad.jwk")
	if err := os.WriteFile(bad, []byte(`{"kty":"oct","k":"c2VjcmV0"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateKey(bad); err == nil {
		t.Error("a symmetric key was accepted")
	}
	pub, _ := k1.PublicKey()
	if err := checkSigningKey(pub); err == nil {
		t.Error("a public key was accepted as a signing key")
	}
}
