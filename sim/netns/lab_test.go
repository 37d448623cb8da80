package netns_test

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	vnetns "github.com/vishvananda/netns"
	"golang.org/x/net/ipv6"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/netaddr6"
	"d6lab/sim/netns"
)

var allServers = netip.MustParseAddr("ff02::1:2")

func requireRoot() {
	if os.Geteuid() != 0 {
		Skip("needs root (CAP_NET_ADMIN): network namespaces, veth and bridges")
	}
}

func spec(prefix string) netns.Spec {
	return netns.Spec{
		Prefix: prefix,
		Link:   netip.MustParsePrefix("2001:db8:1::/64"),
		Clients: netns.NodeSpec{Name: "clients", Addrs: []netip.Prefix{
			netip.MustParsePrefix("2001:db8:1::100/64"),
		}},
		Nodes: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:1::1/64")}},
			{Name: "srv2", Addrs: []netip.Prefix{
				netip.MustParsePrefix("2001:db8:1::2/64"),
				netip.MustParsePrefix("fd00:2::2/64"),
			}},
		},
	}
}

// newLab creates a lab and registers its teardown.
func newLab(s netns.Spec) *netns.Lab {
	lab, err := netns.Create(s)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { Expect(lab.Teardown()).To(Succeed()) })
	return lab
}

// listen opens a UDP socket on port inside node, joined to ff02::1:2 on
// the node's link interface.
func listen(lab *netns.Lab, node string, port int) *net.UDPConn {
	var c *net.UDPConn
	Expect(lab.Do(node, func() error {
		var err error
		c, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: port})
		if err != nil {
			return err
		}
		ifi, err := net.InterfaceByIndex(lab.IfIndex(node))
		if err != nil {
			return err
		}
		return ipv6.NewPacketConn(c).JoinGroup(ifi, &net.UDPAddr{IP: allServers.AsSlice()})
	})).To(Succeed())
	DeferCleanup(c.Close)
	return c
}

// send writes payload from node to dst (link-scoped destinations get the
// node's interface as zone) from a fresh socket.
func send(lab *netns.Lab, node string, dst netip.AddrPort, payload string) {
	a := dst.Addr()
	if a.IsLinkLocalMulticast() || a.IsLinkLocalUnicast() {
		a = a.WithZone(lab.IfName(node)) // resolved inside Do: the node's namespace
	}
	Expect(lab.Do(node, func() error {
		c, err := net.ListenUDP("udp6", nil)
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.WriteToUDPAddrPort([]byte(payload), netip.AddrPortFrom(a, dst.Port()))
		return err
	})).To(Succeed())
}

// receive reads datagrams until want arrives or wait passes; it returns the
// sender of want.
func receive(c *net.UDPConn, want string, wait time.Duration) (netip.AddrPort, bool) {
	buf := make([]byte, 2048)
	Expect(c.SetReadDeadline(time.Now().Add(wait))).To(Succeed())
	for {
		n, src, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return netip.AddrPort{}, false
		}
		if string(buf[:n]) == want {
			return src, true
		}
	}
}

// count reads datagrams starting with tag until wait passes with none.
func count(c *net.UDPConn, tag string, wait time.Duration) int {
	buf := make([]byte, 2048)
	n := 0
	for {
		Expect(c.SetReadDeadline(time.Now().Add(wait))).To(Succeed())
		m, _, err := c.ReadFromUDPAddrPort(buf)
		if err != nil {
			return n
		}
		if strings.HasPrefix(string(buf[:m]), tag) {
			n++
		}
	}
}

var tokens int

func token() string {
	tokens++
	return fmt.Sprintf("tok-%d-%d", os.Getpid(), tokens)
}

// reachesAll multicasts a fresh token from the clients and reports which
// listeners got it. Everything that should arrive arrives within `yes`;
// the others get `no` more to prove absence.
func multicast(lab *netns.Lab, listeners map[string]*net.UDPConn) map[string]bool {
	tok := token()
	send(lab, "clients", netip.AddrPortFrom(allServers, 547), tok)
	got := map[string]bool{}
	for name, c := range listeners {
		_, got[name] = receive(c, tok, time.Second)
	}
	return got
}

