package did

import (
	"github.com/sanad-id/sanad/credential/multibase"

	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"

	"github.com/lestrrat-go/jwx/v3/jwk"
)

// Multicodec codes of the public keys did:key encodes
// (https://github.com/multiformats/multicodec/blob/master/table.csv).
const (
	codecEd25519Pub = 0xed
	codecP256Pub    = 0x1200
	codecP384Pub    = 0x1201
	codecP521Pub    = 0x1202
)

// privateCodecs are multicodec codes of private keys: a did:key carrying
// one is a leaked secret, never a holder identifier.
var privateCodecs = map[uint64]string{
	0x1300: "ed25519-priv",
	0x1301: "secp256k1-priv",
	0x1302: "x25519-priv",
	0x1303: "sr25519-priv",
	0x1305: "rsa-priv",
	0x1306: "p256-priv",
	0x1307: "p384-priv",
	0x1308: "p521-priv",
}

// maxKeyID bounds the multibase value of a did:key: the largest key
// supported (P-521, 67 bytes compressed, plus a 2-byte codec) is 93
// base58 characters.
const maxKeyID = 128

// KeyMethod resolves did:key DIDs (W3C CCG did:key 0.7) of Ed25519,
// P-256, P-384 and P-521 keys, offline. The only verification method of a
// did:key DID is "did:key:<mb>#<mb>", so a fragment other than the
// multibase value names nothing.
type KeyMethod struct{}

// Name implements Method.
func (KeyMethod) Name() string { return "key" }

// ResolveKey implements Method.
func (KeyMethod) ResolveKey(_ context.Context, u URL) (jwk.Key, error) {
	if u.Method != "key" {
		return nil, fmt.Errorf("%w: did:%s is not did:key", ErrUnsupportedMethod, u.Method)
	}
	if u.Fragment != "" && u.Fragment != u.ID {
		return nil, fmt.Errorf("%w: a did:key fragment must repeat its multibase key", ErrNotFound)
	}
	pub, err := decodeKeyID(u.ID)
	if err != nil {
		return nil, err
	}
	k, err := jwk.Import(pub)
	if err != nil {
		return nil, fmt.Errorf("%w: did:key: %v", ErrInvalid, err)
	}
	return k, nil
}

