package keys

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sanad-id/sanad/storage"
)

func TestFirstStartGeneratesEveryKey(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, nil) // DefaultSets
		s := e.service(t)
		ctx := context.Background()

		recs := records(t, e.store, "")
		for _, set := range DefaultSets() {
			for _, alg := range set.Algs {
				var got []storage.KeyRecord
				for _, r := range recs {
					if r.Purpose == set.Purpose && r.Alg == alg {
						got = append(got, r)
					}
				}
				if len(got) != 1 {
					t.Errorf("%s %s: %d keys stored, want 1", set.Purpose, alg, len(got))
					continue
				}
				r := got[0]
				if r.Use != set.Use || r.Backend != SoftwareBackendName || !r.RetiredAt.IsZero() || r.NotBefore.After(e.clock.Now()) {
					t.Errorf("%s %s: record %+v, want an active %s key of the software backend", set.Purpose, alg, keyInfo(r, e.clock.Now()), set.Use)
				}
			}
			kids := jwksKIDs(t, s, set.Purpose)
			if len(kids) != len(set.Algs) {
				t.Errorf("PublicJWKS(%s) has %d keys, want %d", set.Purpose, len(kids), len(set.Algs))
			}
			if set.Use != UseSig {
				continue
			}
			for _, alg := range set.Algs {
				tok, err := s.SignJWT(ctx, set.Purpose, alg, map[string]any{"sub": "x"}, nil)
				if err != nil {
					t.Errorf("SignJWT(%s, %s) = %v", set.Purpose, alg, err)
					continue
				}
				if _, err := s.Verify(ctx, set.Purpose, tok, alg); err != nil {
					t.Errorf("Verify(%s, %s token) = %v", set.Purpose, alg, err)
				}
			}
		}
		if len(recs) != 12 {
			t.Errorf("first start stored %d keys, want 12", len(recs))
		}
	})
}

func TestRestartServesSameKeys(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, append(fastSets(), SetConfig{Purpose: "rsa", Use: UseSig, Algs: []string{AlgRS256}, PublishFor: time.Hour}))
		ctx := context.Background()
		first := e.service(t)
		before, err := first.PublicJWKS(ctx, first.Purposes()...)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := first.SignJWT(ctx, "rsa", AlgRS256, map[string]any{"n": 1}, nil)
		if err != nil {
			t.Fatal(err)
		}
		n := len(records(t, e.store, ""))

		// A new process: same store, same master key, a fresh backend value.
		e.backend = mustBackend(t, e.master)
		second := e.service(t)
		after, err := second.PublicJWKS(ctx, second.Purposes()...)
		if err != nil {
			t.Fatal(err)
		}
		bj, _ := json.Marshal(before)
		aj, _ := json.Marshal(after)
		if string(bj) != string(aj) {
			t.Errorf("JWKS after restart =\n%s\nwant\n%s", aj, bj)
		}
		if got := len(records(t, e.store, "")); got != n {
			t.Errorf("restart stored %d keys, want %d (no new keys)", got, n)
		}
		if _, err := second.Verify(ctx, "rsa", tok, AlgRS256); err != nil {
			t.Errorf("Verify(token of the first process) = %v", err)
		}
		tok2, err := second.SignJWT(ctx, "rsa", AlgRS256, map[string]any{"n": 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tokenKID(t, tok2) != tokenKID(t, tok) {
			t.Errorf("restarted process signs with kid %s, want %s", tokenKID(t, tok2), tokenKID(t, tok))
		}

		// A process with another master key must not start.
		e.backend = mustBackend(t, mustMasterKey(t))
		_, err = New(ctx, e.config(t))
		if err == nil || !strings.Contains(err.Error(), "wrong master key") {
			t.Errorf("New(wrong master key) = %v, want a wrong master key error", err)
		}
	})
}

