// Package issuer is Sanad's OpenID4VCI 1.0 credential issuer (and the
// draft-13 shapes Inji wallets still send): issuer metadata, credential
// offers, the nonce, credential and notification endpoints. It renders
// credentials from templates/ with claims read from the ID repository and
// signs them through the keys package in the formats of package credential.
package issuer
