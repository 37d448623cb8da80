package ddns

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"d6lab/deploy"
	"d6lab/netaddr6"
)

// Step is one update of a job.
type Step uint8

// Steps, in the order a job takes them.
const (
	// StepAdd: RFC 4703 §5.3.1, prerequisite "name is not in use" (RFC
	// 2136 §2.4.5), adds the AAAA and the DHCID (§2.5.1).
	StepAdd Step = iota + 1
	// StepReplace: RFC 4703 §5.3.2, prerequisites "name is in use" (RFC
	// 2136 §2.4.4) and "a DHCID RR with this client's value exists"
	// (§2.4.2), deletes the AAAA RRset (§2.5.2) and adds the AAAA.
	StepReplace
	// StepPTR: RFC 4703 §5.4, no prerequisite: the PTR RRset of the
	// address is deleted and the client's PTR added.
	StepPTR
	// StepRemoveAAAA: RFC 4703 §5.5, prerequisite "the DHCID matches"
	// (RFC 2136 §2.4.2), deletes the one AAAA (§2.5.4).
	StepRemoveAAAA
	// StepRemoveName: RFC 4703 §5.5, prerequisites "the DHCID matches",
	// "no A RRset", "no AAAA RRset" (RFC 2136 §2.4.3), deletes the name's
	// RRsets (§2.5.3): the DHCID.
	StepRemoveName
	// StepRemovePTR: RFC 4703 §5.5, prerequisite "the PTR names the
	// client" (RFC 2136 §2.4.2), deletes the PTR RRset.
	StepRemovePTR
)

var stepNames = [...]string{"", "add", "replace", "ptr", "remove-aaaa", "remove-dhcid", "remove-ptr"}

func (s Step) String() string {
	if int(s) < len(stepNames) && s > 0 {
		return stepNames[s]
	}
	return "step?"
}

// Outcome is how one update ended.
type Outcome uint8

// Outcomes.
const (
	// OK: the server applied the update (NOERROR).
	OK Outcome = iota + 1
	// Skipped: a prerequisite failed in a way the rules expect and the job
	// goes on (YXDOMAIN on StepAdd: the name exists; nothing left to
	// remove; other addresses still on the name).
	Skipped
	// Conflict: the DHCID prerequisite failed: the name belongs to
	// another client (RFC 4703 §5.3.2, §5.3.3, §5.5); the name is left
	// alone.
	Conflict
	// Failed: the server refused the update (another RCODE), or it could
	// not be built or its answer not verified.
	Failed
	// Timeout: no answer after every retransmission.
	Timeout
)

var outcomeNames = [...]string{"", "ok", "skipped", "conflict", "failed", "timeout"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) && o > 0 {
		return outcomeNames[o]
	}
	return "outcome?"
}

// Result is the outcome of one update message.
type Result struct {
	Change  Change
	Step    Step
	Outcome Outcome
	// Rcode is the answer's RCODE (-1 without an answer).
	Rcode int
	// Detail says more for Failed and Skipped: the RCODE's name, the error.
	Detail string
	// Tries is how many times the message was sent.
	Tries int
}

func (r Result) String() string {
	s := fmt.Sprintf("%s %s %s: %s", r.Step, r.Change.FQDN, r.Change.Addr, r.Outcome)
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	if r.Tries > 1 {
		s += fmt.Sprintf(" after %d tries", r.Tries)
	}
	return s
}

// Options tune an Updater; zero fields take the defaults.
type Options struct {
	// Timeout is the first retransmission timeout (default 1 s); it
	// doubles after each try up to MaxTimeout (default 4 s).
	Timeout, MaxTimeout time.Duration
	// Tries is how many times an update is sent before it times out
	// (default 4).
	Tries int
	// MaxJobs bounds the changes held (running or queued behind another
	// change of the same name); Full reports when it is reached (default
	// 4096).
	MaxJobs int
	// FirstID is the first message ID (then one more per message).
	FirstID uint16
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	if o.MaxTimeout < o.Timeout {
		o.MaxTimeout = max(4*time.Second, o.Timeout)
	}
	if o.Tries <= 0 {
		o.Tries = 4
	}
	if o.MaxJobs <= 0 {
		o.MaxJobs = 4096
	}
	return o
}

// Stats counts updates. Sent counts update messages (a retransmission is
// a Retry, not another Sent); OK, Conflicts and Failures (Failed and
// Timeout) count their outcomes.
type Stats struct {
	Sent, Retries, OK, Skipped, Conflicts, Failures uint64
}