func TestRotate(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		s := e.service(t)
		ctx := context.Background()
		oldTok, err := s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{"sub": "old"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		oldKIDs := jwksKIDs(t, s, PurposeOIDCSigning)
		statusKIDs := jwksKIDs(t, s, PurposeStatusList)

		e.clock.Advance(time.Hour)
		rotatedAt := keyTime(e.clock.Now())
		newKeys, err := s.Rotate(ctx, PurposeOIDCSigning, 0)
		if err != nil {
			t.Fatalf("Rotate() = %v", err)
		}
		if len(newKeys) != 2 {
			t.Fatalf("Rotate() returned %d keys, want 2", len(newKeys))
		}
		kids := jwksKIDs(t, s, PurposeOIDCSigning)
		for _, kid := range oldKIDs {
			if !slices.Contains(kids, kid) {
				t.Errorf("JWKS after rotation = %v, lacks old key %s", kids, kid)
			}
		}
		for _, nk := range newKeys {
			if !slices.Contains(kids, nk.KID) {
				t.Errorf("JWKS after rotation = %v, lacks new key %s", kids, nk.KID)
			}
			if nk.Status != StatusActive {
				t.Errorf("new key status = %s, want active", nk.Status)
			}
		}
		if got := jwksKIDs(t, s, PurposeStatusList); !slices.Equal(got, statusKIDs) {
			t.Errorf("rotating oidc-signing changed the status-list keys: %v, want %v", got, statusKIDs)
		}

		newTok, err := s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{"sub": "new"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if kid := tokenKID(t, newTok); kid == tokenKID(t, oldTok) || !slices.ContainsFunc(newKeys, func(k KeyInfo) bool { return k.KID == kid }) {
			t.Errorf("after rotation SignJWT used kid %s, want one of the new keys %v", kid, newKeys)
		}
		if _, err := s.Verify(ctx, PurposeOIDCSigning, oldTok, AlgES256); err != nil {
			t.Errorf("Verify(token of the retired key) = %v", err)
		}
		if _, err := s.Verify(ctx, PurposeOIDCSigning, newTok, AlgES256); err != nil {
			t.Errorf("Verify(token of the new key) = %v", err)
		}

		info := infos(t, s, PurposeOIDCSigning)
		old := info[tokenKID(t, oldTok)]
		wantUntil := rotatedAt.Add(24*time.Hour + DefaultRefreshInterval)
		if old.Status != StatusRetired || !old.RetiredAt.Equal(rotatedAt) || !old.PublishUntil.Equal(wantUntil) {
			t.Errorf("retired key = %+v, want retired at %s, published until %s", old, rotatedAt, wantUntil)
		}

		if _, err := s.Rotate(ctx, "nope", 0); !errors.Is(err, ErrUnknownPurpose) {
			t.Errorf("Rotate(unknown purpose) = %v, want ErrUnknownPurpose", err)
		}
		if _, err := s.Rotate(ctx, PurposeOIDCSigning, -time.Second); err == nil {
			t.Errorf("Rotate(negative prepublish) = nil, want an error")
		}
	})
}

