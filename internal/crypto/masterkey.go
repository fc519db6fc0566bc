// Package crypto holds kycdesk's encryption at rest and random tokens: the master key,
// AES-256-GCM sealing of secrets and envelope encryption of document images.
package crypto

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeySize is the length of the master key and of every data key: AES-256.
const KeySize = 32

// MasterKeyEnv names the environment variable that, when set, holds the master key and
// takes precedence over the key file: deployments that keep secrets in a vault inject it there.
const MasterKeyEnv = "KYCDESK_MASTER_KEY"

// MasterKeyFile is the key file's name inside the data dir.
const MasterKeyFile = "master.key"

// LoadMasterKey returns the 32-byte master key: from $KYCDESK_MASTER_KEY (base64 or 64 hex
// digits) when set, else from <dataDir>/master.key, which is created with 32 random bytes
// and mode 0600 the first time. The key never comes from the database, so a stolen
// database file alone does not reveal documents or TOTP secrets.
func LoadMasterKey(dataDir string) ([]byte, error) {
	if v, ok := os.LookupEnv(MasterKeyEnv); ok {
		key, err := decodeKeyText(v)
		if err != nil {
			// The value itself is never echoed: it is the secret.
			return nil, fmt.Errorf("%s: %w", MasterKeyEnv, err)
		}
		return key, nil
	}
	path := filepath.Join(dataDir, MasterKeyFile)
	key, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return createKeyFile(dataDir, path)
	}
	return key, err
}

// decodeKeyText accepts the forms an operator is likely to produce with
// `openssl rand -hex 32` or `openssl rand -base64 32`.
func decodeKeyText(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*KeySize {
		if key, err := hex.DecodeString(s); err == nil {
			return key, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("master key must be %d bytes, got %d", KeySize, len(key))
			}
			return key, nil
		}
	}
	return nil, fmt.Errorf("master key must be %d bytes in base64 or %d hex digits", KeySize, 2*KeySize)
}

func readKeyFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Stat the open file, not the path, so the checked file is the one read.
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("master key %s is not a regular file", path)
	}
	// Windows has no Unix permission bits; its ACLs are the operator's business.
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("master key %s is readable by group or others (mode %04o): run chmod 600 on it", path, info.Mode().Perm())
	}
	if info.Size() > 1024 {
		return nil, fmt.Errorf("master key %s must hold %d bytes, has %d", path, KeySize, info.Size())
	}
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return nil, err
	}
	if len(b) == KeySize {
		return b, nil
	}
	// A hand-made key file (hex or base64 text) is accepted too.
	key, err := decodeKeyText(string(b))
	if err != nil {
		return nil, fmt.Errorf("master key %s must hold %d bytes, has %d", path, KeySize, len(b))
	}
	return key, nil
}

// createKeyFile writes a new key atomically: to a temporary file first, then hard-linked
// into place. A link, unlike a rename, fails when the name exists, so two processes starting
// at once on a fresh data dir agree on one key instead of one silently replacing the other.
func createKeyFile(dataDir, path string) ([]byte, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	key := make([]byte, KeySize)
	randRead(key)
	tmp, err := os.CreateTemp(dataDir, ".master.key-*") // CreateTemp uses mode 0600
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if _, err := tmp.Write(key); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("master key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("master key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("master key: %w", err)
	}
	// Sync the directory so the new name survives a crash: losing the key loses every document.
	if d, err := os.Open(dataDir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return key, nil
}
