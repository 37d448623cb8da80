package daemon

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/lease"
	"d6lab/sim/netns"
	"d6lab/transport"
)

// Each third-party kind, started in a two-namespace lab, leases an address
// from its pool to one client and lists it in its lease file.
var _ = Describe("a third-party server in a lab", Label("thirdparty", "netns"), func() {
	for _, k := range []deploy.Kind{deploy.Kea, deploy.Dhcpd, deploy.Dnsmasq, deploy.Wide, deploy.CoreDHCP} {
		for _, pref := range []uint8{255, 128} {
			It(fmt.Sprintf("%s, Preference %d: Solicit, Advertise, Request, Reply, then the binding in Leases", k, pref), func() {
				exchangeSpec(k, pref)
			})
		}
	}
})

var labLink = netip.MustParsePrefix("2001:db8:d6::/64")

func exchangeSpec(k deploy.Kind, pref uint8) {
	if os.Geteuid() != 0 {
		Skip("needs root (CAP_NET_ADMIN)")
	}
	a, err := Lookup(k)
	Expect(err).NotTo(HaveOccurred())
	if err := a.Installed(); err != nil {
		Skip(err.Error())
	}
	srvAddr := netip.PrefixFrom(netip.MustParseAddr("2001:db8:d6::fdff:ffff:ffff:ff81"), 64)
	lab, err := netns.Create(netns.Spec{
		Prefix:  netns.NewPrefix(),
		Link:    labLink,
		Nodes:   []netns.NodeSpec{{Name: "srv", Addrs: []netip.Prefix{srvAddr}}},
		Clients: netns.NodeSpec{Name: "clients"},
	})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(lab.Teardown)

	pool, err := alloc.NewPool(netip.MustParseAddr("2001:db8:d6::1000"), netip.MustParseAddr("2001:db8:d6::1fff"))
	Expect(err).NotTo(HaveOccurred())
	cfg := server.DefaultConfig()
	cfg.Prefix, cfg.Pool, cfg.Preference = labLink, pool, pref
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = 10*time.Second, 16*time.Second, 20*time.Second, 30*time.Second
	if k == deploy.CoreDHCP {
		// coredhcp's one dynamic allocator is its prefix plugin.
		cfg.PDPool, err = alloc.NewPrefixPool(netip.MustParsePrefix("2001:db8:d6:100::/56"), 64)
		Expect(err).NotTo(HaveOccurred())
	}
	dir := GinkgoT().TempDir()
	inst, err := Prepare(k, Spec{
		Name: "s1", Dir: dir, IfName: lab.IfName("srv"), Addrs: lab.Addrs("srv"),
		MAC: net.HardwareAddr{0x02, 0xd6, 0x1a, 0xb0, 0x00, 0x01}, Config: cfg,
	})
	Expect(err).NotTo(HaveOccurred())
	logPath := filepath.Join(dir, "server.log")
	proc, err := lab.Start("srv", inst.Command(), logPath)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = lab.Kill(proc) })
	serverLog := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	Eventually(func() (bool, error) {
		if proc.Exited() {
			return false, StopTrying("server exited at start:\n" + serverLog())
		}
		return Listening(proc.PID)
	}).WithTimeout(10*time.Second).WithPolling(20*time.Millisecond).Should(BeTrue(), "not listening on :547:\n%s", serverLog())

	var conn *transport.UDP
	Expect(lab.Do("clients", func() (err error) {
		conn, err = transport.ListenUDP(lab.IfName("clients"), transport.ClientPort)
		return err
	})).To(Succeed())
	c := newTestClient(conn)
	defer c.close()

	clientMAC := net.HardwareAddr{0x02, 0xd6, 0xc1, 0x00, 0x00, 0x07}
	duid := &dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: clientMAC}
	sol, err := dhcpv6.NewSolicit(clientMAC, dhcpv6.WithClientID(duid))
	Expect(err).NotTo(HaveOccurred())
	if k == deploy.CoreDHCP {
		coreDHCPExchange(c, sol, inst, cfg, serverLog)
		Expect(lab.Kill(proc)).To(Succeed())
		return
	}
	adv := c.exchange(sol, dhcpv6.MessageTypeAdvertise)
	Expect(adv).NotTo(BeNil(), "no Advertise in 4s; server log:\n%s", serverLog())
	GinkgoWriter.Printf("%s Advertise: %s\n", k, adv.Summary())
	if sid := adv.Options.ServerID(); inst.DUID != nil {
		Expect(sid).NotTo(BeNil())
		Expect(sid.ToBytes()).To(Equal(inst.DUID), "Server ID is the configured DUID")
	}
	// The client's Option Request option names DNS servers and the domain
	// search list only: Preference must come unasked (RFC 9915 §18.3.9).
	Expect(adv.GetOneOption(dhcpv6.OptionPreference)).NotTo(BeNil(), "no Preference option in the Advertise")
	want := pref
	if k == deploy.Dnsmasq && pref != 255 {
		want = 0 // dnsmasq sends 255 or 0 (see its Notes)
	}
	Expect(adv.Options.Preference()).To(Equal(want), "Preference in the Advertise")
	req, err := dhcpv6.NewRequestFromAdvertise(adv)
	Expect(err).NotTo(HaveOccurred())
	reply := c.exchange(req, dhcpv6.MessageTypeReply)
	Expect(reply).NotTo(BeNil(), "no Reply in 4s; server log:\n%s", serverLog())
	GinkgoWriter.Printf("%s Reply: %s\n", k, reply.Summary())
	ia := reply.Options.OneIANA()
	Expect(ia).NotTo(BeNil())
	addrs := ia.Options.Addresses()
	Expect(addrs).NotTo(BeEmpty(), "no address in the Reply's IA_NA: %s", reply.Summary())
	got, _ := netip.AddrFromSlice(addrs[0].IPv6Addr)
	Expect(pool.Contains(got)).To(BeTrue(), "address %s outside the pool %s", got, pool)

	iaid := ia.IaId
	if inst.LeaseFile == "" {
		// wide: no lease file to read.
		_, err := inst.Leases()
		Expect(errors.Is(err, ErrUnsupported)).To(BeTrue(), "Leases without a lease file: %v", err)
		Expect(lab.Kill(proc)).To(Succeed())
		return
	}
	var bindings []lease.Binding
	Eventually(func() ([]lease.Binding, error) {
		bindings, err = inst.Leases()
		return bindings, err
	}).WithTimeout(3*time.Second).WithPolling(50*time.Millisecond).ShouldNot(BeEmpty(), "lease file %s", inst.LeaseFile)
	if b, err := os.ReadFile(inst.LeaseFile); err == nil {
		GinkgoWriter.Printf("%s lease file:\n%s\n", k, b)
	}
	Expect(bindings).To(HaveLen(1))
	b := bindings[0]
	Expect(b.Lease).To(Equal(netip.PrefixFrom(got, 128)))
	Expect(b.DUID).To(Equal(duid.ToBytes()))
	Expect(b.IAID).To(Equal(uint32(iaid[0])<<24 | uint32(iaid[1])<<16 | uint32(iaid[2])<<8 | uint32(iaid[3])))
	Expect(lab.Kill(proc)).To(Succeed())
}

