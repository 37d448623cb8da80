package history

import (
	"net/netip"
	"testing"
	"time"
)

// A merged grant appended whole (read back from a history file) takes a
// record, its renewals beside it as AppendMerging's do, not a place
// among the events kept whole; one whose Extended the log cannot hold
// is kept whole.
func TestAppendMergedKeepsRecord(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	merged := Event{At: t0, Kind: Bound, Client: 3, DUID: "0003000103", IA: IANA, IAID: 1,
		Lease: netip.MustParsePrefix("2001:db8::3/128"), Valid: time.Hour, Renewals: 47, Extended: t0.Add(47 * 30 * time.Minute)}
	var l Log
	l.Append(merged)
	odd := merged
	odd.Extended = odd.Extended.In(time.FixedZone("z", 3600))
	l.Append(odd)
	if r := l.chunks[0][0]; r.flags&fOdd != 0 || len(l.odd) != 1 || l.chunks[0][1].flags&fOdd == 0 {
		t.Fatalf("flags %b and %b, %d kept whole; want a record, then one kept whole", r.flags, l.chunks[0][1].flags, len(l.odd))
	}
	if l.Event(0) != merged || l.Event(1) != odd {
		t.Fatalf("got %+v and %+v", l.Event(0), l.Event(1))
	}
}
