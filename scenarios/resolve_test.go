package scenarios

import (
	"net/netip"
	"testing"
)

func TestBump64(t *testing.T) {
	p := netip.MustParsePrefix("2001:db8:1:1::/64")
	if got, ok := bump64(p, 1); !ok || got.String() != "2001:db8:1:2::/64" {
		t.Errorf("bump64(+1) = %v %v", got, ok)
	}
	if got, ok := bump64(netip.MustParsePrefix("2001:db8:1:fffe::/64"), 1); !ok || got.String() != "2001:db8:1:ffff::/64" {
		t.Errorf("bump64 to ffff = %v %v", got, ok)
	}
	if _, ok := bump64(netip.MustParsePrefix("2001:db8:1:ffff::/64"), 1); ok {
		t.Error("bump64 past ffff must fail, not carry into the 3rd group")
	}
}
