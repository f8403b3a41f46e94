package keys

import (
	"context"
	"crypto"
	"crypto/ecdh"

	"github.com/sanad-id/sanad/storage"
)

// KeySpec identifies a key being generated. A backend binds the private part
// to it (the software backend authenticates it with the sealed blob; an HSM
// backend can use the KID as the object label).
type KeySpec struct {
	KID     string
	Purpose string
	Alg     string
}

// Backend holds private keys. The Service stores what Generate returns in
// storage.KeyRecord.Private and hands the record back to open it; the private
// key itself need never leave the backend, so a PKCS#11 HSM can implement
// this interface by returning object references and crypto.Signer values
// that call into the token.
type Backend interface {
	// Name is recorded in storage.KeyRecord.Backend ("software", "pkcs11").
	Name() string
	// Generate makes a new key pair for spec.Alg. private is what the store
	// keeps: sealed key material or a reference to the key in the backend.
	Generate(ctx context.Context, spec KeySpec) (pub crypto.PublicKey, private []byte, err error)
	// Signer opens the private part of a signing key.
	Signer(ctx context.Context, rec storage.KeyRecord) (crypto.Signer, error)
}

// DecryptionBackend is the optional capability of a Backend that holds
// encryption ("enc") keys. Found by type assertion.
type DecryptionBackend interface {
	// Decrypter opens the private part of an RSA-OAEP-256 key. The Service
	// calls Decrypt with *rsa.OAEPOptions.
	Decrypter(ctx context.Context, rec storage.KeyRecord) (crypto.Decrypter, error)
	// KeyAgreement opens the private part of an ECDH-ES key.
	KeyAgreement(ctx context.Context, rec storage.KeyRecord) (KeyAgreement, error)
}

// KeyAgreement is the private operation of an ECDH key; *ecdh.PrivateKey
// implements it.
type KeyAgreement interface {
	PublicKey() *ecdh.PublicKey
	ECDH(remote *ecdh.PublicKey) ([]byte, error)
}
