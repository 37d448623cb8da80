package population

import (
	"encoding/hex"
	"testing"
)

// A population names each client's DUID as hex.EncodeToString writes it,
// whichever chunk it asks for first, and a name costs no allocation once
// its chunk is written.
func TestNames(t *testing.T) {
	n := &names{seed: 42}
	for _, i := range []int{10000, 0, 4095, 4096, 8191, 1, 10000} {
		if got, want := n.DUIDHex(i), hex.EncodeToString(DUID(42, i)); got != want {
			t.Errorf("DUIDHex(%d) = %q, want %q", i, got, want)
		}
	}
	if len(n.chunks) != 3 {
		t.Errorf("%d chunks for clients up to 10,000, want 3", len(n.chunks))
	}
	if a := testing.AllocsPerRun(100, func() { _ = n.DUIDHex(4097) }); a != 0 {
		t.Errorf("DUIDHex: %v allocations, want 0", a)
	}
}
