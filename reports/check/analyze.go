package check

import (
	"cmp"
	"math"
	"net/netip"
	"slices"
	"sort"
	"time"

	"d6lab/reports/history"
)

// endReason says why a binding interval ended.
type endReason uint8

const (
	endOpen       endReason = iota // still valid at End
	endLifetime                    // the valid lifetime ran out (computed, no event)
	endExpired                     // an Expired event
	endReleased                    // a Released event
	endDeclined                    // a Declined event
	endRefused                     // a Refused event (cause kept)
	endRenumbered                  // a Renumbered event naming it as Old
	endNotOnLink                   // a Confirm answered NotOnLink
)

// noSeq marks an interval end that no event caused (lifetime or End).
const noSeq = math.MaxInt32

// grant is one event that gave or extended a lease.
type grant struct {
	at  stamp
	seq int32 // position of the event in time order
	srv int32 // server id
}

// stamp is an instant of an interval or a grant as nanoseconds since
// 1970: a million-client day has two million intervals, each with five
// instants and a grant, where a time.Time takes 24 bytes. noStamp stands
// for the zero time, neverStamp for neverUsable; a time before 1678 or
// after 2262 is taken as the nearest instant a stamp holds.
type stamp int64

const (
	noStamp    stamp = math.MinInt64
	neverStamp stamp = math.MaxInt64
)

// stampOf is t as a stamp.
func stampOf(t time.Time) stamp {
	switch {
	case t.IsZero():
		return noStamp
	case t.Equal(neverUsable):
		return neverStamp
	case t.Before(minStamp):
		return noStamp + 1
	case t.After(maxStamp):
		return neverStamp - 1
	}
	return stamp(t.UnixNano())
}

var (
	minStamp = time.Unix(0, math.MinInt64+1)
	maxStamp = time.Unix(0, math.MaxInt64-1)
)

// time is s as a time.Time (UTC).
func (s stamp) time() time.Time {
	switch s {
	case noStamp:
		return time.Time{}
	case neverStamp:
		return neverUsable
	}
	return time.Unix(0, int64(s)).UTC()
}

// interval is one binding interval (see the package doc). It holds no
// pointer (its strings are names, its lease a packedPrefix, its later
// grants an index into the analyzer's table): a million-client day has
// two million intervals, and a slice of them without pointers is memory
// the collector never reads. Read before written, a slice with pointers
// had its untouched pages mapped to the zero page by the collector's
// scan and faulted again, with a TLB shootdown each, when the analysis
// wrote them (perf, docs/measurements.md).
type interval struct {
	client int
	// first is the grant that opened the interval (first.at is its
	// start); more (grants) are the grants after it, in time order: one
	// per run of grants from one server on one side of the fault event,
	// the run's first. What reads them asks which server covers an
	// instant, which server granted last before the fault, and the first
	// grant after it; a run answers each as its grants would, and a
	// client renewing with one server all day keeps one grant, not one
	// per renewal (and no entry in the table: more is 0).
	first grant
	end   stamp // clipped to the run's End
	// usable is start plus the Tentative of the event that opened the
	// interval: the address is in duplicate address detection before it.
	// usable >= end: the lease was never usable (declined during DAD).
	usable stamp
	expiry stamp // last grant + Valid; noStamp when unknown
	// movedAt/movedSeq: the first Renumbered with Cause kept naming this
	// lease as Old after the fault (the client got a new lease and kept
	// this one); movedSeq is noSeq when there was none.
	movedAt  stamp
	movedSeq int32
	endSeq   int32 // seq of the closing event, or noSeq
	more     int32 // the later grants: a.more[more]; 0 when none
	nextOpen int32 // the client's next open interval (openLease), -1 ending the list
	ia       name
	cause    name // Refused or Declined cause
	lease    packedPrefix
	reason   endReason
}

// name is a string the intervals hold many times over (an IA type, a
// cause) as its index in the analyzer's table (analyzer.name, str); 0 is
// "".
type name int32

// name is s's index in the table, added when new.
func (a *analyzer) name(s string) name {
	if n, ok := a.names[s]; ok {
		return n
	}
	n := name(len(a.strs))
	a.strs = append(a.strs, s)
	a.names[s] = n
	return n
}

// str is the string of n.
func (a *analyzer) str(n name) string { return a.strs[n] }

