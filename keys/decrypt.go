package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwe"
	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Decrypt decrypts a compact JWE encrypted to a published key of purpose and
// returns the plaintext. The header's alg (key management) must be one of
// allowedAlgs, which must not be empty, and the alg of the key. If the JWE
// names no kid, every published key with that alg is tried, newest first.
// Compressed ("zip") and "crit" JWEs are refused.
func (s *Service) Decrypt(ctx context.Context, purpose, compact string, allowedAlgs ...string) ([]byte, error) {
	set, ok := s.sets[purpose]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	if set.Use != UseEnc {
		return nil, fmt.Errorf("%w: %s is not an encryption key set", ErrUnsupportedAlg, purpose)
	}
	if len(allowedAlgs) == 0 {
		return nil, fmt.Errorf("keys: Decrypt needs the accepted algorithms")
	}
	if strings.Count(compact, ".") != 4 {
		return nil, fmt.Errorf("%w: not a compact JWE", ErrInvalid)
	}
	h, err := parseJOSEHeader(compact[:strings.IndexByte(compact, '.')])
	if err != nil {
		return nil, err
	}
	if h.Zip != nil {
		return nil, fmt.Errorf("%w: compressed JWE not supported", ErrInvalid)
	}
	if algUse[h.Alg] != UseEnc || !slices.Contains(allowedAlgs, h.Alg) {
		return nil, fmt.Errorf("%w: alg %q not allowed", ErrInvalid, h.Alg)
	}
	alg, ok := jwa.LookupKeyEncryptionAlgorithm(h.Alg)
	if !ok {
		return nil, fmt.Errorf("%w: alg %q not supported", ErrInvalid, h.Alg)
	}
	var candidates []*key
	if h.KID != "" {
		if k := s.lookup(ctx, purpose, h.KID); k != nil {
			candidates = append(candidates, k)
		}
	} else {
		now := s.now()
		ks := s.snap.Load().byPurpose[purpose]
		for i := len(ks) - 1; i >= 0; i-- {
			if ks[i].rec.Alg == h.Alg && published(ks[i].rec, now) {
				candidates = append(candidates, ks[i])
			}
		}
	}
	if len(candidates) == 0 {
		return nil, fmt.Errorf("%w: no key for kid %q", ErrInvalid, h.KID)
	}
	var errs []error
	for _, k := range candidates {
		if k.rec.Alg != h.Alg {
			return nil, fmt.Errorf("%w: alg %s does not match key %s (%s)", ErrInvalid, h.Alg, k.rec.KID, k.rec.Alg)
		}
		if k.decrypter == nil && k.agreement == nil {
			continue // its alg was removed from the set
		}
		plaintext, err := jwe.Decrypt([]byte(compact), jwe.WithKey(alg, jweKey{k}), jwe.WithContext(ctx))
		if err == nil {
			return plaintext, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("%w: cannot decrypt: %v", ErrInvalid, errors.Join(errs...))
}

// jweKey lets jwx decrypt with a key whose private part stays behind the
// Backend (crypto.Decrypter, KeyAgreement).
type jweKey struct{ k *key }

var _ jwe.KeyDecrypter = jweKey{}

// DecryptKey returns the content encryption key of a message.
func (d jweKey) DecryptKey(alg jwa.KeyEncryptionAlgorithm, encryptedKey []byte, _ jwe.Recipient, msg *jwe.Message) ([]byte, error) {
	if alg.String() != d.k.rec.Alg {
		return nil, fmt.Errorf("alg %s does not match key %s", alg, d.k.rec.KID)
	}
	switch {
	case d.k.decrypter != nil && alg.String() == AlgRSAOAEP256:
		return d.k.decrypter.Decrypt(rand.Reader, encryptedKey, &rsa.OAEPOptions{Hash: crypto.SHA256})
	case d.k.agreement != nil && alg.String() == AlgECDHES:
		return d.agree(encryptedKey, msg.ProtectedHeaders())
	default:
		return nil, fmt.Errorf("key %s cannot decrypt %s", d.k.rec.KID, alg)
	}
}

// agree derives the content encryption key of ECDH-ES direct key agreement
// (RFC 7518, section 4.6) from the protected header. In compact JWE every
// header is protected.
func (d jweKey) agree(encryptedKey []byte, h jwe.Headers) ([]byte, error) {
	if len(encryptedKey) != 0 {
		return nil, errors.New("ECDH-ES: encrypted key must be empty")
	}
	enc, ok := h.ContentEncryption()
	if !ok {
		return nil, errors.New("ECDH-ES: no enc")
	}
	size, ok := cekSize[enc.String()]
	if !ok {
		return nil, fmt.Errorf("ECDH-ES: unsupported enc %s", enc)
	}
	epkJWK, ok := h.EphemeralPublicKey()
	if !ok {
		return nil, errors.New("ECDH-ES: no epk")
	}
	var epk ecdsa.PublicKey
	if err := jwk.Export(epkJWK, &epk); err != nil {
		return nil, fmt.Errorf("ECDH-ES: epk: %w", err)
	}
	peer, err := epk.ECDH() // checks the point is on the curve
	if err != nil {
		return nil, fmt.Errorf("ECDH-ES: epk: %w", err)
	}
	z, err := d.k.agreement.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("ECDH-ES: %w", err)
	}
	defer clear(z)
	apu, _ := h.AgreementPartyUInfo()
	apv, _ := h.AgreementPartyVInfo()
	return concatKDF(z, enc.String(), apu, apv, size), nil
}

// cekSize is the key size in bytes of each content encryption algorithm.
var cekSize = map[string]int{
	"A128GCM":       16,
	"A192GCM":       24,
	"A256GCM":       32,
	"A128CBC-HS256": 32,
	"A192CBC-HS384": 48,
	"A256CBC-HS512": 64,
}

// concatKDF is the single-step key derivation of NIST SP 800-56A with
// SHA-256, as JOSE uses it (RFC 7518, section 4.6.2).
func concatKDF(z []byte, algID string, apu, apv []byte, size int) []byte {
	var info []byte
	for _, field := range [][]byte{[]byte(algID), apu, apv} {
		info = binary.BigEndian.AppendUint32(info, uint32(len(field)))
		info = append(info, field...)
	}
	info = binary.BigEndian.AppendUint32(info, uint32(size*8))
	out := make([]byte, 0, size+sha256.Size)
	for counter := uint32(1); len(out) < size; counter++ {
		h := sha256.New()
		var c [4]byte
		binary.BigEndian.PutUint32(c[:], counter)
		h.Write(c[:])
		h.Write(z)
		h.Write(info)
		out = h.Sum(out)
	}
	return out[:size]
}
