package netns_test

import (
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/sim/netns"
	"d6lab/sim/realclient/trace"
)

// dadSpec is spec(prefix) with a node "host" whose interface runs DAD, as
// a real client's, with no address of its own.
func dadSpec(prefix string) netns.Spec {
	s := spec(prefix)
	s.Nodes = append(s.Nodes, netns.NodeSpec{Name: "host", DAD: true})
	return s
}

// ifSysctl reads /proc/sys/net/ipv6/conf/IF/key inside node's namespace.
func ifSysctl(lab *netns.Lab, node, key string) string {
	var v string
	Expect(lab.Do(node, func() error {
		b, err := os.ReadFile("/proc/sys/net/ipv6/conf/" + lab.IfName(node) + "/" + key)
		v = strings.TrimSpace(string(b))
		return err
	})).To(Succeed())
	return v
}

// addDynamic adds p to node's interface from inside its namespace the way
// a DHCPv6 client does: finite lifetimes and no NODAD, so the kernel runs
// DAD when the interface asks for it.
func addDynamic(lab *netns.Lab, node string, p netip.Prefix, preferred, valid int) {
	Expect(lab.Do(node, func() error {
		h, err := netlink.NewHandle()
		if err != nil {
			return err
		}
		defer h.Close()
		link, err := h.LinkByName(lab.IfName(node))
		if err != nil {
			return err
		}
		return h.AddrAdd(link, &netlink.Addr{
			IPNet:       &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), 128)},
			PreferedLft: preferred,
			ValidLft:    valid,
		})
	})).To(Succeed())
}

// changes collects what a WatchAddrs subscription reports.
type changes struct {
	mu  sync.Mutex
	all []trace.AddrChange
}

func (c *changes) add(x trace.AddrChange) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.all = append(c.all, x)
}

func (c *changes) of(p netip.Prefix) []trace.AddrChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []trace.AddrChange
	for _, x := range c.all {
		if x.Prefix == p {
			out = append(out, x)
		}
	}
	return out
}

func watch(lab *netns.Lab, node string) (*changes, func() error) {
	c := &changes{}
	stop, err := lab.WatchAddrs(node, c.add)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _ = stop() })
	return c, stop
}

var _ = Describe("real-client hosts (NodeSpec.DAD)", Label("netns"), func() {
	BeforeEach(requireRoot)

	It("turn DAD on and RAs and SLAAC off on the DAD node's interface only", func() {
		lab := newLab(dadSpec(netns.NewPrefix()))
		Expect(ifSysctl(lab, "host", "accept_dad")).To(Equal("1"))
		Expect(ifSysctl(lab, "host", "dad_transmits")).To(Equal("1"))
		Expect(ifSysctl(lab, "host", "accept_ra")).To(Equal("0"))
		Expect(ifSysctl(lab, "host", "autoconf")).To(Equal("0"))
		Expect(lab.LinkLocal("host").IsLinkLocalUnicast()).To(BeTrue())
		for _, node := range []string{"clients", "srv1"} {
			Expect(ifSysctl(lab, node, "accept_dad")).To(Equal("0"), node)
		}
	})

	It("report an address a client adds: existing ones first, tentative, then usable, then deleted", func() {
		lab := newLab(dadSpec(netns.NewPrefix()))
		c, stop := watch(lab, "srv1")
		own := netip.MustParsePrefix("2001:db8:1::1/64")
		Eventually(func() []trace.AddrChange { return c.of(own) }).Should(ContainElement(And(
			HaveField("Deleted", false), HaveField("Tentative", false), HaveField("Valid", trace.Forever))),
			"the node's own address, listed at once")

		h, stopHost := watch(lab, "host")
		p := netip.MustParsePrefix("2001:db8:1::a:1/128")
		addDynamic(lab, "host", p, 10, 20)
		Eventually(func() []trace.AddrChange { return h.of(p) }).WithTimeout(5 * time.Second).Should(HaveLen(2))
		got := h.of(p)
		Expect(got[0]).To(And(HaveField("Tentative", true), HaveField("Deleted", false)))
		Expect(got[0].Preferred).To(BeNumerically("~", 10*time.Second, time.Second))
		Expect(got[0].Valid).To(BeNumerically("~", 20*time.Second, time.Second))
		Expect(got[1]).To(And(HaveField("Tentative", false), HaveField("DADFailed", false), HaveField("Deleted", false)))
		Expect(got[1].At.Sub(got[0].At)).To(BeNumerically(">=", 500*time.Millisecond), "one DAD probe takes RetransTimer (1 s)")

		Expect(lab.Do("host", func() error {
			h, err := netlink.NewHandle()
			if err != nil {
				return err
			}
			defer h.Close()
			link, err := h.LinkByName(lab.IfName("host"))
			if err != nil {
				return err
			}
			return h.AddrDel(link, &netlink.Addr{IPNet: &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(128, 128)}})
		})).To(Succeed())
		Eventually(func() []trace.AddrChange { return h.of(p) }).Should(HaveLen(3))
		Expect(h.of(p)[2].Deleted).To(BeTrue())
		Expect(stopHost()).To(Succeed())
		Expect(stop()).To(Succeed())
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, x := range h.all {
			Expect(x.Prefix.Addr().IsLinkLocalUnicast()).To(BeFalse(), "link-local %v reported", x.Prefix)
		}
	})

	It("fail DAD on an address another node occupies (AddAddr), and not once it is freed (DelAddr)", func() {
		lab := newLab(dadSpec(netns.NewPrefix()))
		p := netip.MustParsePrefix("2001:db8:1::a:2/128")
		Expect(lab.AddAddr("clients", p)).To(Succeed())
		h, _ := watch(lab, "host")
		addDynamic(lab, "host", p, 10, 20)
		Eventually(func() []trace.AddrChange { return h.of(p) }).WithTimeout(5*time.Second).Should(ContainElement(
			And(HaveField("Deleted", true), HaveField("DADFailed", true))),
			"an address with finite lifetimes is deleted when DAD fails")

		Expect(lab.DelAddr("clients", p)).To(Succeed())
		addDynamic(lab, "host", p, 10, 20)
		Eventually(func() []trace.AddrChange {
			got := h.of(p)
			return got[len(got)-1:]
		}).WithTimeout(5 * time.Second).Should(ConsistOf(
			And(HaveField("Deleted", false), HaveField("Tentative", false), HaveField("DADFailed", false))))
	})

	It("refuse addresses outside the lab's ranges, and end watches at teardown", func() {
		lab, err := netns.Create(dadSpec(netns.NewPrefix()))
		Expect(err).NotTo(HaveOccurred())
		torn := false
		DeferCleanup(func() {
			if !torn {
				Expect(lab.Teardown()).To(Succeed())
			}
		})
		Expect(lab.AddAddr("host", netip.MustParsePrefix("2001:db9::1/128"))).To(MatchError(netns.ErrBadAddr))
		Expect(lab.AddAddr("nobody", netip.MustParsePrefix("2001:db8:1::9/128"))).To(MatchError(netns.ErrUnknownNode))
		_, stop := watch(lab, "host")
		Expect(lab.Teardown()).To(Succeed())
		torn = true
		done := make(chan error, 1)
		go func() { done <- stop() }()
		Eventually(done).Should(Receive(BeNil()), "stop returns once teardown ended the watch")
		_, err = lab.WatchAddrs("host", func(trace.AddrChange) {})
		Expect(err).To(MatchError(netns.ErrTornDown))
	})
})
