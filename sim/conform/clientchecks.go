package conform

import (
	"fmt"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/sim/realclient"
)

// clientDef is one check of the client catalogue.
type clientDef struct {
	id, name string
	// ia is what the client asks for (realclient.IANA, IAPD; nil:
	// stateless): a kind that lacks it makes the check n/a.
	ia []string
	// long says how long the check takes when that is minutes: it runs
	// only when asked ("": it runs by default).
	long string
	// lease is the lease times the check's servers grant (see timersFor).
	lease leaseTimes
	drive func(k *ckRun) error
	judge func(o clientObs) (check.Verdict, string)
}

// leaseTimes names the lease times a check grants.
type leaseTimes uint8

const (
	// longLease: nothing renews during the check (T1 100 s).
	longLease leaseTimes = iota
	// fastLease: T1 4 s, T2 6 s, preferred 16 s, valid 20 s: Renew and
	// Rebind within seconds, with room after T2 to see how late a Rebind
	// comes before the valid lifetime ends.
	fastLease
	// rebindLease: fastLease, unless the kind raises a T2 that short
	// (t2Floor): then T2 at its floor, T1 2 s before, and the lifetimes
	// 10 and 14 s after it, the same shape as fastLease.
	rebindLease
)

// fastLifetimes are fastLease's times.
var fastLifetimes = Lifetimes{T1: 4 * time.Second, T2: 6 * time.Second, Preferred: 16 * time.Second, Valid: 20 * time.Second}

// longTimers are longLease's times (those of the server side).
var longTimers = baseLifetimes

// t2Floor is the least T2 a kind keeps as the server sends it
// (its profile's MinT2, realclient.Deviations: WIDE dhcp6c raises a T2 under 30 s to 30 s), so with
// fastLease its bindings would expire before it Rebinds. The checks around
// T2 give such a kind rebindLease's times, and their details say so;
// renew-t1 keeps fastLease for every kind, so the raise shows there.
func t2Floor(k deploy.ClientKind) time.Duration { return realclient.Deviations(k).MinT2 }

// timers returns the lease times d's servers grant to kind.
func (d clientDef) timers(kind deploy.ClientKind) Lifetimes {
	switch d.lease {
	case fastLease:
		return fastLifetimes
	case rebindLease:
		if f := t2Floor(kind); f > fastLifetimes.T2 {
			return Lifetimes{T1: f - 2*time.Second, T2: f, Preferred: f + 10*time.Second, Valid: f + 14*time.Second}
		}
		return fastLifetimes
	}
	return longTimers
}

// skip says why d does not run with opt ("" when it does).
func (d clientDef) skip(opt ClientOptions) string {
	if d.long != "" && !opt.Long && !slices.Contains(opt.Checks, d.id) {
		return "takes " + d.long + ": run it with --long or --checks " + d.id
	}
	return ""
}

// capability names what d asks of the client, for an n/a detail.
func (d clientDef) capability() string {
	c, _ := realclient.Spec{IA: d.ia}.Capability()
	switch c {
	case realclient.CapNA:
		return "ask for an address (IA_NA)"
	case realclient.CapPD:
		return "ask for a delegated prefix (IA_PD)"
	case realclient.CapNAPD:
		return "ask for an address and a prefix at once"
	}
	return "run stateless (Information-request)"
}

var (
	na = []string{realclient.IANA}
	pd = []string{realclient.IAPD}
)

