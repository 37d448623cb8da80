package server

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server/alloc"
	"d6lab/server/lease"
	"d6lab/transport"
)

var (
	t0         = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clientSrc  = netip.MustParseAddrPort("[fe80::1234]:546")
	relaySrc   = netip.MustParseAddrPort("[2001:db8:ffff::1]:547")
	linkPrefix = netip.MustParsePrefix("2001:db8:1::/64")
	txid       = dhcpv6.TransactionID{1, 2, 3}
)

func mustPool(s string) alloc.Pool {
	p, err := alloc.ParsePool(s)
	if err != nil {
		panic(err)
	}
	return p
}

func mustPDPool(s string) alloc.PrefixPool {
	p, err := alloc.ParsePrefixPool(s)
	if err != nil {
		panic(err)
	}
	return p
}

// testConfig is a server on 2001:db8:1::/64 with short lifetimes.
func testConfig(name string) Config {
	return Config{
		Name:       name,
		Prefix:     linkPrefix,
		Pool:       mustPool("2001:db8:1::/64"),
		PDPool:     mustPDPool("2001:db8:100::/40/56"),
		Preference: 255,
		T1:         10 * time.Second,
		T2:         16 * time.Second,
		Preferred:  20 * time.Second,
		Valid:      30 * time.Second,
		Allocator:  "hash",
	}
}

func newServer(cfg Config) *Server {
	s, err := New(cfg, lease.NewMemory())
	if err != nil {
		panic(err)
	}
	return s
}

// clientDUID is a DUID-LL for client n.
func clientDUID(n int) dhcpv6.DUID {
	mac := net.HardwareAddr{0x02, 0xcc, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(mac[2:], uint32(n))
	return &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac}
}

func cid(n int) dhcpv6.Option { return dhcpv6.OptClientID(clientDUID(n)) }

func sidOf(s *Server) dhcpv6.Option {
	d, err := dhcpv6.DUIDFromBytes(s.DUID())
	if err != nil {
		panic(err)
	}
	return dhcpv6.OptServerID(d)
}

func otherSID() dhcpv6.Option {
	return dhcpv6.OptServerID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0xee, 0, 0, 0, 9}})
}

func newMsg(t dhcpv6.MessageType, opts ...dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: txid}
	for _, o := range opts {
		m.AddOption(o)
	}
	return m
}

func iaid4(id uint32) (b [4]byte) {
	binary.BigEndian.PutUint32(b[:], id)
	return b
}

// naOpt is an IA_NA listing addrs (lifetimes 0, as a client's hints).
func naOpt(id uint32, addrs ...string) *dhcpv6.OptIANA {
	ia := &dhcpv6.OptIANA{IaId: iaid4(id)}
	for _, a := range addrs {
		ia.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP(a)})
	}
	return ia
}

// pdOpt is an IA_PD listing prefixes.
func pdOpt(id uint32, prefixes ...string) *dhcpv6.OptIAPD {
	ia := &dhcpv6.OptIAPD{IaId: iaid4(id)}
	for _, p := range prefixes {
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			panic(err)
		}
		ia.Options.Add(&dhcpv6.OptIAPrefix{Prefix: n})
	}
	return ia
}

func elapsed() dhcpv6.Option { return dhcpv6.OptElapsedTime(0) }

// roundTrip encodes m, runs it through Handle and decodes the answer.
func roundTrip(s *Server, now time.Time, m dhcpv6.DHCPv6, src netip.AddrPort, multicast bool) (dhcpv6.DHCPv6, netip.AddrPort, bool) {
	b, dst, ok := s.Handle(now, m.ToBytes(), src, multicast)
	if !ok {
		return nil, dst, false
	}
	out, err := dhcpv6.FromBytes(b)
	if err != nil {
		panic("server sent an undecodable answer: " + err.Error())
	}
	return out, dst, true
}

