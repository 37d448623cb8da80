package conform

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
	"d6lab/sim/realclient/trace"
)

// Hand-built observations: the client's messages as trace.Messages
// decodes them, its address log, and the check's facts.

var (
	jt0   = time.Date(2026, 12, 3, 4, 5, 6, 0, time.UTC)
	sid1  = serverDUID(1)
	sid2  = serverDUID(2)
	addr1 = netip.MustParsePrefix("2001:db8:c1::a:1/128")
	addr2 = netip.MustParsePrefix("2001:db8:c1::b:1/128")
	pfx1  = netip.MustParsePrefix("2001:db8:c9:100::/56")
	llCl  = netip.MustParseAddrPort("[fe80::d6:ff:fe00:4]:546")
	llS1  = netip.MustParseAddrPort("[fe80::d6:ff:fe00:2]:547")
	allSv = netip.AddrPortFrom(netip.MustParseAddr("ff02::1:2"), 547)
)

func jat(s float64) time.Time { return jt0.Add(time.Duration(s * float64(time.Second))) }

func secs64(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// out is a message the client sent at s seconds, Elapsed Time e.
func out(s float64, t dhcpv6.MessageType, xid byte, sid []byte, e float64, ias ...trace.IA) trace.Message {
	x := dhcpv6.TransactionID{xid, xid, xid}
	return trace.Message{At: jat(s), Dir: trace.Sent, Type: t, XID: x, Src: llCl, Dst: allSv, ServerID: sid,
		Elapsed: secs64(e), HasElapsed: true, Preference: -1, IAs: ias, Msg: &dhcpv6.Message{MessageType: t, TransactionID: x}}
}

// in is a message the client received at s seconds.
func in(s float64, t dhcpv6.MessageType, xid byte, sid []byte, ias ...trace.IA) trace.Message {
	x := dhcpv6.TransactionID{xid, xid, xid}
	return trace.Message{At: jat(s), Dir: trace.Received, Type: t, XID: x, Src: llS1, Dst: llCl, ServerID: sid,
		Preference: -1, IAs: ias, Msg: &dhcpv6.Message{MessageType: t, TransactionID: x}}
}

func pref(m trace.Message, p int) trace.Message { m.Preference = p; return m }

func ia(t1, t2 float64, leases ...trace.Lease) trace.IA {
	return trace.IA{Type: history.IANA, IAID: 1, T1: secs64(t1), T2: secs64(t2), Leases: leases}
}

func pdIA(t1, t2 float64, leases ...trace.Lease) trace.IA {
	return trace.IA{Type: history.IAPD, IAID: 2, T1: secs64(t1), T2: secs64(t2), Leases: leases}
}

func ls(p netip.Prefix, pl, vl float64) trace.Lease {
	return trace.Lease{Prefix: p, Preferred: secs64(pl), Valid: secs64(vl)}
}

func noBindingIA() trace.IA {
	return trace.IA{Type: history.IANA, IAID: 1, Status: trace.Status{Present: true, Code: iana.StatusNoBinding}}
}

func addrAt(s float64, p netip.Prefix, deleted, tentative bool) trace.AddrChange {
	return trace.AddrChange{At: jat(s), Prefix: p, Deleted: deleted, Tentative: tentative, Valid: 20 * time.Second}
}

func obsOf(msgs ...trace.Message) clientObs {
	end := jt0
	if len(msgs) > 0 {
		end = msgs[len(msgs)-1].At.Add(5 * time.Second)
	}
	return clientObs{msgs: msgs, start: jt0.Add(-time.Second), end: end, timers: fastLifetimes,
		names: map[string]string{fmt.Sprintf("%x", sid1): "s1", fmt.Sprintf("%x", sid2): "s2"}}
}

// bound is Solicit, Advertise (Preference p) from s1, Request, Reply with
// addr1 at the given timers (the Reply at 0.01 s).
func bound(t1, t2, valid float64) []trace.Message {
	return []trace.Message{
		out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0, ia(0, 0)),
		pref(in(0.002, dhcpv6.MessageTypeAdvertise, 1, sid1, ia(t1, t2, ls(addr1, valid-4, valid))), 255),
		out(0.003, dhcpv6.MessageTypeRequest, 2, sid1, 0, ia(0, 0, ls(addr1, 0, 0))),
		in(0.010, dhcpv6.MessageTypeReply, 2, sid1, ia(t1, t2, ls(addr1, valid-4, valid))),
	}
}