// start is when the interval began: its first grant.
func (iv *interval) start() time.Time { return iv.first.at.time() }

// nGrants is the number of grants of iv; grantAt(k) is the k-th.
func (a *analyzer) nGrants(iv *interval) int { return 1 + len(a.more[iv.more]) }

func (a *analyzer) grantAt(iv *interval, k int) grant {
	if k == 0 {
		return iv.first
	}
	return a.more[iv.more][k-1]
}

// segEnd is the end of iv's k-th grant segment: the next grant, or the end.
func (a *analyzer) segEnd(iv *interval, k int) time.Time {
	if k+1 < a.nGrants(iv) {
		return a.grantAt(iv, k+1).at.time()
	}
	return iv.end.time()
}

// serverAt returns the server id whose grant of iv covers t (the latest
// grant at or before t), or the first grant's server when t precedes them
// all.
func (a *analyzer) serverAt(iv *interval, t time.Time) int32 {
	at := stampOf(t)
	k := sort.Search(a.nGrants(iv), func(k int) bool { return a.grantAt(iv, k).at > at }) - 1
	return a.grantAt(iv, max(k, 0)).srv
}

type window struct{ from, to time.Time } // [from, to); zero to: never came back

type server struct {
	name                string
	killed, frozen, cut bool
	downSince           time.Time
	down                []window
}

func (s *server) isDown() bool { return s.killed || s.frozen || s.cut }

type analyzer struct {
	start, end time.Time
	loc        *time.Location // the location of the history's times (timeOf)
	events     int

	servers []server
	byName  map[string]int32
	byDUID  map[string]int32 // normalized DUID -> id
	rawDUID map[string]int32 // as spelled in events -> id

	ivs      []interval
	more     [][]grant              // intervals' later grants (interval.more); more[0] is none
	drops    map[int32][]dropWindow // by interval: spans its address was off the interface (drops.go)
	kept     map[int32]bool         // intervals a DADFailed event named: one conflict each
	strs     []string               // the names' strings (name); strs[0] is ""
	names    map[string]name
	openHead []int32 // per dense client id: its first open interval (one per lease), -1 when none; nextOpen links the rest
	ids      clientIDs
	byClient *clientIntervals // every interval by client (intervalsByClient)

	faultFound   bool
	faultAt      time.Time
	faultSeq     int32
	faultKind    history.Kind
	faultServers map[int32]bool

	reacqMs []int64 // re-acquisition time of each recovered affected client
	lqGapMs []int64 // Leasequery gap of each sampled affected client (leasequery.go)

	conflicts []conflict    // Declined events with Cause dad and DADFailed events, in time order
	nobinding []nobindingEv // NoBinding events after the fault
}

// conflict is one Declined event with Cause dad, or one DADFailed event
// (kept).
type conflict struct {
	client int
	ia     string
	lease  netip.Prefix
	at     time.Time
	peer   *int
	iv     int32 // the declined or kept interval, or -1 when none was open
	srv    int32 // its granting server, or -1 when unknown
	kept   bool  // DADFailed: the client kept the address, unusable
}

// neverUsable is the usable time of an interval whose address DAD found
// in use while the client kept it (DADFailed): after any end.
var neverUsable = time.Unix(1<<62, 0)

// nobindingEv is one NoBinding event after the fault.
type nobindingEv struct {
	client int
	ia     string
}

// Analyze computes the report of one history. It does not modify events.
func Analyze(events []history.Event, lab Lab) *Report {
	r, _ := AnalyzeSamples(events, lab)
	return r
}

// AnalyzeSource is AnalyzeSamples for a history read through a Source (a
// history.Log, which a large run keeps instead of a slice): the same
// report and samples as for the same events in a slice.
func AnalyzeSource(src history.Source, lab Lab) (*Report, Samples) {
	r, s := analyze(src, lab)
	r.ByKind = byKind(src, lab)
	return r, s
}

// AnalyzeSamples is Analyze that also returns the per-client samples the
// report's percentiles summarise (for plotting their distribution).
func AnalyzeSamples(events []history.Event, lab Lab) (*Report, Samples) {
	return AnalyzeSource(history.Events(events), lab)
}

