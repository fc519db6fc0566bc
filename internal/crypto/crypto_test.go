package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testSealer(t *testing.T) *Sealer {
	t.Helper()
	s, err := NewSealer(bytes.Repeat([]byte{7}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSealOpen(t *testing.T) {
	s := testSealer(t)
	secret := []byte("JBSWY3DPEHPK3PXP")
	ad := []byte("totp:user-1")
	sealed := s.Seal(secret, ad)
	if len(sealed) != len(secret)+Overhead {
		t.Errorf("sealed length %d, want %d", len(sealed), len(secret)+Overhead)
	}
	if bytes.Contains(sealed, secret) {
		t.Fatal("ciphertext contains the plaintext")
	}
	if again := s.Seal(secret, ad); bytes.Equal(again, sealed) {
		t.Error("two seals of the same value are equal: nonce not random")
	}

	tampered := func(i int) []byte {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		return c
	}
	otherKey, _ := NewSealer(bytes.Repeat([]byte{8}, KeySize))
	tests := []struct {
		name    string
		sealer  *Sealer
		ct, ad  []byte
		want    []byte
		wantErr error
	}{
		{"round trip", s, sealed, ad, secret, nil},
		{"wrong associated data", s, sealed, []byte("totp:user-2"), nil, ErrDecrypt},
		{"missing associated data", s, sealed, nil, nil, ErrDecrypt},
		{"tampered nonce", s, tampered(1), ad, nil, ErrDecrypt},
		{"tampered body", s, tampered(len(sealed) / 2), ad, nil, ErrDecrypt},
		{"tampered tag", s, tampered(len(sealed) - 1), ad, nil, ErrDecrypt},
		{"unknown version", s, tampered(0), ad, nil, ErrUnknownVersion},
		{"truncated", s, sealed[:Overhead-1], ad, nil, ErrDecrypt},
		{"empty", s, nil, ad, nil, ErrDecrypt},
		{"other master key", otherKey, sealed, ad, nil, ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.sealer.Open(tt.ct, tt.ad)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestSealEmptyPlaintext(t *testing.T) {
	s := testSealer(t)
	got, err := s.Open(s.Seal(nil, []byte("x")), []byte("x"))
	if err != nil || len(got) != 0 {
		t.Fatalf("got %q, %v", got, err)
	}
}

func TestNewSealerKeyLength(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33, 64} {
		if _, err := NewSealer(make([]byte, n)); err == nil {
			t.Errorf("NewSealer accepted a %d-byte key", n)
		}
	}
}

func TestDocumentEnvelope(t *testing.T) {
	s := testSealer(t)
	doc := bytes.Repeat([]byte("\xff\xd8\xff\xe0 jpeg bytes "), 10000)
	wrapped, ct, err := s.SealDocument(doc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.OpenDocument(wrapped, ct)
	if err != nil || !bytes.Equal(got, doc) {
		t.Fatalf("round trip failed: %v", err)
	}

	wrapped2, ct2, _ := s.SealDocument(doc)
	if bytes.Equal(ct, ct2) {
		t.Error("two documents share ciphertext: data key not fresh")
	}
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x80
		return c
	}
	otherKey, _ := NewSealer(bytes.Repeat([]byte{9}, KeySize))
	tests := []struct {
		name        string
		sealer      *Sealer
		wrapped, ct []byte
	}{
		{"tampered document", s, wrapped, flip(ct, len(ct)/2)},
		{"tampered wrapped key", s, flip(wrapped, 20), ct},
		{"key of another document", s, wrapped2, ct},
		{"other master key", otherKey, wrapped, ct},
		{"wrapped key opened as document", s, ct, wrapped},
		{"field ciphertext as wrapped key", s, s.Seal(make([]byte, KeySize), nil), ct},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.sealer.OpenDocument(tt.wrapped, tt.ct); !errors.Is(err, ErrDecrypt) {
				t.Fatalf("err = %v, want ErrDecrypt", err)
			}
		})
	}
}

func TestLoadMasterKeyCreatesFile(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	os.Unsetenv(MasterKeyEnv) // t.Setenv restores whatever was there after the test
	dir := filepath.Join(t.TempDir(), "data")
	key, err := LoadMasterKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(key) != KeySize {
		t.Fatalf("key length %d", len(key))
	}
	info, err := os.Stat(filepath.Join(dir, MasterKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %04o, want 0600", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("data dir holds %d entries, want only the key file", len(entries))
	}
	again, err := LoadMasterKey(dir)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("second load gave another key (%v)", err)
	}
}

func TestLoadMasterKeyFile(t *testing.T) {
	t.Setenv(MasterKeyEnv, "")
	os.Unsetenv(MasterKeyEnv)
	raw := bytes.Repeat([]byte{0xab}, KeySize)
	tests := []struct {
		name    string
		content []byte
		mode    os.FileMode
		wantErr string
	}{
		{"raw bytes", raw, 0o600, ""},
		{"hex text", []byte(hex.EncodeToString(raw) + "\n"), 0o600, ""},
		{"base64 text", []byte(base64.StdEncoding.EncodeToString(raw) + "\n"), 0o400, ""},
		{"group readable", raw, 0o640, "readable by group or others"},
		{"world readable", raw, 0o604, "readable by group or others"},
		{"too short", raw[:31], 0o600, "must hold 32 bytes"},
		{"too long", append(raw, 0), 0o600, "must hold 32 bytes"},
		{"empty", nil, 0o600, "must hold 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, MasterKeyFile)
			if err := os.WriteFile(path, tt.content, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // WriteFile's mode is subject to umask
				t.Fatal(err)
			}
			key, err := LoadMasterKey(dir)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to mention %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(key, raw) {
				t.Fatalf("key = %x, err = %v", key, err)
			}
		})
	}
}

func TestLoadMasterKeyEnv(t *testing.T) {
	raw := bytes.Repeat([]byte{0x5c}, KeySize)
	tests := []struct {
		name    string
		value   string
		wantErr bool
	}{
		{"hex", hex.EncodeToString(raw), false},
		{"hex upper case", strings.ToUpper(hex.EncodeToString(raw)), false},
		{"base64", base64.StdEncoding.EncodeToString(raw), false},
		{"base64 url, no padding", base64.RawURLEncoding.EncodeToString(raw), false},
		{"surrounding whitespace", " " + hex.EncodeToString(raw) + "\n", false},
		{"16 bytes", base64.StdEncoding.EncodeToString(raw[:16]), true},
		{"not an encoding", "correct horse battery staple", true},
		{"empty", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(MasterKeyEnv, tt.value)
			dir := t.TempDir()
			key, err := LoadMasterKey(dir)
			if tt.wantErr {
				if err == nil {
					t.Fatal("accepted a bad key")
				}
				if tt.value != "" && strings.Contains(err.Error(), strings.TrimSpace(tt.value)) {
					t.Error("error message echoes the key")
				}
				return
			}
			if err != nil || !bytes.Equal(key, raw) {
				t.Fatalf("key = %x, err = %v", key, err)
			}
			if _, err := os.Stat(filepath.Join(dir, MasterKeyFile)); !os.IsNotExist(err) {
				t.Error("a key file was written although the key came from the environment")
			}
		})
	}
}

func TestRandomTokenAndHash(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok := RandomToken(32)
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("token %q is not 43 chars of unpadded URL-safe base64", tok)
		}
		if seen[tok] {
			t.Fatal("repeated token")
		}
		seen[tok] = true
	}
	const want = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08" // sha256("test")
	if got := HashToken("test"); got != want {
		t.Errorf("HashToken = %s, want %s", got, want)
	}
}
