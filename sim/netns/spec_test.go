package netns

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"

	"github.com/google/nftables/expr"

	"d6lab/netaddr6"
)

func TestValidate(t *testing.T) {
	good := Spec{
		Prefix:  "d6lab12",
		Link:    netip.MustParsePrefix("2001:db8:1::/64"),
		Clients: NodeSpec{Name: "clients"},
		Nodes: []NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::1/64")}},
			{Name: "srv2", Addrs: []netip.Prefix{netip.MustParsePrefix("fd00:1::2/64")}},
		},
	}
	if err := good.Validate(); err != nil {
		t.Fatalf("good spec rejected: %v", err)
	}
	cases := map[string]func(s *Spec){
		"prefix not d6l":       func(s *Spec) { s.Prefix = "lab1" },
		"prefix too long":      func(s *Spec) { s.Prefix = "d6labcdef" },
		"prefix with dash":     func(s *Spec) { s.Prefix = "d6l-a" },
		"link not /64":         func(s *Spec) { s.Link = netip.MustParsePrefix("2001:db8::/48") },
		"link outside ranges":  func(s *Spec) { s.Link = netip.MustParsePrefix("2001:4860::/64") },
		"link is IPv4":         func(s *Spec) { s.Link = netip.MustParsePrefix("10.0.0.0/24") },
		"no link":              func(s *Spec) { s.Link = netip.Prefix{} },
		"address outside":      func(s *Spec) { s.Nodes[0].Addrs = []netip.Prefix{netip.MustParsePrefix("2a00::1/64")} },
		"address fc00 not ULA": func(s *Spec) { s.Nodes[0].Addrs = []netip.Prefix{netip.MustParsePrefix("fc00::1/64")} },
		"IPv4 address":         func(s *Spec) { s.Nodes[0].Addrs = []netip.Prefix{netip.MustParsePrefix("192.168.1.1/24")} },
		"name too long":        func(s *Spec) { s.Nodes[0].Name = "server123" },
		"name upper case":      func(s *Spec) { s.Nodes[0].Name = "Srv1" },
		"name reserved":        func(s *Spec) { s.Nodes[0].Name = "link" },
		"name empty":           func(s *Spec) { s.Clients.Name = "" },
		"name twice":           func(s *Spec) { s.Nodes[1].Name = "srv1" },
		"name clashes clients": func(s *Spec) { s.Nodes[1].Name = "clients" },
		"address twice": func(s *Spec) {
			s.Nodes[1].Addrs = []netip.Prefix{netip.MustParsePrefix("2001:db8:1::1/64")}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			s := good
			s.Nodes = append([]NodeSpec(nil), good.Nodes...)
			mutate(&s)
			if err := s.Validate(); !errors.Is(err, ErrBadSpec) {
				t.Fatalf("Validate = %v, want ErrBadSpec", err)
			}
		})
	}
}

func TestNewPrefix(t *testing.T) {
	seen := map[string]bool{}
	for range 20 {
		p := NewPrefix()
		if len(p) != 7 || !ValidPrefix(p) {
			t.Fatalf("NewPrefix() = %q, want d6l + 4 hex digits", p)
		}
		seen[p] = true
	}
	if len(seen) < 2 {
		t.Fatalf("NewPrefix returned the same prefix 20 times")
	}
}

func TestNamesFitIfnamsiz(t *testing.T) {
	const longest = "d6labcde"
	if !ValidPrefix(longest) {
		t.Fatalf("%q should be a valid prefix", longest)
	}
	for _, name := range []string{
		bridgeName(longest), portName(longest, MaxNodes-1), nodeIfName(longest, MaxNodes-1), probeName(longest) + "a",
	} {
		if len(name) > 15 {
			t.Errorf("interface name %q is %d bytes, over IFNAMSIZ-1", name, len(name))
		}
		if !ownedBy(longest, name) {
			t.Errorf("%q not owned by its prefix", name)
		}
	}
}

func TestOwnedBy(t *testing.T) {
	for _, c := range []struct {
		prefix, name string
		want         bool
	}{
		{"d6lab12", "d6lab12-link", true},
		{"d6lab12", "d6lab12-b0", true},
		{"d6lab12", "d6lab12", false},
		{"d6lab1", "d6lab12-link", false}, // another run's prefix that merely starts alike
		{"d6lab12", "d6lab123-link", false},
		{"d6lab12", "eth0", false},
		{"d6l", "d6lab12-link", true},
		{"d6l", "d6lxyz", true},
		{"d6l", "eth0", false},
		{"d6l", "d6", false},
	} {
		if got := ownedBy(c.prefix, c.name); got != c.want {
			t.Errorf("ownedBy(%q, %q) = %v, want %v", c.prefix, c.name, got, c.want)
		}
	}
}

func TestMAC(t *testing.T) {
	// RFC 4291 appendix A: flip the U/L bit, insert ff:fe.
	got := netaddr6.LinkLocal([6]byte(mac(macNode, 0)))
	if want := netip.MustParseAddr("fe80::d6:ff:fe00:1"); got != want {
		t.Fatalf("link-local of %v = %v, want %v", mac(macNode, 0), got, want)
	}
	if a, b := mac(macNode, 3), mac(macPort, 3); a.String() == b.String() {
		t.Fatalf("node and port MACs collide: %v", a)
	}
	if m := mac(macNode, 300); m[4] != 0x01 || m[5] != 0x2d {
		t.Fatalf("mac(300) = %v, want index 301 in the last two bytes", m)
	}
}

func TestAllowedAddr(t *testing.T) {
	for a, want := range map[string]bool{
		"2001:db8::1":      true,
		"2001:db8:ffff::1": true,
		"2001:db9::1":      false,
		"fd12:3456::1":     true,
		"fc00::1":          false,
		"fe80::1":          false,
		"::ffff:10.0.0.1":  false,
		"10.0.0.1":         false,
		"2001:db8::1%eth0": false,
	} {
		if got := AllowedAddr(netip.MustParseAddr(a)); got != want {
			t.Errorf("AllowedAddr(%s) = %v, want %v", a, got, want)
		}
	}
}

func TestLossRuleThreshold(t *testing.T) {
	for permille, want := range map[int][]byte{1: {0, 0, 0, 1}, 250: {0, 0, 0, 250}, 1000: {0, 0, 3, 0xe8}} {
		exprs := lossRule(permille)
		var got []byte
		for _, e := range exprs {
			if c, ok := e.(*expr.Cmp); ok && c.Op == expr.CmpOpLt {
				got = c.Data
			}
		}
		if !bytes.Equal(got, want) {
			t.Errorf("lossRule(%d) threshold = %x, want %x (network order, after hton)", permille, got, want)
		}
	}
}