// analyze is AnalyzeSamples without the breakdown by client kind.
func analyze(events history.Source, lab Lab) (*Report, Samples) {
	order := timeOrder(events)
	a := &analyzer{
		byName:       map[string]int32{},
		byDUID:       map[string]int32{},
		rawDUID:      map[string]int32{},
		ids:          clientIDs{sparse: map[int]int32{}},
		faultServers: map[int32]bool{},
		more:         [][]grant{nil},
		strs:         []string{""},
		names:        map[string]name{"": 0},
	}
	for _, s := range lab.Servers {
		id := a.addServer(s.Name)
		if s.DUID != "" {
			a.byDUID[NormalizeDUID(s.DUID)] = id
		}
	}
	a.bounds(events, order, lab)
	if len(order) > 0 {
		a.loc = events.At(int(order[0])).Location()
	}
	grants := 0
	for i := range events.Len() {
		switch events.Kind(i) {
		case history.Bound, history.Renumbered:
			grants++
		}
	}
	a.ivs = make([]interval, 0, grants)

	for seq, idx := range order {
		ev := events.Event(int(idx))
		e := &ev
		if e.At.After(a.end) {
			break
		}
		a.events += 1 + max(e.Renewals, 0) // a merged renewal is an event too
		if isProbe(e.Kind) {
			continue // the DNS and Leasequery checkers read these (dns.go, leasequery.go)
		}
		if isLab(e.Kind) {
			a.labEvent(e, int32(seq))
		} else {
			a.clientEvent(e, int32(seq))
		}
	}
	a.finish()

	r := &Report{
		Scenario:  lab.Scenario,
		Model:     lab.Model,
		Engine:    lab.Engine,
		Timescale: lab.Timescale,
		Profile:   lab.Profile,
		Started:   a.start,
		Ended:     a.end,
		Servers:   append([]ServerInfo{}, lab.Servers...),
		DurationS: seconds(a.end.Sub(a.start)),
		Events:    a.events,
		Clients:   a.ids.n,
		Expect:    []ExpectResult{},
	}
	if r.Timescale == 0 {
		r.Timescale = 1
	}
	r.Bound = a.boundAtEnd()
	a.failover(r)
	a.duplicates(r)
	a.conflictsReport(r)
	a.pd(r, lab, events)
	a.stateless(r, events, order)
	a.life(r, events)
	a.dropsReport(r)
	a.acquire(r, events, order)
	r.Load = a.load(r, events, order)
	if len(lab.Files) > 0 {
		a.serverState(r, lab, clientDUIDs(events))
	}
	hold := a.lazyHoldings()
	a.dns(r, events, order, hold, lab.Servers)
	a.leasequery(r, events, order, hold)
	r.Usage = lab.Usage
	a.gaps(r, events, lab)
	a.share(r, lab.Step)
	return r, a.samples()
}

// clientDUIDs maps each client index to its DUID (hex), from the first
// event of the client that names one.
func clientDUIDs(events history.Source) map[int]string {
	m := map[int]string{}
	for i := range events.Len() {
		ev := events.Event(i)
		e := &ev
		if e.Client >= 0 && e.DUID != "" {
			if _, ok := m[e.Client]; !ok {
				m[e.Client] = e.DUID
			}
		}
	}
	return m
}

// timeOrder returns the indices of events in stable time order.
func timeOrder(events history.Source) []int32 {
	order := make([]int32, events.Len())
	sorted := true
	var prev time.Time
	for i := range order {
		order[i] = int32(i)
		at := events.At(i)
		if i > 0 && at.Before(prev) {
			sorted = false
		}
		prev = at
	}
	if sorted {
		return order
	}
	// sort (time, index) keys: unstable sort on a total order is stable
	type key struct {
		t int64
		i int32
	}
	keys := make([]key, len(order))
	for i := range keys {
		keys[i] = key{events.At(i).UnixNano(), int32(i)}
	}
	slices.SortFunc(keys, func(x, y key) int {
		if x.t != y.t {
			return cmp.Compare(x.t, y.t)
		}
		return cmp.Compare(x.i, y.i)
	})
	for k := range keys {
		order[k] = keys[k].i
	}
	return order
}

