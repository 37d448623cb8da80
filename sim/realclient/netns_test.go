package realclient_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/sim/capture"
	"d6lab/sim/netns"
	"d6lab/sim/realclient"
	"d6lab/sim/realclient/trace"
	"d6lab/sim/session"
)

// The specs below run each installed real client in a lab beside one
// `d6lab serve`: every client in a namespace of its own whose interface
// runs DAD (netns.NodeSpec.DAD), watched over netlink (netns.WatchAddrs)
// and captured (sim/capture) on its interface.

var (
	linkPrefix = netip.MustParsePrefix("2001:db8:7::/64")
	poolFirst  = netip.MustParseAddr("2001:db8:7::a:0")
	poolLast   = netip.MustParseAddr("2001:db8:7::a:ffff")
	pdPool     = netip.MustParsePrefix("2001:db8:7100::/40")
)

func inPool(a netip.Addr) bool { return poolFirst.Compare(a) <= 0 && a.Compare(poolLast) <= 0 }

func requireRoot() {
	if os.Geteuid() != 0 {
		Skip("needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN): network and mount namespaces, veth pairs and a bridge")
	}
	Expect(d6labBin).NotTo(BeEmpty(), "BeforeSuite did not build d6lab")
}

// requireKind skips the spec when kind cannot run here, with the reason
// (the missing Debian package, or busybox's missing udhcpc6 applet).
func requireKind(k deploy.ClientKind) {
	a, err := realclient.Lookup(k)
	Expect(err).NotTo(HaveOccurred())
	if err := a.Installed(); err != nil {
		Skip(fmt.Sprintf("%s: %v (run scripts/setup.sh)", k, err))
	}
}

// newLab builds clients (unused: the population's namespace), srv1 at
// 2001:db8:7::1 and two real-client hosts c1 and c2 with DAD on, claims
// its prefix (so that a concurrent `d6lab clean` leaves it alone) and
// registers its teardown.
func newLab() *netns.Lab {
	spec := netns.Spec{
		Prefix:  netns.NewPrefix(),
		Link:    linkPrefix,
		Clients: netns.NodeSpec{Name: "clients"},
		Nodes: []netns.NodeSpec{
			{Name: "srv1", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:7::1/64")}},
			{Name: "c1", DAD: true},
			{Name: "c2", DAD: true},
		},
	}
	Expect(session.Claim(spec.Prefix)).To(Succeed())
	lab, err := netns.Create(spec)
	if err != nil {
		session.Forget(spec.Prefix)
	}
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(lab.Teardown()).To(Succeed())
		session.Forget(spec.Prefix)
	})
	return lab
}

// serve starts `d6lab serve` on srv1 with the pool (first-last), the PD
// pool and lifetimes long enough that nothing renews during a spec, and
// waits until it listens. Its stop (SIGTERM) is registered.
func serve(lab *netns.Lab, first, last netip.Addr) {
	log := filepath.Join(GinkgoT().TempDir(), "serve.log")
	p, err := lab.Start("srv1", []string{d6labBin, "serve",
		"--iface", lab.IfName("srv1"),
		"--prefix", linkPrefix.String(),
		"--pool", first.String() + "-" + last.String(),
		"--pd-pool", pdPool.String(), "--pd-len", "56",
		"--preference", "255",
		"--t1", "1m", "--t2", "2m", "--preferred", "3m", "--valid", "5m",
		"--info-refresh", "10m",
	}, log)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		if p.Signal(syscall.SIGTERM) == nil {
			Eventually(p.Done()).WithTimeout(10 * time.Second).Should(BeClosed())
		}
		fmt.Fprintf(GinkgoWriter, "--- d6lab serve:\n%s", readFile(log))
	})
	Eventually(func(g Gomega) {
		g.Expect(p.Exited()).To(BeFalse(), "d6lab serve exited:\n%s", readFile(log))
		g.Expect(readFile(log)).To(ContainSubstring("listening on"))
	}).WithTimeout(10 * time.Second).WithPolling(20 * time.Millisecond).Should(Succeed())
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		Fail(fmt.Sprintf("read %s: %v", path, err))
	}
	return string(b)
}

