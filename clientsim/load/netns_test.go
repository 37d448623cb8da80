package load

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server"
	"d6lab/server/lease"
	"d6lab/sim/netns"
	"d6lab/transport"
)

// The multicast path the lab uses: the generator's socket in a clients
// namespace, Run called from outside it with a numeric zone, d6lab's
// server serving ff02::1:2 in another namespace on the same link.
var _ = Describe("Run over a two-namespace link", Label("netns"), func() {
	It("completes four-message exchanges by multicast with no drops", func() {
		if os.Geteuid() != 0 {
			Skip("needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) for network namespaces")
		}
		link := netip.MustParsePrefix("2001:db8:1::/64")
		lab, err := netns.Create(netns.Spec{
			Prefix:  netns.NewPrefix(),
			Link:    link,
			Nodes:   []netns.NodeSpec{{Name: "srv", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::fffe/64")}}},
			Clients: netns.NodeSpec{Name: "clients"},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(lab.Teardown)

		var sconn *transport.UDP
		Expect(lab.Do("srv", func() (err error) {
			sconn, err = transport.ListenUDP(lab.IfName("srv"), transport.ServerPort, transport.AllServersPort.Addr())
			return err
		})).To(Succeed())
		srv, err := server.New(serverConfig(), lease.NewMemory())
		Expect(err).NotTo(HaveOccurred())
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- server.Serve(ctx, sconn, srv, time.Now) }()
		DeferCleanup(func() { cancel(); sconn.Close(); <-served })

		var conn *net.UDPConn
		Expect(lab.Do("clients", func() (err error) {
			conn, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: transport.ClientPort, Zone: lab.IfName("clients")})
			return err
		})).To(Succeed())
		defer conn.Close()

		cfg := Config{Clients: 100, Seed: 3, Exchange: FourMessage, NA: true, PD: true, Renew: 0.5,
			Interface: strconv.Itoa(lab.IfIndex("clients")), Rate: 500, Count: 300, Timeout: 2 * time.Second}
		res, err := Run(context.Background(), conn, cfg, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Config.Server.Addr().WithZone("")).To(Equal(AllServers))
		Expect(res.Stats.Completed).To(BeEquivalentTo(300))
		Expect(res.Stats.Dropped + res.Stats.Failed + res.Stats.SendErrors + res.Stats.Malformed).To(BeZero())
		Expect(res.PerKind["renew"].Completed).To(Equal(res.PerKind["renew"].Sent))
		Expect(res.PerKind["renew"].Sent).To(BeNumerically(">", 0))
	})
})
