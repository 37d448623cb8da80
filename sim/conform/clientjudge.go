package conform

import (
	"bytes"
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	rfc "d6lab/clientsim/client"
	"d6lab/reports/check"
	"d6lab/reports/history"
	"d6lab/sim/realclient/trace"
	"d6lab/transport"
)

// Bounds of the client checks: what they forgive a real client, and why.
const (
	// schedSlack is scheduling on a loaded 2-core machine: timers of the
	// client, of the capture and of the scripted servers fire this late.
	schedSlack = 50 * time.Millisecond
	// secondSlack: RFC 9915 gives T1, T2, lifetimes and the Information
	// Refresh Time in whole seconds, and clients keep their lease clock
	// in whole seconds (ISC dhclient stamps a lease with the second it
	// arrived in), so a timer may fire up to a second either side of
	// the Reply plus the time.
	secondSlack = time.Second
	// atOnce is what "at once" allows (Preference 255, RFC 9915
	// §18.2.1): a client that waits out the first RT (more than IRT,
	// 1 s, after its Solicit) Requests at least 0.75 s after an
	// Advertise that came at once.
	atOnce = 250 * time.Millisecond
	// removeWithin: a lease the client must stop using (lifetime 0, a
	// renumbering Reply) leaves the interface within a second of the
	// Reply (the client's script or netlink call, and the kernel).
	removeWithin = time.Second
	// elapsedSlack: an Elapsed Time (hundredths of a second) may differ
	// from the time since the exchange's first transmission by this
	// much: the client reads its clock before it sends, and the capture
	// stamps the frame after.
	elapsedSlack = 100 * time.Millisecond
)

// clientObs is what one client check observed: the client's messages (the
// check's pcap through trace.Messages), its address log, and the facts
// of the check. The judges below read nothing else.
type clientObs struct {
	msgs  []trace.Message
	addrs []trace.AddrChange
	// names maps a scripted server's DUID (hex) to how details name it
	// ("s1", "s2").
	names map[string]string
	// timers are the lease times the check's servers granted.
	timers Lifetimes
	// start is when the client was started; mark the check's own
	// instant (the clean stop, the link back up), zero when none; end
	// when the observation ended.
	start, mark, end time.Time
	// cut is when a flap pulled the cable (zero: no flap).
	cut time.Time
}

// Helpers on the observation.

func (o clientObs) serverName(id []byte) string {
	if id == nil {
		return "no Server ID"
	}
	if n, ok := o.names[fmt.Sprintf("%x", id)]; ok {
		return n
	}
	return "server " + shortHex(id)
}

// first returns the first message of direction d and type t at or after
// after (nil: none).
func (o clientObs) first(d trace.Direction, t dhcpv6.MessageType, after time.Time) *trace.Message {
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.Dir == d && m.Type == t && !m.At.Before(after) {
			return m
		}
	}
	return nil
}

// all returns the messages of direction d and type t at or after after.
func (o clientObs) all(d trace.Direction, t dhcpv6.MessageType, after time.Time) []*trace.Message {
	var out []*trace.Message
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.Dir == d && m.Type == t && !m.At.Before(after) {
			out = append(out, m)
		}
	}
	return out
}

// nextSent returns the first message the client sent at or after t.
func (o clientObs) nextSent(t time.Time) *trace.Message {
	if s := o.sentFrom(t); len(s) > 0 {
		return s[0]
	}
	return nil
}

// sentFrom returns the messages the client sent at or after t.
func (o clientObs) sentFrom(t time.Time) []*trace.Message {
	var out []*trace.Message
	for i := range o.msgs {
		if m := &o.msgs[i]; m.Dir == trace.Sent && !m.At.Before(t) {
			out = append(out, m)
		}
	}
	return out
}

// grant is the Reply that bound the client: the first received Reply
// with a lease of type ia (history.IANA, history.IAPD) with a valid
// lifetime.
type grant struct {
	reply *trace.Message
	ia    trace.IA
	lease trace.Lease
}

func (g grant) addr() netip.Addr { return g.lease.Prefix.Addr() }

func (o clientObs) firstGrant(ia string) (grant, bool) {
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.Dir != trace.Received || m.Type != dhcpv6.MessageTypeReply {
			continue
		}
		for _, x := range m.IAs {
			if x.Type != ia || !x.Status.OK() {
				continue
			}
			for _, l := range x.Leases {
				if l.Valid > 0 && l.Status.OK() {
					return grant{reply: m, ia: x, lease: l}, true
				}
			}
		}
	}
	return grant{}, false
}

// noGrant says why a check that needs a binding has none.
func (o clientObs) noGrant(ia string) string {
	what := "an address"
	if ia == history.IAPD {
		what = "a prefix"
	}
	if len(o.all(trace.Sent, dhcpv6.MessageTypeSolicit, time.Time{})) == 0 && len(o.all(trace.Sent, dhcpv6.MessageTypeRequest, time.Time{})) == 0 {
		return fmt.Sprintf("the client sent no Solicit in %s, so it was never given %s", fsec(o.end.Sub(o.start)), what)
	}
	return fmt.Sprintf("the client was never given %s (%s)", what, o.story(o.start, 8))
}

// story lists up to n of the client's messages from t on, for a detail.
func (o clientObs) story(t time.Time, n int) string {
	var parts []string
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.At.Before(t) {
			continue
		}
		if len(parts) == n {
			parts = append(parts, "…")
			break
		}
		s := "sent " + m.Type.String()
		if m.Dir == trace.Received {
			s = "got " + m.Type.String() + " from " + o.serverName(m.ServerID)
		}
		parts = append(parts, fmt.Sprintf("%s at %s", s, rel(m.At, t)))
	}
	if len(parts) == 0 {
		return "nothing on the wire"
	}
	return strings.Join(parts, ", ")
}

// addrEvent returns the first change of address a at or after after for
// which match holds.
func (o clientObs) addrEvent(a netip.Addr, after time.Time, match func(trace.AddrChange) bool) (trace.AddrChange, bool) {
	for _, c := range o.addrs {
		if c.Prefix.Addr() == a && !c.At.Before(after) && match(c) {
			return c, true
		}
	}
	return trace.AddrChange{}, false
}

func (o clientObs) removed(a netip.Addr, after time.Time) (time.Time, bool) {
	c, ok := o.addrEvent(a, after, func(c trace.AddrChange) bool { return c.Deleted })
	return c.At, ok
}

func (o clientObs) added(a netip.Addr, after time.Time) (time.Time, bool) {
	c, ok := o.addrEvent(a, after, func(c trace.AddrChange) bool { return !c.Deleted })
	return c.At, ok
}

// dadFailed returns when the kernel found a in use: the change flagged
// DAD failed, or its deletion while still tentative (the kernel deletes a
// duplicate address with finite lifetimes at once).
func (o clientObs) dadFailed(a netip.Addr) (time.Time, bool) {
	tentative := false
	for _, c := range o.addrs {
		if c.Prefix.Addr() != a {
			continue
		}
		switch {
		case c.DADFailed:
			return c.At, true
		case c.Deleted && tentative:
			return c.At, true
		case c.Deleted:
			tentative = false
		default:
			tentative = c.Tentative
		}
	}
	return time.Time{}, false
}

func hasLease(m *trace.Message, ia string, p netip.Prefix) bool {
	for _, x := range m.IAs {
		if x.Type != ia {
			continue
		}
		for _, l := range x.Leases {
			if l.Prefix == p {
				return true
			}
		}
	}
	return false
}