// addrLog collects what WatchAddrs reports.
type addrLog struct {
	mu  sync.Mutex
	all []trace.AddrChange
}

func (l *addrLog) add(c trace.AddrChange) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, c)
}

func (l *addrLog) changes() []trace.AddrChange {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]trace.AddrChange(nil), l.all...)
}

func (l *addrLog) String() string {
	var b strings.Builder
	_ = trace.WriteAddrs(&b, l.changes()...)
	return b.String()
}

// running is one real client in the lab: the instance, its process, its
// capture and its address log.
type running struct {
	lab    *netns.Lab
	node   string
	inst   *realclient.Instance
	client *realclient.Client
	cap    *capture.Capture
	pcap   string
	addrs  *addrLog

	capStopped bool
}

// start prepares kind for node (IAs ia, dhclient's DADWait dadWait) in a
// directory of the spec's own, starts its capture and address watch, then
// the client. Its stop, and the dump of its files on failure, are
// registered.
func start(lab *netns.Lab, k deploy.ClientKind, node string, dadWait time.Duration, ia ...string) *running {
	dir := filepath.Join(GinkgoT().TempDir(), node)
	inst, err := realclient.Prepare(k, realclient.Spec{
		Name: node, Dir: dir, Namespace: lab.Namespace(node), IfName: lab.IfName(node),
		IA: ia, DADWait: dadWait,
	})
	Expect(err).NotTo(HaveOccurred())
	r := &running{lab: lab, node: node, inst: inst, pcap: filepath.Join(inst.Spec.Dir, "client.pcap"), addrs: &addrLog{}}
	r.cap, err = capture.Start(lab, node, r.pcap, 8<<20)
	Expect(err).NotTo(HaveOccurred())
	stopWatch, err := lab.WatchAddrs(node, r.addrs.add)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() {
		Expect(stopWatch()).To(Succeed())
		r.stopCapture()
		if CurrentSpecReport().Failed() || os.Getenv("REALCLIENT_DUMP") != "" {
			fmt.Fprintf(GinkgoWriter, "--- %s %s argv: %q\n--- log:\n%s--- events:\n%s--- stop.log:\n%s--- addresses:\n%s",
				k, node, inst.Argv, readFile(inst.Log), readFile(inst.Events),
				readFile(filepath.Join(inst.Spec.Dir, "stop.log")), r.addrs)
		}
	})
	r.client, err = realclient.Start(lab, node, inst)
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() { _, _ = r.client.Stop() })
	return r
}

func (r *running) stopCapture() {
	if !r.capStopped {
		r.capStopped = true
		_, err := r.cap.Stop()
		Expect(err).NotTo(HaveOccurred())
	}
}

// bound waits until the client's interface holds an address of the pool
// that went through DAD: reported tentative, then neither tentative nor
// failed. It returns that address.
func (r *running) bound(timeout time.Duration) netip.Addr {
	var got netip.Addr
	Eventually(func(g Gomega) {
		g.Expect(r.client.Proc.Exited()).To(BeFalse(), "%s exited:\n%s", r.inst.Kind, readFile(r.inst.Log))
		tentative := map[netip.Addr]bool{}
		for _, c := range r.addrs.changes() {
			a := c.Prefix.Addr()
			switch {
			case c.Deleted || !inPool(a):
			case c.Tentative:
				tentative[a] = true
			case tentative[a] && !c.DADFailed:
				got = a
				return
			}
		}
		g.Expect(got.IsValid()).To(BeTrue(), "no pool address through DAD yet:\n%s", r.addrs)
	}).WithTimeout(timeout).WithPolling(50 * time.Millisecond).Should(Succeed())
	return got
}

// onInterface lists the global addresses of node's interface, read in its
// namespace.
func onInterface(lab *netns.Lab, node string) []netip.Addr {
	var out []netip.Addr
	Expect(lab.Do(node, func() error {
		ifi, err := net.InterfaceByIndex(lab.IfIndex(node))
		if err != nil {
			return err
		}
		addrs, err := ifi.Addrs()
		for _, a := range addrs {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().IsGlobalUnicast() {
				out = append(out, p.Addr())
			}
		}
		return err
	})).To(Succeed())
	return out
}

