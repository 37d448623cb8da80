package client_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/clientsim/client"
	"d6lab/reports/history"
)

const runs = 1000

// checkGaps checks the gaps between consecutive transmissions of one
// exchange against RFC 9915 §15: the first RT in [0.9, 1.1]*IRT (strictly
// greater than IRT for Solicit, §18.2.1), each next one in [1.9, 2.1]*RT
// or, once capped, in [0.9, 1.1]*MRT. It also checks the Elapsed Time of
// each transmission (§21.9).
func checkGaps(t *testing.T, label string, sends []sent, p client.Params, solicit bool) {
	t.Helper()
	within := func(d time.Duration, lo, hi float64, base time.Duration) bool {
		return float64(d) >= lo*float64(base)-1 && float64(d) <= hi*float64(base)+1
	}
	var prev time.Duration
	for i := 1; i < len(sends); i++ {
		if sends[i].msg.TransactionID != sends[0].msg.TransactionID {
			t.Fatalf("%s: send %d has xid %x, first had %x (§15: same xid for retransmissions)",
				label, i, sends[i].msg.TransactionID, sends[0].msg.TransactionID)
		}
		gap := sends[i].at.Sub(sends[i-1].at)
		if i == 1 {
			if solicit {
				if gap <= p.IRT || !within(gap, 0, 1.1, p.IRT) {
					t.Fatalf("%s: first RT %v not in (IRT, 1.1*IRT] with IRT %v", label, gap, p.IRT)
				}
			} else if !within(gap, 0.9, 1.1, p.IRT) {
				t.Fatalf("%s: first RT %v not in [0.9, 1.1]*IRT (%v)", label, gap, p.IRT)
			}
		} else {
			doubled := within(gap, 1.9, 2.1, prev)
			capped := p.MRT > 0 && within(gap, 0.9, 1.1, p.MRT)
			if !doubled && !capped {
				t.Fatalf("%s: RT %d = %v after %v: neither [1.9, 2.1]*RTprev nor [0.9, 1.1]*MRT (%v)",
					label, i, gap, prev, p.MRT)
			}
			if p.MRT > 0 && gap > p.MRT+p.MRT/10 {
				t.Fatalf("%s: RT %d = %v exceeds 1.1*MRT", label, i, gap)
			}
		}
		prev = gap
	}
	for i, s := range sends {
		want := s.at.Sub(sends[0].at) / (10 * time.Millisecond)
		if want > 0xffff {
			want = 0xffff
		}
		got := s.msg.Options.ElapsedTime() / (10 * time.Millisecond)
		if got != want {
			t.Fatalf("%s: send %d Elapsed Time %d hundredths, want %d", label, i, got, want)
		}
	}
}

// spread checks that RAND is spread over its range, not pinned to one
// end: over many runs about half the first RTs fall above the midpoint.
func spread(t *testing.T, label string, firsts []time.Duration, mid time.Duration) {
	t.Helper()
	above := 0
	for _, d := range firsts {
		if d > mid {
			above++
		}
	}
	if share := float64(above) / float64(len(firsts)); share < 0.4 || share > 0.6 {
		t.Fatalf("%s: %.0f%% of first RTs above %v, want about half", label, 100*share, mid)
	}
}

func TestSolicitRetransmission(t *testing.T) {
	for _, ts := range []float64{1, 0.1} {
		p := client.SolicitParams.Scaled(ts)
		var firsts []time.Duration
		for seed := range uint64(runs) {
			h := newHarness(seed, withTimescale(ts))
			h.start()
			for len(h.sent) < 16 {
				if !h.fire() {
					t.Fatal("solicit stopped")
				}
			}
			label := fmt.Sprintf("solicit ts=%v seed=%d", ts, seed)
			// §18.2.1: the first Solicit comes after a delay in [0, SOL_MAX_DELAY].
			if d := h.sent[0].at.Sub(t0); d < 0 || d > p.MaxDelay {
				t.Fatalf("%s: initial delay %v outside [0, %v]", label, d, p.MaxDelay)
			}
			checkGaps(t, label, h.sent, p, true)
			firsts = append(firsts, h.sent[1].at.Sub(h.sent[0].at))
		}
		// RAND in (0, 0.1]: the first RTs spread over (IRT, 1.1*IRT].
		spread(t, "solicit", firsts, p.IRT+p.IRT/20)
	}
}