func hasIA(m *trace.Message, ia string) bool {
	for _, x := range m.IAs {
		if x.Type == ia {
			return true
		}
	}
	return false
}

func multicast(m *trace.Message) bool { return m.Dst.Addr() == transport.AllServers }

// fsec writes d in seconds: milliseconds below a second, hundredths above.
func fsec(d time.Duration) string {
	if d > -time.Second && d < time.Second {
		return fmt.Sprintf("%.3f s", d.Seconds())
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// rel is t as seconds after t0, "+1.23 s".
func rel(t, t0 time.Time) string { return fmt.Sprintf("+%.2f s", t.Sub(t0).Seconds()) }

func cite(s string) string { return " (RFC 9915 " + s + ")" }

// The judges, one per check.

// judgePreference255: the client's Request follows the Preference 255
// Advertise at once, to that server (RFC 9915 §18.2.1).
func judgePreference255(o clientObs) (check.Verdict, string) {
	sol := o.first(trace.Sent, dhcpv6.MessageTypeSolicit, time.Time{})
	if sol == nil {
		return Fail, o.noGrant(history.IANA)
	}
	var adv *trace.Message
	for _, m := range o.all(trace.Received, dhcpv6.MessageTypeAdvertise, sol.At) {
		if m.Preference == 255 {
			adv = m
			break
		}
	}
	if adv == nil {
		return NA, "no Advertise with Preference 255 reached the client (" + o.story(sol.At, 6) + ")"
	}
	req := o.first(trace.Sent, dhcpv6.MessageTypeRequest, adv.At)
	if req == nil {
		return Fail, fmt.Sprintf("%s's Preference 255 Advertise came %s after the first Solicit; no Request followed (%s)", o.serverName(adv.ServerID), fsec(adv.At.Sub(sol.At)), o.story(adv.At, 6))
	}
	d := req.At.Sub(adv.At)
	to := o.serverName(req.ServerID)
	detail := fmt.Sprintf("Request to %s %s after %s's Preference 255 Advertise (which came %s after the first Solicit)", to, fsec(d), o.serverName(adv.ServerID), fsec(adv.At.Sub(sol.At)))
	if !bytes.Equal(req.ServerID, adv.ServerID) {
		return Fail, detail + ": not to the server that sent Preference 255" + cite("§18.2.1")
	}
	for _, m := range o.all(trace.Sent, dhcpv6.MessageTypeSolicit, adv.At) {
		if m.At.Before(req.At) {
			return Fail, detail + fmt.Sprintf(": another Solicit went out first at %s, the first RT was waited out", rel(m.At, sol.At)) + cite("§18.2.1: at once")
		}
	}
	if d > atOnce {
		return Fail, detail + fmt.Sprintf(": later than %s, so not at once", fsec(atOnce)) + cite("§18.2.1: at once, without waiting out the first RT")
	}
	return Pass, detail + ": at once" + cite("§18.2.1")
}

// advertisesBefore lists the Advertises received from sol on to t, each
// as "s1 (Preference 10) at +0.00 s".
func (o clientObs) advertisesBefore(sol *trace.Message, t time.Time) (list []string, best int, prefOf map[string]int) {
	best = -1
	prefOf = map[string]int{}
	for _, m := range o.all(trace.Received, dhcpv6.MessageTypeAdvertise, sol.At) {
		if !m.At.Before(t) {
			break
		}
		n := o.serverName(m.ServerID)
		if _, seen := prefOf[n]; !seen {
			list = append(list, fmt.Sprintf("%s (Preference %d) at %s", n, max(m.Preference, 0), rel(m.At, sol.At)))
		}
		prefOf[n] = max(m.Preference, 0)
		best = max(best, max(m.Preference, 0))
	}
	return list, best, prefOf
}

// judgePreferenceWait: with Advertises below 255 the client collects them
// for the first RT (more than IRT after its first Solicit) and Requests
// the highest Preference (RFC 9915 §18.2.1, §18.2.9).
func judgePreferenceWait(o clientObs) (check.Verdict, string) {
	sol := o.first(trace.Sent, dhcpv6.MessageTypeSolicit, time.Time{})
	if sol == nil {
		return Fail, o.noGrant(history.IANA)
	}
	req := o.first(trace.Sent, dhcpv6.MessageTypeRequest, sol.At)
	if req == nil {
		list, _, _ := o.advertisesBefore(sol, o.end)
		return Fail, fmt.Sprintf("no Request after the Advertises of %s (%s)", strings.Join(list, ", "), o.story(sol.At, 6))
	}
	list, best, prefOf := o.advertisesBefore(sol, req.At)
	all, _, _ := o.advertisesBefore(sol, o.end)
	to := o.serverName(req.ServerID)
	waited := req.At.Sub(sol.At)
	detail := fmt.Sprintf("Requested %s (Preference %d) %s after the first Solicit; Advertises: %s", to, prefOf[to], fsec(waited), strings.Join(all, ", "))
	if len(list) < len(all) {
		detail += fmt.Sprintf(" (%d of them before the Request)", len(list))
	}
	irt := rfc.SolTimeout
	switch {
	case waited < irt-schedSlack:
		return Fail, detail + fmt.Sprintf(": did not wait out the first RT (more than IRT, %s, after the Solicit)", fsec(irt)) + cite("§18.2.1")
	case prefOf[to] < best:
		return Fail, detail + ": not the highest Preference it had" + cite("§18.2.9")
	case len(list) < 2:
		return NA, detail + ": fewer than two Advertises arrived before the Request, nothing to choose from"
	}
	return Pass, detail + ": waited out the first RT and took the highest Preference" + cite("§18.2.1, §18.2.9")
}

// lowerID reports whether DUID a sorts below b the way ISC dhclient
// compares Server IDs: shorter first, then bytewise.
func lowerID(a, b []byte) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return bytes.Compare(a, b) < 0
}

// judgePreferenceTie: two Advertises with the same Preference; RFC 9915
// §18.2.9 leaves the choice to the client. Pass when it Requests one of
// them; the detail says which rule it follows (first received, lowest
// Server ID).
func judgePreferenceTie(o clientObs) (check.Verdict, string) {
	sol := o.first(trace.Sent, dhcpv6.MessageTypeSolicit, time.Time{})
	if sol == nil {
		return Fail, o.noGrant(history.IANA)
	}
	req := o.first(trace.Sent, dhcpv6.MessageTypeRequest, sol.At)
	advs := o.all(trace.Received, dhcpv6.MessageTypeAdvertise, sol.At)
	if req == nil {
		return Fail, "no Request after the tied Advertises (" + o.story(sol.At, 6) + ")"
	}
	var firstAdv *trace.Message
	var lowest []byte
	distinct, before := map[string]bool{}, map[string]bool{}
	for _, m := range advs {
		if firstAdv == nil {
			firstAdv = m
		}
		if !distinct[m.ServerHex()] && (lowest == nil || lowerID(m.ServerID, lowest)) {
			lowest = m.ServerID
		}
		distinct[m.ServerHex()] = true
		if m.At.Before(req.At) {
			before[m.ServerHex()] = true
		}
	}
	all, _, _ := o.advertisesBefore(sol, o.end)
	to := o.serverName(req.ServerID)
	detail := fmt.Sprintf("Requested %s %s after the first Solicit; Advertises: %s", to, fsec(req.At.Sub(sol.At)), strings.Join(all, ", "))
	if !before[req.ServerHex()] {
		return Fail, detail + ": a server whose Advertise it had not received"
	}
	if len(distinct) < 2 {
		return NA, detail + ": only one of the tied servers advertised, nothing to choose from"
	}
	switch {
	case len(before) < 2:
		detail += ": on a tie it took the first received, without waiting for the other (see preference-wait)"
	case bytes.Equal(req.ServerID, firstAdv.ServerID) && bytes.Equal(req.ServerID, lowest):
		detail += ": on a tie it took the first received, which has the lowest Server ID"
	case bytes.Equal(req.ServerID, firstAdv.ServerID):
		detail += ": on a tie it took the first received, not the lowest Server ID"
	case bytes.Equal(req.ServerID, lowest):
		detail += ": on a tie it took the lowest Server ID, not the first received"
	default:
		detail += ": on a tie it took neither the first received nor the lowest Server ID"
	}
	return Pass, detail + cite("§18.2.9 leaves ties to the client")
}

// renewWindow is when a Renew passes: [T1 - 1 s, T1 + 1 s + 10 % of T1],
// plus the scheduling slack either side.
func renewWindow(t1 time.Duration) (lo, hi time.Duration) {
	return t1 - secondSlack - schedSlack, t1 + secondSlack + t1/10 + schedSlack
}

// judgeRenewT1: the first Renew comes at T1 of the Reply that bound the
// client, with the granting server's Server ID (RFC 9915 §18.2.4).
func judgeRenewT1(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	t1 := g.ia.T1
	srv := o.serverName(g.reply.ServerID)
	ren := o.first(trace.Sent, dhcpv6.MessageTypeRenew, g.reply.At)
	if ren == nil {
		what := o.story(g.reply.At, 5)
		return Fail, fmt.Sprintf("bound %s from %s (T1 %s, T2 %s, valid %s); no Renew within %s of the Reply (%s)", g.addr(), srv, fsec(t1), fsec(g.ia.T2), fsec(g.lease.Valid), fsec(o.end.Sub(g.reply.At)), what) + cite("§18.2.4")
	}
	at := ren.At.Sub(g.reply.At)
	lo, hi := renewWindow(t1)
	late := at - t1
	detail := fmt.Sprintf("first Renew %s after the Reply, %s T1 (%s)", fsec(at), pastOrBefore(late), fsec(t1))
	// T1 and T2 in the Renew's IA, when they differ from the Request's:
	// what the client adopted (WIDE dhcp6c writes its raised ones there).
	if req := o.requestBefore(g.reply); req != nil {
		for _, x := range ren.IAs {
			for _, y := range req.IAs {
				if x.Type == history.IANA && y.Type == history.IANA && x.IAID == y.IAID && (x.T1 != y.T1 || x.T2 != y.T2) {
					detail += fmt.Sprintf(" (its Renew's IA_NA says T1 %s, T2 %s)", fsec(x.T1), fsec(x.T2))
				}
			}
		}
	}
	var bad []string
	if !bytes.Equal(ren.ServerID, g.reply.ServerID) {
		bad = append(bad, fmt.Sprintf("it names %s, not %s, the granting server", o.serverName(ren.ServerID), srv)+cite("§18.2.4"))
	} else {
		detail += ", to " + srv + "'s Server ID (the granting server)"
	}
	if !multicast(ren) {
		bad = append(bad, fmt.Sprintf("unicast to %s, not to ff02::1:2", ren.Dst.Addr())+cite("§16: servers drop unicast from clients"))
	} else {
		detail += ", to ff02::1:2"
	}
	if !hasLease(ren, history.IANA, g.lease.Prefix) {
		bad = append(bad, fmt.Sprintf("its IA_NA does not list %s", g.addr())+cite("§18.2.4"))
	}
	switch {
	case at < lo:
		bad = append(bad, "before T1 - 1 s"+cite("§18.2.4"))
	case at > hi:
		why := ""
		if at >= g.lease.Valid {
			why = ", after the valid lifetime ended"
		} else if at >= g.ia.T2 {
			why = ", after T2"
		}
		bad = append(bad, fmt.Sprintf("later than T1 + 1 s + 10 %% (%s)%s: the client does not keep the server's T1", fsec(t1+secondSlack+t1/10), why)+cite("§18.2.4, §21.4"))
	}
	if len(bad) > 0 {
		return Fail, detail + ": " + strings.Join(bad, "; ")
	}
	return Pass, detail + ": within [T1 - 1 s, T1 + 1 s + 10 %]" + cite("§18.2.4")
}

// requestBefore returns the Request reply answers (nil: none).
func (o clientObs) requestBefore(reply *trace.Message) *trace.Message {
	var req *trace.Message
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.At.After(reply.At) {
			break
		}
		if m.Dir == trace.Sent && m.Type == dhcpv6.MessageTypeRequest && m.XID == reply.XID {
			req = m
		}
	}
	return req
}

