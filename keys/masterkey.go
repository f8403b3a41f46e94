package keys

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// MasterKeySize is the size of the master key in bytes (AES-256).
const MasterKeySize = 32

// MasterKey seals the private keys of the software backend. Its String,
// GoString, LogValue and Format methods redact it, so it can't be printed or
// logged by accident.
type MasterKey struct {
	k   [MasterKeySize]byte
	set bool
}

const redactedMasterKey = "[redacted master key]"

// String redacts the key.
func (MasterKey) String() string { return redactedMasterKey }

// GoString redacts the key in %#v.
func (MasterKey) GoString() string { return redactedMasterKey }

// LogValue redacts the key in log/slog output.
func (MasterKey) LogValue() slog.Value { return slog.StringValue(redactedMasterKey) }

// Format redacts the key whatever the verb (%x, %d, %v ...).
func (MasterKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redactedMasterKey)) }

// IsZero reports whether the key was never set.
func (k MasterKey) IsZero() bool { return !k.set }

// ParseMasterKey decodes a 32-byte master key written in hex (64 digits) or
// base64 (standard or URL alphabet, with or without padding). Surrounding
// white space is ignored.
func ParseMasterKey(s string) (MasterKey, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return MasterKey{}, errors.New("keys: master key is empty")
	}
	var raw []byte
	if len(s) == 2*MasterKeySize {
		if b, err := hex.DecodeString(s); err == nil {
			raw = b
		}
	}
	if raw == nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(s); err == nil {
				raw = b
				break
			}
		}
	}
	if raw == nil {
		return MasterKey{}, errors.New("keys: master key is neither hex nor base64")
	}
	if len(raw) != MasterKeySize {
		clear(raw)
		return MasterKey{}, fmt.Errorf("keys: master key must be %d bytes, got %d", MasterKeySize, len(raw))
	}
	var k MasterKey
	copy(k.k[:], raw)
	clear(raw)
	k.set = true
	return k, nil
}

// GenerateMasterKey returns a new random master key.
func GenerateMasterKey() (MasterKey, error) {
	var k MasterKey
	if _, err := rand.Read(k.k[:]); err != nil {
		return MasterKey{}, fmt.Errorf("keys: generate master key: %w", err)
	}
	k.set = true
	return k, nil
}

// LoadMasterKeyFile reads the master key from path, refusing a file that
// other users can read.
func LoadMasterKeyFile(path string) (MasterKey, error) {
	data, err := readSecretFile(path)
	if err != nil {
		return MasterKey{}, err
	}
	defer clear(data)
	k, err := ParseMasterKey(string(data))
	if err != nil {
		return MasterKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return k, nil
}

// LoadOrCreateMasterKeyFile reads the master key from path, or, if the file
// does not exist, generates one and writes it there (base64, mode 0600) and
// reports created. It is meant for --demo, where the caller warns that the
// key sits next to the data it protects. Like other secret files, an
// existing file that other users can read is refused.
func LoadOrCreateMasterKeyFile(path string) (k MasterKey, created bool, err error) {
	data, err := readSecretFile(path)
	switch {
	case err == nil:
		clear(data)
		k, err := LoadMasterKeyFile(path)
		return k, false, err
	case !errors.Is(err, fs.ErrNotExist):
		return MasterKey{}, false, err
	}
	k, err = GenerateMasterKey()
	if err != nil {
		return MasterKey{}, false, err
	}
	// Write a temporary file, then link it into place: the link fails if
	// another process got there first, and nobody ever reads a half-written
	// key.
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return MasterKey{}, false, fmt.Errorf("keys: master key file: %w", err)
	}
	f, err := os.CreateTemp(dir, ".master-key-*")
	if err != nil {
		return MasterKey{}, false, fmt.Errorf("keys: master key file: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	encoded := base64.StdEncoding.EncodeToString(k.k[:]) + "\n"
	_, werr := f.WriteString(encoded)
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		return MasterKey{}, false, fmt.Errorf("keys: write master key file: %w", err)
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			k, _, err := LoadOrCreateMasterKeyFile(path)
			return k, false, err
		}
		return MasterKey{}, false, fmt.Errorf("keys: master key file: %w", err)
	}
	return k, true, nil
}

// readSecretFile reads a file that only its owner may read.
func readSecretFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("keys: master key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("keys: master key file %s is readable by other users (mode %s); chmod 600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("keys: master key file: %w", err)
	}
	return data, nil
}