func TestInformationRequestRetransmission(t *testing.T) {
	p := client.InfoParams
	var firsts []time.Duration
	for seed := range uint64(runs) {
		h := newHarness(seed, withoutNA)
		h.start()
		for len(h.sent) < 16 {
			if !h.fire() {
				t.Fatal("information-request stopped")
			}
		}
		label := fmt.Sprintf("inf seed=%d", seed)
		if d := h.sent[0].at.Sub(t0); d < 0 || d > p.MaxDelay {
			t.Fatalf("%s: initial delay %v outside [0, %v]", label, d, p.MaxDelay)
		}
		if h.sent[0].msg.MessageType != dhcpv6.MessageTypeInformationRequest {
			t.Fatalf("%s: sent %s", label, h.sent[0].msg.MessageType)
		}
		checkGaps(t, label, h.sent, p, false)
		firsts = append(firsts, h.sent[1].at.Sub(h.sent[0].at))
	}
	// RAND in [-0.1, 0.1]: the first RTs spread around IRT.
	spread(t, "inf", firsts, p.IRT)
}

func TestRequestRetransmission(t *testing.T) {
	srv := newServer(1)
	for seed := range uint64(runs) {
		h := newHarness(seed)
		h.start()
		sol := h.nextSend()
		h.deliver(srv.advertise(sol.msg, 255, ianaOpt(0, 0, addrOpt("2001:db8::10", 100*time.Second, 200*time.Second))))
		h.until(func() bool { return h.c.State() != client.Requesting }, 100)
		label := fmt.Sprintf("request seed=%d", seed)
		reqs := h.sendsOf(dhcpv6.MessageTypeRequest)
		// §18.2.2: REQ_MAX_RC transmissions, then the exchange fails.
		if len(reqs) != client.ReqMaxRC {
			t.Fatalf("%s: %d Requests, want REQ_MAX_RC=%d", label, len(reqs), client.ReqMaxRC)
		}
		checkGaps(t, label, reqs, client.RequestParams, false)
		if h.c.State() != client.Soliciting || h.last().MessageType != dhcpv6.MessageTypeSolicit {
			t.Fatalf("%s: after the failed Request: state %s, last sent %s", label, h.c.State(), h.last().MessageType)
		}
		if h.last().TransactionID == reqs[0].msg.TransactionID {
			t.Fatalf("%s: new Solicit reuses the Request's xid", label)
		}
		// The last Request got its full RT before the client gave up.
		if gu := h.eventsOf(history.GaveUp); len(gu) != 1 || gu[0].Detail != "request" ||
			gu[0].At.Sub(reqs[len(reqs)-1].at) < client.ReqMaxRT*9/10 {
			t.Fatalf("%s: gave-up events %+v", label, gu)
		}
	}
}

func TestRenewRebindRetransmission(t *testing.T) {
	srv := newServer(1)
	const t1, t2, pref, valid = 1000 * time.Second, 5000 * time.Second, 7000 * time.Second, 8000 * time.Second
	ia := ianaOpt(t1, t2, addrOpt("2001:db8::10", pref, valid))
	for seed := range uint64(runs) {
		h := newHarness(seed)
		h.bind(srv, ia)
		bound := h.now
		h.until(func() bool { return h.c.State() == client.Soliciting }, 200)
		label := fmt.Sprintf("renew seed=%d", seed)
		renews := h.sendsOf(dhcpv6.MessageTypeRenew)
		rebinds := h.sendsOf(dhcpv6.MessageTypeRebind)
		if len(renews) < 8 || len(rebinds) < 6 {
			t.Fatalf("%s: %d renews, %d rebinds", label, len(renews), len(rebinds))
		}
		// §18.2.4: Renew at T1, until T2 (its MRD).
		if !renews[0].at.Equal(bound.Add(t1)) {
			t.Fatalf("%s: first Renew at %v, want T1", label, renews[0].at.Sub(bound))
		}
		if last := renews[len(renews)-1].at; !last.Before(bound.Add(t2)) {
			t.Fatalf("%s: Renew sent at %v, not before T2", label, last.Sub(bound))
		}
		checkGaps(t, label, renews, client.RenewParams, false)
		// §18.2.5: Rebind at T2, until the valid lifetime ends (its MRD).
		if !rebinds[0].at.Equal(bound.Add(t2)) {
			t.Fatalf("%s: first Rebind at %v, want T2", label, rebinds[0].at.Sub(bound))
		}
		if last := rebinds[len(rebinds)-1].at; !last.Before(bound.Add(valid)) {
			t.Fatalf("%s: Rebind sent at %v, not before the valid lifetime's end", label, last.Sub(bound))
		}
		checkGaps(t, label+" rebind", rebinds, client.RebindParams, false)
		exp := h.eventsOf(history.Expired)
		if len(exp) != 1 || !exp[0].At.Equal(bound.Add(valid)) {
			t.Fatalf("%s: expired events %+v", label, exp)
		}
	}
}

