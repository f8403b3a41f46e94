// Package statuslist reads and writes credential status lists, which is how
// an issuer revokes or suspends a credential after handing it out:
//
//   - W3C Bitstring Status List 1.0 (for ldp_vc and jwt_vc_json): a
//     credential carries a BitstringStatusListEntry (Entry) naming a bit of
//     a status list credential (ListCredential, ReadListCredential,
//     ParseListCredential, CheckEntry) whose encodedList is a GZIP-compressed
//     Bitstring. Legacy StatusList2021 entries and lists are read, not
//     written.
//   - IETF Token Status List (draft-ietf-oauth-status-list, for SD-JWT VC):
//     a token carries a status.status_list reference (TokenReference) to a
//     status list token (typ statuslist+jwt, IssueToken, ParseToken) whose
//     status_list holds 1, 2, 4 or 8 bits per token (TokenList).
//   - Permutation maps an allocation counter to a list index with a keyed
//     bijection, so an index says nothing about when a credential was
//     issued or how full its list is.
//
// Everything read from outside is bounded: a compressed list may expand to
// at most MaxListBytes, and a W3C list shorter than MinEntries is refused,
// as the specification tells verifiers (STATUS_LIST_LENGTH_ERROR), to keep
// the herd privacy a long list gives. Proofs of status list credentials are
// checked by the format packages (ldp, jwtvc); status list tokens are
// verified here. Private keys never enter this package: IssueToken signs
// through a credential.Signer.
package statuslist

import (
	"errors"
	"fmt"
)

// DefaultSize is the number of entries of a list (16 KiB of bits).
const DefaultSize = 131072

// MinEntries is the shortest W3C bitstring a verifier accepts (Bitstring
// Status List 1.0, section 3.2, minimumNumberOfEntries) and the shortest
// ListCredential publishes: 131 072 entries, 16 KiB uncompressed.
const MinEntries = 131072

// MaxListBytes bounds the decompressed size of any list this package
// reads or builds (16 MiB: 134 million 1-bit entries), so a small
// compressed value cannot expand into an unbounded allocation.
const MaxListBytes = 16 << 20

// Status purposes of W3C lists.
const (
	PurposeRevocation = "revocation"
	PurposeSuspension = "suspension"
	// PurposeRefresh and PurposeMessage are the other purposes the
	// specification names. Sanad does not publish them; entries carrying
	// them (or any other string) are read as they are.
	PurposeRefresh = "refresh"
	PurposeMessage = "message"
)

// Token status values (IETF Token Status List).
const (
	TokenValid     = 0x00
	TokenInvalid   = 0x01
	TokenSuspended = 0x02
)

// Errors. Every error of this package wraps one of them (or, for the
// validity of a list credential and the signature and expiry of a status
// list token, credential.ErrExpired, ErrNotYetValid or ErrSignature).
var (
	// ErrMalformed: a list, entry or token does not parse or is out of range.
	ErrMalformed = errors.New("statuslist: malformed")
	// ErrRange: an index lies outside its list (the specification's
	// RANGE_ERROR). It wraps ErrMalformed.
	ErrRange = fmt.Errorf("%w: index out of range", ErrMalformed)
	// ErrListLength: a W3C list is shorter than MinEntries (the
	// specification's STATUS_LIST_LENGTH_ERROR). It wraps ErrMalformed.
	ErrListLength = fmt.Errorf("%w: list shorter than %d entries", ErrMalformed, MinEntries)
	// ErrMismatch: an entry does not belong to the list it was checked
	// against: another list URL, a purpose the list does not have, or a
	// list of the other family (the specification's
	// STATUS_VERIFICATION_ERROR).
	ErrMismatch = errors.New("statuslist: entry does not match the status list")
	// ErrUnsupported: a well-formed entry this package cannot evaluate
	// (a W3C statusSize other than 1).
	ErrUnsupported = errors.New("statuslist: unsupported status entry")
)

// malformed returns an error wrapping ErrMalformed.
func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, args...)...)
}

// truncate shortens a value from outside before it goes into an error.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
