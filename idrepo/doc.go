// Package idrepo is the ID repository, Sanad's system of record: residents
// and their identity data (encrypted at rest), UIN and VID issuance by MOSIP's
// rules, authentication factors (OTP, PIN, password, knowledge-based) behind
// an interface the OIDC provider calls, and a hash-chained audit trail.
package idrepo
