package crypto

import (
	"bytes"
	"testing"
)

func TestLookupHash(t *testing.T) {
	s := testSealer(t)
	other, err := NewSealer(bytes.Repeat([]byte{8}, KeySize))
	if err != nil {
		t.Fatal(err)
	}
	a := s.LookupHash("id_number", "079195001234")
	switch {
	case len(a) != 32:
		t.Fatalf("hash is %d bytes, want 32", len(a))
	case !bytes.Equal(a, s.LookupHash("id_number", "079195001234")):
		t.Error("the same value hashes differently twice: no index could find it")
	case bytes.Equal(a, s.LookupHash("id_number", "079195001235")):
		t.Error("two numbers hash alike")
	case bytes.Equal(a, s.LookupHash("passport", "079195001234")):
		t.Error("purpose does not separate hashes")
	case bytes.Equal(a, other.LookupHash("id_number", "079195001234")):
		t.Error("another master key gives the same hash: it is not keyed")
	case bytes.Contains(a, []byte("079195001234")):
		t.Error("the hash carries the plain value")
	}
	// purpose and value are separated, not concatenated: ("ab","c") is not ("a","bc").
	if bytes.Equal(s.LookupHash("ab", "c"), s.LookupHash("a", "bc")) {
		t.Error("purpose/value boundary is ambiguous")
	}
}