func pastOrBefore(d time.Duration) string {
	if d < 0 {
		return fsec(-d) + " before"
	}
	return fsec(d) + " past"
}

// rebindStory lists the Renews between the Reply and the first Rebind.
func (o clientObs) renewTimes(g grant, until time.Time) string {
	var ts []string
	for _, m := range o.all(trace.Sent, dhcpv6.MessageTypeRenew, g.reply.At) {
		if m.At.After(until) {
			break
		}
		ts = append(ts, rel(m.At, g.reply.At))
	}
	if len(ts) == 0 {
		return "no Renew"
	}
	return "Renews at " + strings.Join(ts, ", ")
}

// judgeRebindT2: with the granting server silent, the first Rebind comes
// at T2 (Renew's MRD ends there, RFC 9915 §18.2.4, §18.2.5), before the
// valid lifetime ends, without a Server ID. How late it is, is the
// measured value.
func judgeRebindT2(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	t2, valid := g.ia.T2, g.lease.Valid
	reb := o.first(trace.Sent, dhcpv6.MessageTypeRebind, g.reply.At)
	timers := fmt.Sprintf("T1 %s, T2 %s, valid %s", fsec(g.ia.T1), fsec(t2), fsec(valid))
	if reb == nil {
		return Fail, fmt.Sprintf("%s from the Reply; the server went silent after it: %s, no Rebind within %s (%s)", timers, o.renewTimes(g, o.end), fsec(o.end.Sub(g.reply.At)), o.story(g.reply.At, 6)) + cite("§18.2.5")
	}
	at := reb.At.Sub(g.reply.At)
	past := at - t2
	detail := fmt.Sprintf("first Rebind %s T2 (at %s of the Reply; %s; %s)", pastOrBefore(past), fsec(at), timers, o.renewTimes(g, reb.At))
	var bad []string
	if !multicast(reb) {
		bad = append(bad, fmt.Sprintf("unicast to %s, not to ff02::1:2 (all servers)", reb.Dst.Addr())+cite("§18.2.5"))
	}
	if reb.ServerID != nil {
		bad = append(bad, "it carries a Server ID"+cite("§18.2.5, §16.7"))
	}
	if !hasLease(reb, history.IANA, g.lease.Prefix) {
		bad = append(bad, fmt.Sprintf("its IA_NA does not list %s", g.addr()))
	}
	switch {
	case at >= valid:
		bad = append(bad, "after the valid lifetime ended"+cite("§18.2.5"))
	case past > secondSlack+schedSlack:
		bad = append(bad, "more than 1 s past T2: Renew should have ended at T2, its MRD"+cite("§18.2.4"))
	case past < -secondSlack-schedSlack:
		bad = append(bad, "more than 1 s before T2"+cite("§18.2.4"))
	}
	if len(bad) > 0 {
		return Fail, detail + ": " + strings.Join(bad, "; ")
	}
	return Pass, detail + ": within T2 ± 1 s, to ff02::1:2 without a Server ID" + cite("§18.2.4, §18.2.5")
}