// Updater is the sans-IO RFC 4703 updater. It is not safe for concurrent
// use. Changes of one name run one after another in the order given;
// changes of different names run side by side.
type Updater struct {
	cfg  deploy.DNS
	opt  Options
	ttl  uint32
	next uint16

	queues   map[string][]*job // by FQDN; the first is running
	inflight map[uint16]*job
	jobs     int
	results  []Result
	stats    Stats
}

type job struct {
	c        Change
	dhcid    []byte // RDATA
	rev      string // the PTR owner name
	revZone  string // "" when no reverse zone holds the address
	step     Step
	restarts int // StepReplace -> StepAdd after NXDOMAIN

	msg      *dns.Msg
	tries    int
	rto      time.Duration
	deadline time.Time
}

// NewUpdater returns an updater for cfg.
func NewUpdater(cfg deploy.DNS, opt Options) (*Updater, error) {
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	cfg.Zone = strings.ToLower(cfg.Zone)
	opt = opt.withDefaults()
	return &Updater{
		cfg: cfg, opt: opt, ttl: uint32(cfg.TTL / time.Second), next: opt.FirstID,
		queues: map[string][]*job{}, inflight: map[uint16]*job{},
	}, nil
}

// Full reports whether the updater holds MaxJobs changes: the IO side
// should stop taking changes until some finish.
func (u *Updater) Full() bool { return u.jobs >= u.opt.MaxJobs }

// Jobs is the number of changes held.
func (u *Updater) Jobs() int { return u.jobs }

// Stats returns the counters.
func (u *Updater) Stats() Stats { return u.stats }

// Results appends the outcomes since the last call to dst.
func (u *Updater) Results(dst []Result) []Result {
	dst = append(dst, u.results...)
	clear(u.results)
	u.results = u.results[:0]
	return dst
}

// Submit takes a change and appends the messages to send now to out.
func (u *Updater) Submit(now time.Time, c Change, out []*dns.Msg) []*dns.Msg {
	c.FQDN = strings.ToLower(dns.Fqdn(c.FQDN))
	j := &job{c: c}
	u.jobs++
	q := u.queues[c.FQDN]
	u.queues[c.FQDN] = append(q, j)
	if len(q) > 0 {
		return out // runs when the name's earlier changes are done
	}
	return u.start(now, j, out)
}

// start runs j's first step.
func (u *Updater) start(now time.Time, j *job, out []*dns.Msg) []*dns.Msg {
	c := j.c
	if !InZone(c.FQDN, u.cfg.Zone) {
		return u.finish(now, j, Result{Change: c, Step: StepAdd, Outcome: Failed, Rcode: -1,
			Detail: "name outside zone " + u.cfg.Zone}, out)
	}
	var err error
	if j.dhcid, err = DHCID(c.DUID, c.FQDN); err != nil {
		return u.finish(now, j, Result{Change: c, Step: StepAdd, Outcome: Failed, Rcode: -1, Detail: err.Error()}, out)
	}
	j.rev, j.revZone = netaddr6.ReverseName(c.Addr), ReverseZone(c.Addr, u.cfg.ReverseZones)
	first := StepAdd
	if c.Op == Remove {
		first = StepRemoveAAAA
	}
	return u.send(now, j, first, out)
}

// send builds step's message for j and appends it to out.
func (u *Updater) send(now time.Time, j *job, step Step, out []*dns.Msg) []*dns.Msg {
	j.step = step
	m := u.build(j)
	j.msg, j.tries, j.rto = m, 1, u.opt.Timeout
	j.deadline = now.Add(j.rto)
	u.inflight[m.Id] = j
	u.stats.Sent++
	return append(out, m)
}

func (u *Updater) id() uint16 {
	for {
		id := u.next
		u.next++
		if _, busy := u.inflight[id]; !busy {
			return id
		}
	}
}

// The records of a job. Each call makes new RRs: the dns.Msg update
// helpers change the headers of the RRs they are given.
func (u *Updater) aaaa(j *job) *dns.AAAA {
	return &dns.AAAA{Hdr: dns.RR_Header{Name: j.c.FQDN, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: u.ttl},
		AAAA: j.c.Addr.AsSlice()}
}

func (u *Updater) dhcidRR(j *job) *dns.DHCID {
	return &dns.DHCID{Hdr: dns.RR_Header{Name: j.c.FQDN, Rrtype: dns.TypeDHCID, Class: dns.ClassINET, Ttl: u.ttl},
		Digest: encodeDigest(j.dhcid)}
}

func (u *Updater) ptr(j *job) *dns.PTR {
	return &dns.PTR{Hdr: dns.RR_Header{Name: j.rev, Rrtype: dns.TypePTR, Class: dns.ClassINET, Ttl: u.ttl}, Ptr: j.c.FQDN}
}

