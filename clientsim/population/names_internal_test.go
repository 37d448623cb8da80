package population

import (
	"encoding/hex"
	"testing"
	"time"
)

// A population names each client's DUID as hex.EncodeToString writes it,
// whichever chunk it asks for first, and a name costs no allocation once
// its chunk is written.
func TestNames(t *testing.T) {
	for _, count := range []int{0, 3, 5000, 10001} {
		n := &names{seed: 42, count: count}
		for _, i := range []int{10000, 0, 4095, 4096, 8191, 1, 2, 3, 17, 4097, 10000} {
			if got, want := n.DUIDHex(i), hex.EncodeToString(DUID(42, i)); got != want {
				t.Errorf("count %d: DUIDHex(%d) = %q, want %q", count, i, got, want)
			}
		}
		if len(n.chunks) != 3 {
			t.Errorf("count %d: %d chunks for clients up to 10,000, want 3", count, len(n.chunks))
		}
		if a := testing.AllocsPerRun(100, func() { _ = n.DUIDHex(4097) }); a != 0 {
			t.Errorf("count %d: DUIDHex: %v allocations, want 0", count, a)
		}
	}
	// a chunk is written as far as the population reaches into it
	n := &names{seed: 42, count: 3}
	n.DUIDHex(0)
	if got := len(n.chunks[0]) / nameLen; got != 3 {
		t.Errorf("a population of 3 wrote %d names, want 3", got)
	}
	n.DUIDHex(3) // a client added later: the chunk grows twice
	if got := len(n.chunks[0]) / nameLen; got != 6 {
		t.Errorf("client 3 of a population of 3 grew the chunk to %d names, want 6", got)
	}
	n = &names{seed: 42, count: 1_000_000}
	n.DUIDHex(5)
	if got := len(n.chunks[0]) / nameLen; got != namesPerChunk {
		t.Errorf("a population of a million wrote %d names in its first chunk, want %d", got, namesPerChunk)
	}
}

// Clients added in a wave have their chunk of names written once for the
// wave, not grown name by name.
func TestNamesAddClients(t *testing.T) {
	p, err := New(Config{Count: 3, Seed: 42, IANA: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := len(p.names.chunks[0]) / nameLen; got != 3 {
		t.Fatalf("a population of 3 wrote %d names, want 3", got)
	}
	if _, err := p.AddClients(time.Time{}, 100, 0); err != nil {
		t.Fatal(err)
	}
	if got := len(p.names.chunks[0]) / nameLen; got != 103 {
		t.Errorf("after 100 more clients the chunk holds %d names, want 103", got)
	}
	for i := range 103 {
		if got, want := p.names.DUIDHex(i), hex.EncodeToString(DUID(42, i)); got != want {
			t.Errorf("client %d: %q, want %q", i, got, want)
		}
	}
}
