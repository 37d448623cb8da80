package wire_test

import (
	"testing"
)

// FuzzDecodeDifferential feeds the same bytes to wire's Decode and to
// insomniacslk's dhcpv6.FromBytes and fails on any disagreement (see
// differential): accepted by one and rejected by the other, or any field
// wire reads differing. ErrNotFastPath is no disagreement. Its seeds
// (testdata/fuzz/FuzzDecodeDifferential) are the golden packets, the
// server's and the load generator's fuzz seeds, edge cases at each length
// rule, and every disagreement fuzzing found.
func FuzzDecodeDifferential(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := differential(b); err != nil {
			t.Fatalf("%x: %v", b, err)
		}
	})
}
