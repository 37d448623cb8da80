package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/iana"
	"github.com/miekg/dns"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/vishvananda/netlink"

	"d6lab/deploy"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/ddns"
	"d6lab/server/lease"
	"d6lab/transport"
)

// readBuffer is the server socket's receive buffer (bytes).
const readBuffer = 4 << 20

func serveCmd() *cobra.Command {
	cfg := server.DefaultConfig()
	var (
		iface, prefix, duid, leases, allocator string
		duidType                               string
		pdPool                                 string
		pdLen                                  int
		cpuProfile                             string
		preference                             int
		echoMode                               bool
		dnsFlags                               ddnsFlags
		leaseSync                              lease.Durability
		procs                                  int
		offload                                bool
	)
	c := &cobra.Command{
		Use:   "serve --iface IF --pool POOL [flags]",
		Short: "Run the builtin DHCPv6 server on one interface",
		Long: `serve runs d6lab's builtin DHCPv6 server on one interface: UDP port 547, joined to
ff02::1:2 (All_DHCP_Relay_Agents_and_Servers) on that interface, also answering relays
that send to it by unicast. On SIGTERM or SIGINT it prints its counters (received,
answered, dropped by reason) and exits 0. Bad flags exit 2.

Its DUID (the Server Identifier) is made of the interface's own link-layer address
(RFC 9915 §11): a DUID-LL by default, a DUID-LLT with --duid-type llt. --duid HEX sets
it instead, and is needed on an interface without one (a loopback, a tun device).

POOL is a prefix (2001:db8:1:1::/65) or an inclusive range (2001:db8:1:1::100-2001:db8:1:1::1ff).

With --ddns-server, --ddns-zone and --ddns-key-file it keeps its clients' names in DNS:
it answers the Client FQDN option (RFC 4704; a partial name is completed with the zone)
and sends RFC 2136 updates signed with the TSIG key (AAAA, DHCID and, in the
--ddns-reverse zones, PTR) under RFC 4703's conflict rules, adding a name when an
address is bound and removing it on Release, Decline and expiry. The updates leave
from a queue beside the handler: a DNS server that is down never delays an answer
(a full queue drops the change, counted). Each update's outcome is one log line
("ddns: add h7.lab.example. 2001:db8:1::7: ok"); at exit the counters follow the
message counters ("ddns sent N", ok, conflicts, failures, dropped, ...).`,
		Example: `  d6lab serve --iface eth0 --prefix 2001:db8:1:1::/64 --pool 2001:db8:1:1::/65 --preference 255 \
      --t1 10s --t2 16s --preferred 20s --valid 30s --allocator hash --rebind create`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if iface == "" {
				return badInput("--iface is required")
			}
			if procs < 0 {
				return badInput("--procs %d: want 1 or more (0: Go's default, one per CPU)", procs)
			}
			if procs > 0 && (cmd.Flags().Changed("procs") || os.Getenv("GOMAXPROCS") == "") {
				runtime.GOMAXPROCS(procs)
			}
			if echoMode {
				return serveEcho(cmd, iface, offload) // echo.go
			}
			if cfg.Pool.IsZero() {
				return badInput("--pool is required (a prefix or first-last range)")
			}
			if preference < 0 || preference > 255 {
				return badInput("--preference %d: want 0..255", preference)
			}
			cfg.Preference = uint8(preference)
			if prefix != "" {
				p, err := netip.ParsePrefix(prefix)
				if err != nil {
					return badInput("--prefix: %v", err)
				}
				cfg.Prefix = p.Masked()
			}
			a, err := deploy.ParseAllocator(allocator)
			if err != nil {
				return badInput("--allocator: %v", err)
			}
			cfg.Allocator = a
			if duidType != "ll" && duidType != "llt" {
				return badInput("--duid-type %q: want ll or llt", duidType)
			}
			if duid != "" {
				d, err := server.ParseDUID(duid)
				if err != nil {
					return badInput("--duid: %v", err)
				}
				cfg.DUID = d
			} else {
				d, err := interfaceDUID(iface, duidType, time.Now())
				if err != nil {
					return err
				}
				cfg.DUID = d
			}
			if pdPool != "" {
				p, err := netip.ParsePrefix(pdPool)
				if err != nil {
					return badInput("--pd-pool: %v", err)
				}
				pp, err := alloc.NewPrefixPool(p, pdLen)
				if err != nil {
					return badInput("--pd-pool/--pd-len: %v", err)
				}
				cfg.PDPool = pp
			}
			if cfg.Name == "" {
				cfg.Name = iface
			}
			dnsCfg, err := dnsFlags.config(cmd)
			if err != nil {
				return err
			}
			cfg.DNS = dnsCfg
			// The interface's own addresses are never handed out (a
			// client given one would collide with the server itself).
			cfg.Pool = cfg.Pool.Exclude(interfaceAddrs(iface)...)
			if err := cfg.Validate(); err != nil {
				return badInput("%v", err)
			}
			out := cmd.OutOrStdout()
			if cmd.Flags().Changed("leases-sync") && leases == "" {
				return badInput("--leases-sync %s needs --leases: bindings kept in memory are never written", leaseSync)
			}
			var store lease.Store = lease.NewMemory()
			if leases != "" {
				// A binding is committed to the file (fdatasynced, or with
				// --leases-sync write written to the kernel) before the
				// Reply that acknowledges it is sent: the store defers its
				// writes and Serve syncs them, once per group of answers,
				// before it sends the Replies that depend on them.
				if err := os.MkdirAll(filepath.Dir(leases), 0o755); err != nil {
					return &exitError{code: exitBadInput, err: fmt.Errorf("--leases: %w", err)}
				}
				db, err := lease.OpenBoltWith(leases, lease.BoltOptions{Deferred: true, Durability: leaseSync})
				if err != nil {
					return &exitError{code: exitBadInput, err: fmt.Errorf("--leases: %w", err)}
				}
				defer db.Close()
				store = db
				fmt.Fprintf(out, "d6lab serve: leases in %s (%d bindings restored), a Reply sent after its binding's %s\n", leases, db.Len(), leaseSync)
			} else {
				fmt.Fprintln(out, "d6lab serve: leases kept in memory (lost when the process ends; --leases PATH keeps them)")
			}
			srv, err := server.New(cfg, store)
			if err != nil {
				return badInput("%v", err)
			}
			conn, err := listenServer(cmd, iface, "d6lab serve", offload)
			if err != nil {
				return err
			}
			if ex := cfg.Pool.Excluded(); len(ex) > 0 {
				fmt.Fprintf(out, "d6lab serve: never hands out %v: configured on %s\n", ex, iface)
			}
			// The lab waits for this line (sim/lab.ReadyLine).
			fmt.Fprintf(out, "d6lab serve: listening on %s [%s]:%d and %s, DUID %s, pool %s, preference %d\n",
				iface, conn.LocalAddr().Addr(), transport.ServerPort, transport.AllServers,
				server.FormatDUID(srv.DUID()), cfg.Pool, cfg.Preference)

			if cpuProfile != "" {
				f, err := os.Create(cpuProfile)
				if err != nil {
					return &exitError{code: exitBadInput, err: fmt.Errorf("--cpuprofile: %w", err)}
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return &exitError{code: exitBadInput, err: fmt.Errorf("--cpuprofile: %w", err)}
				}
				defer pprof.StopCPUProfile()
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var updater *ddns.Runner
			updaterDone := make(chan struct{})
			cancelUpdater := func() {}
			if cfg.DNS != nil {
				// The updater runs beside the handler: the handler hands it
				// each exchange's DNS changes without waiting (a full queue
				// drops them, counted), so a dead DNS server never holds up
				// an answer.
				updater, err = ddns.NewRunner(*cfg.DNS, ddns.Options{}, 0, out)
				if err != nil {
					return badInput("--ddns-*: %v", err)
				}
				srv.SetDNSSink(updater.OfferAll)
				var uctx context.Context
				uctx, cancelUpdater = context.WithCancel(ctx)
				go func() {
					defer close(updaterDone)
					if err := updater.Run(uctx); err != nil {
						fmt.Fprintf(cmd.ErrOrStderr(), "d6lab serve: DNS updates stopped: %v\n", err)
					}
				}()
				defer func() { cancelUpdater(); <-updaterDone }()
				fmt.Fprintf(out, "d6lab serve: DNS updates to %s for %s (reverse %s, TTL %v, key %s)\n",
					cfg.DNS.Server, cfg.DNS.Zone, strings.Join(cfg.DNS.ReverseZones, ","), cfg.DNS.TTL, cfg.DNS.Key.Name)
			}
			err = serveWithBulk(ctx, cmd, conn, srv, iface) // server.Serve, and Bulk Leasequery on TCP (bulk.go)
			printCounters(cmd, srv.Counters())
			if updater != nil {
				cancelUpdater() // Serve is done: end the updater now
				<-updaterDone
				printDDNS(cmd, updater.Stats(), srv.FQDNIgnored())
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&iface, "iface", "", "interface to serve (required)")
	f.StringVar(&prefix, "prefix", "", "on-link prefix, for Confirm and appropriateness (default: the /64 of the pool)")
	f.Var(&cfg.Pool, "pool", "address pool: a prefix or a first-last range (required)")
	f.IntVar(&preference, "preference", 0, "Preference option value sent in every Advertise (0..255)")
	f.DurationVar(&cfg.T1, "t1", 30*time.Minute, "T1: when clients Renew")
	f.DurationVar(&cfg.T2, "t2", 48*time.Minute, "T2: when clients Rebind")
	f.DurationVar(&cfg.Preferred, "preferred", time.Hour, "preferred lifetime")
	f.DurationVar(&cfg.Valid, "valid", 2*time.Hour, "valid lifetime")
	f.StringVar(&allocator, "allocator", "hash", "address allocator: hash|sequential|random")
	f.Var(&cfg.Rebind, "rebind", "answer to a Rebind for a binding this server lacks: create|zero|nobinding|silent")
	f.StringVar(&pdPool, "pd-pool", "", "prefix-delegation pool, e.g. 2001:db8:100::/40 (default: none)")
	f.IntVar(&pdLen, "pd-len", 56, "length of each delegated prefix")
	f.StringVar(&duid, "duid", "", "server DUID in hex (default: one made of --iface's link-layer address, see --duid-type)")
	f.StringVar(&duidType, "duid-type", "ll", "kind of the default DUID: ll (DUID-LL, RFC 9915 §11.4) or llt (DUID-LLT, §11.2, with the time the server starts)")
	f.StringVar(&leases, "leases", "", "lease file (bbolt; created if absent): bindings survive restarts and crashes (default: in memory)")
	f.Var(&leaseSync, "leases-sync", "what a Reply waits for with --leases: fdatasync (its binding on disk: survives a power loss) or write (written to the kernel: survives the server's crash or SIGKILL, as Kea's memfile)")
	f.BoolVar(&offload, "offload", false, "send runs of answers to one destination as one segmented message (UDP_SEGMENT) and read runs a sender segmented as one (UDP_GRO): the kernel carries a run through its stack once. d6lab bench turns it on (its clients share one socket, as clients behind one relay share its address). Off by default: nftables rules and packet captures see a run as one packet, so a lab's pcap would show one oversized datagram and its loss would drop a run whole")
	f.IntVar(&procs, "procs", 0, "Go scheduler Ps (GOMAXPROCS) the server runs on; 0: Go's default (one per CPU); GOMAXPROCS in the environment wins over the default. The handler is one goroutine, beside a sender and a committer: on the lab's 2 cores, with one P the others waited behind a send and 1 % of exchanges took 12 ms (d6lab bench at 256,000/s), with two it was 2 ms there")
	f.BoolVar(&cfg.RapidCommit, "rapid-commit", false, "answer Rapid Commit Solicits with a Reply (RFC 9915 §18.3.1)")
	f.Uint64Var(&cfg.Seed, "seed", 1, "seed of the random allocator")
	f.DurationVar(&cfg.InfoRefresh, "info-refresh", 0, "Information Refresh Time sent to Information-request clients (RFC 9915 §21.23; 0: none, clients use IRT_DEFAULT)")
	dnsFlags.add(f)
	addBulkFlag(f)
	f.BoolVar(&echoMode, "echo", false, "answer every message at once with a fixed answer, no DHCP work: the lab's ceiling for d6lab bench --server echo (other flags but --iface, --offload and --procs are ignored)")
	_ = f.MarkHidden("echo")
	f.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) to this file until the server stops")
	_ = f.MarkHidden("cpuprofile")
	return c
}

// printCounters writes the server's counters, one per line.
func printCounters(cmd *cobra.Command, c server.Counters) {
	out := cmd.OutOrStdout()
	fmt.Fprintf(out, "received %d\nanswered %d\n", c.Received, c.Answered)
	reasons := make([]string, 0, len(c.Dropped))
	by := map[string]uint64{}
	for r, n := range c.Dropped {
		reasons = append(reasons, r.String())
		by[r.String()] = n
	}
	sort.Strings(reasons)
	for _, r := range reasons {
		fmt.Fprintf(out, "dropped %s %d\n", r, by[r])
	}
	fmt.Fprintf(out, "dropped total %d\n", c.DroppedTotal())
}

// interfaceDUID is the server's own DUID (RFC 9915 §11) of kind "ll" or
// "llt" (the time now), made of ifname's link-layer address: each device
// has its own, so servers on interfaces of the same name in different
// namespaces or hosts still differ. An interface without an Ethernet
// address is bad input naming --duid, the flag that sets one.
func interfaceDUID(ifname, kind string, now time.Time) ([]byte, error) {
	link, err := netlink.LinkByName(ifname)
	if errors.As(err, new(netlink.LinkNotFoundError)) {
		return nil, badInput("--iface %s: no such interface", ifname)
	}
	if err != nil {
		return nil, badInput("--iface %s: %v", ifname, err)
	}
	a := link.Attrs()
	d, err := server.HardwareDUID(kind, iana.HWTypeEthernet, a.HardwareAddr, now)
	switch {
	case errors.Is(err, server.ErrNoLinkLayerAddr):
		return nil, badInput("--iface %s has no link-layer address to make the server's DUID of (link type %s); give it one with --duid HEX", ifname, a.EncapType)
	case err != nil:
		return nil, badInput("--duid-type: %v", err)
	case a.EncapType != "ether":
		return nil, badInput("--iface %s has a %s link-layer address, not an Ethernet one to make the server's DUID of; give it one with --duid HEX", ifname, a.EncapType)
	}
	return d, nil
}

// interfaceAddrs lists the IPv6 addresses configured on the interface
// named ifname (none when it cannot be read: ListenUDP reports that).
func interfaceAddrs(ifname string) []netip.Addr {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && ip.Is6() && !ip.Is4In6() {
				out = append(out, ip)
			}
		}
	}
	return out
}

