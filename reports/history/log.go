package history

import (
	"net/netip"
	"runtime"
	"time"
	"unsafe"
)

// Source is a history read by position: a plain slice (Events) or a
// compact Log. Event(i) returns the i-th event, 0 <= i < Len(); Kind(i)
// and At(i) are its Kind and At, cheap on a Log, where Event builds the
// whole event: a pass that wants a few kinds reads Kind first.
type Source interface {
	Len() int
	Event(i int) Event
	Kind(i int) Kind
	At(i int) time.Time
}

// Events is a slice of events as a Source.
type Events []Event

// Len is the number of events.
func (s Events) Len() int { return len(s) }

// Event returns s[i].
func (s Events) Event(i int) Event { return s[i] }

// Kind returns s[i].Kind.
func (s Events) Kind(i int) Kind { return s[i].Kind }

// At returns s[i].At.
func (s Events) At(i int) time.Time { return s[i].At }

// Log is a history kept compact in memory, for runs too large to hold as
// []Event (280 bytes an event): each event is a fixed 56-byte record
// whose strings (DUIDs, server names and DUIDs, kinds, causes, details)
// and lifetimes are interned, with time as nanoseconds. Event(i) gives
// back exactly the event appended (== for every field, Peer the same
// pointer); an event the record cannot hold (another time zone than the
// log's first event, a monotonic clock reading, an index beyond 32 bits,
// more distinct strings than a field counts) is kept whole beside it.
// Records live in chunks, so the log never copies itself to grow, and
// outside the Go heap where the system allows (chunk_unix.go).
//
// The zero Log is empty and ready. A Log is not safe for concurrent use.
type Log struct {
	chunks [][]record
	n      int

	loc    *time.Location // the location of every compact event's At
	locSet bool

	kinds   strings16
	ias     strings16
	servers strings16
	causes  strings16
	duids   strings32
	details strings32
	// duidOf[c] is client c's DUID's index in duids as last appended
	// (0: none yet; duidIndex).
	duidOf []uint32

	lives  []lifetimes
	lifeIx map[lifetimes]uint32

	extras pages[extra]    // Tentative, Old and Peer; extras[0] unused
	tents  []time.Duration // Tentative of events with no other extra (fTentative); tents[0] unused
	odd    []Event         // the events kept whole
	maps   *mappings       // the chunks' memory, where it is mapped (chunk_unix.go)

	// exts: the Renewals and Extended of compact records (merge.go), in
	// chunks beside the records' chunks; nil for a chunk none has.
	exts [][]extension
	// merge: AppendMerging's state (merge.go).
	merge merging
}

// chunkBits sets the chunk size: 1<<16 records, 3.5 MiB.
const chunkBits = 16

type record struct {
	at     int64
	lease  [16]byte
	client int32
	iaid   uint32
	duid   uint32
	detail uint32
	life   uint32 // index in lives
	extra  uint32 // index in extras (in tents with fTentative, in odd with fOdd); 0 none
	server uint16
	cause  uint16
	kind   uint8
	ia     uint8
	bits   uint8 // the lease's prefix length
	flags  uint8
}

// record flags
const (
	fLease     = 1 << iota // Lease is valid
	fLease4                // Lease is an IPv4 prefix
	fOdd                   // the whole event is odd[extra]
	fTentative             // extra indexes tents, not extras
)

type lifetimes struct {
	t1, t2, preferred, valid time.Duration
}

// extra holds what few events have: Tentative (a new address in DAD,
// drawn per event, so not interned with the lifetimes), Old, Peer. An
// event with a Tentative and neither of the others (a binding with DAD
// on, one a client at least) keeps it in tents instead: 8 bytes, not 48.
type extra struct {
	tentative time.Duration
	old       netip.Prefix
	peer      *int
}

// Len is the number of events appended.
func (l *Log) Len() int { return l.n }

// Append adds e at the end.
func (l *Log) Append(e Event) {
	r, ok := l.compact(&e)
	if !ok {
		r = record{flags: fOdd, extra: uint32(len(l.odd))}
		l.odd = append(l.odd, e)
	}
	if l.n>>chunkBits == len(l.chunks) {
		l.chunks = append(l.chunks, l.newChunk())
	}
	c := &l.chunks[l.n>>chunkBits]
	*c = append(*c, r)
	l.n++
}