// judgeRebindUntilValid: with no server answering, the client Rebinds
// until the valid lifetime ends (REB_TIMEOUT and doubling RTs, MRD the
// time left), not after, and stops using the address then (RFC 9915
// §18.2.5).
func judgeRebindUntilValid(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	end := g.reply.At.Add(g.lease.Valid)
	rebs := o.all(trace.Sent, dhcpv6.MessageTypeRebind, g.reply.At)
	var ts []string
	for _, m := range rebs {
		ts = append(ts, rel(m.At, g.reply.At))
	}
	detail := fmt.Sprintf("valid lifetime %s (ends %s of the Reply), T2 %s; Rebinds at [%s]", fsec(g.lease.Valid), rel(end, g.reply.At), fsec(g.ia.T2), strings.Join(ts, " "))
	gone, removedOK := o.removed(g.addr(), g.reply.At)
	if removedOK {
		detail += "; the address left the interface at " + rel(gone, g.reply.At)
	}
	if sol := o.first(trace.Sent, dhcpv6.MessageTypeSolicit, g.reply.At); sol != nil {
		detail += "; Solicit at " + rel(sol.At, g.reply.At)
	}
	var bad []string
	if len(rebs) == 0 {
		return Fail, detail + ": no Rebind before the valid lifetime ended (see rebind-t2)" + cite("§18.2.5")
	}
	var last *trace.Message
	for _, m := range rebs {
		if m.At.After(end.Add(secondSlack + schedSlack)) {
			bad = append(bad, fmt.Sprintf("a Rebind at %s, after the valid lifetime ended", rel(m.At, g.reply.At))+cite("§18.2.5: MRD is the time left"))
			break
		}
		last = m
	}
	if last != nil {
		// When was the next transmission due at the earliest? RT1 is
		// REB_TIMEOUT ± 10 %, then each RT at least 1.9 times the last.
		next := last.At.Add(rfc.RebTimeout * 9 / 10)
		if n := len(rebs); n >= 2 && rebs[n-2].XID == last.XID && last == rebs[n-1] {
			next = last.At.Add(last.At.Sub(rebs[n-2].At) * 19 / 10)
		}
		if next.Add(-schedSlack).Before(end.Add(-secondSlack)) && o.end.After(next) {
			bad = append(bad, fmt.Sprintf("stopped Rebinding after %s: the next transmission was due by %s, before the valid lifetime ended", rel(last.At, g.reply.At), rel(next, g.reply.At))+cite("§15, §18.2.5"))
		}
	}
	switch {
	case !removedOK && o.end.After(end.Add(2*secondSlack)):
		bad = append(bad, fmt.Sprintf("the address was still on the interface at %s, past its valid lifetime", rel(o.end, g.reply.At))+cite("§18.2.5"))
	case removedOK && gone.Before(end.Add(-secondSlack-schedSlack)):
		bad = append(bad, "the address left before its valid lifetime ended")
	case removedOK && gone.After(end.Add(2*secondSlack)):
		bad = append(bad, fmt.Sprintf("the address left %s after its valid lifetime ended", fsec(gone.Sub(end))))
	}
	if len(bad) > 0 {
		return Fail, detail + ": " + strings.Join(bad, "; ")
	}
	return Pass, detail + ": Rebinds until the valid lifetime ended, none after, the address gone at its end" + cite("§18.2.5")
}

// judgeZeroLifetime: a Reply (to the first Renew) that gives the held
// address lifetime 0 makes the client drop it at once (RFC 9915
// §18.2.10.1).
func judgeZeroLifetime(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	var zr *trace.Message
	for _, m := range o.all(trace.Received, dhcpv6.MessageTypeReply, g.reply.At.Add(time.Nanosecond)) {
		for _, x := range m.IAs {
			for _, l := range x.Leases {
				if l.Prefix == g.lease.Prefix && l.Valid == 0 {
					zr = m
				}
			}
		}
		if zr != nil {
			break
		}
	}
	if zr == nil {
		return NA, fmt.Sprintf("bound %s (T1 %s); the client sent no Renew within %s, so no Reply with lifetime 0 was sent (see renew-t1)", g.addr(), fsec(g.ia.T1), fsec(o.end.Sub(g.reply.At)))
	}
	detail := fmt.Sprintf("Reply to Renew at %s of the binding gave %s lifetime 0", rel(zr.At, g.reply.At), g.addr())
	next := o.nextSent(zr.At)
	after := "nothing sent after it"
	if next != nil {
		after = fmt.Sprintf("then a %s %s later", next.Type, fsec(next.At.Sub(zr.At)))
	}
	gone, ok := o.removed(g.addr(), zr.At.Add(-schedSlack))
	if !ok {
		return Fail, detail + fmt.Sprintf("; still on the interface %s later (%s)", fsec(o.end.Sub(zr.At)), after) + cite("§18.2.10.1: discard leases with valid lifetime 0")
	}
	d := gone.Sub(zr.At)
	detail += fmt.Sprintf("; it left the interface %s later (%s)", fsec(d), after)
	if d > removeWithin+schedSlack {
		return Fail, detail + fmt.Sprintf(": later than %s", fsec(removeWithin)) + cite("§18.2.10.1")
	}
	return Pass, detail + ": removed at once" + cite("§18.2.10.1")
}

