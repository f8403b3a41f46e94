package keys

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sanad-id/sanad/storage/sqlite"
)

// TestDataDirHoldsNoClearKey runs a demo-style deployment (SQLite and the
// master key file in the data dir) and searches every file of the data dir
// for the private keys.
func TestDataDirHoldsNoClearKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	master, created, err := LoadOrCreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil || !created {
		t.Fatalf("LoadOrCreateMasterKeyFile() = %v, %v", created, err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(dir, "sanad.db"))
	if err != nil {
		t.Fatal(err)
	}
	backend := mustBackend(t, master)
	s, err := New(ctx, Config{Store: db, Backend: backend, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Rotate(ctx, PurposeOIDCSigning, 0); err != nil {
		t.Fatal(err)
	}
	secrets := map[string][]byte{}
	recs := records(t, db, "")
	for _, rec := range recs {
		priv, err := backend.open(rec)
		if err != nil {
			t.Fatal(err)
		}
		for name, b := range secretBytes(t, priv) {
			secrets[rec.KID+" "+name] = b
		}
	}
	// Without closing, the keys may sit in the WAL file: search it too.
	var files [][]byte
	var names []string
	walk := func() {
		files, names = nil, nil
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			files, names = append(files, b), append(names, filepath.Base(path))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	check := func(when string) {
		walk()
		for i, content := range files {
			for name, secret := range secrets {
				if bytes.Contains(content, secret) {
					t.Errorf("%s: data dir file %s contains the %s in clear", when, names[i], name)
				}
			}
		}
	}
	check("open")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
	if len(recs) != 16 {
		t.Errorf("%d keys stored, want 16 (12 + 4 rotated)", len(recs))
	}
	foundPublic := false
	for _, content := range files {
		foundPublic = foundPublic || bytes.Contains(content, recs[0].Public)
	}
	if !foundPublic {
		t.Errorf("the data dir does not hold the public keys either: the search looked in the wrong place")
	}

	// A restart from the data dir alone serves the same keys.
	db, err = sqlite.Open(ctx, filepath.Join(dir, "sanad.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	master2, created, err := LoadOrCreateMasterKeyFile(filepath.Join(dir, "master.key"))
	if err != nil || created {
		t.Fatalf("LoadOrCreateMasterKeyFile(again) = %v, %v", created, err)
	}
	s2, err := New(ctx, Config{Store: db, Backend: mustBackend(t, master2), Logger: testLogger(t)})
	if err != nil {
		t.Fatalf("restart: New() = %v", err)
	}
	if got := len(records(t, db, "")); got != len(recs) {
		t.Errorf("restart stored %d keys, want %d", got, len(recs))
	}
	want := jwksKIDs(t, s, s.Purposes()...)
	if got := jwksKIDs(t, s2, s2.Purposes()...); !slices.Equal(got, want) {
		t.Errorf("restart publishes %v, want %v", got, want)
	}
}