// compact makes e's record, or returns false when e does not fit one.
func (l *Log) compact(e *Event) (record, bool) {
	var r record
	if !l.locSet {
		l.loc, l.locSet = e.At.Location(), true
	}
	if e.At.Location() != l.loc || e.At != time.Unix(0, e.At.UnixNano()).In(l.loc) {
		return r, false // another zone, a monotonic reading, or out of int64 nanoseconds
	}
	if int(int32(e.Client)) != e.Client || e.Renewals != 0 || !e.Extended.IsZero() {
		return r, false // (a merged event is appended whole: merge.go extends records)
	}
	r.at, r.client, r.iaid = e.At.UnixNano(), int32(e.Client), e.IAID
	if e.Lease != (netip.Prefix{}) {
		if !e.Lease.IsValid() {
			return r, false
		}
		r.lease, r.bits, r.flags = e.Lease.Addr().As16(), uint8(e.Lease.Bits()), fLease
		if e.Lease.Addr().Is4() {
			r.flags |= fLease4
		}
	}
	var ok [6]bool
	r.kind, ok[0] = l.kinds.index8(string(e.Kind))
	r.ia, ok[1] = l.ias.index8(e.IA)
	r.server, ok[2] = l.servers.index(e.Server)
	r.cause, ok[3] = l.causes.index(e.Cause)
	r.duid, ok[4] = l.duidIndex(e.Client, e.DUID)
	r.detail, ok[5] = l.details.index(e.Detail)
	for _, b := range ok {
		if !b {
			return r, false
		}
	}
	lt := lifetimes{e.T1, e.T2, e.Preferred, e.Valid}
	if lt != (lifetimes{}) {
		i, found := l.lifeIx[lt]
		if !found {
			if l.lifeIx == nil {
				l.lifeIx = map[lifetimes]uint32{}
				l.lives = append(l.lives, lifetimes{}) // index 0: all zero
			}
			if len(l.lives) > 1<<32-1 {
				return r, false
			}
			i = uint32(len(l.lives))
			l.lives = append(l.lives, lt)
			l.lifeIx[lt] = i
		}
		r.life = i
	}
	if e.Old == (netip.Prefix{}) && e.Peer == nil && e.Tentative != 0 {
		if len(l.tents) >= 1<<32-1 {
			return r, false
		}
		if len(l.tents) == 0 {
			l.tents = append(l.tents, 0) // index 0: none
		}
		l.tents = append(l.tents, e.Tentative)
		r.extra, r.flags = uint32(len(l.tents)-1), r.flags|fTentative
	} else if e.Old != (netip.Prefix{}) || e.Peer != nil || e.Tentative != 0 {
		if e.Old != (netip.Prefix{}) && !e.Old.IsValid() {
			return r, false
		}
		if l.extras.len() >= 1<<32-1 {
			return r, false
		}
		r.extra = l.addExtra(extra{tentative: e.Tentative, old: e.Old, peer: e.Peer})
	}
	return r, true
}

func (l *Log) addExtra(x extra) uint32 {
	if l.extras.len() == 0 {
		l.extras.add(extra{}) // index 0: none
	}
	return uint32(l.extras.add(x))
}

// Event returns the i-th event appended (0 <= i < Len).
func (l *Log) Event(i int) Event {
	r := &l.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
	if r.flags&fOdd != 0 {
		return l.odd[r.extra]
	}
	e := Event{
		At:     time.Unix(0, r.at).In(l.loc),
		Kind:   Kind(l.kinds.get(uint16(r.kind))),
		Client: int(r.client),
		DUID:   l.duids.get(r.duid),
		Server: l.servers.get(r.server),
		IA:     l.ias.get(uint16(r.ia)),
		IAID:   r.iaid,
		Cause:  l.causes.get(r.cause),
		Detail: l.details.get(r.detail),
	}
	if r.flags&fLease != 0 {
		a := netip.AddrFrom16(r.lease)
		if r.flags&fLease4 != 0 {
			a = a.Unmap()
		}
		e.Lease = netip.PrefixFrom(a, int(r.bits))
	}
	if r.life != 0 {
		lt := l.lives[r.life]
		e.T1, e.T2, e.Preferred, e.Valid = lt.t1, lt.t2, lt.preferred, lt.valid
	}
	if r.flags&fTentative != 0 {
		e.Tentative = l.tents[r.extra]
	} else if r.extra != 0 {
		x := l.extras.at(int(r.extra))
		e.Tentative, e.Old, e.Peer = x.tentative, x.old, x.peer
	}
	if c := l.exts; i>>chunkBits < len(c) && c[i>>chunkBits] != nil {
		if x := c[i>>chunkBits][i&(1<<chunkBits-1)]; x.renewals != 0 {
			e.Renewals, e.Extended = int(x.renewals), time.Unix(0, x.at).In(l.loc)
		}
	}
	runtime.KeepAlive(l) // r may point into l's mapped memory
	return e
}

