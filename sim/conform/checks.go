package conform

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/server"
	"d6lab/server/alloc"
)

// def is one check of the catalogue.
type def struct {
	id, name string
	run      func(r *runner, c *Check)
}

// catalogue lists every check in the order they run.
var catalogue = []def{
	{"ia-na-exchange", "Stateful IA_NA exchange: address in the pool, T1 <= T2 <= preferred <= valid", (*runner).checkExchange},
	{"preference", "Preference option carries the configured value (255, 0, 128) when the ORO names it", (*runner).checkPreferenceAsked},
	{"preference-unasked", "Preference option carries the configured value when the ORO does not name it", (*runner).checkPreferenceUnasked},
	{"other-server-id", "Request and Renew carrying another server's ID are discarded", (*runner).checkOtherServerID},
	{"rebind-no-binding", "Rebind for a binding the server does not hold: behaviour and the models it suits", (*runner).checkRebind},
	{"identical-allocation", "Identical model: two instances give the same 1,000 clients the same addresses, fresh and after a restart without state", (*runner).checkIdentical},
	{"ia-pd", "Prefix delegation (IA_PD) exchange", (*runner).checkPD},
	{"information-request", "Stateless Information-request answered", (*runner).checkInfo},
	{"relay-one", "Relay-forward (one level) answered with Interface-ID echoed", (*runner).checkRelayOne},
	{"relay-two", "Relay-forward (two levels) answered with both Interface-IDs echoed", (*runner).checkRelayTwo},
	{"decline", "Declined address not handed out again", (*runner).checkDecline},
	{"release", "Release answered with Success (what a Renew after it gets is recorded)", (*runner).checkRelease},
	{"confirm-off-link", "Confirm with an off-link address answered NotOnLink", (*runner).checkConfirm},
	{"no-reserved-address", "Never hands out the Subnet-Router anycast or RFC 2526 reserved addresses", (*runner).checkReserved},
	{"no-own-address", "Never hands out an address configured on the server's own interface", (*runner).checkOwnAddress},
	{"duid-stable", "Server DUID stable across a restart", (*runner).checkDUID},
	{"leasequery", "Leasequery (RFC 5007) by address, where offered", (*runner).checkLeasequery},
	{"bulk-lq-relay-id", "Bulk Leasequery (RFC 5460) by relay ID over TCP: LEASEQUERY-REPLY, -DATA, -DONE with the query's transaction ID, the relay's clients only", (*runner).checkBulkRelayID},
	{"bulk-lq-link-address", "Bulk Leasequery by link address: every relayed client on the link", (*runner).checkBulkLinkAddress},
	{"bulk-lq-remote-id", "Bulk Leasequery by remote ID (RFC 4649): the one client behind the circuit", (*runner).checkBulkRemoteID},
	{"bulk-lq-unknown-relay", "Bulk Leasequery for a relay with no binding: LEASEQUERY-REPLY without client data, no LEASEQUERY-DONE", (*runner).checkBulkUnknownRelay},
	{"bulk-lq-max-conns", "Bulk Leasequery connection limit: BULK_LQ_MAX_CONNS (10) served, one more not served, a new one served once one closes", (*runner).checkBulkMaxConns},
}

// IDs lists the check IDs in the order they run.
func IDs() []string {
	out := make([]string, len(catalogue))
	for i, d := range catalogue {
		out[i] = d.id
	}
	return out
}

// noLease: a check that needs an IA_NA binding first got none. Nothing is
// judged; ia-na-exchange carries the failure, once.
func noLease(c *Check, what, why string) {
	c.Verdict, c.Detail = NA, what+" (see ia-na-exchange): "+why
}

// setupFailed turns a server that could not run a check's configuration
// into the check's verdict: n/a when the adapter says the server cannot do
// it, fail otherwise.
func setupFailed(c *Check, err error) {
	var se *startErr
	if errors.As(err, &se) && se.unsupported {
		c.Verdict, c.Detail = NA, "the server cannot be configured for this check: "+err.Error()
		return
	}
	c.Verdict, c.Detail = Fail, "the server could not be run for this check: "+err.Error()
}

func (r *runner) noAnswer() string { return fmt.Sprintf("no answer within %s", r.opt.Timeout) }