// clientCatalogue lists every client check in the order they run.
var clientCatalogue = []clientDef{
	{id: "preference-255", name: "Preference 255: Request at once to that server (RFC 9915 §18.2.1)", ia: na,
		drive: drivePreference255, judge: judgePreference255},
	{id: "preference-wait", name: "Advertises below 255: collect for the first RT, Request the highest Preference (RFC 9915 §18.2.1, §18.2.9)", ia: na,
		drive: drivePreferenceWait, judge: judgePreferenceWait},
	{id: "preference-tie", name: "Equal Preference: which Advertise the client takes (RFC 9915 §18.2.9 leaves it to the client)", ia: na,
		drive: drivePreferenceTie, judge: judgePreferenceTie},
	{id: "renew-t1", name: "Renew at T1 to the granting server only (RFC 9915 §18.2.4)", ia: na, lease: fastLease,
		drive: driveRenew, judge: judgeRenewT1},
	{id: "rebind-t2", name: "Rebind at T2 to all servers when the granting one is silent; seconds past T2 measured (RFC 9915 §18.2.4, §18.2.5)", ia: na, lease: rebindLease,
		drive: driveRebindT2, judge: judgeRebindT2},
	{id: "rebind-until-valid", name: "Rebind until the valid lifetime ends, then drop the address (RFC 9915 §18.2.5)", ia: na, lease: rebindLease,
		drive: driveRebindUntilValid, judge: judgeRebindUntilValid},
	{id: "zero-lifetime", name: "Lifetime 0 in a Reply removes the address (RFC 9915 §18.2.10.1)", ia: na, lease: fastLease,
		drive: driveZeroLifetime, judge: judgeZeroLifetime},
	{id: "rebind-renumber", name: "Rebind Reply with a new address and the old at lifetime 0 (what Kea does) renumbers (RFC 9915 §18.2.10.1)", ia: na, lease: rebindLease,
		drive: driveRenumber, judge: judgeRenumber},
	{id: "nobinding-request", name: "NoBinding in a Reply to Renew: Request to that server (RFC 9915 §18.2.10.1)", ia: na, lease: fastLease,
		drive: driveNoBinding, judge: judgeNoBinding},
	{id: "request-fail", name: "A Request nobody answers: REQ_MAX_RC transmissions, then what the client's policy does (RFC 9915 §18.2.2, §15)", ia: na,
		long:  "about 4 minutes (REQ_MAX_RC 10 Requests, REQ_MAX_RT 30 s)",
		drive: driveRequestFail, judge: judgeRequestFail},
	{id: "dad-decline", name: "DAD failure: Decline the address (RFC 9915 §18.2.8)", ia: na,
		drive: driveDecline, judge: judgeDecline},
	{id: "link-confirm", name: "Link down and up: Confirm the addresses (RFC 9915 §18.2.12, §18.2.3)", ia: na,
		drive: driveLinkConfirm, judge: judgeLinkConfirm},
	{id: "link-rebind-pd", name: "Link down and up with a delegated prefix: Rebind (RFC 9915 §18.2.12)", ia: pd,
		drive: driveLinkPD, judge: judgeLinkRebindPD},
	{id: "info-refresh", name: "Stateless: a new Information-request when the Information Refresh Time runs out (RFC 9915 §18.2.6, §21.23)", long: "over 10 minutes (IRT_MINIMUM is 600 s, RFC 9915 §21.23)",
		drive: driveInfoRefresh, judge: judgeInfoRefresh},
	{id: "release-on-stop", name: "Release on a clean stop (RFC 9915 §18.2.7)", ia: na,
		drive: driveRelease, judge: judgeRelease},
	{id: "release-unanswered", name: "A Release nobody answers: REL_MAX_RC transmissions, then the client gives up (RFC 9915 §18.2.7, §15)", ia: na,
		long:  "up to a minute and a half (REL_TIMEOUT 1 s doubling until the client gives up)",
		drive: driveReleaseUnanswered, judge: judgeReleaseUnanswered},
	{id: "elapsed-time", name: "Elapsed Time in every message, 0 first, growing across retransmissions (RFC 9915 §21.9)", ia: na,
		drive: driveElapsed, judge: judgeElapsed},
	{id: "retransmission", name: "Solicit retransmission within RFC 9915 §15's bounds (RT1 in (IRT, 1.1 IRT], then 2 RT ± 10 %)", ia: na,
		drive: driveRetransmission, judge: judgeRetransmission},
}