// coreDHCPExchange: coredhcp has no dynamic IA_NA pool and no Preference
// option (its Notes say so), so the exchange asks for IA_NA and IA_PD and
// checks what coredhcp does: an Advertise with the configured Server ID, no
// Preference, no address for the client the static file does not list, and
// a prefix from the PD pool, which the Reply to the Request confirms.
func coreDHCPExchange(c *testClient, sol *dhcpv6.Message, inst *Instance, cfg server.Config, serverLog func() string) {
	iaid := [4]byte{0, 0, 0, 7}
	sol.AddOption(&dhcpv6.OptIAPD{IaId: iaid})
	adv := c.exchange(sol, dhcpv6.MessageTypeAdvertise)
	Expect(adv).NotTo(BeNil(), "no Advertise in 4s; server log:\n%s", serverLog())
	GinkgoWriter.Printf("coredhcp Advertise: %s\n", adv.Summary())
	Expect(adv.Options.ServerID().ToBytes()).To(Equal(inst.DUID), "Server ID is the configured DUID")
	Expect(adv.GetOneOption(dhcpv6.OptionPreference)).To(BeNil(), "coredhcp sent a Preference option: update its Notes")
	if ia := adv.Options.OneIANA(); ia != nil {
		Expect(ia.Options.Addresses()).To(BeEmpty(), "an address for a client the static file does not list")
	}
	pd := adv.Options.OneIAPD()
	Expect(pd).NotTo(BeNil(), "no IA_PD in the Advertise: %s", adv.Summary())
	Expect(pd.Options.Prefixes()).NotTo(BeEmpty(), "no prefix in the Advertise's IA_PD: %s", adv.Summary())
	offered := pd.Options.Prefixes()[0].Prefix
	got, ok := netip.AddrFromSlice(offered.IP)
	Expect(ok).To(BeTrue())
	bits, _ := offered.Mask.Size()
	Expect(cfg.PDPool.Contains(netip.PrefixFrom(got.Unmap(), bits))).To(BeTrue(), "prefix %s outside the PD pool %s", offered, cfg.PDPool)

	// Request (RFC 9915 §18.2.2): Client ID, the Advertise's Server ID and
	// its IA_PD (NewRequestFromAdvertise wants an IA_NA, which there is not).
	req, err := dhcpv6.NewMessage()
	Expect(err).NotTo(HaveOccurred())
	req.MessageType = dhcpv6.MessageTypeRequest
	req.AddOption(dhcpv6.OptClientID(sol.Options.ClientID()))
	req.AddOption(dhcpv6.OptServerID(adv.Options.ServerID()))
	req.AddOption(pd)
	reply := c.exchange(req, dhcpv6.MessageTypeReply)
	Expect(reply).NotTo(BeNil(), "no Reply in 4s; server log:\n%s", serverLog())
	GinkgoWriter.Printf("coredhcp Reply: %s\n", reply.Summary())
	rpd := reply.Options.OneIAPD()
	Expect(rpd).NotTo(BeNil(), "no IA_PD in the Reply: %s", reply.Summary())
	Expect(rpd.Options.Prefixes()).NotTo(BeEmpty())
	Expect(rpd.Options.Prefixes()[0].Prefix.String()).To(Equal(offered.String()), "the Reply confirms the prefix offered")

	_, err = inst.Leases()
	Expect(errors.Is(err, ErrUnsupported)).To(BeTrue(), "coredhcp keeps no lease file: %v", err)
}