func (r *runner) checkExchange(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	cl := r.newClient()
	_, reply, _, why := r.acquire(cl)
	if reply == nil {
		c.Verdict, c.Detail = Fail, why
		return
	}
	pool := r.nodes["srv1"].cfg.Pool
	c.Verdict, c.Detail = judgeLease(naResult(reply, cl.iaid), func(p netip.Prefix) bool { return pool.Contains(p.Addr()) }, "address", baseLifetimes)
}

// preferenceRuns restarts srv1 with Preference 255, 0 and 128 and
// solicits twice each: with and without Preference in the ORO.
func (r *runner) preferenceRuns(c *Check) {
	if r.prefDone {
		c.Evidence = r.prefEv
		return
	}
	r.prefDone = true
	if err := r.base(); err != nil { // learns whether the server takes a PD pool
		for _, v := range []uint8{255, 0, 128} {
			r.prefRuns = append(r.prefRuns, prefRun{configured: v, err: err.Error()})
		}
		return
	}
	for _, v := range []uint8{255, 0, 128} {
		run := prefRun{configured: v}
		cfg := baseConfig("srv1", r.pdErr == "")
		cfg.Preference = v
		if err := r.ensure("srv1", cfg); err != nil {
			run.err = err.Error()
			r.prefRuns = append(r.prefRuns, run)
			continue
		}
		for _, asked := range []bool{true, false} {
			oro := oroPlain
			if asked {
				oro = oroPref
			}
			cl := r.newClient()
			adv, bad, _ := r.solicitX(cl, oro, iaNA(cl.iaid))
			o := prefObs{malformed: bad}
			if adv != nil {
				o.answered = true
				o.value, o.present = preference(adv)
			}
			if asked {
				run.asked = o
			} else {
				run.unasked = o
			}
		}
		r.prefRuns = append(r.prefRuns, run)
	}
}

func (r *runner) checkPreferenceAsked(c *Check) {
	r.preferenceRuns(c)
	c.Verdict, c.Detail = judgePreference(r.prefRuns, false)
}

func (r *runner) checkPreferenceUnasked(c *Check) {
	r.preferenceRuns(c)
	c.Verdict, c.Detail = judgePreference(r.prefRuns, true)
}

// otherDUID is a server DUID no lab server has (DUID-LL 02:00:00:0f:0f:0f).
var otherDUID = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: []byte{0x02, 0, 0, 0x0f, 0x0f, 0x0f}}

func (r *runner) checkOtherServerID(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	cl := r.newClient()
	adv, err := r.solicit(cl, oroPlain, iaNA(cl.iaid))
	if err != nil || adv == nil {
		c.Verdict, c.Detail = Fail, "no Advertise: "+r.noAnswer()
		return
	}
	d, err := dhcpv6.DUIDFromBytes(serverID(adv))
	if err != nil {
		c.Verdict, c.Detail = Fail, fmt.Sprintf("the Advertise has no usable Server Identifier (RFC 9915 §16.3): %v", err)
		return
	}
	// RFC 9915 §16.4 (Request), §16.6 (Renew): a server MUST discard one
	// whose Server ID is not its own.
	req := r.requestFor(cl, adv, otherDUID.ToBytes())
	bad, _, _ := r.p.exchange(req, allServers)
	var parts []string
	verdict := Pass
	if bad != nil {
		verdict = Fail
		parts = append(parts, fmt.Sprintf("answered a Request for another server with a %s", bad.MessageType))
	} else {
		parts = append(parts, "Request for another server: discarded")
	}
	reply, _, _ := r.p.exchange(r.requestFor(cl, adv, serverID(adv)), allServers)
	addr := netip.Addr{}
	if reply != nil {
		addr = firstAddr(reply, cl)
	}
	if !addr.IsValid() {
		if verdict == Pass {
			// The discard held; the Renew half needs a binding the
			// server did not give (ia-na-exchange says why).
			verdict = NA
		}
		c.Verdict, c.Detail = verdict, strings.Join(append(parts, "no binding from its own Request, so Renew could not be tried (see ia-na-exchange)"), "; ")
		return
	}
	renew := cl.message(dhcpv6.MessageTypeRenew, r.xid(), dhcpv6.OptServerID(otherDUID), dhcpv6.OptRequestedOption(oroPlain...), iaNA(cl.iaid, addr))
	bad, _, _ = r.p.exchange(renew, allServers)
	if bad != nil {
		verdict = Fail
		parts = append(parts, fmt.Sprintf("answered a Renew for another server with a %s", bad.MessageType))
	} else {
		parts = append(parts, "Renew for another server: discarded")
	}
	own := cl.message(dhcpv6.MessageTypeRenew, r.xid(), dhcpv6.OptServerID(d), dhcpv6.OptRequestedOption(oroPlain...), iaNA(cl.iaid, addr))
	if ok, _, _ := r.p.exchange(own, allServers); ok != nil {
		parts = append(parts, "Renew with its own ID: answered")
	} else {
		parts = append(parts, "Renew with its own ID: not answered either (so the discard proves little)")
		if verdict == Pass {
			verdict = NA
		}
	}
	c.Verdict, c.Detail = verdict, strings.Join(parts, "; ")
}

