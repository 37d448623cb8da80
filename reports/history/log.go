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
// []Event (280 bytes an event): each event is a fixed 48-byte record
// whose strings (server names and DUIDs, kinds, causes) and lifetimes are
// interned, with time as nanoseconds; a client event's DUID is the
// client's first (kept once per client) unless it says otherwise, and
// what few events have (a Tentative, an Old, a Peer, a Detail, another
// DUID) is kept beside the record. Event(i) gives
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
	// duidOf[c] is the index in duids of client c's first DUID (0: none
	// yet): the DUID of each of its records without fNoDUID or fXDUID.
	duidOf []uint32

	lives  []lifetimes
	lifeIx map[lifetimes]uint32

	extras pages[extra]    // Tentative, Old, Peer, Detail, another DUID; extras[0] unused
	peers  []*int          // extras' Peers; peers[0] unused (nil)
	tents  []time.Duration // Tentative of events with no other extra (fTentative); tents[0] unused
	odd    []Event         // the events kept whole
	maps   *mappings       // the chunks' memory, where it is mapped (chunk_unix.go)

	// extAt, extN: the Extended (nanoseconds) and Renewals of compact
	// records (merge.go), in chunks beside the records' chunks; nil for a
	// chunk none has.
	extAt [][]int64
	extN  [][]uint32
	// merge: AppendMerging's state (merge.go).
	merge merging
}

// chunkBits sets the chunk size: 1<<16 records, 3 MiB.
const chunkBits = 16

type record struct {
	at     int64
	lease  [16]byte
	client int32
	iaid   uint32
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
	fNoDUID                // the DUID is ""
	fXDUID                 // the DUID is extras[extra].duid, not the client's first
)

type lifetimes struct {
	t1, t2, preferred, valid time.Duration
}

// extra holds what few events have: Tentative (a new address in DAD,
// drawn per event, so not interned with the lifetimes), Old, Peer (an
// index in peers), Detail (in details), a DUID other than the client's
// first (in duids). It holds no pointer: a million of them are nothing
// for the collector to scan. An event with a Tentative and none of the
// others (a binding with DAD on, one a client at least) keeps it in
// tents instead: 8 bytes, not 40.
type extra struct {
	tentative time.Duration
	old       [16]byte
	oldBits   uint8
	oldFlags  uint8 // fLease: Old is valid; fLease4: an IPv4 prefix
	peer      uint32
	duid      uint32
	detail    uint32
}

// Len is the number of events appended.
func (l *Log) Len() int { return l.n }

// Append adds e at the end. An event that merged renewals (Renewals,
// Extended: AppendMerging's, or one read back from a history file) keeps
// a record too, its renewals beside it as merged ones are.
func (l *Log) Append(e Event) {
	if e.Renewals != 0 || !e.Extended.IsZero() {
		g := e
		g.Renewals, g.Extended = 0, time.Time{}
		if r, ok := l.compact(&g); ok && l.extendable(e.Renewals, e.Extended) {
			l.push(r)
			l.extend(l.n-1, e.Renewals, e.Extended)
			return
		}
		l.push(record{flags: fOdd, extra: uint32(len(l.odd))})
		l.odd = append(l.odd, e)
		return
	}
	r, ok := l.compact(&e)
	if !ok {
		r = record{flags: fOdd, extra: uint32(len(l.odd))}
		l.odd = append(l.odd, e)
	}
	l.push(r)
}

