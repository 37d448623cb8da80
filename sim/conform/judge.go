package conform

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/reports/check"
)

// Lifetimes are the four timers of a binding.
type Lifetimes struct {
	T1, T2, Preferred, Valid time.Duration
}

func (l Lifetimes) String() string {
	return fmt.Sprintf("T1 %gs T2 %gs preferred %gs valid %gs", l.T1.Seconds(), l.T2.Seconds(), l.Preferred.Seconds(), l.Valid.Seconds())
}

// judgeLease judges one granted lease of a Reply to a Request: in the pool
// (inPool), and T1 <= T2 <= preferred <= valid (RFC 9915 §21.4, §21.6; a T1
// and T2 of 0 leave the times to the client, §21.4, and pass). what names
// the lease ("address", "prefix").
func judgeLease(r iaResult, inPool func(netip.Prefix) bool, what string, configured Lifetimes) (check.Verdict, string) {
	if !r.found {
		return Fail, "the Reply has no IA for the client's IAID"
	}
	g := r.granted()
	if len(g) == 0 {
		return Fail, fmt.Sprintf("the Reply's IA holds no %s with a valid lifetime (IA status %s)", what, r.statusCode())
	}
	l := g[0]
	got := Lifetimes{r.t1, r.t2, l.preferred, l.valid}
	var bad []string
	if !inPool(l.prefix) {
		bad = append(bad, fmt.Sprintf("%s %s is outside the configured pool", what, l.prefix))
	}
	switch {
	case r.t1 == 0 && r.t2 == 0:
	case r.t2 > 0 && r.t1 > r.t2:
		// §21.4: a client discards an IA with T1 > T2 when both are > 0.
		bad = append(bad, "T1 > T2")
	case r.t2 > l.preferred:
		bad = append(bad, "T2 > preferred")
	}
	if l.preferred > l.valid {
		bad = append(bad, "preferred > valid")
	}
	detail := fmt.Sprintf("got %s %s with %s (configured %s)", what, l.prefix, got, configured)
	if len(bad) > 0 {
		return Fail, detail + ": " + strings.Join(bad, ", ")
	}
	return Pass, detail + ": in the pool, T1 <= T2 <= preferred <= valid"
}

// prefObs is what one Advertise said about Preference.
type prefObs struct {
	answered  bool
	present   bool
	value     uint8
	malformed string // an answer came but did not decode
}

func (o prefObs) String() string {
	switch {
	case !o.answered && o.malformed != "":
		return "a malformed Advertise (" + o.malformed + ")"
	case !o.answered:
		return "no Advertise"
	case !o.present:
		return "absent"
	}
	return fmt.Sprint(o.value)
}

// prefRun is one configured Preference value and what the server sent when
// the Solicit's ORO named the Preference option (asked) and when it did
// not (unasked).
type prefRun struct {
	configured     uint8
	asked, unasked prefObs
	err            string // the server could not be run with this value
}

// prefOK: the Advertise carries the configured value; for 0 an absent
// option is the same (RFC 9915 §18.2.1: a missing Preference is 0).
func prefOK(o prefObs, configured uint8) bool {
	if !o.answered {
		return false
	}
	if !o.present {
		return configured == 0
	}
	return o.value == configured
}

// judgePreference judges the runs for the asked (unasked false) or
// unasked case.
func judgePreference(runs []prefRun, unasked bool) (check.Verdict, string) {
	if len(runs) == 0 {
		return Fail, "no Preference run was made"
	}
	var parts []string
	verdict := Pass
	needsAsking := false
	for _, r := range runs {
		if r.err != "" {
			parts = append(parts, fmt.Sprintf("%d: %s", r.configured, r.err))
			verdict = Fail
			continue
		}
		o := r.asked
		if unasked {
			o = r.unasked
		}
		ok := prefOK(o, r.configured)
		s := fmt.Sprintf("configured %d sent %s", r.configured, o)
		if !ok {
			verdict = Fail
			s += " (wrong)"
			if unasked && prefOK(r.asked, r.configured) {
				needsAsking = true
			}
		}
		parts = append(parts, s)
	}
	detail := strings.Join(parts, "; ")
	if unasked {
		if needsAsking {
			detail += ": the server sends Preference only when the client's ORO names it (clients do not ask: RFC 6853 §5.1 needs it always)"
		} else if verdict == Pass {
			detail += ": sent without being asked"
		}
	}
	return verdict, detail
}

// Rebind behaviours for an IA the server holds no binding for.
type Behaviour string

// The behaviours RFC 9915 §18.3.5 allows, plus what is left.
const (
	Extend    Behaviour = "extend"    // the client's address, valid lifetime > 0
	Renumber  Behaviour = "renumber"  // another address, valid lifetime > 0
	Zero      Behaviour = "zero"      // the client's address with lifetimes 0 only
	NoBinding Behaviour = "nobinding" // status NoBinding
	Silent    Behaviour = "silent"    // no Reply
	Refused   Behaviour = "refused"   // another status (NoAddrsAvail, ...) and nothing granted
)

