// Package id makes the random identifiers kycdesk shows in URLs and APIs:
// unguessable, URL-safe, lower case, and roughly sortable by creation time.
package id

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns a 26-character identifier: 48 bits of millisecond time, then 80 random bits.
func New() string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on Linux
	}
	return enc.EncodeToString(b[:])
}

// Short returns a 12-character random identifier (60 bits), for integration ids in webhook URLs.
func Short() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return enc.EncodeToString(b[:])[:12]
}

// Valid reports whether s could be an identifier made by New or Short; it lets lookups
// answer 404 for malformed ids without touching the database.
func Valid(s string) bool {
	if len(s) != 26 && len(s) != 12 {
		return false
	}
	return strings.Trim(s, "0123456789abcdefghjkmnpqrstvwxyz") == ""
}
