package population_test

import (
	"encoding/hex"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/transport"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var serverAddr = netip.MustParseAddrPort("[fe80::547]:547")

// responder is a scripted server: Solicit -> Advertise (Preference 255),
// Request/Renew/Rebind -> Reply, Release/Decline -> Reply, each client
// getting the next address of 2001:db8::/64, always the same one.
type responder struct {
	duid   dhcpv6.DUID
	addrs  map[string]netip.Addr
	next   netip.Addr
	t1, t2 time.Duration
	pref   time.Duration
	valid  time.Duration
	seen   map[dhcpv6.MessageType]int
}

func newResponder() *responder {
	return &responder{
		duid:  &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0, 0, 0x5e, 0, 0x53, 1}},
		addrs: map[string]netip.Addr{},
		next:  netip.MustParseAddr("2001:db8::100"),
		t1:    300 * time.Second, t2: 480 * time.Second,
		pref: 600 * time.Second, valid: 900 * time.Second,
		seen: map[dhcpv6.MessageType]int{},
	}
}

func (r *responder) addrFor(duid []byte) netip.Addr {
	k := hex.EncodeToString(duid)
	a, ok := r.addrs[k]
	if !ok {
		a = r.next
		r.next = r.next.Next()
		r.addrs[k] = a
	}
	return a
}

// answer returns the encoded answer to pkt, or nil.
func (r *responder) answer(pkt []byte) []byte {
	m, err := dhcpv6.MessageFromBytes(pkt)
	if err != nil {
		panic(err)
	}
	r.seen[m.MessageType]++
	cid := m.Options.ClientID()
	if cid == nil {
		return nil
	}
	out := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeReply, TransactionID: m.TransactionID}
	out.AddOption(dhcpv6.OptClientID(cid))
	out.AddOption(dhcpv6.OptServerID(r.duid))
	ia := func() *dhcpv6.OptIANA {
		a := r.addrFor(cid.ToBytes())
		o := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}, T1: r.t1, T2: r.t2}
		o.Options.Add(&dhcpv6.OptIAAddress{IPv6Addr: net.IP(a.AsSlice()), PreferredLifetime: r.pref, ValidLifetime: r.valid})
		return o
	}
	switch m.MessageType {
	case dhcpv6.MessageTypeSolicit:
		out.MessageType = dhcpv6.MessageTypeAdvertise
		out.AddOption(dhcpv6.OptPreference(255))
		out.AddOption(ia())
	case dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind:
		out.AddOption(ia())
	case dhcpv6.MessageTypeDecline:
		// §18.3.8: a declined address is not offered again; the client
		// gets the next one.
		delete(r.addrs, hex.EncodeToString(cid.ToBytes()))
		out.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})
	case dhcpv6.MessageTypeRelease:
		out.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})
	case dhcpv6.MessageTypeConfirm:
		// §18.3.3: every address is on this link
		out.AddOption(&dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})
	default:
		return nil
	}
	return out.ToBytes()
}

// respondingLink is the client end of an in-memory link whose server end a
// scripted responder answers; both ends close when the spec ends.
func respondingLink() *transport.MemConn {
	link := transport.NewLink()
	srv, err := link.Attach(serverAddr, 4096, transport.AllServers)
	Expect(err).NotTo(HaveOccurred())
	cli, err := link.Attach(netip.MustParseAddrPort("[fe80::2]:546"), 4096)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(srv.Close)
	DeferCleanup(cli.Close)
	r := newResponder()
	go func() {
		buf := make([]byte, 4096)
		for {
			n, src, _, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			if a := r.answer(buf[:n]); a != nil {
				_, _ = srv.WriteTo(a, src)
			}
		}
	}()
	return cli
}
