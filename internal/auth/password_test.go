package auth

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// cheapHasher keeps tests fast where the cost of the hash is not what is tested.
func cheapHasher(maxConcurrent int) *Hasher {
	h := NewHasher(maxConcurrent)
	h.params = argonParams{memory: 64, time: 1, threads: 1}
	return h
}

func TestHashVerify(t *testing.T) {
	ctx := context.Background()
	h := NewHasher(2)
	const password = "plum Orbit kettle 42"
	encoded, err := h.Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(encoded, "$argon2id$v=19$m=65536,t=1,p=1$") {
		t.Fatalf("encoded hash %q is not PHC argon2id with the default parameters", encoded)
	}
	if strings.Contains(encoded, password) {
		t.Fatal("hash contains the password")
	}
	if again, _ := h.Hash(ctx, password); again == encoded {
		t.Error("two hashes of one password are equal: salt not random")
	}
	if h.NeedsRehash(encoded) {
		t.Error("a fresh hash needs rehashing")
	}

	tests := []struct {
		name     string
		password string
		want     bool
	}{
		{"right password", password, true},
		{"wrong password", "plum Orbit kettle 43", false},
		{"different case", "PLUM ORBIT KETTLE 42", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, err := h.Verify(ctx, encoded, tt.password)
			if err != nil || ok != tt.want {
				t.Fatalf("Verify = %v, %v; want %v", ok, err, tt.want)
			}
		})
	}
}

func TestVerifyNormalisesUnicode(t *testing.T) {
	ctx := context.Background()
	h := cheapHasher(1)
	composed := "Nguyễn Thu Hương 1995" // precomposed, as most keyboards send it
	decomposed := "Nguye\u0302\u0303n Thu Hu\u031bo\u031bng 1995"
	encoded, _ := h.Hash(ctx, composed)
	if ok, err := h.Verify(ctx, encoded, decomposed); !ok || err != nil {
		t.Fatalf("decomposed form of the same password refused: %v, %v", ok, err)
	}
}

func TestVerifyReadsStoredParameters(t *testing.T) {
	ctx := context.Background()
	old := cheapHasher(1)
	encoded, _ := old.Hash(ctx, "correct horse battery")
	h := NewHasher(1)
	if ok, err := h.Verify(ctx, encoded, "correct horse battery"); !ok || err != nil {
		t.Fatalf("hash made with other parameters refused: %v, %v", ok, err)
	}
	if !h.NeedsRehash(encoded) {
		t.Error("a hash with weaker parameters does not need rehashing")
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	h := cheapHasher(1)
	valid, _ := h.Hash(context.Background(), "correct horse battery")
	parts := strings.Split(valid, "$")
	for _, bad := range []string{
		"",
		"plaintext",
		"$2a$10$abcdefghijklmnopqrstuvABCDEFGHIJKLMNOPQRSTUVWXYZ01234", // bcrypt
		strings.Replace(valid, "argon2id", "argon2i", 1),
		strings.Replace(valid, "v=19", "v=16", 1),
		strings.Replace(valid, parts[3], "m=4194304,t=1,p=1", 1), // 4 GiB
		strings.Replace(valid, parts[3], "m=64,t=1000,p=1", 1),
		strings.Replace(valid, parts[3], "m=64,t=1,p=0", 1),
		strings.Replace(valid, parts[3], "t=1,m=64,p=1", 1),
		strings.Replace(valid, parts[3], "m=64,t=1", 1),
		strings.Replace(valid, parts[3], "m=-64,t=1,p=1", 1),
		strings.Replace(valid, parts[4], "!!", 1),
		strings.Replace(valid, parts[5], "c2hvcnQ", 1),
		valid + "$extra",
	} {
		ok, err := h.Verify(context.Background(), bad, "correct horse battery")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("Verify(%q) = %v, %v; want ErrMalformedHash", bad, ok, err)
		}
	}
}

func TestHasherHonoursContext(t *testing.T) {
	h := cheapHasher(1)
	encoded, _ := h.Hash(context.Background(), "correct horse battery")
	h.slots <- struct{}{} // every slot busy, as under a login flood
	defer h.release()

	ops := map[string]func(context.Context) error{
		"Hash":        func(ctx context.Context) error { _, err := h.Hash(ctx, "correct horse battery"); return err },
		"Verify":      func(ctx context.Context) error { _, err := h.Verify(ctx, encoded, "correct horse battery"); return err },
		"DummyVerify": func(ctx context.Context) error { return h.DummyVerify(ctx) },
	}
	for name, op := range ops {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
			defer cancel()
			start := time.Now()
			if err := op(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			if waited := time.Since(start); waited > 2*time.Second {
				t.Fatalf("gave up after %v, long after the deadline", waited)
			}
		})
	}
}

func TestCancelledContextTakesNoFreeSlot(t *testing.T) {
	h := cheapHasher(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "correct horse battery"); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
	if len(h.slots) != 0 {
		t.Fatal("a slot was left taken")
	}
}

// BenchmarkDummyVerify beside BenchmarkArgon2: an unknown email must cost what a wrong
// password costs, or sign-in timing tells which emails exist. Compare the two in one run.
func BenchmarkDummyVerify(b *testing.B) {
	h := NewHasher(1)
	ctx := context.Background()
	for b.Loop() {
		if err := h.DummyVerify(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkArgon2(b *testing.B) {
	h := NewHasher(1)
	ctx := context.Background()
	for b.Loop() {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}