// classifyRebind tells what the Reply (nil: none) to a Rebind for addr in
// IA iaid did.
func classifyRebind(reply *dhcpv6.Message, iaid [4]byte, addr netip.Addr) (Behaviour, string) {
	if reply == nil {
		return Silent, "no Reply"
	}
	if topStatus(reply) == iana.StatusNoBinding {
		return NoBinding, "status NoBinding (message level)"
	}
	r := naResult(reply, iaid)
	if !r.found {
		return Refused, fmt.Sprintf("a Reply without the IA (status %s)", topStatus(reply))
	}
	for _, l := range r.granted() {
		if l.prefix.Addr() == addr {
			return Extend, fmt.Sprintf("kept %s, valid %gs", addr, l.valid.Seconds())
		}
	}
	if g := r.granted(); len(g) > 0 {
		old := "old address not mentioned"
		for _, l := range r.leases {
			if l.prefix.Addr() == addr && l.valid == 0 {
				old = "old address with lifetimes 0"
			}
		}
		return Renumber, fmt.Sprintf("new %s valid %gs, %s", g[0].prefix.Addr(), g[0].valid.Seconds(), old)
	}
	if r.statusCode() == iana.StatusNoBinding {
		return NoBinding, "status NoBinding in the IA"
	}
	for _, l := range r.leases {
		if l.prefix.Addr() == addr {
			return Zero, fmt.Sprintf("%s with lifetimes 0", addr)
		}
	}
	return Refused, fmt.Sprintf("IA status %s, nothing granted", r.statusCode())
}

// rebindCase is one Rebind the probe sent: for an address in the server's
// own pool (what the identical model's other server gave), one on the
// link outside the pool (split), and one off the link (unique).
type rebindCase struct {
	name   string // "own pool", "other pool on the link", "off-link prefix"
	addr   netip.Addr
	got    Behaviour
	detail string
}

// judgeRebind: every behaviour of RFC 9915 §18.3.5 passes, except
// extending an address that is not appropriate for the link (§18.3.5: such
// addresses go back with lifetimes 0). The detail says which model each
// behaviour suits.
func judgeRebind(ownPool, otherPool, offLink rebindCase) (check.Verdict, string) {
	verdict := Pass
	var parts []string
	for _, c := range []rebindCase{ownPool, otherPool, offLink} {
		parts = append(parts, fmt.Sprintf("%s %s: %s (%s)", c.name, c.addr, c.got, c.detail))
	}
	if offLink.got == Extend {
		verdict = Fail
		parts = append(parts, "extending an off-link address breaks RFC 9915 §18.3.5 (lifetimes 0 for addresses not appropriate for the link)")
	}
	suits := func(b Behaviour, good ...Behaviour) string {
		for _, g := range good {
			if b == g {
				return "yes"
			}
		}
		if b == Silent {
			return "no (silent: clients keep the address until it expires, then start over)"
		}
		return "no"
	}
	models := fmt.Sprintf("identical %s (needs extend); split %s (needs renumber, zero or NoBinding); unique %s (needs renumber, zero or NoBinding)",
		suits(ownPool.got, Extend),
		suits(otherPool.got, Renumber, Zero, NoBinding),
		suits(offLink.got, Renumber, Zero, NoBinding))
	return verdict, strings.Join(parts, "; ") + ". Suits: " + models
}

// judgeNotOnLink judges the Reply (nil: none) to a Confirm with an
// off-link address: RFC 9915 §18.3.3, status NotOnLink.
func judgeNotOnLink(reply *dhcpv6.Message, timeout time.Duration) (check.Verdict, string) {
	if reply == nil {
		return Fail, fmt.Sprintf("no answer within %s (RFC 9915 §18.3.3: a server configured for the link answers NotOnLink)", timeout)
	}
	if st := topStatus(reply); st != iana.StatusNotOnLink {
		return Fail, fmt.Sprintf("Reply with status %s, want NotOnLink", st)
	}
	return Pass, "Reply with status NotOnLink"
}

// judgeRelay judges a Relay-reply to a Relay-forward chain whose
// Interface-IDs, outermost first, were ids: each level must come back with
// its Interface-ID (RFC 9915 §18.3.10, §21.18), around an answer to c.
func judgeRelay(reply dhcpv6.DHCPv6, ids []string, c client) (check.Verdict, string) {
	if reply == nil {
		return Fail, "no Relay-reply"
	}
	cur := reply
	for level, id := range ids {
		rm, ok := cur.(*dhcpv6.RelayMessage)
		if !ok || rm.MessageType != dhcpv6.MessageTypeRelayReply {
			return Fail, fmt.Sprintf("level %d is a %s, want RELAY-REPLY", level+1, cur.Type())
		}
		if got := string(rm.Options.InterfaceID()); got != id {
			return Fail, fmt.Sprintf("level %d Interface-ID %q, want %q echoed", level+1, got, id)
		}
		cur = rm.Options.RelayMessage()
		if cur == nil {
			return Fail, fmt.Sprintf("level %d carries no Relay Message option", level+1)
		}
	}
	m, ok := cur.(*dhcpv6.Message)
	if !ok {
		return Fail, fmt.Sprintf("%d levels of Relay-reply around a %s, want %d", len(ids)+1, cur.Type(), len(ids))
	}
	if m.MessageType != dhcpv6.MessageTypeAdvertise && m.MessageType != dhcpv6.MessageTypeReply {
		return Fail, fmt.Sprintf("the relayed answer is a %s", m.MessageType)
	}
	if !clientIDIs(m, c) {
		return Fail, "the relayed answer does not carry the client's ID"
	}
	q := make([]string, len(ids))
	for i, id := range ids {
		q[i] = fmt.Sprintf("%q", id)
	}
	return Pass, fmt.Sprintf("%d level(s) of Relay-reply with Interface-ID %s echoed, around a %s for the client", len(ids), strings.Join(q, ", "), m.MessageType)
}
