package history_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/netip"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/reports/history"
)

// viaJSON is what encoding/json writes for e, as the Writer's encoder was
// set up before it had its own (HTML escaping off).
// An event encoding/json cannot write (a year past 9999) is an error
// both ways.
func viaJSON(e history.Event) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return "error"
	}
	return buf.String()
}

func viaWriter(e history.Event) string {
	var buf bytes.Buffer
	w := history.NewWriter(&buf)
	if err := w.Write(e); err != nil {
		return "error"
	}
	Expect(w.Flush()).To(Succeed())
	return buf.String()
}

// randomEvent draws an event from a mix of ordinary and awkward values.
func randomEvent(r *rand.Rand) history.Event {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	strs := []string{"", "", "s1", "0003000102d61ab00001", "renewed", "h\"7", "a\\b", "<&>", "tab\there", "é", "\u2028", "\x01", string([]byte{0xff, 0xfe}), "preference=255"}
	prefixes := []netip.Prefix{{}, {}, netip.MustParsePrefix("2001:db8::17/128"), netip.MustParsePrefix("2001:db8:100::/56"),
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::ffff:10.0.0.1/128"), netip.PrefixFrom(netip.MustParseAddr("2001:db8::1:2"), 64),
		netip.PrefixFrom(netip.MustParseAddr("2001:db8::1"), 200)}
	durs := []time.Duration{0, 0, time.Second, 30 * time.Minute, 1100 * time.Millisecond, -time.Second, 1<<63 - 1}
	times := []time.Time{time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.Int64N(int64(48 * time.Hour)))),
		time.Date(2026, 1, 1, 0, 0, 1, 500, time.FixedZone("x", -5400)), {}, time.Date(12026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-3, 1, 1, 0, 0, 0, 0, time.UTC)}
	e := history.Event{
		At: times[r.IntN(len(times))], Kind: history.Kind(pick(strs...)), Client: r.IntN(2_000_000) - 1,
		DUID: pick(strs...), Server: pick(strs...), IA: pick(strs...), IAID: uint32(r.IntN(3)),
		Lease: prefixes[r.IntN(len(prefixes))], Old: prefixes[r.IntN(len(prefixes))],
		T1: durs[r.IntN(len(durs))], T2: durs[r.IntN(len(durs))], Preferred: durs[r.IntN(len(durs))],
		Valid: durs[r.IntN(len(durs))], Tentative: durs[r.IntN(len(durs))], Cause: pick(strs...), Detail: pick(strs...),
	}
	if r.IntN(4) == 0 {
		p := r.IntN(100) - 1
		e.Peer = &p
	}
	if r.IntN(4) == 0 {
		e.Renewals = r.IntN(50) - 1
		e.Extended = times[r.IntN(len(times))]
	}
	return e
}

var _ = Describe("the Writer's encoder", func() {
	It("writes what encoding/json writes, byte for byte, for 20,000 drawn events", func() {
		r := rand.New(rand.NewPCG(1, 2))
		for range 20_000 {
			e := randomEvent(r)
			Expect(viaWriter(e)).To(Equal(viaJSON(e)), "%#v", e)
		}
	})

	It("writes an ordinary renewal without allocating", func() {
		e := history.Event{At: time.Date(2026, 1, 1, 0, 30, 0, 123, time.UTC), Kind: history.Renewed, Client: 7,
			DUID: "00030001020000000007", Server: "0001000100000001aa", IA: history.IANA, IAID: 1,
			Lease: netip.MustParsePrefix("2001:db8::17/128"), T1: 30 * time.Minute, T2: 48 * time.Minute, Preferred: time.Hour, Valid: 2 * time.Hour}
		var buf bytes.Buffer
		buf.Grow(1 << 20)
		w := history.NewWriter(&buf)
		Expect(w.Write(e)).To(Succeed())
		Expect(testing.AllocsPerRun(1000, func() { _ = w.Write(e) })).To(BeZero())
	})
})

// FuzzWriterMatchesJSON: the Writer against encoding/json for events
// built from the fuzzer's values.
func FuzzWriterMatchesJSON(f *testing.F) {
	f.Add(int64(0), "renewed", 7, "0003", "s1", "na", uint32(1), "2001:db8::17/128", int64(1800e9), "", "detail")
	f.Add(int64(-1), "a\"b", -1, "", "", "", uint32(0), "", int64(0), "x\x00", "\u2028")
	f.Fuzz(func(t *testing.T, at int64, kind string, client int, duid, srv, ia string, iaid uint32, lease string, t1 int64, cause, detail string) {
		e := history.Event{At: time.Unix(0, at).UTC(), Kind: history.Kind(kind), Client: client, DUID: duid, Server: srv, IA: ia, IAID: iaid,
			T1: time.Duration(t1), Cause: cause, Detail: detail}
		if p, err := netip.ParsePrefix(lease); err == nil {
			e.Lease = p
		}
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(e); err != nil {
			t.Skip()
		}
		var got bytes.Buffer
		w := history.NewWriter(&got)
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("writer: %s\njson:   %s", got.String(), want.String())
		}
	})
}