// judgeRenumber: a Reply to Rebind from another server with a new address
// and the old one at lifetime 0 (what Kea does) moves the client to the
// new address: old gone, new configured, within a second (RFC 9915
// §18.2.10.1).
func judgeRenumber(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	var rr *trace.Message
	var fresh trace.Lease
	for _, m := range o.all(trace.Received, dhcpv6.MessageTypeReply, g.reply.At.Add(time.Nanosecond)) {
		zeroOld := false
		var nl trace.Lease
		for _, x := range m.IAs {
			for _, l := range x.Leases {
				switch {
				case l.Prefix == g.lease.Prefix && l.Valid == 0:
					zeroOld = true
				case l.Prefix != g.lease.Prefix && l.Valid > 0 && x.Type == history.IANA:
					nl = l
				}
			}
		}
		if zeroOld && nl.Valid > 0 {
			rr, fresh = m, nl
			break
		}
	}
	if rr == nil {
		if o.first(trace.Sent, dhcpv6.MessageTypeRebind, g.reply.At) == nil {
			return NA, fmt.Sprintf("bound %s (T2 %s, valid %s); no Rebind within %s, so nothing renumbered it (see rebind-t2)", g.addr(), fsec(g.ia.T2), fsec(g.lease.Valid), fsec(o.end.Sub(g.reply.At)))
		}
		return NA, "the client Rebound but no renumbering Reply reached it (" + o.story(g.reply.At, 6) + ")"
	}
	newA := fresh.Prefix.Addr()
	detail := fmt.Sprintf("%s's Reply to Rebind at %s of the binding gave %s (valid %s) and %s at lifetime 0", o.serverName(rr.ServerID), rel(rr.At, g.reply.At), newA, fsec(fresh.Valid), g.addr())
	var bad []string
	if gone, ok := o.removed(g.addr(), rr.At.Add(-schedSlack)); ok {
		detail += fmt.Sprintf("; the old address left %s later", fsec(gone.Sub(rr.At)))
		if gone.Sub(rr.At) > removeWithin+schedSlack {
			bad = append(bad, "the old address stayed longer than a second")
		}
	} else {
		detail += fmt.Sprintf("; the old address was still on the interface %s later", fsec(o.end.Sub(rr.At)))
		bad = append(bad, "the old address was kept")
	}
	if in, ok := o.added(newA, rr.At.Add(-schedSlack)); ok {
		detail += fmt.Sprintf("; the new one came %s later", fsec(in.Sub(rr.At)))
		if c, ok := o.addrEvent(newA, in, func(c trace.AddrChange) bool { return !c.Deleted && !c.Tentative && !c.DADFailed }); ok {
			detail += fmt.Sprintf(", usable (DAD done) %s later", fsec(c.At.Sub(rr.At)))
		}
		if in.Sub(rr.At) > removeWithin+schedSlack {
			bad = append(bad, "the new address came later than a second")
		}
	} else {
		bad = append(bad, "the new address was never configured")
	}
	if next := o.nextSent(rr.At); next != nil {
		detail += fmt.Sprintf("; next it sent a %s %s later", next.Type, fsec(next.At.Sub(rr.At)))
	}
	if len(bad) > 0 {
		return Fail, detail + ": " + strings.Join(bad, "; ") + cite("§18.2.10.1")
	}
	return Pass, detail + ": renumbered" + cite("§18.2.10.1")
}

// judgeRequestFail: the client Requests from s1, which never answers, no
// more than REQ_MAX_RC times (RFC 9915 §15: the exchange fails once it has
// transmitted MRC times) and no fewer before it turns elsewhere. What it
// does then is its local policy (§18.2.2 lists three: another server that
// advertised, a new Solicit, or ending the configuration and reporting
// failure); the detail names which, and when.
func judgeRequestFail(o clientObs) (check.Verdict, string) {
	first := o.first(trace.Sent, dhcpv6.MessageTypeRequest, time.Time{})
	if first == nil {
		return Fail, "no Request (" + o.story(o.start, 6) + ")"
	}
	var reqs []*trace.Message
	var next *trace.Message // the first message that is not one of them
	for _, m := range o.sentFrom(first.At) {
		if m.Type != dhcpv6.MessageTypeRequest || !bytes.Equal(m.ServerID, first.ServerID) {
			next = m
			break
		}
		reqs = append(reqs, m)
	}
	last := reqs[len(reqs)-1]
	detail := fmt.Sprintf("%d Requests to %s over %s, none answered", len(reqs), o.serverName(first.ServerID), fsec(last.At.Sub(first.At)))
	watched := o.end.Sub(last.At)
	var then string
	switch {
	case next == nil:
		then = fmt.Sprintf("nothing in the %s that followed", fsec(watched))
	case next.Type == dhcpv6.MessageTypeRequest:
		then = fmt.Sprintf("a Request to %s %s after the last: the next server that advertised", o.serverName(next.ServerID), fsec(next.At.Sub(last.At)))
	case next.Type == dhcpv6.MessageTypeSolicit:
		then = fmt.Sprintf("a Solicit %s after the last: server discovery again", fsec(next.At.Sub(last.At)))
	default:
		then = fmt.Sprintf("a %s %s after the last", next.Type, fsec(next.At.Sub(last.At)))
	}
	detail += "; then " + then
	soon := ""
	if next == nil && watched < requestFailAfter {
		soon = fmt.Sprintf("what follows (%s wanted)", fsec(requestFailAfter))
	}
	if v, d, done := mrcVerdict(detail, len(reqs), rfc.ReqMaxRC, "REQ_MAX_RC", " Requests", "§15, §7.6", soon); done {
		return v, d
	}
	if next == nil {
		detail += ": it ended the configuration (no other server, no Solicit)"
	}
	return Pass, detail + cite("§18.2.2 leaves the next step to the client's policy")
}

// judgeReleaseUnanswered: a Release nobody answers goes out REL_MAX_RC
// times in all (RFC 9915 §18.2.7: IRT REL_TIMEOUT, MRT 0, MRC
// REL_MAX_RC; §15), one exchange, then the client gives up.
func judgeReleaseUnanswered(o clientObs) (check.Verdict, string) {
	if o.mark.IsZero() {
		return NA, "the client was never stopped (" + o.story(o.start, 6) + ")"
	}
	first := o.first(trace.Sent, dhcpv6.MessageTypeRelease, o.mark.Add(-schedSlack))
	if first == nil {
		return Fail, "no Release after the clean stop" + cite("§18.2.7")
	}
	var rels []*trace.Message
	for _, m := range o.all(trace.Sent, dhcpv6.MessageTypeRelease, first.At) {
		if m.XID == first.XID {
			rels = append(rels, m)
		}
	}
	last := rels[len(rels)-1]
	gaps := make([]string, 0, len(rels)-1)
	for i := 1; i < len(rels); i++ {
		gaps = append(gaps, fsec(rels[i].At.Sub(rels[i-1].At)))
	}
	detail := fmt.Sprintf("one Release to %s %s after the stop, not answered", o.serverName(first.ServerID), fsec(first.At.Sub(o.mark)))
	if len(rels) > 1 {
		detail = fmt.Sprintf("%d Releases to %s over %s after the stop (intervals %s), none answered", len(rels), o.serverName(first.ServerID),
			fsec(last.At.Sub(o.mark)), strings.Join(gaps, ", "))
	}
	var next *trace.Message // the first message sent after them
	for _, m := range o.sentFrom(last.At) {
		if m.Type != dhcpv6.MessageTypeRelease || m.XID != first.XID {
			next = m
			break
		}
	}
	watched := o.end.Sub(last.At)
	if next != nil {
		detail += fmt.Sprintf("; then a %s %s after the last", next.Type, fsec(next.At.Sub(last.At)))
	} else {
		detail += fmt.Sprintf("; nothing more in the %s watched after the last", fsec(watched))
	}
	// the RT after the nth transmission: REL_TIMEOUT doubled n-1 times, +10 %
	rt := time.Duration(float64(rfc.RelTimeout<<(len(rels)-1)) * 1.1)
	soon := ""
	if next == nil && watched < rt {
		soon = fmt.Sprintf("whether it gave up (its next RT ends up to %s after the last)", fsec(rt))
	}
	if v, d, done := mrcVerdict(detail, len(rels), rfc.RelMaxRC, "REL_MAX_RC", "", "§18.2.7, §7.6", soon); done {
		return v, d
	}
	return Pass, detail + cite("§18.2.7")
}