func (r *runner) rebindCase(name string, addr netip.Addr) rebindCase {
	cl := r.newClient()
	m := cl.message(dhcpv6.MessageTypeRebind, r.xid(), dhcpv6.OptRequestedOption(oroPlain...), iaNA(cl.iaid, addr))
	reply, _, _ := r.p.exchange(m, allServers)
	b, d := classifyRebind(reply, cl.iaid, addr)
	if b == Silent {
		d = r.noAnswer()
	}
	return rebindCase{name: name, addr: addr, got: b, detail: d}
}

func (r *runner) checkRebind(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	own := r.rebindCase("own pool", netip.MustParseAddr("2001:db8:c0::1:abcd"))
	other := r.rebindCase("other pool on the link", netip.MustParseAddr("2001:db8:c0::9:1"))
	off := r.rebindCase("off-link prefix", netip.MustParseAddr("2001:db8:c1::1"))
	c.Verdict, c.Detail = judgeRebind(own, other, off)
}

// identicalClients is the population of the identical-allocation check.
const identicalClients = 1000

func (r *runner) checkIdentical(c *Check) {
	cfg := map[string]server.Config{}
	for _, n := range []string{"srv1", "srv2"} {
		cf := baseConfig(n, false)
		cf.Pool = identicalPool
		cfg[n] = cf
	}
	cs := make([]client, identicalClients)
	for i := range cs {
		cs[i] = r.newClient()
	}
	orders := [4][]int{}
	for k := range orders {
		orders[k] = r.rng.Perm(len(cs))
	}
	// Each server alone on the link, the clients in a different order
	// each time: the model needs the same address per (DUID, IAID)
	// whatever the order, with no state shared.
	var maps [4]map[int]netip.Addr
	for k, n := range []string{"srv1", "srv2", "srv1", "srv2"} {
		var err error
		if k < 2 {
			r.stop(r.nodes[n])
			if nd := r.nodes[n]; nd.inst != nil {
				_ = nd.inst.Wipe(true)
			}
			nd := r.nodes[n]
			nd.cfg = server.Config{} // force a fresh start
			err = r.ensure(n, cfg[n])
		} else {
			r.stopAll()
			err = r.restart(n, true, false)
		}
		if err != nil {
			setupFailed(c, err)
			r.stopAll()
			return
		}
		maps[k] = r.bulkAcquire(cs, orders[k], 50)
		r.stop(r.nodes[n])
	}
	same := func(a, b map[int]netip.Addr) (int, string) {
		n, ex := 0, ""
		for i := range cs {
			x, y := a[i], b[i]
			if x.IsValid() && x == y {
				n++
			} else if ex == "" {
				ex = fmt.Sprintf("e.g. client %d: %v vs %v", i, x, y)
			}
		}
		return n, ex
	}
	fresh, ex1 := same(maps[0], maps[1])
	after, ex2 := same(maps[2], maps[3])
	kept, _ := same(maps[0], maps[2])
	detail := fmt.Sprintf("srv1 bound %d, srv2 bound %d of %d clients; fresh: %d/%d same address on both", len(maps[0]), len(maps[1]), len(cs), fresh, len(cs))
	if ex1 != "" {
		detail += " (" + ex1 + ")"
	}
	detail += fmt.Sprintf("; after a restart of both without state: %d/%d same", after, len(cs))
	if ex2 != "" {
		detail += " (" + ex2 + ")"
	}
	detail += fmt.Sprintf("; %d/%d as before the restart (each server saw the clients in a different order)", kept, len(cs))
	switch {
	case len(maps[0]) == 0 && len(maps[1]) == 0:
		c.Verdict, c.Detail = NA, detail+": no address leased to compare (see ia-na-exchange)"
	case fresh == len(cs) && after == len(cs):
		c.Verdict, c.Detail = Pass, detail
	default:
		c.Verdict, c.Detail = Fail, detail+": not usable for the identical model"
	}
}