// message is one DHCPv6 message the capture holds.
type message struct {
	Type       layers.DHCPv6MsgType
	FromClient bool
	ClientID   []byte
	Addrs      []netip.Addr   // IAADDRs of its IA_NAs
	Prefixes   []netip.Prefix // IAPREFIXes of its IA_PDs
}

func (m message) String() string {
	return fmt.Sprintf("%v client=%v %v %v", m.Type, m.FromClient, m.Addrs, m.Prefixes)
}

// messages stops the capture and reads the messages it holds from and to
// this client (by its link-local address: the capture on its interface
// also sees the other clients' multicasts).
func (r *running) messages() []message {
	self := r.lab.LinkLocal(r.node)
	r.stopCapture()
	f, err := os.Open(r.pcap)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	rd, err := pcapgo.NewReader(f)
	Expect(err).NotTo(HaveOccurred())
	var out []message
	for {
		data, _, err := rd.ReadPacketData()
		if errors.Is(err, io.EOF) {
			return out
		}
		Expect(err).NotTo(HaveOccurred())
		pkt := gopacket.NewPacket(data, layers.LayerTypeEthernet, gopacket.Default)
		ip6, _ := pkt.Layer(layers.LayerTypeIPv6).(*layers.IPv6)
		udp, _ := pkt.Layer(layers.LayerTypeUDP).(*layers.UDP)
		d6, _ := pkt.Layer(layers.LayerTypeDHCPv6).(*layers.DHCPv6)
		if ip6 == nil || udp == nil || d6 == nil {
			continue
		}
		src, _ := netip.AddrFromSlice(ip6.SrcIP)
		dst, _ := netip.AddrFromSlice(ip6.DstIP)
		if src != self && dst != self {
			continue
		}
		m := message{Type: d6.MsgType, FromClient: src == self}
		for _, o := range d6.Options {
			switch o.Code {
			case layers.DHCPv6OptClientID:
				m.ClientID = o.Data
			case layers.DHCPv6OptIANA:
				eachOption(o.Data, 12, func(code uint16, v []byte) {
					if code == 5 && len(v) >= 16 {
						m.Addrs = append(m.Addrs, netip.AddrFrom16([16]byte(v[:16])))
					}
				})
			case layers.DHCPv6OptIAPD:
				eachOption(o.Data, 12, func(code uint16, v []byte) {
					if code == 26 && len(v) >= 25 {
						m.Prefixes = append(m.Prefixes, netip.PrefixFrom(netip.AddrFrom16([16]byte(v[9:25])), int(v[8])))
					}
				})
			}
		}
		out = append(out, m)
	}
}

// eachOption walks the options of an IA's data after its fixed header.
func eachOption(b []byte, skip int, fn func(code uint16, v []byte)) {
	if len(b) < skip {
		return
	}
	for b = b[skip:]; len(b) >= 4; {
		code, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if len(b) < 4+n {
			return
		}
		fn(code, b[4:4+n])
		b = b[4+n:]
	}
}

func sent(ms []message, t layers.DHCPv6MsgType) []message {
	var out []message
	for _, m := range ms {
		if m.FromClient && m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

func received(ms []message, t layers.DHCPv6MsgType) []message {
	var out []message
	for _, m := range ms {
		if !m.FromClient && m.Type == t {
			out = append(out, m)
		}
	}
	return out
}

// hostFiles are what the clients would write on a host of their own:
// state and lease directories, PID files, resolv.conf, ip netns's files.
var hostFiles = []string{
	"/var/lib/dhcpcd", "/run/dhcpcd", "/var/lib/dhcp", "/var/lib/dhcpv6",
	"/etc/resolv.conf", "/run/dhcp6c.pid", "/run/dhclient6.pid", "/run/udhcpc6.pid",
	"/etc/netns", "/etc/dhcp", "/etc/wide-dhcpv6", "/etc/dhcpcd.conf",
}

// snapshot describes each of hostFiles: absent, a file's mode and
// checksum, or a directory's entries (names, sizes, modification times).
func snapshot() map[string]string {
	out := map[string]string{}
	for _, p := range hostFiles {
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, os.ErrNotExist):
			out[p] = "absent"
		case err != nil:
			out[p] = err.Error()
		case fi.IsDir():
			var lines []string
			_ = filepath.Walk(p, func(path string, fi os.FileInfo, err error) error {
				if err == nil {
					lines = append(lines, fmt.Sprintf("%s %v %d %v", path, fi.Mode(), fi.Size(), fi.ModTime().UnixNano()))
				}
				return nil
			})
			sort.Strings(lines)
			out[p] = strings.Join(lines, "\n")
		default:
			b, err := os.ReadFile(p)
			out[p] = fmt.Sprintf("%v %x %v", fi.Mode(), sha256.Sum256(b), err)
		}
	}
	return out
}