func TestConfirmRetransmission(t *testing.T) {
	srv := newServer(1)
	p := client.ConfirmParams
	ia := ianaOpt(0, 0, addrOpt("2001:db8::10", 7000*time.Second, 8000*time.Second))
	for seed := range uint64(runs) {
		h := newHarness(seed)
		h.bind(srv, ia)
		changed := h.now
		h.take(h.c.LinkChanged(h.now))
		h.until(func() bool { return h.c.State() != client.Confirming }, 100)
		label := fmt.Sprintf("confirm seed=%d", seed)
		cnf := h.sendsOf(dhcpv6.MessageTypeConfirm)
		if len(cnf) < 3 {
			t.Fatalf("%s: %d Confirms", label, len(cnf))
		}
		if d := cnf[0].at.Sub(changed); d < 0 || d > p.MaxDelay {
			t.Fatalf("%s: Confirm delayed %v, outside [0, CNF_MAX_DELAY]", label, d)
		}
		// §18.2.3: CNF_MAX_RD bounds the exchange.
		if last := cnf[len(cnf)-1].at; last.Sub(cnf[0].at) > p.MRD {
			t.Fatalf("%s: Confirm sent %v after the first", label, last.Sub(cnf[0].at))
		}
		checkGaps(t, label, cnf, p, false)
		if gu := h.eventsOf(history.GaveUp); len(gu) != 1 || !gu[0].At.Equal(cnf[0].at.Add(p.MRD)) {
			t.Fatalf("%s: gave up %+v, want once at first+CNF_MAX_RD", label, gu)
		}
		if h.c.State() != client.Bound {
			t.Fatalf("%s: state %s after unanswered Confirm, want bound (§18.2.3)", label, h.c.State())
		}
	}
}

func TestReleaseDeclineRetransmission(t *testing.T) {
	srv := newServer(1)
	ia := ianaOpt(0, 0, addrOpt("2001:db8::10", 7000*time.Second, 8000*time.Second))
	cases := []struct {
		name string
		typ  dhcpv6.MessageType
		p    client.Params
		act  func(h *harness) client.Output
		end  client.State
	}{
		{"release", dhcpv6.MessageTypeRelease, client.ReleaseParams, func(h *harness) client.Output { return h.c.Stop(h.now) }, client.Stopped},
		{"decline", dhcpv6.MessageTypeDecline, client.DeclineParams, func(h *harness) client.Output {
			return h.c.Decline(h.now, h.c.Leases()[0].Prefix.Addr())
		}, client.Soliciting},
	}
	for _, tc := range cases {
		for seed := range uint64(runs) {
			h := newHarness(seed)
			h.bind(srv, ia)
			h.take(tc.act(h))
			h.until(func() bool { return h.c.State() == tc.end }, 100)
			label := fmt.Sprintf("%s seed=%d", tc.name, seed)
			msgs := h.sendsOf(tc.typ)
			if len(msgs) != tc.p.MRC {
				t.Fatalf("%s: %d sent, want MRC=%d", label, len(msgs), tc.p.MRC)
			}
			checkGaps(t, label, msgs, tc.p, false)
			if gu := h.eventsOf(history.GaveUp); len(gu) != 1 || gu[0].Detail != tc.name {
				t.Fatalf("%s: gave up %+v", label, gu)
			}
			if client.HoldsAside(h.c) {
				t.Fatalf("%s: the exchange abandoned, the client still holds its leases aside", label)
			}
		}
	}
}
