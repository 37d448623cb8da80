package lab

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/population"
	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server"
	"d6lab/server/alloc"
	"d6lab/server/daemon"
	"d6lab/server/lease"
	"d6lab/sim"
	"d6lab/sim/netns"
	"d6lab/sim/session"
	"d6lab/transport"
)

// The crash test: one builtin server (`d6lab serve`, a real process in its
// namespace) answers a population of clients whose lifetimes are seconds
// long (T1 2s, T2 3s, preferred 4s, valid 6s), so that Renews flow all the
// time. At random moments (a seeded draw of 0.2-1.5 s apart) the server is
// killed with SIGKILL and started again at once with the same command line.
//
// An acknowledged binding is what a client learnt from a Reply: a Bound,
// Renewed, Rebound or Renumbered event for lease L at time t with valid
// lifetime V, which the client holds until t+V unless a later Reply, a
// Release or a Decline ends it. Such a binding is LOST when, before t+V
// minus crashSlack, the server answers that client with
//   - status NoBinding for the IA (seen on the wire: after a Renew the
//     client then sends a Request, so its history alone would not show it;
//     after a Rebind it is also a Refused event with cause nobinding), or
//   - lifetimes 0 for L (Refused, cause zero), or
//   - another lease in place of L (Renumbered).
// Each acknowledged binding counts once. crashSlack allows for the server
// computing expiry from when it sent the Reply, a little before the client
// received it: a refusal in the last crashSlack of a lease is not counted.
// With --leases, after the last kill the lease file must also hold every
// binding still acknowledged then (same lease, expiry no earlier than the
// client's less crashSlack).
//
// Duplicates come from reports/check.Analyze over the same history. The
// allocator is sequential, so a server that forgot its bindings hands
// held addresses to the next clients that ask: forgetting shows as
// duplicates too, not only as losses.
//
// The same loop without --leases (the in-memory store) is the control: it
// must lose bindings, or the test could not fail.

const crashSlack = 250 * time.Millisecond

// crashKills is the number of kills per run: D6LAB_CRASH_KILLS, else 10.
func crashKills() int {
	if n, err := strconv.Atoi(os.Getenv("D6LAB_CRASH_KILLS")); err == nil && n > 0 {
		return n
	}
	return 10
}

// crashClients is the population size: D6LAB_CRASH_CLIENTS, else 500.
func crashClients() int {
	if n, err := strconv.Atoi(os.Getenv("D6LAB_CRASH_CLIENTS")); err == nil && n > 0 {
		return n
	}
	return 500
}

type crashConfig struct {
	Bin     string // d6lab binary
	Dir     string // logs and lease file
	Durable bool   // run the server with --leases
	Sync    lease.Durability
	Kills   int
	Clients int
	Seed    uint64
}

// crashResult is what one run measured.
type crashResult struct {
	Kills         int
	Restart       time.Duration // mean time from SIGKILL to the new process listening
	RestartMax    time.Duration
	Replies       int // Replies the clients received: exchanges answered
	Acks          int // acknowledged bindings (Bound, Renewed, Rebound, Renumbered)
	AcksAfterLast int // clients acknowledged after the last restart
	Lost          int // acknowledged bindings lost (see the comment above)
	LostClients   int
	Expired       int // leases that ran out on the client (no answer in time)
	StoreMissing  int // durable: acknowledged at the last kill, absent from the file
	StoreChecked  int
	Duplicates    check.Duplicates
	Evidence      []string // the first few losses
}

func (r *crashResult) String() string {
	return fmt.Sprintf("kills %d (restart mean %s, max %s); exchanges answered (Replies) %d; acknowledged bindings %d; "+
		"lost %d (clients %d); expired %d; duplicates: addresses %d, pairs %d; file check: %d of %d missing",
		r.Kills, r.Restart.Round(time.Millisecond), r.RestartMax.Round(time.Millisecond), r.Replies, r.Acks,
		r.Lost, r.LostClients, r.Expired, r.Duplicates.Addresses, r.Duplicates.Pairs, r.StoreMissing, r.StoreChecked)
}

// noBinding is a Reply seen on the wire whose IA carried NoBinding.
type noBinding struct {
	at   time.Time
	duid string // hex
	iaid uint32
}

// tapConn watches what the clients receive.
type tapConn struct {
	transport.Conn
	mu      sync.Mutex
	replies int
	nb      []noBinding
}

