package keys

import (
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/sanad-id/sanad/storage"
)

// SoftwareBackendName is recorded in storage.KeyRecord.Backend for keys of
// the software backend.
const SoftwareBackendName = "software"

// rsaBits is the size of generated RSA keys.
const rsaBits = 2048

// sealVersion is the first byte of a sealed key: the format below.
//
//	version (1) | nonce (12) | AES-256-GCM(PKCS#8 DER) with tag (16)
//
// The GCM additional data binds the blob to its record (sealAAD), so sealed
// material copied into another record does not open.
const sealVersion = 1

// SoftwareBackend keeps private keys in the database, sealed with
// AES-256-GCM under a master key, and holds them in memory once opened.
type SoftwareBackend struct {
	aead cipher.AEAD
}

var (
	_ Backend           = (*SoftwareBackend)(nil)
	_ DecryptionBackend = (*SoftwareBackend)(nil)
)

// NewSoftwareBackend returns a backend sealing keys under master.
func NewSoftwareBackend(master MasterKey) (*SoftwareBackend, error) {
	if master.IsZero() {
		return nil, errors.New("keys: software backend needs a master key")
	}
	block, err := aes.NewCipher(master.k[:])
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return &SoftwareBackend{aead: aead}, nil
}

// Name returns SoftwareBackendName.
func (*SoftwareBackend) Name() string { return SoftwareBackendName }

// Generate makes a key pair for spec.Alg and returns its public key and the
// sealed PKCS#8 encoding of its private key.
func (b *SoftwareBackend) Generate(_ context.Context, spec KeySpec) (crypto.PublicKey, []byte, error) {
	priv, err := generatePrivate(spec.Alg)
	if err != nil {
		return nil, nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: encode %s key: %w", spec.Alg, err)
	}
	defer clear(der)
	sealed, err := b.seal(spec, der)
	if err != nil {
		return nil, nil, err
	}
	return priv.Public(), sealed, nil
}

// Signer opens a signing key.
func (b *SoftwareBackend) Signer(_ context.Context, rec storage.KeyRecord) (crypto.Signer, error) {
	if algUse[rec.Alg] != UseSig {
		return nil, fmt.Errorf("keys: key %s (%s) is not a signing key", rec.KID, rec.Alg)
	}
	return b.open(rec)
}

// Decrypter opens an RSA-OAEP-256 key.
func (b *SoftwareBackend) Decrypter(_ context.Context, rec storage.KeyRecord) (crypto.Decrypter, error) {
	if rec.Alg != AlgRSAOAEP256 {
		return nil, fmt.Errorf("keys: key %s (%s) is not an RSA encryption key", rec.KID, rec.Alg)
	}
	priv, err := b.open(rec)
	if err != nil {
		return nil, err
	}
	dec, ok := priv.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: key %s holds %T, want RSA", rec.KID, priv)
	}
	return dec, nil
}

// KeyAgreement opens an ECDH-ES key.
func (b *SoftwareBackend) KeyAgreement(_ context.Context, rec storage.KeyRecord) (KeyAgreement, error) {
	if rec.Alg != AlgECDHES {
		return nil, fmt.Errorf("keys: key %s (%s) is not an ECDH key", rec.KID, rec.Alg)
	}
	priv, err := b.open(rec)
	if err != nil {
		return nil, err
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("keys: key %s holds %T, want EC", rec.KID, priv)
	}
	return ec.ECDH()
}

// generatePrivate makes a private key for alg.
func generatePrivate(alg string) (crypto.Signer, error) {
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case AlgES256, AlgECDHES:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case AlgRS256, AlgPS256, AlgRSAOAEP256:
		priv, err = rsa.GenerateKey(rand.Reader, rsaBits)
	default:
		return nil, fmt.Errorf("%w: cannot generate a key for %q", ErrUnsupportedAlg, alg)
	}
	if err != nil {
		return nil, fmt.Errorf("keys: generate %s key: %w", alg, err)
	}
	return priv, nil
}

// sealAAD binds a sealed key to its identity.
func sealAAD(kid, purpose, alg string) []byte {
	aad := make([]byte, 0, 32+len(kid)+len(purpose)+len(alg))
	aad = append(aad, "sanad-keys-software-v1"...)
	for _, s := range []string{kid, purpose, alg} {
		aad = append(aad, 0)
		aad = append(aad, s...)
	}
	return aad
}

func (b *SoftwareBackend) seal(spec KeySpec, plaintext []byte) ([]byte, error) {
	ns := b.aead.NonceSize()
	out := make([]byte, 1+ns, 1+ns+len(plaintext)+b.aead.Overhead())
	out[0] = sealVersion
	if _, err := rand.Read(out[1:]); err != nil {
		return nil, fmt.Errorf("keys: seal: %w", err)
	}
	return b.aead.Seal(out, out[1:], plaintext, sealAAD(spec.KID, spec.Purpose, spec.Alg)), nil
}

// errOpen is deliberately vague: a wrong master key and a tampered record
// look the same to AES-GCM.
var errOpen = errors.New("cannot open sealed key: wrong master key, or the record was altered")

func (b *SoftwareBackend) open(rec storage.KeyRecord) (crypto.Signer, error) {
	der, err := b.unseal(rec)
	if err != nil {
		return nil, err
	}
	defer clear(der)
	key, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: decode private key: %w", rec.KID, err)
	}
	if err := checkKeyType(rec.Alg, key); err != nil {
		return nil, fmt.Errorf("keys: key %s: %w", rec.KID, err)
	}
	return key.(crypto.Signer), nil
}

// unseal opens the sealed material of rec.
func (b *SoftwareBackend) unseal(rec storage.KeyRecord) ([]byte, error) {
	if rec.Backend != SoftwareBackendName {
		return nil, fmt.Errorf("keys: key %s belongs to backend %q, not %q", rec.KID, rec.Backend, SoftwareBackendName)
	}
	ns := b.aead.NonceSize()
	if len(rec.Private) < 1+ns+b.aead.Overhead() || rec.Private[0] != sealVersion {
		return nil, fmt.Errorf("keys: key %s: unknown sealed key format", rec.KID)
	}
	out, err := b.aead.Open(nil, rec.Private[1:1+ns], rec.Private[1+ns:], sealAAD(rec.KID, rec.Purpose, rec.Alg))
	if err != nil {
		return nil, fmt.Errorf("keys: key %s: %w", rec.KID, errOpen)
	}
	return out, nil
}

// checkKeyType reports whether key (private or public) is of the kind alg needs.
func checkKeyType(alg string, key any) error {
	ok := false
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		ok = (alg == AlgES256 || alg == AlgECDHES) && k.Curve == elliptic.P256()
	case *ecdsa.PublicKey:
		ok = (alg == AlgES256 || alg == AlgECDHES) && k.Curve == elliptic.P256()
	case ed25519.PrivateKey, ed25519.PublicKey:
		ok = alg == AlgEdDSA
	case *rsa.PrivateKey:
		ok = (alg == AlgRS256 || alg == AlgPS256 || alg == AlgRSAOAEP256) && k.N.BitLen() >= rsaBits
	case *rsa.PublicKey:
		ok = (alg == AlgRS256 || alg == AlgPS256 || alg == AlgRSAOAEP256) && k.N.BitLen() >= rsaBits
	case *ecdh.PublicKey:
		ok = alg == AlgECDHES && k.Curve() == ecdh.P256()
	}
	if !ok {
		return fmt.Errorf("%T is not a valid %s key", key, alg)
	}
	return nil
}
