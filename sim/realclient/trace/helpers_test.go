package trace_test

import (
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	. "github.com/onsi/gomega"

	"d6lab/sim/realclient/trace"
)

// golden is one recorded run in testdata: NAME.pcap (sim/capture's
// capture on the client's interface), NAME.addrs.jsonl (its address log)
// and NAME.json (the client's MAC and kind, the servers' DUIDs, how it
// was recorded).
type golden struct {
	client  trace.Client
	frames  []trace.Frame
	addrs   []trace.AddrChange
	servers map[string]string // lab name -> DUID hex
	meta    map[string]string
	t0      time.Time // the first frame
}

func loadGolden(name string) golden {
	base := filepath.Join("testdata", name)
	b, err := os.ReadFile(base + ".json")
	Expect(err).NotTo(HaveOccurred())
	var meta map[string]string
	Expect(json.Unmarshal(b, &meta)).To(Succeed())
	mac, err := net.ParseMAC(meta["mac"])
	Expect(err).NotTo(HaveOccurred())
	g := golden{client: trace.Client{Index: 7, MAC: mac, Kind: meta["kind"]}, servers: map[string]string{}, meta: meta}
	for k, v := range meta {
		if len(k) > 7 && k[:7] == "server_" {
			g.servers[k[7:]] = v
		}
	}
	g.frames, err = trace.ReadPcap(base + ".pcap")
	Expect(err).NotTo(HaveOccurred())
	Expect(g.frames).NotTo(BeEmpty())
	g.t0 = g.frames[0].At
	f, err := os.Open(base + ".addrs.jsonl")
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	g.addrs, err = trace.ReadAddrs(f)
	Expect(err).NotTo(HaveOccurred())
	return g
}

// The hand-built link: one client, two servers, another client.
var (
	clientMAC = net.HardwareAddr{0x02, 0xd6, 0, 0, 0, 0x01}
	otherMAC  = net.HardwareAddr{0x02, 0xd6, 0, 0, 0, 0x09}
	srvMAC    = map[string]net.HardwareAddr{
		"a": {0x02, 0xd6, 0, 0, 0, 0x02},
		"b": {0x02, 0xd6, 0, 0, 0, 0x03},
	}
	clientDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: clientMAC}
	otherDUID  = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: otherMAC}
	srvDUID    = map[string]dhcpv6.DUID{
		"a": &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: srvMAC["a"]},
		"b": &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: srvMAC["b"]},
	}
	t0          = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	allServers  = netip.MustParseAddr("ff02::1:2")
	clientLL    = netip.MustParseAddr("fe80::d6:ff:fe00:1")
	otherLL     = netip.MustParseAddr("fe80::d6:ff:fe00:9")
	addrA       = netip.MustParsePrefix("2001:db8:6::a:1/128")
	addrA2      = netip.MustParsePrefix("2001:db8:6::a:2/128")
	addrB       = netip.MustParsePrefix("2001:db8:6::b:1/128")
	prefixA     = netip.MustParsePrefix("2001:db8:100::/56")
	serverLL    = map[string]netip.Addr{"a": netip.MustParseAddr("fe80::d6:ff:fe00:2"), "b": netip.MustParseAddr("fe80::d6:ff:fe00:3")}
	client0     = trace.Client{Index: 4, MAC: clientMAC, Kind: "test"}
	clientHex   = "0003000102d600000001"
	serverHex   = map[string]string{"a": "0003000102d600000002", "b": "0003000102d600000003"}
	second      = time.Second
	xidSolicit  = dhcpv6.TransactionID{1, 1, 1}
	xidRequest  = dhcpv6.TransactionID{2, 2, 2}
	xidRenew    = dhcpv6.TransactionID{3, 3, 3}
	xidRebind   = dhcpv6.TransactionID{4, 4, 4}
	xidDecline  = dhcpv6.TransactionID{5, 5, 5}
	xidRelease  = dhcpv6.TransactionID{6, 6, 6}
	xidConfirm  = dhcpv6.TransactionID{7, 7, 7}
	xidInfo     = dhcpv6.TransactionID{8, 8, 8}
	xidSolicit2 = dhcpv6.TransactionID{9, 9, 9}
	xidRequest2 = dhcpv6.TransactionID{10, 10, 10}
)

// at is t0 plus seconds.
func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// frameOf wraps a DHCPv6 payload in UDP, IPv6 and Ethernet.
func frameOf(when time.Time, srcMAC, dstMAC net.HardwareAddr, src, dst netip.Addr, sport, dport uint16, payload []byte) trace.Frame {
	b, err := frameBytes(srcMAC, dstMAC, src, dst, sport, dport, payload)
	Expect(err).NotTo(HaveOccurred())
	return trace.Frame{At: when, Data: b}
}

func frameBytes(srcMAC, dstMAC net.HardwareAddr, src, dst netip.Addr, sport, dport uint16, payload []byte) ([]byte, error) {
	eth := &layers.Ethernet{SrcMAC: srcMAC, DstMAC: dstMAC, EthernetType: layers.EthernetTypeIPv6}
	ip6 := &layers.IPv6{Version: 6, HopLimit: 1, NextHeader: layers.IPProtocolUDP, SrcIP: src.AsSlice(), DstIP: dst.AsSlice()}
	udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
	if err := udp.SetNetworkLayerForChecksum(ip6); err != nil {
		return nil, err
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true},
		eth, ip6, udp, gopacket.Payload(payload)); err != nil {
		return nil, err
	}
	return append([]byte(nil), buf.Bytes()...), nil
}

