package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
)

// lookupInfo is the HKDF label of the lookup-hash key: its own subkey, so a lookup hash
// says nothing about the keys that seal fields or wrap documents.
const lookupInfo = "kycdesk v1 lookup hash"

// LookupHash is HMAC-SHA256 of value under a key derived from the master key, for finding
// rows by a personal value (an ID number) without storing it in plain text. Equal inputs
// give equal hashes, so an index on the hash finds them; without the master key a stolen
// database cannot test guesses against it, as it could against a plain SHA-256 of a
// 12-digit number. purpose separates kinds of value ("id_number"): the same text under two
// purposes hashes differently.
func (s *Sealer) LookupHash(purpose, value string) []byte {
	m := hmac.New(sha256.New, s.lookup)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}
