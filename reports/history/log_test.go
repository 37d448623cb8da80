package history_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
)

var _ = Describe("Log", func() {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	peer := 3
	renewal := history.Event{At: t0.Add(30 * time.Minute), Kind: history.Renewed, Client: 7, DUID: "00030001020000000007",
		Server: "0001000100000001aa", IA: history.IANA, IAID: 1, Lease: netip.MustParsePrefix("2001:db8::17/128"),
		T1: 30 * time.Minute, T2: 48 * time.Minute, Preferred: time.Hour, Valid: 2 * time.Hour}
	events := []history.Event{
		{At: t0, Kind: history.RunStarted, Client: -1, Detail: "split-24h"},
		{At: t0, Kind: history.ServerStarted, Client: -1, Server: "s1"},
		renewal,
		{At: t0.Add(time.Second), Kind: history.Bound, Client: 8, DUID: "0003000102", Server: "0001000100000001aa", IA: history.IANA, IAID: 1,
			Lease: netip.MustParsePrefix("2001:db8::18/128"), T1: 30 * time.Minute, Valid: 2 * time.Hour, Tentative: 1100 * time.Millisecond},
		{At: t0.Add(2 * time.Second), Kind: history.Renumbered, Client: 9, IA: history.IAPD, IAID: 2,
			Lease: netip.MustParsePrefix("2001:db8:100::/56"), Old: netip.MustParsePrefix("2001:db8:200::/56"), Valid: time.Hour, Cause: history.CauseOldKept},
		{At: t0.Add(2 * time.Second), Kind: history.Renumbered, Client: 9, IA: history.IANA, IAID: 1, Lease: netip.MustParsePrefix("2001:db8::1b/128"),
			Old: netip.MustParsePrefix("2001:db8::18/128"), Valid: time.Hour, Tentative: 1900 * time.Millisecond}, // a Tentative beside an Old
		{At: t0.Add(3 * time.Second), Kind: history.Declined, Client: 10, Cause: history.CauseDAD, Peer: &peer, Lease: netip.MustParsePrefix("2001:db8::19/128")},
		{At: t0.Add(4 * time.Second), Kind: history.ServerLoad, Client: -1, Server: "s1", Detail: "123"},
		{At: t0.Add(5 * time.Second), Kind: "a kind of its own", Client: 11, Lease: netip.MustParsePrefix("10.0.0.0/8")},
		{At: t0.Add(5*time.Second + 1), Kind: history.Refused, Client: 1 << 40, Cause: history.CauseNoBinding},                           // index beyond 32 bits
		{At: t0.Add(6 * time.Second).In(time.FixedZone("x", 3600)), Kind: history.Expired, Client: 12},                                   // another zone
		{At: time.Now(), Kind: history.Released, Client: 13},                                                                             // a monotonic reading
		{At: t0.Add(7 * time.Second), Kind: history.Bound, Client: 14, Lease: netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 200)}, // an invalid prefix
		{At: t0.Add(8 * time.Second), Kind: history.Renumbered, Client: 15, Lease: netip.MustParsePrefix("2001:db8::1a/128"),
			Old: netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 129)}, // an invalid Old
		{At: t0.Add(9 * time.Second), Kind: history.Bound, Client: 16, Lease: netip.PrefixFrom(netip.MustParseAddr("2001:db8::1:2"), 64)},   // host bits kept
		{At: t0.Add(10 * time.Second), Kind: history.Renewed, Client: 7, DUID: "00030001020000000099", IAID: 1},                             // client 7's DUID changes
		{At: t0.Add(11 * time.Second), Kind: history.Renewed, Client: 7, DUID: "00030001020000000007", IAID: 1, Detail: "back"},             // and back, with a Detail
		{At: t0.Add(12 * time.Second), Kind: history.Expired, Client: 7, IAID: 1},                                                           // and none
		{At: t0.Add(13 * time.Second), Kind: history.Bound, Client: 17, Tentative: time.Second, Detail: "tentative and detail"},             // no first DUID yet
		{At: t0.Add(14 * time.Second), Kind: history.Bound, Client: 17, DUID: "0003000117", Tentative: time.Second},                         // its first, after
		{At: t0.Add(15 * time.Second), Kind: history.Renumbered, Client: -1, DUID: "00030001ff", Old: netip.MustParsePrefix("10.0.0.1/32")}, // a lab event's DUID, an IPv4 Old
		{At: t0.Add(16 * time.Second), Kind: history.Bound, Client: 18, DUID: "0003000118", IA: history.IANA, IAID: 1,
			Lease: netip.MustParsePrefix("2001:db8::20/128"), Valid: time.Hour, Renewals: 5, Extended: t0.Add(3 * time.Hour)}, // a merged grant, read back
		{At: t0.Add(17 * time.Second), Kind: history.Bound, Client: 19, Renewals: 2, Extended: t0.Add(time.Hour).In(time.FixedZone("y", 7200))}, // Extended in another zone
		{At: t0.Add(18 * time.Second), Kind: history.Bound, Client: 19, Renewals: -1},                                                           // a count no log makes
		{},
	}

	It("gives back exactly the events appended, odd ones included", func() {
		var l history.Log
		for _, e := range events {
			l.Append(e)
		}
		Expect(l.Len()).To(Equal(len(events)))
		for i, e := range events {
			got := l.Event(i)
			Expect(got == e || got.Peer == e.Peer && eqNoPeer(got, e)).To(BeTrue(), "event %d: %+v, want %+v", i, got, e)
			Expect(got.Peer).To(BeIdenticalTo(e.Peer))
		}
		Expect(l.Slice()).To(Equal(events))
		for i, e := range events {
			Expect(l.Kind(i)).To(Equal(e.Kind))
			Expect(l.At(i)).To(Equal(e.At))
		}
	})

	It("reads a history file into the same events as a slice, merged grants kept as records", func() {
		var file []history.Event // those JSON gives back: no invalid prefix
		for _, e := range events {
			if (e.Lease.IsValid() || e.Lease == netip.Prefix{}) && (e.Old.IsValid() || e.Old == netip.Prefix{}) {
				file = append(file, e)
			}
		}
		var buf bytes.Buffer
		Expect(history.WriteJSONL(&buf, file)).To(Succeed())
		want, err := history.ReadJSONL(bytes.NewReader(buf.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		l, err := history.ReadJSONLLog(bytes.NewReader(buf.Bytes()))
		Expect(err).NotTo(HaveOccurred())
		Expect(l.Slice()).To(Equal(want))
		_, err = history.ReadJSONLLog(strings.NewReader(buf.String() + "{not json\n"))
		var le *history.LineError
		Expect(errors.As(err, &le)).To(BeTrue())
		Expect(le.Line).To(Equal(len(file) + 1))
	})

	It("holds more events than one chunk, in order", func() {
		var l history.Log
		n := 1<<16 + 100
		for i := range n {
			e := renewal
			e.At, e.Client, e.DUID = t0.Add(time.Duration(i)*time.Second), i, fmt.Sprintf("%08x", i)
			l.Append(e)
		}
		Expect(l.Len()).To(Equal(n))
		for _, i := range []int{0, 1<<16 - 1, 1 << 16, n - 1} {
			e := l.Event(i)
			Expect(e.Client).To(Equal(i))
			Expect(e.DUID).To(Equal(fmt.Sprintf("%08x", i)))
			Expect(e.At).To(Equal(t0.Add(time.Duration(i) * time.Second)))
			Expect(e.Lease).To(Equal(renewal.Lease))
		}
	})

	It("keeps a renewal in a record of 48 bytes and appends one without allocating", func() {
		Expect(history.RecordSize).To(Equal(48))
		var l history.Log
		l.Append(renewal)
		e := renewal
		allocs := testing.AllocsPerRun(1000, func() {
			e.At = e.At.Add(time.Second)
			l.Append(e)
		})
		Expect(allocs).To(BeZero())
		got := 0.0
		allocs = testing.AllocsPerRun(1000, func() { got += float64(l.Event(500).Client) })
		Expect(allocs).To(BeZero())
	})

	It("writes the JSON lines the slice writes", func() {
		var l history.Log
		for _, e := range events {
			l.Append(e)
		}
		var fromSlice, fromLog bytes.Buffer
		Expect(history.WriteJSONL(&fromSlice, events)).To(Succeed())
		Expect(history.WriteSourceJSONL(&fromLog, &l)).To(Succeed())
		Expect(fromLog.String()).To(Equal(fromSlice.String()))
	})

	It("is a Source, as a plain slice is", func() {
		var l history.Log
		for _, e := range events[:7] {
			l.Append(e)
		}
		for _, src := range []history.Source{&l, history.Events(events[:7])} {
			Expect(src.Len()).To(Equal(7))
			Expect(src.Event(2)).To(Equal(renewal))
		}
	})
})

// eqNoPeer compares two events field by field, Peer by pointer.
func eqNoPeer(a, b history.Event) bool {
	a.Peer, b.Peer = nil, nil
	return a == b
}

var _ = Describe("Log memory", func() {
	It("releases its chunks once collected, and a new log works after", func() {
		for range 3 {
			l := &history.Log{}
			e := history.Event{At: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Kind: history.Renewed, Client: 1}
			for i := range 3 << 16 {
				e.Client = i
				l.Append(e)
			}
			Expect(l.Event(3<<16 - 1).Client).To(Equal(3<<16 - 1))
			runtime.GC()
		}
		runtime.GC()
		l := &history.Log{}
		l.Append(history.Event{Kind: history.Bound, Client: 2})
		Expect(l.Event(0).Client).To(Equal(2))
	})
})
