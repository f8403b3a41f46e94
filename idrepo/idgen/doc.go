// Package idgen makes and checks UINs and VIDs, the numbers by which Sanad
// knows a resident, by the rules of MOSIP's id generator, so that the IDs
// Sanad issues look like MOSIP's and pass MOSIP's validators.
//
// An ID is Length-1 digits from a cryptographically secure source followed
// by a Verhoeff check digit (10 digits for a UIN and 16 for a VID by
// default). It must pass a set of filters, applied to the whole ID check
// digit included, that keep out numbers people would find easy to guess,
// remember wrongly or read as meaningful: runs such as 123 or 901, a digit
// recurring within two places, a block of digits occurring twice, three
// adjacent digits from {2, 4, 6, 8}, the first five digits equal to the last
// five or to their reverse, the restricted numbers 786 and 666, a leading 0
// or 1, and the cyclic numbers 142857, 0588235294117647 and the like. Rules
// holds the length and the filters' parameters, named after MOSIP's
// configuration properties; DefaultUINRules and DefaultVIDRules return
// MOSIP's defaults.
//
// A Generator makes IDs on demand by rejection sampling, with no pool to
// refill or to run dry. It does not know which IDs exist: the ID repository
// keeps them unique. The filters leave few IDs, so collisions come early: of
// the 10^9 10-digit candidates only 58,106,898 pass (counted exhaustively),
// and a 12-digit UIN (about 2.8 billion valid, by sampling) suits a large
// population better.
//
// Rules.Check tells a well-formed ID from a mistyped one before any lookup; it tests the length, the digits and the Verhoeff check digit
// first (Rules.ValidChecksum on its own is that cheap part), which catches
// every single wrong digit and every swap of two adjacent digits. Its error,
// a *RuleError, names the failed rule and never the ID, so it may be logged.
package idgen
