package client

import (
	"math"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// exchange is one client-initiated message exchange (RFC 9915 §15): one
// transaction ID, its first transmission time, the retransmission timeout
// and counters. The message template is rebuilt only when the exchange
// starts; retransmissions differ in their Elapsed Time option alone.
type exchange struct {
	kind       dhcpv6.MessageType // MessageTypeNone when no exchange runs
	xid        dhcpv6.TransactionID
	elapsedIdx uint8 // room.opts[elapsedIdx] is the Elapsed Time, replaced per transmission

	positiveFirst bool // Solicit: the first RT uses RAND > 0 (§18.2.1)
	linkChange    bool // Rebind started by LinkChanged (Confirm's parameters, §18.2.12)

	// Deviations (not RFC 9915; see Deviations for the client each models).
	uncappedFirst bool // the first RT is not cut at the deadline (UncappedFirstRenewRT)
	once          bool // one transmission, then wait for the deadline (NoBindingRequestOnce)
	cnfRebind     bool // a Rebind with Confirm's parameters and CNF_MAX_RD (PDRebindConfirm)

	mrc   uint16  // the Params' MRC (0: no limit), with a deviation's one more
	count int32   // transmissions so far
	p     *Params // shared (settings.params, Scratch.withMRT): nobody writes through it

	room *room // the message's options and their storage; nil between exchanges

	start    instant       // first transmission (zero while waiting out the initial delay)
	rt       time.Duration // the current retransmission timeout
	next     instant       // when the exchange's timer fires
	deadline instant       // end of MRD (zero: none)
}

func (e *exchange) active() bool { return e.kind != dhcpv6.MessageTypeNone }

// setParams takes p, which nobody changes, as the exchange's parameters.
// An MRC above 65,535 (none of RFC 9915's is above 10) counts as 65,535.
func (e *exchange) setParams(p *Params) {
	e.p = p
	e.mrc = uint16(min(max(p.MRC, 0), math.MaxUint16))
}

// jitter returns RAND uniform in [-0.1, 0.1) (§15).
func jitter(r *source) float64 { return (r.Float64()*2 - 1) * 0.1 }

// positiveJitter returns RAND uniform in (0, 0.1] (§18.2.1: the first
// Solicit RT MUST be strictly greater than IRT).
func positiveJitter(r *source) float64 { return (1 - r.Float64()) * 0.1 }

func frac(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

// nextRT computes the timeout that follows the transmission just made
// (RFC 9915 §15):
//
//	RT = IRT + RAND*IRT            for the first transmission
//	RT = 2*RTprev + RAND*RTprev    for the following ones
//	RT = MRT + RAND*MRT            if MRT is set and RT > MRT
//
// With doubled (Deviations.DoubledRT), doubledNextRT's rule instead.
func (e *exchange) nextRT(r *source, doubled bool) time.Duration {
	if doubled {
		return e.doubledNextRT(r)
	}
	var rt time.Duration
	if e.count <= 1 {
		if e.positiveFirst {
			rt = e.p.IRT + frac(e.p.IRT, positiveJitter(r))
			if rt <= e.p.IRT { // a RAND so small it truncated to nothing
				rt = e.p.IRT + 1
			}
		} else {
			rt = e.p.IRT + frac(e.p.IRT, jitter(r))
		}
	} else {
		rt = 2*e.rt + frac(e.rt, jitter(r))
	}
	if e.p.MRT > 0 && rt > e.p.MRT {
		rt = e.p.MRT + frac(e.p.MRT, jitter(r))
	}
	if rt <= 0 {
		rt = 1
	}
	return rt
}

// doubledNextRT is nextRT for a client with Deviations.DoubledRT (not RFC
// 9915 §15; dhcpcd 9.4.1, src/dhcp6.c dhcp6_sendmessage):
//
//	RT = IRT * (1 + RAND), RAND in [0, 0.1)                for the first transmission
//	RT = min(2*RTprev, MRT) * (1 + RAND), RAND in [-0.1, 0.1)   for the following ones
func (e *exchange) doubledNextRT(r *source) time.Duration {
	base, rand := e.p.IRT, r.Float64()*0.1
	if e.count > 1 {
		base, rand = 2*e.rt, (r.Float64()*2-1)*0.1
	}
	if e.p.MRT > 0 && base > e.p.MRT {
		base = e.p.MRT
	}
	return max(base+frac(base, rand), 1)
}

// sent records a transmission at now and sets the timer: the next
// retransmission, or the end of the exchange when MRC transmissions were
// made (the last one still gets its RT to be answered) or MRD would pass.
func (e *exchange) sent(s *settings, now time.Time, r *source) {
	if e.count == 0 {
		e.start = s.at(now)
		if e.deadline == 0 && e.p.MRD > 0 {
			e.deadline = s.at(now.Add(e.p.MRD)) // §15: MRD counts from the first transmission
		}
	}
	e.count++
	e.rt = e.nextRT(r, s.Deviations.DoubledRT)
	e.next = s.at(now.Add(e.rt))
	if e.once && e.deadline != 0 {
		e.next = e.deadline // no retransmission: wait for an answer until the deadline
	}
	if e.deadline != 0 && e.next > e.deadline && !(e.uncappedFirst && e.count == 1) {
		e.next = e.deadline
	}
}

// exhausted reports whether, at now, the exchange has run out of
// transmissions (MRC) or time (MRD) and so has failed (§15).
func (e *exchange) exhausted(s *settings, now time.Time) bool {
	if e.mrc > 0 && e.count >= int32(e.mrc) {
		return true
	}
	return e.deadline != 0 && !now.Before(s.time(e.deadline))
}

// elapsed is the Elapsed Time option's value for a transmission at now
// (§21.9): hundredths of a second since the exchange's first
// transmission, 0 for that one, 0xffff for anything longer than 655.35 s.
func (e *exchange) elapsed(s *settings, now time.Time) time.Duration {
	if e.count == 0 || e.start == 0 {
		return 0
	}
	d := now.Sub(s.time(e.start))
	if d < 0 {
		return 0
	}
	cs := d / (10 * time.Millisecond)
	if cs > 0xffff {
		cs = 0xffff
	}
	return cs * 10 * time.Millisecond
}
