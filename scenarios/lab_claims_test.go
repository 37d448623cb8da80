package scenarios_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/gomega"

	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/scenarios"
)

// claim is what RFC 6853 says a scenario's deployment must show.
type claim string

const (
	// §6.1, §6.2: the rebinding fails and the client takes a new binding
	// from the active server's pool (split) or prefix (unique).
	claimRenumber claim = "renumber"
	// §6.3 with §7's deterministic allocator: the other server assigns the
	// same address.
	claimContinuity claim = "continuity"
	// §7: without it, "there is a distinct chance that each server will
	// assign the same address to two different clients".
	claimDuplicates claim = "duplicates"
	// §7 on one link with duplicate address detection on (RFC 4862): the
	// second client's DAD finds the holder, so it Declines the address
	// (RFC 9915 §18.2.8) instead of using it: conflicts, no duplicates.
	claimConflicts claim = "conflicts"
	// Anything else: safe, and everyone gets an address back.
	claimSafe claim = "safe"
)

// claimOf classifies a scenario by its model, allocators and timeline.
func claimOf(sc *scenarios.Scenario) claim {
	fault, wipe := false, false
	for _, a := range sc.Timeline {
		switch a.Kind {
		case scenarios.Kill, scenarios.Freeze, scenarios.Cut:
			fault = true
		case scenarios.Restart:
			wipe = wipe || a.State == scenarios.Wipe
		}
	}
	switch {
	case sc.Clients.Stateless():
		// No lease to renumber, keep or duplicate: the stateless metrics
		// carry the claims, in the file's own expect: bounds.
		return claimSafe
	case sc.Model == scenarios.Identical && allAllocators(sc, deploy.AllocSequential) && wipe && sc.Clients.DAD == 0:
		return claimDuplicates
	case sc.Model == scenarios.Identical && allAllocators(sc, deploy.AllocSequential) && wipe:
		return claimConflicts
	case (sc.Model == scenarios.Split || sc.Model == scenarios.Unique) && fault:
		return claimRenumber
	case sc.Model == scenarios.Identical && allAllocators(sc, deploy.AllocHash) && fault:
		return claimContinuity
	}
	return claimSafe
}

func allAllocators(sc *scenarios.Scenario, a deploy.Allocator) bool {
	for _, s := range sc.Servers {
		if s.Allocator != a {
			return false
		}
	}
	return true
}

// assertScenario checks a finished run: its own bounds, then its claim.
func assertScenario(r *labRun) {
	sc, rep := r.sc, r.rep
	Expect(rep.Expect).To(HaveLen(len(sc.Expect)), "every expect: bound evaluated")
	for _, x := range rep.Expect {
		Expect(x.OK).To(BeTrue(), "%s: expect %s %s, got %v %s", sc.Name, x.Name, x.Bound, x.Value, x.Error)
	}
	Expect(rep.OK()).To(BeTrue())

	h := analyzeHistory(r)
	c := claimOf(sc)
	if c != claimDuplicates {
		// "unknown" when no client holds a lease (stateless clients).
		Expect(rep.Duplicates.Verdict).NotTo(Equal(check.VerdictViolated), "duplicates: %+v", rep.Duplicates.Evidence)
		Expect(rep.Duplicates.Addresses).To(BeZero())
		Expect(rep.Unrecovered).To(BeZero(), "affected clients that never got an address back")
		for k, g := range h.after {
			Expect(g.kind).NotTo(BeEmpty(), "affected client %d got no %s lease after the fault", k.client, k.ia)
		}
	}
	if sc.DNS != nil || sc.Leasequery != nil {
		assertProbes(r)
	}
	switch c {
	case claimRenumber:
		assertRenumbered(r, h)
	case claimContinuity:
		Expect(h.affected()).NotTo(BeZero(), "nobody was affected: continuity would be 1 by definition")
		Expect(rep.Affected).To(Equal(h.affected()), "affected clients, checker vs history")
		Expect(rep.Continuity).To(HaveValue(BeNumerically(">=", 0.95)))
	case claimDuplicates:
		assertDuplicates(r, h)
	case claimConflicts:
		assertConflicts(r)
	}
}