// typed is an RR that names only its owner and type (for the update
// helpers that take no RDATA).
func typed(name string, t uint16) dns.RR {
	return &dns.ANY{Hdr: dns.RR_Header{Name: name, Rrtype: t, Class: dns.ClassINET}}
}

// build makes the update message of j's step (RFC 2136 §2: the zone
// section names the zone, the prerequisite section is the Answer section
// and the update section the Authority section of a dns.Msg).
func (u *Updater) build(j *job) *dns.Msg {
	m := new(dns.Msg)
	name := j.c.FQDN
	switch j.step {
	case StepAdd:
		m.SetUpdate(u.cfg.Zone)
		m.NameNotUsed([]dns.RR{typed(name, dns.TypeANY)})
		m.Insert([]dns.RR{u.aaaa(j), u.dhcidRR(j)})
	case StepReplace:
		m.SetUpdate(u.cfg.Zone)
		m.NameUsed([]dns.RR{typed(name, dns.TypeANY)})
		m.Used([]dns.RR{u.dhcidRR(j)})
		m.RemoveRRset([]dns.RR{typed(name, dns.TypeAAAA)})
		m.Insert([]dns.RR{u.aaaa(j)})
	case StepPTR:
		m.SetUpdate(j.revZone)
		m.RemoveRRset([]dns.RR{typed(j.rev, dns.TypePTR)})
		m.Insert([]dns.RR{u.ptr(j)})
	case StepRemoveAAAA:
		m.SetUpdate(u.cfg.Zone)
		m.Used([]dns.RR{u.dhcidRR(j)})
		m.Remove([]dns.RR{u.aaaa(j)})
	case StepRemoveName:
		m.SetUpdate(u.cfg.Zone)
		m.Used([]dns.RR{u.dhcidRR(j)})
		m.RRsetNotUsed([]dns.RR{typed(name, dns.TypeA), typed(name, dns.TypeAAAA)})
		m.RemoveName([]dns.RR{typed(name, dns.TypeANY)})
	case StepRemovePTR:
		m.SetUpdate(j.revZone)
		m.Used([]dns.RR{u.ptr(j)})
		m.RemoveRRset([]dns.RR{typed(j.rev, dns.TypePTR)})
	}
	m.Id = u.id()
	return m
}

// Receive takes an answer and appends the messages it leads to to out.
// An answer to no update in flight (late, duplicate, spoofed) is ignored.
func (u *Updater) Receive(now time.Time, resp *dns.Msg, out []*dns.Msg) []*dns.Msg {
	j, ok := u.inflight[resp.Id]
	if !ok || !resp.Response || resp.Opcode != dns.OpcodeUpdate {
		return out
	}
	delete(u.inflight, resp.Id)
	return u.answered(now, j, resp.Rcode, out)
}

// Fail ends the update in flight with ID id as Failed (its answer did not
// verify, it could not be sent) and appends what follows to out.
func (u *Updater) Fail(now time.Time, id uint16, detail string, out []*dns.Msg) []*dns.Msg {
	j, ok := u.inflight[id]
	if !ok {
		return out
	}
	delete(u.inflight, id)
	r := Result{Change: j.c, Step: j.step, Outcome: Failed, Rcode: -1, Detail: detail, Tries: j.tries}
	return u.next1(now, j, r, out)
}

// NextDeadline is when Expire has work next (ok false: nothing in flight).
func (u *Updater) NextDeadline() (t time.Time, ok bool) {
	for _, j := range u.inflight {
		if !ok || j.deadline.Before(t) {
			t, ok = j.deadline, true
		}
	}
	return t, ok
}

// Expire retransmits each update whose timeout has passed at now (the same
// message: the IO side signs each send afresh), doubling its timeout, and
// gives up on those sent Tries times. It appends what to send to out.
func (u *Updater) Expire(now time.Time, out []*dns.Msg) []*dns.Msg {
	var due []*job
	for _, j := range u.inflight {
		if !now.Before(j.deadline) {
			due = append(due, j)
		}
	}
	for _, j := range due {
		if j.tries >= u.opt.Tries {
			delete(u.inflight, j.msg.Id)
			r := Result{Change: j.c, Step: j.step, Outcome: Timeout, Rcode: -1,
				Detail: fmt.Sprintf("no answer from %s", u.cfg.Server), Tries: j.tries}
			u.stats.Failures++
			u.results = append(u.results, r)
			out = u.done(now, j, out) // a DNS server that does not answer: the job stops
			continue
		}
		j.tries++
		u.stats.Retries++
		j.rto = min(2*j.rto, u.opt.MaxTimeout)
		j.deadline = now.Add(j.rto)
		out = append(out, j.msg)
	}
	return out
}