// push adds record r at the end.
func (l *Log) push(r record) {
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
	var duid, detail uint32
	var own bool
	r.kind, ok[0] = l.kinds.index8(string(e.Kind))
	r.ia, ok[1] = l.ias.index8(e.IA)
	r.server, ok[2] = l.servers.index(e.Server)
	r.cause, ok[3] = l.causes.index(e.Cause)
	duid, own, ok[4] = l.duidIndex(e.Client, e.DUID)
	detail, ok[5] = l.details.index(e.Detail)
	for _, b := range ok {
		if !b {
			return r, false
		}
	}
	switch {
	case e.DUID == "":
		r.flags |= fNoDUID
	case !own:
		r.flags |= fXDUID
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
	if e.Old == (netip.Prefix{}) && e.Peer == nil && r.flags&fXDUID == 0 && detail == 0 && e.Tentative != 0 {
		if len(l.tents) >= 1<<32-1 {
			return r, false
		}
		if len(l.tents) == 0 {
			l.tents = append(l.tents, 0) // index 0: none
		}
		l.tents = append(l.tents, e.Tentative)
		r.extra, r.flags = uint32(len(l.tents)-1), r.flags|fTentative
	} else if e.Old != (netip.Prefix{}) || e.Peer != nil || r.flags&fXDUID != 0 || detail != 0 || e.Tentative != 0 {
		x := extra{tentative: e.Tentative, detail: detail}
		if r.flags&fXDUID != 0 {
			x.duid = duid
		}
		if e.Old != (netip.Prefix{}) {
			if !e.Old.IsValid() {
				return r, false
			}
			x.old, x.oldBits, x.oldFlags = e.Old.Addr().As16(), uint8(e.Old.Bits()), fLease
			if e.Old.Addr().Is4() {
				x.oldFlags |= fLease4
			}
		}
		if l.extras.len() >= 1<<32-1 || len(l.peers) >= 1<<32-1 {
			return r, false
		}
		if e.Peer != nil {
			if len(l.peers) == 0 {
				l.peers = append(l.peers, nil) // index 0: none
			}
			x.peer = uint32(len(l.peers))
			l.peers = append(l.peers, e.Peer)
		}
		r.extra = l.addExtra(x)
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
		Server: l.servers.get(r.server),
		IA:     l.ias.get(uint16(r.ia)),
		IAID:   r.iaid,
		Cause:  l.causes.get(r.cause),
	}
	if r.flags&fLease != 0 {
		e.Lease = prefixOf(r.lease, r.bits, r.flags)
	}
	if r.life != 0 {
		lt := l.lives[r.life]
		e.T1, e.T2, e.Preferred, e.Valid = lt.t1, lt.t2, lt.preferred, lt.valid
	}
	if r.flags&(fNoDUID|fXDUID) == 0 {
		e.DUID = l.duids.get(l.duidOf[r.client])
	}
	if r.flags&fTentative != 0 {
		e.Tentative = l.tents[r.extra]
	} else if r.extra != 0 {
		x := l.extras.at(int(r.extra))
		e.Tentative, e.Detail = x.tentative, l.details.get(x.detail)
		if r.flags&fXDUID != 0 {
			e.DUID = l.duids.get(x.duid)
		}
		if x.oldFlags&fLease != 0 {
			e.Old = prefixOf(x.old, x.oldBits, x.oldFlags)
		}
		if x.peer != 0 {
			e.Peer = l.peers[x.peer]
		}
	}
	if k := i >> chunkBits; k < len(l.extN) && l.extN[k] != nil {
		if n := l.extN[k][i&(1<<chunkBits-1)]; n != 0 {
			e.Renewals, e.Extended = int(n), time.Unix(0, l.extAt[k][i&(1<<chunkBits-1)]).In(l.loc)
		}
	}
	runtime.KeepAlive(l) // r may point into l's mapped memory
	return e
}

// prefixOf is the prefix a record keeps as 16 bytes, a length and flags
// (fLease4: an IPv4 prefix).
func prefixOf(a16 [16]byte, bits, flags uint8) netip.Prefix {
	a := netip.AddrFrom16(a16)
	if flags&fLease4 != 0 {
		a = a.Unmap()
	}
	return netip.PrefixFrom(a, int(bits))
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

// duidIndex is duid's index in duids for an event of client, and whether
// it is the client's first DUID (the record then keeps none: duidOf). A
// client's events carry the same DUID, so its first is found without a
// lookup in the table's map (a million clients' DUIDs are a million
// entries); a client's first DUID is added without one. A client whose
// DUID changes, one beyond mergeClients or a lab event's DUID is looked
// up in the map. Event gives the same strings.
func (l *Log) duidIndex(client int, duid string) (uint32, bool, bool) {
	if client < 0 || client >= mergeClients || duid == "" {
		i, ok := l.duids.index(duid)
		return i, false, ok
	}
	if client < len(l.duidOf) {
		if i := l.duidOf[client]; i != 0 {
			if l.duids.s[i] == duid {
				return i, true, true
			}
			i, ok := l.duids.index(duid)
			return i, false, ok
		}
	}
	i, ok := l.duids.add(duid)
	if !ok {
		return 0, false, false
	}
	if client >= len(l.duidOf) {
		l.duidOf = append(l.duidOf, make([]uint32, client+1-len(l.duidOf))...)
		l.duidOf = l.duidOf[:cap(l.duidOf)]
	}
	l.duidOf[client] = i
	return i, true, true
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
