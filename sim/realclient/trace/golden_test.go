package trace_test

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/sim/realclient/trace"
)

// want is one expected event of a golden run.
type want struct {
	at     float64 // seconds after the first frame
	kind   history.Kind
	ia     string
	lease  string
	old    string
	cause  string
	server string // the server's lab name in NAME.json; "" for none
	detail string
	// tentative, for bound and renumbered of an address: the expected
	// Tentative, give or take tentTolerance (0: none expected)
	tentative time.Duration
}

// tentTolerance: the goldens' Tentative is read from the address log, in
// the recorder's time; the figures below are the recorded ones.
const tentTolerance = 20 * time.Millisecond

// atTolerance: At comes from the capture's timestamps (or the address
// log's for an expiry at a deletion): the expected times are rounded to
// the millisecond.
const atTolerance = 2 * time.Millisecond

func expectEvents(g golden, evs []history.Event, wants []want) {
	GinkgoHelper()
	var got []string
	for _, e := range evs {
		got = append(got, fmt.Sprintf("%.3f %s %s %s old=%s cause=%s tent=%v", e.At.Sub(g.t0).Seconds(), e.Kind, e.IA, e.Lease, e.Old, e.Cause, e.Tentative))
	}
	Expect(evs).To(HaveLen(len(wants)), "events:\n%s", strings.Join(got, "\n"))
	duid := ""
	for i, w := range wants {
		e := evs[i]
		what := fmt.Sprintf("event %d (%s)", i, got[i])
		Expect(e.Kind).To(Equal(w.kind), what)
		Expect(e.At.Sub(g.t0)).To(BeNumerically("~", time.Duration(w.at*float64(time.Second)), atTolerance), what)
		Expect(e.Client).To(Equal(g.client.Index), what)
		Expect(e.IA).To(Equal(w.ia), what)
		if w.lease == "" {
			Expect(e.Lease.IsValid()).To(BeFalse(), what)
		} else {
			Expect(e.Lease).To(Equal(netip.MustParsePrefix(w.lease)), what)
		}
		if w.old == "" {
			Expect(e.Old.IsValid()).To(BeFalse(), what)
		} else {
			Expect(e.Old).To(Equal(netip.MustParsePrefix(w.old)), what)
		}
		Expect(e.Cause).To(Equal(w.cause), what)
		Expect(e.Detail).To(Equal(w.detail), what)
		if w.server == "" {
			Expect(e.Server).To(BeEmpty(), what)
		} else {
			Expect(g.servers).To(HaveKey(w.server))
			Expect(e.Server).To(Equal(g.servers[w.server]), what)
		}
		Expect(e.Tentative).To(BeNumerically("~", w.tentative, tentTolerance), what)
		Expect(e.Peer).To(BeNil(), what)
		// every event carries the client's one DUID
		Expect(e.DUID).NotTo(BeEmpty(), what)
		if duid == "" {
			duid = e.DUID
		}
		Expect(e.DUID).To(Equal(duid), what)
	}
}

// leaseTimes checks the lifetimes of the lease events.
func leaseTimes(evs []history.Event, t1, t2, pref, valid time.Duration) {
	GinkgoHelper()
	for _, e := range evs {
		if e.Lease.IsValid() {
			Expect([]time.Duration{e.T1, e.T2, e.Preferred, e.Valid}).To(Equal([]time.Duration{t1, t2, pref, valid}), "%s %s", e.Kind, e.Lease)
		}
	}
}

// zeroStats is what a translation with nothing dropped or unobserved
// reports, but for the fields given.
func expectStats(st trace.Stats, sent, received int, set func(*trace.Stats)) {
	GinkgoHelper()
	w := trace.Stats{Frames: sent + received, Sent: sent, Received: received}
	if set != nil {
		set(&w)
	}
	Expect(st).To(Equal(w))
}

