package load

import (
	"errors"
	"net"
	"testing"
)

func TestDestination(t *testing.T) {
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skip("no lo interface")
	}
	conn := clientConn(t)
	for _, c := range []struct {
		server, iface string
		want          string
		scope         uint32
		err           error
	}{
		{"[ff02::1:2%7]:547", "", "[ff02::1:2%7]:547", 7, nil}, // numeric zone: no lookup, works across namespaces
		{"", "9", "[ff02::1:2%9]:547", 9, nil},
		{"", "lo", "[ff02::1:2%lo]:547", uint32(lo.Index), nil},
		{"[2001:db8::1]:547", "", "[2001:db8::1]:547", 0, nil},
		{"[fe80::1%3]:547", "", "[fe80::1%3]:547", 3, nil},
		{"", "", "", 0, ErrConfig},
		{"[ff02::1:2]:547", "", "", 0, ErrConfig},
		{"[::ffff:10.0.0.1]:547", "", "", 0, ErrConfig},
	} {
		cfg := Config{Interface: c.iface}
		if c.server != "" {
			cfg.Server = netip6(c.server)
		}
		dst, scope, err := destination(conn, &cfg)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("%q/%q: err %v, want %v", c.server, c.iface, err, c.err)
			}
			continue
		}
		if err != nil || dst.String() != c.want || scope != c.scope || cfg.Server != dst {
			t.Errorf("%q/%q: %v scope %d err %v; want %s scope %d", c.server, c.iface, dst, scope, err, c.want, c.scope)
		}
	}
}
