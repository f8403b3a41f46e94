package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMasterKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xfb, 0xff, 0x3e}, 11)[:32] // exercises + / - _ in base64
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"hex", hex.EncodeToString(raw), true},
		{"hex upper case", strings.ToUpper(hex.EncodeToString(raw)), true},
		{"base64 std", base64.StdEncoding.EncodeToString(raw), true},
		{"base64 std unpadded", base64.RawStdEncoding.EncodeToString(raw), true},
		{"base64 url", base64.URLEncoding.EncodeToString(raw), true},
		{"base64 url unpadded", base64.RawURLEncoding.EncodeToString(raw), true},
		{"surrounding space", "  " + base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{"empty", "", false},
		{"spaces", "   ", false},
		{"too short", base64.StdEncoding.EncodeToString(raw[:31]), false},
		{"too long", base64.StdEncoding.EncodeToString(append(raw, 1)), false},
		{"hex too short", hex.EncodeToString(raw[:31]), false},
		{"not an encoding", "correct horse battery staple correct horse!", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := ParseMasterKey(tc.in)
			if !tc.ok {
				if err == nil {
					t.Errorf("ParseMasterKey(%q) = nil error, want an error", tc.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseMasterKey(%q) = %v", tc.in, err)
			}
			if !bytes.Equal(k.k[:], raw) {
				t.Errorf("ParseMasterKey(%q) = %x, want %x", tc.in, k.k, raw)
			}
		})
	}
}

func TestMasterKeyRedacted(t *testing.T) {
	k, err := ParseMasterKey(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("start", "master", k)
	type holder struct{ Master MasterKey }
	for _, out := range []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %x %X %d %q", k, k, k, k, k, k, k, k),
		fmt.Sprintf("%v %+v %#v", holder{k}, holder{k}, &holder{k}), k.String(), k.GoString(), logged.String(),
	} {
		if strings.Contains(strings.ToLower(out), "abab") || strings.Contains(out, "171") || strings.Contains(out, "q6ur") {
			t.Errorf("master key printed: %s", out)
		}
		if !strings.Contains(out, "redacted") {
			t.Errorf("output %q does not say the key is redacted", out)
		}
	}
}

func TestLoadOrCreateMasterKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "master.key")
	k1, created, err := LoadOrCreateMasterKeyFile(path)
	if err != nil || !created {
		t.Fatalf("LoadOrCreateMasterKeyFile(new) = %v, %v; want created", created, err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("master key file mode = %s, want 0600", st.Mode().Perm())
	}
	k2, created, err := LoadOrCreateMasterKeyFile(path)
	if err != nil || created {
		t.Fatalf("LoadOrCreateMasterKeyFile(existing) = %v, %v; want loaded", created, err)
	}
	if k1.k != k2.k {
		t.Errorf("reloaded master key differs from the created one")
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("data dir holds %d files, want only the key file", len(entries))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateMasterKeyFile(path); err == nil || !strings.Contains(err.Error(), "readable by other users") {
		t.Errorf("LoadOrCreateMasterKeyFile(world-readable) = %v, want a permission error", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.key")
	if err := os.WriteFile(bad, []byte("short"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadOrCreateMasterKeyFile(bad); err == nil {
		t.Errorf("LoadOrCreateMasterKeyFile(garbage) = nil, want an error")
	}
}