// multicastMAC is the Ethernet address of ff02::1:2.
var multicastMAC = net.HardwareAddr{0x33, 0x33, 0, 1, 0, 2}

// sent is a message from the client to all servers.
func sent(when time.Time, m *dhcpv6.Message) trace.Frame {
	return frameOf(when, clientMAC, multicastMAC, clientLL, allServers, 546, 547, m.ToBytes())
}

// recv is a message from server srv to the client.
func recv(when time.Time, srv string, m *dhcpv6.Message) trace.Frame {
	return frameOf(when, srvMAC[srv], clientMAC, serverLL[srv], clientLL, 547, 546, m.ToBytes())
}

// msg builds a message with the client's DUID (cid nil: none) and,
// when srv is not "", that server's.
func msg(t dhcpv6.MessageType, xid dhcpv6.TransactionID, cid dhcpv6.DUID, srv string, opts ...dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: xid}
	if cid != nil {
		m.AddOption(dhcpv6.OptClientID(cid))
	}
	if srv != "" {
		m.AddOption(dhcpv6.OptServerID(srvDUID[srv]))
	}
	for _, o := range opts {
		m.AddOption(o)
	}
	return m
}

// client messages (Client ID, no Server ID unless srv) and server ones.
func cmsg(t dhcpv6.MessageType, xid dhcpv6.TransactionID, srv string, opts ...dhcpv6.Option) *dhcpv6.Message {
	return msg(t, xid, clientDUID, srv, append([]dhcpv6.Option{dhcpv6.OptElapsedTime(0)}, opts...)...)
}

func smsg(t dhcpv6.MessageType, xid dhcpv6.TransactionID, srv string, opts ...dhcpv6.Option) *dhcpv6.Message {
	return msg(t, xid, clientDUID, srv, opts...)
}

type addrLease struct {
	p           netip.Prefix
	pref, valid time.Duration
	status      *dhcpv6.OptStatusCode
}

func lease(p netip.Prefix, pref, valid float64) addrLease {
	return addrLease{p: p, pref: time.Duration(pref * float64(time.Second)), valid: time.Duration(valid * float64(time.Second))}
}

// iana is an IA_NA with IAID 1.
func ianaOpt(t1, t2 float64, status *dhcpv6.OptStatusCode, leases ...addrLease) dhcpv6.Option {
	o := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}, T1: time.Duration(t1 * float64(time.Second)), T2: time.Duration(t2 * float64(time.Second))}
	for _, l := range leases {
		a := &dhcpv6.OptIAAddress{IPv6Addr: net.IP(l.p.Addr().AsSlice()), PreferredLifetime: l.pref, ValidLifetime: l.valid}
		if l.status != nil {
			a.Options.Add(l.status)
		}
		o.Options.Add(a)
	}
	if status != nil {
		o.Options.Add(status)
	}
	return o
}

// iapdOpt is an IA_PD with IAID 2.
func iapdOpt(t1, t2 float64, status *dhcpv6.OptStatusCode, leases ...addrLease) dhcpv6.Option {
	o := &dhcpv6.OptIAPD{IaId: [4]byte{0, 0, 0, 2}, T1: time.Duration(t1 * float64(time.Second)), T2: time.Duration(t2 * float64(time.Second))}
	for _, l := range leases {
		o.Options.Add(&dhcpv6.OptIAPrefix{
			Prefix:            &net.IPNet{IP: net.IP(l.p.Addr().AsSlice()), Mask: net.CIDRMask(l.p.Bits(), 128)},
			PreferredLifetime: l.pref, ValidLifetime: l.valid,
		})
	}
	if status != nil {
		o.Options.Add(status)
	}
	return o
}

func status(c iana.StatusCode) *dhcpv6.OptStatusCode {
	return &dhcpv6.OptStatusCode{StatusCode: c, StatusMessage: c.String()}
}

// bindFrames is a plain binding: Solicit, Advertise from a, Request,
// Reply with addrA (T1 2, T2 3, preferred 5, valid 8) at 0.01 s.
func bindFrames() []trace.Frame {
	return []trace.Frame{
		sent(at(0), cmsg(dhcpv6.MessageTypeSolicit, xidSolicit, "", ianaOpt(0, 0, nil))),
		recv(at(0.002), "a", smsg(dhcpv6.MessageTypeAdvertise, xidSolicit, "a", dhcpv6.OptPreference(255), ianaOpt(2, 3, nil, lease(addrA, 5, 8)))),
		sent(at(0.004), cmsg(dhcpv6.MessageTypeRequest, xidRequest, "a", ianaOpt(0, 0, nil, lease(addrA, 0, 0)))),
		recv(at(0.010), "a", smsg(dhcpv6.MessageTypeReply, xidRequest, "a", ianaOpt(2, 3, nil, lease(addrA, 5, 8)))),
	}
}