// assertProbes: a run with dns: transferred the zones every sample and
// at the end, without a failure, saw every simulated client's name in the
// forward zone and the servers' updates in named's log, each from a server
// of the run; a run with leasequery: asked the servers every interval.
// (The bounds of RFC 6853 §7's claims are in each file's expect:.)
func assertProbes(r *labRun) {
	sc, rep := r.sc, r.rep
	if sc.DNS != nil {
		d := rep.DNS
		Expect(d).NotTo(BeNil(), "no DNS figures: the lab recorded no zone transfer")
		Expect(d.FailedTransfers).To(BeZero())
		Expect(d.ServerDied).To(BeNil(), "the DNS server died")
		min := int(sc.Duration/sc.DNS.Sample) - 2
		Expect(d.Transfers).To(BeNumerically(">=", min), "one transfer per %s sample", sc.DNS.Sample)
		names := map[string]bool{}
		servers := map[string]bool{}
		for _, e := range r.res.Events {
			switch e.Kind {
			case history.DNSAdded:
				if e.Cause == history.DNSTypeAAAA && e.Client >= 0 && e.Client < sc.Clients.Count {
					Expect(e.Detail).To(Equal(history.HostName(e.Client) + "." + sc.DNS.Zone))
					names[e.Detail] = true
				}
			case history.DNSUpdate:
				_, ok := sc.Server(e.Server)
				Expect(ok).To(BeTrue(), "update %s (%s) from no server of the run: %q", e.Detail, e.Cause, e.Server)
				servers[e.Server] = true
			}
		}
		Expect(names).To(HaveLen(sc.Clients.Count), "names of the first clients.count clients that ever had an AAAA")
		Expect(servers).To(HaveKey(sc.Servers[0].Name), "updates from the preferred server")
	}
	if sc.Leasequery != nil {
		q := rep.Leasequery
		Expect(q).NotTo(BeNil(), "no Leasequery figures: the prober recorded nothing")
		Expect(q.Sampled).To(Equal(sc.Leasequery.Clients))
		Expect(q.Rounds).To(BeNumerically(">=", int(sc.Duration/sc.Leasequery.Interval)-2))
	}
}

// assertConflicts: DAD caught what would have been duplicates. Each
// conflict names a holder of the population that the history shows was
// granted the address before the declining client's probe, and nobody
// used an address twice.
func assertConflicts(r *labRun) {
	cf := r.rep.Conflicts
	Expect(cf.Count).To(BeNumerically(">", 0), "no conflict: DAD caught nothing")
	Expect(r.rep.Duplicates.Addresses).To(BeZero(), "two clients used one address although DAD was on")
	for _, ev := range cf.Evidence {
		Expect(ev.Holder).NotTo(BeNil(), "conflict on %s with a host outside the population", ev.Address)
		held := false
		for _, e := range r.res.Events {
			if e.Client == *ev.Holder && e.Lease.Addr().String() == ev.Address && !e.At.After(ev.At) {
				switch e.Kind {
				case history.Bound, history.Renewed, history.Rebound, history.Renumbered:
					held = true
				}
			}
		}
		Expect(held).To(BeTrue(), "client %d declined %s at %s naming holder %d, who was never granted it", ev.Client, ev.Address, ev.At, *ev.Holder)
	}
}

// assertRenumbered: every affected client's first lease after the fault is
// a new one, granted by a surviving server, inside that server's pool
// (split) or prefix (unique).
func assertRenumbered(r *labRun, h *historyView) {
	sc, rep := r.sc, r.rep
	Expect(h.affected()).NotTo(BeZero(), "nobody was affected")
	Expect(rep.Affected).To(Equal(h.affected()), "affected clients, checker vs history")
	Expect(rep.Continuity).To(HaveValue(BeNumerically("<=", 0.05)))
	for k, g := range h.after {
		c := k.client
		srv, ok := h.byDUID[g.server]
		Expect(ok).To(BeTrue(), "client %d: lease %v from unknown server %s", c, g.lease, g.server)
		Expect(h.hit[srv.Name]).To(BeFalse(), "client %d: lease %v from %s, the server the fault hit", c, g.lease, srv.Name)
		Expect(g.kind).To(BeElementOf(history.Bound, history.Renumbered), "client %d kept or renewed %v", c, g.lease)
		Expect(h.before[c]).NotTo(ContainElement(g.lease), "client %d got its old lease back", c)
		addr := g.lease.Addr()
		if k.ia == history.IAPD { // a delegated prefix: from the survivor's PD pool
			Expect(srv.PDPool.Contains(addr) && g.lease.Bits() >= srv.PDPool.Bits()).To(BeTrue(),
				"client %d: prefix %v outside %s's PD pool %v", c, g.lease, srv.Name, srv.PDPool)
		} else if sc.Model == scenarios.Unique {
			Expect(srv.Prefix.Contains(addr)).To(BeTrue(), "client %d: %v outside %s's prefix %v", c, addr, srv.Name, srv.Prefix)
		} else {
			Expect(srv.Pool.Contains(addr)).To(BeTrue(), "client %d: %v outside %s's pool %v", c, addr, srv.Name, srv.Pool)
		}
	}
}