func (r *runner) checkPD(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	if r.pdErr != "" {
		c.Verdict, c.Detail = NA, "no prefix delegation: "+r.pdErr
		return
	}
	cl := r.newClient()
	adv, _ := r.solicit(cl, oroPlain, iaPD(cl.iaid))
	if adv == nil {
		c.Verdict, c.Detail = Fail, "no Advertise to a Solicit with IA_PD: "+r.noAnswer()
		return
	}
	if len(pdResult(adv, cl.iaid).granted()) == 0 {
		res := pdResult(adv, cl.iaid)
		c.Verdict, c.Detail = Fail, fmt.Sprintf("Advertise without a delegated prefix (IA_PD found %v, status %s)", res.found, res.statusCode())
		return
	}
	reply, _, _ := r.p.exchange(r.requestFor(cl, adv, serverID(adv)), allServers)
	if reply == nil {
		c.Verdict, c.Detail = Fail, "no Reply to the Request: "+r.noAnswer()
		return
	}
	pp := pdPool
	v, d := judgeLease(pdResult(reply, cl.iaid), func(p netip.Prefix) bool {
		return pp.Contains(p) && p.Bits() == pp.Delegated()
	}, "prefix", baseLifetimes)
	c.Verdict, c.Detail = v, d+fmt.Sprintf(" (pool %s delegating /%d)", pp.Base(), pp.Delegated())
}

func (r *runner) checkInfo(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	cl := r.newClient()
	m := cl.message(dhcpv6.MessageTypeInformationRequest, r.xid(), dhcpv6.OptRequestedOption(oroInfo...))
	reply, _, _ := r.p.exchange(m, allServers)
	switch {
	case reply == nil:
		c.Verdict, c.Detail = Fail, "no Reply to an Information-request: "+r.noAnswer()
	case reply.MessageType != dhcpv6.MessageTypeReply:
		c.Verdict, c.Detail = Fail, fmt.Sprintf("answered with a %s", reply.MessageType)
	case serverID(reply) == nil || !clientIDIs(reply, cl):
		c.Verdict, c.Detail = Fail, "the Reply lacks the Server ID or the client's ID (RFC 9915 §18.3.6)"
	case len(reply.Options.IANA()) > 0 || len(reply.Options.IAPD()) > 0:
		c.Verdict, c.Detail = Fail, "the Reply to an Information-request carries IAs"
	default:
		c.Verdict, c.Detail = Pass, fmt.Sprintf("Reply with Server ID and the client's ID, status %s, %d options", topStatus(reply), len(reply.Options.Options))
	}
}

// relayed sends a Solicit of cl wrapped in Relay-forwards with the given
// Interface-IDs (outermost first) to the server by unicast from port 547:
// first to its global address, then to its link-local one. It returns the
// Relay-reply and where it went.
func (r *runner) relayed(cl client, ids []string) (dhcpv6.DHCPv6, string) {
	inner := cl.message(dhcpv6.MessageTypeSolicit, r.xid(), dhcpv6.OptRequestedOption(oroPlain...), iaNA(cl.iaid))
	var msg dhcpv6.DHCPv6 = inner
	clientLL := r.lab.LinkLocal("clients")
	for level := len(ids) - 1; level >= 0; level-- {
		hop := uint8(len(ids) - 1 - level)
		rm := &dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayForward, HopCount: hop}
		if hop == 0 {
			// RFC 9915 §19.1.1: the link-address identifies the client's
			// link (a global address on it), the peer-address the client.
			rm.LinkAddr, rm.PeerAddr = clientAddr.AsSlice(), clientLL.AsSlice()
		} else {
			// §19.1.2: relaying a relay's message; link-address may be ::.
			rm.LinkAddr, rm.PeerAddr = netip.IPv6Unspecified().AsSlice(), clientAddr.AsSlice()
		}
		rm.Options.Add(dhcpv6.OptRelayMessage(msg))
		rm.Options.Add(dhcpv6.OptInterfaceID([]byte(ids[level])))
		msg = rm
	}
	for _, dst := range []netip.Addr{srv1Addr, r.lab.LinkLocal("srv1")} {
		ap := netip.AddrPortFrom(dst, 547)
		if err := r.p.send(msg, ap, true); err != nil {
			continue
		}
		got := r.p.collect(r.opt.Timeout, func(pk packet) bool {
			rm, ok := pk.msg.(*dhcpv6.RelayMessage)
			if !ok || !pk.relay {
				return false
			}
			in, err := rm.GetInnerMessage()
			return err == nil && in.TransactionID == inner.TransactionID
		}, func(ps []packet) bool { return len(ps) > 0 })
		if len(got) > 0 {
			return got[0].msg, dst.String()
		}
	}
	return nil, ""
}

