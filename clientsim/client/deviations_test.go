package client_test

import (
	"net/netip"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
	"d6lab/clientsim/profile"
	"d6lab/reports/history"
)

func withDev(d client.Deviations) opt { return func(c *client.Config) { c.Deviations = d } }

// withProfile gives the client the deviations of a clientsim/profile entry.
func withProfile(name string) opt {
	p, err := profile.Lookup(name)
	if err != nil {
		panic(err)
	}
	return p.Apply
}

// Each spec names the real client's code it models (clientsim/profile's
// profiles.yaml has the same findings with their measurements); none of
// these is RFC 9915 behaviour, and the RFC 9915 counterpart is checked
// beside it.
var _ = Describe("Deviations from RFC 9915 (client profiles)", func() {
	var a, b *server
	BeforeEach(func() { a, b = newServer(1), newServer(2) })

	// Valid lifetimes far past T2, so that only the spec's event ends them.
	held := func() *dhcpv6.OptIANA { return na("2001:db8::a", 100*sec, 160*sec, 1000*sec, 2000*sec) }

	// requestToA starts a client whose Solicit b (Preference 0) and a (10)
	// answer, and returns once its Request went to a; nobody answers it.
	requestToA := func(seed uint64, o ...opt) *harness {
		h := newHarness(seed, o...)
		h.start()
		sol := h.nextSend()
		h.deliver(b.advertise(sol.msg, 0, held()))
		h.deliver(a.advertise(sol.msg, 10, na("2001:db8::b", 100*sec, 160*sec, 1000*sec, 2000*sec)))
		Expect(serverIDHex(h.nextSend().msg)).To(Equal(a.hex()))
		return h
	}

	Describe("the rfc profile", func() {
		It("is the zero Deviations, and every deviation is off in it", func() {
			Expect(client.Deviations{}.IsRFC()).To(BeTrue())
			for _, d := range []client.Deviations{
				{TakeFirstAdvertise: true}, {LowestServerIDFirst: true}, {UncappedFirstRenewRT: true},
				{WholeSecondClock: true}, {NoBinding: client.NoBindingRequestOnce}, {NoBinding: client.NoBindingSolicit},
				{NoAddrsSolicit: true}, {SolicitDelayEvery: true}, {FixedInitialDelay: true}, {SolMaxRT: time.Second},
				{InfMaxRT: time.Second}, {IgnoreMaxRTOptions: true}, {FailDrops: true}, {FailHalts: true},
				{MRCRetransmissions: true}, {PDRebindConfirm: true}, {IgnoreLinkChange: true},
				{DoubledRT: true},
			} {
				Expect(d.IsRFC()).To(BeFalse(), "%+v", d)
			}
		})

		It("runs a failover exactly as a client without a profile (same messages, same times, same events)", func() {
			run := func(o ...opt) *harness {
				h := newHarness(21, o...)
				h.bind(a, na("2001:db8::a", 10*sec, 16*sec, 20*sec, 30*sec))
				rb := h.nextSend() // Renew, unanswered
				for rb.msg.MessageType != dhcpv6.MessageTypeRebind {
					rb = h.nextSend()
				}
				h.deliver(b.reply(rb.msg, ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
				h.advance(100 * sec)
				return h
			}
			plain, rfc := run(), run(withProfile("rfc"))
			Expect(rfc.events).To(Equal(plain.events))
			Expect(rfc.sent).To(HaveLen(len(plain.sent)))
			for i := range plain.sent {
				Expect(rfc.sent[i].at).To(Equal(plain.sent[i].at))
				Expect(rfc.sent[i].msg.ToBytes()).To(Equal(plain.sent[i].msg.ToBytes()))
			}
		})
	})

	Describe("TakeFirstAdvertise (dhcpcd 9.4.1, src/dhcp6.c dhcp6_recvif)", func() {
		It("Requests from the first Advertise at once, Preference 0, and ignores a later 255", func() {
			h := newHarness(1, withDev(client.Deviations{TakeFirstAdvertise: true}))
			h.start()
			sol := h.nextSend()
			h.deliver(a.advertise(sol.msg, 0, offerNA()))
			Expect(h.c.State()).To(Equal(client.Requesting))
			req := h.sent[len(h.sent)-1]
			Expect(req.msg.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(req.at).To(Equal(sol.at), "no wait for the first RT")
			Expect(serverIDHex(req.msg)).To(Equal(a.hex()))
			h.deliver(b.advertise(sol.msg, 255, na("2001:db8::b", 100*sec, 160*sec, 200*sec, 300*sec)))
			Expect(h.c.Server()).To(Equal(a.hex()))
			Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(1))
		})

		It("RFC 9915 §18.2.1 instead waits the first RT and takes the 255", func() {
			h := newHarness(1)
			h.start()
			sol := h.nextSend()
			h.deliver(a.advertise(sol.msg, 0, offerNA()))
			Expect(h.c.State()).To(Equal(client.Soliciting))
			h.deliver(b.advertise(sol.msg, 255, na("2001:db8::b", 100*sec, 160*sec, 200*sec, 300*sec)))
			Expect(serverIDHex(h.last())).To(Equal(b.hex()))
		})
	})

	Describe("LowestServerIDFirst (ISC dhclient 4.4, client/dhc6.c dhc6_best_lease)", func() {
		advertiseBoth := func(o ...opt) *harness {
			h := newHarness(2, o...)
			h.start()
			sol := h.nextSend()
			h.deliver(b.advertise(sol.msg, 7, na("2001:db8::b", 100*sec, 160*sec, 200*sec, 300*sec)))
			h.deliver(a.advertise(sol.msg, 7, offerNA()))
			h.nextSend() // the end of the first RT
			return h
		}
		It("takes the lower Server ID among equal preferences", func() {
			h := advertiseBoth(withDev(client.Deviations{LowestServerIDFirst: true}))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(serverIDHex(h.last())).To(Equal(a.hex()))
		})
		It("RFC 9915 (a client choice there) keeps the first received", func() {
			h := advertiseBoth()
			Expect(serverIDHex(h.last())).To(Equal(b.hex()))
		})
		It("still puts a higher preference first", func() {
			h := newHarness(2, withDev(client.Deviations{LowestServerIDFirst: true}))
			h.start()
			sol := h.nextSend()
			h.deliver(a.advertise(sol.msg, 7, offerNA()))
			h.deliver(b.advertise(sol.msg, 8, na("2001:db8::b", 100*sec, 160*sec, 200*sec, 300*sec)))
			h.nextSend()
			Expect(serverIDHex(h.last())).To(Equal(b.hex()))
		})
	})

	Describe("UncappedFirstRenewRT (ISC dhclient 4.4, client/dhc6.c dhc6_retrans_init, do_refresh6)", func() {
		// first binds with the lifetimes given and says when the first Renew
		// and the first Rebind go, after the Reply.
		first := func(seed uint64, t1, t2, pref, valid time.Duration, o ...opt) (renew, rebind time.Duration) {
			h := newHarness(seed, o...)
			h.bind(a, na("2001:db8::a", t1, t2, pref, valid))
			bound := h.now
			for {
				s := h.nextSend()
				switch s.msg.MessageType {
				case dhcpv6.MessageTypeRenew:
					if renew == 0 {
						renew = s.at.Sub(bound)
					}
				case dhcpv6.MessageTypeRebind:
					return renew, s.at.Sub(bound)
				}
			}
		}
		// rebindAfter is first with lifetimes that end long after T2.
		rebindAfter := func(seed uint64, t1, t2 time.Duration, o ...opt) (renew, rebind time.Duration) {
			return first(seed, t1, t2, 2*t2, 4*t2, o...)
		}
		It("Rebinds at the first Renew retransmission when T2 - T1 is shorter than it (T1 10 s, T2 16 s)", func() {
			for seed := uint64(1); seed <= 30; seed++ {
				renew, rebind := rebindAfter(seed, 10*sec, 16*sec, withDev(client.Deviations{UncappedFirstRenewRT: true}))
				Expect(renew).To(Equal(10 * sec))
				// RT1 = REN_TIMEOUT (1 + RAND), RAND in [-0.1, 0.1)
				Expect(rebind).To(BeNumerically(">=", 19*sec), "seed %d", seed)
				Expect(rebind).To(BeNumerically("<", 21*sec), "seed %d", seed)
			}
		})
		It("Rebinds at T2 when the first RT ends before it: later RTs are cut at T2 (T1 100 s, T2 160 s)", func() {
			_, rebind := rebindAfter(3, 100*sec, 160*sec, withDev(client.Deviations{UncappedFirstRenewRT: true}))
			Expect(rebind).To(Equal(160 * sec))
		})
		It("RFC 9915 §18.2.4 Rebinds at T2", func() {
			_, rebind := rebindAfter(3, 10*sec, 16*sec)
			Expect(rebind).To(Equal(16 * sec))
		})
		It("Rebinds when the preferred lifetime ends, if that comes before the first Renew retransmission (client/dhc6.c do_depref, dhc6_check_times)", func() {
			atDepref, before := 0, 0
			for seed := uint64(1); seed <= 40; seed++ {
				_, rebind := first(seed, 10*sec, 16*sec, 20*sec, 30*sec, withDev(client.Deviations{UncappedFirstRenewRT: true}))
				Expect(rebind).To(BeNumerically(">=", 19*sec), "seed %d", seed)
				Expect(rebind).To(BeNumerically("<=", 20*sec), "seed %d", seed)
				if rebind == 20*sec {
					atDepref++
				} else {
					before++
				}
			}
			// RT1 is 9-11 s: about half the clients retransmit before 20 s.
			Expect(atDepref).To(BeNumerically(">=", 10))
			Expect(before).To(BeNumerically(">=", 10))
		})
		It("Rebinds at T2, not before, when the preferred lifetime ends before T2 (dhc6_check_times arms start_rebind6 at T2)", func() {
			for seed := uint64(1); seed <= 10; seed++ {
				_, rebind := first(seed, 10*sec, 16*sec, 14*sec, 30*sec, withDev(client.Deviations{UncappedFirstRenewRT: true}))
				Expect(rebind).To(Equal(16*sec), "seed %d", seed)
			}
		})
		It("the dhclient profile Rebinds 19.0-20.0 s after the Reply with T1 10 s, T2 16 s, preferred 20 s (5 real dhclients: 19.63-20.02 s)", func() {
			for seed := uint64(1); seed <= 30; seed++ {
				renew, rebind := first(seed, 10*sec, 16*sec, 20*sec, 30*sec, withProfile("dhclient"))
				Expect(renew).To(Equal(10*sec), "seed %d", seed)
				Expect(rebind).To(BeNumerically(">=", 19*sec), "seed %d", seed)
				Expect(rebind).To(BeNumerically("<=", 20*sec), "seed %d", seed)
			}
		})
	})

	Describe("MinT2 (WIDE dhcp6c 20080615, dhcp6c_ia.c update_ia: DHCP6_DURATION_MIN)", func() {
		floor := withDev(client.Deviations{MinT2: 30 * sec})
		// silent binds with the lifetimes given, hears nothing more for 60 s,
		// and says when the first Renew, the first Rebind and the first
		// Solicit after the Reply went (0: none) and the IA's T1 and T2.
		silent := func(seed uint64, t1, t2, pref, valid time.Duration, o ...opt) (renew, rebind, solicit time.Duration, l client.Lease) {
			h := newHarness(seed, o...)
			h.bind(a, na("2001:db8::a", t1, t2, pref, valid))
			bound := h.now
			l, ok := h.leaseOf(netip.MustParsePrefix("2001:db8::a/128"))
			Expect(ok).To(BeTrue())
			h.advance(60 * sec)
			for _, s := range h.sent {
				at := s.at.Sub(bound)
				switch {
				case s.at.Before(bound):
				case s.msg.MessageType == dhcpv6.MessageTypeRenew && renew == 0:
					renew = at
				case s.msg.MessageType == dhcpv6.MessageTypeRebind && rebind == 0:
					rebind = at
				case s.msg.MessageType == dhcpv6.MessageTypeSolicit && solicit == 0:
					solicit = at
				}
			}
			return renew, rebind, solicit, l
		}
		It("raises a T2 under 30 s to 30 s and T1 to 18 s (T1 10 s, T2 16 s, valid 40 s)", func() {
			renew, rebind, _, l := silent(1, 10*sec, 16*sec, 20*sec, 40*sec, floor)
			Expect(renew).To(Equal(18 * sec))
			Expect(rebind).To(Equal(30 * sec))
			Expect(l.T1).To(Equal(18 * sec))
			Expect(l.T2).To(Equal(30 * sec))
		})
		It("never Rebinds when the valid lifetime ends at the raised T2: the lease expires and the client Solicits (T1 10 s, T2 16 s, valid 30 s)", func() {
			renew, rebind, solicit, _ := silent(1, 10*sec, 16*sec, 20*sec, 30*sec, floor)
			Expect(renew).To(Equal(18 * sec))
			Expect(rebind).To(BeZero(), "a Rebind %s after the Reply", rebind)
			Expect(solicit).To(Equal(30 * sec))
		})
		It("raises a T2 the client chose (§14.2: 0.8 of the preferred lifetime, 16 s) too", func() {
			renew, rebind, _, _ := silent(1, 0, 0, 20*sec, 40*sec, floor)
			Expect(renew).To(Equal(18 * sec))
			Expect(rebind).To(Equal(30 * sec))
		})
		It("keeps a T2 of 30 s or more as the server sent it", func() {
			renew, rebind, _, _ := silent(1, 12*sec, 30*sec, 40*sec, 50*sec, floor)
			Expect(renew).To(Equal(12 * sec))
			Expect(rebind).To(Equal(30 * sec))
		})
		It("scales with the timescale, as the constants (0.1: 3 s and 1.8 s)", func() {
			renew, rebind, _, _ := silent(1, 1*sec, 2*sec, 3*sec, 4*sec, floor, withTimescale(0.1))
			Expect(renew).To(Equal(1800 * time.Millisecond))
			Expect(rebind).To(Equal(3 * sec))
		})
		It("the dhcp6c profile: Renew at 18 s, no Rebind, a Solicit up to SOL_MAX_DELAY after the 30 s expiry", func() {
			for seed := uint64(1); seed <= 20; seed++ {
				renew, rebind, solicit, _ := silent(seed, 10*sec, 16*sec, 20*sec, 30*sec, withProfile("dhcp6c"))
				Expect(renew).To(Equal(18*sec), "seed %d", seed)
				Expect(rebind).To(BeZero(), "seed %d", seed)
				Expect(solicit).To(BeNumerically(">=", 30*sec), "seed %d", seed)
				Expect(solicit).To(BeNumerically("<=", 30*sec+client.SolMaxDelay), "seed %d", seed)
			}
		})
		It("RFC 9915 §18.2.4 Renews at T1 and Rebinds at T2 as sent", func() {
			renew, rebind, _, _ := silent(1, 10*sec, 16*sec, 20*sec, 30*sec)
			Expect(renew).To(Equal(10 * sec))
			Expect(rebind).To(Equal(16 * sec))
		})
	})

	Describe("WholeSecondClock (ISC dhclient 4.4, client/dhc6.c dhc6_parse_ia_na: starts = cur_time; common/dispatch.c add_timeout)", func() {
		It("counts T1 and the valid lifetime from the Reply, as timers armed at the Reply", func() {
			h := newHarness(4, withDev(client.Deviations{WholeSecondClock: true}))
			h.bind(a, na("2001:db8::a", 10*sec, 16*sec, 20*sec, 30*sec))
			bound := h.now
			Expect(bound.Truncate(sec)).NotTo(Equal(bound), "the Reply came within a second")
			l := h.c.Leases()[0]
			Expect(l.Until).To(Equal(bound.Add(30 * sec)))
			Expect(l.Granted).To(Equal(bound))
			Expect(h.nextSend().at).To(Equal(bound.Add(10 * sec)))
		})
		It("arms the expiry again when the Rebind starts: the Reply's second plus the valid lifetime, in whole seconds from then", func() {
			// With UncappedFirstRenewRT, as dhclient: the Rebind starts at a
			// Renew retransmission, in another fraction of a second than
			// the Reply's.
			moved := 0
			for seed := uint64(1); seed <= 20; seed++ {
				h := newHarness(seed, withDev(client.Deviations{WholeSecondClock: true, UncappedFirstRenewRT: true}))
				h.bind(a, na("2001:db8::a", 10*sec, 16*sec, 20*sec, 30*sec))
				bound := h.now
				var rebind time.Time
				for rebind.IsZero() {
					if s := h.nextSend(); s.msg.MessageType == dhcpv6.MessageTypeRebind {
						rebind = s.at
					}
				}
				until := h.c.Leases()[0].Until
				want := rebind.Add(bound.Truncate(sec).Add(30 * sec).Sub(rebind.Truncate(sec)))
				Expect(until).To(Equal(want), "seed %d", seed)
				Expect(until.Sub(bound)).To(BeNumerically(">", 29*sec), "seed %d", seed)
				Expect(until.Sub(bound)).To(BeNumerically("<", 31*sec), "seed %d", seed)
				if !until.Equal(bound.Add(30 * sec)) {
					moved++
				}
			}
			Expect(moved).To(BeNumerically(">", 0))
		})
	})

	Describe("NoBinding to Rebind", func() {
		rebindNoBinding := func(o ...opt) (*harness, time.Time) {
			h := newHarness(11, o...)
			h.bind(a, held())
			bound := h.now
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
			h.deliver(b.reply(h.last(), ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
			return h, bound
		}

		Describe("NoBindingRequestOnce (ISC dhclient 4.4, client/dhc6.c dhc6_reply_action, reply_handler)", func() {
			It("sends one Request naming the server of the binding, then nothing until the lease expires, then Solicits", func() {
				h, bound := rebindNoBinding(withDev(client.Deviations{NoBinding: client.NoBindingRequestOnce}))
				Expect(h.c.State()).To(Equal(client.Requesting))
				req := h.last()
				Expect(req.MessageType).To(Equal(dhcpv6.MessageTypeRequest))
				Expect(serverIDHex(req)).To(Equal(a.hex()), "the active lease's Server ID, not the answering b")
				Expect(naAddrs(req)).To(Equal([]string{"2001:db8::a"}))
				Expect(h.eventsOf(history.NoBinding)).To(HaveLen(1))
				next := h.nextSend()
				Expect(next.msg.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
				Expect(next.at).To(Equal(bound.Add(2000*sec)), "silent until the valid lifetime ends")
				Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(2), "the first Request and the NoBinding one")
				ex := h.eventsOf(history.Expired)
				Expect(ex).To(HaveLen(1))
				Expect(ex[0].At).To(Equal(bound.Add(2000 * sec)))
			})
			It("takes a Reply to that one Request", func() {
				h, _ := rebindNoBinding(withDev(client.Deviations{NoBinding: client.NoBindingRequestOnce}))
				h.deliver(a.reply(h.last(), held()))
				Expect(h.c.State()).To(Equal(client.Bound))
				Expect(h.eventsOf(history.Renewed)).To(HaveLen(1))
			})
		})

		Describe("NoBindingSolicit (dhcpcd 9.4.1, src/dhcp6.c dhcp6_findia, dhcp6_recvif)", func() {
			It("Solicits at once, keeping the lease usable until it expires", func() {
				h, bound := rebindNoBinding(withDev(client.Deviations{NoBinding: client.NoBindingSolicit}))
				Expect(h.c.State()).To(Equal(client.Soliciting))
				Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
				Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(1), "only the first")
				_, ok := h.c.LeaseOf(netip.MustParseAddr("2001:db8::a"))
				Expect(ok).To(BeTrue())
				Expect(h.eventsOf(history.Refused)).To(BeEmpty())
				rebinds := len(h.sendsOf(dhcpv6.MessageTypeRebind))
				// nobody answers: the lease expires while soliciting, which goes on
				h.advance(2100 * sec)
				ex := h.eventsOf(history.Expired)
				Expect(ex).To(HaveLen(1))
				Expect(ex[0].At).To(Equal(bound.Add(2000 * sec)))
				Expect(h.c.State()).To(Equal(client.Soliciting))
				Expect(h.sendsOf(dhcpv6.MessageTypeRebind)).To(HaveLen(rebinds), "no Renew or Rebind of the old lease")
			})
			It("a new address from that Solicit is a renumbering that keeps the old lease until it expires", func() {
				h, bound := rebindNoBinding(withDev(client.Deviations{NoBinding: client.NoBindingSolicit}))
				sol := h.last()
				h.deliver(b.advertise(sol, 255, na("2001:db8:1::b", 100*sec, 160*sec, 1000*sec, 2000*sec)))
				h.deliver(b.reply(h.last(), na("2001:db8:1::b", 100*sec, 160*sec, 1000*sec, 2000*sec)))
				Expect(h.c.State()).To(Equal(client.Bound))
				rn := h.eventsOf(history.Renumbered)
				Expect(rn).To(HaveLen(1))
				Expect(rn[0].Old).To(Equal(addr128("2001:db8::a")))
				Expect(rn[0].Cause).To(Equal(history.CauseOldKept))
				h.until(func() bool { return len(h.eventsOf(history.Expired)) > 0 }, 1000)
				Expect(h.eventsOf(history.Expired)[0].At).To(Equal(bound.Add(2000 * sec)))
			})
			It("stopped while soliciting, it stops using the old lease and sends no Release (no server to send it to)", func() {
				h, _ := rebindNoBinding(withDev(client.Deviations{NoBinding: client.NoBindingSolicit}))
				n := len(h.sent)
				h.take(h.c.Stop(h.now))
				Expect(h.sent).To(HaveLen(n))
				Expect(h.eventsOf(history.Released)).To(HaveLen(1))
				Expect(h.c.State()).To(Equal(client.Stopped))
				Expect(h.c.Leases()).To(BeEmpty())
			})
			It("with another IA usable, Requests from the server of the binding", func() {
				h := newHarness(12, withPD, withDev(client.Deviations{NoBinding: client.NoBindingSolicit}))
				pd := func() *dhcpv6.OptIAPD {
					return iapdOpt(100*sec, 160*sec, prefixOpt("2001:db8:100::/56", 1000*sec, 2000*sec))
				}
				h.start()
				sol := h.nextSend()
				h.deliver(a.advertise(sol.msg, 255, held(), pd()))
				h.deliver(a.reply(h.last(), held(), pd()))
				Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
				h.deliver(b.reply(h.last(), held(), iapdOpt(0, 0, statusOpt(iana.StatusNoBinding))))
				Expect(h.c.State()).To(Equal(client.Requesting))
				Expect(serverIDHex(h.last())).To(Equal(a.hex()))
			})
		})

		It("RFC 9915 §18.2.10.1 Requests from the server that answered", func() {
			h, _ := rebindNoBinding()
			Expect(h.c.State()).To(Equal(client.Requesting))
			Expect(serverIDHex(h.last())).To(Equal(b.hex()))
		})
	})

	Describe("NoAddrsSolicit (ISC dhclient 4.4 dhc6_reply_action; dhcpcd 9.4.1 dhcp6_findia)", func() {
		noAddrs := func(o ...opt) *harness {
			h := newHarness(13, o...)
			h.bind(a, held())
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
			h.deliver(b.reply(h.last(), ianaOpt(0, 0, statusOpt(iana.StatusNoAddrsAvail))))
			return h
		}
		It("a Rebind answered NoAddrsAvail: Solicit, keeping the lease", func() {
			h := noAddrs(withDev(client.Deviations{NoAddrsSolicit: true}))
			Expect(h.c.State()).To(Equal(client.Soliciting))
			Expect(h.c.Leases()).To(HaveLen(1))
		})
		It("RFC 9915 §18.2.10.1 goes on rebinding", func() {
			h := noAddrs()
			Expect(h.c.State()).To(Equal(client.Rebinding))
		})
	})

	Describe("SolicitDelayEvery (ISC dhclient 4.4 start_init6; dhcpcd 9.4.1 dhcp6_startdiscover)", func() {
		solicitAfterExpiry := func(seed uint64, o ...opt) time.Duration {
			h := newHarness(seed, o...)
			h.bind(a, na("2001:db8::a", 10*sec, 16*sec, 20*sec, 30*sec))
			for len(h.eventsOf(history.Expired)) == 0 {
				h.fire()
			}
			expired := h.now
			h.advance(5 * sec)
			for _, s := range h.sendsOf(dhcpv6.MessageTypeSolicit) {
				if !s.at.Before(expired) {
					return s.at.Sub(expired)
				}
			}
			Fail("no Solicit after the expiry")
			return 0
		}
		It("delays the Solicit after a lost binding by up to SOL_MAX_DELAY", func() {
			delayed := 0
			for seed := uint64(1); seed <= 20; seed++ {
				d := solicitAfterExpiry(seed, withDev(client.Deviations{SolicitDelayEvery: true}))
				Expect(d).To(BeNumerically("<=", client.SolMaxDelay))
				if d > 0 {
					delayed++
				}
			}
			Expect(delayed).To(BeNumerically(">", 15))
		})
		It("RFC 9915 §18.2.1 delays only the first Solicit", func() {
			Expect(solicitAfterExpiry(1)).To(BeZero())
		})
	})

	Describe("FixedInitialDelay (dhcpcd 9.4.1, src/dhcp6.c dhcp6_sendmessage, IMD)", func() {
		It("waits SOL_MAX_DELAY times 1 + [0, 0.1) before the first Solicit", func() {
			for seed := uint64(1); seed <= 20; seed++ {
				h := newHarness(seed, withDev(client.Deviations{FixedInitialDelay: true}))
				h.start()
				d := h.nextSend().at.Sub(t0)
				Expect(d).To(BeNumerically(">=", client.SolMaxDelay))
				Expect(d).To(BeNumerically("<", 1100*time.Millisecond))
			}
		})
	})

	Describe("DoubledRT (dhcpcd 9.4.1, src/dhcp6.c dhcp6_sendmessage)", func() {
		// ratios returns, over 200 clients, each Solicit RT after the
		// first over the one before it (below SOL_MAX_RT: 16 Solicits
		// reach about 1,000 s of RT), and each first RT over IRT.
		ratios := func(o ...opt) (next, first []float64) {
			for seed := uint64(1); seed <= 200; seed++ {
				h := newHarness(seed, o...)
				h.start()
				for range 10 {
					h.nextSend()
				}
				sols := h.sendsOf(dhcpv6.MessageTypeSolicit)
				Expect(len(sols)).To(BeNumerically(">=", 10))
				first = append(first, float64(sols[1].at.Sub(sols[0].at))/float64(client.SolTimeout))
				for i := 2; i < len(sols); i++ {
					next = append(next, float64(sols[i].at.Sub(sols[i-1].at))/float64(sols[i-1].at.Sub(sols[i-2].at)))
				}
			}
			return next, first
		}
		// outside is the share of xs outside [lo, hi].
		outside := func(xs []float64, lo, hi float64) float64 {
			n := 0
			for _, x := range xs {
				if x < lo || x > hi {
					n++
				}
			}
			return float64(n) / float64(len(xs))
		}

		It("draws each RT as 1.8 to 2.2 times the last, half of them outside RFC 9915's 1.9 to 2.1", func() {
			next, first := ratios(withDev(client.Deviations{DoubledRT: true}))
			Expect(slices.Min(next)).To(BeNumerically(">=", 1.8-1e-6), "RAND of -0.1 at most, on twice the last RT")
			Expect(slices.Max(next)).To(BeNumerically("<", 2.2+1e-6))
			Expect(outside(next, 1.9, 2.1)).To(BeNumerically("~", 0.5, 0.1), "RAND uniform on twice the last RT")
			Expect(slices.Min(first)).To(BeNumerically(">=", 1), "the first RT never below IRT")
			Expect(slices.Max(first)).To(BeNumerically("<", 1.1+1e-6))
		})

		It("RFC 9915 §15 keeps each RT within 1.9 to 2.1 times the last", func() {
			next, _ := ratios()
			Expect(outside(next, 1.9-1e-6, 2.1+1e-6)).To(BeZero())
			Expect(outside(next, 1.95, 2.05)).To(BeNumerically("~", 0.5, 0.1), "RAND uniform on the last RT")
		})

		It("cuts twice the last RT to MRT before RAND: MRT times 1 + [-0.1, 0.1) once capped", func() {
			// SOL_MAX_RT 8 s: RTs of about 1, 2, 4, then 8 s x (1 + RAND);
			// RFC 9915 §15 gives the same range there, so the spec also
			// holds the cap to twice the last RT, not the RT with RAND.
			capped := 0
			for seed := uint64(1); seed <= 200; seed++ {
				h := newHarness(seed, withDev(client.Deviations{DoubledRT: true, SolMaxRT: 8 * sec}))
				h.start()
				for range 9 {
					h.nextSend()
				}
				sols := h.sendsOf(dhcpv6.MessageTypeSolicit)
				for i := 2; i < len(sols); i++ {
					rt, prev := sols[i].at.Sub(sols[i-1].at), sols[i-1].at.Sub(sols[i-2].at)
					base := min(2*prev, 8*sec)
					Expect(rt).To(BeNumerically(">=", base*9/10-1), "seed %d RT %d: %v after %v", seed, i, rt, prev)
					Expect(rt).To(BeNumerically("<", base*11/10+1), "seed %d RT %d: %v after %v", seed, i, rt, prev)
					if 2*prev > 8*sec {
						capped++
					}
				}
			}
			Expect(capped).To(BeNumerically(">", 500), "most RTs past the fourth capped")
		})

		It("starts a Renew's retransmissions at IRT to 1.1 IRT (RFC 9915 §15: 0.9 to 1.1 IRT)", func() {
			firstRenewRT := func(o ...opt) (lo, hi time.Duration) {
				lo = time.Hour
				for seed := uint64(1); seed <= 100; seed++ {
					h := newHarness(seed, o...)
					h.bind(a, held())
					r := h.nextSend()
					Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
					rt := h.nextSend().at.Sub(r.at)
					lo, hi = min(lo, rt), max(hi, rt)
				}
				return lo, hi
			}
			lo, hi := firstRenewRT(withDev(client.Deviations{DoubledRT: true}))
			Expect(lo).To(BeNumerically(">=", client.RenTimeout))
			Expect(hi).To(BeNumerically("<", client.RenTimeout*11/10))
			lo, _ = firstRenewRT()
			Expect(lo).To(BeNumerically("<", client.RenTimeout*97/100), "RFC 9915: RAND down to -0.1")
		})
	})

	Describe("SolMaxRT and IgnoreMaxRTOptions (ISC dhclient 4.4, includes/dhcp6.h SOL_MAX_RT 120)", func() {
		lastGap := func(o ...opt) time.Duration {
			h := newHarness(14, o...)
			h.start()
			sol := h.nextSend()
			sm := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionSolMaxRT, OptionData: []byte{0, 0, 0, 60}}
			h.deliver(a.advertise(sol.msg, 0, statusOpt(iana.StatusNoAddrsAvail), sm))
			for range 14 {
				h.nextSend()
			}
			sols := h.sendsOf(dhcpv6.MessageTypeSolicit)
			return sols[len(sols)-1].at.Sub(sols[len(sols)-2].at)
		}
		It("caps Solicit retransmissions near 120 s and ignores a server's SOL_MAX_RT", func() {
			gap := lastGap(withDev(client.Deviations{SolMaxRT: 120 * sec, IgnoreMaxRTOptions: true}))
			Expect(gap).To(BeNumerically(">=", 108*sec))
			Expect(gap).To(BeNumerically("<=", 132*sec))
		})
		It("RFC 9915 §21.24 obeys the server's 60 s", func() {
			Expect(lastGap()).To(BeNumerically("<=", 66*sec))
		})
	})

	Describe("InfMaxRT", func() {
		It("caps a stateless client's Information-request retransmissions, not a stateful one's Solicits", func() {
			// A stateless client: its Information-requests, unanswered,
			// stop near 120 s.
			h := newHarness(14, withoutNA, withDev(client.Deviations{InfMaxRT: 120 * sec}))
			h.start()
			for range 14 {
				h.nextSend()
			}
			irs := h.sendsOf(dhcpv6.MessageTypeInformationRequest)
			gap := irs[len(irs)-1].at.Sub(irs[len(irs)-2].at)
			Expect(gap).To(BeNumerically(">=", 108*sec), "the last RT, %v, is below 120 s - 10 %%", gap)
			Expect(gap).To(BeNumerically("<=", 132*sec), "the last RT, %v, is above 120 s + 10 %%", gap)
			// A stateful one's Solicits keep SOL_MAX_RT: past 120 s.
			h = newHarness(14, withDev(client.Deviations{InfMaxRT: 120 * sec}))
			h.start()
			for range 14 {
				h.nextSend()
			}
			sols := h.sendsOf(dhcpv6.MessageTypeSolicit)
			gap = sols[len(sols)-1].at.Sub(sols[len(sols)-2].at)
			Expect(gap).To(BeNumerically(">", 132*sec), "the last Solicit RT, %v, took INF_MAX_RT", gap)
		})
	})

	Describe("DropOnLinkChange (dhcpcd 9.4.1, src/dhcpcd.c dhcpcd_handlecarrier)", func() {
		addrA := netip.MustParseAddr("2001:db8::a")
		dev := withDev(client.Deviations{DropOnLinkChange: true})

		It("takes the address off at the change, Confirms, and puts it back, probed and tentative again, once the Confirm is answered", func() {
			p := newProber(3)
			h := newHarness(17, withDAD(time.Second, time.Second, p), dev)
			h.bind(a, offerNA())
			h.advance(3 * sec) // probed, usable
			Expect(p.calls).To(HaveLen(1))
			changed := h.now
			h.take(h.c.LinkChanged(h.now))
			dr := h.eventsOf(history.Dropped)
			Expect(dr).To(HaveLen(1))
			Expect(dr[0].At).To(Equal(changed))
			Expect(dr[0].Lease).To(Equal(addr128("2001:db8::a")))
			Expect(dr[0].Server).To(Equal(a.hex()), "the granting server")
			l, ok := h.c.LeaseOf(addrA)
			Expect(ok).To(BeTrue(), "the lease is kept")
			Expect(l.Dropped).To(BeTrue())

			c := h.nextSend()
			Expect(c.msg.MessageType).To(Equal(dhcpv6.MessageTypeConfirm))
			Expect(naAddrs(c.msg)).To(Equal([]string{"2001:db8::a"}))
			Expect(h.eventsOf(history.Restored)).To(BeEmpty(), "not back before an answer")
			h.deliver(b.reply(c.msg, statusOpt(iana.StatusSuccess)))
			back := h.eventsOf(history.Restored)
			Expect(back).To(HaveLen(1))
			Expect(back[0].At).To(Equal(h.now))
			Expect(back[0].Tentative).To(BeNumerically(">=", time.Second), "DAD again")
			Expect(back[0].Tentative).To(BeNumerically("<", 2*time.Second))
			l, _ = h.c.LeaseOf(addrA)
			Expect(l.Dropped).To(BeFalse())
			Expect(l.UsableAt).To(Equal(h.now.Add(back[0].Tentative)))
			h.fire()
			Expect(p.calls).To(HaveLen(2), "probed again")
		})

		It("with the link down a while: off at the loss, the Confirm once the link is back, nothing put back by a Reply while it is down", func() {
			h := newHarness(19, withDAD(time.Second, 0, nil), dev)
			h.bind(a, offerNA())
			h.advance(100*sec - 1) // just before T1
			down := h.now
			up := down.Add(2 * sec)
			h.take(h.c.LinkDown(down, up))
			Expect(h.eventsOf(history.Dropped)).To(HaveLen(1))
			Expect(h.eventsOf(history.Dropped)[0].At).To(Equal(down), "at the loss")
			// T1 falls in the down time; the lab lets the Renew through
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			Expect(r.at).To(BeTemporally("<", up))
			h.deliver(a.reply(r.msg, offerNA()))
			Expect(h.eventsOf(history.Renewed)).To(HaveLen(1))
			Expect(h.eventsOf(history.Restored)).To(BeEmpty(), "the link is down")
			c := h.nextSend()
			Expect(c.msg.MessageType).To(Equal(dhcpv6.MessageTypeConfirm))
			Expect(c.at).To(BeTemporally(">=", up), "after the link is back")
			h.deliver(b.reply(c.msg, statusOpt(iana.StatusSuccess)))
			Expect(h.eventsOf(history.Restored)).To(HaveLen(1))
			Expect(h.eventsOf(history.Restored)[0].Tentative).To(Equal(time.Second))
		})

		It("puts it back at a Reply that extends it when the Confirm went unanswered", func() {
			h := newHarness(18, withDAD(time.Second, 0, nil), dev)
			h.bind(a, offerNA())
			h.take(h.c.LinkChanged(h.now))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			l, _ := h.c.LeaseOf(addrA)
			Expect(l.Dropped).To(BeTrue(), "still off")
			r := h.nextSend()
			Expect(r.msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
			h.deliver(a.reply(r.msg, offerNA()))
			Expect(kindsOf(h.events)[len(h.events)-2:]).To(Equal([]history.Kind{history.Renewed, history.Restored}))
			Expect(h.events[len(h.events)-1].Tentative).To(Equal(time.Second), "DAD, no delay")
		})

		It("with ReaddKept too (the dhcpcd profile): a kept address, off already, is not dropped again, and the Confirm's Success adds it again", func() {
			p := newProber(3, "2001:db8::a")
			h := newHarness(20, withDAD(time.Second, time.Second, p),
				withDev(client.Deviations{DropOnLinkChange: true, KeepDADFailed: true, ReaddKept: true}))
			h.bind(a, offerNA())
			h.fire()
			Expect(h.eventsOf(history.DADFailed)).To(HaveLen(1))
			h.take(h.c.LinkDown(h.now, h.now.Add(sec)))
			Expect(h.eventsOf(history.Dropped)).To(BeEmpty(), "the kernel took it off already")
			c := h.nextSend()
			Expect(c.msg.MessageType).To(Equal(dhcpv6.MessageTypeConfirm))
			delete(p.inUse, addrA)
			h.deliver(b.reply(c.msg, statusOpt(iana.StatusSuccess)))
			Expect(h.eventsOf(history.Restored)).To(HaveLen(1), "added again: a new DAD")
			h.fire()
			l, _ := h.c.LeaseOf(addrA)
			Expect(l.DADFailed).To(BeFalse(), "passed")
		})

		It("RFC 9915 §18.2.3 keeps the address on while it Confirms", func() {
			h := newHarness(17)
			h.bind(a, offerNA())
			h.take(h.c.LinkChanged(h.now))
			Expect(h.eventsOf(history.Dropped)).To(BeEmpty())
			l, _ := h.c.LeaseOf(addrA)
			Expect(l.Dropped).To(BeFalse())
		})
	})

	Describe("FailDrops (dhcpcd 9.4.1, src/dhcp6.c dhcp6_fail)", func() {
		It("a Confirm nobody answers drops the addresses and Solicits", func() {
			h := newHarness(15, withDev(client.Deviations{FailDrops: true}))
			h.bind(a, held())
			h.take(h.c.LinkChanged(h.now))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			ex := h.eventsOf(history.Expired)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0].Detail).To(Equal("dropped: confirm"))
			Expect(h.c.Leases()).To(BeEmpty())
			Expect(h.c.State()).To(Equal(client.Soliciting))
		})
		It("RFC 9915 §18.2.3 keeps them", func() {
			h := newHarness(15)
			h.bind(a, held())
			h.take(h.c.LinkChanged(h.now))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			Expect(h.c.Leases()).To(HaveLen(1))
			Expect(h.c.State()).To(Equal(client.Bound))
		})
		It("the dhcpcd profile: a Request after NoBinding's Solicit that nobody answers drops the old lease", func() {
			h := newHarness(16, withProfile("dhcpcd"))
			h.bind(a, held())
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue())
			h.deliver(b.reply(h.last(), ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
			sol := h.nextSend()
			Expect(sol.msg.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
			h.deliver(b.advertise(sol.msg, 0, na("2001:db8:1::b", 100*sec, 160*sec, 1000*sec, 2000*sec)))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(1 + client.ReqMaxRC))
			ex := h.eventsOf(history.Expired)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0].Detail).To(Equal("dropped: request"))
			Expect(h.c.State()).To(Equal(client.Soliciting))
		})
	})

	Describe("FailHalts (WIDE dhcp6c 20080615, dhcp6c.c client6_timo, dhcp6c_ia.c reestablish_ia)", func() {
		It("the dhcp6c profile: a Request after a Solicit that nobody answers is the client's last message", func() {
			// Without the deviation the client Requests from b next (failover_test.go,
			// §18.2.9).
			h := requestToA(19, withProfile("dhcp6c"))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			Expect(h.sendsOf(dhcpv6.MessageTypeRequest)).To(HaveLen(client.ReqMaxRC), "REQ_MAX_RC transmissions, all to a")
			Expect(h.c.State()).To(Equal(client.Halted))
			n := len(h.sent)
			h.advance(24 * time.Hour)
			Expect(h.sent).To(HaveLen(n), "nothing sent in the day after the Request gave up")
			Expect(h.c.Leases()).To(BeEmpty())
			h.take(h.c.Stop(h.now))
			Expect(h.c.State()).To(Equal(client.Stopped))
			Expect(h.sent).To(HaveLen(n), "nothing to release")
		})

		// A Renew answered NoBinding; the Request that follows, to a, goes unanswered.
		noBindingRequestUnanswered := func(o ...opt) (*harness, time.Time) {
			h := newHarness(20, o...)
			h.bind(a, held())
			bound := h.now
			Expect(h.until(func() bool { return h.c.State() == client.Renewing }, 100)).To(BeTrue())
			h.deliver(a.reply(h.last(), ianaOpt(0, 0, statusOpt(iana.StatusNoBinding))))
			Expect(h.last().MessageType).To(Equal(dhcpv6.MessageTypeRequest))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			Expect(h.c.Leases()).To(HaveLen(1))
			return h, bound
		}
		It("the dhcp6c profile: after a NoBinding whose Request nobody answers, no Renew or Rebind; a Solicit once the lease expires", func() {
			h, bound := noBindingRequestUnanswered(withProfile("dhcp6c"))
			Expect(h.c.State()).To(Equal(client.Bound))
			n := len(h.sent)
			sol := h.nextSend()
			Expect(h.sent).To(HaveLen(n+1), "nothing before the Solicit")
			Expect(sol.msg.MessageType).To(Equal(dhcpv6.MessageTypeSolicit))
			ex := h.eventsOf(history.Expired)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0].At).To(Equal(bound.Add(2000 * sec)))
			Expect(sol.at.Sub(ex[0].At)).To(BeNumerically("<=", client.SolMaxDelay))
		})
		It("RFC 9915 §18.2.10.1 (no deviation) goes on renewing the lease it holds", func() {
			h, bound := noBindingRequestUnanswered()
			next := h.nextSend()
			Expect(next.msg.MessageType).To(BeElementOf(dhcpv6.MessageTypeRenew, dhcpv6.MessageTypeRebind))
			Expect(next.at).To(BeTemporally("<", bound.Add(2000*sec)))
		})
	})

	Describe("MRCRetransmissions (ISC dhclient 4.4, client/dhc6.c check_timing6)", func() {
		It("the dhclient profile sends a Request nobody answers REQ_MAX_RC + 1 times, then Requests from the next server", func() {
			h := requestToA(22, withProfile("dhclient"))
			Expect(h.until(func() bool { return serverIDHex(h.last()) == b.hex() }, 100)).To(BeTrue())
			reqs := h.sendsOf(dhcpv6.MessageTypeRequest)
			Expect(reqs).To(HaveLen(client.ReqMaxRC+2), "11 to a (RFC 9915: 10), then b's")
			gap := reqs[len(reqs)-1].at.Sub(reqs[len(reqs)-2].at)
			Expect(gap).To(BeNumerically(">=", client.ReqMaxRT*9/10), "the 11th waited out its RT")
			Expect(gap).To(BeNumerically("<=", client.ReqMaxRT*11/10))
		})
	})

	Describe("PDRebindConfirm (dhcpcd 9.4.1, src/dhcp6.c dhcp6_startrebind, dhcp6_failrebind)", func() {
		pdBound := func(o ...opt) (*harness, time.Time) {
			h := newHarness(17, append([]opt{withPD, withoutNA}, o...)...)
			pd := iapdOpt(10*sec, 16*sec, prefixOpt("2001:db8:100::/56", 20*sec, 300*sec))
			h.start()
			sol := h.nextSend()
			h.deliver(a.advertise(sol.msg, 255, pd))
			h.deliver(a.reply(h.last(), pd))
			return h, h.now
		}
		It("the dhcpcd profile Rebinds 1-1.1 s after T2 with Confirm's timing and drops the prefix CNF_MAX_RD after T2", func() {
			h, bound := pdBound(withProfile("dhcpcd"))
			rb := h.nextSend()
			for rb.msg.MessageType != dhcpv6.MessageTypeRebind {
				rb = h.nextSend()
			}
			d := rb.at.Sub(bound.Add(16 * sec))
			Expect(d).To(BeNumerically(">=", client.CnfMaxDelay))
			Expect(d).To(BeNumerically("<", 1100*time.Millisecond))
			Expect(h.until(func() bool { return len(h.eventsOf(history.GaveUp)) > 0 }, 100)).To(BeTrue())
			Expect(h.now).To(Equal(bound.Add(16*sec + client.CnfMaxRD)))
			for i, s := range h.sendsOf(dhcpv6.MessageTypeRebind)[1:] {
				gap := s.at.Sub(h.sendsOf(dhcpv6.MessageTypeRebind)[i].at)
				Expect(gap).To(BeNumerically("<=", client.CnfMaxRT*11/10))
			}
			ex := h.eventsOf(history.Expired)
			Expect(ex).To(HaveLen(1))
			Expect(ex[0].Detail).To(Equal("dropped: rebind"))
			Expect(h.c.State()).To(Equal(client.Soliciting))
		})
		It("RFC 9915 §18.2.5 rebinds until the valid lifetime ends", func() {
			h, bound := pdBound()
			Expect(h.until(func() bool { return len(h.eventsOf(history.Expired)) > 0 }, 1000)).To(BeTrue())
			Expect(h.eventsOf(history.Expired)[0].At).To(Equal(bound.Add(300 * sec)))
			Expect(h.eventsOf(history.Expired)[0].Detail).To(BeEmpty())
		})
		It("does nothing to a client without an IA_PD", func() {
			h := newHarness(18, withDev(client.Deviations{PDRebindConfirm: true, FailDrops: true}))
			h.bind(a, na("2001:db8::a", 10*sec, 16*sec, 20*sec, 300*sec))
			bound := h.now
			rb := h.nextSend()
			for rb.msg.MessageType != dhcpv6.MessageTypeRebind {
				rb = h.nextSend()
			}
			Expect(rb.at).To(Equal(bound.Add(16 * sec)))
			h.advance(60 * sec)
			Expect(h.c.Leases()).To(HaveLen(1))
			Expect(h.c.State()).To(Equal(client.Rebinding))
		})
	})

	Describe("IgnoreLinkChange (ISC dhclient 4.4, client/dhclient.c: Confirm only at start)", func() {
		It("neither Confirms nor Rebinds after a link change", func() {
			h := newHarness(19, withDev(client.Deviations{IgnoreLinkChange: true}))
			h.bind(a, held())
			o := h.c.LinkChanged(h.now)
			Expect(o.Send).To(BeEmpty())
			Expect(o.Events).To(BeEmpty())
			h.take(o)
			Expect(h.c.State()).To(Equal(client.Bound))
			Expect(h.nextSend().msg.MessageType).To(Equal(dhcpv6.MessageTypeRenew))
		})
	})

	It("zero lifetimes: every profile removes the lease at once (RFC 9915 §18.2.10.1; dhclient do_expire, dhcpcd ipv6_doaddr)", func() {
		for _, name := range []string{"rfc", "dhclient", "dhcpcd"} {
			h := newHarness(20, withProfile(name))
			h.bind(a, held())
			Expect(h.until(func() bool { return h.c.State() == client.Rebinding }, 100)).To(BeTrue(), name)
			h.deliver(b.reply(h.last(), ianaOpt(0, 0,
				addrOpt("2001:db8:1::b", 1000*sec, 2000*sec), addrOpt("2001:db8::a", 0, 0))))
			Expect(h.c.Leases()).To(HaveLen(1), name)
			Expect(h.c.Leases()[0].Prefix).To(Equal(addr128("2001:db8:1::b")), name)
			rn := h.eventsOf(history.Renumbered)
			Expect(rn).To(HaveLen(1), name)
			Expect(rn[0].Old).To(Equal(addr128("2001:db8::a")), name)
			Expect(rn[0].Cause).To(BeEmpty(), name)
		}
	})
})
