// Package jwtclaims holds the JWT claim value types that every JWT parser
// in Sanad shares (client assertions, DPoP proofs, proof JWTs, JWT VCs):
// one definition of what a valid NumericDate is.
package jwtclaims

import (
	"encoding/json"
	"errors"
	"math"
	"time"
)

// NumericDate is a JWT NumericDate (RFC 7519 section 2): seconds since the
// epoch, possibly fractional. Values beyond ±2^40 s, and anything but a
// JSON number, are refused when decoding.
type NumericDate float64

// UnmarshalJSON decodes a NumericDate, refusing out-of-range values.
func (d *NumericDate) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return errors.New("NumericDate is not a number")
	}
	if math.IsNaN(f) || math.Abs(f) > 1<<40 {
		return errors.New("NumericDate out of range")
	}
	*d = NumericDate(f)
	return nil
}

// Time is the date as a time in UTC.
func (d NumericDate) Time() time.Time {
	sec, frac := math.Modf(float64(d))
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// Strings is a claim whose value is one string or an array of strings:
// a JWT aud (RFC 7519 section 4.1.3), a JSON-LD type. One string decodes
// to a slice of one.
type Strings []string

// UnmarshalJSON decodes a string or an array of strings.
func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("neither a string nor an array of strings")
	}
	*s = many
	return nil
}
