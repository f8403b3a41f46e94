package idrepo

import (
	"context"
	"errors"
	"fmt"

	"github.com/sanad-id/sanad/idrepo/authn"
	"github.com/sanad-id/sanad/storage"
)

// Directory lets the authenticator (idrepo/authn) find residents in the
// repository: it maps Lookup and ResolveVID, and their errors, onto
// authn.Directory and authn.LoginIDConsumer.
type Directory struct{ Repo *Repository }

var (
	_ authn.Directory       = Directory{}
	_ authn.LoginIDConsumer = Directory{}
)

// Lookup implements authn.Directory.
func (d Directory) Lookup(ctx context.Context, loginID string) (authn.Person, error) {
	p, err := d.Repo.Lookup(ctx, loginID)
	if err != nil {
		return authn.Person{}, authnError(err)
	}
	return authn.Person{ID: p.ID, Status: p.Status, Identity: p.Identity}, nil
}

// ConsumeLoginID spends one use of a temporary VID once a sign-in with it
// succeeded; other login IDs have nothing to spend.
func (d Directory) ConsumeLoginID(ctx context.Context, loginID string) error {
	if _, err := d.Repo.ResolveVID(ctx, LookupActor, loginID); err != nil &&
		!errors.Is(err, &Error{Code: CodeInvalidVID}) {
		return authnError(err)
	}
	return nil
}

// authnError maps the repository's errors onto what the authenticator expects.
func authnError(err error) error {
	switch {
	case errors.Is(err, &Error{Code: CodeNotFound}):
		return fmt.Errorf("%w (%v)", storage.ErrNotFound, err)
	case errors.Is(err, &Error{Code: CodeInvalidUIN}),
		errors.Is(err, &Error{Code: CodeInvalidVID}),
		errors.Is(err, &Error{Code: CodeInvalidLoginID}):
		return authn.ErrInvalidIdentifier
	}
	return err
}