func (a *analyzer) bounds(events history.Source, order []int32, lab Lab) {
	a.start, a.end = lab.Start, lab.End
	if len(order) == 0 {
		if a.end.Before(a.start) {
			a.end = a.start
		}
		return
	}
	first, last := events.At(int(order[0])), events.At(int(order[len(order)-1]))
	if a.start.IsZero() {
		a.start = first
		for _, i := range order {
			if events.Kind(int(i)) == history.RunStarted {
				a.start = events.At(int(i))
				break
			}
		}
	}
	if a.end.IsZero() {
		a.end = last
		for k := len(order) - 1; k >= 0; k-- {
			if events.Kind(int(order[k])) == history.RunEnded {
				a.end = events.At(int(order[k]))
				break
			}
		}
	}
	if a.end.Before(a.start) {
		a.end = a.start
	}
}

// timeOf is s as a time in the history's location, for the report.
func (a *analyzer) timeOf(s stamp) time.Time {
	if a.loc == nil {
		return s.time()
	}
	return s.time().In(a.loc)
}

func isLab(k history.Kind) bool {
	switch k {
	case history.ServerStarted, history.ServerKilled, history.ServerFrozen, history.ServerThawed,
		history.ServerRestarted, history.LinkCut, history.LinkHealed, history.LinkImpaired,
		history.RunStarted, history.RunEnded, history.ClientsJoined, history.ClientsLeft,
		history.LinkFlapped, history.AddressOccupied, history.ClientKind, history.ServerLoad:
		return true
	}
	return false
}

func isFault(k history.Kind) bool {
	return k == history.ServerKilled || k == history.ServerFrozen || k == history.LinkCut
}

func (a *analyzer) addServer(name string) int32 {
	if id, ok := a.byName[name]; ok {
		return id
	}
	id := int32(len(a.servers))
	a.servers = append(a.servers, server{name: name})
	a.byName[name] = id
	return id
}

// serverByDUID maps a client event's Server (a DUID in hex) to an id,
// creating a server named by its DUID when the lab does not know it.
func (a *analyzer) serverByDUID(raw string) int32 {
	if id, ok := a.rawDUID[raw]; ok {
		return id
	}
	n := NormalizeDUID(raw)
	id, ok := a.byDUID[n]
	if !ok {
		name := n
		if name == "" {
			name = "unknown"
		}
		id = a.addServer(name)
		a.byDUID[n] = id
	}
	a.rawDUID[raw] = id
	return id
}

// serverByName maps a lab event's Server (a name; a DUID is accepted too).
func (a *analyzer) serverByName(name string) int32 {
	if id, ok := a.byName[name]; ok {
		return id
	}
	if id, ok := a.byDUID[NormalizeDUID(name)]; ok {
		return id
	}
	return a.addServer(name)
}

func (a *analyzer) labEvent(e *history.Event, seq int32) {
	var targets []int32
	switch {
	case e.Server != "":
		targets = []int32{a.serverByName(e.Server)}
	case e.Kind == history.LinkCut || e.Kind == history.LinkHealed:
		for id := range a.servers {
			targets = append(targets, int32(id))
		}
	}
	for _, id := range targets {
		s := &a.servers[id]
		was := s.isDown()
		switch e.Kind {
		case history.ServerKilled:
			s.killed = true
		case history.ServerFrozen:
			s.frozen = true
		case history.LinkCut:
			s.cut = true
		case history.ServerStarted, history.ServerRestarted:
			s.killed, s.frozen = false, false
		case history.ServerThawed:
			s.frozen = false
		case history.LinkHealed:
			s.cut = false
		}
		now := s.isDown()
		switch {
		case !was && now:
			s.downSince = e.At
		case was && !now:
			s.down = append(s.down, window{from: s.downSince, to: e.At})
		}
	}
	if !isFault(e.Kind) || len(targets) == 0 {
		return
	}
	if !a.faultFound {
		a.faultFound, a.faultAt, a.faultSeq, a.faultKind = true, e.At, seq, e.Kind
	}
	if e.At.Equal(a.faultAt) {
		for _, id := range targets {
			a.faultServers[id] = true
		}
	}
}