// decodeKeyID decodes the method-specific id of a did:key: a multibase
// base58btc ("z") value of a multicodec-prefixed public key.
func decodeKeyID(id string) (crypto.PublicKey, error) {
	if len(id) < 2 || id[0] != 'z' {
		return nil, fmt.Errorf("%w: did:key must be multibase base58btc (z...)", ErrInvalid)
	}
	if len(id) > maxKeyID {
		return nil, fmt.Errorf("%w: did:key longer than any supported key", ErrUnsupportedKey)
	}
	raw, err := multibase.Base58Decode(id[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: did:key: %v", ErrInvalid, err)
	}
	code, n, err := uvarint(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: did:key multicodec: %v", ErrInvalid, err)
	}
	key := raw[n:]
	switch code {
	case codecEd25519Pub:
		if len(key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("%w: did:key Ed25519 key of %d bytes", ErrInvalid, len(key))
		}
		return ed25519.PublicKey(key), nil
	case codecP256Pub:
		return decompress(elliptic.P256(), key)
	case codecP384Pub:
		return decompress(elliptic.P384(), key)
	case codecP521Pub:
		return decompress(elliptic.P521(), key)
	}
	if name, ok := privateCodecs[code]; ok {
		return nil, fmt.Errorf("%w: did:key encodes a %s key", ErrPrivateKey, name)
	}
	return nil, fmt.Errorf("%w: did:key multicodec 0x%x", ErrUnsupportedKey, code)
}

// decompress parses a SEC 1 compressed point, as did:key encodes NIST
// curve keys.
func decompress(curve elliptic.Curve, b []byte) (*ecdsa.PublicKey, error) {
	size := (curve.Params().BitSize + 7) / 8
	if len(b) != 1+size || (b[0] != 2 && b[0] != 3) {
		return nil, fmt.Errorf("%w: did:key %s key is not a compressed point", ErrInvalid, curve.Params().Name)
	}
	x, y := elliptic.UnmarshalCompressed(curve, b)
	if x == nil {
		return nil, fmt.Errorf("%w: did:key %s key is not on the curve", ErrInvalid, curve.Params().Name)
	}
	// Round-trip through the uncompressed form so the key is checked by
	// crypto/ecdsa like any other.
	unc := make([]byte, 1+2*size)
	unc[0] = 4
	x.FillBytes(unc[1 : 1+size])
	y.FillBytes(unc[1+size:])
	pub, err := ecdsa.ParseUncompressedPublicKey(curve, unc)
	if err != nil {
		return nil, fmt.Errorf("%w: did:key %s key: %v", ErrInvalid, curve.Params().Name, err)
	}
	return pub, nil
}

// KeyDID returns the did:key DID of an Ed25519 or P-256/P-384/P-521
// public key (ed25519.PublicKey, *ecdsa.PublicKey, or a public jwk.Key of
// those). Its only verification method is KeyDID(pub) + "#" + the part
// after "did:key:".
func KeyDID(pub crypto.PublicKey) (string, error) {
	if k, ok := pub.(jwk.Key); ok {
		if private, err := jwk.IsPrivateKey(k); err != nil || private {
			return "", fmt.Errorf("%w: KeyDID needs a public key", ErrPrivateKey)
		}
		var raw any
		if err := jwk.Export(k, &raw); err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		pub = raw
	}
	var code uint64
	var key []byte
	switch p := pub.(type) {
	case ed25519.PublicKey:
		if len(p) != ed25519.PublicKeySize {
			return "", fmt.Errorf("%w: Ed25519 key of %d bytes", ErrInvalid, len(p))
		}
		code, key = codecEd25519Pub, p
	case *ed25519.PublicKey:
		if p == nil || len(*p) != ed25519.PublicKeySize {
			return "", fmt.Errorf("%w: malformed Ed25519 key", ErrInvalid)
		}
		code, key = codecEd25519Pub, *p
	case *ecdsa.PublicKey:
		if p == nil {
			return "", fmt.Errorf("%w: nil ECDSA key", ErrInvalid)
		}
		switch p.Curve {
		case elliptic.P256():
			code = codecP256Pub
		case elliptic.P384():
			code = codecP384Pub
		case elliptic.P521():
			code = codecP521Pub
		default:
			return "", fmt.Errorf("%w: ECDSA curve not supported by did:key", ErrUnsupportedKey)
		}
		unc, err := p.Bytes()
		if err != nil {
			return "", fmt.Errorf("%w: %v", ErrInvalid, err)
		}
		size := (len(unc) - 1) / 2
		key = make([]byte, 1+size)
		key[0] = 2 | unc[len(unc)-1]&1
		copy(key[1:], unc[1:1+size])
	case ed25519.PrivateKey, *ed25519.PrivateKey, *ecdsa.PrivateKey, crypto.Signer:
		return "", fmt.Errorf("%w: KeyDID needs a public key", ErrPrivateKey)
	default:
		return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
	raw := appendUvarint(make([]byte, 0, 3+len(key)), code)
	raw = append(raw, key...)
	return "did:key:z" + multibase.Base58Encode(raw), nil
}

// uvarint decodes an unsigned LEB128 varint as multiformats uses it: at
// most 9 bytes and minimally encoded.
func uvarint(b []byte) (uint64, int, error) {
	var v uint64
	for i := 0; i < len(b) && i < 9; i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			if b[i] == 0 && i > 0 {
				return 0, 0, fmt.Errorf("varint is not minimally encoded")
			}
			return v, i + 1, nil
		}
	}
	return 0, 0, fmt.Errorf("truncated or overlong varint")
}

func appendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}
