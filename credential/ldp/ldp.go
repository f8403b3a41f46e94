// Package ldp secures JSON-LD credentials with Data Integrity proofs
// (ldp_vc): eddsa-rdfc-2022 and ecdsa-rdfc-2019 (DataIntegrityProof with
// Multikey verification methods, VCDM 2.0) and Ed25519Signature2020 (VCDM
// 1.1, what Inji Verify accepts). Canonicalization is RDFC-1.0 through
// credential/jsonld, offline.
//
// CONTRACT STUB: the signatures below are fixed; bodies are being written.
package ldp

import (
	"context"
	"errors"
	"time"

	"github.com/sanad-id/sanad/credential"
	"github.com/sanad-id/sanad/credential/did"
	"github.com/sanad-id/sanad/credential/jsonld"
)

// Cryptosuites (Data Integrity cryptosuite names, or the legacy proof type).
const (
	SuiteEdDSARDFC2022        = "eddsa-rdfc-2022"
	SuiteECDSARDFC2019        = "ecdsa-rdfc-2019"
	SuiteEd25519Signature2020 = "Ed25519Signature2020"
)

// ProofPurposeAssertion is the proof purpose of credentials.
const ProofPurposeAssertion = "assertionMethod"

// ErrUnsupportedSuite: the proof's type/cryptosuite is not one Sanad
// verifies, or not one the caller allowed.
var ErrUnsupportedSuite = errors.New("ldp: unsupported cryptosuite")

// SuiteAlg is the JOSE algorithm of the key a suite signs with (EdDSA for
// the Ed25519 suites, ES256 for ecdsa-rdfc-2019 on P-256).
func SuiteAlg(suite string) (string, error) { panic("unimplemented") }

// SignOptions describe the proof Sign adds.
type SignOptions struct {
	// Suite is one of the Suite constants.
	Suite string
	// VerificationMethod is the absolute DID URL of the signing key.
	VerificationMethod string
	// Created is the proof's creation time (truncated to seconds).
	Created time.Time
	// ProofPurpose defaults to ProofPurposeAssertion.
	ProofPurpose string
	// Challenge and Domain bind a presentation proof (empty for credentials).
	Challenge, Domain string
}

// Sign returns a copy of doc with a proof by signer (doc is not modified;
// an existing proof member is an error). The signer's algorithm must match
// the suite.
func Sign(ctx context.Context, l *jsonld.Loader, doc map[string]any, signer credential.Signer, o SignOptions) (map[string]any, error) {
	panic("unimplemented")
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
	panic("unimplemented")
}