// testClient sends client messages to All_DHCP_Relay_Agents_and_Servers and
// collects the answers.
type testClient struct {
	conn *transport.UDP
	in   chan *dhcpv6.Message
}

func newTestClient(conn *transport.UDP) *testClient {
	c := &testClient{conn: conn, in: make(chan *dhcpv6.Message, 16)}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, _, err := conn.ReadFrom(buf)
			if err != nil {
				close(c.in)
				return
			}
			if m, err := dhcpv6.MessageFromBytes(buf[:n]); err == nil {
				c.in <- m
			}
		}
	}()
	return c
}

func (c *testClient) close() { c.conn.Close() }

// exchange sends m (once a second, up to 4 times) and returns the first
// answer of type want with m's transaction ID, or nil.
func (c *testClient) exchange(m *dhcpv6.Message, want dhcpv6.MessageType) *dhcpv6.Message {
	deadline := time.After(4 * time.Second)
	for {
		_, err := c.conn.WriteTo(m.ToBytes(), transport.AllServersPort)
		Expect(err).NotTo(HaveOccurred())
		tick := time.After(time.Second)
	wait:
		for {
			select {
			case r, ok := <-c.in:
				if !ok {
					return nil
				}
				if r.MessageType == want && r.TransactionID == m.TransactionID {
					return r
				}
			case <-tick:
				break wait
			case <-deadline:
				return nil
			}
		}
	}
}
