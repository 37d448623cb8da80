package check_test

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

var _ = Describe("Duplicate assignments", func() {
	x := addr(7)

	dups := func(evs ...history.Event) check.Duplicates {
		return check.Analyze(run(200, evs...), lab).Duplicates
	}

	It("finds two clients holding one address at once, with evidence", func() {
		d := dups(bound(0, 1, x, duidA, 100), bound(40, 2, x, duidB, 100))
		Expect(d.Verdict).To(Equal(check.VerdictViolated))
		Expect(d.Addresses).To(Equal(1))
		Expect(d.Pairs).To(Equal(1))
		Expect(d.OverlapS).To(Equal(60.0))
		Expect(d.Evidence).To(Equal([]check.Evidence{{
			Address: "2001:db8::7", ClientA: 1, ClientB: 2, From: at(40), To: at(100),
			OverlapS: 60, ServerA: "a", ServerB: "b",
		}}))
	})

	It("does not count back-to-back intervals", func() {
		d := dups(bound(0, 1, x, duidA, 50), bound(50, 2, x, duidB, 100))
		Expect(d.Verdict).To(Equal(check.VerdictOK))
		Expect(d.Addresses).To(BeZero())
		Expect(d.Evidence).To(BeEmpty())
	})

	It("extends an interval on renewal", func() {
		// without the renewal client 1's lease ends at 30, before client 2's
		d := dups(bound(0, 1, x, duidA, 30), renewed(20, 1, x, duidA, 30), bound(40, 2, x, duidB, 100))
		Expect(d.Addresses).To(Equal(1))
		Expect(d.OverlapS).To(Equal(10.0))
		Expect(d.Evidence[0].From).To(Equal(at(40)))
		Expect(d.Evidence[0].To).To(Equal(at(50)))
	})

	It("does not count an address reused after release, decline, refusal or renumbering", func() {
		d := dups(
			bound(0, 1, addr(1), duidA, 100), ended(history.Released, 20, 1, addr(1), ""), bound(20, 2, addr(1), duidA, 100),
			bound(0, 3, addr(2), duidA, 100), ended(history.Declined, 20, 3, addr(2), ""), bound(25, 4, addr(2), duidA, 100),
			bound(0, 5, addr(3), duidA, 100), ended(history.Refused, 20, 5, addr(3), history.CauseZeroLifetime), bound(21, 6, addr(3), duidB, 100),
			bound(0, 7, addr(4), duidA, 100), renumbered(20, 7, addr(4), addr(5), duidB, 100), bound(20, 8, addr(4), duidB, 100),
		)
		Expect(d.Verdict).To(Equal(check.VerdictOK))
		Expect(d.Addresses).To(BeZero())
	})

	It("closes every lease of the IA when a Refused names none", func() {
		nb := history.Event{At: at(20), Kind: history.Refused, Client: 1, IA: history.IANA, Cause: history.CauseNoBinding}
		d := dups(bound(0, 1, addr(1), duidA, 100), bound(0, 1, addr(2), duidA, 100), nb,
			bound(30, 2, addr(1), duidB, 100), bound(30, 3, addr(2), duidB, 100))
		Expect(d.Addresses).To(BeZero())
	})

	It("does not count one client holding an address twice", func() {
		d := dups(bound(0, 1, x, duidA, 100), bound(10, 1, x, duidB, 100))
		Expect(d.Addresses).To(BeZero())
	})

	It("finds a delegated prefix inside another client's prefix", func() {
		d := dups(
			bound(0, 1, pfx("2001:db8::/48"), duidA, 100),
			bound(10, 2, pfx("2001:db8:0:100::/56"), duidB, 100),
			bound(10, 3, pfx("2001:db8:1::/48"), duidB, 100), // disjoint
		)
		Expect(d.Addresses).To(Equal(1))
		Expect(d.Pairs).To(Equal(1))
		Expect(d.OverlapS).To(Equal(90.0))
		Expect(d.Evidence).To(Equal([]check.Evidence{{
			Address: "2001:db8:0:100::/56", Within: "2001:db8::/48", ClientA: 2, ClientB: 1,
			From: at(10), To: at(100), OverlapS: 90, ServerA: "b", ServerB: "a",
		}}))
	})

	It("counts addresses, pairs and overlap over three clients on one address", func() {
		d := dups(bound(0, 1, x, duidA, 100), bound(10, 2, x, duidB, 100), bound(20, 3, x, duidB, 100))
		Expect(d.Addresses).To(Equal(1))
		Expect(d.Pairs).To(Equal(3))
		// 1-2: [10,100) 90; 1-3: [20,100) 80; 2-3: [20,110) 90
		Expect(d.OverlapS).To(Equal(260.0))
		Expect(d.Evidence).To(HaveLen(3))
	})

	It("caps the evidence but counts every overlap", func() {
		var evs []history.Event
		for i := 0; i < 150; i++ {
			evs = append(evs, bound(0, 2*i, addr(i), duidA, 100), bound(50, 2*i+1, addr(i), duidB, 100))
		}
		d := dups(evs...)
		Expect(d.Addresses).To(Equal(150))
		Expect(d.Pairs).To(Equal(150))
		Expect(d.OverlapS).To(Equal(150 * 50.0))
		Expect(d.Evidence).To(HaveLen(check.EvidenceCap))
		Expect(d.Truncated).To(BeTrue())
		Expect(d.Evidence[0].Address).To(Equal("2001:db8::"), "evidence comes in address order")
	})

	It("says unknown when the history holds no binding", func() {
		Expect(dups().Verdict).To(Equal(check.VerdictUnknown))
	})
})
