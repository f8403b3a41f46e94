package jsonld

import (
	"errors"
	"fmt"
	"strings"

	"github.com/piprate/json-gold/ld"
)

// Canonicalize returns the RDFC-1.0 canonical N-Quads of doc, a JSON-LD
// document decoded by encoding/json (map[string]any, []any, string,
// float64, bool, nil). Contexts come from l only.
func (l *Loader) Canonicalize(doc map[string]any) (string, error) {
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = l
	opts.Algorithm = ld.AlgorithmURDNA2015
	opts.Format = "application/n-quads"
	opts.ProcessingMode = ld.JsonLd_1_1
	opts.SafeMode = true
	out, err := ld.NewJsonLdProcessor().Normalize(doc, opts)
	if err != nil {
		return "", classify(err)
	}
	s, ok := out.(string)
	if !ok {
		return "", fmt.Errorf("%w: canonicalization returned %T", ErrInvalid, out)
	}
	return s, nil
}

// classify maps a json-gold error to this package's errors.
func classify(err error) error {
	if errors.Is(err, ErrUnknownContext) {
		return err
	}
	var je *ld.JsonLdError
	if errors.As(err, &je) {
		if inner, ok := je.Details.(error); ok && errors.Is(inner, ErrUnknownContext) {
			return inner
		}
		msg := string(je.Code)
		if je.Details != nil {
			msg += ": " + fmt.Sprint(je.Details)
		}
		if je.Code == ld.InvalidProperty || strings.Contains(msg, "dropping") || strings.Contains(msg, "undefined") {
			return fmt.Errorf("%w: %s", ErrUndefinedTerm, msg)
		}
		return fmt.Errorf("%w: %s", ErrInvalid, msg)
	}
	return fmt.Errorf("%w: %v", ErrInvalid, err)
}
