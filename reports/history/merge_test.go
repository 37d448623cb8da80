package history_test

import (
	"net/netip"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
)

var _ = Describe("Log.AppendMerging", func() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	grant := func(kind history.Kind, client int, at time.Duration, lease string) history.Event {
		return history.Event{At: t0.Add(at), Kind: kind, Client: client, DUID: "0003000102", Server: "0001000100000001aa",
			IA: history.IANA, IAID: 1, Lease: netip.MustParsePrefix(lease), T1: 30 * time.Minute, T2: 48 * time.Minute,
			Preferred: time.Hour, Valid: 2 * time.Hour}
	}
	merged := func(events ...history.Event) []history.Event {
		var l history.Log
		for _, e := range events {
			l.AppendMerging(e)
		}
		return l.Slice()
	}

	It("counts a renewal that changes nothing in the grant it extends, with the last one's time", func() {
		b := grant(history.Bound, 7, 0, "2001:db8::7/128")
		load := history.Event{At: t0.Add(40 * time.Minute), Kind: history.ServerLoad, Client: -1, Server: "s1", Detail: "3"}
		got := merged(b, grant(history.Renewed, 7, 30*time.Minute, "2001:db8::7/128"), load,
			grant(history.Renewed, 7, time.Hour, "2001:db8::7/128"))
		want := b
		want.Renewals, want.Extended = 2, t0.Add(time.Hour)
		Expect(got).To(Equal([]history.Event{want, load}))
	})

	It("appends a renewal that changes anything, or follows another event of the client or a lab event", func() {
		b := grant(history.Bound, 7, 0, "2001:db8::7/128")
		other := grant(history.Renewed, 7, 30*time.Minute, "2001:db8::8/128") // another lease
		longer := grant(history.Renewed, 7, 31*time.Minute, "2001:db8::7/128")
		longer.Valid = 3 * time.Hour // other lifetimes
		Expect(merged(b, other, longer)).To(HaveLen(3))

		nb := history.Event{At: t0.Add(20 * time.Minute), Kind: history.NoBinding, Client: 7, IA: history.IANA}
		r := grant(history.Renewed, 7, 30*time.Minute, "2001:db8::7/128")
		Expect(merged(b, nb, r)).To(HaveLen(3))

		kill := history.Event{At: t0.Add(20 * time.Minute), Kind: history.ServerKilled, Client: -1, Server: "s1"}
		Expect(merged(b, kill, r, grant(history.Renewed, 7, time.Hour, "2001:db8::7/128"))).To(HaveLen(3), "merges after the fault, not across it")

		late := grant(history.Renewed, 7, 2*time.Hour, "2001:db8::7/128") // the lease ran out at 2 h
		Expect(merged(b, late)).To(HaveLen(2))

		otherClient := grant(history.Renewed, 8, 30*time.Minute, "2001:db8::7/128")
		Expect(merged(b, otherClient)).To(HaveLen(2))
	})

	It("merges per IA type, and into a grant kept whole", func() {
		na := grant(history.Bound, 7, 0, "2001:db8::7/128")
		pd := grant(history.Bound, 7, 0, "2001:db8:100::/56")
		pd.IA, pd.IAID = history.IAPD, 2
		rna, rpd := grant(history.Renewed, 7, 30*time.Minute, "2001:db8::7/128"), pd
		rpd.Kind, rpd.At = history.Renewed, t0.Add(30*time.Minute)
		got := merged(na, pd, rna, rpd)
		Expect(got).To(HaveLen(2))
		Expect(got[0].Renewals).To(Equal(1))
		Expect(got[1].Renewals).To(Equal(1))

		odd := grant(history.Bound, 7, 0, "2001:db8::7/128")
		odd.At = odd.At.In(time.FixedZone("x", 3600)) // kept whole by the log
		r := grant(history.Renewed, 7, 30*time.Minute, "2001:db8::7/128")
		r.At = r.At.In(time.FixedZone("x", 3600))
		got = merged(history.Event{At: t0, Kind: history.RunStarted, Client: -1}, odd, r)
		Expect(got).To(HaveLen(2))
		Expect(got[1].Renewals).To(Equal(1))
		Expect(got[1].Extended).To(Equal(r.At))
	})
})
