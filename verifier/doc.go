// Package verifier checks presentations and credentials for service
// providers: OpenID4VP requests and direct_post responses, offline QR codes
// (PixelPass, Claim 169), and a verification API that reports each check
// (signature, holder binding, validity, status) separately. It shares the
// credential-format code in package credential with the issuer and wallet.
package verifier