func (r *runner) checkRelay(c *Check, ids []string) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	cl := r.newClient()
	reply, to := r.relayed(cl, ids)
	if reply == nil {
		c.Verdict, c.Detail = Fail, fmt.Sprintf("no Relay-reply within %s to a Relay-forward sent to %s nor to %s", r.opt.Timeout, srv1Addr, r.lab.LinkLocal("srv1"))
		return
	}
	v, d := judgeRelay(reply, ids, cl)
	c.Verdict, c.Detail = v, d+" (sent to "+to+")"
}

func (r *runner) checkRelayOne(c *Check) { r.checkRelay(c, []string{"conform-if1"}) }
func (r *runner) checkRelayTwo(c *Check) {
	r.checkRelay(c, []string{"conform-outer", "conform-inner"})
}

func (r *runner) checkDecline(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	a := r.newClient()
	x, reply, sid, why := r.acquire(a)
	if !x.IsValid() {
		noLease(c, "no address to decline", why)
		return
	}
	_ = reply
	d, _ := dhcpv6.DUIDFromBytes(sid)
	dec := a.message(dhcpv6.MessageTypeDecline, r.xid(), dhcpv6.OptServerID(d), iaNA(a.iaid, x))
	dr, _, _ := r.p.exchange(dec, allServers)
	decl := "no Reply to the Decline"
	if dr != nil {
		decl = fmt.Sprintf("Decline answered, status %s", topStatus(dr))
	}
	var got []string
	reused := false
	for k := 0; k < 4; k++ {
		b := r.newClient()
		var y netip.Addr
		if k == 0 {
			y, _, _, _ = r.acquire(b, x) // asks for the declined address
		} else {
			y, _, _, _ = r.acquire(b)
		}
		if y.IsValid() {
			got = append(got, y.String())
		}
		if y == x {
			reused = true
		}
	}
	detail := fmt.Sprintf("client got %s and declined it; %s; the next 4 clients (the first asking for %s) got [%s]", x, decl, x, strings.Join(got, " "))
	switch {
	case reused:
		c.Verdict, c.Detail = Fail, detail+": the declined address was handed out again (RFC 9915 §18.3.8)"
	case len(got) == 0:
		c.Verdict, c.Detail = Fail, detail+": no address for the next clients"
	default:
		c.Verdict, c.Detail = Pass, detail+": never the declined one"
	}
}

func (r *runner) checkRelease(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	a := r.newClient()
	x, _, sid, why := r.acquire(a)
	if !x.IsValid() {
		noLease(c, "no address to release", why)
		return
	}
	d, _ := dhcpv6.DUIDFromBytes(sid)
	rel := a.message(dhcpv6.MessageTypeRelease, r.xid(), dhcpv6.OptServerID(d), iaNA(a.iaid, x))
	rr, _, _ := r.p.exchange(rel, allServers)
	if rr == nil {
		c.Verdict, c.Detail = Fail, fmt.Sprintf("client got %s; no Reply to its Release: %s", x, r.noAnswer())
		return
	}
	st := topStatus(rr)
	// Is it free? A renewal of it must not find the binding, and another
	// client asking for it may get it.
	renew := a.message(dhcpv6.MessageTypeRenew, r.xid(), dhcpv6.OptServerID(d), dhcpv6.OptRequestedOption(oroPlain...), iaNA(a.iaid, x))
	rn, _, _ := r.p.exchange(renew, allServers)
	after := "Renew after the Release not answered"
	if rn != nil {
		b, why := classifyRebind(rn, a.iaid, x)
		after = fmt.Sprintf("Renew after the Release: %s (%s)", b, why)
	}
	detail := fmt.Sprintf("client got %s, released it: Reply status %s; %s", x, st, after)
	if st != iana.StatusSuccess {
		c.Verdict, c.Detail = Fail, detail+" (RFC 9915 §18.3.7: Success)"
		return
	}
	c.Verdict, c.Detail = Pass, detail
}

