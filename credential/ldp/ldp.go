// Package ldp secures JSON-LD credentials with Data Integrity proofs
// (ldp_vc): eddsa-rdfc-2022 and ecdsa-rdfc-2019 (DataIntegrityProof with
// Multikey verification methods, VCDM 2.0) and Ed25519Signature2020 (VCDM
// 1.1, what Inji Verify accepts). Canonicalization is RDFC-1.0 through
// credential/jsonld, offline.
//
// The three suites sign the same bytes: SHA-256 (SHA-384 for P-384 keys)
// of the canonical proof configuration (the proof without proofValue,
// under the document's @context) followed by the same hash of the
// canonical document without its proof. The signature is Ed25519 or IEEE
// P1363 ECDSA (r||s), carried as multibase base58btc in proofValue.
//
// Verification fails closed: one proof, of a suite the caller allows, for
// the expected purpose, by a verification method that its DID document
// lists under that purpose and that belongs to the expected controller,
// with a key of the suite's type.
package ldp

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
	"github.com/sanad-id/sanad/credential/multibase"
)

// Cryptosuites (Data Integrity cryptosuite names, or the legacy proof type).
const (
	SuiteEdDSARDFC2022        = "eddsa-rdfc-2022"
	SuiteECDSARDFC2019        = "ecdsa-rdfc-2019"
	SuiteEd25519Signature2020 = "Ed25519Signature2020"
)

// Proof types.
const (
	// TypeDataIntegrityProof is the proof type of the cryptosuites.
	TypeDataIntegrityProof = "DataIntegrityProof"
	// TypeEd25519Signature2020 is the legacy proof type (no cryptosuite).
	TypeEd25519Signature2020 = "Ed25519Signature2020"
)

// ProofPurposeAssertion is the proof purpose of credentials.
const ProofPurposeAssertion = "assertionMethod"

// ErrUnsupportedSuite: the proof's type/cryptosuite is not one Sanad
// verifies, or not one the caller allowed.
var ErrUnsupportedSuite = errors.New("ldp: unsupported cryptosuite")

// SuiteAlg is the JOSE algorithm of the key a suite signs with (EdDSA for
// the Ed25519 suites, ES256 for ecdsa-rdfc-2019 on P-256).
func SuiteAlg(suite string) (string, error) {
	s, ok := suites[suite]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnsupportedSuite, suite)
	}
	return s.alg, nil
}

// SignOptions describe the proof Sign adds.
type SignOptions struct {
	// Suite is one of the Suite constants.
	Suite string
	// VerificationMethod is the absolute DID URL of the signing key; empty
	// means the signer's KeyID.
	VerificationMethod string
	// Created is the proof's creation time (truncated to seconds, written
	// in UTC). It is required.
	Created time.Time
	// ProofPurpose defaults to ProofPurposeAssertion.
	ProofPurpose string
	// Challenge and Domain bind a presentation proof (empty for credentials).
	Challenge, Domain string
}

// Sign returns a copy of doc with a proof by signer (doc is not modified;
// an existing proof member is an error). The signer's algorithm must match
// the suite: EdDSA for the Ed25519 suites, ES256 (or ES384) for
// ecdsa-rdfc-2019.
func Sign(ctx context.Context, l *jsonld.Loader, doc map[string]any, signer credential.Signer, o SignOptions) (map[string]any, error) {
	if l == nil {
		return nil, errors.New("ldp: Sign needs a jsonld.Loader")
	}
	if signer == nil {
		return nil, errors.New("ldp: Sign needs a signer")
	}
	s, ok := suites[o.Suite]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedSuite, o.Suite)
	}
	hash, sigSize, err := s.signerHash(signer.Alg())
	if err != nil {
		return nil, err
	}
	vm := o.VerificationMethod
	if vm == "" {
		vm = signer.KeyID()
	}
	if !absoluteIRI(vm) {
		return nil, fmt.Errorf("ldp: verification method %q is not an absolute URL", vm)
	}
	if o.Created.IsZero() {
		return nil, errors.New("ldp: SignOptions.Created is required")
	}
	purpose := o.ProofPurpose
	if purpose == "" {
		purpose = ProofPurposeAssertion
	}
	if doc == nil {
		return nil, fmt.Errorf("%w: no document", credential.ErrMalformed)
	}
	if _, ok := doc["proof"]; ok {
		return nil, fmt.Errorf("%w: the document already has a proof", credential.ErrMalformed)
	}
	docCtx, ok := doc["@context"]
	if !ok {
		return nil, fmt.Errorf("%w: the document has no @context", credential.ErrMalformed)
	}
	if err := s.checkContext(docCtx); err != nil {
		return nil, err
	}

	proof := map[string]any{"type": s.proofType}
	if s.cryptosuite != "" {
		proof["cryptosuite"] = s.cryptosuite
	}
	proof["created"] = o.Created.UTC().Truncate(time.Second).Format(time.RFC3339)
	proof["verificationMethod"] = vm
	proof["proofPurpose"] = purpose
	if o.Challenge != "" {
		proof["challenge"] = o.Challenge
	}
	if o.Domain != "" {
		proof["domain"] = o.Domain
	}

	data, err := hashData(l, doc, proof, hash)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(ctx, data)
	if err != nil {
		return nil, fmt.Errorf("ldp: signing: %w", err)
	}
	if len(sig) != sigSize {
		return nil, fmt.Errorf("ldp: the %s signer returned a %d-byte signature, want %d", signer.Alg(), len(sig), sigSize)
	}
	proof["proofValue"] = multibase.EncodeBase58(sig)

	out := make(map[string]any, len(doc)+1)
	for k, v := range doc {
		out[k] = v
	}
	out["proof"] = proof
	return out, nil
}