// assertDuplicates: the report found duplicate assignments, and its
// evidence names two clients that the history shows were both given that
// address from the shared pool before their overlap began; some of the
// overlaps began after the wiping restart (others may come from s2, whose
// sequential allocator also starts at the bottom of the pool, answering
// clients while s1 restarts).
func assertDuplicates(r *labRun, h *historyView) {
	sc, d := r.sc, r.rep.Duplicates
	Expect(d.Verdict).To(Equal(check.VerdictViolated))
	Expect(d.Addresses).To(BeNumerically(">", 0))
	Expect(d.Pairs).To(BeNumerically(">", 0))
	Expect(d.OverlapS).To(BeNumerically(">", 0))
	Expect(d.Evidence).NotTo(BeEmpty())
	pool := sc.Servers[0].Pool
	for _, s := range sc.Servers[1:] {
		Expect(s.Pool).To(Equal(pool), "identical model: one pool shared by every server")
	}
	Expect(h.restart.IsZero()).To(BeFalse(), "no wiping restart in the history")
	afterRestart := 0
	for _, e := range d.Evidence {
		addr, err := netip.ParseAddr(e.Address)
		Expect(err).NotTo(HaveOccurred(), "evidence address %q", e.Address)
		Expect(pool.Contains(addr)).To(BeTrue(), "%v outside the shared pool %v", addr, pool)
		Expect(e.ClientA).NotTo(Equal(e.ClientB))
		Expect(e.OverlapS).To(BeNumerically(">", 0))
		for _, c := range []int{e.ClientA, e.ClientB} {
			at, ok := h.granted[addr][c]
			Expect(ok).To(BeTrue(), "history: %v never granted to client %d", addr, c)
			Expect(at).To(BeTemporally("<=", e.From), "history: client %d got %v only after the overlap began", c, addr)
		}
		if !e.From.Before(h.restart) {
			afterRestart++
		}
	}
	Expect(afterRestart).To(BeNumerically(">", 0), "no overlap began after the wiping restart")
}

// grant is a lease a client was given.
type grant struct {
	kind   history.Kind
	ia     string // history.IANA or history.IAPD
	lease  netip.Prefix
	server string // normalized DUID
	at     time.Time
	valid  time.Duration
}

// historyView is the suite's own reading of a history, independent of the
// checkers: who the fault affected and what they got next.
type historyView struct {
	byDUID  map[string]*scenarios.Server
	hit     map[string]bool                  // server names the fault hit
	before  map[int][]netip.Prefix           // affected client -> leases held at the fault
	after   map[iaKey]grant                  // affected client's IA -> its first grant after the fault (zero: none)
	granted map[netip.Addr]map[int]time.Time // address -> client -> its first grant of it
	restart time.Time                        // first wiping restart
}

// iaKey names one IA type of one client.
type iaKey struct {
	client int
	ia     string
}

func (h *historyView) affected() int { return len(h.before) }

func grantKind(k history.Kind) bool {
	return k == history.Bound || k == history.Renewed || k == history.Rebound || k == history.Renumbered
}

func analyzeHistory(r *labRun) *historyView {
	h := &historyView{
		byDUID:  map[string]*scenarios.Server{},
		hit:     map[string]bool{},
		before:  map[int][]netip.Prefix{},
		after:   map[iaKey]grant{},
		granted: map[netip.Addr]map[int]time.Time{},
	}
	for _, s := range r.res.Servers {
		sv, ok := r.sc.Server(s.Name)
		Expect(ok).To(BeTrue(), "lab server %s not in the scenario", s.Name)
		h.byDUID[check.NormalizeDUID(s.DUID)] = sv
	}
	held := map[int]map[netip.Prefix]grant{} // client -> lease -> last grant
	hitDUID := func(duid string) bool {
		s, ok := h.byDUID[duid]
		return ok && h.hit[s.Name]
	}
	faultSeen := false
	var faultAt time.Time
	for _, e := range r.res.Events {
		if e.Client < 0 {
			switch e.Kind {
			case history.ServerKilled, history.ServerFrozen, history.LinkCut:
				if !faultSeen {
					faultSeen, faultAt = true, e.At
					h.hit[e.Server] = true
					for c, leases := range held {
						for l, g := range leases {
							if g.at.Add(g.valid).After(faultAt) && hitDUID(g.server) {
								h.before[c] = append(h.before[c], l)
								h.after[iaKey{c, g.ia}] = grant{}
							}
						}
					}
				}
			case history.ServerRestarted:
				if strings.Contains(e.Detail, string(scenarios.Wipe)) && h.restart.IsZero() {
					h.restart = e.At
				}
			}
			continue
		}
		if held[e.Client] == nil {
			held[e.Client] = map[netip.Prefix]grant{}
		}
		g := grant{kind: e.Kind, ia: e.IA, lease: e.Lease, server: check.NormalizeDUID(e.Server), at: e.At, valid: e.Valid}
		switch {
		case grantKind(e.Kind) && e.Lease.IsValid():
			if e.Kind == history.Renumbered {
				delete(held[e.Client], e.Old)
			}
			held[e.Client][e.Lease] = g
			if h.granted[e.Lease.Addr()] == nil {
				h.granted[e.Lease.Addr()] = map[int]time.Time{}
			}
			if _, ok := h.granted[e.Lease.Addr()][e.Client]; !ok {
				h.granted[e.Lease.Addr()][e.Client] = e.At
			}
			if faultSeen {
				if a, ok := h.after[iaKey{e.Client, e.IA}]; ok && a.kind == "" {
					h.after[iaKey{e.Client, e.IA}] = g
				}
			}
		case e.Kind == history.Refused || e.Kind == history.Expired || e.Kind == history.Released || e.Kind == history.Declined:
			delete(held[e.Client], e.Lease)
		}
	}
	return h
}