// ddnsFlags are serve's --ddns-* flags: the DNS updates of RFC 4704 and
// RFC 4703 (server/ddns).
type ddnsFlags struct {
	server, zone, reverse, keyFile string
	ttl                            time.Duration
}

func (d *ddnsFlags) add(f *pflag.FlagSet) {
	f.StringVar(&d.server, "ddns-server", "", "DNS server that takes the RFC 2136 updates, [address]:port (turns DNS updates on, with --ddns-zone and --ddns-key-file)")
	f.StringVar(&d.zone, "ddns-zone", "", "forward zone the clients' names go in (a partial name in a Client FQDN option is completed with it), e.g. lab.example.")
	f.StringVar(&d.reverse, "ddns-reverse", "", "ip6.arpa zones for the PTR records, comma-separated (default: none, no PTRs)")
	f.DurationVar(&d.ttl, "ddns-ttl", 30*time.Second, "TTL of the AAAA, PTR and DHCID records (whole seconds)")
	f.StringVar(&d.keyFile, "ddns-key-file", "", "TSIG key file signing the updates: one line \"name algorithm base64-secret\", e.g. \"d6lab-ddns. hmac-sha256. c2VjcmV0\" ('#' starts a comment)")
}

// config returns the DNS configuration the flags give, nil when none of
// them is set; a bad value is bad input naming its flag.
func (d *ddnsFlags) config(cmd *cobra.Command) (*deploy.DNS, error) {
	set := false
	for _, n := range []string{"ddns-server", "ddns-zone", "ddns-reverse", "ddns-ttl", "ddns-key-file"} {
		set = set || cmd.Flags().Changed(n)
	}
	if !set {
		return nil, nil
	}
	switch {
	case d.server == "":
		return nil, badInput("--ddns-server is required with the other --ddns-* flags")
	case d.zone == "":
		return nil, badInput("--ddns-zone is required with --ddns-server")
	case d.keyFile == "":
		return nil, badInput("--ddns-key-file is required with --ddns-server (updates are signed with TSIG)")
	}
	c := &deploy.DNS{TTL: d.ttl}
	ap, err := netip.ParseAddrPort(d.server)
	if err != nil || ap.Port() == 0 {
		return nil, badInput("--ddns-server %q: want [address]:port, e.g. [fd00:d6:53::53]:53", d.server)
	}
	c.Server = ap
	if _, ok := dns.IsDomainName(d.zone); !ok {
		return nil, badInput("--ddns-zone %q is not a domain name", d.zone)
	}
	c.Zone = strings.ToLower(dns.Fqdn(d.zone))
	if d.reverse != "" {
		for _, z := range strings.Split(d.reverse, ",") {
			z = strings.ToLower(dns.Fqdn(strings.TrimSpace(z)))
			if _, ok := dns.IsDomainName(z); !ok || !ddns.InZone(z, "ip6.arpa.") || z == "ip6.arpa." {
				return nil, badInput("--ddns-reverse %q: want zones under ip6.arpa., comma-separated", z)
			}
			c.ReverseZones = append(c.ReverseZones, z)
		}
	}
	if d.ttl < 0 || d.ttl%time.Second != 0 {
		return nil, badInput("--ddns-ttl %v: want whole seconds, 0 or more", d.ttl)
	}
	k, err := ddns.ReadKeyFile(d.keyFile)
	if err != nil {
		return nil, badInput("--ddns-key-file: %v", err)
	}
	c.Key = k
	if err := ddns.Validate(*c); err != nil {
		return nil, badInput("--ddns-*: %v", err)
	}
	return c, nil
}

