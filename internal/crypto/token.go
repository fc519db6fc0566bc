package crypto

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// RandomToken returns nBytes of randomness as URL-safe base64 without padding, for
// session ids and API tokens that travel in cookies, headers and URLs.
func RandomToken(nBytes int) string {
	b := make([]byte, nBytes)
	randRead(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken returns the hex SHA-256 of a token: the form stored in the database, so a
// leaked table does not hand out live sessions or API tokens. A fast hash suffices
// because tokens carry 128+ random bits: there is nothing to guess.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// randRead fills b from the OS generator. Since Go 1.24 crypto/rand.Read never returns an
// error (it aborts the program instead), so there is no error to hand back.
func randRead(b []byte) {
	_, _ = rand.Read(b)
}
