// Package walletapi is the holder's backend that Sanad's mobile wallet talks
// to: accounts, PIN-unlocked wallets whose keys and credentials are encrypted
// at rest, credential download over OpenID4VCI, and presentation over
// OpenID4VP. The folder is wallet-api; the package is walletapi.
package walletapi
