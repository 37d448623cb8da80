package load

import (
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/lease"
)

var (
	linkAddr = netip.MustParseAddr("2001:db8:1::1")
	testSID  = []byte{0, 2, 0, 10, 0, 3, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff} // Server Identifier option, DUID-LL
)

// serverConfig is a d6lab server on 2001:db8:1::/64 with prefix
// delegation and Rapid Commit.
func serverConfig() server.Config {
	pool, err := alloc.ParsePool("2001:db8:1::/64")
	if err != nil {
		panic(err)
	}
	pd, err := alloc.ParsePrefixPool("2001:db8:100::/40/56")
	if err != nil {
		panic(err)
	}
	cfg := server.DefaultConfig()
	cfg.Name = "load-test"
	cfg.Prefix = netip.MustParsePrefix("2001:db8:1::/64")
	cfg.Pool = pool
	cfg.PDPool = pd
	cfg.Preference = 255
	cfg.RapidCommit = true
	return cfg
}

// testingTB is what the helpers need of a *testing.T or GinkgoT().
type testingTB interface {
	Helper()
	Skipf(format string, args ...any)
	Fatal(args ...any)
	Cleanup(func())
}

// responder is an in-process DHCPv6 server (d6lab's own core) behind a
// UDP socket on ::1. Silent responders read and never answer.
type responder struct {
	conn   *net.UDPConn
	srv    *server.Server
	silent bool
	wg     sync.WaitGroup
	mu     sync.Mutex
	seen   int
}

func startResponder(tb testingTB, silent bool, mut ...func(*server.Config)) *responder {
	tb.Helper()
	cfg := serverConfig()
	for _, m := range mut {
		m(&cfg)
	}
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		tb.Skipf("no IPv6 loopback: %v", err)
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	s, err := server.New(cfg, lease.NewMemory())
	if err != nil {
		tb.Fatal(err)
	}
	r := &responder{conn: c, srv: s, silent: silent}
	r.wg.Add(1)
	go r.serve()
	tb.Cleanup(r.close)
	return r
}

func (r *responder) addr() netip.AddrPort { return r.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

func (r *responder) serve() {
	defer r.wg.Done()
	b := make([]byte, 4096)
	for {
		n, src, err := r.conn.ReadFromUDPAddrPort(b)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.seen++
		r.mu.Unlock()
		if r.silent {
			continue
		}
		// Answer the socket the datagram came from (not port 546/547:
		// the test runs without root).
		if out, _, ok := r.srv.Handle(time.Now(), b[:n], src, true); ok {
			_, _ = r.conn.WriteToUDPAddrPort(out, src)
		}
	}
}

func (r *responder) received() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen
}

func (r *responder) close() {
	r.conn.Close()
	r.wg.Wait()
}

// clientConn is the generator's socket on ::1.
func clientConn(tb testingTB) *net.UDPConn {
	tb.Helper()
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		tb.Skipf("no IPv6 loopback: %v", err)
	}
	_ = c.SetReadBuffer(4 << 20)
	_ = c.SetWriteBuffer(4 << 20)
	tb.Cleanup(func() { c.Close() })
	return c
}

// advertise builds a server answer with insomniacslk/dhcp.
func answer(mt dhcpv6.MessageType, xid uint32, na, pd bool, opts ...dhcpv6.Option) []byte {
	m := &dhcpv6.Message{MessageType: mt, TransactionID: dhcpv6.TransactionID{byte(xid >> 16), byte(xid >> 8), byte(xid)}}
	sid, err := dhcpv6.DUIDFromBytes(testSID[4:])
	if err != nil {
		panic(err)
	}
	m.AddOption(dhcpv6.OptServerID(sid))
	m.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}))
	if na {
		ia := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 7}, T1: time.Minute, T2: 2 * time.Minute}
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:1::42"), PreferredLifetime: time.Hour, ValidLifetime: 2 * time.Hour})
		m.AddOption(ia)
	}
	if pd {
		_, p, _ := net.ParseCIDR("2001:db8:100:4200::/56")
		ia := &dhcpv6.OptIAPD{IaId: [4]byte{0x80, 0, 0, 7}, T1: time.Minute, T2: 2 * time.Minute}
		ia.Options.Add(&dhcpv6.OptIAPrefix{Prefix: p, PreferredLifetime: time.Hour, ValidLifetime: 2 * time.Hour})
		m.AddOption(ia)
	}
	for _, o := range opts {
		m.AddOption(o)
	}
	return m.ToBytes()
}

// relayed wraps b in a Relay-reply.
func relayed(b []byte) []byte {
	inner, err := dhcpv6.FromBytes(b)
	if err != nil {
		panic(err)
	}
	rr := &dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayReply, LinkAddr: net.IP(linkAddr.AsSlice()), PeerAddr: net.ParseIP("fe80::1")}
	rr.AddOption(dhcpv6.OptInterfaceID([]byte(interfaceName)))
	rr.AddOption(dhcpv6.OptRelayMessage(inner))
	return rr.ToBytes()
}

// canned is a server answer a test replays with the transaction ID of the
// message it answers patched in.
type canned struct {
	b  []byte
	at int // where the innermost message starts
}

// cannedAnswer is b, wrapped in a Relay-reply when relay is set. relayed
// writes the Relay Message option last, so the message is b's suffix.
func cannedAnswer(b []byte, relay bool) canned {
	if !relay {
		return canned{b: b}
	}
	r := relayed(b)
	return canned{b: r, at: len(r) - len(b)}
}

func (c canned) setXID(xid uint32) {
	m := c.b[c.at:]
	m[1], m[2], m[3] = byte(xid>>16), byte(xid>>8), byte(xid)
}

func netip6(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }
