// Package authn authenticates residents for the OpenID provider: one-time
// codes (OTP), PINs, passwords and knowledge-based answers (KBI), checked
// against the ID repository. It exists so that the provider depends on one
// small contract (send an OTP, authenticate a factor list, derive a pairwise
// subject) and another ID system, such as MOSIP IDA, can stand behind the same
// calls later.
//
// An [Authenticator] consumes a [Directory] (login ID → person), a [MAC]
// (keyed hashes from the keys service), a storage.State (codes, counters,
// blocks), a storage.Factors (Argon2id verifiers) and a notify.Notifier.
//
// # Limits and blocking (eSignet's rules)
//
// Each transaction allows Policy.MaxSends send-otp calls and
// Policy.MaxAttempts authenticate calls; one more returns [ErrNoAttemptsLeft]
// and blocks the individual for Policy.BlockDuration across all transactions,
// during which both calls return [ErrIndividualBlocked]. Policy.MaxFailures
// failed authentications across transactions (within Policy.FailureWindow)
// block the individual as well, so that opening new transactions does not buy
// an attacker unlimited guesses.
//
// # What the caller can tell apart
//
// A wrong factor, an unknown login ID, a person who is not ACTIVE and a
// person without the factor enrolled all return the same [ErrAuthFailed],
// with no cause attached, after the same work: an unknown person's PIN is
// checked against a dummy Argon2id verifier with the same parameters, the
// factor store is queried with a dummy id, the OTP hash is computed, and KBI
// answers are compared with dummy values. Secrets are compared in constant
// time (crypto/subtle, over fixed-length digests).
//
// A blocked individual gets [ErrIndividualBlocked], as in eSignet. That does
// not reveal whether the login ID exists: unknown login IDs are counted and
// blocked by exactly the same rules, keyed by a keyed hash of the login ID
// where a known person is keyed by a keyed hash of the person (so a block
// covers every UIN, VID and handle of that person).
//
// send-otp for an unknown login ID does the same state work as for a real
// person (it stores the hash of a code that is never sent), waits about as
// long as recent deliveries took, and returns masked destinations that look
// real: derived deterministically from the login ID, with the e-mail domains
// and phone prefix of Policy.Decoy. It then behaves exactly like a real
// transaction (resend delay, limits, blocking). eSignet returns masked values
// only for real people; hiding existence here is deliberate. One thing does
// show: a real person who lacks a requested channel gets
// [ErrInvalidOTPChannel], which the login page needs to be usable.
//
// Nothing here logs an OTP, PIN, password, KBI answer, login ID, name, phone
// number or e-mail address. State keys carry keyed hashes, never a login ID.
package authn
