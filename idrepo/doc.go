// Package idrepo is the ID repository, Sanad's system of record: residents
// and their identity data (encrypted at rest), UIN and VID issuance by MOSIP's
// rules, authentication factors (OTP, PIN, password, knowledge-based) behind
// an interface the OIDC provider calls, and a hash-chained audit trail.
//
// This package holds the repository itself: the identity schema (schema.go),
// sealing and keyed hashes (seal.go), residents (repository.go), VIDs
// (vid.go), lookups for authentication (lookup.go), the audit log with group
// commit and its verifier (audit.go), the admin HTTP API (admin.go), bulk
// import (import.go) and the demo residents (demo.go). UIN and VID generation
// live in idrepo/idgen, OTP delivery in idrepo/notify and authentication in
// idrepo/authn. docs/idrepo.md is the design.
package idrepo