func (c *tapConn) ReadFrom(b []byte) (int, netip.AddrPort, bool, error) {
	n, src, mc, err := c.Conn.ReadFrom(b)
	if err != nil {
		return n, src, mc, err
	}
	m, derr := dhcpv6.MessageFromBytes(b[:n])
	if derr != nil || m.MessageType != dhcpv6.MessageTypeReply {
		return n, src, mc, err
	}
	at := time.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.replies++
	cid := m.Options.ClientID()
	for _, ia := range m.Options.IANA() {
		if st := ia.Options.Status(); st != nil && st.StatusCode == iana.StatusNoBinding && cid != nil {
			c.nb = append(c.nb, noBinding{at: at, duid: hex.EncodeToString(cid.ToBytes()), iaid: iaidOf(ia.IaId)})
		}
	}
	return n, src, mc, err
}

func iaidOf(b [4]byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// crashServerConfig is the server of the crash lab.
func crashServerConfig(link netip.Prefix, seed uint64) server.Config {
	cfg := server.DefaultConfig()
	cfg.Name = "srv1"
	cfg.DUID = sim.ServerDUID(0)
	cfg.Prefix = link
	base := link.Addr().As16()
	first, last := base, base
	first[14], last[14], last[15] = 0x10, 0xff, 0xff
	pool, err := alloc.NewPool(netip.AddrFrom16(first), netip.AddrFrom16(last))
	Expect(err).NotTo(HaveOccurred())
	cfg.Pool = pool
	cfg.Preference = 255
	cfg.T1, cfg.T2, cfg.Preferred, cfg.Valid = 2*time.Second, 3*time.Second, 4*time.Second, 6*time.Second
	cfg.Allocator = deploy.AllocSequential
	cfg.Rebind = deploy.RebindNoBinding // a forgotten binding is refused, never silently re-created
	cfg.Seed = seed
	Expect(cfg.Validate()).To(Succeed())
	return cfg
}

// crashRun builds a lab, runs the kill loop and measures it.
func crashRun(ctx context.Context, cc crashConfig) (res *crashResult, err error) {
	link := netip.MustParsePrefix("2001:db8:c0::/64")
	ses, err := session.Open(session.Options{Name: "crash"})
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, ses.Close()) }()
	if err := ses.Create(netns.Spec{Link: link,
		Clients: netns.NodeSpec{Name: "clients"}, Nodes: []netns.NodeSpec{{Name: "srv1"}}}); err != nil {
		return nil, err
	}
	lab := ses.Lab

	cfg := crashServerConfig(link, cc.Seed)
	srv := &runServer{spec: scenarios.Server{Name: "srv1"}, node: "srv1", cfg: cfg,
		log: filepath.Join(cc.Dir, "srv1.log"), leases: filepath.Join(cc.Dir, "srv1.leases")}
	srv.argv = daemon.ServeArgv(cc.Bin, lab.IfName(srv.node), srv.leases, cc.Sync, cfg)
	if !cc.Durable {
		i := slices.Index(srv.argv, "--leases")
		srv.argv = slices.Delete(srv.argv, i, i+2)
	}
	rec := &recorder{}
	if err := start(ctx, lab, srv); err != nil {
		return nil, err
	}
	rec.lab(history.ServerStarted, "srv1", fmt.Sprintf("pid %d", srv.proc.PID))

	var udp *transport.UDP
	if err := lab.Do("clients", func() error {
		var err error
		udp, err = transport.ListenUDP(lab.IfName("clients"), transport.ClientPort)
		return err
	}); err != nil {
		return nil, fmt.Errorf("client socket: %w", err)
	}
	tap := &tapConn{Conn: udp}
	var boundMu sync.Mutex
	bound := map[int]bool{}
	pop, err := population.New(population.Config{
		Count: cc.Clients, Seed: cc.Seed, IANA: true, Ramp: time.Second,
		// REN_TIMEOUT 0.5 s and REB_TIMEOUT 0.5 s: a Renew or Rebind lost
		// while the server restarts is sent again before the lease runs out.
		Timescale: 0.05,
		Sink: func(e history.Event) {
			rec.add(e)
			if e.Kind == history.Bound {
				boundMu.Lock()
				bound[e.Client] = true
				boundMu.Unlock()
			}
		},
	})
	if err != nil {
		udp.Close()
		return nil, err
	}
	popCtx, cancelPop := context.WithCancel(ctx)
	popDone := make(chan error, 1)
	start0 := time.Now()
	rec.add(history.Event{At: start0, Kind: history.RunStarted, Client: -1, Detail: "crash"})
	go func() { popDone <- population.Run(popCtx, pop, tap, time.Now) }()
	stopPop := sync.OnceValue(func() error {
		cancelPop()
		udp.Close()
		if err := <-popDone; err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	defer stopPop()

	// Every client bound before the first kill.
	for deadline := time.Now().Add(20 * time.Second); ; {
		boundMu.Lock()
		n := len(bound)
		boundMu.Unlock()
		if n == cc.Clients {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d clients bound before the first kill", n, cc.Clients)
		}
		if err := sleepUntil(ctx, time.Now().Add(50*time.Millisecond)); err != nil {
			return nil, err
		}
	}

	res = &crashResult{}
	rng := rand.New(rand.NewPCG(cc.Seed, 0xc4a54))
	var lastRestart time.Time
	for k := 0; k < cc.Kills; k++ {
		gap := 200*time.Millisecond + time.Duration(rng.Int64N(int64(1300*time.Millisecond)))
		if err := sleepUntil(ctx, time.Now().Add(gap)); err != nil {
			return nil, err
		}
		t := time.Now()
		if err := lab.Kill(srv.proc); err != nil {
			return nil, err
		}
		rec.lab(history.ServerKilled, "srv1", "SIGKILL")
		if err := start(ctx, lab, srv); err != nil {
			return nil, err
		}
		lastRestart = time.Now()
		rec.lab(history.ServerRestarted, "srv1", "state keep")
		d := lastRestart.Sub(t)
		res.Restart += d
		res.RestartMax = max(res.RestartMax, d)
		res.Kills++
	}
	if res.Kills > 0 {
		res.Restart /= time.Duration(res.Kills)
	}
	// Long enough for every client to renew after the last restart.
	if err := sleepUntil(ctx, time.Now().Add(cfg.Valid+time.Second)); err != nil {
		return nil, err
	}
	finalKill := time.Now()
	if err := lab.Kill(srv.proc); err != nil {
		return nil, err
	}
	rec.lab(history.ServerKilled, "srv1", "SIGKILL (end)")
	if err := stopPop(); err != nil {
		return nil, fmt.Errorf("client population: %w", err)
	}
	end := time.Now()
	rec.add(history.Event{At: end, Kind: history.RunEnded, Client: -1, Detail: "crash"})
	events := rec.snapshot()

	tap.mu.Lock()
	res.Replies = tap.replies
	nbs := append([]noBinding(nil), tap.nb...)
	tap.mu.Unlock()
	held := judgeLosses(events, nbs, res, lastRestart)

	if cc.Durable {
		st, err := lease.OpenBolt(srv.leases)
		if err != nil {
			return nil, fmt.Errorf("reopen the lease file: %w", err)
		}
		defer st.Close()
		for _, h := range held {
			if h.until.Sub(finalKill) <= crashSlack {
				continue // no longer acknowledged at the last kill
			}
			res.StoreChecked++
			duid, _ := hex.DecodeString(h.duid)
			b, ok := st.Get(lease.KeyOf(duid, h.iaid, lease.NA))
			if !ok || b.Lease != h.lease || b.Expires.Before(h.until.Add(-crashSlack)) {
				res.StoreMissing++
				if len(res.Evidence) < 5 {
					res.Evidence = append(res.Evidence, fmt.Sprintf("file: client %s holds %s until %s; file has %+v (%v)",
						h.duid, h.lease, h.until.Format(time.StampMilli), b, ok))
				}
			}
		}
	}

	rep := check.Analyze(events, check.Lab{Scenario: "crash", Engine: "netns",
		Servers: []check.ServerInfo{{Name: "srv1", DUID: server.FormatDUID(cfg.DUID), Prefix: link}},
		Start:   start0, End: end})
	res.Duplicates = rep.Duplicates
	return res, nil
}

// heldLease is a client's acknowledged binding.
type heldLease struct {
	duid  string
	iaid  uint32
	lease netip.Prefix
	until time.Time // zero: none
	lost  bool      // counted already
}

// judgeLosses applies the definition at the top of this file to the
// history and the NoBinding answers seen on the wire; it returns each
// client's binding as acknowledged at the end.
func judgeLosses(events []history.Event, nbs []noBinding, res *crashResult, lastRestart time.Time) map[int]*heldLease {
	type item struct {
		at time.Time
		e  *history.Event
		nb *noBinding
	}
	items := make([]item, 0, len(events)+len(nbs))
	for i := range events {
		if events[i].Client >= 0 {
			items = append(items, item{at: events[i].At, e: &events[i]})
		}
	}
	byDUID := map[string]int{}
	for i := range events {
		if events[i].Client >= 0 && events[i].DUID != "" {
			byDUID[events[i].DUID] = events[i].Client
		}
	}
	for i := range nbs {
		items = append(items, item{at: nbs[i].at, nb: &nbs[i]})
	}
	// Stable: a Reply is seen on the wire before the client's event for it.
	slices.SortStableFunc(items, func(a, b item) int { return a.at.Compare(b.at) })

	held := map[int]*heldLease{}
	lostClients := map[int]bool{}
	afterLast := map[int]bool{}
	lose := func(c int, h *heldLease, at time.Time, why string) {
		if h == nil || h.lost || h.until.IsZero() || h.until.Sub(at) <= crashSlack {
			return
		}
		h.lost = true
		res.Lost++
		lostClients[c] = true
		if len(res.Evidence) < 5 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("client %d: %s at %s, %s acknowledged until %s",
				c, why, at.Format(time.StampMilli), h.lease, h.until.Format(time.StampMilli)))
		}
	}
	for _, it := range items {
		if it.nb != nil {
			c, ok := byDUID[it.nb.duid]
			if !ok {
				continue
			}
			lose(c, held[c], it.at, "NoBinding")
			continue
		}
		e := it.e
		h := held[e.Client]
		switch e.Kind {
		case history.Bound, history.Renewed, history.Rebound, history.Renumbered:
			if e.Kind == history.Renumbered {
				lose(e.Client, h, e.At, "renumbered to "+e.Lease.String())
			}
			res.Acks++
			if !e.At.Before(lastRestart) {
				afterLast[e.Client] = true
			}
			held[e.Client] = &heldLease{duid: e.DUID, iaid: e.IAID, lease: e.Lease, until: e.At.Add(e.Valid)}
		case history.Refused:
			lose(e.Client, h, e.At, "refused ("+e.Cause+")")
			delete(held, e.Client)
		case history.Expired:
			res.Expired++
			delete(held, e.Client)
		case history.Released, history.Declined:
			delete(held, e.Client)
		}
	}
	res.LostClients = len(lostClients)
	res.AcksAfterLast = len(afterLast)
	return held
}