func (a *analyzer) clientEvent(e *history.Event, seq int32) {
	if id := a.ids.get(e.Client); int(id) == len(a.openHead) {
		a.openHead = append(a.openHead, -1)
	}
	switch e.Kind {
	case history.Bound, history.Renewed, history.Rebound:
		if e.Lease.IsValid() {
			a.grant(e, seq, e.Lease)
		}
	case history.Renumbered:
		if e.Old.IsValid() && e.Old != e.Lease {
			if i, ok := a.openLease(e.Client, e.Old); ok {
				if e.Cause == history.CauseOldKept {
					// the client keeps Old: its interval goes on; the
					// event still is a rebind outcome for it
					if iv := &a.ivs[i]; a.faultFound && iv.movedSeq == noSeq {
						iv.movedAt, iv.movedSeq = stampOf(e.At), seq
					}
				} else {
					a.close(i, e.At, endRenumbered, "", seq)
				}
			}
		}
		if e.Lease.IsValid() {
			a.grant(e, seq, e.Lease)
		}
	case history.Refused:
		a.closeLease(e, seq, endRefused, e.Cause)
	case history.Expired:
		a.closeLease(e, seq, endExpired, "")
	case history.Released:
		a.closeLease(e, seq, endReleased, "")
	case history.Declined:
		if e.Cause == history.CauseDAD {
			a.addConflict(e, false)
		}
		a.closeLease(e, seq, endDeclined, e.Cause)
	case history.DADFailed:
		// a conflict the client kept: the address, caught while tentative,
		// is not usable (until a Restored whose DAD passes: drops.go); the
		// interval goes on. DAD failing again for it, after the client
		// added it again, is the same conflict.
		i, ok := a.openLease(e.Client, e.Lease)
		if !ok || !a.kept[i] {
			a.addConflict(e, true)
		}
		if ok {
			if a.kept == nil {
				a.kept = map[int32]bool{}
			}
			a.kept[i] = true
			if stampOf(e.At) < a.ivs[i].usable {
				a.ivs[i].usable = neverStamp
			}
			a.dadFailedAgain(i, stampOf(e.At))
		}
	case history.Dropped:
		a.dropped(e)
	case history.Restored:
		a.restored(e)
	case history.Confirmed:
		if e.Cause == history.CauseNotOnLink {
			a.closeLease(e, seq, endNotOnLink, history.CauseNotOnLink)
		}
	case history.NoBinding:
		// informational: the client keeps its lease (ends nothing)
		if a.faultFound {
			a.nobinding = append(a.nobinding, nobindingEv{client: e.Client, ia: e.IA})
		}
	}
}

// addConflict records a Declined event with Cause dad, before it closes
// the declined interval, or a DADFailed event (kept).
func (a *analyzer) addConflict(e *history.Event, kept bool) {
	c := conflict{client: e.Client, ia: e.IA, lease: e.Lease, at: e.At, iv: -1, srv: -1, kept: kept}
	if e.Peer != nil {
		p := *e.Peer
		c.peer = &p
	}
	if e.Lease.IsValid() {
		if i, ok := a.openLease(e.Client, e.Lease); ok {
			c.iv = i
			c.srv = a.serverAt(&a.ivs[i], e.At)
			if c.ia == "" {
				c.ia = a.str(a.ivs[i].ia)
			}
		}
	}
	if c.srv < 0 && e.Server != "" {
		c.srv = a.serverByDUID(e.Server)
	}
	if c.ia == "" {
		c.ia = history.IANA
	}
	a.conflicts = append(a.conflicts, c)
}

// grant opens or extends the interval of (client, lease). An event with
// merged renewals (history.Event.Renewals) is its grant and then theirs:
// they extend it from the same server on the same side of the fault, so
// they add no grant, and the lease expires Valid after the last of them
// (Extended).
func (a *analyzer) grant(e *history.Event, seq int32, lease netip.Prefix) {
	srv := a.serverByDUID(e.Server)
	expiry, at := noStamp, stampOf(e.At)
	if e.Valid > 0 {
		expiry = stampOf(e.At.Add(e.Valid))
		if e.Renewals > 0 && e.Extended.After(e.At) {
			expiry = stampOf(e.Extended.Add(e.Valid))
		}
	}
	if i, ok := a.openLease(e.Client, lease); ok {
		iv := &a.ivs[i]
		if iv.expiry == noStamp || iv.expiry > at {
			if last := a.grantAt(iv, a.nGrants(iv)-1); last.srv != srv || a.faultFound && last.seq < a.faultSeq {
				if iv.more == 0 {
					iv.more = int32(len(a.more))
					a.more = append(a.more, nil)
				}
				a.more[iv.more] = append(a.more[iv.more], grant{at: at, seq: seq, srv: srv})
			}
			iv.expiry = expiry
			return
		}
		a.close(i, e.At, endLifetime, "", seq) // ran out before this grant
	}
	i := int32(len(a.ivs))
	a.ivs = append(a.ivs, interval{
		client:   e.Client,
		ia:       a.name(e.IA),
		lease:    packPrefix(lease),
		first:    grant{at: at, seq: seq, srv: srv},
		end:      noStamp,
		usable:   stampOf(e.At.Add(max(e.Tentative, 0))),
		expiry:   expiry,
		endSeq:   noSeq,
		movedSeq: noSeq,
		movedAt:  noStamp,
		nextOpen: -1,
	})
	// at the list's tail: the client's open intervals in the order they
	// opened
	next := &a.openHead[a.ids.get(e.Client)]
	for *next >= 0 {
		next = &a.ivs[*next].nextOpen
	}
	*next = i
}