// mrcVerdict judges n transmissions of an exchange that must make mrc
// (named name, ref the RFC 9915 sections) before it fails: more fail;
// soon, when not "", says what the observation ended too soon to tell
// (n/a); fewer fail. done is false when none of these holds.
func mrcVerdict(detail string, n, mrc int, name, unit, ref, soon string) (v check.Verdict, d string, done bool) {
	switch {
	case n > mrc:
		return Fail, detail + fmt.Sprintf("; more than %s (%d)%s", name, mrc, unit) + cite(ref), true
	case soon != "":
		return NA, detail + ": too soon to tell " + soon, true
	case n < mrc:
		return Fail, detail + fmt.Sprintf("; it gave up before %s (%d)", name, mrc) + cite(ref), true
	}
	return v, d, false
}

// judgeNoBinding: a Reply to Renew with NoBinding for the IA makes the
// client send a Request, with all its IAs, to the server that answered
// (RFC 9915 §18.2.10.1).
func judgeNoBinding(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	var nb *trace.Message
	for _, m := range o.all(trace.Received, dhcpv6.MessageTypeReply, g.reply.At.Add(time.Nanosecond)) {
		if m.Status.Present && m.Status.Code == iana.StatusNoBinding {
			nb = m
		}
		for _, x := range m.IAs {
			if x.Status.Present && x.Status.Code == iana.StatusNoBinding {
				nb = m
			}
		}
		if nb != nil {
			break
		}
	}
	if nb == nil {
		return NA, fmt.Sprintf("bound %s (T1 %s); no Renew within %s, so no NoBinding was sent (see renew-t1)", g.addr(), fsec(g.ia.T1), fsec(o.end.Sub(g.reply.At)))
	}
	srv := o.serverName(nb.ServerID)
	detail := fmt.Sprintf("%s answered the Renew at %s of the binding with NoBinding", srv, rel(nb.At, g.reply.At))
	next := o.nextSent(nb.At)
	if next == nil {
		return Fail, detail + fmt.Sprintf("; the client sent nothing in the %s after it", fsec(o.end.Sub(nb.At))) + cite("§18.2.10.1: a Request to that server")
	}
	d := next.At.Sub(nb.At)
	detail += fmt.Sprintf("; next the client sent a %s %s later", next.Type, fsec(d))
	if next.Type != dhcpv6.MessageTypeRequest {
		if _, kept := o.removed(g.addr(), nb.At); !kept {
			detail += fmt.Sprintf(", keeping %s", g.addr())
		}
		return Fail, detail + cite("§18.2.10.1: a Request to the server that answered")
	}
	reqs := o.all(trace.Sent, dhcpv6.MessageTypeRequest, nb.At)
	detail += fmt.Sprintf(" to %s", o.serverName(next.ServerID))
	if hasLease(next, history.IANA, g.lease.Prefix) {
		detail += fmt.Sprintf(" listing %s", g.addr())
	}
	same := 0
	for _, m := range reqs {
		if m.XID == next.XID {
			same++
		}
	}
	detail += fmt.Sprintf(" (sent %d time(s))", same)
	if rep := o.first(trace.Received, dhcpv6.MessageTypeReply, next.At); rep != nil && rep.XID == next.XID {
		detail += fmt.Sprintf(", answered %s later", fsec(rep.At.Sub(next.At)))
	}
	switch {
	case !bytes.Equal(next.ServerID, nb.ServerID):
		return Fail, detail + ": not to the server that answered NoBinding" + cite("§18.2.10.1")
	case !hasIA(next, history.IANA):
		return Fail, detail + ": without the IA_NA" + cite("§18.2.10.1: all IAs")
	}
	return Pass, detail + cite("§18.2.10.1")
}

// judgeDecline: the address the server gave is in use on the link; DAD
// fails and the client sends a Decline for it (RFC 9915 §18.2.8).
func judgeDecline(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	a := g.addr()
	failed, ok := o.dadFailed(a)
	if !ok {
		if _, in := o.added(a, g.reply.At); !in {
			return NA, fmt.Sprintf("given %s, which another host uses; the client never put it on its interface, so DAD never ran (%s)", a, o.story(g.reply.At, 6))
		}
		return NA, fmt.Sprintf("given %s, which another host uses; the kernel never reported DAD failing for it", a)
	}
	detail := fmt.Sprintf("given %s, which another host uses: DAD failed %s after the Reply", a, fsec(failed.Sub(g.reply.At)))
	for _, m := range o.all(trace.Sent, dhcpv6.MessageTypeDecline, g.reply.At) {
		if !hasLease(m, history.IANA, g.lease.Prefix) {
			continue
		}
		detail += fmt.Sprintf("; Decline %s after that, to %s", fsec(m.At.Sub(failed)), o.serverName(m.ServerID))
		if next := o.first(trace.Received, dhcpv6.MessageTypeReply, m.At); next != nil {
			if g2, ok := (clientObs{msgs: o.msgs[indexOf(o.msgs, next):]}).firstGrant(history.IANA); ok && g2.addr() != a {
				detail += fmt.Sprintf("; then got %s", g2.addr())
			}
		}
		return Pass, detail + cite("§18.2.8")
	}
	detail += fmt.Sprintf("; no Decline in the %s after it (%s)", fsec(o.end.Sub(failed)), o.story(failed, 5))
	return Fail, detail + cite("§18.2.8")
}

func indexOf(ms []trace.Message, m *trace.Message) int {
	for i := range ms {
		if &ms[i] == m {
			return i
		}
	}
	return len(ms)
}

// judgeLinkConfirm: after its link went down and up, a client holding
// addresses (no delegated prefix) sends a Confirm for them (RFC 9915
// §18.2.12, §18.2.3); a Rebind verifies them too.
func judgeLinkConfirm(o clientObs) (check.Verdict, string) {
	return judgeLink(o, history.IANA)
}

// judgeLinkRebindPD: after its link went down and up, a client holding a
// delegated prefix sends a Rebind for it (RFC 9915 §18.2.12).
func judgeLinkRebindPD(o clientObs) (check.Verdict, string) {
	return judgeLink(o, history.IAPD)
}

func judgeLink(o clientObs, ia string) (check.Verdict, string) {
	g, ok := o.firstGrant(ia)
	if !ok {
		return Fail, o.noGrant(ia)
	}
	if o.mark.IsZero() {
		return NA, fmt.Sprintf("bound %s, but the link was never flapped", g.lease.Prefix)
	}
	detail := fmt.Sprintf("bound %s; the link went down and came back at %s of the binding", g.lease.Prefix, rel(o.mark, g.reply.At))
	if !o.cut.IsZero() {
		detail = fmt.Sprintf("bound %s; the cable was out from %s to %s of the binding", g.lease.Prefix, rel(o.cut, g.reply.At), rel(o.mark, g.reply.At))
	}
	if ia == history.IANA {
		if gone, ok := o.removed(g.addr(), g.reply.At); ok && gone.Before(o.mark.Add(time.Second)) {
			if !o.cut.IsZero() && !gone.Before(o.cut) {
				detail += fmt.Sprintf(" (the address left the interface %s after the cable was pulled)", fsec(gone.Sub(o.cut)))
			} else {
				detail += fmt.Sprintf(" (the address left the interface at %s)", rel(gone, g.reply.At))
			}
		}
	}
	// The first message after the link came back, or a Confirm or
	// Rebind sent while the cable was out (the carrier loss seen first).
	var next *trace.Message
	for _, m := range o.sentFrom(o.mark.Add(-2 * time.Second)) {
		if !m.At.Before(o.mark) || m.Type == dhcpv6.MessageTypeConfirm || m.Type == dhcpv6.MessageTypeRebind {
			next = m
			break
		}
	}
	want := "a Confirm"
	if ia == history.IAPD {
		want = "a Rebind"
	}
	if next == nil {
		return Fail, detail + fmt.Sprintf("; nothing sent in the %s after it", fsec(o.end.Sub(o.mark))) + cite("§18.2.12: "+want)
	}
	d := next.At.Sub(o.mark)
	detail += fmt.Sprintf("; next the client sent a %s %s later", next.Type, fsec(d))
	switch {
	case next.Type == dhcpv6.MessageTypeConfirm && ia == history.IANA:
		if !hasLease(next, ia, g.lease.Prefix) {
			return Fail, detail + " without the address" + cite("§18.2.3")
		}
		if rep := o.first(trace.Received, dhcpv6.MessageTypeReply, next.At); rep != nil && rep.XID == next.XID {
			detail += fmt.Sprintf(", answered %s", statusWord(rep.Status))
		}
		return Pass, detail + cite("§18.2.12, §18.2.3")
	case next.Type == dhcpv6.MessageTypeRebind && hasLease(next, ia, g.lease.Prefix):
		if ia == history.IANA {
			return Pass, detail + " (a Rebind also verifies the address; RFC 9915 §18.2.12 names Confirm)"
		}
		return Pass, detail + cite("§18.2.12")
	case next.Type == dhcpv6.MessageTypeConfirm:
		return Fail, detail + ": a Confirm cannot verify a delegated prefix" + cite("§18.2.12: Rebind")
	}
	return Fail, detail + ", not " + want + cite("§18.2.12")
}

