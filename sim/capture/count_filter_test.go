package capture

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// udpFrame serializes Ethernet/IPv6/UDP from sport to dport with payload.
func udpFrame(t *testing.T, sport, dport layers.UDPPort, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0x33, 0x33, 0, 1, 0, 2}, EthernetType: layers.EthernetTypeIPv6}
	ip := &layers.IPv6{Version: 6, HopLimit: 1, NextHeader: layers.IPProtocolUDP, SrcIP: net.ParseIP("fe80::1"), DstIP: net.ParseIP("ff02::1:2")}
	udp := &layers.UDP{SrcPort: sport, DstPort: dport}
	_ = udp.SetNetworkLayerForChecksum(ip)
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, udp, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestCountFilter runs the counter's filter after its packet-type test
// (bpf.VM cannot read skb->pkt_type; the netns specs cover that part).
func TestCountFilter(t *testing.T) {
	vm, err := bpf.NewVM(countPorts)
	if err != nil {
		t.Fatal(err)
	}
	// DHCPv6 message types (RFC 9915 §7.3, RFC 5007 §4.2.1).
	const solicit, renew, relayForw, reply, leasequery = 1, 5, 12, 7, 14
	cases := []struct {
		name         string
		sport, dport layers.UDPPort
		payload      []byte
		want         bool
	}{
		{"Solicit 546>547", 546, 547, []byte{solicit, 0, 0, 1}, true},
		{"Renew 546>547", 546, 547, []byte{renew, 0, 0, 1}, true},
		{"Relay-forward 547>547", 547, 547, []byte{relayForw, 0}, true},
		{"from any port to 547", 40000, 547, []byte{solicit, 0, 0, 1}, true},
		{"Reply 547>546 (what a server sends)", 547, 546, []byte{reply, 0, 0, 1}, false},
		{"Leasequery to 547 (the prober)", 40000, 547, []byte{leasequery, 0, 0, 1}, false},
		{"empty datagram to 547", 546, 547, nil, false},
		{"other UDP", 40000, 9999, []byte{solicit}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n, err := vm.Run(udpFrame(t, c.sport, c.dport, c.payload))
			if err != nil {
				t.Fatal(err)
			}
			if got := n > 0; got != c.want {
				t.Errorf("filter accepted=%v (returned %d), want %v", got, n, c.want)
			}
			if n > 0 && n != countSnap {
				t.Errorf("filter kept %d bytes, want %d", n, countSnap)
			}
		})
	}
	// Not UDP over IPv6: a neighbour solicitation, and UDP to 547 over IPv4
	// (frame, from the pcap filter's test).
	ns := &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
	v4 := &layers.UDP{SrcPort: 546, DstPort: 547}
	for name, data := range map[string][]byte{
		"ICMPv6": frame(t, false, ns, func(n gopacket.NetworkLayer) { _ = ns.SetNetworkLayerForChecksum(n) }),
		"IPv4":   frame(t, true, v4, func(n gopacket.NetworkLayer) { _ = v4.SetNetworkLayerForChecksum(n) }),
	} {
		if n, err := vm.Run(data); err != nil || n != 0 {
			t.Errorf("%s: filter returned %d, %v; want 0", name, n, err)
		}
	}
}

func TestCountFilterAssembles(t *testing.T) {
	prog, ok := bpf.Disassemble(countFilter)
	if !ok || len(prog) != len(countProgram) {
		t.Fatalf("the counter's filter does not disassemble completely (%d of %d)", len(prog), len(countProgram))
	}
	if prog[0] != (bpf.LoadExtension{Num: bpf.ExtType}) {
		t.Errorf("first instruction %v, want the packet-type load", prog[0])
	}
}
