package check_test

import (
	"d6lab/reports/check"
	"d6lab/reports/history"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Server lease files against the clients' history", func() {
	withDUID := func(e history.Event, duid string) history.Event { e.DUID = duid; return e }

	It("counts agreeing, missing and stale bindings per server", func() {
		evs := run(100,
			withDUID(bound(1, 0, addr(1), duidA, 300), "c0"),
			withDUID(bound(1, 1, addr(2), duidA, 300), "c1"),
			withDUID(bound(1, 2, addr(3), duidB, 300), "c2"),
			// client 3's lease ran out before End: nobody holds it
			withDUID(bound(1, 3, addr(4), duidA, 10), "c3"),
		)
		l := lab
		l.Files = map[string]check.ServerFile{
			"a": {Leases: []check.ServerLease{
				{DUID: "C0", IA: "na", Lease: addr(1), Expires: at(301)}, // agrees (case ignored)
				{DUID: "c9", IA: "na", Lease: addr(9), Expires: at(301)}, // stale: no client holds it
				{DUID: "c3", IA: "na", Lease: addr(4), Expires: at(11)},  // expired: not counted
				// c1's addr(2) is missing from a's file
			}},
			"b": {Error: "keeps no lease file"},
		}
		r := check.Analyze(evs, l)
		Expect(r.ServerState).To(HaveLen(2))
		a := r.ServerState[0]
		Expect(a.Server).To(Equal("a"))
		Expect(a.Read).To(BeTrue())
		Expect([]int{a.Clients, a.File, a.Agree, a.Missing, a.Stale}).To(Equal([]int{2, 2, 1, 1, 1}))
		Expect(a.Example).To(ConsistOf(ContainSubstring(addr(2).String())))
		b := r.ServerState[1]
		Expect(b.Read).To(BeFalse())
		Expect(b.Error).To(Equal("keeps no lease file"))
		Expect(b.Clients).To(Equal(1))
		Expect(r.LeaseFiles).To(Equal(check.LeaseFiles{Read: 1, Clients: 2, File: 2, Agree: 1, Missing: 1, Stale: 1}))
	})

	It("stays empty when no lease file was read", func() {
		r := check.Analyze(run(10, withDUID(bound(1, 0, addr(1), duidA, 300), "c0")), lab)
		Expect(r.ServerState).To(BeEmpty())
		Expect(r.LeaseFiles).To(Equal(check.LeaseFiles{}))
	})
})
