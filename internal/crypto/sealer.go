package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// version1 prefixes every ciphertext. A later key or algorithm gets a new version byte,
// so old rows stay readable while new ones are written with the new key.
const version1 byte = 1

const nonceSize = 12 // the 96-bit nonce GCM is designed for

// Overhead is how many bytes Seal adds to a plaintext: version, nonce and GCM tag.
const Overhead = 1 + nonceSize + 16

// ErrDecrypt is returned for any ciphertext that does not authenticate: wrong key,
// wrong associated data, truncated or tampered. The cases are deliberately not told apart.
var ErrDecrypt = errors.New("crypto: ciphertext does not authenticate")

// ErrUnknownVersion is returned for a ciphertext written by a key version this build does not know.
var ErrUnknownVersion = errors.New("crypto: unknown ciphertext version")

// Sealer encrypts small secrets bound to their row, and document images under envelope
// encryption. It is safe for concurrent use.
type Sealer struct {
	fields cipher.AEAD // seals secrets stored in rows (TOTP secrets, provider API keys)
	wrap   cipher.AEAD // wraps per-document data keys
	lookup []byte      // keys LookupHash (lookup.go)
}

// NewSealer derives its keys from the 32-byte master key. Separate subkeys (HKDF-SHA256)
// for fields and for wrapping document keys mean a value of one kind can never be
// opened as the other, even if associated data were to collide.
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != KeySize {
		return nil, fmt.Errorf("crypto: master key must be %d bytes, got %d", KeySize, len(master))
	}
	fields, err := deriveAEAD(master, "kycdesk v1 field encryption")
	if err != nil {
		return nil, err
	}
	wrap, err := deriveAEAD(master, "kycdesk v1 document key wrapping")
	if err != nil {
		return nil, err
	}
	lookup, err := hkdf.Key(sha256.New, master, nil, lookupInfo, KeySize)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive key: %w", err)
	}
	return &Sealer{fields: fields, wrap: wrap, lookup: lookup}, nil
}

func deriveAEAD(master []byte, info string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, master, nil, info, KeySize)
	if err != nil {
		return nil, fmt.Errorf("crypto: derive key: %w", err)
	}
	return newAEAD(key)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	return cipher.NewGCM(block)
}

// Seal encrypts plaintext with AES-256-GCM under a random nonce. associatedData names the
// row the value belongs to (for example "totp:<userID>"): it is not stored, and Open needs
// the same value, so a ciphertext copied onto another row does not decrypt.
func (s *Sealer) Seal(plaintext, associatedData []byte) []byte {
	return seal(s.fields, plaintext, associatedData)
}

// Open reverses Seal. It returns ErrDecrypt when the ciphertext or associated data differ.
func (s *Sealer) Open(ciphertext, associatedData []byte) ([]byte, error) {
	return open(s.fields, ciphertext, associatedData)
}

// SealDocument encrypts a document under a fresh 256-bit data key and returns that key
// wrapped by the master key. One key per document limits what a single leaked data key
// exposes, and rotating the master key later means re-wrapping 60-byte keys, not
// re-encrypting every image.
func (s *Sealer) SealDocument(plaintext []byte) (wrappedKey, ciphertext []byte, err error) {
	dataKey := make([]byte, KeySize)
	randRead(dataKey)
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, nil, err
	}
	ciphertext = seal(aead, plaintext, nil)
	wrappedKey = seal(s.wrap, dataKey, nil)
	clear(dataKey)
	return wrappedKey, ciphertext, nil
}

// OpenDocument unwraps the document's data key and decrypts the document.
func (s *Sealer) OpenDocument(wrappedKey, ciphertext []byte) ([]byte, error) {
	dataKey, err := open(s.wrap, wrappedKey, nil)
	if err != nil {
		return nil, err
	}
	defer clear(dataKey)
	if len(dataKey) != KeySize {
		return nil, ErrDecrypt
	}
	aead, err := newAEAD(dataKey)
	if err != nil {
		return nil, err
	}
	return open(aead, ciphertext, nil)
}

// seal writes version || nonce || GCM(plaintext). The version byte is authenticated too
// (it leads the associated data), so it cannot be swapped to steer decryption.
func seal(aead cipher.AEAD, plaintext, associatedData []byte) []byte {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plaintext)+aead.Overhead())
	out[0] = version1
	randRead(out[1 : 1+nonceSize])
	return aead.Seal(out, out[1:1+nonceSize], plaintext, versionedAD(version1, associatedData))
}

func open(aead cipher.AEAD, ciphertext, associatedData []byte) ([]byte, error) {
	if len(ciphertext) < 1+nonceSize+aead.Overhead() {
		return nil, ErrDecrypt
	}
	if ciphertext[0] != version1 {
		return nil, ErrUnknownVersion
	}
	nonce := ciphertext[1 : 1+nonceSize]
	plaintext, err := aead.Open(nil, nonce, ciphertext[1+nonceSize:], versionedAD(ciphertext[0], associatedData))
	if err != nil {
		return nil, ErrDecrypt
	}
	return plaintext, nil
}

func versionedAD(version byte, associatedData []byte) []byte {
	ad := make([]byte, 0, 1+len(associatedData))
	ad = append(ad, version)
	return append(ad, associatedData...)
}