// ClientIDs lists the client check IDs in the order they run.
func ClientIDs() []string {
	out := make([]string, len(clientCatalogue))
	for i, d := range clientCatalogue {
		out[i] = d.id
	}
	return out
}

// The drives: each sets up the scripted servers, starts the client and
// waits for what its judge needs, each wait bounded (ClientOptions.Timeout
// past the latest time the protocol allows).

// tail is how long a check goes on once it saw what it waited for, so
// that the capture holds what followed.
const tail = 300 * time.Millisecond

func (k *ckRun) grace() time.Duration { return k.r.opt.Timeout }

// lease is the check's lease times for the run's kind; when the kind's T2
// floor changed them, the check's detail says so.
func (k *ckRun) lease() Lifetimes {
	t := k.def.timers(k.r.kind)
	if t != fastLifetimes && k.def.lease == rebindLease {
		k.noteOnce(fmt.Sprintf("T1 %s, T2 %s, valid %s: %s raises a T2 under %s, so this check grants it that (renew-t1 shows the raise)",
			fsec(t.T1), fsec(t.T2), fsec(t.Valid), k.r.kind, fsec(t2Floor(k.r.kind))))
	}
	return t
}

func drivePreference255(k *ckRun) error {
	if err := k.serve(plan{pref: 255}, plan{script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	k.waitBound()
	k.sleep(tail)
	return nil
}

// preferenceHold is how long s2 holds its Advertise in preference-wait
// (and s1 in preference-tie): well inside the first RT.
const preferenceHold = 400 * time.Millisecond

func drivePreferenceWait(k *ckRun) error {
	if err := k.serve(plan{pref: 10}, plan{pref: 200, script: holdAdvertise(preferenceHold)}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	k.waitBound()
	k.pastFirstRT()
	return nil
}

// pastFirstRT waits until the held Advertise and the first RT (at most
// 1.1 IRT) after the first Solicit are over, so that the capture shows
// both Advertises even when the client did not wait.
func (k *ckRun) pastFirstRT() {
	if sol, ok := k.seen(dhcpv6.MessageTypeSolicit, time.Time{}); ok {
		k.wait(time.Until(sol.Add(preferenceHold+1100*time.Millisecond+tail)), func() bool { return false })
	}
	k.sleep(tail)
}

func drivePreferenceTie(k *ckRun) error {
	// s2 (the higher Server ID) answers first, s1 (the lower) later: a
	// client that keeps the first takes s2, one that sorts by Server ID
	// takes s1.
	if err := k.serve(plan{pref: 100, script: holdAdvertise(preferenceHold)}, plan{pref: 100}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	k.waitBound()
	k.pastFirstRT()
	return nil
}

// untilValid waits, from the binding at bound, up to the valid lifetime
// and the grace for done.
func (k *ckRun) untilValid(bound time.Time, done func() bool) bool {
	return k.wait(time.Until(bound.Add(k.lease().Valid+k.grace())), done)
}

func driveRenew(k *ckRun) error {
	t := k.lease()
	// s1 answers first with 255, so every kind binds to it; s2 answers
	// too (Preference 0, later), so the Renew's Server ID has a choice.
	if err := k.serve(plan{pref: 255, timers: t}, plan{pref: 0, timers: t, script: holdAdvertise(200 * time.Millisecond)}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	k.untilValid(bound, func() bool { _, ok := k.seen(dhcpv6.MessageTypeRenew, bound); return ok })
	k.sleep(tail)
	return nil
}

func driveRebindT2(k *ckRun) error {
	t := k.lease()
	if err := k.serve(plan{pref: 255, timers: t, script: diesAfterGrant}, plan{timers: t, script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	k.untilValid(bound, func() bool { _, ok := k.seen(dhcpv6.MessageTypeRebind, bound); return ok })
	k.sleep(tail)
	return nil
}

func driveRebindUntilValid(k *ckRun) error {
	t := k.lease()
	if err := k.serve(plan{pref: 255, timers: t, script: diesAfterGrant}, plan{timers: t, script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	// Past the valid lifetime: the address's end, the client's next move.
	k.wait(time.Until(bound.Add(t.Valid+secondSlack+k.grace())), func() bool { return false })
	return nil
}

func driveZeroLifetime(k *ckRun) error {
	t := k.lease()
	if err := k.serve(plan{pref: 255, timers: t, script: onFirst(dhcpv6.MessageTypeRenew, zeroLifetimes)}, plan{timers: t, script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	var zr time.Time
	if !k.untilValid(bound, func() bool { zr, ok = k.srv[0].answered(dhcpv6.MessageTypeRenew); return ok }) {
		return nil
	}
	k.wait(removeWithin+k.grace(), func() bool { return k.anyRemoved(zr) })
	k.sleep(time.Second) // what the client does next
	return nil
}

// anyRemoved reports whether an address left the client's interface at
// or after t.
func (k *ckRun) anyRemoved(t time.Time) bool {
	for _, c := range k.addrLogCopy() {
		if c.Deleted && !c.At.Before(t) {
			return true
		}
	}
	return false
}

func driveRenumber(k *ckRun) error {
	t := k.lease()
	// s1 dies once it bound the client; s2 answers Rebinds only, with
	// its core's create policy: the old address is not in its pool, so a
	// new one from it and the old at lifetime 0, as Kea does.
	if err := k.serve(plan{pref: 255, timers: t, script: diesAfterGrant},
		plan{timers: t, rebind: deploy.RebindCreate, script: only(dhcpv6.MessageTypeRebind)}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	var rr time.Time
	if !k.untilValid(bound, func() bool { rr, ok = k.srv[1].answered(dhcpv6.MessageTypeRebind); return ok }) {
		return nil
	}
	k.wait(removeWithin+k.grace(), func() bool { return k.anyRemoved(rr) })
	k.sleep(time.Second)
	return nil
}

func driveNoBinding(k *ckRun) error {
	t := k.lease()
	if err := k.serve(plan{pref: 255, timers: t, script: onFirst(dhcpv6.MessageTypeRenew, noBinding)}, plan{timers: t, script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	var nb time.Time
	if !k.untilValid(bound, func() bool { nb, ok = k.srv[0].answered(dhcpv6.MessageTypeRenew); return ok }) {
		return nil
	}
	// The answer to NoBinding: a Request at once, or a Solicit after its
	// delay (SOL_MAX_DELAY), or nothing; then its retransmissions.
	k.wait(2*time.Second+k.grace(), func() bool { return k.anySeen(nb.Add(time.Millisecond)) })
	k.sleep(2 * time.Second)
	return nil
}

// requestFailWatch is how long request-fail watches after the client's
// first Request: its REQ_MAX_RC (10) transmissions, RTs doubling from
// REQ_TIMEOUT 1 s to REQ_MAX_RT 30 s, each up to 10 % long (RFC 9915 §15:
// 1.1 x 181 s = 199.1 s), then the last RT's end and what follows it
// (requestFailAfter).
const requestFailWatch = 200*time.Second + requestFailAfter

// requestFailAfter is how long past its last Request request-fail wants to
// watch the client before it says the client sent nothing more: the last
// RT (REQ_MAX_RT 30 s, up to 10 % long), SOL_MAX_DELAY (1 s) and 11 s to
// spare.
const requestFailAfter = 45 * time.Second

func driveRequestFail(k *ckRun) error {
	// s1 advertises Preference 200 at once and never answers a Request;
	// s2 advertises Preference 10 after preferenceHold and answers. Every
	// kind Requests from s1 first: those that wait for the first RT by its
	// Preference, dhcpcd because its Advertise comes first.
	if err := k.serve(plan{pref: 200, script: advertiseOnly}, plan{pref: 10, script: holdAdvertise(preferenceHold)}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	var first time.Time
	if !k.wait(k.bindWithin(), func() bool {
		var ok bool
		first, ok = k.seen(dhcpv6.MessageTypeRequest, time.Time{})
		return ok
	}) {
		k.noteOnce(fmt.Sprintf("no Request within %s of the client's start", k.bindWithin()))
		return nil
	}
	// A grant (s2's, after a Request to it) ends the watch early.
	k.wait(time.Until(first.Add(requestFailWatch+k.grace())), func() bool { _, ok := k.granted(); return ok })
	k.sleep(tail)
	return nil
}

// anySeen reports whether a server received anything from the client
// after t.
func (k *ckRun) anySeen(t time.Time) bool {
	for _, typ := range []dhcpv6.MessageType{dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRequest, dhcpv6.MessageTypeRenew,
		dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeConfirm, dhcpv6.MessageTypeRelease, dhcpv6.MessageTypeDecline, dhcpv6.MessageTypeInformationRequest} {
		if _, ok := k.seen(typ, t); ok {
			return true
		}
	}
	return false
}

func driveDecline(k *ckRun) error {
	if err := k.occupy(); err != nil {
		return err
	}
	// The sequential allocator gives the first address of the pool,
	// the one "clients" holds.
	if err := k.serve(plan{pref: 255, pool: cDeclinePool, alloc: deploy.AllocSequential}, plan{script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	bound, ok := k.waitBound()
	if !ok {
		return nil
	}
	// DAD takes a second (one probe, RetransTimer 1 s); a Decline follows
	// at once when it comes.
	if k.wait(3*time.Second+k.grace(), func() bool { _, ok := k.seen(dhcpv6.MessageTypeDecline, bound); return ok }) {
		k.sleep(2 * time.Second) // the next address
	}
	return nil
}

// flapDown is how long a flap keeps the cable out: long enough for the
// kernel (and a client that watches the carrier) to see it.
const flapDown = time.Second

// afterFlap is how long a check waits for the client's first message
// once the link is back: CNF_MAX_DELAY, the link-local address's DAD
// (a second), and the grace.
func (k *ckRun) afterFlap() time.Duration { return 3*time.Second + k.grace() }

func driveLinkConfirm(k *ckRun) error {
	if ok, err := k.settled(plan{pref: 255}); !ok {
		return err
	}
	if err := k.flap(flapDown); err != nil {
		return err
	}
	if k.wait(k.afterFlap(), func() bool { return k.anySeen(k.mark) }) {
		k.sleep(time.Second)
	}
	return nil
}

func driveLinkPD(k *ckRun) error {
	if err := k.serve(plan{pref: 255, pd: true}, plan{script: silent}); err != nil {
		return err
	}
	if err := k.startClient(pd...); err != nil {
		return err
	}
	if _, ok := k.waitBound(); !ok {
		return nil
	}
	k.sleep(time.Second)
	if err := k.flap(flapDown); err != nil {
		return err
	}
	if k.wait(k.afterFlap(), func() bool { return k.anySeen(k.mark) }) {
		k.sleep(time.Second)
	}
	return nil
}

// infoRefresh is the Information Refresh Time info-refresh sends:
// IRT_MINIMUM, the least a client may use.
const infoRefresh = 600 * time.Second

func driveInfoRefresh(k *ckRun) error {
	if err := k.serve(plan{pref: 255, info: infoRefresh}, plan{script: silent}); err != nil {
		return err
	}
	if err := k.startClient(); err != nil {
		return err
	}
	var rep time.Time
	if !k.wait(k.bindWithin(), func() bool {
		var ok bool
		rep, ok = k.srv[0].answered(dhcpv6.MessageTypeInformationRequest)
		return ok
	}) {
		k.noteOnce(fmt.Sprintf("no Information-request answered within %s of the client's start", k.bindWithin()))
		return nil
	}
	_, hi := irtBounds(infoRefresh)
	if k.wait(time.Until(rep.Add(hi+k.grace())), func() bool {
		_, ok := k.seen(dhcpv6.MessageTypeInformationRequest, rep.Add(time.Second))
		return ok
	}) {
		k.sleep(tail)
	}
	return nil
}

// settled serves s1 (s2 silent), starts a client asking for an address
// and waits until it is bound, the address usable, and half a second
// more; false (and the error, if any) when that did not happen.
func (k *ckRun) settled(s1 plan) (bool, error) {
	if err := k.serve(s1, plan{script: silent}); err != nil {
		return false, err
	}
	if err := k.startClient(na...); err != nil {
		return false, err
	}
	if _, ok := k.waitBound(); !ok {
		return false, nil
	}
	k.usable(3*time.Second + k.grace())
	k.sleep(500 * time.Millisecond)
	return true, nil
}

func driveRelease(k *ckRun) error {
	if ok, err := k.settled(plan{pref: 255}); !ok {
		return err
	}
	k.stopClean()
	k.sleep(tail)
	return nil
}

// releaseIgnored answers everything but a Release.
func releaseIgnored(q *query) (*dhcpv6.Message, time.Duration) {
	if q.In.MessageType == dhcpv6.MessageTypeRelease {
		return nil, 0
	}
	return q.Out, 0
}

// releaseWait bounds release-unanswered's clean stop: REL_TIMEOUT (1 s)
// doubling, six transmissions (ISC dhclient's REL_MAX_RC 5 with its
// retransmissions counted) go out within 35 s and the last RT ends
// within 70 s.
const releaseWait = 90 * time.Second

func driveReleaseUnanswered(k *ckRun) error {
	if ok, err := k.settled(plan{pref: 255, script: releaseIgnored}); !ok {
		return err
	}
	// One stop signal, then the wait: realclient's Stop sends its signal
	// again each second until the client exits, which could cut the
	// retransmissions short. A stop command (dhclient -r) is run once as
	// it is.
	if st := &k.inst.Stop; len(st.Argv) == 0 {
		st.Argv = []string{"/bin/sh", "-c", fmt.Sprintf("kill -%d %d", int(st.Signal), k.cl.Proc.PID)}
	}
	k.inst.Stop.Wait = releaseWait
	k.stopClean()
	// The client has exited (or been killed at releaseWait): watch on past
	// the RT after a fourth transmission (8.8 s), so that the judge can
	// tell one that gave up early from one cut short.
	k.sleep(releaseWatch)
	return nil
}

// releaseWatch is how long release-unanswered watches after the clean
// stop returned.
const releaseWatch = 10 * time.Second

// elapsedScript makes the client retransmit: s1 ignores the first two
// Solicits and the first Request.
func elapsedScript(q *query) (*dhcpv6.Message, time.Duration) {
	switch {
	case q.In.MessageType == dhcpv6.MessageTypeSolicit && q.N < 3,
		q.In.MessageType == dhcpv6.MessageTypeRequest && q.N == 1:
		return nil, 0
	}
	return q.Out, 0
}

func driveElapsed(k *ckRun) error {
	if err := k.serve(plan{pref: 255, script: elapsedScript}, plan{script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	k.waitBound()
	k.sleep(tail)
	return nil
}

// retransmissions is how many Solicit transmissions the retransmission
// check waits for: four RTs, three of them doublings (a client whose RAND
// strays past ±10 % only now and then, as dhcpcd 9.4.1's applied to twice
// the last RT, shows it in most runs).
const retransmissions = 5

func driveRetransmission(k *ckRun) error {
	if err := k.serve(plan{script: silent}, plan{script: silent}); err != nil {
		return err
	}
	if err := k.startClient(na...); err != nil {
		return err
	}
	// SOL_MAX_DELAY, then RTs of at most 1.1, 2.31, 4.85 and 10.2 s.
	k.wait(20*time.Second+k.grace(), func() bool { return k.srv[0].count(dhcpv6.MessageTypeSolicit) >= retransmissions })
	k.sleep(tail)
	return nil
}