var _ = ginkgo.Describe("a builtin server killed with SIGKILL under load", ginkgo.Label("netns", "crash"), ginkgo.Ordered, func() {
	var bin string
	kills := crashKills()
	clients := crashClients()

	ginkgo.BeforeAll(func() {
		if os.Geteuid() != 0 {
			ginkgo.Skip("needs root (CAP_NET_ADMIN): network namespaces for the server and the clients")
		}
		goBin, err := exec.LookPath("go")
		Expect(err).NotTo(HaveOccurred(), "the go command, to build d6lab")
		bin = filepath.Join(ginkgo.GinkgoT().TempDir(), "d6lab")
		out, err := exec.Command(goBin, "build", "-o", bin, "d6lab/cmd/d6lab").CombinedOutput()
		Expect(err).NotTo(HaveOccurred(), "go build d6lab/cmd/d6lab:\n%s", out)
	})

	run := func(durable bool, sync lease.Durability) *crashResult {
		dir := ginkgo.GinkgoT().TempDir()
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(kills)*3*time.Second+2*time.Minute)
		defer cancel()
		res, err := crashRun(ctx, crashConfig{Bin: bin, Dir: dir, Durable: durable, Sync: sync, Kills: kills, Clients: clients, Seed: 6853})
		Expect(err).NotTo(HaveOccurred())
		name := "memory (control)"
		if durable {
			name = "--leases (bbolt), --leases-sync " + sync.String()
		}
		for _, ev := range res.Evidence {
			fmt.Fprintf(ginkgo.GinkgoWriter, "  %s\n", ev)
		}
		ginkgo.AddReportEntry(fmt.Sprintf("crash %s, %d clients", name, clients), res.String())
		Expect(res.Kills).To(Equal(kills))
		// Liveness: every client was answered after the last restart, so
		// no loss could hide behind a server that stopped answering.
		Expect(res.AcksAfterLast).To(Equal(clients), "clients acknowledged after the last restart")
		return res
	}

	durable := func(sync lease.Durability) {
		res := run(true, sync)
		Expect(res.Lost).To(BeZero(), "acknowledged bindings lost: %v", res.Evidence)
		Expect(res.StoreChecked).To(Equal(clients), "bindings acknowledged at the last kill")
		Expect(res.StoreMissing).To(BeZero(), "acknowledged bindings missing from the lease file: %v", res.Evidence)
		Expect(res.Duplicates.Addresses).To(BeZero(), "duplicate addresses: %+v", res.Duplicates)
	}

	ginkgo.It("loses no acknowledged binding and makes no duplicate with --leases", func() {
		durable(lease.OnDisk)
	})

	// A SIGKILL takes the process, not the kernel's page cache: what the
	// committer wrote before the Replies left is there for the restart.
	ginkgo.It("loses no acknowledged binding either with --leases-sync write (no fdatasync)", func() {
		durable(lease.InKernel)
	})

	ginkgo.It("loses bindings without --leases (the control: the test can fail)", func() {
		res := run(false, lease.OnDisk)
		Expect(res.Lost).To(BeNumerically(">", 0))
	})
})