func (r *runner) checkConfirm(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	cl := r.newClient()
	off := netip.MustParseAddr("2001:db8:ffff::1")
	m := cl.message(dhcpv6.MessageTypeConfirm, r.xid(), iaNA(cl.iaid, off))
	reply, _, _ := r.p.exchange(m, allServers)
	v, d := judgeNotOnLink(reply, r.opt.Timeout)
	c.Verdict, c.Detail = v, fmt.Sprintf("Confirm for %s (link %s): %s", off, Link, d)
}

// exhaust restarts srv1 with pool and binds clients one after the other
// (a server that offers one address to several clients at once would
// otherwise refuse some Requests) until three in a row get nothing or n
// have tried; it returns the addresses handed out, sorted.
func (r *runner) exhaust(pool alloc.Pool, n int) ([]netip.Addr, error) {
	cfg := baseConfig("srv1", false)
	cfg.Pool = pool
	cfg.Allocator = deploy.AllocSequential
	if err := r.ensure("srv1", cfg); err != nil {
		return nil, err
	}
	var out []netip.Addr
	for i, misses := 0, 0; i < n && misses < 3 && r.ctx.Err() == nil; i++ {
		a, _, _, _ := r.acquire(r.newClient())
		if !a.IsValid() {
			misses++
			continue
		}
		misses = 0
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b netip.Addr) int { return a.Compare(b) })
	return out, nil
}

// addrList spells as for a detail line: every address up to 6, then the
// first 4 and how many more (the pcap evidence has them all).
func addrList(as []netip.Addr) string {
	s := make([]string, len(as))
	for i, a := range as {
		s[i] = a.String()
	}
	return shortList(s)
}

func shortList(s []string) string {
	if len(s) <= 6 {
		return strings.Join(s, " ")
	}
	return fmt.Sprintf("%s ... (%d in all)", strings.Join(s[:4], " "), len(s))
}

func (r *runner) checkReserved(c *Check) {
	anycast, _ := alloc.NewPool(netip.MustParseAddr("2001:db8:c0::"), netip.MustParseAddr("2001:db8:c0::3"))
	rfc2526, _ := alloc.NewPool(netip.MustParseAddr("2001:db8:c0:0:fdff:ffff:ffff:ff7e"), netip.MustParseAddr("2001:db8:c0:0:fdff:ffff:ffff:ffff"))
	a, err := r.exhaust(anycast, 6)
	if err != nil {
		setupFailed(c, err)
		return
	}
	b, err := r.exhaust(rfc2526, 40)
	if err != nil {
		setupFailed(c, err)
		return
	}
	var bad []string
	for _, x := range append(append([]netip.Addr(nil), a...), b...) {
		if alloc.ReservedAddr(x) {
			bad = append(bad, x.String())
		}
	}
	detail := fmt.Sprintf("pool %s (4 addresses, :: is the Subnet-Router anycast) handed out [%s]; pool %s (2 addresses, then the 128 RFC 2526 reserved IIDs fdff:ffff:ffff:ff80-ffff) handed out [%s]",
		anycast, addrList(a), rfc2526, addrList(b))
	switch {
	case len(bad) > 0:
		c.Verdict, c.Detail = Fail, fmt.Sprintf("%s: %d reserved: %s", detail, len(bad), shortList(bad))
	case len(a) == 0 && len(b) == 0:
		c.Verdict, c.Detail = NA, detail+": nothing handed out, cannot judge"
	default:
		c.Verdict, c.Detail = Pass, detail+": no reserved address"
	}
}