// send is roundTrip for a client message multicast on the link; it returns
// the answer as a *dhcpv6.Message (nil when dropped).
func send(s *Server, now time.Time, m *dhcpv6.Message) *dhcpv6.Message {
	out, _, ok := roundTrip(s, now, m, clientSrc, true)
	if !ok {
		return nil
	}
	return out.(*dhcpv6.Message)
}

// lo is a lease as seen in an answer.
type lo struct {
	Lease            string
	Preferred, Valid time.Duration
}

// iaView is an IA as seen in an answer.
type iaView struct {
	Type   string
	IAID   uint32
	T1, T2 time.Duration
	Leases []lo
	Status *iana.StatusCode
}

func viewIAs(m *dhcpv6.Message) []iaView {
	var out []iaView
	for _, o := range m.Options.Options {
		switch ia := o.(type) {
		case *dhcpv6.OptIANA:
			v := iaView{Type: "na", IAID: binary.BigEndian.Uint32(ia.IaId[:]), T1: ia.T1, T2: ia.T2}
			for _, a := range ia.Options.Addresses() {
				v.Leases = append(v.Leases, lo{a.IPv6Addr.String(), a.PreferredLifetime, a.ValidLifetime})
			}
			if st := ia.Options.Status(); st != nil {
				c := st.StatusCode
				v.Status = &c
			}
			out = append(out, v)
		case *dhcpv6.OptIAPD:
			v := iaView{Type: "pd", IAID: binary.BigEndian.Uint32(ia.IaId[:]), T1: ia.T1, T2: ia.T2}
			for _, p := range ia.Options.Prefixes() {
				v.Leases = append(v.Leases, lo{p.Prefix.String(), p.PreferredLifetime, p.ValidLifetime})
			}
			if st := ia.Options.Status(); st != nil {
				c := st.StatusCode
				v.Status = &c
			}
			out = append(out, v)
		}
	}
	return out
}

func topStatus(m *dhcpv6.Message) *iana.StatusCode {
	if st := m.Options.Status(); st != nil {
		c := st.StatusCode
		return &c
	}
	return nil
}

func sc(c iana.StatusCode) *iana.StatusCode { return &c }

// firstAddr is the first lease of the first IA of an answer.
func firstLease(m *dhcpv6.Message) string {
	ias := viewIAs(m)
	if len(ias) == 0 || len(ias[0].Leases) == 0 {
		return ""
	}
	return ias[0].Leases[0].Lease
}

// bindClient runs Solicit and Request for client n (one IA_NA, IAID 1)
// and returns the address granted.
func bindClient(s *Server, now time.Time, n int) string {
	adv := send(s, now, newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), naOpt(1)))
	if adv == nil {
		return ""
	}
	a := firstLease(adv)
	rep := send(s, now, newMsg(dhcpv6.MessageTypeRequest, cid(n), sidOf(s), elapsed(), naOpt(1, a)))
	if rep == nil {
		return ""
	}
	return firstLease(rep)
}

// fataler is what testing.TB and GinkgoT() share.
type fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

func counterInvariant(tb fataler, s *Server) {
	tb.Helper()
	c := s.Counters()
	if c.Received != c.Answered+c.DroppedTotal() {
		tb.Fatalf("counters: received %d != answered %d + dropped %d", c.Received, c.Answered, c.DroppedTotal())
	}
}

// serverAndClient attaches a server (on ff02::1:2) and a client to a new
// in-memory link, each with a queue of n datagrams.
func serverAndClient(t *testing.T, n int) (srv, cli *transport.MemConn) {
	t.Helper()
	link := transport.NewLink()
	srv, err := link.Attach(netip.MustParseAddrPort("[fe80::5]:547"), n, transport.AllServers)
	if err != nil {
		t.Fatal(err)
	}
	if cli, err = link.Attach(clientSrc, n); err != nil {
		t.Fatal(err)
	}
	return srv, cli
}