// answered applies RFC 4703's rules to the RCODE of j's update.
func (u *Updater) answered(now time.Time, j *job, rcode int, out []*dns.Msg) []*dns.Msg {
	r := Result{Change: j.c, Step: j.step, Rcode: rcode, Tries: j.tries, Outcome: Failed}
	if rcode != dns.RcodeSuccess {
		r.Detail = strings.ToLower(dns.RcodeToString[rcode])
		if r.Detail == "" {
			r.Detail = fmt.Sprintf("rcode %d", rcode)
		}
	}
	switch j.step {
	case StepAdd:
		switch rcode {
		case dns.RcodeSuccess:
			r.Outcome = OK
		case dns.RcodeYXDomain:
			// §5.3.1: the name is in use; §5.3.2: check that it is ours.
			r.Outcome = Skipped
			u.note(r)
			return u.send(now, j, StepReplace, out)
		}
	case StepReplace:
		switch rcode {
		case dns.RcodeSuccess:
			r.Outcome = OK
		case dns.RcodeNXRrset:
			// §5.3.2: the DHCID is another client's (or there is
			// none); §5.3.3: the updater SHOULD choose another FQDN or
			// terminate with a failure: leave it (and the PTR) alone.
			r.Outcome = Conflict
		case dns.RcodeNameError:
			// The name went away between the two updates: start over,
			// at most twice.
			if j.restarts < 2 {
				j.restarts++
				r.Outcome = Skipped
				u.note(r)
				return u.send(now, j, StepAdd, out)
			}
		}
	case StepPTR:
		if rcode == dns.RcodeSuccess {
			r.Outcome = OK
		}
	case StepRemoveAAAA:
		switch rcode {
		case dns.RcodeSuccess:
			r.Outcome = OK
		case dns.RcodeNameError:
			r.Outcome = Skipped // nothing left at the name
		case dns.RcodeNXRrset:
			// §5.5: "If either request fails, the updater MUST NOT
			// delete the FQDN": another client's DHCID (or none) is
			// there.
			r.Outcome = Conflict
		}
	case StepRemoveName:
		switch rcode {
		case dns.RcodeSuccess:
			r.Outcome = OK
		case dns.RcodeNXRrset, dns.RcodeYXRrset, dns.RcodeNameError:
			// Other addresses remain on the name (YXRRSET: an "RRset
			// does not exist" prerequisite failed), or it is gone.
			r.Outcome = Skipped
		}
	case StepRemovePTR:
		switch rcode {
		case dns.RcodeSuccess:
			r.Outcome = OK
		case dns.RcodeNXRrset, dns.RcodeNameError:
			r.Outcome = Skipped // the PTR names someone else now, or is gone
		}
	}
	return u.next1(now, j, r, out)
}

// note records a result and counts it.
func (u *Updater) note(r Result) {
	switch r.Outcome {
	case OK:
		u.stats.OK++
	case Skipped:
		u.stats.Skipped++
	case Conflict:
		u.stats.Conflicts++
	case Failed, Timeout:
		u.stats.Failures++
	}
	u.results = append(u.results, r)
}

// next1 records r, the outcome of j's current step, and runs j's next step.
func (u *Updater) next1(now time.Time, j *job, r Result, out []*dns.Msg) []*dns.Msg {
	u.note(r)
	var next Step
	switch j.step {
	case StepAdd, StepReplace:
		if r.Outcome == OK && j.revZone != "" {
			next = StepPTR
		}
	case StepRemoveAAAA:
		next = StepRemovePTR
		if r.Outcome == OK {
			next = StepRemoveName
		}
	case StepRemoveName:
		next = StepRemovePTR
	}
	if next == StepRemovePTR && j.revZone == "" {
		next = 0
	}
	if next == 0 {
		return u.done(now, j, out)
	}
	return u.send(now, j, next, out)
}

// finish records r and ends j.
func (u *Updater) finish(now time.Time, j *job, r Result, out []*dns.Msg) []*dns.Msg {
	u.note(r)
	return u.done(now, j, out)
}

// done ends j and starts the next change of its name.
func (u *Updater) done(now time.Time, j *job, out []*dns.Msg) []*dns.Msg {
	u.jobs--
	q := u.queues[j.c.FQDN]
	if len(q) <= 1 {
		delete(u.queues, j.c.FQDN)
		return out
	}
	q[0] = nil
	q = q[1:]
	u.queues[j.c.FQDN] = q
	return u.start(now, q[0], out)
}

// ReverseZone returns the zone of zones that holds a's PTR ("" none).
func ReverseZone(a netip.Addr, zones []string) string {
	rev, best := netaddr6.ReverseName(a), ""
	for _, z := range zones {
		z = strings.ToLower(z)
		if InZone(rev, z) && len(z) > len(best) {
			best = z
		}
	}
	return best
}
