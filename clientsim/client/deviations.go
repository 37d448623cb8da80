package client

import "time"

// Deviations make the client depart from RFC 9915 where a real client kind
// does, so that a population can show what hosts of that kind would do.
// The zero value is RFC 9915: every field off. clientsim/profile fills them
// from its profiles.yaml, which names the source code and the measurement
// each one comes from. Each field says what it changes and which client's
// code it models; none of them is RFC 9915 behaviour unless it says so.
type Deviations struct {
	// TakeFirstAdvertise: the client Requests from the first usable
	// Advertise at once, whatever its Preference, instead of collecting
	// Advertises until the first RT ends (unless one has Preference 255)
	// and taking the best.
	//
	// Not RFC 9915 (§18.2.1, §18.2.9): what dhcpcd 9.4.1 does
	// (src/dhcp6.c, dhcp6_recvif: an ADVERTISE in DH6S_DISCOVER that
	// dhcp6_validatelease accepts goes straight to dhcp6_startrequest;
	// the Preference option is never read). dhcpcd 10.2.0 added the wait
	// (commit fdeb8c79).
	TakeFirstAdvertise bool

	// LowestServerIDFirst: among stored Advertises of equal Preference,
	// the one whose Server Identifier is binary lowest (a shorter one
	// first) is taken, not the first received. RFC 9915 §18.2.9 leaves
	// ties to the client ("MAY choose a less preferred server"); this is
	// ISC dhclient 4.4's choice (client/dhc6.c, dhc6_best_lease: equal
	// preference, equal score, "binary lesser server ID"). In a lab all
	// Advertises carry one address, so dhclient's score ties too.
	LowestServerIDFirst bool

	// UncappedFirstRenewRT: the first Renew retransmission timeout is
	// not cut at T2, so when T2 - T1 is shorter than it (REN_TIMEOUT 10 s
	// ±10 %) the Rebind starts at that first retransmission instant,
	// after T2, or earlier, though never before T2, when a lease's
	// preferred or valid lifetime ends first; later timeouts are cut at
	// T2 as in RFC 9915 §15.
	//
	// Not RFC 9915 (§18.2.4: Renew ends at T2 and Rebind starts then):
	// what ISC dhclient 4.4 does (client/dhc6.c: start_renew6 sets MRD =
	// T2 - now and dhc6_retrans_init sets the first RT = IRT + RAND
	// without looking at MRD; only dhc6_retrans_advance cuts later RTs
	// to end at MRD). dhc6_check_times moves a renewing client to Rebind
	// (it arms start_rebind6 at T2, at once when T2 is past), and it runs
	// when a retransmission timer fires with the elapsed time at or past
	// MRD (do_refresh6) and when a lifetime ends (do_depref, do_expire).
	// With T1 10 s, T2 16 s and preferred 20 s, five real dhclients
	// Rebound 19.39-20.02 s after the Reply, those whose retransmission
	// would have come later at 20.01 s, the preferred lifetime's end.
	UncappedFirstRenewRT bool

	// WholeSecondClock: a lease's expiry falls where ISC dhclient 4.4
	// has it after the Rebind starts: the Reply's whole second plus the
	// valid lifetime, counted in whole seconds from the Rebind's start,
	// so up to 1 s either way of the Reply plus the valid lifetime. T1,
	// T2 and the lifetimes count from the Reply as in RFC 9915.
	//
	// dhclient stamps IAs and addresses with cur_time, whole seconds
	// (client/dhc6.c, dhc6_parse_ia_na / dhc6_parse_addrs: starts =
	// cur_time), and dhc6_check_times arms T1, T2, the preferred and
	// valid lifetimes' ends for that second plus the lifetime (tv_usec
	// 0). common/dispatch.c add_timeout turns such a target into whole
	// seconds from the arming instant's second, counted from the arming
	// instant. Armed at the Reply (T1, the lifetimes), a timer fires
	// exactly after the Reply (measured: every Renew 4.01-4.03 s after a
	// Reply with T1 4 s); armed again later (the expiry, when the Rebind
	// starts), it falls off by the two instants' difference in fractions
	// of a second (measured: an address with valid 20 s removed 19.90 s
	// and 19.44 s after the Reply).
	WholeSecondClock bool

	// NoBinding is what a NoBinding status for an IA in a Reply to Renew
	// or Rebind makes the client do.
	NoBinding NoBindingRule

	// NoAddrsSolicit: a Reply to Renew or Rebind that gives no usable IA
	// because an IA says NoAddrsAvail or NoPrefixAvail makes the client
	// Solicit, keeping its leases until their valid lifetimes end, where
	// RFC 9915 §18.2.10.1 has it go on as if that IA had not been in the
	// Reply (keep renewing or rebinding).
	//
	// Not RFC 9915: what both ISC dhclient 4.4 (client/dhc6.c,
	// dhc6_reply_action: NoAddrsAvail/NoPrefixAvail -> start_init6, "Head
	// back to init, keeping any active bindings"; it does so even when
	// another IA of the Reply was fine) and dhcpcd 9.4.1 do (src/dhcp6.c,
	// dhcp6_findia returns -1 when no IA is usable and one had an error
	// status; dhcp6_recvif then calls dhcp6_startdiscoinform, "The
	// currently held lease is still valid until a new one is found").
	NoAddrsSolicit bool

	// SolicitDelayEvery: every Solicit exchange, not only the first one,
	// waits a random delay up to SOL_MAX_DELAY before its first message.
	// RFC 9915 §18.2.1 asks it of the first Solicit on an interface;
	// ISC dhclient 4.4 (client/dhc6.c, start_init6: every start, uniform
	// [0, SOL_MAX_DELAY) in 10 ms steps) and dhcpcd 9.4.1 (src/dhcp6.c,
	// dhcp6_startdiscover: IMD = SOL_MAX_DELAY on every start) delay them
	// all: after a lost binding, a failed Request or an expiry too.
	SolicitDelayEvery bool

	// FixedInitialDelay: an initial delay (Solicit, Confirm,
	// Information-request, a Rebind with Confirm's parameters) is its
	// maximum times 1 + RAND, RAND uniform in [0, 0.1), instead of
	// uniform in [0, maximum]: about 1 s where RFC 9915 averages 0.5 s.
	//
	// Not RFC 9915 (§18.2.1, §18.2.3, §18.2.6: a random amount between 0
	// and the maximum): what dhcpcd 9.4.1 does (src/dhcp6.c,
	// dhcp6_sendmessage: with state->IMD set, RT = IMD seconds plus the
	// positive first-transmission RAND, then the message goes out).
	FixedInitialDelay bool

	// DoubledRT: each retransmission timeout is twice the last one, capped
	// at MRT, times 1 + RAND, RAND uniform in [-0.1, 0.1): 1.8 to 2.2
	// times the last, where RFC 9915 gives 1.9 to 2.1; and the first RT
	// of every exchange is IRT times 1 + RAND with RAND in [0, 0.1),
	// never below IRT, where RFC 9915 takes RAND in [-0.1, 0.1] but for a
	// Solicit.
	//
	// Not RFC 9915 (§15: RT = 2*RTprev + RAND*RTprev, capped as MRT +
	// RAND*MRT; RT = IRT + RAND*IRT first): what dhcpcd 9.4.1 does
	// (src/dhcp6.c, dhcp6_sendmessage: RT = state->RT + state->RT *
	// lr / 1000, lr in [0, 100) for the first transmission and in [-100,
	// 100) after; then state->RT = RT * 2, cut to MRT before the next
	// draw). dhcpcd counts in milliseconds; the model in nanoseconds.
	DoubledRT bool

	// SolMaxRT and InfMaxRT replace SOL_MAX_RT and INF_MAX_RT (0: the
	// RFC 9915 values, 3600 s each); Timescale scales them like the
	// constants they replace. IgnoreMaxRTOptions makes the client ignore
	// the SOL_MAX_RT and INF_MAX_RT options servers send.
	//
	// Not RFC 9915 (§7.6; §21.24, §21.25: the client MUST process
	// them): ISC dhclient 4.4 keeps RFC 3315's 120 s for both
	// (includes/dhcp6.h) and never reads the options (D6O_SOL_MAX_RT is
	// only defined).
	SolMaxRT, InfMaxRT time.Duration
	IgnoreMaxRTOptions bool

	// FailDrops: when a Request runs out of transmissions (REQ_MAX_RC)
	// with no other Advertise left, a Confirm or a Rebind with Confirm's
	// parameters runs out of time (CNF_MAX_RD), or a Decline ends, the
	// client drops every lease it holds (an Expired event with Detail
	// "dropped: ...") and Solicits.
	//
	// Not RFC 9915 (§18.2.10.1, §18.2.3: leases stay usable until their
	// valid lifetimes end): what dhcpcd 9.4.1 does (src/dhcp6.c,
	// dhcp6_fail, called by dhcp6_failrequest, dhcp6_failconfirm,
	// dhcp6_failrebind, dhcp6_faildecline and on a Reply to Decline:
	// dhcp6_freedrop_addrs unless the lastleaseextend option is set).
	FailDrops bool

	// FailHalts: a Request that runs out of transmissions (REQ_MAX_RC) is
	// the last the client sends for it. After a Solicit it tries no other
	// Advertise and does not Solicit again: it holds nothing and stays
	// Halted until something restarts it (Stop still stops it). After a
	// NoBinding it keeps the leases it holds but neither Renews nor
	// Rebinds them, and Solicits once they have all expired.
	//
	// RFC 9915 §18.2.2 lets the client's local policy choose, among
	// other actions, to "terminate the configuration process and report
	// failure"; the zero value takes the first two it lists (another
	// server that advertised, then a new Solicit). This is what WIDE
	// dhcp6c 20080615 does (dhcp6c.c, client6_timo: an event at
	// max_retrans_cnt is removed and nothing else happens;
	// dhcp6c_ia.c, reestablish_ia: the Request after a NoBinding
	// removed the IA's own timer, so only addrconf.c addr_timo ends the
	// addresses, and remove_ia calls client6_start). With FailDrops it
	// is ignored.
	FailHalts bool

	// MRCRetransmissions: an exchange's MRC counts retransmissions, not
	// transmissions: a Request (REQ_MAX_RC), a Release or a Decline is
	// sent MRC + 1 times before it fails, the last one waited out for its
	// RT as the others.
	//
	// Not RFC 9915 (§15: the exchange fails "once the client has
	// transmitted the message MRC times"): what ISC dhclient 4.4 does
	// (client/dhc6.c, check_timing6: a transmission is refused only once
	// txcount, the transmissions made, exceeds MRC; includes/dhcp6.h
	// calls REQ_MAX_RC "Max Request retry attempts").
	MRCRetransmissions bool

	// PDRebindConfirm: a client that asks for an IA_PD Rebinds with
	// Confirm's parameters (CNF_MAX_DELAY, CNF_TIMEOUT, CNF_MAX_RT) and
	// gives it CNF_MAX_RD from the moment it starts (T2), instead of
	// REB_TIMEOUT/REB_MAX_RT until the valid lifetimes end. With
	// FailDrops the end of that time drops every lease.
	//
	// Not RFC 9915 (§18.2.5; Confirm's parameters are for a link change,
	// §18.2.12): what dhcpcd 9.4.1 does after RFC 3633 §12.1
	// (src/dhcp6.c, dhcp6_startrebind: dhcp6_hasprefixdelegation sets
	// IMD/IRT/MRT from CNF_* and arms dhcp6_failrebind after CNF_MAX_RD).
	PDRebindConfirm bool

	// MinT2: an IA's T2 under it (after the §14.2 defaults for a T2 of 0)
	// is raised to it, and its T1 set to five eighths of it in whole
	// seconds (18 s for 30 s); 0 leaves T1 and T2 as the Reply gave them.
	// Timescale scales it like the constants. With a valid lifetime no
	// longer than it, the client never Rebinds: its leases expire at or
	// before T2, and it Solicits.
	//
	// Not RFC 9915 (§18.2.4, §21.4: Renew at T1, Rebind at T2, as the
	// server set them): what WIDE dhcp6c 20080615 does (dhcp6c_ia.c,
	// update_ia, "Be proactive for too-small timeout values": when
	// ia->t2 < DHCP6_DURATION_MIN, 30 s in dhcp6.h, t2 = 30 and t1 = t2 *
	// 5 / 8 in integer seconds). The lease's own timer (addrconf.c,
	// update_address: the valid lifetime, armed at the Reply) runs before
	// the T2 timer armed at T1 for the same instant; it removes the
	// address, the emptied IA is removed and the client starts over
	// (remove_ia -> client6_start: a Solicit after a random delay under
	// SOL_MAX_DELAY).
	MinT2 time.Duration

	// IgnoreLinkChange: LinkChanged does nothing; the client neither
	// Confirms nor Rebinds after its link went down and up.
	//
	// Not RFC 9915 (§18.2.3, §18.2.12): ISC dhclient 4.4 -6 on Linux
	// does not watch the link; it Confirms only at start, for a lease
	// read from its lease file (client/dhclient.c, main: start_confirm6).
	IgnoreLinkChange bool

	// DropOnLinkChange: when its link goes down (LinkDown; LinkChanged
	// alone is a loss and a return at once) the client takes its IA_NA
	// addresses off the interface (a Dropped event each) and keeps the
	// leases; once the link is back it Confirms them (or Rebinds, with an
	// IA_PD) as RFC 9915 has it, and puts each back, with a new duplicate
	// address detection, when an answer keeps it: a Confirm answered
	// Success, or a Reply that extends it (a Restored event with its
	// tentative time). Until then the addresses carry no traffic and
	// defend nothing.
	//
	// Not RFC 9915 (§18.2.3: the client keeps its addresses while it
	// Confirms them, and goes on using them when no server answers): what
	// dhcpcd 9.4.1 does
	// (src/dhcpcd.c dhcpcd_handlecarrier: carrier lost -> dhcpcd_drop,
	// which removes the addresses and keeps the lease file; carrier back
	// -> dhcp6_start, whose dhcp6_startinit reads the lease back and
	// Confirms it, and dhcp6_bind adds the addresses again). Measured
	// against 5 real dhcpcd hosts, the link down 0.5 s: the time without a
	// usable address p50 3.06 s simulated, 3.16 s real (profiles.yaml,
	// run flap-drop-netns).
	DropOnLinkChange bool

	// KeepDADFailed: an address whose duplicate address detection finds
	// it in use is not declined. The client keeps the lease, which is not
	// usable (a DADFailed event, Cause dad, the holder in Peer, instead of
	// Declined), and goes on renewing and rebinding it as any other until
	// a Reply or its valid lifetime ends it; it gets another address only
	// then (or, with ReaddKept, a later DAD of it passes). The kept address defends nothing: a later
	// client's DAD for it does not see it.
	//
	// Not RFC 9915 (§18.2.8, §18.2.10.1: the client declines an address
	// DAD finds in use): what the Debian clients do. Debian's
	// dhclient-script adds the address and exits without waiting for DAD
	// (ISC's own client/scripts/linux waits, add_ipv6_addr_with_DAD, and
	// then dhclient Declines), so ISC dhclient 4.4 never hears of the
	// failure. dhcpcd 9.4.1 Declines an address the kernel flags
	// duplicate (src/dhcp6.c, dhcp6_dadcallback), but Linux deletes a
	// duplicate address that has finite lifetimes, as dhcpcd's have
	// (net/ipv6/addrconf.c, addrconf_dad_stop keeps only a permanent
	// one, flagged IFA_F_DADFAILED), so no flag ever reaches it. WIDE
	// dhcp6c 20080615 watches no DAD at all (addrconf.c adds the
	// address; nothing reads its flags). dhclient and dhcpcd add the
	// address again at each Renew, a new DAD that passes once the other
	// host has let the address go (ReaddKept); without it the address
	// stays unusable until the lease ends, as dhcp6c's does (it stays on
	// the interface flagged dadfailed).
	KeepDADFailed bool

	// ReaddKept: with KeepDADFailed, a kept address is added to the
	// interface again at each Reply that extends it, so that it goes
	// through duplicate address detection again (a Restored event with
	// its tentative time, then a probe): once its other holder has let
	// it go, the probe passes and the address is used from then on; while
	// the holder stays, the probe fails again (another DADFailed).
	//
	// Not RFC 9915 (§18.2.8: the client declines it): what ISC dhclient
	// 4.4 with Debian's dhclient-script (RENEW6 and REBIND6 add the
	// address with its lifetimes) and dhcpcd 9.4.1 (dhcp6_bind adds the
	// addresses at every Reply, ipv6_addaddrs) do: Linux had deleted the
	// address when DAD failed, and adding it again starts a new DAD. WIDE
	// dhcp6c leaves the address on the interface flagged dadfailed, which
	// the kernel never probes again.
	ReaddKept bool
}

