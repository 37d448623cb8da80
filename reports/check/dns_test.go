package check_test

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"os"
	"strings"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/netaddr6"
	"d6lab/reports/check"
	"d6lab/reports/history"
)

// DNS and Leasequery events as the netns engine records them
// (reports/history/event.go).

func name(c int) string { return history.HostName(c) + ".lab.example." }

func xfer(s float64) history.Event {
	return history.Event{At: at(s), Kind: history.DNSTransfer, Client: -1, Detail: "0"}
}

func xferFailed(s float64) history.Event {
	return history.Event{At: at(s), Kind: history.DNSTransfer, Client: -1, Cause: "dial tcp [fd00:d6:53::53]:53: connection refused"}
}

// rr is a DNSAdded (add) or DNSRemoved of client c's AAAA and PTR for lease.
func rr(add bool, s float64, c int, lease netip.Prefix) []history.Event {
	kind := history.DNSRemoved
	if add {
		kind = history.DNSAdded
	}
	return []history.Event{
		{At: at(s), Kind: kind, Client: c, Detail: name(c), Cause: history.DNSTypeAAAA, Lease: lease},
		{At: at(s), Kind: kind, Client: -1, Detail: netaddr6.ReverseName(lease.Addr()), Cause: history.DNSTypePTR, Lease: lease},
	}
}

func dhcid(s float64, c int) history.Event {
	return history.Event{At: at(s), Kind: history.DNSAdded, Client: c, Detail: name(c), Cause: history.DNSTypeDHCID, DUID: "0002aa"}
}

func dnsUpdate(s float64, srv string, c int, cause string) history.Event {
	return history.Event{At: at(s), Kind: history.DNSUpdate, Client: -1, Server: srv, Detail: name(c), Cause: cause}
}

func lqRound(s float64, servers string) history.Event {
	return history.Event{At: at(s), Kind: history.LeasequeryRound, Client: -1, Detail: servers}
}

func lqAnswer(s float64, c int, srv, cause string, lease netip.Prefix) history.Event {
	e := history.Event{At: at(s), Kind: history.LeasequeryAnswer, Client: c, DUID: "0003c1", Server: srv, Cause: cause, Lease: lease,
		Detail: history.LQByUDP}
	if cause == history.LQNoAnswer {
		e.Detail = "no answer in 2s"
	}
	return e
}

// join flattens events and event lists.
func join(parts ...any) []history.Event {
	var out []history.Event
	for _, p := range parts {
		switch v := p.(type) {
		case history.Event:
			out = append(out, v)
		case []history.Event:
			out = append(out, v...)
		}
	}
	return out
}

// splitKill: the split model, server a killed for good at 20. Client 1
// (a's) renumbers with b at 30; b replaces the AAAA (same DHCID) and adds
// a PTR for the new address; a's PTR for the old one stays. Client 2 is
// b's throughout; the name server's own AAAA does not count. The prober asks every 10 s from 5; client 1 is in the
// dark from the round at 25 until b names its new address at 45, again
// at 55 (b does not answer), and a, back at 60 with its old binding,
// names the old address at 65 (stale).
func splitKill() []history.Event {
	old, renum, two := addr(1), addr(101), addr(102)
	return run(100, join(
		labEv(history.ServerStarted, 0, "a"), labEv(history.ServerStarted, 0, "b"),
		bound(1, 1, old, duidA, 1000), bound(1, 2, two, duidB, 1000),
		dnsUpdate(1.5, "a", 1, history.DNSUpdateOK), dnsUpdate(1.5, "b", 2, history.DNSUpdateOK),
		rr(true, 2, 1, old), dhcid(2, 1), rr(true, 2, 2, two), dhcid(2, 2), xfer(2),
		// the lab's name server's own AAAA, in the service /64: not the DHCP servers'
		history.Event{At: at(2), Kind: history.DNSAdded, Client: -1, Detail: "ns.lab.example.", Cause: history.DNSTypeAAAA,
			Lease: netip.MustParsePrefix("fd00:d6:53::53/128")},
		lqRound(5, "a,b"), lqAnswer(5, 1, "a", history.LQBound, old), lqAnswer(5, 1, "b", history.LQNone, netip.Prefix{}),
		lqAnswer(5, 2, "a", history.LQNone, netip.Prefix{}), lqAnswer(5, 2, "b", history.LQBound, two),
		xfer(10),
		lqRound(15, "a,b"), lqAnswer(15, 1, "a", history.LQBound, old), lqAnswer(15, 1, "b", history.LQNone, netip.Prefix{}),
		labEv(history.ServerKilled, 20, "a"),
		lqRound(25, "b"), lqAnswer(25, 1, "b", history.LQNone, netip.Prefix{}),
		xfer(25), // client 1 still holds its old address, its records name it
		renumbered(30, 1, old, renum, duidB, 1000),
		dnsUpdate(31, "b", 1, history.DNSUpdateOK),
		rr(false, 32, 1, old)[0], rr(true, 32, 1, renum), xfer(32),
		lqRound(35, "b"), lqAnswer(35, 1, "b", history.LQNone, netip.Prefix{}),
		xfer(40),
		lqRound(45, "b"), lqAnswer(45, 1, "b", history.LQBound, renum),
		lqRound(55, "b"), lqAnswer(57, 1, "b", history.LQNoAnswer, netip.Prefix{}),
		labEv(history.ServerRestarted, 60, "a"),
		lqRound(65, "a,b"), lqAnswer(65, 1, "a", history.LQBound, old), lqAnswer(65, 1, "b", history.LQBound, renum),
		xfer(99),
	)...)
}