func hostLinks(prefix string) []string {
	links, err := netlink.LinkList()
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, l := range links {
		if strings.HasPrefix(l.Attrs().Name, prefix) {
			out = append(out, l.Attrs().Name)
		}
	}
	return out
}

func namespacesWith(prefix string) []string {
	entries, err := os.ReadDir("/run/netns")
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	Expect(err).NotTo(HaveOccurred())
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}

func inode(path string) uint64 {
	var st syscall.Stat_t
	Expect(syscall.Stat(path, &st)).To(Succeed())
	return st.Ino
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return fields[0]
}

// groupStates lists "pid:state" for each process of process group pgid.
func groupStates(pgid int) []string {
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		if f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]); f[2] == strconv.Itoa(pgid) {
			out = append(out, e.Name()+":"+f[0])
		}
	}
	return out
}

var _ = Describe("Lab", Label("netns"), func() {
	BeforeEach(requireRoot)

	Describe("topology", func() {
		var (
			lab      *netns.Lab
			prefix   string
			srv1     *net.UDPConn
			srv2     *net.UDPConn
			servers  map[string]*net.UDPConn
			allHeard = map[string]bool{"srv1": true, "srv2": true}
		)
		BeforeEach(func() {
			prefix = netns.NewPrefix()
			lab = newLab(spec(prefix))
			srv1 = listen(lab, "srv1", 547)
			srv2 = listen(lab, "srv2", 547)
			servers = map[string]*net.UDPConn{"srv1": srv1, "srv2": srv2}
		})

		It("makes prefixed namespaces and nothing in the host namespace", func() {
			Expect(namespacesWith(prefix)).To(ConsistOf(
				prefix+"-link", prefix+"-clients", prefix+"-srv1", prefix+"-srv2"))
			Expect(hostLinks(prefix)).To(BeEmpty())
			Expect(lab.Namespace("srv1")).To(Equal(prefix + "-srv1"))
			for _, n := range lab.Nodes() {
				Expect(lab.IfName(n)).To(HavePrefix(prefix + "-"))
				Expect(len(lab.IfName(n))).To(BeNumerically("<=", 15))
			}
			Expect(lab.Nodes()).To(Equal([]string{"clients", "srv1", "srv2"}))
			// Deterministic MACs give deterministic link-locals.
			Expect(lab.LinkLocal("clients")).To(Equal(netip.MustParseAddr("fe80::d6:ff:fe00:1")))
			Expect(lab.LinkLocal("srv2")).To(Equal(netip.MustParseAddr("fe80::d6:ff:fe00:3")))
			Expect(lab.MAC("srv2").String()).To(Equal("02:d6:00:00:00:03"))
			Expect(netaddr6.LinkLocal([6]byte(lab.MAC("clients")))).To(Equal(lab.LinkLocal("clients")))
			Expect(lab.MAC("nosuch")).To(BeNil())
			Expect(lab.IfName("nosuch")).To(BeEmpty())
			Expect(lab.Do("nosuch", func() error { return nil })).To(MatchError(netns.ErrUnknownNode))
		})

		It("carries a client's multicast to ff02::1:2 to every server, from its link-local", func() {
			tok := token()
			send(lab, "clients", netip.AddrPortFrom(allServers, 547), tok)
			for _, c := range []*net.UDPConn{srv1, srv2} {
				src, ok := receive(c, tok, 2*time.Second)
				Expect(ok).To(BeTrue())
				Expect(src.Addr().WithZone("")).To(Equal(lab.LinkLocal("clients")))
			}
		})

		It("carries unicast between global addresses both ways", func() {
			tok := token()
			send(lab, "clients", netip.MustParseAddrPort("[2001:db8:1::2]:547"), tok)
			src, ok := receive(srv2, tok, 2*time.Second)
			Expect(ok).To(BeTrue())
			Expect(src.Addr()).To(Equal(netip.MustParseAddr("2001:db8:1::100")))
			_, ok = receive(srv1, tok, 100*time.Millisecond)
			Expect(ok).To(BeFalse(), "unicast to srv2 must not reach srv1")

			client := listen(lab, "clients", 546)
			tok = token()
			send(lab, "srv1", netip.MustParseAddrPort("[2001:db8:1::100]:546"), tok)
			src, ok = receive(client, tok, 2*time.Second)
			Expect(ok).To(BeTrue())
			Expect(src.Addr()).To(Equal(netip.MustParseAddr("2001:db8:1::1")))
			// The second prefix on srv2 works as well.
			tok = token()
			send(lab, "srv2", netip.AddrPortFrom(lab.LinkLocal("clients"), 546), tok)
			_, ok = receive(client, tok, 2*time.Second)
			Expect(ok).To(BeTrue())
		})

		It("keeps a socket made inside Do in the node's namespace", func() {
			var c *net.UDPConn
			Expect(lab.Do("srv1", func() error {
				var err error
				c, err = net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP("2001:db8:1::1"), Port: 5000})
				return err
			})).To(Succeed())
			DeferCleanup(c.Close)
			// The address exists only in srv1's namespace; binding it
			// here (the host) fails.
			_, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP("2001:db8:1::1"), Port: 5000})
			Expect(err).To(HaveOccurred())
			// Used from this goroutine, outside Do, it still receives.
			tok := token()
			send(lab, "clients", netip.MustParseAddrPort("[2001:db8:1::1]:5000"), tok)
			_, ok := receive(c, tok, 2*time.Second)
			Expect(ok).To(BeTrue())
		})

		It("re-raises a panic from Do in the caller", func() {
			Expect(func() {
				_ = lab.Do("srv1", func() error { panic("boom") })
			}).To(PanicWith("boom"))
			Expect(lab.Do("srv1", func() error { return errors.New("fn failed") })).To(MatchError("fn failed"))
		})

		It("cuts a node off the link and heals it", func() {
			Expect(multicast(lab, servers)).To(Equal(allHeard))

			Expect(lab.Cut("srv2")).To(Succeed())
			tok := token()
			send(lab, "clients", netip.AddrPortFrom(allServers, 547), tok)
			_, ok := receive(srv1, tok, 2*time.Second)
			Expect(ok).To(BeTrue(), "srv1 is still on the link")
			_, ok = receive(srv2, tok, 300*time.Millisecond)
			Expect(ok).To(BeFalse(), "srv2 is cut off")
			// Its addresses survive the cut (a pulled cable, not ifdown).
			Expect(lab.Do("srv2", func() error {
				c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.ParseIP("2001:db8:1::2"), Port: 5001})
				if err == nil {
					c.Close()
				}
				return err
			})).To(Succeed())

			Expect(lab.Heal("srv2")).To(Succeed())
			Expect(multicast(lab, servers)).To(Equal(allHeard))
		})

		It("drops UDP with nftables loss and restores it", func() {
			Expect(lab.Impair("srv1", 1.0, 0)).To(Succeed())
			// The table is in srv1's namespace and named with the prefix.
			fd, err := os.Open("/run/netns/" + lab.Namespace("srv1"))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(fd.Close)
			nft, err := nftables.New(nftables.WithNetNSFd(int(fd.Fd())))
			Expect(err).NotTo(HaveOccurred())
			tables, err := nft.ListTables()
			Expect(err).NotTo(HaveOccurred())
			Expect(tables).To(HaveLen(1))
			Expect(tables[0].Name).To(Equal(prefix))
			Expect(tables[0].Family).To(Equal(nftables.TableFamilyNetdev), "silent loss on ingress/egress")

			tag := token()
			for i := range 20 {
				send(lab, "clients", netip.MustParseAddrPort("[2001:db8:1::1]:547"), fmt.Sprintf("%s-%d", tag, i))
				send(lab, "clients", netip.MustParseAddrPort("[2001:db8:1::2]:547"), fmt.Sprintf("%s-%d", tag, i))
			}
			Expect(count(srv2, tag, 500*time.Millisecond)).To(Equal(20), "the unimpaired server hears all")
			Expect(count(srv1, tag, 200*time.Millisecond)).To(Equal(0), "loss 1.0 drops every datagram in")
			client := listen(lab, "clients", 546)
			tag = token()
			for i := range 20 {
				send(lab, "srv1", netip.MustParseAddrPort("[2001:db8:1::100]:546"), fmt.Sprintf("%s-%d", tag, i))
			}
			Expect(count(client, tag, 300*time.Millisecond)).To(Equal(0), "and every datagram out")

			Expect(lab.Impair("srv1", 0, 0)).To(Succeed())
			tables, err = nft.ListTables()
			Expect(err).NotTo(HaveOccurred())
			Expect(tables).To(BeEmpty())
			Expect(multicast(lab, servers)).To(Equal(allHeard))
		})

		It("drops about the asked share with a partial loss", func() {
			Expect(lab.Impair("srv1", 0.5, 0)).To(Succeed())
			tag := token()
			got := make(chan int, 1)
			go func() { got <- count(srv1, tag, 500*time.Millisecond) }()
			for i := range 200 {
				send(lab, "clients", netip.MustParseAddrPort("[2001:db8:1::1]:547"), fmt.Sprintf("%s-%d", tag, i))
			}
			// Binomial(200, 0.5): 100 ± 7; 50..150 fails once in ~10^12.
			Eventually(got, 5*time.Second).Should(Receive(BeNumerically("~", 100, 50)))
			Expect(lab.Unimpair("srv1")).To(Succeed())
			Expect(lab.Unimpair("srv1")).To(Succeed(), "Unimpair is idempotent")
		})

		It("says clearly when delay needs netem and the kernel lacks it", func() {
			Expect(lab.Impair("srv1", 1.5, 0)).NotTo(Succeed())
			Expect(lab.Impair("srv1", -0.1, 0)).NotTo(Succeed())
			err := lab.Impair("srv1", 0.5, 10*time.Millisecond)
			if lab.NetemAvailable() == nil {
				Expect(err).NotTo(HaveOccurred())
				Expect(lab.Unimpair("srv1")).To(Succeed())
				return
			}
			Expect(err).To(MatchError(netns.ErrNoNetem))
			Expect(err.Error()).To(ContainSubstring("CONFIG_NET_SCH_NETEM"))
			// Nothing was applied: the loss part did not go in either.
			Expect(multicast(lab, servers)).To(Equal(allHeard))
			// The probe left no scratch link behind.
			Expect(lab.Do("srv1", func() error { return nil })).To(Succeed())
		})
	})

	Describe("processes", func() {
		var (
			lab    *netns.Lab
			prefix string
			logs   string
		)
		BeforeEach(func() {
			prefix = netns.NewPrefix()
			lab = newLab(spec(prefix))
			logs = GinkgoT().TempDir()
		})

		It("starts a real process inside the node's namespace, freezes, thaws and kills it", func() {
			p, err := lab.Start("srv1", []string{"sleep", "60"}, filepath.Join(logs, "sleep.log"))
			Expect(err).NotTo(HaveOccurred())
			Expect(p.PID).To(BeNumerically(">", 0))
			Expect(inode(fmt.Sprintf("/proc/%d/ns/net", p.PID))).To(Equal(inode("/run/netns/" + prefix + "-srv1")))
			Expect(inode(fmt.Sprintf("/proc/%d/ns/net", p.PID))).NotTo(Equal(inode("/proc/self/ns/net")))

			Expect(lab.Freeze(p)).To(Succeed())
			Expect(procState(p.PID)).To(Equal("T"))
			Expect(lab.Thaw(p)).To(Succeed())
			Eventually(func() string { return procState(p.PID) }).Should(Equal("S"))

			Expect(lab.Kill(p)).To(Succeed())
			Expect(p.Done()).To(BeClosed())
			Expect(p.Exited()).To(BeTrue())
			Expect(p.Wait()).To(MatchError(ContainSubstring("killed")))
			Expect(procState(p.PID)).To(Equal("gone"), "reaped, not a zombie")
			Expect(lab.Freeze(p)).To(MatchError(os.ErrProcessDone))
			Expect(lab.Kill(p)).To(Succeed(), "killing a dead process is fine")
		})

		It("returns from Freeze only once every process of the group is stopped, busy ones too", func() {
			// Three busy children and the shell: a SIGSTOP is only queued by kill(2), and
			// on two cores some of them are not on a CPU to take it at once.
			p, err := lab.Start("srv1", []string{"sh", "-c", "for i in 1 2 3; do (while :; do :; done) & done; wait"},
				filepath.Join(logs, "busy.log"))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() { Expect(lab.Kill(p)).To(Succeed()) })
			Eventually(func() int { return len(groupStates(p.PID)) }).WithTimeout(10*time.Second).Should(Equal(4), "the shell and its three children")
			for range 20 {
				Expect(lab.Freeze(p)).To(Succeed())
				Expect(groupStates(p.PID)).To(HaveEach(HaveSuffix(":T")))
				Expect(lab.Thaw(p)).To(Succeed())
			}
		})

		It("sends output to the log and shows the process its namespace's interfaces", func() {
			log := filepath.Join(logs, "sub", "ifs.log")
			p, err := lab.Start("srv2", []string{"sh", "-c", "cat /proc/net/dev; echo to-stderr >&2; exit 3"}, log)
			Expect(err).NotTo(HaveOccurred())
			Expect(p.Wait()).To(MatchError(ContainSubstring("exit status 3")))
			out, err := os.ReadFile(log)
			Expect(err).NotTo(HaveOccurred())
			Expect(string(out)).To(ContainSubstring(lab.IfName("srv2") + ":"))
			Expect(string(out)).NotTo(ContainSubstring(lab.IfName("srv1") + ":"))
			Expect(string(out)).To(ContainSubstring("to-stderr"))
		})

		It("reports a command that cannot start", func() {
			_, err := lab.Start("srv1", []string{"/nonexistent/d6lab-binary"}, filepath.Join(logs, "x.log"))
			Expect(err).To(HaveOccurred())
			_, err = lab.Start("nosuch", []string{"true"}, filepath.Join(logs, "x.log"))
			Expect(err).To(MatchError(netns.ErrUnknownNode))
		})
	})

	Describe("teardown and clean", func() {
		It("leaves nothing behind, kills its processes and is idempotent", func() {
			prefix := netns.NewPrefix()
			lab, err := netns.Create(spec(prefix))
			Expect(err).NotTo(HaveOccurred())
			p, err := lab.Start("srv1", []string{"sleep", "60"}, filepath.Join(GinkgoT().TempDir(), "s.log"))
			Expect(err).NotTo(HaveOccurred())
			// A socket still open after Teardown keeps srv2's namespace
			// alive; its interfaces must go all the same.
			listen(lab, "srv2", 547)
			held, err := os.Open("/run/netns/" + prefix + "-srv2")
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(held.Close)
			left, err := netns.Leftovers()
			Expect(err).NotTo(HaveOccurred())
			Expect(left).To(ContainElement("netns " + prefix + "-link"))

			Expect(lab.Teardown()).To(Succeed())
			Expect(p.Done()).To(BeClosed())
			h, err := netlink.NewHandleAt(vnetns.NsHandle(held.Fd()))
			Expect(err).NotTo(HaveOccurred())
			defer h.Close()
			links, err := h.LinkList()
			Expect(err).NotTo(HaveOccurred())
			Expect(links).To(HaveLen(1))
			Expect(links[0].Attrs().Name).To(Equal("lo"))
			Expect(namespacesWith(prefix)).To(BeEmpty())
			Expect(hostLinks(prefix)).To(BeEmpty())
			left, err = netns.Leftovers()
			Expect(err).NotTo(HaveOccurred())
			for _, l := range left {
				Expect(l).NotTo(ContainSubstring(prefix))
			}
			Expect(lab.Teardown()).To(Succeed())
			Expect(lab.Do("srv1", func() error { return nil })).To(MatchError(netns.ErrTornDown))
			_, err = lab.Start("srv1", []string{"true"}, filepath.Join(GinkgoT().TempDir(), "t.log"))
			Expect(err).To(MatchError(netns.ErrTornDown))
			Expect(lab.Cut("srv1")).To(MatchError(netns.ErrTornDown))
		})

		It("cleans up a crashed run from its prefix alone", func() {
			prefix := netns.NewPrefix()
			lab, err := netns.Create(spec(prefix))
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(lab.Teardown) // after Clean this finds nothing to do
			p, err := lab.Start("srv2", []string{"sleep", "60"}, filepath.Join(GinkgoT().TempDir(), "s.log"))
			Expect(err).NotTo(HaveOccurred())

			// The Lab value is "lost": only the prefix is known.
			removed, err := netns.Clean(prefix)
			Expect(err).NotTo(HaveOccurred())
			Expect(removed).To(ContainElements(
				"netns "+prefix+"-link", "netns "+prefix+"-clients", "netns "+prefix+"-srv1", "netns "+prefix+"-srv2",
				ContainSubstring(fmt.Sprintf("process %d (sleep)", p.PID))))
			Eventually(p.Done()).Should(BeClosed())
			Expect(namespacesWith(prefix)).To(BeEmpty())
			Expect(hostLinks(prefix)).To(BeEmpty())
			removed, err = netns.Clean(prefix)
			Expect(err).NotTo(HaveOccurred())
			Expect(removed).To(BeEmpty())
		})

		It("refuses to clean anything that is not d6lab's", func() {
			for _, bad := range []string{"", "eth", "lo", "d6", "d6l-", "veth", "d6labcdefg", "../d6l"} {
				_, err := netns.Clean(bad)
				Expect(err).To(MatchError(netns.ErrBadPrefix), bad)
			}
		})

		It("rolls back a failed Create without touching a namespace it did not make", func() {
			prefix := netns.NewPrefix()
			foreign := prefix + "-srv2"
			// Someone else's namespace with a colliding name.
			Expect(os.MkdirAll("/run/netns", 0o755)).To(Succeed())
			f, err := os.OpenFile("/run/netns/"+foreign, os.O_CREATE|os.O_EXCL, 0o444)
			Expect(err).NotTo(HaveOccurred())
			f.Close()
			DeferCleanup(os.Remove, "/run/netns/"+foreign)

			_, err = netns.Create(spec(prefix))
			Expect(err).To(MatchError(netns.ErrNamespaceExists))
			Expect(namespacesWith(prefix)).To(ConsistOf(foreign))
			Expect(hostLinks(prefix)).To(BeEmpty())
		})
	})

	Describe("two labs at once", func() {
		It("keeps them apart, and cleaning one leaves the other", func() {
			pa, pb := netns.NewPrefix(), netns.NewPrefix()
			for pa == pb {
				pb = netns.NewPrefix()
			}
			a, b := newLab(spec(pa)), newLab(spec(pb)) // same addresses in both
			a1, a2 := listen(a, "srv1", 547), listen(a, "srv2", 547)
			b1, b2 := listen(b, "srv1", 547), listen(b, "srv2", 547)
			both := map[string]bool{"srv1": true, "srv2": true}

			tok := token()
			send(a, "clients", netip.AddrPortFrom(allServers, 547), tok)
			for _, c := range []*net.UDPConn{a1, a2} {
				_, ok := receive(c, tok, 2*time.Second)
				Expect(ok).To(BeTrue())
			}
			for _, c := range []*net.UDPConn{b1, b2} {
				_, ok := receive(c, tok, 200*time.Millisecond)
				Expect(ok).To(BeFalse())
			}

			Expect(a.Cut("srv1")).To(Succeed())
			Expect(multicast(b, map[string]*net.UDPConn{"srv1": b1, "srv2": b2})).To(Equal(both))
			Expect(a.Heal("srv1")).To(Succeed())

			// Same prefix that merely starts alike must not match.
			_, err := netns.Clean(pa[:len(pa)-1])
			Expect(err).NotTo(HaveOccurred())
			Expect(namespacesWith(pa)).To(HaveLen(4))

			_, err = netns.Clean(pb)
			Expect(err).NotTo(HaveOccurred())
			Expect(namespacesWith(pb)).To(BeEmpty())
			Expect(namespacesWith(pa)).To(HaveLen(4))
			Expect(multicast(a, map[string]*net.UDPConn{"srv1": a1, "srv2": a2})).To(Equal(both))
			// b's interfaces are gone even though this process still
			// holds sockets (and so the namespaces) of b.
			Expect(b.Do("clients", func() error {
				_, err := net.InterfaceByName(b.IfName("clients"))
				return err
			})).NotTo(Succeed())
		})
	})
})