func TestRotatePrepublish(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		s := e.service(t)
		ctx := context.Background()
		sign := func() string {
			t.Helper()
			tok, err := s.SignJWT(ctx, PurposeOIDCSigning, AlgEdDSA, map[string]any{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			return tokenKID(t, tok)
		}
		oldKID := sign()
		newKeys, err := s.Rotate(ctx, PurposeOIDCSigning, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		var newKID string
		for _, k := range newKeys {
			if k.Alg == AlgEdDSA {
				newKID = k.KID
			}
			if k.Status != StatusPending {
				t.Errorf("prepublished key %s status = %s, want pending", k.KID, k.Status)
			}
		}
		if kids := jwksKIDs(t, s, PurposeOIDCSigning); !slices.Contains(kids, newKID) || !slices.Contains(kids, oldKID) {
			t.Errorf("JWKS = %v, want both %s (old) and %s (prepublished)", kids, oldKID, newKID)
		}
		if info := infos(t, s, PurposeOIDCSigning); info[oldKID].Status != StatusActive || info[newKID].Status != StatusPending {
			t.Errorf("List() statuses: old %s, new %s; want active, pending", info[oldKID].Status, info[newKID].Status)
		}
		for _, tc := range []struct {
			name    string
			advance time.Duration
			want    string
		}{
			{"just after rotation", 0, oldKID},
			{"a second before not_before", time.Hour - time.Second, oldKID},
			{"at not_before", time.Second, newKID},
			{"later", time.Hour, newKID},
		} {
			e.clock.Advance(tc.advance)
			if got := sign(); got != tc.want {
				t.Errorf("%s: SignJWT used kid %s, want %s", tc.name, got, tc.want)
			}
		}
		if info := infos(t, s, PurposeOIDCSigning); info[oldKID].Status != StatusRetired || info[newKID].Status != StatusActive {
			t.Errorf("List() statuses: old %s, new %s; want retired, active", info[oldKID].Status, info[newKID].Status)
		}
	})
}

// TestEmergencyRotationDuringPrepublish: a key is being prepublished when
// the current one must be replaced at once (it leaked). The immediate key
// signs right away, although the leaked one's RetiredAt is still ahead.
func TestEmergencyRotationDuringPrepublish(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		s := e.service(t)
		ctx := context.Background()
		tok, _ := s.SignJWT(ctx, PurposeStatusList, AlgES256, map[string]any{}, nil)
		leaked := tokenKID(t, tok)
		planned, err := s.Rotate(ctx, PurposeStatusList, 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Hour)
		urgent, err := s.Rotate(ctx, PurposeStatusList, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, advance := range []time.Duration{0, 23 * time.Hour, 2 * time.Hour} {
			e.clock.Advance(advance)
			tok, err := s.SignJWT(ctx, PurposeStatusList, AlgES256, map[string]any{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got := tokenKID(t, tok); got != urgent[0].KID {
				t.Errorf("after %s: SignJWT used %s, want the urgent key %s (leaked %s, planned %s)", advance, got, urgent[0].KID, leaked, planned[0].KID)
			}
		}
		info := infos(t, s, PurposeStatusList)
		if info[planned[0].KID].Status != StatusRetired || info[leaked].Status != StatusRetired {
			t.Errorf("List() = %v, want the leaked and the planned key retired", info)
		}
	})
}

func TestPruneAfterPublishUntil(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		s := e.service(t)
		ctx := context.Background()
		oldTok, err := s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		oldKID := tokenKID(t, oldTok)
		if _, err := s.Rotate(ctx, PurposeOIDCSigning, 0); err != nil {
			t.Fatal(err)
		}
		publishUntil := infos(t, s, PurposeOIDCSigning)[oldKID].PublishUntil

		e.clock.Advance(publishUntil.Sub(e.clock.Now()) - time.Second)
		if err := s.Maintain(ctx); err != nil {
			t.Fatalf("Maintain() = %v", err)
		}
		if !slices.Contains(jwksKIDs(t, s, PurposeOIDCSigning), oldKID) {
			t.Errorf("retired key unpublished a second before its PublishUntil")
		}
		if _, err := s.Verify(ctx, PurposeOIDCSigning, oldTok, AlgES256); err != nil {
			t.Errorf("Verify(old token) before PublishUntil = %v", err)
		}

		e.clock.Advance(2 * time.Second)
		if slices.Contains(jwksKIDs(t, s, PurposeOIDCSigning), oldKID) {
			t.Errorf("retired key still published after its PublishUntil")
		}
		if err := s.Maintain(ctx); err != nil {
			t.Fatalf("Maintain() = %v", err)
		}
		if _, ok := infos(t, s, PurposeOIDCSigning)[oldKID]; ok {
			t.Errorf("retired key still stored after its PublishUntil and Maintain")
		}
		if got := len(records(t, e.store, PurposeOIDCSigning)); got != 2 {
			t.Errorf("%d oidc-signing keys stored after pruning, want 2", got)
		}
		if _, err := s.Verify(ctx, PurposeOIDCSigning, oldTok, AlgES256); !errors.Is(err, ErrInvalid) {
			t.Errorf("Verify(token of a pruned key) = %v, want ErrInvalid", err)
		}
	})
}

func TestAutoRotation(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		sets := fastSets()
		sets[0].RotateEvery = 7 * 24 * time.Hour
		sets[0].Prepublish = time.Hour
		e := newEnv(t, open, sets)
		s := e.service(t)
		ctx := context.Background()
		count := func() int { return len(records(t, e.store, PurposeOIDCSigning)) }
		maintain := func() {
			t.Helper()
			if err := s.Maintain(ctx); err != nil {
				t.Fatalf("Maintain() = %v", err)
			}
		}
		tok, _ := s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{}, nil)
		first := tokenKID(t, tok)

		e.clock.Advance(7*24*time.Hour - time.Minute)
		maintain()
		if got := count(); got != 2 {
			t.Fatalf("before RotateEvery: %d keys, want 2", got)
		}
		e.clock.Advance(time.Minute)
		maintain()
		if got := count(); got != 4 {
			t.Fatalf("at RotateEvery: %d keys, want 4", got)
		}
		maintain() // a pending successor exists: no second rotation
		if got := count(); got != 4 {
			t.Fatalf("second Maintain: %d keys, want 4", got)
		}
		tok, _ = s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{}, nil)
		if tokenKID(t, tok) != first {
			t.Errorf("during prepublish SignJWT used %s, want the old key %s", tokenKID(t, tok), first)
		}
		e.clock.Advance(time.Hour)
		tok, _ = s.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{}, nil)
		if tokenKID(t, tok) == first {
			t.Errorf("after prepublish SignJWT still uses the old key")
		}
		if got := len(records(t, e.store, PurposeStatusList)); got != 1 {
			t.Errorf("status-list (manual rotation) has %d keys, want 1", got)
		}
	})
}