var _ = Describe("DNS metrics", func() {
	It("finds the old PTR abandoned and the renumbered client converged when its AAAA was replaced (split, kill)", func() {
		r := check.Analyze(splitKill(), lab)
		d := r.DNS
		Expect(d).NotTo(BeNil())
		Expect(d.Records).To(Equal(7), "AAAA and DHCID of h1 and h2, PTRs of ::1, ::65 (101), ::66 (102)")
		Expect(d.AAAA).To(Equal(2))
		Expect(d.PTR).To(Equal(3))
		Expect(d.Names).To(Equal(2))
		Expect(d.Multi).To(BeZero())
		Expect(d.Abandoned).To(Equal(1), "a's PTR of the address client 1 left")
		Expect(d.AbandonedPTR).To(Equal(1))
		Expect(d.AbandonedAAAA).To(BeZero())
		Expect(d.AbandonedMax).To(Equal(1))
		Expect(d.StaleAtEnd).To(BeZero())
		Expect(d.Transfers).To(Equal(6))
		Expect(d.Samples.AtS).To(Equal([]float64{2, 10, 25, 32, 40, 99}))
		Expect(d.Samples.Records).To(Equal([]int{6, 6, 6, 7, 7, 7}))
		Expect(d.Samples.Abandoned).To(Equal([]int{0, 0, 0, 1, 1, 1}))
		By("converging at the first sample naming the new address, not at 25 (the old one, still held)")
		Expect(d.ConvergeS).To(HaveValue(Equal(one(12))))
		Expect(d.Unconverged).To(BeZero())
		Expect(d.Updates).To(Equal(map[string]int{"ok": 3}))
		Expect(d.UpdatesByServer).To(Equal(map[string]map[string]int{"a": {"ok": 1}, "b": {"ok": 2}}))
		Expect(d.Conflicts).To(BeZero())
		Expect(d.ServerDied).To(BeNil())
	})

	It("converges at the first sample after the fault when nothing changes (identical, survivor extends)", func() {
		evs := run(60, join(
			bound(1, 1, addr(1), duidA, 100), rr(true, 2, 1, addr(1)), xfer(2),
			labEv(history.ServerKilled, 20, "a"),
			xfer(24), rebound(30, 1, addr(1), duidB, 100), xfer(34), xfer(59),
		)...)
		d := check.Analyze(evs, lab).DNS
		Expect(d.ConvergeS).To(HaveValue(Equal(one(4))))
		Expect(d.Abandoned).To(BeZero())
		Expect(d.AbandonedMax).To(BeZero())
		Expect(d.Records).To(Equal(2))
		Expect(d.Samples.Abandoned).To(Equal([]int{0, 0, 0, 0}))
	})

	It("counts abandoned records at the samples from the fault on only (a record ahead of its client's binding during the ramp is not the failover's)", func() {
		evs := run(60, join(
			rr(true, 1, 1, addr(1)), xfer(1), // the server's update seen before the client's binding
			bound(2, 1, addr(1), duidA, 100), xfer(3),
			labEv(history.ServerKilled, 20, "a"),
			xfer(24), rebound(30, 1, addr(1), duidB, 100), xfer(34),
		)...)
		d := check.Analyze(evs, lab).DNS
		Expect(d.Samples.Abandoned[0]).To(BeNumerically(">", 0), "the series keeps the ramp's sample")
		Expect(d.AbandonedMax).To(BeZero())
		Expect(d.Abandoned).To(BeZero())
	})

	It("counts a second AAAA while the dead server's records stay, and none once it returns and removes them", func() {
		evs := run(100, join(
			bound(1, 1, addr(1), duidA, 40), rr(true, 2, 1, addr(1)), xfer(2),
			labEv(history.ServerKilled, 20, "a"),
			renumbered(30, 1, addr(1), addr(101), duidB, 1000),
			// b adds its address beside a's (another DHCID: the unique model)
			rr(true, 32, 1, addr(101)), xfer(32),
			labEv(history.ServerRestarted, 60, "a"),
			// a, back, expires the lease (valid until 41) and removes both
			rr(false, 62, 1, addr(1)), xfer(62), xfer(99),
		)...)
		r := check.Analyze(evs, lab)
		d := r.DNS
		Expect(d.Samples.Abandoned).To(Equal([]int{0, 2, 0, 0}))
		Expect(d.AbandonedMax).To(Equal(2))
		Expect(d.Abandoned).To(BeZero())
		Expect(d.Multi).To(BeZero(), "at End one AAAA is left")
		Expect(d.ConvergeS).To(HaveValue(Equal(one(42))), "from the sample at 62")

		By("and, without a's return, two AAAA for one name: the multi evidence says which one the client holds")
		// up to the sample at 32, then the end
		r = check.Analyze(append(evs[:len(evs)-5:len(evs)-5], history.Event{At: at(100), Kind: history.RunEnded}), lab)
		d = r.DNS
		Expect(d.Multi).To(Equal(1))
		Expect(d.MultiEvidence).To(Equal([]check.DNSName{{Name: "h1.lab.example.", Client: 1,
			AAAA: []string{"2001:db8::1", "2001:db8::65"}, Held: []string{"2001:db8::65"}}}))
		Expect(d.Abandoned).To(Equal(2))
		Expect(d.AbandonedAAAA).To(Equal(1))
		Expect(d.StaleAtEnd).To(Equal(1))
		Expect(d.StaleEvidence).To(Equal(d.MultiEvidence))
		Expect(d.Unconverged).To(Equal(1))
		Expect(d.ConvergeS).To(HaveValue(Equal(check.Percentiles{})))
	})

	It("counts updates refused by DHCID as conflicts, per server", func() {
		evs := run(60, join(
			bound(1, 1, addr(1), duidA, 100), dnsUpdate(1.5, "a", 1, history.DNSUpdateOK),
			dnsUpdate(40, "b", 1, history.DNSUpdateConflict), dnsUpdate(41, "", 3, "refused"), xfer(50),
		)...)
		d := check.Analyze(evs, lab).DNS
		Expect(d.Conflicts).To(Equal(1))
		Expect(d.Updates).To(Equal(map[string]int{"ok": 1, "conflict": 1, "refused": 1}))
		Expect(d.UpdatesByServer).To(Equal(map[string]map[string]int{
			"a": {"ok": 1}, "b": {"conflict": 1}, check.DNSUpdateOther: {"refused": 1}}))
		By("comparing with the zones as last transferred: client 1's name was never added")
		Expect(d.StaleAtEnd).To(Equal(1))
		Expect(d.StaleEvidence).To(Equal([]check.DNSName{{Client: 1, AAAA: []string{}, Held: []string{"2001:db8::1"}}}))
		Expect(d.ConvergeS).To(BeNil(), "no fault")
	})

	It("reports a DNS server that died mid-run and judges the end on the zones last transferred", func() {
		evs := run(100, join(
			bound(1, 1, addr(1), duidA, 1000), rr(true, 2, 1, addr(1)), xfer(2),
			labEv(history.ServerKilled, 20, "a"), xfer(25),
			history.Event{At: at(28), Kind: history.DNSServerDied, Client: -1, Detail: "signal: killed"},
			renumbered(30, 1, addr(1), addr(101), duidB, 1000),
			xferFailed(32), xferFailed(99),
		)...)
		d := check.Analyze(evs, lab).DNS
		Expect(d.ServerDied).To(HaveValue(Equal(28.0)))
		Expect(d.Transfers).To(Equal(2))
		Expect(d.FailedTransfers).To(Equal(2))
		Expect(d.Samples.AtS).To(Equal([]float64{2, 25}))
		Expect(d.StaleAtEnd).To(Equal(1))
		Expect(d.Abandoned).To(Equal(2), "the AAAA and PTR of the address client 1 left")
		Expect(d.Unconverged).To(BeZero(), "its records matched at the last sample, before it renumbered")
		Expect(d.ConvergeS).To(HaveValue(Equal(one(5))))
	})

	It("leaves DNS and Leasequery out of a report whose history has none, byte for byte", func() {
		r := check.Analyze(combined(), lab)
		Expect(r.DNS).To(BeNil())
		Expect(r.Leasequery).To(BeNil())
		b, err := json.Marshal(r)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(b)).NotTo(ContainSubstring(`"dns"`))
		Expect(string(b)).NotTo(ContainSubstring(`"leasequery"`))

		By("a bound on them is unknown, saying why")
		r.Evaluate([]check.Bound{
			{Path: "dns.abandoned", Op: "==", Value: 0},
			{Path: "leasequery.gap_s.p99", Op: "<", Value: 10},
			{Path: "dns.abandnoed", Op: "==", Value: 0},
		})
		Expect(r.Expect[0].Unknown).To(BeTrue())
		Expect(r.Expect[0].Error).To(Equal("dns.abandoned: unknown: the run has no DNS zone transfer (no dns: block)"))
		Expect(r.Expect[1].Unknown).To(BeTrue())
		Expect(r.Expect[1].Error).To(ContainSubstring("no Leasequery prober round"))
		Expect(r.Expect[2].Unknown).To(BeTrue(), "scenarios.MetricPaths catches a misspelt path before a run")
	})

	It("does not count the DNS and Leasequery events as clients or lab changes", func() {
		with := check.Analyze(splitKill(), lab)
		var plain []history.Event
		for _, e := range splitKill() {
			if !strings.HasPrefix(string(e.Kind), "dns_") && !strings.HasPrefix(string(e.Kind), "lq_") {
				plain = append(plain, e)
			}
		}
		without := check.Analyze(plain, lab)
		Expect(with.Clients).To(Equal(2))
		with.DNS, with.Leasequery, with.Events = nil, nil, without.Events
		Expect(with).To(Equal(without))
	})

	It("bounds the new metrics through expect", func() {
		r := check.Analyze(splitKill(), lab)
		r.Evaluate([]check.Bound{
			{Path: "dns.abandoned", Op: "==", Value: 1},
			{Path: "dns.converge_s.p99", Op: "<=", Value: 12},
			{Path: "dns.server_died", Op: ">", Value: 0},
			{Path: "leasequery.gap_s.max", Op: "==", Value: 20},
			{Path: "leasequery.stale", Op: "==", Value: 1},
		})
		for _, x := range r.Expect[:2] {
			Expect(x.OK).To(BeTrue(), x.Name)
		}
		Expect(r.Expect[2].Unknown).To(BeTrue())
		Expect(r.Expect[2].Error).To(Equal("dns.server_died: unknown: the DNS server did not die"))
		Expect(r.Expect[3].OK).To(BeTrue(), r.Expect[3].Error)
		Expect(r.Expect[4].OK).To(BeTrue(), r.Expect[4].Error)
	})
})