func statusWord(s trace.Status) string {
	if !s.Present {
		return "Success (no status)"
	}
	return s.Code.String()
}

// irtBounds: a refresh passes in [IRT - 1 s, IRT + INF_MAX_DELAY + 1 s].
func irtBounds(irt time.Duration) (lo, hi time.Duration) {
	return irt - secondSlack - schedSlack, irt + rfc.InfMaxDelay + secondSlack + schedSlack
}

// judgeInfoRefresh: a stateless client told an Information Refresh Time
// starts a new Information-request exchange when it runs out (RFC 9915
// §18.2.6, §21.23: at least IRT_MINIMUM).
func judgeInfoRefresh(o clientObs) (check.Verdict, string) {
	ir := o.first(trace.Sent, dhcpv6.MessageTypeInformationRequest, time.Time{})
	if ir == nil {
		return Fail, "the client sent no Information-request (" + o.story(o.start, 6) + ")"
	}
	var rep *trace.Message
	for _, m := range o.all(trace.Received, dhcpv6.MessageTypeReply, ir.At) {
		if m.XID == ir.XID || rep == nil {
			rep = m
			break
		}
	}
	if rep == nil {
		return NA, "no Reply to the Information-request reached the client"
	}
	irt := rfc.IRTDefault
	if rep.HasInfoRefresh {
		irt = max(rep.InfoRefresh, rfc.IRTMinimum)
	}
	asked := "did not ask for it"
	if ir.Msg != nil && slices.Contains(ir.Msg.Options.RequestedOptions(), dhcpv6.OptionInformationRefreshTime) {
		asked = "asked for it"
	}
	detail := fmt.Sprintf("Reply with Information Refresh Time %s (the Information-request's ORO %s)", fsec(rep.InfoRefresh), asked)
	if !rep.HasInfoRefresh {
		detail = "Reply without an Information Refresh Time"
	}
	var next *trace.Message
	for _, m := range o.all(trace.Sent, dhcpv6.MessageTypeInformationRequest, rep.At) {
		if m.XID != rep.XID {
			next = m
			break
		}
	}
	lo, hi := irtBounds(irt)
	if next == nil {
		return Fail, detail + fmt.Sprintf("; no new Information-request in the %s after it", fsec(o.end.Sub(rep.At))) + cite("§18.2.6, §21.23")
	}
	d := next.At.Sub(rep.At)
	detail += fmt.Sprintf("; next Information-request %s later (%s the refresh time)", fsec(d), pastOrBefore(d-irt))
	if d < lo || d > hi {
		return Fail, detail + fmt.Sprintf(": outside [%s, %s]", fsec(irt-secondSlack), fsec(irt+rfc.InfMaxDelay+secondSlack)) + cite("§18.2.6, §21.23")
	}
	return Pass, detail + cite("§18.2.6, §21.23")
}