// closeLease ends the event's lease, or every open lease of the client (of
// the event's IA type, if given) when the event names no lease.
func (a *analyzer) closeLease(e *history.Event, seq int32, why endReason, cause string) {
	if e.Lease.IsValid() {
		if i, ok := a.openLease(e.Client, e.Lease); ok {
			a.close(i, e.At, why, cause, seq)
		}
		return
	}
	for i := a.openHead[a.ids.get(e.Client)]; i >= 0; {
		next := a.ivs[i].nextOpen // close unlinks i
		if e.IA == "" || a.str(a.ivs[i].ia) == e.IA {
			a.close(i, e.At, why, cause, seq)
		}
		i = next
	}
}

// close ends interval i at t, or at its expiry if that came first.
func (a *analyzer) close(i int32, t time.Time, why endReason, cause string, seq int32) {
	iv := &a.ivs[i]
	if iv.expiry != noStamp && iv.expiry <= stampOf(t) {
		iv.end, iv.endSeq = iv.expiry, noSeq
		if why != endExpired {
			why, cause = endLifetime, ""
		}
	} else {
		iv.end, iv.endSeq = stampOf(t), seq
	}
	iv.reason, iv.cause = why, a.name(cause)
	for next := &a.openHead[a.ids.get(iv.client)]; *next >= 0; next = &a.ivs[*next].nextOpen {
		if *next == i {
			*next, iv.nextOpen = iv.nextOpen, -1
			break
		}
	}
}

// finish ends the intervals still open: at their expiry if it came by End,
// else at End (still bound).
func (a *analyzer) finish() {
	for _, head := range a.openHead {
		for i := head; i >= 0; i = a.ivs[i].nextOpen {
			iv := &a.ivs[i]
			if end := stampOf(a.end); iv.expiry != noStamp && iv.expiry <= end {
				iv.end, iv.reason = iv.expiry, endLifetime
			} else {
				iv.end, iv.reason = end, endOpen
			}
			iv.endSeq = noSeq
		}
	}
	a.openHead = nil
	for id := range a.servers {
		s := &a.servers[id]
		if s.isDown() {
			s.down = append(s.down, window{from: s.downSince})
		}
	}
}

func (a *analyzer) boundAtEnd() int {
	seen := map[int]struct{}{}
	for i := range a.ivs {
		if a.ivs[i].reason == endOpen {
			seen[a.ivs[i].client] = struct{}{}
		}
	}
	return len(seen)
}

// upFrom returns the first instant in [from, to) at which server id is up.
func (a *analyzer) upFrom(id int32, from, to time.Time) (time.Time, bool) {
	t := from
	for _, w := range a.servers[id].down {
		if !w.to.IsZero() && !w.to.After(t) {
			continue
		}
		if w.from.After(t) {
			break
		}
		if w.to.IsZero() {
			return time.Time{}, false
		}
		t = w.to
	}
	return t, t.Before(to)
}

func (a *analyzer) upAt(id int32, t time.Time) bool {
	_, ok := a.upFrom(id, t, t.Add(1))
	return ok
}

// clientIDs numbers clients densely in the order they are first seen:
// through a slice for the usual small non-negative indices, a map otherwise.
type clientIDs struct {
	dense  []int32 // client -> id+1, 0 when unseen
	sparse map[int]int32
	n      int
}

const denseClients = 1 << 24

