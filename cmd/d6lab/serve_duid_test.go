package main_test

import (
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"d6lab/sim/netns"
)

// renameLink renames node's link interface to name inside its namespace
// (down, rename, up: a live interface cannot be renamed), waits until its
// link-local address is usable again and returns its MAC. The lab's
// sysctls (no DAD, EUI-64 link-local) stay with the device; its global
// addresses go with the down, and serve needs none.
func renameLink(lab *netns.Lab, node, name string) net.HardwareAddr {
	var hw net.HardwareAddr
	Expect(lab.Do(node, func() error {
		h, err := netlink.NewHandle() // in the thread's namespace: node's
		if err != nil {
			return err
		}
		defer h.Close()
		link, err := h.LinkByName(lab.IfName(node))
		if err != nil {
			return fmt.Errorf("find %s: %w", lab.IfName(node), err)
		}
		if err := h.LinkSetDown(link); err != nil {
			return err
		}
		if err := h.LinkSetName(link, name); err != nil {
			return fmt.Errorf("rename %s to %s: %w", lab.IfName(node), name, err)
		}
		if err := h.LinkSetUp(link); err != nil {
			return err
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			link, err = h.LinkByName(name)
			if err != nil {
				return err
			}
			addrs, err := h.AddrList(link, netlink.FAMILY_V6)
			if err != nil {
				return err
			}
			for _, a := range addrs {
				if a.IP.IsLinkLocalUnicast() && a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 &&
					link.Attrs().OperState == netlink.OperUp {
					hw = link.Attrs().HardwareAddr
					return nil
				}
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s in %s: no usable link-local address after 5s", name, lab.Namespace(node))
			}
			time.Sleep(10 * time.Millisecond)
		}
	})).To(Succeed())
	return hw
}

// leaseRE finds the address and Server ID of a lease6 block in a dhclient
// lease file.
var (
	iaaddrRE   = regexp.MustCompile(`iaaddr ([0-9a-f:]+) \{`)
	serverIDRE = regexp.MustCompile(`option dhcp6\.server-id ([0-9a-f:]+);`)
)

