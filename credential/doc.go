// Package credential holds the verifiable-credential formats shared by the
// issuer, the wallet backend and the verifier (JWT VC, SD-JWT VC, Data
// Integrity ldp_vc, status lists), so that what one part issues the others
// parse and verify with the same code.
package credential