func with(base []trace.Message, more ...trace.Message) []trace.Message {
	return append(append([]trace.Message(nil), base...), more...)
}

var _ = g.Describe("client verdicts on hand-built messages", func() {
	g.Describe("preference-255", func() {
		g.It("passes a Request at once to the 255 server", func() {
			v, d := judgePreference255(obsOf(bound(4, 6, 20)...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("Request to s1 0.001 s after s1's Preference 255 Advertise"))
		})
		g.It("fails a client that waits out the first RT", func() {
			ms := []trace.Message{
				out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0),
				pref(in(0.002, dhcpv6.MessageTypeAdvertise, 1, sid1, ia(4, 6, ls(addr1, 16, 20))), 255),
				out(1.05, dhcpv6.MessageTypeRequest, 2, sid1, 0),
			}
			v, d := judgePreference255(obsOf(ms...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("not at once"))
			Expect(d).To(ContainSubstring("§18.2.1"))
		})
	})

	g.Describe("preference-wait", func() {
		advs := []trace.Message{
			out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0),
			pref(in(0.002, dhcpv6.MessageTypeAdvertise, 1, sid1), 10),
			pref(in(0.4, dhcpv6.MessageTypeAdvertise, 1, sid2), 200),
		}
		g.It("passes a Request for the highest after the first RT", func() {
			v, d := judgePreferenceWait(obsOf(with(advs, out(1.05, dhcpv6.MessageTypeRequest, 2, sid2, 0))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(HavePrefix("Requested s2 (Preference 200) 1.05 s after the first Solicit; Advertises: s1 (Preference 10) at +0.00 s, s2 (Preference 200) at +0.40 s"))
		})
		g.It("fails taking the first Advertise at once, naming the later, better one", func() {
			ms := []trace.Message{advs[0], advs[1], out(0.01, dhcpv6.MessageTypeRequest, 2, sid1, 0), advs[2]}
			v, d := judgePreferenceWait(obsOf(ms...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("Requested s1 (Preference 10) 0.010 s after the first Solicit"))
			Expect(d).To(ContainSubstring("s2 (Preference 200) at +0.40 s"))
			Expect(d).To(ContainSubstring("did not wait out the first RT"))
		})
		g.It("fails the lower Preference after the RT", func() {
			v, d := judgePreferenceWait(obsOf(with(advs, out(1.05, dhcpv6.MessageTypeRequest, 2, sid1, 0))...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("not the highest Preference"))
		})
	})

	g.Describe("preference-tie", func() {
		// s2 first, s1 (the lower Server ID) later
		advs := []trace.Message{
			out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0),
			pref(in(0.002, dhcpv6.MessageTypeAdvertise, 1, sid2), 100),
			pref(in(0.4, dhcpv6.MessageTypeAdvertise, 1, sid1), 100),
		}
		g.It("says the client took the lowest Server ID", func() {
			v, d := judgePreferenceTie(obsOf(with(advs, out(1.05, dhcpv6.MessageTypeRequest, 2, sid1, 0))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("took the lowest Server ID, not the first received"))
		})
		g.It("says the client took the first received", func() {
			v, d := judgePreferenceTie(obsOf(with(advs, out(1.05, dhcpv6.MessageTypeRequest, 2, sid2, 0))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("took the first received, not the lowest Server ID"))
		})
		g.It("says when it did not wait for the other", func() {
			ms := []trace.Message{advs[0], advs[1], out(0.01, dhcpv6.MessageTypeRequest, 2, sid2, 0), advs[2]}
			v, d := judgePreferenceTie(obsOf(ms...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("without waiting for the other"))
		})
	})

	g.Describe("renew-t1", func() {
		g.It("passes a Renew at T1 to the granting server", func() {
			v, d := judgeRenewT1(obsOf(with(bound(4, 6, 20), out(4.02, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(0, 0, ls(addr1, 0, 0))))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("first Renew 4.01 s after the Reply, 0.010 s past T1 (4.00 s), to s1's Server ID"))
		})
		g.It("passes a whole-second clock a second early, and fails more", func() {
			v, d := judgeRenewT1(obsOf(with(bound(4, 6, 20), out(3.2, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(0, 0, ls(addr1, 0, 0))))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("0.810 s before T1"))
			v, d = judgeRenewT1(obsOf(with(bound(4, 6, 20), out(2.5, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(0, 0, ls(addr1, 0, 0))))...))
			Expect(v).To(Equal(Fail), d)
		})
		g.It("fails a raised T1 and says what the client asked for", func() {
			v, d := judgeRenewT1(obsOf(with(bound(4, 6, 20), out(18.01, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(18, 30, ls(addr1, 0, 0))))...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("14.00 s past T1"))
			Expect(d).To(ContainSubstring("its Renew's IA_NA says T1 18.00 s, T2 30.00 s"))
			Expect(d).To(ContainSubstring("after T2"))
		})
		g.It("fails a Renew to the other server", func() {
			v, d := judgeRenewT1(obsOf(with(bound(4, 6, 20), out(4.02, dhcpv6.MessageTypeRenew, 3, sid2, 0, ia(0, 0, ls(addr1, 0, 0))))...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("names s2, not s1"))
		})
		g.It("fails a client never bound, saying what it did", func() {
			v, d := judgeRenewT1(obsOf(out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0)))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("never given an address"))
		})
	})

	g.Describe("rebind-t2", func() {
		g.It("passes a Rebind at T2 and measures how late", func() {
			ms := with(bound(4, 6, 20), out(4.01, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(0, 0, ls(addr1, 0, 0))),
				out(6.2, dhcpv6.MessageTypeRebind, 4, nil, 0, ia(0, 0, ls(addr1, 0, 0))))
			v, d := judgeRebindT2(obsOf(ms...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(HavePrefix("first Rebind 0.190 s past T2 (at 6.19 s of the Reply"))
			Expect(d).To(ContainSubstring("Renews at +4.00 s"))
		})
		g.It("fails a Rebind at the first Renew retransmission, 8 s past T2", func() {
			ms := with(bound(4, 6, 20), out(4.01, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(0, 0, ls(addr1, 0, 0))),
				out(14.02, dhcpv6.MessageTypeRebind, 4, nil, 0, ia(0, 0, ls(addr1, 0, 0))))
			v, d := judgeRebindT2(obsOf(ms...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("first Rebind 8.01 s past T2"))
			Expect(d).To(ContainSubstring("more than 1 s past T2"))
		})
		g.It("fails a Rebind with a Server ID", func() {
			ms := with(bound(4, 6, 20), out(6.0, dhcpv6.MessageTypeRebind, 4, sid1, 0, ia(0, 0, ls(addr1, 0, 0))))
			v, d := judgeRebindT2(obsOf(ms...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("carries a Server ID"))
		})
	})

	g.Describe("rebind-until-valid", func() {
		rebinds := func(ts ...float64) []trace.Message {
			ms := bound(4, 6, 20)
			for _, t := range ts {
				ms = append(ms, out(t, dhcpv6.MessageTypeRebind, 4, nil, t-ts[0], ia(0, 0, ls(addr1, 0, 0))))
			}
			return ms
		}
		g.It("passes Rebinds to the end and the address gone then", func() {
			o := obsOf(rebinds(6.01, 16.5)...)
			o.end = jat(24)
			o.addrs = []trace.AddrChange{addrAt(0.02, addr1, false, true), addrAt(1.1, addr1, false, false), addrAt(20.01, addr1, true, false)}
			v, d := judgeRebindUntilValid(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("Rebinds at [+6.00 s +16.49 s]"))
		})
		g.It("fails a client that stops rebinding early", func() {
			o := obsOf(rebinds(6.01)...)
			o.end = jat(24)
			o.addrs = []trace.AddrChange{addrAt(20.01, addr1, true, false)}
			v, d := judgeRebindUntilValid(o)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("stopped Rebinding after +6.00 s"))
		})
		g.It("fails a Rebind after the valid lifetime and an address kept", func() {
			o := obsOf(rebinds(6.01, 16.5, 23)...)
			o.end = jat(26)
			v, d := judgeRebindUntilValid(o)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("after the valid lifetime ended"))
			Expect(d).To(ContainSubstring("still on the interface"))
		})
	})

	g.Describe("zero-lifetime and renumbering", func() {
		g.It("passes an address removed at once after lifetime 0", func() {
			o := obsOf(with(bound(4, 6, 20), out(4.01, dhcpv6.MessageTypeRenew, 3, sid1, 0), in(4.02, dhcpv6.MessageTypeReply, 3, sid1, ia(4, 6, ls(addr1, 0, 0))))...)
			o.addrs = []trace.AddrChange{addrAt(0.02, addr1, false, true), addrAt(4.03, addr1, true, false)}
			v, d := judgeZeroLifetime(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("left the interface 0.010 s later"))
		})
		g.It("fails an address kept after lifetime 0", func() {
			o := obsOf(with(bound(4, 6, 20), out(4.01, dhcpv6.MessageTypeRenew, 3, sid1, 0), in(4.02, dhcpv6.MessageTypeReply, 3, sid1, ia(4, 6, ls(addr1, 0, 0))))...)
			o.addrs = []trace.AddrChange{addrAt(0.02, addr1, false, true)}
			v, d := judgeZeroLifetime(o)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("still on the interface"))
		})
		g.It("is n/a without a Renew", func() {
			v, _ := judgeZeroLifetime(obsOf(bound(4, 6, 20)...))
			Expect(v).To(Equal(NA))
		})
		g.It("passes a renumbering Rebind Reply", func() {
			o := obsOf(with(bound(4, 6, 20), out(6.01, dhcpv6.MessageTypeRebind, 4, nil, 0, ia(0, 0, ls(addr1, 0, 0))),
				in(6.02, dhcpv6.MessageTypeReply, 4, sid2, ia(4, 6, ls(addr2, 16, 20), ls(addr1, 0, 0))))...)
			o.addrs = []trace.AddrChange{addrAt(6.03, addr1, true, false), addrAt(6.03, addr2, false, true), addrAt(7.1, addr2, false, false)}
			v, d := judgeRenumber(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("s2's Reply to Rebind at +6.01 s of the binding gave 2001:db8:c1::b:1 (valid 20.00 s) and 2001:db8:c1::a:1 at lifetime 0"))
			Expect(d).To(ContainSubstring("usable (DAD done) 1.08 s later"))
		})
	})

	g.Describe("nobinding-request", func() {
		nb := with(bound(4, 6, 20), out(4.01, dhcpv6.MessageTypeRenew, 3, sid1, 0, ia(0, 0, ls(addr1, 0, 0))),
			in(4.02, dhcpv6.MessageTypeReply, 3, sid1, noBindingIA()))
		g.It("passes a Request to the server that answered", func() {
			v, d := judgeNoBinding(obsOf(with(nb, out(4.03, dhcpv6.MessageTypeRequest, 5, sid1, 0, ia(0, 0, ls(addr1, 0, 0))))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("next the client sent a REQUEST 0.010 s later to s1 listing 2001:db8:c1::a:1 (sent 1 time(s))"))
		})
		g.It("fails a Solicit", func() {
			v, d := judgeNoBinding(obsOf(with(nb, out(4.02, dhcpv6.MessageTypeSolicit, 5, nil, 0, ia(0, 0)))...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("SOLICIT"))
			Expect(d).To(ContainSubstring("§18.2.10.1"))
		})
	})

	g.Describe("request-fail", func() {
		// Solicit, two Advertises, then n Requests to s1 at 0.5, 1.5, 3.5, ... s
		// (RTs doubling from 1 s, capped at 30 s), none answered.
		requests := func(n int) ([]trace.Message, float64) {
			msgs := []trace.Message{
				out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0, ia(0, 0)),
				pref(in(0.002, dhcpv6.MessageTypeAdvertise, 1, sid1, ia(100, 160, ls(addr1, 300, 400))), 200),
				pref(in(0.4, dhcpv6.MessageTypeAdvertise, 1, sid2, ia(100, 160, ls(addr2, 300, 400))), 10),
			}
			at, rt := 0.5, 1.0
			for i := range n {
				msgs = append(msgs, out(at, dhcpv6.MessageTypeRequest, 2, sid1, at-0.5, ia(0, 0, ls(addr1, 0, 0))))
				if i < n-1 {
					at += rt
					rt = min(2*rt, 30)
				}
			}
			return msgs, at
		}
		g.It("passes REQ_MAX_RC Requests and then the next server that advertised, and says so", func() {
			msgs, last := requests(10)
			v, d := judgeRequestFail(obsOf(with(msgs, out(last+30, dhcpv6.MessageTypeRequest, 3, sid2, 0, ia(0, 0, ls(addr2, 0, 0))))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("10 Requests to s1 over 151.00 s, none answered; then a Request to s2 30.00 s after the last: the next server that advertised"))
		})
		g.It("passes a Solicit after them", func() {
			msgs, last := requests(10)
			v, d := judgeRequestFail(obsOf(with(msgs, out(last+30.7, dhcpv6.MessageTypeSolicit, 4, nil, 0, ia(0, 0)))...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("then a Solicit 30.70 s after the last: server discovery again"))
		})
		g.It("passes silence after them once the watch outlasted the last RT, and is n/a before", func() {
			msgs, last := requests(10)
			o := obsOf(msgs...)
			o.end = jat(last).Add(requestFailAfter)
			v, d := judgeRequestFail(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("then nothing in the 45.00 s that followed: it ended the configuration"))
			o.end = jat(last).Add(requestFailAfter - time.Second)
			v, d = judgeRequestFail(o)
			Expect(v).To(Equal(NA), d)
			Expect(d).To(ContainSubstring("too soon to tell"))
		})
		g.It("fails more than REQ_MAX_RC, and fewer before another step", func() {
			msgs, last := requests(11)
			v, d := judgeRequestFail(obsOf(msgs...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("11 Requests to s1"))
			Expect(d).To(ContainSubstring("; then nothing in the 5.00 s that followed; more than REQ_MAX_RC (10) Requests"))
			msgs, last = requests(4)
			v, d = judgeRequestFail(obsOf(with(msgs, out(last+9, dhcpv6.MessageTypeSolicit, 4, nil, 0, ia(0, 0)))...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("then a Solicit 9.00 s after the last: server discovery again; it gave up before REQ_MAX_RC (10)"))
		})
		g.It("fails a client that never Requested", func() {
			msgs, _ := requests(0)
			v, _ := judgeRequestFail(obsOf(msgs...))
			Expect(v).To(Equal(Fail))
		})
	})

	g.Describe("dad-decline", func() {
		g.It("passes a Decline after DAD failed", func() {
			o := obsOf(with(bound(100, 160, 300), out(1.2, dhcpv6.MessageTypeDecline, 6, sid1, 0, ia(0, 0, ls(addr1, 0, 0))))...)
			o.addrs = []trace.AddrChange{addrAt(0.02, addr1, false, true), {At: jat(1.1), Prefix: addr1, Tentative: true, DADFailed: true}}
			v, d := judgeDecline(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("Decline 0.100 s after that, to s1"))
		})
		g.It("fails no Decline, DAD failing as a deletion while tentative", func() {
			o := obsOf(bound(100, 160, 300)...)
			o.addrs = []trace.AddrChange{addrAt(0.02, addr1, false, true), addrAt(1.1, addr1, true, false)}
			v, d := judgeDecline(o)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("DAD failed 1.09 s after the Reply; no Decline"))
		})
	})

	g.Describe("link flaps", func() {
		g.It("passes a Confirm after the link came back", func() {
			o := obsOf(with(bound(100, 160, 300), out(3.5, dhcpv6.MessageTypeConfirm, 7, nil, 0, ia(0, 0, ls(addr1, 0, 0))), in(3.51, dhcpv6.MessageTypeReply, 7, sid1))...)
			o.mark = jat(2.5)
			v, d := judgeLinkConfirm(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("next the client sent a CONFIRM 1.00 s later, answered Success"))
		})
		g.It("fails silence", func() {
			o := obsOf(bound(100, 160, 300)...)
			o.mark = jat(2.5)
			v, d := judgeLinkConfirm(o)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("nothing sent"))
		})
		g.It("passes a Rebind for a delegated prefix and fails a Confirm", func() {
			ms := []trace.Message{
				out(0, dhcpv6.MessageTypeSolicit, 1, nil, 0, pdIA(0, 0)),
				out(0.01, dhcpv6.MessageTypeRequest, 2, sid1, 0, pdIA(0, 0)),
				in(0.02, dhcpv6.MessageTypeReply, 2, sid1, pdIA(100, 160, ls(pfx1, 200, 300))),
			}
			o := obsOf(with(ms, out(3.5, dhcpv6.MessageTypeRebind, 4, nil, 0, pdIA(0, 0, ls(pfx1, 0, 0))))...)
			o.mark = jat(2.5)
			v, d := judgeLinkRebindPD(o)
			Expect(v).To(Equal(Pass), d)
			o = obsOf(with(ms, out(3.5, dhcpv6.MessageTypeConfirm, 7, nil, 0, pdIA(0, 0, ls(pfx1, 0, 0))))...)
			o.mark = jat(2.5)
			v, d = judgeLinkRebindPD(o)
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("cannot verify a delegated prefix"))
		})
	})

	g.Describe("info-refresh", func() {
		rep := in(0.01, dhcpv6.MessageTypeReply, 8, sid1)
		rep.InfoRefresh, rep.HasInfoRefresh = 600*time.Second, true
		g.It("passes a refresh at the Information Refresh Time", func() {
			v, d := judgeInfoRefresh(obsOf(out(0, dhcpv6.MessageTypeInformationRequest, 8, nil, 0), rep, out(600.6, dhcpv6.MessageTypeInformationRequest, 9, nil, 0)))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("next Information-request 600.59 s later"))
		})
		g.It("fails a refresh far too early (the option taken below IRT_MINIMUM) or none", func() {
			v, _ := judgeInfoRefresh(obsOf(out(0, dhcpv6.MessageTypeInformationRequest, 8, nil, 0), rep, out(300, dhcpv6.MessageTypeInformationRequest, 9, nil, 0)))
			Expect(v).To(Equal(Fail))
			v, d := judgeInfoRefresh(obsOf(out(0, dhcpv6.MessageTypeInformationRequest, 8, nil, 0), rep))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("no new Information-request"))
		})
	})

	g.Describe("release-on-stop", func() {
		g.It("passes a Release to the granting server", func() {
			o := obsOf(with(bound(100, 160, 300), out(2.01, dhcpv6.MessageTypeRelease, 6, sid1, 0, ia(0, 0, ls(addr1, 0, 0))), in(2.02, dhcpv6.MessageTypeReply, 6, sid1))...)
			o.mark = jat(2)
			v, d := judgeRelease(o)
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("Release 0.010 s after the stop, to s1"))
		})
		g.It("fails no Release", func() {
			o := obsOf(bound(100, 160, 300)...)
			o.mark = jat(2)
			v, _ := judgeRelease(o)
			Expect(v).To(Equal(Fail))
		})
	})

	g.Describe("release-unanswered", func() {
		// releases at the given seconds, one exchange (XID 6), to s1; the
		// stop at 2 s; the observation ends at end
		rels := func(end float64, at ...float64) clientObs {
			ms := bound(100, 160, 300)
			for _, s := range at {
				ms = append(ms, out(s, dhcpv6.MessageTypeRelease, 6, sid1, s-at[0], ia(0, 0, ls(addr1, 0, 0))))
			}
			o := obsOf(ms...)
			o.mark, o.end = jat(2), jat(end)
			return o
		}
		g.It("passes REL_MAX_RC (4) transmissions, then nothing", func() {
			v, d := judgeReleaseUnanswered(rels(40, 2.01, 3.06, 5.12, 9.2))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("4 Releases to s1 over 7.20 s after the stop (intervals 1.05 s, 2.06 s, 4.08 s), none answered; nothing more in the 30.80 s watched after the last"))
		})
		g.It("fails more (ISC dhclient's six: RFC 3315's REL_MAX_RC 5, retransmissions counted)", func() {
			v, d := judgeReleaseUnanswered(rels(90, 2.01, 3.06, 5.12, 9.2, 17.3, 33.5))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("6 Releases"))
			Expect(d).To(ContainSubstring("more than REL_MAX_RC (4)"))
		})
		g.It("fails one Release and no retransmission", func() {
			v, d := judgeReleaseUnanswered(rels(20, 2.01))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("one Release to s1 0.010 s after the stop, not answered; nothing more in the"))
			Expect(d).To(ContainSubstring("gave up before REL_MAX_RC (4)"))
		})
		g.It("cannot tell when the observation ends within the next RT", func() {
			v, d := judgeReleaseUnanswered(rels(12, 2.01, 3.06, 5.12, 9.2))
			Expect(v).To(Equal(NA), d)
			Expect(d).To(ContainSubstring("too soon to tell"))
		})
		g.It("fails no Release, and says when the client was never stopped", func() {
			v, _ := judgeReleaseUnanswered(rels(20))
			Expect(v).To(Equal(Fail))
			o := obsOf(bound(100, 160, 300)...)
			v, _ = judgeReleaseUnanswered(o)
			Expect(v).To(Equal(NA))
		})
	})

	g.Describe("elapsed-time and retransmission", func() {
		sols := func(elapsed ...float64) []trace.Message {
			ts := []float64{0.3, 1.35, 3.45, 7.65}
			var ms []trace.Message
			for i, e := range elapsed {
				ms = append(ms, out(ts[i], dhcpv6.MessageTypeSolicit, 1, nil, e))
			}
			return ms
		}
		g.It("passes Elapsed Time 0 first, then the time since", func() {
			v, d := judgeElapsed(obsOf(sols(0, 1.05, 3.15)...))
			Expect(v).To(Equal(Pass), d)
		})
		g.It("fails a first transmission not at 0 and a retransmission that does not grow", func() {
			v, d := judgeElapsed(obsOf(sols(0.5, 0.5, 3.15)...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("not 0"))
			Expect(d).To(ContainSubstring("not more than the transmission before"))
		})
		g.It("fails a message without Elapsed Time", func() {
			ms := sols(0, 1.05)
			ms[1].HasElapsed = false
			v, _ := judgeElapsed(obsOf(ms...))
			Expect(v).To(Equal(Fail))
		})
		g.It("passes RTs within §15's bounds", func() {
			v, d := judgeRetransmission(obsOf(sols(0, 1.05, 3.15, 7.35)...))
			Expect(v).To(Equal(Pass), d)
			Expect(d).To(ContainSubstring("RTs 1.050, 2.100 (×2.00), 4.200 (×2.00) s"))
			Expect(d).To(ContainSubstring("first Solicit 1.30 s after the client's start"))
		})
		g.It("fails an RT1 at IRT exactly less the slack, and a doubling off by more than 10 %", func() {
			ms := sols(0, 0.9, 3, 6)
			ms[1].At, ms[2].At, ms[3].At = jat(1.2), jat(3.0), jat(5.0)
			v, d := judgeRetransmission(obsOf(ms...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("RT1 0.900 s outside [1.00 s, 1.10 s]"))
			Expect(d).To(ContainSubstring("RT3 2.00 s outside"))
		})
		g.It("fails a new transaction ID on a retransmission", func() {
			ms := sols(0, 1.05, 3.15)
			ms[2].XID = dhcpv6.TransactionID{9, 9, 9}
			v, d := judgeRetransmission(obsOf(ms...))
			Expect(v).To(Equal(Fail))
			Expect(d).To(ContainSubstring("keeps it"))
		})
	})

	g.It("writes one evidence line per message and address change, in time order", func() {
		o := obsOf(bound(4, 6, 20)...)
		o.addrs = []trace.AddrChange{addrAt(0.02, addr1, false, true)}
		ls := o.lines()
		Expect(ls).To(HaveLen(5))
		Expect(ls[0]).To(HavePrefix("+1.000 → SOLICIT xid 010101"))
		Expect(ls[0]).To(HaveSuffix("elapsed 0.00 s"))
		Expect(ls[3]).To(HaveSuffix("(s1)"))
		Expect(ls[4]).To(Equal("+1.020 address 2001:db8:c1::a:1/128 tentative valid 20.00 s"))
	})
})

// A real client's recorded run (sim/realclient/trace/testdata): its
// messages, its address log and its servers' DUIDs named as in NAME.json.
func realRun(name string) clientObs {
	base := filepath.Join("..", "realclient", "trace", "testdata", name)
	b, err := os.ReadFile(base + ".json")
	Expect(err).NotTo(HaveOccurred())
	var meta map[string]string
	Expect(json.Unmarshal(b, &meta)).To(Succeed())
	mac, err := net.ParseMAC(meta["mac"])
	Expect(err).NotTo(HaveOccurred())
	frames, err := trace.ReadPcap(base + ".pcap")
	Expect(err).NotTo(HaveOccurred())
	f, err := os.Open(base + ".addrs.jsonl")
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	addrs, err := trace.ReadAddrs(f)
	Expect(err).NotTo(HaveOccurred())
	msgs, _ := trace.Messages(trace.Client{MAC: mac, Kind: meta["kind"]}, frames)
	Expect(msgs).NotTo(BeEmpty())
	o := clientObs{msgs: msgs, addrs: addrs, names: map[string]string{}, start: msgs[0].At.Add(-time.Second), end: frames[len(frames)-1].At}
	for k, v := range meta {
		if n, ok := strings.CutPrefix(k, "server_"); ok {
			o.names[v] = n
		}
	}
	return o
}

var _ = g.Describe("client verdicts on recorded real clients", func() {
	g.It("ISC dhclient, failover: 255 at once, Renew at T1, Rebind at the Renew retransmission, renumbered by the other server", func() {
		o := realRun("dhclient-failover")
		v, d := judgePreference255(o)
		Expect(v).To(Equal(Pass), d)
		Expect(d).To(ContainSubstring("Request to srva"))
		v, d = judgeRenewT1(o)
		Expect(v).To(Equal(Pass), d)
		Expect(d).To(ContainSubstring("T1 (2.00 s), to srva's Server ID"))
		v, d = judgeRebindT2(o)
		Expect(v).To(Equal(Fail), d)
		Expect(d).To(MatchRegexp(`first Rebind \d\.\d\d s past T2`))
		v, d = judgeRenumber(o)
		Expect(v).To(Equal(Pass), d)
		Expect(d).To(ContainSubstring("srvb's Reply to Rebind"))
	})

	g.It("ISC dhclient, NoBinding: Solicits rather than Requests", func() {
		v, d := judgeNoBinding(realRun("dhclient-nobinding"))
		Expect(v).To(Equal(Fail), d)
		Expect(d).To(ContainSubstring("next the client sent a SOLICIT"))
	})

	g.It("ISC dhclient with ISC's DAD wait Declines; dhcpcd does not", func() {
		v, d := judgeDecline(realRun("dhclient-dad"))
		Expect(v).To(Equal(Pass), d)
		v, d = judgeDecline(realRun("dhcpcd-dad"))
		Expect(v).To(Equal(Fail), d)
		Expect(d).To(ContainSubstring("no Decline"))
	})

	g.It("WIDE dhcp6c Releases to the granting server", func() {
		o := realRun("dhcp6c-release")
		rel := o.first(trace.Sent, dhcpv6.MessageTypeRelease, time.Time{})
		Expect(rel).NotTo(BeNil())
		o.mark = rel.At.Add(-10 * time.Millisecond)
		v, d := judgeRelease(o)
		Expect(v).To(Equal(Pass), d)
		Expect(d).To(ContainSubstring("to srv1"))
	})

	g.It("WIDE dhcp6c keeps IRT_MINIMUM for a 3 s Information Refresh Time (no refresh within its 8 s run)", func() {
		v, d := judgeInfoRefresh(realRun("dhcp6c-info"))
		Expect(v).To(Equal(Fail), d)
		Expect(d).To(ContainSubstring("Information Refresh Time 3.00 s (the Information-request's ORO did not ask for it); no new Information-request"))
	})
})
