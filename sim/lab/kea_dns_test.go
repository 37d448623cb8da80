package lab

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/miekg/dns"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/netaddr6"
	"d6lab/scenarios"
	"d6lab/server/daemon"
	"d6lab/sim"
	"d6lab/sim/nameserver"
	"d6lab/sim/netns"
	"d6lab/sim/session"
	"d6lab/transport"
)

const keaDNSLink = `name: kea-ddns
description: one Kea server with DNS updates
model: split
link: 2001:db8:1:4::/64
lifetimes: {t1: 10s, t2: 16s, preferred: 20s, valid: 30s}
servers:
  - {name: s1, kind: kea, preference: 255}
clients:
  count: 3
  ramp: 1s
duration: 4s
`

// rfc4701DHCID is the DHCID RDATA of RFC 4701 §3.3 for a DUID (identifier
// type 2, digest type 1: SHA-256 of the DUID and the name in wire form),
// in hex as nameserver.Record.Data holds it.
func rfc4701DHCID(duid []byte, fqdn string) string {
	wire := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(fqdn), wire, 0, nil, false)
	Expect(err).NotTo(HaveOccurred())
	sum := sha256.Sum256(append(append([]byte(nil), duid...), wire[:n]...))
	return hex.EncodeToString(append([]byte{0, 2, 1}, sum[:]...))
}

// fqdnOption is a Client FQDN option (RFC 4704 §4) with flags and name in
// wire form: a partial name (no final dot) ends without the root label
// (§4.2), which insomniacslk's OptFQDN cannot send.
func fqdnOption(flags byte, name string) dhcpv6.Option {
	data := []byte{flags}
	for _, l := range strings.Split(strings.TrimSuffix(name, "."), ".") {
		data = append(data, byte(len(l)))
		data = append(data, l...)
	}
	if strings.HasSuffix(name, ".") {
		data = append(data, 0)
	}
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionFQDN, OptionData: data}
}

// dhcpAnswers reads conn's datagrams as DHCPv6 messages until it is
// closed.
func dhcpAnswers(conn *transport.UDP) <-chan *dhcpv6.Message {
	in := make(chan *dhcpv6.Message, 16)
	go func() {
		defer close(in)
		buf := make([]byte, 4096)
		for {
			n, _, _, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			if m, err := dhcpv6.MessageFromBytes(buf[:n]); err == nil {
				in <- m
			}
		}
	}()
	return in
}

// dhcpExchange sends m to All_DHCP_Relay_Agents_and_Servers (once a
// second, 4 times at most) and returns the first answer in with its
// transaction ID, or nil.
func dhcpExchange(conn *transport.UDP, in <-chan *dhcpv6.Message, m *dhcpv6.Message) *dhcpv6.Message {
	for range 4 {
		_, err := conn.WriteTo(m.ToBytes(), transport.AllServersPort)
		Expect(err).NotTo(HaveOccurred())
		tick := time.After(time.Second)
	wait:
		for {
			select {
			case r, ok := <-in:
				if !ok {
					return nil
				}
				if r.TransactionID == m.TransactionID {
					return r
				}
			case <-tick:
				break wait
			}
		}
	}
	return nil
}