// VerifyOptions say what a proof must be to verify.
type VerifyOptions struct {
	Loader  *jsonld.Loader
	Methods did.MethodResolver
	// Suites allowed; empty allows all three.
	Suites []string
	// ProofPurpose expected; empty means ProofPurposeAssertion. The
	// verification method must be listed under this relationship.
	ProofPurpose string
	// Controller, when set, must be the verification method's controller
	// (the credential's issuer).
	Controller string
	// Challenge and Domain, when set, must match the proof's.
	Challenge, Domain string
	// Now is the clock a proof's expires is checked against; nil means
	// time.Now.
	Now func() time.Time
}

// ProofResult describes a verified proof.
type ProofResult struct {
	Suite              string
	VerificationMethod did.VerificationMethod
	Created            time.Time
}

// Verify checks the single proof of doc. Failures wrap
// credential.ErrMalformed (unparsable proof or document, unknown context,
// undefined term), credential.ErrSignature (bad signature, wrong key,
// purpose or controller) or ErrUnsupportedSuite.
func Verify(ctx context.Context, doc map[string]any, o VerifyOptions) (ProofResult, error) {
	if o.Loader == nil {
		return ProofResult{}, errors.New("ldp: VerifyOptions.Loader is required")
	}
	if o.Methods == nil {
		return ProofResult{}, errors.New("ldp: VerifyOptions.Methods is required")
	}
	p, err := ParseProof(doc)
	if err != nil {
		return ProofResult{}, err
	}
	s := suites[p.Suite]
	if !allowed(o.Suites, p.Suite) {
		return ProofResult{}, fmt.Errorf("%w: %s is not among the accepted suites %v", ErrUnsupportedSuite, p.Suite, o.Suites)
	}
	if err := s.checkContext(doc["@context"]); err != nil {
		return ProofResult{}, err
	}
	if err := checkProofContext(p.raw["@context"], doc["@context"]); err != nil {
		return ProofResult{}, err
	}
	purpose := o.ProofPurpose
	if purpose == "" {
		purpose = ProofPurposeAssertion
	}
	if p.ProofPurpose != purpose {
		return ProofResult{}, fmt.Errorf("%w: proof purpose %q, want %q", credential.ErrSignature, p.ProofPurpose, purpose)
	}
	if !p.Expires.IsZero() {
		now := time.Now
		if o.Now != nil {
			now = o.Now
		}
		if !now().Before(p.Expires) {
			return ProofResult{}, fmt.Errorf("%w: the proof expired at %s", credential.ErrSignature, p.Expires.Format(time.RFC3339))
		}
	}
	if o.Challenge != "" && p.Challenge != o.Challenge {
		return ProofResult{}, fmt.Errorf("%w: proof challenge does not match", credential.ErrSignature)
	}
	if o.Domain != "" && !contains(p.Domain, o.Domain) {
		return ProofResult{}, fmt.Errorf("%w: proof domain %q does not include %q", credential.ErrSignature, p.Domain, o.Domain)
	}

	vm, err := o.Methods.VerificationMethod(ctx, p.VerificationMethod)
	if err != nil {
		return ProofResult{}, fmt.Errorf("%w: verification method %s: %w", credential.ErrSignature, p.VerificationMethod, err)
	}
	if vm.ID != p.VerificationMethod {
		return ProofResult{}, fmt.Errorf("%w: resolving %s returned the method %s", credential.ErrSignature, p.VerificationMethod, vm.ID)
	}
	if !vm.Has(purpose) {
		return ProofResult{}, fmt.Errorf("%w: verification method %s is not listed under %s", credential.ErrSignature, vm.ID, purpose)
	}
	// The relationships come from the document of the method's own DID:
	// only that DID can be its controller here (a document of another DID
	// naming the issuer as controller does not speak for the issuer).
	if u, err := did.Parse(vm.ID); err != nil || vm.Controller != u.DID() {
		return ProofResult{}, fmt.Errorf("%w: verification method %s is controlled by %q, not by the DID whose document lists it", credential.ErrSignature, vm.ID, vm.Controller)
	}
	if o.Controller != "" && vm.Controller != o.Controller {
		return ProofResult{}, fmt.Errorf("%w: verification method %s is controlled by %q, want %q", credential.ErrSignature, vm.ID, vm.Controller, o.Controller)
	}
	if !s.methodType(vm.Type) {
		return ProofResult{}, fmt.Errorf("%w: verification method type %q cannot be used with %s", credential.ErrSignature, vm.Type, p.Suite)
	}
	pub, err := vm.PublicKey()
	if err != nil {
		return ProofResult{}, fmt.Errorf("%w: verification method %s: %w", credential.ErrSignature, vm.ID, err)
	}
	hash, verify, err := s.verifier(pub)
	if err != nil {
		return ProofResult{}, fmt.Errorf("%w: verification method %s: %w", credential.ErrSignature, vm.ID, err)
	}

	config := make(map[string]any, len(p.raw))
	for k, v := range p.raw {
		if k != "proofValue" {
			config[k] = v
		}
	}
	unsecured := make(map[string]any, len(doc))
	for k, v := range doc {
		if k != "proof" {
			unsecured[k] = v
		}
	}
	data, err := hashData(o.Loader, unsecured, config, hash)
	if err != nil {
		return ProofResult{}, err
	}
	if err := verify(data, p.Signature); err != nil {
		return ProofResult{}, err
	}
	return ProofResult{Suite: p.Suite, VerificationMethod: vm, Created: p.Created}, nil
}