var _ = Describe("real clients in a lab", Label("realclient", "root", "netns"), func() {
	BeforeEach(func() {
		requireRoot()
		before := snapshot()
		DeferCleanup(func() {
			Expect(snapshot()).To(Equal(before), "a client changed a file outside its run directory")
		})
	})

	var kinds []TableEntry
	for _, k := range deploy.ClientKinds {
		kinds = append(kinds, Entry(string(k), k))
	}

	DescribeTable("gets an IA_NA address through DAD, and releases it on a clean stop",
		func(k deploy.ClientKind) {
			requireKind(k)
			lab := newLab()
			serve(lab, poolFirst, poolLast)
			r := start(lab, k, "c1", 0, realclient.IANA)
			addr := r.bound(15 * time.Second)
			Expect(onInterface(lab, "c1")).To(ContainElement(addr))

			clean, err := r.client.Stop()
			Expect(err).NotTo(HaveOccurred())
			Expect(clean).To(BeTrue(), "%s did not exit within %v of its clean stop", k, r.inst.Stop.Wait)
			// The client removed it before it exited; the netlink watcher
			// hears of it a moment later (on a loaded machine, after Stop
			// returned: make test with a fuzzer beside it missed it once).
			Eventually(r.addrs.changes).WithTimeout(5*time.Second).Should(ContainElement(And(
				HaveField("Prefix", netip.PrefixFrom(addr, 128)), HaveField("Deleted", true))),
				"the address left the interface within 5 s of the clean stop")

			ms := r.messages()
			Expect(sent(ms, layers.DHCPv6MsgTypeSolicit)).NotTo(BeEmpty(), "%v", ms)
			Expect(received(ms, layers.DHCPv6MsgTypeReply)).NotTo(BeEmpty(), "%v", ms)
			rel := sent(ms, layers.DHCPv6MsgTypeRelease)
			Expect(rel).NotTo(BeEmpty(), "no Release on the clean stop: %v", ms)
			Expect(rel[0].Addrs).To(ContainElement(addr))
			if duid, err := r.inst.DUID(); k != deploy.Udhcpc6 {
				Expect(err).NotTo(HaveOccurred())
				Expect(sent(ms, layers.DHCPv6MsgTypeSolicit)[0].ClientID).To(Equal(duid), "the DUID in its state is the one it sends")
			}
		}, kinds)

	DescribeTable("asks for an address and a prefix at once, and configures only the address",
		func(k deploy.ClientKind) {
			requireKind(k)
			lab := newLab()
			serve(lab, poolFirst, poolLast)
			r := start(lab, k, "c1", 0, realclient.IANA, realclient.IAPD)
			addr := r.bound(15 * time.Second)
			ms := r.messages()
			reps := received(ms, layers.DHCPv6MsgTypeReply)
			Expect(reps).NotTo(BeEmpty(), "%v", ms)
			Expect(reps[0].Addrs).To(ContainElement(addr))
			Expect(reps[0].Prefixes).To(HaveLen(1), "%v", ms)
			prefix := reps[0].Prefixes[0]
			Expect(pdPool.Contains(prefix.Addr())).To(BeTrue(), "delegated %v", prefix)
			for _, c := range r.addrs.changes() {
				Expect(prefix.Contains(c.Prefix.Addr())).To(BeFalse(), "%v from the delegated prefix on the interface", c.Prefix)
			}
		}, kinds)

	DescribeTable("stateless: asks with an Information-request, gets a Reply, configures nothing and stays",
		func(k deploy.ClientKind) {
			requireKind(k)
			lab := newLab()
			serve(lab, poolFirst, poolLast)
			r := start(lab, k, "c1", 0)
			Eventually(func() string { return readFile(r.inst.Events) }).
				WithTimeout(10*time.Second).Should(MatchRegexp(`(?m) (INFORM6|RENEW6|NBI|bound)( |$)`), "the script called after the Reply")
			Consistently(r.client.Proc.Exited).WithTimeout(time.Second).Should(BeFalse(), "it must stay, to refresh")
			ms := r.messages()
			Expect(sent(ms, layers.DHCPv6MsgTypeInformationRequest)).NotTo(BeEmpty(), "%v", ms)
			Expect(received(ms, layers.DHCPv6MsgTypeReply)).NotTo(BeEmpty(), "%v", ms)
			Expect(sent(ms, layers.DHCPv6MsgTypeSolicit)).To(BeEmpty())
			Expect(onInterface(lab, "c1")).To(BeEmpty())
		}, kinds)

	DescribeTable("two clients of the same kind have different DUIDs and addresses",
		func(k deploy.ClientKind) {
			requireKind(k)
			lab := newLab()
			serve(lab, poolFirst, poolLast)
			r1 := start(lab, k, "c1", 0, realclient.IANA)
			r2 := start(lab, k, "c2", 0, realclient.IANA)
			a1, a2 := r1.bound(15*time.Second), r2.bound(15*time.Second)
			Expect(a1).NotTo(Equal(a2))
			id := func(r *running) []byte {
				ms := r.messages()
				s := sent(ms, layers.DHCPv6MsgTypeSolicit)
				Expect(s).NotTo(BeEmpty())
				Expect(s[0].ClientID).NotTo(BeEmpty())
				if duid, err := r.inst.DUID(); err == nil {
					Expect(s[0].ClientID).To(Equal(duid))
				}
				return s[0].ClientID
			}
			d1, d2 := id(r1), id(r2)
			Expect(bytes.Equal(d1, d2)).To(BeFalse(), "c1 and c2 share DUID %x", d1)
		}, kinds)

	DescribeTable("DAD failure on an address a host on the link already uses",
		func(k deploy.ClientKind, dadWait time.Duration, declines bool) {
			requireKind(k)
			lab := newLab()
			taken := netip.MustParseAddr("2001:db8:7::a:1")
			serve(lab, taken, taken) // one address: the client gets the taken one
			Expect(lab.AddAddr("clients", netip.PrefixFrom(taken, 128))).To(Succeed())
			r := start(lab, k, "c1", dadWait, realclient.IANA)
			Eventually(r.addrs.changes).WithTimeout(15*time.Second).Should(ContainElement(And(
				HaveField("Prefix", netip.PrefixFrom(taken, 128)), HaveField("DADFailed", true))),
				"the kernel of c1 finds %s in use", taken)
			time.Sleep(3 * time.Second) // a Decline follows within a second or two when it comes
			ms := r.messages()
			dec := sent(ms, layers.DHCPv6MsgTypeDecline)
			if declines {
				Expect(dec).NotTo(BeEmpty(), "no Decline: %v", ms)
				Expect(dec[0].Addrs).To(ConsistOf(taken))
			} else {
				Expect(dec).To(BeEmpty(), "a Decline, which this client is not known to send: %v", ms)
			}
		},
		Entry("dhclient with Debian's script: the address goes, no Decline", deploy.Dhclient, time.Duration(0), false),
		Entry("dhclient with ISC's DAD wait (--dad-wait-time): Decline", deploy.Dhclient, 2*time.Second, true),
		Entry("dhcpcd: the kernel deletes the address, dhcpcd does not Decline", deploy.Dhcpcd, time.Duration(0), false),
		Entry("dhcp6c: the address stays dadfailed, no Decline", deploy.Dhcp6c, time.Duration(0), false),
		Entry("udhcpc6: no DAD check, no Decline", deploy.Udhcpc6, time.Duration(0), false),
	)
})
