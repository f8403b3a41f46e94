package ldp

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	_ "crypto/sha256" // SHA-256 for Ed25519 and P-256
	_ "crypto/sha512" // SHA-384 for P-384
	"fmt"
	"slices"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
)

// suite is what differs between the three suites.
type suite struct {
	name        string
	alg         string // SuiteAlg
	proofType   string
	cryptosuite string // empty for Ed25519Signature2020
	// contexts: the document's @context must include one of them, or the
	// proof's terms are not defined.
	contexts []string
	// methodTypes are the verification method types accepted.
	methodTypes []string
	ecdsa       bool
}

var suites = map[string]*suite{
	SuiteEdDSARDFC2022: {
		name: SuiteEdDSARDFC2022, alg: "EdDSA",
		proofType: TypeDataIntegrityProof, cryptosuite: SuiteEdDSARDFC2022,
		contexts:    []string{jsonld.CredentialsV2, jsonld.DataIntegrityV2, jsonld.DataIntegrityV1},
		methodTypes: []string{did.TypeMultikey, did.TypeJsonWebKey, did.TypeJsonWebKey2020},
	},
	SuiteECDSARDFC2019: {
		name: SuiteECDSARDFC2019, alg: "ES256",
		proofType: TypeDataIntegrityProof, cryptosuite: SuiteECDSARDFC2019,
		contexts:    []string{jsonld.CredentialsV2, jsonld.DataIntegrityV2, jsonld.DataIntegrityV1},
		methodTypes: []string{did.TypeMultikey, did.TypeJsonWebKey, did.TypeJsonWebKey2020},
		ecdsa:       true,
	},
	SuiteEd25519Signature2020: {
		name: SuiteEd25519Signature2020, alg: "EdDSA",
		proofType:   TypeEd25519Signature2020,
		contexts:    []string{jsonld.Ed25519Suite2020V1},
		methodTypes: []string{did.TypeEd25519VerificationKey2020, did.TypeMultikey},
	},
}

// suiteOf maps a proof's type and cryptosuite to its suite.
func suiteOf(typ, cryptosuite string, hasCryptosuite bool) (*suite, error) {
	switch typ {
	case TypeDataIntegrityProof:
		if !hasCryptosuite {
			return nil, fmt.Errorf("%w: DataIntegrityProof without a cryptosuite", credential.ErrMalformed)
		}
		if s, ok := suites[cryptosuite]; ok && s.proofType == TypeDataIntegrityProof {
			return s, nil
		}
		return nil, fmt.Errorf("%w: cryptosuite %q", ErrUnsupportedSuite, cryptosuite)
	case TypeEd25519Signature2020:
		if hasCryptosuite {
			return nil, fmt.Errorf("%w: an Ed25519Signature2020 proof has no cryptosuite", credential.ErrMalformed)
		}
		return suites[SuiteEd25519Signature2020], nil
	}
	return nil, fmt.Errorf("%w: proof type %q", ErrUnsupportedSuite, typ)
}

// signerHash is the hash and signature size for a signer's algorithm.
func (s *suite) signerHash(alg string) (crypto.Hash, int, error) {
	if s.ecdsa {
		switch alg {
		case "ES256":
			return crypto.SHA256, 64, nil
		case "ES384":
			return crypto.SHA384, 96, nil
		}
	} else if alg == "EdDSA" || alg == "Ed25519" {
		return crypto.SHA256, ed25519.SignatureSize, nil
	}
	return 0, 0, fmt.Errorf("%w: %s cannot sign with a %s key", ErrUnsupportedSuite, s.name, alg)
}

// verifier is the hash and signature check for a verification key.
func (s *suite) verifier(pub crypto.PublicKey) (crypto.Hash, func(data, sig []byte) error, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		if !s.ecdsa {
			return crypto.SHA256, verifyEd25519(k), nil
		}
	case *ecdsa.PublicKey:
		if s.ecdsa {
			switch curveName(k.Curve) {
			case "P-256":
				return crypto.SHA256, verifyECDSA(k, crypto.SHA256), nil
			case "P-384":
				return crypto.SHA384, verifyECDSA(k, crypto.SHA384), nil
			}
			return 0, nil, fmt.Errorf("%s is not for %s keys", s.name, k.Curve.Params().Name)
		}
	}
	return 0, nil, fmt.Errorf("%s is not for %T keys", s.name, pub)
}

func (s *suite) methodType(t string) bool { return slices.Contains(s.methodTypes, t) }

// checkContext requires one of the suite's contexts in a document's
// @context: without it the proof's terms are undefined (or, worse,
// defined by the document's own contexts).
func (s *suite) checkContext(v any) error {
	var urls []string
	switch t := v.(type) {
	case string:
		urls = []string{t}
	case []any:
		for _, e := range t {
			if u, ok := e.(string); ok {
				urls = append(urls, u)
			}
		}
	case nil:
		return fmt.Errorf("%w: the document has no @context", credential.ErrMalformed)
	}
	for _, u := range urls {
		if slices.Contains(s.contexts, u) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s needs one of the contexts %v in the document's @context", credential.ErrMalformed, s.name, s.contexts)
}

func allowed(list []string, suite string) bool {
	return len(list) == 0 || slices.Contains(list, suite)
}