// measured is the one-line summary of a run the suite reports.
func measured(r *labRun) string {
	rep := r.rep
	rb := rep.Rebind
	// unknown (nil) when no client was affected
	var reacq, outage check.Percentiles
	if p := rep.ReacquireS; p != nil {
		reacq = *p
	}
	if p := rep.OutageS; p != nil {
		outage = *p
	}
	continuity := "n/a"
	if c := rep.Continuity; c != nil {
		continuity = strconv.FormatFloat(*c, 'f', 3, 64)
	}
	return fmt.Sprintf("%s: %d clients, bound %d, affected %d; rebind extended %d renumbered %d refused %d (nobinding %d, zero %d) silent %d undecided %d; "+
		"reacquire p50 %.2fs p99 %.2fs max %.2fs; outage max %.2fs; continuity %s; unrecovered %d; duplicates %d addresses, %d pairs, %.0fs overlap; took %s; history in %s",
		rep.Scenario, rep.Clients, rep.Bound, rep.Affected, rb.Extended, rb.Renumbered, rb.Refused, rb.RefusedNoBinding, rb.RefusedZero, rb.Silent, rb.Undecided,
		reacq.P50, reacq.P99, reacq.Max, outage.Max, continuity, rep.Unrecovered,
		rep.Duplicates.Addresses, rep.Duplicates.Pairs, rep.Duplicates.OverlapS, r.took.Round(time.Second), r.dir) +
		statelessMeasured(rep.Stateless) + expectMeasured(rep.Expect)
}

// statelessMeasured adds the stateless metrics when the run had stateless
// clients.
func statelessMeasured(st check.Stateless) string {
	if st.Clients == 0 {
		return ""
	}
	return fmt.Sprintf("; stateless %d clients, %d refreshes, %d failed, affected %d, outage p50 %.2fs max %.2fs",
		st.Clients, st.Refreshes, st.RefreshFailures, st.Affected, st.OutageS.P50, st.OutageS.Max)
}

// expectMeasured lists every expect: bound with the value it met, so that a
// failure's summary line carries the figures.
func expectMeasured(xs []check.ExpectResult) string {
	var b strings.Builder
	for _, x := range xs {
		mark := "ok"
		if !x.OK {
			mark = "BROKEN"
		}
		fmt.Fprintf(&b, "; %s %s: %v %s", x.Name, x.Bound, x.Value, mark)
	}
	return b.String()
}

// namespacesOf lists the names in /run/netns (what `ip netns list` shows)
// that belong to the run prefix.
func namespacesOf(prefix string) []string {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix+"-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// proc identifies a process by PID and start time, so that a reused PID is
// not mistaken for it.
type proc struct {
	pid   int
	start string
}

func (p proc) alive() bool { return startTime(p.pid) == p.start }

// startTime is field 22 of /proc/PID/stat ("" when the process is gone).
func startTime(pid int) string {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	i := bytes.LastIndexByte(b, ')') // comm may hold spaces
	if i < 0 {
		return ""
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 20 {
		return ""
	}
	return f[19]
}

// processesWith lists the processes whose command line mentions dir (the
// servers of a run: their --leases file lives there).
func processesWith(dir string) []proc {
	entries, _ := os.ReadDir("/proc")
	var out []proc
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(dir+"/")) {
			continue
		}
		if st := startTime(pid); st != "" {
			out = append(out, proc{pid: pid, start: st})
		}
	}
	return out
}