// judgeRelease: a clean stop sends a Release for the held address to the
// granting server (RFC 9915 §18.2.7).
func judgeRelease(o clientObs) (check.Verdict, string) {
	g, ok := o.firstGrant(history.IANA)
	if !ok {
		return Fail, o.noGrant(history.IANA)
	}
	if o.mark.IsZero() {
		return NA, fmt.Sprintf("bound %s, but the client was never stopped", g.addr())
	}
	srv := o.serverName(g.reply.ServerID)
	detail := fmt.Sprintf("bound %s from %s; clean stop at %s of the binding", g.addr(), srv, rel(o.mark, g.reply.At))
	rel0 := o.first(trace.Sent, dhcpv6.MessageTypeRelease, o.mark.Add(-schedSlack))
	gone, removedOK := o.removed(g.addr(), g.reply.At)
	if rel0 == nil {
		if removedOK {
			detail += fmt.Sprintf("; the address left the interface %s after the stop", fsec(gone.Sub(o.mark)))
		}
		return Fail, detail + "; no Release" + cite("§18.2.7")
	}
	detail += fmt.Sprintf("; Release %s after the stop, to %s", fsec(rel0.At.Sub(o.mark)), o.serverName(rel0.ServerID))
	if removedOK {
		detail += fmt.Sprintf("; the address left the interface %s %s it", fsec(absDur(gone.Sub(rel0.At))), map[bool]string{true: "before", false: "after"}[gone.Before(rel0.At)])
	}
	if rep := o.first(trace.Received, dhcpv6.MessageTypeReply, rel0.At); rep != nil && rep.XID == rel0.XID {
		detail += ", answered " + statusWord(rep.Status)
	}
	switch {
	case !bytes.Equal(rel0.ServerID, g.reply.ServerID):
		return Fail, detail + ": not to the granting server" + cite("§18.2.7")
	case !hasLease(rel0, history.IANA, g.lease.Prefix):
		return Fail, detail + fmt.Sprintf(": it does not list %s", g.addr()) + cite("§18.2.7")
	}
	return Pass, detail + cite("§18.2.7")
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// exchanges groups the client's sent messages by exchange: the same type
// and transaction ID (a retransmission, RFC 9915 §15), in order of their
// first transmission.
func (o clientObs) exchanges() [][]*trace.Message {
	type key struct {
		t dhcpv6.MessageType
		x dhcpv6.TransactionID
	}
	idx := map[key]int{}
	var out [][]*trace.Message
	for i := range o.msgs {
		m := &o.msgs[i]
		if m.Dir != trace.Sent {
			continue
		}
		k := key{m.Type, m.XID}
		j, ok := idx[k]
		if !ok {
			j = len(out)
			idx[k] = j
			out = append(out, nil)
		}
		out[j] = append(out[j], m)
	}
	return out
}

// judgeElapsed: every client message carries Elapsed Time, 0 in the first
// transmission of an exchange, then the time since it (RFC 9915 §21.9),
// so it grows across retransmissions.
func judgeElapsed(o clientObs) (check.Verdict, string) {
	ex := o.exchanges()
	if len(ex) == 0 {
		return Fail, "the client sent nothing"
	}
	var bad, seen []string
	n, retrans := 0, 0
	for _, e := range ex {
		t0 := e[0].At
		var prev time.Duration = -1
		for i, m := range e {
			n++
			name := fmt.Sprintf("%s %x #%d", m.Type, m.XID[:], i+1)
			if !m.HasElapsed {
				bad = append(bad, name+" has no Elapsed Time")
				continue
			}
			if i == 0 {
				if m.Elapsed != 0 {
					bad = append(bad, fmt.Sprintf("%s (a first transmission) says %s, not 0", name, fsec(m.Elapsed)))
				}
				prev = m.Elapsed
				continue
			}
			retrans++
			real := m.At.Sub(t0)
			if len(seen) < 6 {
				seen = append(seen, fmt.Sprintf("%s at +%.2f s says %s", m.Type, real.Seconds(), fsec(m.Elapsed)))
			}
			if m.Elapsed <= prev {
				bad = append(bad, fmt.Sprintf("%s says %s, not more than the transmission before", name, fsec(m.Elapsed)))
			} else if absDur(m.Elapsed-real) > elapsedSlack {
				bad = append(bad, fmt.Sprintf("%s says %s, %s after the exchange's first transmission", name, fsec(m.Elapsed), fsec(real)))
			}
			prev = m.Elapsed
		}
	}
	detail := fmt.Sprintf("%d messages in %d exchanges", n, len(ex))
	if len(seen) > 0 {
		detail += "; retransmissions: " + strings.Join(seen, ", ")
	}
	if len(bad) > 0 {
		if len(bad) > 4 {
			bad = append(bad[:4], fmt.Sprintf("… (%d in all)", len(bad)))
		}
		return Fail, detail + ": " + strings.Join(bad, "; ") + cite("§21.9")
	}
	if retrans == 0 {
		return NA, detail + ": every message has Elapsed Time 0 in its first transmission, but none was retransmitted to show it growing"
	}
	return Pass, detail + fmt.Sprintf(": every one carries Elapsed Time, 0 first, then the time since the first transmission (within %s)", fsec(elapsedSlack)) + cite("§21.9")
}

// judgeRetransmission: with no server answering, the Solicit is
// retransmitted with the same transaction ID, RT1 in (IRT, 1.1 IRT] and
// each next RT in [1.9, 2.1] times the last (RFC 9915 §15, RAND in
// [-0.1, 0.1], positive for the first RT of a Solicit), allowing
// schedSlack each way. The first Solicit's delay after the client's
// start (SOL_MAX_DELAY, §18.2.1) is reported, not judged: it includes the
// client's own start-up.
func judgeRetransmission(o clientObs) (check.Verdict, string) {
	sols := o.all(trace.Sent, dhcpv6.MessageTypeSolicit, time.Time{})
	if len(sols) == 0 {
		return Fail, "the client sent no Solicit"
	}
	first := sols[0]
	var xs []*trace.Message
	for _, m := range sols {
		if m.XID == first.XID {
			xs = append(xs, m)
		}
	}
	detail := ""
	if !o.start.IsZero() {
		detail = fmt.Sprintf("first Solicit %s after the client's start (SOL_MAX_DELAY %s; start-up included, not judged)", fsec(first.At.Sub(o.start)), fsec(rfc.SolMaxDelay))
	}
	if len(xs) < len(sols) {
		return Fail, detail + fmt.Sprintf("; %d Solicits, but only %d with the first one's transaction ID: a retransmission keeps it", len(sols), len(xs)) + cite("§15")
	}
	if len(xs) < 3 {
		return NA, detail + fmt.Sprintf("; only %d Solicit(s) in %s, too few to judge the RTs", len(xs), fsec(o.end.Sub(first.At)))
	}
	var rts []string
	var bad []string
	irt := rfc.SolTimeout
	var prev time.Duration
	for i := 1; i < len(xs); i++ {
		rt := xs[i].At.Sub(xs[i-1].At)
		if i == 1 {
			rts = append(rts, fmt.Sprintf("%.3f", rt.Seconds()))
		} else {
			rts = append(rts, fmt.Sprintf("%.3f (×%.2f)", rt.Seconds(), float64(rt)/float64(prev)))
		}
		var lo, hi time.Duration
		if i == 1 {
			lo, hi = irt, irt*11/10
		} else {
			lo, hi = prev*19/10, prev*21/10
		}
		if rt < lo-schedSlack || rt > hi+schedSlack {
			bad = append(bad, fmt.Sprintf("RT%d %s outside [%s, %s]", i, fsec(rt), fsec(lo), fsec(hi)))
		}
		prev = rt
	}
	detail += fmt.Sprintf("; %d transmissions, RTs %s s", len(xs), strings.Join(rts, ", "))
	if len(bad) > 0 {
		return Fail, strings.TrimPrefix(detail, "; ") + ": " + strings.Join(bad, "; ") + cite("§15: RT1 in (IRT, 1.1 IRT], then 2 RT ± 10 %; 50 ms slack")
	}
	return Pass, strings.TrimPrefix(detail, "; ") + ": RT1 in (IRT 1 s, 1.1 s], each next in [1.9, 2.1] × the last, same transaction ID (50 ms slack)" + cite("§15")
}

// lines is the evidence of a client check: a one-line summary of each
// message the client sent (→) or received (←) and each change of its
// addresses, stamped with the time since the client's start.
func (o clientObs) lines() []string {
	t0 := o.start
	if t0.IsZero() && len(o.msgs) > 0 {
		t0 = o.msgs[0].At
	}
	type line struct {
		at time.Time
		s  string
	}
	var ls []line
	for i := range o.msgs {
		m := &o.msgs[i]
		var s string
		if m.Dir == trace.Sent {
			s = Summary("→", m.Msg, m.Dst)
			if m.HasElapsed {
				s += fmt.Sprintf(" elapsed %.2f s", m.Elapsed.Seconds())
			}
		} else {
			s = Summary("←", m.Msg, m.Src)
			if n, ok := o.names[m.ServerHex()]; ok {
				s += " (" + n + ")"
			}
		}
		ls = append(ls, line{m.At, s})
	}
	for _, c := range o.addrs {
		var flags []string
		switch {
		case c.Deleted:
			flags = append(flags, "removed")
		default:
			if c.Tentative {
				flags = append(flags, "tentative")
			}
			if c.DADFailed {
				flags = append(flags, "dadfailed")
			}
			if c.Deprecated {
				flags = append(flags, "deprecated")
			}
			if c.Valid == trace.Forever {
				flags = append(flags, "valid forever")
			} else {
				flags = append(flags, fmt.Sprintf("valid %s", fsec(c.Valid)))
			}
		}
		ls = append(ls, line{c.At, fmt.Sprintf("address %s %s", c.Prefix, strings.Join(flags, " "))})
	}
	sort.SliceStable(ls, func(i, j int) bool { return ls[i].at.Before(ls[j].at) })
	out := []string{}
	for _, l := range ls {
		if len(out) == maxLines {
			out = append(out, fmt.Sprintf("… %d more lines (see the pcap and addrs.jsonl)", len(ls)-maxLines))
			break
		}
		out = append(out, fmt.Sprintf("%+.3f %s", l.at.Sub(t0).Seconds(), l.s))
	}
	return out
}
