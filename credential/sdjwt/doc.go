// Package sdjwt implements Selective Disclosure for JWTs (SD-JWT, RFC 9901)
// and the SD-JWT VC profile (IETF draft-ietf-oauth-sd-jwt-vc, typ
// dc+sd-jwt, with the pre-final vc+sd-jwt accepted), for the three parties
// that handle them:
//
//   - the issuer: Issue and IssueVC turn claims into
//     <issuer-jwt>~<disclosure>~...~, making the claims at the given paths
//     selectively disclosable (object members at any depth and array
//     elements), with fresh 128-bit salts, sorted _sd digests, optional
//     decoys and cnf.jwk holder binding;
//   - the holder: Parse reads a credential without checking its signature,
//     and Token.Present selects the disclosures for a set of claim paths and
//     appends a Key Binding JWT signed with the holder's key;
//   - the verifier: Verify and VerifyVC check the issuer signature against
//     an explicit algorithm allow-list, typ, validity times, that every
//     disclosure is referenced exactly once, and the KB-JWT (nonce,
//     audience, iat window, sd_hash, signature by cnf.jwk).
//
// Parsing is strict: sizes, nesting depth and the number of disclosures are
// bounded, JSON must be valid UTF-8 without duplicate member names, and
// base64url must be unpadded and canonical. Failures wrap the credential
// package's Err* values (ErrMalformed, ErrSignature, ErrExpired,
// ErrNotYetValid, ErrDisclosure, ErrHolderBinding) with the detail.
//
// Signing always goes through a credential.Signer; this package never
// holds a private key. It is written by hand (jwx only converts jwk.Key
// values to crypto keys), because issuance throughput matters and the
// format is small: claims and disclosures are encoded without reflection
// for the shapes claims have.
package sdjwt