func (r *runner) checkOwnAddress(c *Check) {
	pool, _ := alloc.NewPool(netip.MustParseAddr("2001:db8:c0::1:0"), netip.MustParseAddr("2001:db8:c0::1:3"))
	got, err := r.exhaust(pool, 6)
	if err != nil {
		setupFailed(c, err)
		return
	}
	detail := fmt.Sprintf("srv1 has %s on its interface; pool %s (4 addresses) exhausted: handed out [%s]", srv1InPool, pool, addrList(got))
	switch {
	case slices.Contains(got, srv1InPool):
		c.Verdict, c.Detail = Fail, detail+": including the server's own address"
	case len(got) == 0:
		c.Verdict, c.Detail = NA, detail+": nothing handed out, cannot judge"
	default:
		c.Verdict, c.Detail = Pass, detail+": never its own address"
	}
}

func (r *runner) serverDUID() []byte {
	cl := r.newClient()
	adv, _ := r.solicit(cl, oroPlain, iaNA(cl.iaid))
	if adv == nil {
		return nil
	}
	return serverID(adv)
}

func (r *runner) checkDUID(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	d1 := r.serverDUID()
	if d1 == nil {
		c.Verdict, c.Detail = Fail, "no Advertise before the restart: "+r.noAnswer()
		return
	}
	if err := r.restart("srv1", false, true); err != nil {
		setupFailed(c, err)
		return
	}
	d2 := r.serverDUID()
	if err := r.restart("srv1", true, true); err != nil {
		setupFailed(c, err)
		return
	}
	d3 := r.serverDUID()
	c.Verdict, c.Detail = judgeDUID(d1, d2, d3, r.noAnswer())
}

// judgeDUID judges the Server IDs seen before a restart (d1), after a
// plain restart (d2) and after a restart without leases that keeps the
// DUID file (d3); nil is no Advertise (noAnswer says for how long).
func judgeDUID(d1, d2, d3 []byte, noAnswer string) (check.Verdict, string) {
	show := func(d []byte) string {
		if d == nil {
			return "none (" + noAnswer + ")"
		}
		return fmt.Sprintf("%x", d)
	}
	detail := fmt.Sprintf("DUID %s; after a restart %s; after a restart without leases (DUID kept) %s", show(d1), show(d2), show(d3))
	switch {
	case d1 == nil:
		return Fail, detail + ": no Advertise before the restart"
	case d2 == nil || d3 == nil:
		return Fail, detail + ": no Advertise after a restart, so stability cannot be shown"
	case string(d1) != string(d2):
		return Fail, detail + ": changed across a restart (clients' Renews to it are then discarded, RFC 9915 §16.6)"
	case string(d1) != string(d3):
		return Fail, detail + ": changed when only the leases were removed"
	}
	return Pass, detail + ": the same every time"
}

func (r *runner) checkLeasequery(c *Check) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return
	}
	a := r.newClient()
	x, _, _, why := r.acquire(a)
	if !x.IsValid() {
		noLease(c, "no binding to query", why)
		return
	}
	req := r.newClient()
	for _, dst := range []netip.Addr{srv1Addr, r.lab.LinkLocal("srv1")} {
		m := req.message(dhcpv6.MessageTypeLeaseQuery, r.xid(), lqQuery(netip.IPv6Unspecified(), x))
		reply, _, _ := r.p.exchange(m, netip.AddrPortFrom(dst, 547))
		if reply == nil {
			continue
		}
		if reply.MessageType != dhcpv6.MessageTypeLeaseQueryReply {
			c.Verdict, c.Detail = Fail, fmt.Sprintf("LEASEQUERY to %s answered with a %s", dst, typeName(reply.MessageType))
			return
		}
		if st := topStatus(reply); st != iana.StatusSuccess {
			c.Verdict, c.Detail = NA, fmt.Sprintf("LEASEQUERY for %s to %s: status %s (not offered or not allowed)", x, dst, st)
			return
		}
		ids, addrs := clientData(reply)
		for _, id := range ids {
			if string(id) == string(a.raw) {
				c.Verdict, c.Detail = Pass, fmt.Sprintf("LEASEQUERY by address %s to %s: client data names the client that holds it (addresses %v)", x, dst, addrs)
				return
			}
		}
		c.Verdict, c.Detail = Fail, fmt.Sprintf("LEASEQUERY by address %s to %s: client data %d entries, none for the client that holds it", x, dst, len(ids))
		return
	}
	c.Verdict, c.Detail = NA, fmt.Sprintf("no answer to LEASEQUERY (RFC 5007) by address within %s at %s nor %s: not offered", r.opt.Timeout, srv1Addr, r.lab.LinkLocal("srv1"))
}