// TestRotationReachesRunningProcess is `sanad keys rotate` on a running
// deployment: one process rotates, another picks the new key up.
func TestRotationReachesRunningProcess(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		counting := &countingStore{Keys: e.store}
		ctx := context.Background()
		cfg := e.config(t)
		cfg.Store = counting
		server, err := New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		cli := e.service(t)
		newKeys, err := cli.Rotate(ctx, PurposeOIDCSigning, 0)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := cli.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{}, nil)
		if err != nil {
			t.Fatal(err)
		}

		// The server has not reloaded yet: a token with the new kid makes it.
		loads := counting.lists()
		if _, err := server.Verify(ctx, PurposeOIDCSigning, tok, AlgES256); err != nil {
			t.Fatalf("server Verify(token of a key rotated by another process) = %v", err)
		}
		if got := counting.lists(); got != loads+1 {
			t.Errorf("unknown kid caused %d reloads, want 1", got-loads)
		}
		// A forged kid right after does not reload again...
		forged := forgeKID(t, tok, "forged-kid")
		if _, err := server.Verify(ctx, PurposeOIDCSigning, forged, AlgES256); !errors.Is(err, ErrInvalid) {
			t.Errorf("Verify(unknown kid) = %v, want ErrInvalid", err)
		}
		if got := counting.lists(); got != loads+1 {
			t.Errorf("second unknown kid within %s reloaded again", unknownKIDRefreshGap)
		}
		// ...until the gap has passed.
		e.clock.Advance(unknownKIDRefreshGap)
		_, _ = server.Verify(ctx, PurposeOIDCSigning, forged, AlgES256)
		if got := counting.lists(); got != loads+2 {
			t.Errorf("unknown kid after the gap caused %d reloads in total, want 2", got-loads)
		}

		got, err := server.SignJWT(ctx, PurposeOIDCSigning, AlgES256, map[string]any{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(newKeys, func(k KeyInfo) bool { return k.KID == tokenKID(t, got) }) {
			t.Errorf("server signs with %s after reloading, want a new key", tokenKID(t, got))
		}
	})
}

