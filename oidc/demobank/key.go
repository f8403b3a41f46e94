package demobank

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// LoadOrCreateKey returns the bank's private_key_jwt signing key kept at
// path: an ES256 (P-256) private JWK whose kid is its RFC 7638 thumbprint.
// If the file does not exist, a new key is generated and written there with
// mode 0600 (the directory is created 0700 if needed). An existing file that
// others may read, or that does not hold a P-256 private key, is an error.
func LoadOrCreateKey(path string) (jwk.Key, error) {
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if runtime.GOOS != "windows" {
			if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
				return nil, fmt.Errorf("demobank: key file %s has mode %v; it must not be readable by others (chmod 600)", path, fi.Mode().Perm())
			}
		}
		key, err := jwk.ParseKey(b)
		if err != nil {
			return nil, fmt.Errorf("demobank: key file %s: %w", path, err)
		}
		if err := checkSigningKey(key); err != nil {
			return nil, fmt.Errorf("demobank: key file %s: %w", path, err)
		}
		return key, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("demobank: read key: %w", err)
	}

	key, err := newES256Key()
	if err != nil {
		return nil, err
	}
	if err := setKeyMeta(key); err != nil {
		return nil, err
	}
	out, err := json.Marshal(key)
	if err != nil {
		return nil, fmt.Errorf("demobank: encode key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("demobank: key directory: %w", err)
	}
	// O_EXCL: if another process created the key meanwhile, use its key
	// rather than overwrite a key a client may already be registered with.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return LoadOrCreateKey(path)
	}
	if err != nil {
		return nil, fmt.Errorf("demobank: write key: %w", err)
	}
	if _, err := f.Write(append(out, '\n')); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("demobank: write key: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("demobank: write key: %w", err)
	}
	return key, nil
}

// newES256Key generates a P-256 private key as a JWK, without metadata.
func newES256Key() (jwk.Key, error) {
	raw, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("demobank: generate key: %w", err)
	}
	key, err := jwk.Import(raw)
	if err != nil {
		return nil, fmt.Errorf("demobank: import key: %w", err)
	}
	return key, nil
}

// setKeyMeta sets kid (the thumbprint), alg ES256 and use sig.
func setKeyMeta(key jwk.Key) error {
	tp, err := thumbprint(key)
	if err != nil {
		return err
	}
	for name, v := range map[string]any{
		jwk.KeyIDKey:     tp,
		jwk.AlgorithmKey: jwa.ES256(),
		jwk.KeyUsageKey:  jwk.ForSignature,
	} {
		if err := key.Set(name, v); err != nil {
			return fmt.Errorf("demobank: key %s: %w", name, err)
		}
	}
	return nil
}

// thumbprint is the base64url SHA-256 JWK thumbprint (RFC 7638) of key.
func thumbprint(key jwk.Key) (string, error) {
	tp, err := key.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("demobank: key thumbprint: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// checkSigningKey checks that key is a P-256 private key, the only kind
// this client signs with (ES256).
func checkSigningKey(key jwk.Key) error {
	if key == nil {
		return errors.New("no key")
	}
	var raw ecdsa.PrivateKey
	if err := jwk.Export(key, &raw); err != nil {
		return errors.New("not an EC private key")
	}
	if raw.Curve != elliptic.P256() {
		return errors.New("not a P-256 key (ES256)")
	}
	if alg, ok := key.Algorithm(); ok && alg.String() != "ES256" {
		return fmt.Errorf("key alg is %s, want ES256", alg)
	}
	return nil
}