// hashData is the Data Integrity "hash data" of a document (without its
// proof) and a proof configuration (the proof without proofValue, whose
// @context is set to the document's): the hash of the canonical proof
// configuration followed by the hash of the canonical document.
func hashData(l *jsonld.Loader, doc, proofConfig map[string]any, h crypto.Hash) ([]byte, error) {
	config := make(map[string]any, len(proofConfig)+1)
	for k, v := range proofConfig {
		config[k] = v
	}
	config["@context"] = doc["@context"]
	canonConfig, err := l.CanonicalizeHash(config, h)
	if err != nil {
		return nil, fmt.Errorf("%w: proof: %w", credential.ErrMalformed, err)
	}
	canonDoc, err := l.CanonicalizeHash(doc, h)
	if err != nil {
		return nil, fmt.Errorf("%w: document: %w", credential.ErrMalformed, err)
	}
	hc, hd := h.New(), h.New()
	hc.Write([]byte(canonConfig))
	hd.Write([]byte(canonDoc))
	return hd.Sum(hc.Sum(nil)), nil
}

// verifyEd25519 and verifyECDSA check a signature over hash data.
func verifyEd25519(pub ed25519.PublicKey) func(data, sig []byte) error {
	return func(data, sig []byte) error {
		if len(sig) != ed25519.SignatureSize {
			return fmt.Errorf("%w: Ed25519 signature of %d bytes, want %d", credential.ErrSignature, len(sig), ed25519.SignatureSize)
		}
		if !ed25519.Verify(pub, data, sig) {
			return fmt.Errorf("%w: Ed25519 signature does not verify", credential.ErrSignature)
		}
		return nil
	}
}

func verifyECDSA(pub *ecdsa.PublicKey, h crypto.Hash) func(data, sig []byte) error {
	size := (pub.Curve.Params().BitSize + 7) / 8
	return func(data, sig []byte) error {
		if len(sig) != 2*size {
			return fmt.Errorf("%w: %s signature of %d bytes, want %d", credential.ErrSignature, pub.Curve.Params().Name, len(sig), 2*size)
		}
		r := new(big.Int).SetBytes(sig[:size])
		ss := new(big.Int).SetBytes(sig[size:])
		d := h.New()
		d.Write(data)
		if !ecdsa.Verify(pub, d.Sum(nil), r, ss) {
			return fmt.Errorf("%w: ECDSA %s signature does not verify", credential.ErrSignature, pub.Curve.Params().Name)
		}
		return nil
	}
}

// curveName names the NIST curves ecdsa-rdfc-2019 accepts.
func curveName(c elliptic.Curve) string {
	switch c {
	case elliptic.P256():
		return "P-256"
	case elliptic.P384():
		return "P-384"
	}
	return ""
}