// TestRun drives the Run loop with the real clock.
func TestRun(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		cfg := e.config(t)
		cfg.Now = nil
		cfg.RefreshInterval = 20 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		server, err := New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			server.Run(ctx)
			close(done)
		}()
		cli, err := New(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		newKeys, err := cli.Rotate(ctx, PurposeStatusList, 0)
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			tok, err := server.SignJWT(ctx, PurposeStatusList, AlgES256, map[string]any{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tokenKID(t, tok) == newKeys[0].KID {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("Run did not pick up the rotated key within 10s")
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	})
}

// TestConcurrentStart is two processes starting at once on an empty store:
// they may create one key each, but they must sign with the same one.
func TestConcurrentStart(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		ctx := context.Background()
		var (
			wg   sync.WaitGroup
			svcs [2]*Service
			errs [2]error
		)
		for i := range svcs {
			wg.Go(func() { svcs[i], errs[i] = New(ctx, e.config(t)) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("New() #%d = %v", i, err)
			}
		}
		for _, s := range svcs {
			if err := s.Refresh(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, alg := range []string{AlgES256, AlgEdDSA} {
			var kids [2]string
			for i, s := range svcs {
				tok, err := s.SignJWT(ctx, PurposeOIDCSigning, alg, map[string]any{}, nil)
				if err != nil {
					t.Fatal(err)
				}
				kids[i] = tokenKID(t, tok)
			}
			if kids[0] != kids[1] {
				t.Errorf("%s: processes sign with %s and %s, want the same key", alg, kids[0], kids[1])
			}
		}
	})
}

func TestConcurrentSignAndRotate(t *testing.T) {
	forEachStore(t, func(t *testing.T, open func(t *testing.T) storage.Durable) {
		e := newEnv(t, open, fastSets())
		s := e.service(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		var wg sync.WaitGroup
		errc := make(chan error, 16)
		for range 6 {
			wg.Go(func() {
				for i := 0; ctx.Err() == nil; i++ {
					alg := []string{AlgES256, AlgEdDSA}[i%2]
					tok, err := s.SignJWT(ctx, PurposeOIDCSigning, alg, map[string]any{"i": i}, nil)
					if err == nil {
						_, err = s.Verify(ctx, PurposeOIDCSigning, tok, alg)
					}
					if err != nil {
						errc <- err
						return
					}
				}
			})
		}
		for range 5 {
			if _, err := s.Rotate(ctx, PurposeOIDCSigning, 0); err != nil {
				t.Errorf("Rotate() = %v", err)
			}
			if err := s.Refresh(ctx); err != nil {
				t.Errorf("Refresh() = %v", err)
			}
		}
		cancel()
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Errorf("SignJWT/Verify during rotation = %v", err)
		}
		if got := len(jwksKIDs(t, s, PurposeOIDCSigning)); got != 12 {
			t.Errorf("after 5 rotations %d keys published, want 12", got)
		}
	})
}

func TestNewValidatesConfig(t *testing.T) {
	st := stores()[0].open(t)
	b := mustBackend(t, mustMasterKey(t))
	good := SetConfig{Purpose: PurposeOIDCSigning, Use: UseSig, Algs: []string{AlgES256}, PublishFor: time.Hour}
	with := func(f func(*SetConfig)) SetConfig {
		c := good
		c.Algs = slices.Clone(good.Algs)
		f(&c)
		return c
	}
	for _, tc := range []struct {
		name  string
		cfg   Config
		wants []string
	}{
		{"no store or backend", Config{Sets: []SetConfig{good}}, []string{"Store is required", "Backend is required"}},
		{"empty sets", Config{Store: st, Backend: b, Sets: []SetConfig{}}, []string{"no key sets"}},
		{"duplicate set", Config{Store: st, Backend: b, Sets: []SetConfig{good, good}}, []string{"configured twice"}},
		{"bad purpose", Config{Store: st, Backend: b, Sets: []SetConfig{with(func(c *SetConfig) { c.Purpose = "OIDC signing" })}}, []string{"purpose must match"}},
		{"unsupported alg", Config{Store: st, Backend: b, Sets: []SetConfig{with(func(c *SetConfig) { c.Algs = []string{"HS256", "none"} })}}, []string{`unsupported algorithm "HS256"`, `unsupported algorithm "none"`}},
		{"enc alg in sig set", Config{Store: st, Backend: b, Sets: []SetConfig{with(func(c *SetConfig) { c.Algs = []string{AlgECDHES} })}}, []string{"is for use"}},
		{"duplicate alg", Config{Store: st, Backend: b, Sets: []SetConfig{with(func(c *SetConfig) { c.Algs = []string{AlgES256, AlgES256} })}}, []string{"listed twice"}},
		{"bad durations", Config{Store: st, Backend: b, Sets: []SetConfig{with(func(c *SetConfig) { c.PublishFor = 0; c.RotateEvery = time.Hour; c.Prepublish = 2 * time.Hour })}}, []string{"publish_for must be positive", "prepublish (2h0m0s) must be shorter"}},
		{"bad use", Config{Store: st, Backend: b, Sets: []SetConfig{with(func(c *SetConfig) { c.Use = "both" })}}, []string{"use must be"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(context.Background(), tc.cfg)
			if err == nil {
				t.Fatalf("New(%s) = nil, want an error", tc.name)
			}
			for _, want := range tc.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("New(%s) = %q, want it to mention %q", tc.name, err, want)
				}
			}
		})
	}
	if len(records(t, st, "")) != 0 {
		t.Errorf("a rejected configuration stored keys")
	}
}

// countingStore counts ListKeys calls (reloads).
type countingStore struct {
	storage.Keys
	mu sync.Mutex
	n  int
}

func (c *countingStore) ListKeys(ctx context.Context, purpose string) ([]storage.KeyRecord, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Keys.ListKeys(ctx, purpose)
}

func (c *countingStore) lists() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}
