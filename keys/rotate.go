package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sanad-id/sanad/storage"
)

// Status is where a key is in its life cycle.
type Status string

const (
	// StatusPending: published, signs from NotBefore on.
	StatusPending Status = "pending"
	// StatusActive: signs (until RetiredAt, if set).
	StatusActive Status = "active"
	// StatusRetired: no longer signs; published until PublishUntil.
	StatusRetired Status = "retired"
)

// KeyInfo describes a key without its private part, for `sanad keys list`.
type KeyInfo struct {
	KID          string    `json:"kid"`
	Purpose      string    `json:"purpose"`
	Alg          string    `json:"alg"`
	Use          string    `json:"use"`
	Backend      string    `json:"backend"`
	Status       Status    `json:"status"`
	CreatedAt    time.Time `json:"created_at"`
	NotBefore    time.Time `json:"not_before"`
	RetiredAt    time.Time `json:"retired_at,omitzero"`
	PublishUntil time.Time `json:"publish_until,omitzero"`
}

func keyInfo(rec storage.KeyRecord, now time.Time) KeyInfo {
	status := StatusActive
	switch {
	case !signsOrWill(rec, now):
		status = StatusRetired
	case now.Before(rec.NotBefore):
		status = StatusPending
	}
	return KeyInfo{
		KID:          rec.KID,
		Purpose:      rec.Purpose,
		Alg:          rec.Alg,
		Use:          rec.Use,
		Backend:      rec.Backend,
		Status:       status,
		CreatedAt:    rec.CreatedAt,
		NotBefore:    rec.NotBefore,
		RetiredAt:    rec.RetiredAt,
		PublishUntil: rec.PublishUntil,
	}
}

// ListKeys describes the keys of one purpose ("" for all) as of now, oldest
// first. It needs no master key, so `sanad keys list` can run anywhere the
// database is reachable.
func ListKeys(ctx context.Context, store storage.Keys, purpose string, now time.Time) ([]KeyInfo, error) {
	recs, err := store.ListKeys(ctx, purpose)
	if err != nil {
		return nil, fmt.Errorf("keys: list: %w", err)
	}
	out := make([]KeyInfo, 0, len(recs))
	for _, rec := range recs {
		out = append(out, keyInfo(rec, now))
	}
	return out, nil
}

// List describes the keys of one purpose ("" for all), read from the store.
func (s *Service) List(ctx context.Context, purpose string) ([]KeyInfo, error) {
	return ListKeys(ctx, s.store, purpose, s.now())
}

// Rotate adds a new key for every algorithm of the purpose's set. The new
// key is published at once and signs from now+prepublish; until then the
// key it replaces keeps signing. The replaced key is then retired and stays
// published for the set's PublishFor (plus one refresh interval, since other
// processes may sign with it until they reload). Running processes pick the
// new key up at their next refresh; use a prepublish longer than the
// refresh interval and the JWKS cache lifetime so relying parties see the
// key before it is used. Rotate returns the new keys.
func (s *Service) Rotate(ctx context.Context, purpose string, prepublish time.Duration) ([]KeyInfo, error) {
	set, ok := s.sets[purpose]
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownPurpose, purpose)
	}
	if prepublish < 0 {
		return nil, fmt.Errorf("keys: prepublish must not be negative, got %s", prepublish)
	}
	var out []KeyInfo
	var rotErr error
	for _, alg := range set.Algs {
		info, err := s.rotate(ctx, set, alg, prepublish)
		if err != nil {
			rotErr = err
			break
		}
		out = append(out, info)
	}
	if err := s.Refresh(ctx); err != nil {
		return out, errors.Join(rotErr, err)
	}
	return out, rotErr
}

// rotate replaces the current key of (set, alg).
func (s *Service) rotate(ctx context.Context, set SetConfig, alg string, prepublish time.Duration) (KeyInfo, error) {
	now := s.now()
	rec, err := s.newRecord(ctx, set, alg, now, prepublish)
	if err != nil {
		return KeyInfo{}, err
	}
	publishUntil := rec.NotBefore.Add(set.PublishFor + s.refreshEvery)
	if err := s.store.RotateKey(ctx, rec, rec.NotBefore, publishUntil); err != nil {
		return KeyInfo{}, fmt.Errorf("keys: rotate %s %s: %w", set.Purpose, alg, err)
	}
	s.log.InfoContext(ctx, "rotated key", "purpose", set.Purpose, "alg", alg, "kid", rec.KID,
		"not_before", rec.NotBefore, "previous_published_until", publishUntil)
	return keyInfo(rec, now), nil
}

// Maintain does once what Run does every refresh interval: reload the keys,
// generate missing ones, rotate sets whose current key is older than their
// RotateEvery, and delete keys whose PublishUntil has passed. It returns
// every error it met.
func (s *Service) Maintain(ctx context.Context) error {
	if err := s.Refresh(ctx); err != nil {
		return err
	}
	var errs []error
	if err := s.ensure(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := s.rotateDue(ctx); err != nil {
		errs = append(errs, err)
	}
	n, err := s.store.DeleteKeysPublishedBefore(ctx, s.now())
	if err != nil {
		errs = append(errs, fmt.Errorf("keys: prune: %w", err))
	}
	if n > 0 {
		s.log.InfoContext(ctx, "deleted expired keys", "count", n)
		if err := s.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// rotateDue rotates, per algorithm, the sets with RotateEvery whose newest
// key started signing at least RotateEvery ago and has no successor pending.
func (s *Service) rotateDue(ctx context.Context) error {
	now := s.now()
	snap := s.snap.Load()
	rotated := false
	var errs []error
	for _, purpose := range s.order {
		set := s.sets[purpose]
		if set.RotateEvery == 0 {
			continue
		}
		for _, alg := range set.Algs {
			var newest *key
			for _, k := range snap.byPurpose[purpose] {
				if k.rec.Alg == alg && k.rec.RetiredAt.IsZero() && (newest == nil || compareAge(k.rec, newest.rec) > 0) {
					newest = k
				}
			}
			if newest == nil || now.Before(newest.rec.NotBefore) || now.Sub(newest.rec.NotBefore) < set.RotateEvery {
				continue
			}
			if _, err := s.rotate(ctx, set, alg, set.Prepublish); err != nil {
				errs = append(errs, err)
				continue
			}
			rotated = true
		}
	}
	if rotated {
		if err := s.Refresh(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Run calls Maintain every refresh interval until ctx is done. Errors are
// logged and the previous keys stay in use. This is how keys rotated by
// another process (`sanad keys rotate`) reach a running server.
func (s *Service) Run(ctx context.Context) {
	t := time.NewTicker(s.refreshEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
				s.log.WarnContext(ctx, "key maintenance", "err", err)
			}
		}
	}
}