// NoBindingRule is what a client does with NoBinding for an IA in a Reply
// to Renew or Rebind.
type NoBindingRule uint8

// NoBinding rules.
const (
	// NoBindingRequest is RFC 9915 §18.2.10.1: a Request for all IAs to
	// the server that answered, retransmitted as any Request; the leases
	// stay in use meanwhile.
	NoBindingRequest NoBindingRule = iota

	// NoBindingRequestOnce: one Request for all IAs carrying the Server
	// Identifier of the server that last granted the binding (not the
	// one that answered), never retransmitted; if nothing answers it the
	// client sends nothing more until its leases expire, and then
	// Solicits.
	//
	// Not RFC 9915: what ISC dhclient 4.4 does (client/dhc6.c,
	// dhc6_reply_action: NoBinding -> advertised_leases = a copy of the
	// active lease, start_selecting6, whose do_select6 sends the Request
	// with that lease's Server ID (make_client6_options); reply_handler
	// then cancels the do_select6 and do_refresh6 timers it finds, the
	// new Request's retransmission among them; only do_expire is left).
	// A server other than the one named must discard that Request
	// (RFC 9915 §16.4), so after a failover the client waits for the
	// end of its valid lifetime.
	NoBindingRequestOnce

	// NoBindingSolicit: when no IA of the Reply is usable the client
	// Solicits, keeping its leases until their valid lifetimes end (they
	// are not renewed any more); when another IA was usable it Requests
	// from the server that last granted the binding (retransmitted).
	//
	// Not RFC 9915: what dhcpcd 9.4.1 does (src/dhcp6.c: dhcp6_findia
	// returns -1 when no IA is usable and one had an error status, and
	// dhcp6_recvif then calls dhcp6_startdiscoinform; with a usable IA,
	// has_no_binding leads to dhcp6_startrequest, whose Server ID comes
	// from state->new, the bound lease, as state->recv is not set on that
	// path).
	NoBindingSolicit
)

var noBindingNames = [...]string{"request", "request-once", "solicit"}

func (r NoBindingRule) String() string {
	if int(r) < len(noBindingNames) {
		return noBindingNames[r]
	}
	return "nobinding(?)"
}

// IsRFC reports whether d is RFC 9915 behaviour: every field off.
func (d Deviations) IsRFC() bool { return d == Deviations{} }

// MinT2T1 is the T1 that MinT2 sets with a T2 it raises: five eighths of
// MinT2 in whole seconds (0 without MinT2).
func (d Deviations) MinT2T1() time.Duration { return (d.MinT2 * 5 / 8).Truncate(time.Second) }

func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}