// openLease is the open interval of client's lease, if any.
func (a *analyzer) openLease(client int, lease netip.Prefix) (int32, bool) {
	id, ok := a.ids.lookup(client)
	if !ok || int(id) >= len(a.openHead) {
		return 0, false
	}
	pl := packPrefix(lease)
	for i := a.openHead[id]; i >= 0; i = a.ivs[i].nextOpen {
		if a.ivs[i].lease == pl {
			return i, true
		}
	}
	return 0, false
}

// lookup is client's id, if it has one.
func (c *clientIDs) lookup(client int) (int32, bool) {
	if client >= 0 && client < denseClients {
		if client < len(c.dense) && c.dense[client] != 0 {
			return c.dense[client] - 1, true
		}
		return 0, false
	}
	v, ok := c.sparse[client]
	return v, ok
}

func (c *clientIDs) get(client int) int32 {
	if client >= 0 && client < denseClients {
		if client >= len(c.dense) {
			c.dense = append(c.dense, make([]int32, client+1-len(c.dense))...)
			c.dense = c.dense[:cap(c.dense)]
		}
		if v := c.dense[client]; v != 0 {
			return v - 1
		}
		c.dense[client] = int32(c.n) + 1
	} else {
		if v, ok := c.sparse[client]; ok {
			return v
		}
		c.sparse[client] = int32(c.n)
	}
	c.n++
	return int32(c.n - 1)
}

// clientID is the id of a client that has an interval.
func (a *analyzer) clientID(client int) int32 {
	id, _ := a.ids.lookup(client)
	return id
}

// clientIntervals indexes the intervals by client: of(id) is the client's,
// in the order of a.ivs. Two arrays, where a slice per client took a
// million allocations in a million-client day.
type clientIntervals struct {
	start []int32 // per client id, where its intervals begin in ix; one more at the end
	ix    []int32
}

func (x *clientIntervals) of(id int32) []int32 { return x.ix[x.start[id]:x.start[id+1]] }

// intervalsOf returns client's intervals, in the order of a.ivs (none for
// a client with none).
func (a *analyzer) intervalsOf(client int) []int32 {
	id, ok := a.ids.lookup(client)
	if !ok {
		return nil
	}
	return a.intervalsByClient().of(id)
}

// intervalsByClient indexes a.ivs by client (a counting sort: stable),
// once the intervals are all there: built at the first call, again only
// if intervals were added since.
func (a *analyzer) intervalsByClient() *clientIntervals {
	if x := a.byClient; x != nil && len(x.ix) == len(a.ivs) && len(x.start) == a.ids.n+1 {
		return x
	}
	x := &clientIntervals{start: make([]int32, a.ids.n+1), ix: make([]int32, len(a.ivs))}
	for i := range a.ivs {
		x.start[a.clientID(a.ivs[i].client)+1]++
	}
	for id := range a.ids.n {
		x.start[id+1] += x.start[id]
	}
	next := slices.Clone(x.start[:a.ids.n])
	for i := range a.ivs {
		id := a.clientID(a.ivs[i].client)
		x.ix[next[id]] = int32(i)
		next[id]++
	}
	a.byClient = x
	return x
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// load is loadReport (load.go) for any Source. loadReport reads a slice:
// a slice Source is handed over as it is; from any other (a history.Log,
// far too large to copy) it gets the events it reads, in time order: every
// ServerLoad event and the last Bound before the end of its steady window
// (the fault, or the end), which sets that window's start.
func (a *analyzer) load(r *Report, events history.Source, order []int32) *Load {
	if s, ok := events.(history.Events); ok {
		return loadReport(r, s, order)
	}
	to := r.Ended
	if r.Fault != nil {
		to = r.Fault.At
	}
	var picked []history.Event
	var bound history.Event
	at := -1 // where the last Bound before to goes in picked
	for _, idx := range order {
		switch k := events.Kind(int(idx)); {
		case k == history.ServerLoad:
			picked = append(picked, events.Event(int(idx)))
		case k == history.Bound && events.At(int(idx)).Before(to):
			bound, at = events.Event(int(idx)), len(picked)
		}
	}
	if at >= 0 {
		picked = slices.Insert(picked, at, bound)
	}
	seq := make([]int32, len(picked))
	for i := range seq {
		seq[i] = int32(i)
	}
	return loadReport(r, picked, seq)
}