var _ = Describe("Leasequery metrics", func() {
	It("measures the gap until the survivor answers, and a returning server's stale answer", func() {
		lq := check.Analyze(splitKill(), lab).Leasequery
		Expect(lq).NotTo(BeNil())
		Expect(lq.Rounds).To(Equal(7))
		Expect(lq.Sampled).To(Equal(2))
		// 5: 4 queries; 15: 2; 25, 35, 45, 55: 1 each; 65: 2
		Expect(lq.Asked).To(Equal(12))
		Expect(lq.Bound).To(Equal(6))
		Expect(lq.None).To(Equal(5))
		Expect(lq.NoAnswer).To(Equal(1))
		Expect(lq.Servers).To(Equal([]check.LQServer{
			{Name: "a", Methods: []string{history.LQByUDP}, Asked: 4, Bound: 3, None: 1, Stale: 1},
			{Name: "b", Methods: []string{history.LQByUDP}, Asked: 8, Bound: 3, None: 4, NoAnswer: 1},
		}))
		By("client 1 is dark from the round at 25 to b's answer in the round at 45 (20 s), and again from 55 to 65")
		Expect(lq.GapS).To(HaveValue(Equal(one(20))))
		Expect(lq.GapClients).To(Equal(1))
		By("a, back with its old binding, names the address client 1 left")
		Expect(lq.Stale).To(Equal(1))
	})

	It("runs a gap to the end when nobody ever answers again, and is unknown with no sampled affected client", func() {
		evs := run(100, join(
			bound(1, 1, addr(1), duidA, 1000), bound(1, 2, addr(2), duidB, 1000),
			lqRound(5, "a,b"), lqAnswer(5, 1, "a", history.LQBound, addr(1)), lqAnswer(5, 2, "b", history.LQBound, addr(2)),
			labEv(history.ServerKilled, 20, "a"),
			lqRound(30, "b"), lqAnswer(30, 1, "b", history.LQNone, netip.Prefix{}), lqAnswer(30, 2, "b", history.LQBound, addr(2)),
			lqRound(40, "b"), lqAnswer(40, 1, "b", history.LQNone, netip.Prefix{}), lqAnswer(40, 2, "b", history.LQBound, addr(2)),
		)...)
		lq := check.Analyze(evs, lab).Leasequery
		Expect(lq.GapS).To(HaveValue(Equal(one(70))), "from 30 to End (100)")
		Expect(lq.GapClients).To(Equal(1))
		Expect(lq.Stale).To(BeZero())

		var unsampled []history.Event
		for _, e := range evs {
			if e.Kind != history.LeasequeryAnswer || e.Client != 1 {
				unsampled = append(unsampled, e)
			}
		}
		r := check.Analyze(unsampled, lab)
		Expect(r.Leasequery.GapS).To(BeNil())
		r.Evaluate([]check.Bound{{Path: "leasequery.gap_s.p99", Op: "<", Value: 1}})
		Expect(r.Expect[0].Error).To(Equal("leasequery.gap_s.p99: unknown: no affected client was among the sampled clients"))
	})

	It("survives report.json and rebuilds from history.jsonl with the report's own lab", func() {
		r := check.Analyze(splitKill(), lab)
		b, err := json.Marshal(r)
		Expect(err).NotTo(HaveOccurred())
		var back check.Report
		Expect(json.Unmarshal(b, &back)).To(Succeed())
		Expect(&back).To(Equal(r))

		var buf bytes.Buffer
		Expect(history.WriteJSONL(&buf, splitKill())).To(Succeed())
		evs, err := history.ReadJSONL(&buf)
		Expect(err).NotTo(HaveOccurred())
		Expect(check.Analyze(evs, back.Lab())).To(Equal(r))
	})

	It("matches testdata/dns.golden.json", func() {
		r := check.Analyze(splitKill(), lab)
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetIndent("", "  ")
		Expect(enc.Encode(map[string]any{"dns": r.DNS, "leasequery": r.Leasequery})).To(Succeed())
		if *update {
			Expect(os.WriteFile("testdata/dns.golden.json", out.Bytes(), 0o644)).To(Succeed())
		}
		want, err := os.ReadFile("testdata/dns.golden.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(out.String()).To(Equal(string(want)))
	})
})

// BenchmarkAnalyzeDNS: synthetic's 1000 clients with the zones sampled
// every second for 900 s (about 3,000 records, 900 transfers) and a prober
// round every 2 s about 100 of them.
func BenchmarkAnalyzeDNS(b *testing.B) {
	const n = 1000
	evs := synthetic(n, 1)
	for c := range n {
		evs = append(evs, rr(true, 11, c, addr(c))...)
		if c%2 == 0 && c%3 != 0 { // a's renumbered and expired clients
			evs = append(evs, rr(false, 760, c, addr(c))[0])
			evs = append(evs, rr(true, 760, c, addr(c+n))...)
		}
	}
	for s := 1; s < 900; s++ {
		evs = append(evs, xfer(float64(s)))
		if s%2 == 0 {
			evs = append(evs, lqRound(float64(s), "a,b"))
			for c := 0; c < n; c += 10 {
				evs = append(evs, lqAnswer(float64(s)+0.1, c, "b", history.LQNone, netip.Prefix{}))
			}
		}
	}
	for b.Loop() {
		r := check.Analyze(evs, lab)
		if r.DNS == nil || r.DNS.Transfers != 899 || r.Leasequery.GapS == nil {
			b.Fatalf("unexpected report: %+v", r.DNS)
		}
	}
	b.ReportMetric(float64(len(evs)), "events")
}
