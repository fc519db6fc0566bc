// Package auth holds sign-in: password hashing and policy, TOTP, recovery codes, and the
// users and sessions built on them.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/text/unicode/norm"
)

// Argon2id parameters. OWASP's password storage cheat sheet asks for at least m=46 MiB
// with t=1 (or less memory with more passes), p=1. We take 64 MiB, t=1: memory is what
// GPU and ASIC crackers find expensive, and it still hashes inside the 50–100 ms budget.
// p=1 because the Hasher already runs one hash per core: more lanes would only make
// concurrent sign-ins contend.
//
// Measured on the 2-core build machine (AMD EPYC, shared, load average 2–6) with
// `go test -run '^$' -bench Argon2 -benchtime 20x -count 3 ./internal/auth/`:
// 49–80 ms per hash. For comparison, on the same machine m=46 MiB,t=1 took 39–65 ms
// and m=64 MiB,t=2 about 105 ms.
const (
	argonMemory  = 64 * 1024 // KiB
	argonTime    = 1
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// Bounds on parameters read back from a stored hash, so a corrupted or hostile row cannot
// make one Verify allocate gigabytes or run for minutes.
const (
	maxArgonMemory  = 1024 * 1024 // 1 GiB
	maxArgonTime    = 16
	maxArgonThreads = 16
)

// ErrMalformedHash is returned by Verify for an encoded hash it cannot read.
var ErrMalformedHash = errors.New("auth: malformed password hash")

type argonParams struct {
	memory  uint32
	time    uint32
	threads uint8
}

// Hasher hashes and verifies passwords with argon2id. Each hash takes 64 MiB and one core
// for ~60 ms, so a semaphore caps how many run at once: a flood of sign-in attempts queues
// up instead of exhausting memory and starving every other request.
type Hasher struct {
	slots  chan struct{}
	params argonParams
}

// NewHasher returns a Hasher that runs at most maxConcurrent hashes at a time;
// zero or less means one per CPU (GOMAXPROCS).
func NewHasher(maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.GOMAXPROCS(0)
	}
	return &Hasher{
		slots:  make(chan struct{}, maxConcurrent),
		params: argonParams{memory: argonMemory, time: argonTime, threads: argonThreads},
	}
}

// NewHasherWithCost is NewHasher with another argon2id memory (KiB, at least 8) and
// number of passes: tests use a tiny cost where the cost itself is not under test.
// Hashes record their parameters, so a server with the default Hasher still verifies them.
func NewHasherWithCost(maxConcurrent int, memoryKiB, passes uint32) *Hasher {
	h := NewHasher(maxConcurrent)
	h.params = argonParams{memory: max(memoryKiB, 8), time: max(passes, 1), threads: 1}
	return h
}

// acquire waits for a hashing slot, or until ctx ends: a client that has gone away
// should not keep its place in the queue.
func (h *Hasher) acquire(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.slots }

// Hash returns the password's argon2id hash in the PHC string format,
// $argon2id$v=19$m=65536,t=1,p=1$<salt>$<hash>, which records its own parameters so they
// can be raised later without invalidating stored hashes.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	_, _ = rand.Read(salt) // never fails since Go 1.24
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey(normalize(password), salt, p.time, p.memory, p.threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// Verify reports whether password matches the encoded hash. A wrong password is
// (false, nil); an error means the hash could not be read or ctx ended while waiting.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (bool, error) {
	p, salt, want, err := decodeHash(encoded)
	if err != nil {
		return false, err
	}
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer h.release()
	got := argon2.IDKey(normalize(password), salt, p.time, p.memory, p.threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// DummyVerify spends the time and memory of a real Verify. Sign-in calls it when no user
// has the given email, so response times do not reveal which emails have accounts.
func (h *Hasher) DummyVerify(ctx context.Context) error {
	salt := make([]byte, argonSaltLen)
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	p := h.params
	key := argon2.IDKey([]byte("no such user"), salt, p.time, p.memory, p.threads, argonKeyLen)
	subtle.ConstantTimeCompare(key, make([]byte, argonKeyLen))
	return nil
}

// NeedsRehash reports whether a stored hash was made with other parameters than this
// Hasher's, so sign-in can re-hash the password it has just verified.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, key, err := decodeHash(encoded)
	return err != nil || p != h.params || len(key) != argonKeyLen
}

// normalize applies NFKC, as NIST SP 800-63B asks: the same Vietnamese password typed on
// a keyboard that composes diacritics and on one that does not must give the same hash.
func normalize(password string) []byte {
	return []byte(norm.NFKC.String(password))
}

func decodeHash(encoded string) (argonParams, []byte, []byte, error) {
	var p argonParams
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, ErrMalformedHash
	}
	var m, t, threads uint64
	for i, field := range strings.Split(parts[3], ",") {
		name, value, ok := strings.Cut(field, "=")
		n, err := strconv.ParseUint(value, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, ErrMalformedHash
		}
		switch {
		case i == 0 && name == "m":
			m = n
		case i == 1 && name == "t":
			t = n
		case i == 2 && name == "p":
			threads = n
		default:
			return p, nil, nil, ErrMalformedHash
		}
	}
	if m == 0 || m > maxArgonMemory || t == 0 || t > maxArgonTime || threads == 0 || threads > maxArgonThreads || m < 8*threads {
		return p, nil, nil, ErrMalformedHash
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil || len(salt) < 8 {
		return p, nil, nil, ErrMalformedHash
	}
	key, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, ErrMalformedHash
	}
	return argonParams{memory: uint32(m), time: uint32(t), threads: uint8(threads)}, salt, key, nil
}
