package check_test

import (
	"bytes"
	"encoding/json"
	"os"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// combined is a small history with one client per outcome, an unaffected
// client, a duplicate, and (since the DAD contract) a NoBinding then a
// Release, an extension by the restarted faulted server, a renumbering
// that keeps the old lease, a Confirm answered NotOnLink, an NA+PD client
// whose prefix comes back later than its address, and two DAD conflicts
// (one with a population client, one with a foreign host), analysed into
// testdata/report.golden.json.
func combined() []history.Event {
	tentative := func(e history.Event, s float64) history.Event { e.Tentative = secs(s); return e }
	seven := 7
	dad := func(s float64, c int, lease history.Event, peer *int) history.Event {
		return history.Event{At: at(s), Kind: history.Declined, Client: c, IA: history.IANA, Lease: lease.Lease,
			Cause: history.CauseDAD, Peer: peer}
	}
	kept := renumbered(33, 13, addr(20), addr(21), duidB, 100)
	kept.Cause = history.CauseOldKept
	conflict7 := tentative(bound(52, 11, addr(7), duidB, 100), 1)
	foreign := tentative(bound(60, 12, addr(99), duidB, 100), 1)
	pd, pd2 := pfx("2001:db8:100::/56"), pfx("2001:db8:101::/56")
	return run(120,
		labEv(history.ServerStarted, 0, "a"), labEv(history.ServerStarted, 0, "b"),
		bound(1, 1, addr(1), duidA, 100),  // extended
		bound(1, 2, addr(2), duidA, 100),  // renumbered
		bound(1, 3, addr(3), duidA, 100),  // refused nobinding
		bound(1, 4, addr(4), duidA, 100),  // refused zero
		bound(1, 5, addr(5), duidA, 30),   // silent, same address again
		bound(1, 6, addr(6), duidA, 30),   // silent, never recovered
		bound(2, 7, addr(7), duidB, 1000), // unaffected
		renewed(15, 1, addr(1), duidA, 100),
		labEv(history.ServerKilled, 20, "a"),
		rebound(30, 1, addr(1), duidB, 100),
		renumbered(32, 2, addr(2), addr(12), duidB, 100),
		ended(history.Refused, 34, 3, addr(3), history.CauseNoBinding), bound(40, 3, addr(13), duidB, 100),
		ended(history.Refused, 35, 4, addr(4), history.CauseZeroLifetime), bound(45, 4, addr(14), duidB, 100),
		ended(history.Expired, 31, 5, addr(5), ""), bound(36, 5, addr(5), duidB, 100),
		ended(history.Expired, 31, 6, addr(6), ""),
		bound(50, 8, addr(12), duidB, 100), // b hands client 2's address out again
		labEv(history.ServerRestarted, 90, "a"),
		// 9: NoBinding (kept), then released: outcome released; back at 39
		// after 1 s of DAD
		bound(1, 9, addr(9), duidA, 100),
		history.Event{At: at(30), Kind: history.NoBinding, Client: 9, Server: duidB, IA: history.IANA, IAID: 1, Lease: addr(9)},
		ended(history.Released, 33, 9, addr(9), ""),
		tentative(bound(38, 9, addr(19), duidB, 100), 1),
		// 10: extended by a once restarted (its lease outlives the outage)
		bound(1, 10, addr(10), duidA, 100), renewed(95, 10, addr(10), duidA, 100),
		// 11, 12 (unaffected): DAD conflicts with client 7 and with a
		// foreign host; 11 is usable again at 56, 12 never
		conflict7, dad(53, 11, conflict7, &seven), tentative(bound(55, 11, addr(17), duidB, 100), 1),
		foreign, dad(61, 12, foreign, nil),
		// 13: renumbered keeping the old lease (it stays valid until 101)
		bound(1, 13, addr(20), duidA, 100), kept,
		// 15: a Confirm answered NotOnLink ends the lease at 25
		bound(1, 15, addr(22), duidA, 100),
		history.Event{At: at(25), Kind: history.Confirmed, Client: 15, IA: history.IANA, Lease: addr(22), Cause: history.CauseNotOnLink},
		bound(28, 15, addr(23), duidB, 100),
		// 16: NA+PD; the address is rebound at 30, the prefix refused at 31
		// and delegated again at 50
		bound(1, 16, addr(24), duidA, 100), bound(1, 16, pd, duidA, 100),
		rebound(30, 16, addr(24), duidB, 100),
		history.Event{At: at(31), Kind: history.Refused, Client: 16, IA: history.IAPD, Lease: pd, Cause: history.CauseZeroLifetime},
		bound(50, 16, pd2, duidB, 100),
	)
}

var _ = Describe("Golden report", func() {
	seven := 7
	l := lab
	l.Step = 10 * time.Second
	bounds := []check.Bound{
		{Path: "rebind.failure_rate", Op: "<=", Value: 0.9, Raw: "<= 0.9"},
		{Path: "reacquire_s.p99", Op: "<", Value: 20, Raw: "< 20s"},
	}

	It("matches testdata/report.golden.json", func() {
		r := check.Analyze(combined(), l)
		r.Evaluate(bounds)
		var out bytes.Buffer
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		Expect(enc.Encode(r)).To(Succeed())
		got := out.Bytes()
		if *update {
			Expect(os.WriteFile("testdata/report.golden.json", got, 0o644)).To(Succeed())
			var buf bytes.Buffer
			Expect(history.WriteJSONL(&buf, combined())).To(Succeed())
			Expect(os.WriteFile("testdata/history.jsonl", buf.Bytes(), 0o644)).To(Succeed())
		}
		want, err := os.ReadFile("testdata/report.golden.json")
		Expect(err).NotTo(HaveOccurred())
		Expect(string(got)).To(Equal(string(want)))

		By("checking the numbers that matter by hand")
		Expect(r.Affected).To(Equal(11))
		// extended: 1, 16 by b, 10 by a after its restart; renumbered: 2, and
		// 13 keeping its old lease; refused: 3, 4, and 15 (NotOnLink);
		// silent: 5, 6; released: 9, after a NoBinding. Decided: 11 - 1.
		Expect(r.Rebind).To(Equal(check.Rebind{
			Extended: 3, ExtendedSurvivor: 2, ExtendedRecovered: 1, Renumbered: 2,
			Refused: 3, RefusedNoBinding: 1, RefusedZero: 1, Silent: 2, Released: 1, NoBinding: 1,
			FailureRate: f64(7.0 / 10),
		}))
		// reacquire: 10 (1), 12 (2), 20 (3), 25 (4), 16 (5), 19 (9: usable
		// at 39), 70 (10: a back at 90), 13 (13), 8 (15), 30 (16: its prefix)
		Expect(r.ReacquireS).To(HaveValue(Equal(check.Percentiles{Count: 10, P50: 16, P95: 70, P99: 70, Max: 70})))
		// outage: 0, 0, 6, 10, 5, 6 (33..39, 1 s tentative), 0, 0, 3, 19
		// (16's prefix 31..50)
		Expect(r.OutageS).To(HaveValue(Equal(check.Percentiles{Count: 10, P50: 3, P95: 19, P99: 19, Max: 19})))
		Expect(r.OutageTentativeS).To(HaveValue(Equal(check.Percentiles{Count: 10, P50: 0, P95: 1, P99: 1, Max: 1})))
		Expect(r.Unrecovered).To(Equal(1))
		Expect(r.Continuity).To(HaveValue(Equal(3.0 / 11))) // 1, 5, 10
		Expect(r.PerIA).To(HaveKeyWithValue("pd", check.IAFailover{Affected: 1, ReacquireS: &check.Percentiles{Count: 1, P50: 30, P95: 30, P99: 30, Max: 30},
			OutageS: &check.Percentiles{Count: 1, P50: 19, P95: 19, P99: 19, Max: 19}, Continuity: f64(0)}))
		na := r.PerIA["na"]
		Expect(na.Affected).To(Equal(11))
		Expect(na.Unrecovered).To(Equal(1))
		Expect(na.ReacquireS.Max).To(Equal(70.0))
		Expect(na.OutageS.Max).To(Equal(10.0))
		Expect(na.Continuity).To(HaveValue(Equal(4.0/11)), "16 kept its address")
		Expect(r.Duplicates.Addresses).To(Equal(1), "a declined tentative address is no duplicate; 13's kept one is not reused")
		Expect(r.Duplicates.OverlapS).To(Equal(70.0)) // [50, 120)
		Expect(r.Conflicts.Count).To(Equal(2))
		Expect(r.Conflicts.Pairs).To(Equal(2))
		Expect(r.Conflicts.DelayS).To(Equal(one(4))) // 11: granted at 52, usable again at 56
		Expect(r.Conflicts.Unrecovered).To(Equal(1))
		Expect(r.Conflicts.Evidence).To(Equal([]check.Conflict{
			{Address: "2001:db8::7", Client: 11, Holder: &seven, At: at(53), Server: "b"},
			{Address: "2001:db8::63", Client: 12, At: at(61), Server: "b"},
		}))
		Expect(r.Life).To(Equal(check.Life{Released: 1, Declined: 2, NotOnLink: 1}))
		Expect(r.Clients).To(Equal(15))
		Expect(r.Bound).To(Equal(13))
		Expect(r.BindingShare.AtS).To(HaveLen(12))
		Expect(r.BindingShare.Series["a"][1]).To(Equal(12)) // clients 1-6, 9, 10, 13, 15, 16 (two leases)
		Expect(r.BindingShare.Series["b"][1]).To(Equal(1))
		Expect(r.BindingShare.Last).To(Equal(map[string]int{"a": 1, "b": 13}))
		Expect(r.OK()).To(BeFalse(), "a duplicate and a broken p99 bound")
	})

	It("rebuilds the same report from testdata/history.jsonl", func() {
		f, err := os.Open("testdata/history.jsonl")
		Expect(err).NotTo(HaveOccurred())
		defer f.Close()
		evs, err := history.ReadJSONL(f)
		Expect(err).NotTo(HaveOccurred())
		Expect(evs).To(Equal(combined()), "the fixture matches the code that made it")
		want := check.Analyze(combined(), l)
		Expect(check.Analyze(evs, l)).To(Equal(want))
		Expect(check.Analyze(evs, want.Lab())).To(Equal(want), "the report carries its lab")
	})

	It("survives a JSON round trip", func() {
		r := check.Analyze(combined(), l)
		r.Evaluate(bounds)
		b, err := json.Marshal(r)
		Expect(err).NotTo(HaveOccurred())
		var back check.Report
		Expect(json.Unmarshal(b, &back)).To(Succeed())
		Expect(&back).To(Equal(r))
	})
})