// printDDNS writes the DNS updater's counters, one per line, after the
// message counters.
func printDDNS(cmd *cobra.Command, s ddns.RunnerStats, ignored uint64) {
	out := cmd.OutOrStdout()
	for _, c := range []struct {
		name string
		n    uint64
	}{{"sent", s.Sent}, {"retries", s.Retries}, {"ok", s.OK}, {"skipped", s.Skipped},
		{"conflicts", s.Conflicts}, {"failures", s.Failures}, {"dropped", s.Dropped}, {"fqdn-ignored", ignored}} {
		fmt.Fprintf(out, "ddns %s %d\n", c.name, c.n)
	}
}

// listenServer opens a server's socket on iface: port 547, joined to
// ff02::1:2, with room for a few thousand queued datagrams (bursts and
// the moments the scheduler takes the server off the CPU) and, with
// offload, the kernel's UDP segmentation and receive offloads
// (transport.UDP.SetOffload). A setting the kernel refuses is said on
// stderr and the server goes on without it.
func listenServer(cmd *cobra.Command, iface, who string, offload bool) (*transport.UDP, error) {
	conn, err := transport.ListenUDP(iface, transport.ServerPort, transport.AllServers)
	if err != nil {
		return nil, &exitError{code: exitBadInput, err: err}
	}
	if _, err := conn.SetReadBuffer(readBuffer); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v (going on with the default)\n", who, err)
	}
	if offload {
		if err := conn.SetOffload(); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s: %v (going on without offload)\n", who, err)
		}
	}
	return conn, nil
}