var _ = Describe("d6lab serve's Server ID (RFC 9915 §11)", func() {
	It("exits 2 naming --duid on an interface without a link-layer address, and on a bad --duid-type", func() {
		// lo exists everywhere; serve refuses before it binds anything.
		code, _, stderr := d6("serve", "--iface", "lo", "--pool", "2001:db8:6::a:0/112")
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(ContainSubstring("--iface lo has no link-layer address to make the server's DUID of (link type loopback)"))
		Expect(stderr).To(ContainSubstring("--duid HEX"))

		code, _, stderr = d6("serve", "--iface", "lo", "--pool", "2001:db8:6::a:0/112", "--duid-type", "uuid")
		Expect(code).To(Equal(2), "stderr: %s", stderr)
		Expect(stderr).To(ContainSubstring(`--duid-type "uuid": want ll or llt`))
	})

	Context("two servers on interfaces named eth0 in two namespaces", Label("realclient", "root", "netns"), func() {
		BeforeEach(func() {
			requireRoot()
			requireTool(dhclientPath, "isc-dhcp-client")
		})

		It("carry their own DUID-LLs, and dhclient binds from the Preference 255 one", func() {
			lab := newLab("srva", "srvb")
			macA, macB := renameLink(lab, "srva", "eth0"), renameLink(lab, "srvb", "eth0")
			Expect(macA).NotTo(Equal(macB))

			// A second --iface wins over the lab's interface name in serve's argv.
			a := serve(lab, "srva", poolA, 255, "--iface", "eth0")
			b := serve(lab, "srvb", poolB, 0, "--iface", "eth0")
			Expect(readFile(a.log)).To(ContainSubstring("listening on eth0 "))
			Expect(readFile(b.log)).To(ContainSubstring("listening on eth0 "))
			fmt.Fprintf(GinkgoWriter, "srva eth0 %s DUID %s; srvb eth0 %s DUID %s\n", macA, a.duid, macB, b.duid)
			Expect(a.duid).NotTo(Equal(b.duid), "two servers, one Server ID")
			Expect(a.duid).To(Equal("00030001"+hex.EncodeToString(macA)), "srva: not the DUID-LL of its eth0")
			Expect(b.duid).To(Equal("00030001"+hex.EncodeToString(macB)), "srvb: not the DUID-LL of its eth0")

			By("dhclient -6 -1 in the clients namespace: it binds, goes to the background and exits 0")
			dir := GinkgoT().TempDir()
			conf := filepath.Join(dir, "dhclient.conf")
			Expect(os.WriteFile(conf, []byte("# the spec's own: nothing from /etc\n"), 0o644)).To(Succeed())
			leases, pidFile, log := filepath.Join(dir, "dhclient6.leases"), filepath.Join(dir, "dhclient.pid"), filepath.Join(dir, "dhclient.log")
			proc, err := lab.Start("clients", []string{dhclientPath, "-6", "-1", "-v",
				"-cf", conf, "-sf", "/bin/true", "-lf", leases, "-pf", pidFile,
				lab.IfName("clients")}, log)
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(func() {
				// The daemon dhclient became, by the PID it wrote (the lab's
				// teardown would also kill whatever is left in its namespaces).
				if b, err := os.ReadFile(pidFile); err == nil {
					if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
				Expect(lab.Kill(proc)).To(Succeed())
				fmt.Fprintf(GinkgoWriter, "--- dhclient log:\n%s--- lease file:\n%s", readFile(log), readFile(leases))
			})
			select {
			case <-proc.Done():
			case <-time.After(20 * time.Second):
				Fail("dhclient -6 -1 did not bind within 20s:\n" + readFile(log))
			}
			Expect(proc.Wait()).To(Succeed(), "dhclient -6 -1 failed:\n%s", readFile(log))

			lease := readFile(leases)
			lease = lease[max(strings.LastIndex(lease, "lease6 {"), 0):]
			m := iaaddrRE.FindStringSubmatch(lease)
			Expect(m).To(HaveLen(2), "no iaaddr in the lease file:\n%s", lease)
			bound, err := netip.ParseAddr(m[1])
			Expect(err).NotTo(HaveOccurred())
			fmt.Fprintf(GinkgoWriter, "dhclient bound %s\n", bound)
			Expect(poolA.contains(bound)).To(BeTrue(), "bound %s, want an address from %s (the Preference 255 server)", bound, poolA)
			m = serverIDRE.FindStringSubmatch(lease)
			Expect(m).To(HaveLen(2), "no server-id in the lease file:\n%s", lease)
			Expect(m[1]).To(Equal(colonHex(a.duid)))

			By("srvb heard the Request naming srva and discarded it (RFC 9915 §16.4)")
			ca, cb := a.stop(), b.stop()
			Expect(ca["answered"]).To(BeNumerically(">=", 2), "srva: Advertise and Reply")
			Expect(ca["dropped total"]).To(BeZero())
			Expect(cb["dropped other-server"]).To(BeNumerically(">=", 1), "srvb accepted the Request meant for srva")
			Expect(cb["dropped total"]).To(Equal(cb["dropped other-server"]))

			By("--duid-type llt: type 1, the start time, the same MAC (RFC 9915 §11.2)")
			start := time.Now().Unix()
			c := serve(lab, "srvb", poolB, 0, "--iface", "eth0", "--duid-type", "llt")
			end := time.Now().Unix()
			Expect(c.duid).To(HavePrefix("00010001"))
			Expect(c.duid).To(HaveSuffix(hex.EncodeToString(macB)))
			raw, err := hex.DecodeString(c.duid)
			Expect(err).NotTo(HaveOccurred())
			Expect(raw).To(HaveLen(14))
			const epoch2000 = 946684800 // 2000-01-01T00:00:00Z
			secs := int64(raw[4])<<24 | int64(raw[5])<<16 | int64(raw[6])<<8 | int64(raw[7])
			Expect(secs).To(BeNumerically(">=", start-epoch2000))
			Expect(secs).To(BeNumerically("<=", end-epoch2000))
			c.stop()
		})
	})
})
