package capture

import (
	"net"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// frame serializes an Ethernet frame carrying an IPv6 (or IPv4) packet
// with the given transport layer.
func frame(t *testing.T, v4 bool, l4 gopacket.SerializableLayer, setNet func(gopacket.NetworkLayer)) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{0x33, 0x33, 0, 1, 0, 2}}
	var ip gopacket.SerializableLayer
	if v4 {
		eth.EthernetType = layers.EthernetTypeIPv4
		ip4 := &layers.IPv4{Version: 4, TTL: 1, SrcIP: net.IPv4(192, 0, 2, 1), DstIP: net.IPv4(192, 0, 2, 2)}
		switch l := l4.(type) {
		case *layers.UDP:
			ip4.Protocol = layers.IPProtocolUDP
			setNet(ip4)
		case *layers.ICMPv6:
			_ = l
			ip4.Protocol = layers.IPProtocolICMPv4
		}
		ip = ip4
	} else {
		eth.EthernetType = layers.EthernetTypeIPv6
		ip6 := &layers.IPv6{Version: 6, HopLimit: 1, SrcIP: net.ParseIP("fe80::1"), DstIP: net.ParseIP("ff02::1:2")}
		switch l4.(type) {
		case *layers.UDP:
			ip6.NextHeader = layers.IPProtocolUDP
		case *layers.ICMPv6:
			ip6.NextHeader = layers.IPProtocolICMPv6
		}
		setNet(ip6)
		ip = ip6
	}
	buf := gopacket.NewSerializeBuffer()
	opts := gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}
	if err := gopacket.SerializeLayers(buf, opts, eth, ip, l4, gopacket.Payload("hello")); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDHCPv6Filter(t *testing.T) {
	vm, err := bpf.NewVM(mustDisassemble(t))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		v4   bool
		l4   func() gopacket.SerializableLayer
		want bool
	}{
		{"client to server 546>547", false, udp(546, 547), true},
		{"server to client 547>546", false, udp(547, 546), true},
		{"relay to server 547>547", false, udp(547, 547), true},
		{"any port to 547", false, udp(40000, 547), true},
		{"any port to 546", false, udp(40000, 546), true},
		{"546 to any port", false, udp(546, 40000), true},
		{"other UDP", false, udp(40000, 9999), false},
		{"ICMPv6 neighbour solicitation", false, func() gopacket.SerializableLayer {
			return &layers.ICMPv6{TypeCode: layers.CreateICMPv6TypeCode(layers.ICMPv6TypeNeighborSolicitation, 0)}
		}, false},
		{"IPv4 UDP 546>547", true, udp(546, 547), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l4 := c.l4()
			data := frame(t, c.v4, l4, func(n gopacket.NetworkLayer) {
				switch l := l4.(type) {
				case *layers.UDP:
					_ = l.SetNetworkLayerForChecksum(n)
				case *layers.ICMPv6:
					_ = l.SetNetworkLayerForChecksum(n)
				}
			})
			n, err := vm.Run(data)
			if err != nil {
				t.Fatal(err)
			}
			if got := n > 0; got != c.want {
				t.Errorf("filter accepted=%v (returned %d), want %v", got, n, c.want)
			}
		})
	}
}

func udp(src, dst layers.UDPPort) func() gopacket.SerializableLayer {
	return func() gopacket.SerializableLayer { return &layers.UDP{SrcPort: src, DstPort: dst} }
}

func mustDisassemble(t *testing.T) []bpf.Instruction {
	t.Helper()
	prog, ok := bpf.Disassemble(dhcpv6Filter)
	if !ok {
		t.Fatal("filter does not disassemble completely")
	}
	return prog
}