// Kind returns Event(i).Kind.
func (l *Log) Kind(i int) Kind {
	r := &l.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
	if r.flags&fOdd != 0 {
		return l.odd[r.extra].Kind
	}
	k := Kind(l.kinds.get(uint16(r.kind)))
	runtime.KeepAlive(l)
	return k
}

// At returns Event(i).At.
func (l *Log) At(i int) time.Time {
	r := &l.chunks[i>>chunkBits][i&(1<<chunkBits-1)]
	if r.flags&fOdd != 0 {
		return l.odd[r.extra].At
	}
	t := time.Unix(0, r.at).In(l.loc)
	runtime.KeepAlive(l)
	return t
}

// Slice returns every event as a []Event (for small histories and tests).
func (l *Log) Slice() []Event {
	out := make([]Event, l.n)
	for i := range out {
		out[i] = l.Event(i)
	}
	return out
}

// RecordSize is the size in bytes of one event's record in a Log.
const RecordSize = int(unsafe.Sizeof(record{}))

// strings16 and strings32 intern strings; index 0 is always "".
type strings16 struct{ interned[uint16] }
type strings32 struct{ interned[uint32] }

type interned[T uint16 | uint32] struct {
	s  []string
	ix map[string]T
}

// duidIndex is l.duids.index(duid) for an event of client: where the
// client's last event left it, or a new entry for the client (no lookup
// in the table's map: a million clients' DUIDs are a million entries, and
// a client's events carry the same DUID). Two clients with one DUID, or a
// client whose DUID changes, get entries of their own; Event gives the
// same strings.
func (l *Log) duidIndex(client int, duid string) (uint32, bool) {
	if client < 0 || client >= mergeClients || duid == "" {
		return l.duids.index(duid)
	}
	if client < len(l.duidOf) {
		if i := l.duidOf[client]; i != 0 && l.duids.s[i] == duid {
			return i, true
		}
	}
	i, ok := l.duids.add(duid)
	if !ok {
		return 0, false
	}
	if client >= len(l.duidOf) {
		l.duidOf = append(l.duidOf, make([]uint32, client+1-len(l.duidOf))...)
		l.duidOf = l.duidOf[:cap(l.duidOf)]
	}
	l.duidOf[client] = i
	return i, true
}

// get returns the string at index i (0: "").
func (t *interned[T]) get(i T) string {
	if i == 0 {
		return ""
	}
	return t.s[i]
}

// index returns s's index, adding it; false when the table is full.
func (t *interned[T]) index(s string) (T, bool) {
	if s == "" {
		return 0, true
	}
	if i, ok := t.ix[s]; ok {
		return i, true
	}
	if t.ix == nil {
		t.ix = map[string]T{}
	}
	i, ok := t.add(s)
	if ok {
		t.ix[s] = i
	}
	return i, ok
}

// add appends s to the table without looking it up (nor listing it for
// index), and returns its index; false when the table is full.
func (t *interned[T]) add(s string) (T, bool) {
	if len(t.s) == 0 {
		t.s = append(t.s, "") // index 0: ""
	}
	i := T(len(t.s))
	if int(i) != len(t.s) {
		return 0, false // the table is full
	}
	t.s = append(t.s, s)
	return i, true
}

// index8 is index for a table of at most 255 strings.
func (t *interned[T]) index8(s string) (uint8, bool) {
	if i, ok := t.ix[s]; ok || s == "" {
		return uint8(i), true
	}
	if len(t.s) > 255 {
		return 0, false
	}
	i, ok := t.index(s)
	return uint8(i), ok
}
