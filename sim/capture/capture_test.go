package capture_test

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/capture"
	"d6lab/sim/netns"
)

var allServers = netip.MustParseAddr("ff02::1:2")

func requireRoot() {
	if os.Geteuid() != 0 {
		Skip("needs root (CAP_NET_ADMIN, CAP_NET_RAW): network namespaces and AF_PACKET sockets")
	}
}

// newLab builds clients + one server on 2001:db8:1::/64 and registers its
// teardown.
func newLab() *netns.Lab {
	lab, err := netns.Create(netns.Spec{
		Prefix: netns.NewPrefix(),
		Link:   netip.MustParsePrefix("2001:db8:1::/64"),
		Clients: netns.NodeSpec{Name: "clients", Addrs: []netip.Prefix{
			netip.MustParsePrefix("2001:db8:1::100/64"),
		}},
		Nodes: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::1/64")}},
		},
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(lab.Teardown()).To(Succeed()) })
	return lab
}

// send writes each payload from the clients' namespace to ff02::1:2 on
// port, from one socket bound to srcPort (0: any).
func send(lab *netns.Lab, srcPort, port int, payloads ...string) {
	sendFrom(lab, "clients", srcPort, port, payloads...)
}

// sendFrom is send from node's namespace.
func sendFrom(lab *netns.Lab, node string, srcPort, port int, payloads ...string) {
	dst := netip.AddrPortFrom(allServers.WithZone(lab.IfName(node)), uint16(port))
	Expect(lab.Do(node, func() error {
		c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: srcPort})
		if err != nil {
			return err
		}
		defer c.Close()
		for _, p := range payloads {
			if _, err := c.WriteToUDPAddrPort([]byte(p), dst); err != nil {
				return err
			}
		}
		return nil
	})).To(Succeed())
}

// datagram is one UDP packet read back from a pcap.
type datagram struct {
	src, dst netip.Addr
	sport    layers.UDPPort
	dport    layers.UDPPort
	payload  string
}

// readBack decodes every packet of the pcap at path as Ethernet/IPv6/UDP.
func readBack(path string) []datagram {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	r, err := pcapgo.NewReader(f)
	Expect(err).NotTo(HaveOccurred())
	Expect(r.LinkType()).To(Equal(layers.LinkTypeEthernet))
	Expect(r.Snaplen()).To(BeEquivalentTo(capture.Snaplen))
	var out []datagram
	for {
		data, _, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		// Our payloads are not DHCPv6 messages, so gopacket's DHCPv6
		// decoder (ports 546/547) fails above UDP: only the layers up to
		// UDP are checked.
		ip, ok := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		Expect(ok).To(BeTrue(), "not IPv6: %v", pkt)
		udp, ok := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		Expect(ok).To(BeTrue(), "not UDP: %v", pkt)
		src, _ := netip.AddrFromSlice(ip.SrcIP)
		dst, _ := netip.AddrFromSlice(ip.DstIP)
		out = append(out, datagram{src: src, dst: dst, sport: udp.SrcPort, dport: udp.DstPort, payload: string(udp.Payload)})
	}
}

var _ = Describe("Capture", Label("netns"), func() {
	var (
		lab *netns.Lab
		dir string
	)
	BeforeEach(func() {
		requireRoot()
		lab = newLab()
		dir = GinkgoT().TempDir()
	})

	It("writes the clients' DHCPv6 datagrams, and only those, to a pcap", func() {
		path := filepath.Join(dir, "clients.pcap")
		c, err := capture.Start(lab, "clients", path, 1<<20)
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Path()).To(Equal(path))

		send(lab, 546, 547, "solicit-1", "solicit-2", "solicit-3")
		send(lab, 0, 9999, "not-dhcpv6") // the filter keeps it out
		send(lab, 0, 547, "from-any-port")

		st, err := c.Stop()
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Packets).To(BeEquivalentTo(4))
		Expect(st.DroppedByCap).To(BeZero())
		fi, err := os.Stat(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Size()).To(Equal(st.Bytes))

		got := readBack(path)
		Expect(got).To(HaveLen(4))
		for i, want := range []string{"solicit-1", "solicit-2", "solicit-3"} {
			Expect(got[i].payload).To(Equal(want))
			Expect(got[i].sport).To(Equal(layers.UDPPort(546)))
			Expect(got[i].dport).To(Equal(layers.UDPPort(547)))
			Expect(got[i].dst).To(Equal(allServers))
			Expect(got[i].src).To(Equal(lab.LinkLocal("clients")))
		}
		Expect(got[3].payload).To(Equal("from-any-port"))
		Expect(got[3].dport).To(Equal(layers.UDPPort(547)))

		_, err = c.Stop()
		Expect(err).To(MatchError(ContainSubstring("already stopped")))
	})

	It("stops writing at the size cap and counts the rest", func() {
		path := filepath.Join(dir, "capped.pcap")
		payload := strings.Repeat("x", 100)
		// Each record: 16 (record header) + 14 + 40 + 8 + 100 = 178 bytes;
		// the 24-byte file header plus two records fit in 400, three do not.
		const limit = 400
		c, err := capture.Start(lab, "clients", path, limit)
		Expect(err).NotTo(HaveOccurred())
		payloads := make([]string, 10)
		for i := range payloads {
			payloads[i] = payload
		}
		send(lab, 546, 547, payloads...)
		st, err := c.Stop()
		Expect(err).NotTo(HaveOccurred())
		Expect(st.Packets).To(BeEquivalentTo(2))
		Expect(st.DroppedByCap).To(BeEquivalentTo(8))
		Expect(st.Bytes).To(BeEquivalentTo(24 + 2*178))

		fi, err := os.Stat(path)
		Expect(err).NotTo(HaveOccurred())
		Expect(fi.Size()).To(BeNumerically("<=", limit))
		Expect(fi.Size()).To(Equal(st.Bytes))
		Expect(readBack(path)).To(HaveLen(2))
	})

	It("refuses an unknown node and a cap below the file header", func() {
		_, err := capture.Start(lab, "nobody", filepath.Join(dir, "x.pcap"), 1<<20)
		Expect(err).To(MatchError(netns.ErrUnknownNode))
		_, err = capture.Start(lab, "clients", filepath.Join(dir, "y.pcap"), 10)
		Expect(err).To(MatchError(ContainSubstring("below")))
	})
})
