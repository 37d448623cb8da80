package daemon

import (
	"fmt"
	"testing"

	"d6lab/server/alloc"
)

// rendered runs render on the pool each case names and compares what it
// gives, space-separated in brackets, with the case's want.
func rendered(t *testing.T, cases []struct{ pool, want string }, render func(Spec) ([]string, error)) {
	t.Helper()
	for _, tc := range cases {
		p, err := alloc.ParsePool(tc.pool)
		if err != nil {
			t.Fatal(err)
		}
		var s Spec
		s.Config.Pool = p
		got, err := render(s)
		if err != nil {
			t.Fatalf("%s: %v", tc.pool, err)
		}
		if g := fmt.Sprint(got); g != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.pool, g, tc.want)
		}
	}
}

func TestPoolRangesSkipReservedAddresses(t *testing.T) {
	rendered(t, []struct{ pool, want string }{
		// the lower half of a split /64 starts with :: (Subnet-Router
		// anycast); the upper half holds the RFC 2526 identifiers
		// fdff:ffff:ffff:ff80-ffff in its middle
		{"2001:db8:1:1::/65", "[2001:db8:1:1::1-2001:db8:1:1:7fff:ffff:ffff:ffff]"},
		{"2001:db8:1:1:8000::/65", "[2001:db8:1:1:8000::-2001:db8:1:1:fdff:ffff:ffff:ff7f 2001:db8:1:1:fe00::-2001:db8:1:1:ffff:ffff:ffff:ffff]"},
		{"2001:db8:1:1::1000-2001:db8:1:1::1fff", "[2001:db8:1:1::1000-2001:db8:1:1::1fff]"},
		{"2001:db8:1:1:fdff:ffff:ffff:ff7e-2001:db8:1:2::2", "[2001:db8:1:1:fdff:ffff:ffff:ff7e-2001:db8:1:1:fdff:ffff:ffff:ff7f 2001:db8:1:1:fe00::-2001:db8:1:1:ffff:ffff:ffff:ffff 2001:db8:1:2::1-2001:db8:1:2::2]"},
	}, func(s Spec) ([]string, error) {
		rs, err := poolRanges(s)
		var out []string
		for _, r := range rs {
			out = append(out, r.first.String()+"-"+r.last.String())
		}
		return out, err
	})
	p, _ := alloc.ParsePool("2001:db8:1:1::-2001:db8:1:1::")
	var s Spec
	s.Config.Pool = p
	if _, err := poolRanges(s); err == nil {
		t.Error("a pool of only the anycast address: want an error")
	}
}

// dhcpd gets a pool that is exactly a prefix as that prefix, one pool it
// hashes into (and in which it skips the reserved identifiers itself), and
// any other pool as poolRanges' ranges.
func TestDhcpdRangesKeepAPrefix(t *testing.T) {
	rendered(t, []struct{ pool, want string }{
		{"2001:db8:1:1::/64", "[2001:db8:1:1::/64]"},
		{"2001:db8:1:1:8000::/65", "[2001:db8:1:1:8000::/65]"},
		{"2001:db8:1:1::1000-2001:db8:1:1::1fff", "[2001:db8:1:1::1000/116]"},
		{"2001:db8:1:1::-2001:db8:1:1::ff", "[2001:db8:1:1::/120]"},
		{"2001:db8:1:1::-2001:db8:1:1::fe", "[2001:db8:1:1::1-2001:db8:1:1::fe]"},
	}, func(s Spec) ([]string, error) {
		rs, err := dhcpdRanges(s)
		var out []string
		for _, r := range rs {
			if r.prefix.IsValid() {
				out = append(out, r.prefix.String())
			} else {
				out = append(out, r.first.String()+"-"+r.last.String())
			}
		}
		return out, err
	})
}