var _ = Describe("Translate on recorded real clients (testdata)", func() {
	It("ISC dhclient: bind, Renew at T1, the server killed, Rebind renumbered by the other server, Release", func() {
		g := loadGolden("dhclient-failover")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		a, b := "2001:db8:6::a:6068/128", "2001:db8:6::b:6068/128"
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Solicited},
			{at: 0.000, kind: history.Advertised, server: "srvb", detail: "preference=0"},
			{at: 0.001, kind: history.Advertised, server: "srva", detail: "preference=255"},
			{at: 0.001, kind: history.Bound, ia: "na", lease: a, server: "srva", tentative: 1501 * time.Millisecond},
			{at: 2.009, kind: history.Renewed, ia: "na", lease: a, server: "srva"},
			// B's Reply to Rebind: the new address, the old one at lifetime 0
			{at: 7.024, kind: history.Renumbered, ia: "na", lease: b, old: a, server: "srvb", tentative: 1875 * time.Millisecond},
			{at: 9.591, kind: history.Released, ia: "na", lease: b, server: "srvb"},
		})
		leaseTimes(evs, 2*time.Second, 3*time.Second, 5*time.Second, 8*time.Second)
		Expect(evs[0].DUID).To(HavePrefix("0001"), "dhclient's DUID-LLT")
		By("the Release also names the address renumbered from, which the client no longer holds")
		expectStats(st, 6, 6, func(s *trace.Stats) { s.UnknownLeases = 1 })

		By("the messages: the second Renew (to the dead server) unanswered, the Rebind to all servers without a Server ID")
		msgs, _ := trace.Messages(g.client, g.frames)
		var seq []string
		for _, m := range msgs {
			seq = append(seq, fmt.Sprintf("%s %s", m.Dir, m.Type))
		}
		Expect(seq).To(Equal([]string{
			"sent SOLICIT", "received ADVERTISE", "received ADVERTISE", "sent REQUEST", "received REPLY",
			"sent RENEW", "received REPLY", "sent RENEW", "sent REBIND", "received REPLY", "sent RELEASE", "received REPLY",
		}))
		Expect(msgs[5].At.Sub(msgs[4].At)).To(BeNumerically("~", 2*time.Second, 100*time.Millisecond), "Renew at T1")
		Expect(msgs[8].ServerID).To(BeNil())
		Expect(msgs[8].Dst.Addr()).To(Equal(netip.MustParseAddr("ff02::1:2")))
		Expect(msgs[9].ServerHex()).To(Equal(g.servers["srvb"]))
		Expect(msgs[9].IAs[0].Leases).To(HaveLen(2))
		Expect(msgs[1].Preference).To(Equal(0))
		Expect(msgs[2].Preference).To(Equal(255))
	})

	It("ISC dhclient: NoBinding to a Renew, a new Solicit (not a Request), the old address kept, then zeroed", func() {
		g := loadGolden("dhclient-nobinding")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		a, b := "2001:db8:6::a:42ac/128", "2001:db8:6::b:42ac/128"
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Solicited},
			{at: 0.001, kind: history.Advertised, server: "srv1", detail: "preference=255"},
			{at: 0.001, kind: history.Bound, ia: "na", lease: a, server: "srv1", tentative: 1769 * time.Millisecond},
			// the server restarted without its bindings (same DUID)
			{at: 2.015, kind: history.NoBinding, ia: "na", lease: a, server: "srv1"},
			{at: 2.086, kind: history.Solicited},
			{at: 2.087, kind: history.Advertised, server: "srv1", detail: "preference=255"},
			// a new address while the old one is held and not mentioned
			{at: 2.087, kind: history.Renumbered, ia: "na", lease: b, old: a, cause: history.CauseOldKept, server: "srv1", tentative: 1347 * time.Millisecond},
			{at: 4.104, kind: history.Renewed, ia: "na", lease: b, server: "srv1"},
			// dhclient renews both; the server returns the old one at lifetime 0
			{at: 4.104, kind: history.Refused, ia: "na", lease: a, cause: history.CauseZeroLifetime, server: "srv1"},
			{at: 6.121, kind: history.Renewed, ia: "na", lease: b, server: "srv1"},
			{at: 8.128, kind: history.Renewed, ia: "na", lease: b, server: "srv1"},
			{at: 10.134, kind: history.Renewed, ia: "na", lease: b, server: "srv1"},
			{at: 12.141, kind: history.Released, ia: "na", lease: b, server: "srv1"},
		})
		leaseTimes(evs, 2*time.Second, 4*time.Second, 5*time.Second, 7*time.Second)
		expectStats(st, 10, 10, func(s *trace.Stats) { s.UnknownLeases = 1 })
	})

	It("ISC dhclient: DAD fails (another host holds the address), Decline, a new address tentative then valid", func() {
		g := loadGolden("dhclient-dad")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		dup, next := "2001:db8:6::a:0/128", "2001:db8:6::a:1/128"
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Solicited},
			{at: 0.000, kind: history.Advertised, server: "srv1", detail: "preference=255"},
			// never usable: tentative for its valid lifetime
			{at: 0.001, kind: history.Bound, ia: "na", lease: dup, server: "srv1", tentative: time.Minute},
			{at: 0.120, kind: history.Declined, ia: "na", lease: dup, cause: history.CauseDAD, server: "srv1"},
			{at: 0.261, kind: history.Solicited},
			{at: 0.261, kind: history.Advertised, server: "srv1", detail: "preference=255"},
			{at: 0.262, kind: history.Bound, ia: "na", lease: next, server: "srv1", tentative: 1762 * time.Millisecond},
			{at: 4.300, kind: history.Released, ia: "na", lease: next, server: "srv1"},
		})
		leaseTimes(evs, 20*time.Second, 30*time.Second, 40*time.Second, time.Minute)
		expectStats(st, 6, 6, nil)

		By("the checkers: one conflict by a host outside the population, the next binding usable after its DAD")
		r := check.Analyze(evs, check.Lab{})
		Expect(r.Clients).To(Equal(1))
		Expect(r.Conflicts.Count).To(Equal(1))
		Expect(r.Conflicts.Evidence[0].Holder).To(BeNil())
		Expect(r.Conflicts.Evidence[0].Address).To(Equal("2001:db8:6::a:0"))
		Expect(r.Life.Declined).To(Equal(1))
		Expect(r.Life.Released).To(Equal(1))
		Expect(r.Acquire.BindS.Count).To(Equal(1))
		Expect(r.Acquire.BindS.Max).To(BeNumerically("~", 0.262+1.762, 0.03), "from the first Solicit to the second address usable")
		Expect(r.Acquire.Never).To(BeZero())
	})

	It("ISC dhclient -N -P: an address and a prefix, the server killed, both expire (the address at its deletion)", func() {
		g := loadGolden("dhclient-napd-expire")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		a, p := "2001:db8:6::a:72d2/128", "2001:db8:172:d200::/56"
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Solicited},
			{at: 0.000, kind: history.Advertised, server: "srv1", detail: "preference=0"},
			{at: 1.031, kind: history.Bound, ia: "na", lease: a, server: "srv1", tentative: 1302 * time.Millisecond},
			{at: 1.031, kind: history.Bound, ia: "pd", lease: p, server: "srv1"},
			{at: 3.050, kind: history.Renewed, ia: "na", lease: a, server: "srv1"},
			{at: 3.050, kind: history.Renewed, ia: "pd", lease: p, server: "srv1"},
			// the Renew's Reply + 6 s, on the clock
			{at: 9.050, kind: history.Expired, ia: "pd", lease: p, server: "srv1"},
			// dhclient removed the address 37 ms later: that is when it expired
			{at: 9.087, kind: history.Expired, ia: "na", lease: a, server: "srv1"},
			{at: 9.581, kind: history.Solicited},
		})
		leaseTimes(evs, 2*time.Second, 3*time.Second, 4*time.Second, 6*time.Second)
		Expect(evs[6].At.Sub(evs[4].At)).To(Equal(6 * time.Second))
		var del time.Time
		for _, c := range g.addrs {
			if c.Deleted {
				del = c.At
			}
		}
		Expect(evs[7].At).To(Equal(del))
		Expect(evs[3].IAID).To(Equal(uint32(1)))
		expectStats(st, 6, 3, nil)
	})

	It("the checkers judge dhclient's failover from the translated events like a simulated client's", func() {
		g := loadGolden("dhclient-failover")
		evs, _ := trace.Translate(g.client, g.frames, g.addrs)
		killed, err := time.Parse(time.RFC3339Nano, g.meta["killed_srva"])
		Expect(err).NotTo(HaveOccurred())
		evs = append([]history.Event{
			{At: g.t0.Add(-time.Second), Kind: history.ServerStarted, Server: "srva"},
			{At: g.t0.Add(-time.Second), Kind: history.ServerStarted, Server: "srvb"},
			{At: killed, Kind: history.ServerKilled, Server: "srva"},
		}, evs...)
		r := check.Analyze(evs, check.Lab{Servers: []check.ServerInfo{
			{Name: "srva", DUID: g.servers["srva"]}, {Name: "srvb", DUID: g.servers["srvb"]},
		}})
		Expect(r.Fault).NotTo(BeNil())
		Expect(r.Affected).To(Equal(1))
		Expect(r.Rebind.Renumbered).To(Equal(1))
		Expect(r.ReacquireS).NotTo(BeNil())
		Expect(r.ReacquireS.Count).To(Equal(1))
		// renumbered at 7.024 s, usable 1.875 s later; the kill at 2.023 s
		Expect(r.ReacquireS.Max).To(BeNumerically("~", 7.024+1.875-killed.Sub(g.t0).Seconds(), 0.03))
		Expect(r.Life.Released).To(Equal(1))
		Expect(r.Duplicates.Pairs).To(BeZero())
	})

	It("dhcpcd: DAD fails at every grant and dhcpcd never declines", func() {
		g := loadGolden("dhcpcd-dad")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		dup := "2001:db8:6::a:0/128"
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Solicited},
			{at: 0.001, kind: history.Advertised, server: "srv1", detail: "preference=255"},
			{at: 0.001, kind: history.Bound, ia: "na", lease: dup, server: "srv1", tentative: 10 * time.Second},
			{at: 0.349, kind: history.DADFailed, ia: "na", lease: dup, server: "srv1", cause: history.CauseDAD}, // the kernel's word, no Decline
			{at: 3.005, kind: history.Renewed, ia: "na", lease: dup, server: "srv1"},
			// added again at each Renew's Reply, DAD failing each time: never usable
			{at: 3.005, kind: history.Restored, ia: "na", lease: dup, server: "srv1", tentative: 10 * time.Second},
			{at: 6.007, kind: history.Renewed, ia: "na", lease: dup, server: "srv1"},
			{at: 6.007, kind: history.Restored, ia: "na", lease: dup, server: "srv1", tentative: 10 * time.Second},
		})
		leaseTimes(evs, 3*time.Second, 5*time.Second, 8*time.Second, 10*time.Second)
		Expect(evs[0].DUID).To(HavePrefix("0001"))
		expectStats(st, 4, 4, func(s *trace.Stats) { s.DADNotDeclined = 1 })

		By("the checkers: a conflict kept, never usable, the client never bound")
		r := check.Analyze(evs, check.Lab{})
		Expect(r.Conflicts.Count).To(Equal(1))
		Expect(r.Conflicts.Kept).To(Equal(1))
		Expect(r.Conflicts.Unrecovered).To(Equal(1))
		Expect(r.Life.Declined).To(BeZero())
		Expect(r.Life.Dropped).To(BeZero(), "a DAD failure is no drop")
		Expect(r.Acquire.Never).To(Equal(1))
		msgs, _ := trace.Messages(g.client, g.frames)
		Expect(msgs[0].IAs[0].T1).To(BeZero(), "dhcpcd asks with T1 and T2 0")
	})

	It("WIDE dhcp6c: bind and Release on SIGTERM", func() {
		g := loadGolden("dhcp6c-release")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		a := "2001:db8:6::a:21f8/128"
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Solicited},
			{at: 0.000, kind: history.Advertised, server: "srv1", detail: "preference=255"},
			{at: 0.001, kind: history.Bound, ia: "na", lease: a, server: "srv1", tentative: 1547 * time.Millisecond},
			{at: 6.054, kind: history.Released, ia: "na", lease: a, server: "srv1"},
		})
		expectStats(st, 3, 3, nil)
		By("dhcp6c raised the tiny T1/T2: no Renew in 6 s, and it says so in its Release")
		msgs, _ := trace.Messages(g.client, g.frames)
		Expect(msgs[4].Type).To(Equal(dhcpv6.MessageTypeRelease))
		Expect([]time.Duration{msgs[4].IAs[0].T1, msgs[4].IAs[0].T2}).To(Equal([]time.Duration{18 * time.Second, 30 * time.Second}))
	})

	It("WIDE dhcp6c: a stateless client informed, its refresh held to IRT_MINIMUM", func() {
		g := loadGolden("dhcp6c-info")
		evs, st := trace.Translate(g.client, g.frames, g.addrs)
		expectEvents(g, evs, []want{
			{at: 0, kind: history.Informed, server: "srv1", detail: "refresh=10m0s"},
		})
		expectStats(st, 1, 1, nil)
		msgs, _ := trace.Messages(g.client, g.frames)
		Expect(msgs[1].HasInfoRefresh).To(BeTrue())
		Expect(msgs[1].InfoRefresh).To(Equal(3 * time.Second))
	})

	It("reads every golden capture without a malformed frame", func() {
		for _, name := range []string{"dhclient-failover", "dhclient-nobinding", "dhclient-dad", "dhclient-napd-expire", "dhcpcd-dad", "dhcp6c-release", "dhcp6c-info"} {
			g := loadGolden(name)
			_, st := trace.Messages(g.client, g.frames)
			Expect(st.Frames).To(Equal(st.Sent+st.Received), name)
		}
	})
})