// Kea with kea-dhcp-ddns, against BIND 9 in the lab: each client's AAAA
// and PTR, each with a DHCID (RFC 4701, from its DUID), appear, whether it sent a
// partial name, a full one, or asked to update its AAAA itself (S=0,
// overridden); a Release removes them; the control socket answers
// lease6-get-by-duid.
var _ = ginkgo.Describe("Kea's DNS updates through kea-dhcp-ddns", ginkgo.Label("thirdparty", "netns"), func() {
	ginkgo.It("adds AAAA, PTR and DHCID to BIND for its clients, removes them on Release, and answers lease6-get-by-duid on its control socket", func() {
		if os.Geteuid() != 0 {
			ginkgo.Skip("needs root (CAP_NET_ADMIN)")
		}
		a, err := daemon.Lookup(deploy.Kea)
		Expect(err).NotTo(HaveOccurred())
		if err := a.Installed(); err != nil {
			ginkgo.Skip(err.Error())
		}
		if _, err := os.Stat(daemon.KeaDDNSBinary); err != nil {
			ginkgo.Skip(daemon.KeaDDNSBinary + " missing (install the Debian package kea-dhcp-ddns-server)")
		}
		if err := nameserver.Installed(); err != nil {
			ginkgo.Skip(err.Error())
		}

		path := filepath.Join(ginkgo.GinkgoT().TempDir(), "kea.yaml")
		Expect(os.WriteFile(path, []byte(keaDNSLink), 0o644)).To(Succeed())
		sc, err := scenarios.Load(path)
		Expect(err).NotTo(HaveOccurred())
		cfg, err := sim.ServerConfig(sc, 0)
		Expect(err).NotTo(HaveOccurred())
		const zone = "lab.example."
		rev, err := netaddr6.ReverseZone(sc.Link)
		Expect(err).NotTo(HaveOccurred())
		key, err := nameserver.NewKey("ddns." + zone)
		Expect(err).NotTo(HaveOccurred())
		dnsAddr := netip.AddrPortFrom(sim.DNSServerAddr(), 53)
		cfg.DNS = &deploy.DNS{Server: dnsAddr, Zone: zone, ReverseZones: []string{rev}, TTL: 30 * time.Second, Key: key}

		out := ginkgo.GinkgoT().TempDir()
		ses, err := session.Open(session.Options{Name: "kea-dns"})
		Expect(err).NotTo(HaveOccurred())
		ginkgo.DeferCleanup(ses.Close)
		Expect(ses.Create(netns.Spec{Link: sc.Link, Clients: netns.NodeSpec{Name: "clients"},
			Nodes: []netns.NodeSpec{
				{Name: "srv1", Addrs: []netip.Prefix{
					sim.WithIID(sc.Servers[0].Prefix, ServerAddrIID), netip.PrefixFrom(sim.ServiceAddr(0), 64)}},
				{Name: "dns", Addrs: []netip.Prefix{netip.PrefixFrom(sim.DNSServerAddr(), 64)}},
			}})).To(Succeed())
		lab := ses.Lab
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()

		ns, err := nameserver.Prepare(nameserver.Config{
			Dir: filepath.Join(out, "dns"), Listen: sim.DNSServerAddr(), Zones: []string{zone, rev}, TTL: 30 * time.Second, Key: key,
		})
		Expect(err).NotTo(HaveOccurred())
		_, err = lab.Start("dns", ns.Argv, filepath.Join(out, "dns", "named.out"))
		Expect(err).NotTo(HaveOccurred())
		for _, z := range []string{zone, rev} {
			Expect(lab.Do("srv1", func() error { return nameserver.Ready(ctx, dnsAddr, z) })).To(Succeed())
		}

		srv := &runServer{spec: sc.Servers[0], node: "srv1", cfg: cfg, log: filepath.Join(out, "servers", "s1.log")}
		Expect(prepare(lab, srv, 0, Options{OutDir: out})).To(Succeed())
		Expect(start(ctx, lab, srv)).To(Succeed())
		d2log := filepath.Join(out, "servers", "s1-kea-dhcp-ddns.log")

		var conn *transport.UDP
		Expect(lab.Do("clients", func() (err error) {
			conn, err = transport.ListenUDP(lab.IfName("clients"), transport.ClientPort)
			return err
		})).To(Succeed())
		defer conn.Close()
		in := dhcpAnswers(conn)

		type client struct {
			duid  []byte
			sent  string // the name it sends
			flags byte   // its FQDN flags (S = 1)
			name  string // the name Kea registers
			addr  netip.Addr
			ia    *dhcpv6.OptIANA
			sid   *dhcpv6.Message
		}
		clients := []*client{
			{sent: "h1", flags: 1, name: "h1." + zone},         // partial, S=1
			{sent: "h2." + zone, flags: 1, name: "h2." + zone}, // full, S=1
			{sent: "h3", flags: 0, name: "h3." + zone},         // S=0: Kea overrides
		}
		for i, c := range clients {
			mac := net.HardwareAddr{0x02, 0xd6, 0xc1, 0, 0, byte(i + 1)}
			duid := &dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: mac}
			c.duid = duid.ToBytes()
			sol, err := dhcpv6.NewSolicit(mac, dhcpv6.WithClientID(duid))
			Expect(err).NotTo(HaveOccurred())
			sol.AddOption(fqdnOption(c.flags, c.sent))
			adv := dhcpExchange(conn, in, sol)
			Expect(adv).NotTo(BeNil(), "no Advertise for %s", c.sent)
			req, err := dhcpv6.NewRequestFromAdvertise(adv)
			Expect(err).NotTo(HaveOccurred())
			req.AddOption(fqdnOption(c.flags, c.sent))
			reply := dhcpExchange(conn, in, req)
			Expect(reply).NotTo(BeNil(), "no Reply for %s", c.sent)
			Expect(reply.MessageType).To(Equal(dhcpv6.MessageTypeReply))
			ia := reply.Options.OneIANA()
			Expect(ia).NotTo(BeNil())
			Expect(ia.Options.Addresses()).NotTo(BeEmpty())
			c.addr, _ = netip.AddrFromSlice(ia.Options.Addresses()[0].IPv6Addr)
			c.ia, c.sid = ia, reply
			// RFC 4704 §5.1: the server's flags: S=1 (it updates the
			// AAAA), O=1 when it overrode the client's S=0.
			f, ok := reply.GetOneOption(dhcpv6.OptionFQDN).(*dhcpv6.OptFQDN)
			Expect(ok).To(BeTrue(), "no Client FQDN option in the Reply: %s", reply.Summary())
			Expect(f.Flags&1).To(Equal(uint8(1)), "S in the Reply for %s", c.sent)
			Expect(f.Flags&2 != 0).To(Equal(c.flags&1 == 0), "O in the Reply for %s", c.sent)
			Expect(f.DomainName.Labels).To(Equal([]string{strings.TrimSuffix(c.name, ".")}))
		}

		records := func() map[string]nameserver.Record {
			m := map[string]nameserver.Record{}
			for _, z := range []string{zone, rev} {
				var rs []nameserver.Record
				Expect(lab.Do("srv1", func() (err error) {
					rs, err = nameserver.Transfer(dnsAddr, z, key, time.Second)
					return err
				})).To(Succeed())
				for _, r := range rs {
					m[r.Type+" "+r.Name] = r
				}
			}
			return m
		}
		var got map[string]nameserver.Record
		Eventually(func() int {
			got = records()
			return len(got)
		}).WithTimeout(10*time.Second).WithPolling(200*time.Millisecond).Should(Equal(4*len(clients)),
			"AAAA and DHCID, PTR and DHCID per client; D2's log:\n%s", readLog(d2log))
		for _, c := range clients {
			ginkgo.GinkgoWriter.Printf("%s %s: %v\n", c.name, c.addr, got["AAAA "+c.name])
			Expect(got).To(HaveKey("AAAA " + c.name))
			Expect(got["AAAA "+c.name].Addr).To(Equal(c.addr))
			// Kea 2.2's TTL, not the scenario's (its note).
			Expect(got["AAAA "+c.name].TTL).To(Equal(600 * time.Second))
			Expect(got).To(HaveKey("DHCID " + c.name))
			Expect(got["DHCID "+c.name].Data).To(Equal(rfc4701DHCID(c.duid, c.name)), "RFC 4701 §3.3 DHCID of the DUID")
			ptr := netaddr6.ReverseName(c.addr)
			Expect(got).To(HaveKey("PTR " + ptr))
			Expect(got["PTR "+ptr].Data).To(Equal(c.name))
			// D2 puts the DHCID beside the PTR too (RFC 4703 §5.4 lets
			// the reverse update use one).
			Expect(got).To(HaveKey("DHCID " + ptr))
			Expect(got["DHCID "+ptr].Data).To(Equal(rfc4701DHCID(c.duid, c.name)))
		}

		// The control socket: lease6-get-by-duid for h2.
		sc2 := clients[1]
		resp := keaCommand(srv.inst.ControlSocket, map[string]any{
			"command": "lease6-get-by-duid", "arguments": map[string]any{"duid": hexColon(sc2.duid)},
		})
		Expect(resp["result"]).To(Equal(float64(0)), "%v", resp)
		leases := resp["arguments"].(map[string]any)["leases"].([]any)
		Expect(leases).To(HaveLen(1))
		Expect(leases[0].(map[string]any)["ip-address"]).To(Equal(sc2.addr.String()))
		Expect(leases[0].(map[string]any)["hostname"]).To(Equal(sc2.name))

		// h1 releases: its four records go.
		c := clients[0]
		rel, err := dhcpv6.NewMessage()
		Expect(err).NotTo(HaveOccurred())
		rel.MessageType = dhcpv6.MessageTypeRelease
		rel.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: net.HardwareAddr{0x02, 0xd6, 0xc1, 0, 0, 1}}))
		rel.AddOption(dhcpv6.OptServerID(c.sid.Options.ServerID()))
		rel.AddOption(c.ia)
		Expect(dhcpExchange(conn, in, rel)).NotTo(BeNil(), "no Reply to the Release")
		Eventually(func() []string {
			var left []string
			for k := range records() {
				if strings.Contains(k, c.name) || strings.HasSuffix(k, netaddr6.ReverseName(c.addr)) {
					left = append(left, k)
				}
			}
			return left
		}).WithTimeout(10*time.Second).WithPolling(200*time.Millisecond).Should(BeEmpty(), "D2's log:\n%s", readLog(d2log))
		Expect(records()).To(HaveLen(4*(len(clients)-1)), "the others' records stay")

		var res Server
		collectBindings(lab, srv, &res)
		Expect(res.LeasesError).To(BeEmpty())
		log := readLog(d2log)
		Expect(strings.Count(log, "DHCP_DDNS_ADD_SUCCEEDED")).To(Equal(len(clients)), log)
		Expect(strings.Count(log, "DHCP_DDNS_REMOVE_SUCCEEDED")).To(Equal(1), log)
	})
})

// keaCommand sends one command to Kea's control socket and decodes the
// answer (a JSON object; Kea closes the connection after it).
func keaCommand(sock string, cmd map[string]any) map[string]any {
	c, err := net.Dial("unix", sock)
	Expect(err).NotTo(HaveOccurred())
	defer c.Close()
	Expect(c.SetDeadline(time.Now().Add(5 * time.Second))).To(Succeed())
	Expect(json.NewEncoder(c).Encode(cmd)).To(Succeed())
	b, err := io.ReadAll(c)
	Expect(err).NotTo(HaveOccurred())
	var m map[string]any
	Expect(json.Unmarshal(b, &m)).To(Succeed(), "%s", b)
	return m
}

func hexColon(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = hex.EncodeToString([]byte{x})
	}
	return strings.Join(parts, ":")
}

func readLog(path string) string {
	b, _ := os.ReadFile(path)
	return string(b)
}
