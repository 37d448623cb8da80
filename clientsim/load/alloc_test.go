package load

import (
	"net"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/wire"
)

func testEngine(t testing.TB, cfg Config) *engine {
	t.Helper()
	if cfg.Rate == 0 {
		cfg.Rate = 1000
	}
	cfg, err := withDefaults(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e, err := newEngine(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestEncodeAllocs(t *testing.T) {
	e := testEngine(t, Config{Exchange: FourMessage, NA: true, PD: true, Relay: true, Server: netip6("[2001:db8::547]:547"), LinkAddr: linkAddr})
	buf := make([]byte, maxMsg)
	l := &grant{pdLen: 56}
	n := uint32(0)
	for k := kind(0); k < nKinds; k++ {
		if a := testing.AllocsPerRun(1000, func() {
			n++
			e.t.encode(buf, k, n&0xffffff, n, l, testSID, true)
		}); a != 0 {
			t.Errorf("encode %v: %v allocations", k, a)
		}
	}
}

// TestStepAllocs runs whole SARR exchanges with Renew, Rebind and
// Release follow-ups in memory: start, the Advertise, the Reply, the
// follow-up Replies and a sweep, with pre-encoded answers whose
// transaction IDs are patched, each decoded with wire into the one reused
// Message as the receiver does.
func TestStepAllocs(t *testing.T) {
	for _, relay := range []bool{false, true} {
		e := testEngine(t, Config{Clients: 100, Exchange: FourMessage, NA: true, PD: true, Renew: 1, Rebind: 1, Release: 1,
			Relay: relay, Server: netip6("[2001:db8::547]:547"), LinkAddr: linkAddr})
		adv := cannedAnswer(answer(dhcpv6.MessageTypeAdvertise, 0, true, true), relay)
		rep := cannedAnswer(answer(dhcpv6.MessageTypeReply, 0, true, true), relay)
		out := make([]byte, maxMsg)
		var m, q wire.Message
		now := int64(0)
		xidOf := func(b []byte) uint32 {
			if err := q.Decode(b); err != nil {
				t.Fatal(err)
			}
			return q.TransactionID
		}
		step := func() {
			now += int64(time.Millisecond)
			n := e.start(now, out)
			for _, ans := range []canned{adv, rep, rep, rep, rep} {
				if n == 0 {
					t.Fatal("exchange ended early")
				}
				ans.setXID(xidOf(out[:n]))
				n = e.onReply(ans.b, now, &m, out)
			}
			if n != 0 {
				t.Fatal("exchange did not end")
			}
			e.sweep(now)
		}
		step() // interns the Server Identifier: the one allocation per server
		// AllocsPerRun warms up with one more run: 1002 exchanges in all.
		if a := testing.AllocsPerRun(1000, step); a != 0 {
			t.Errorf("relay=%v: %v allocations per exchange", relay, a)
		}
		if e.c.completed != 1002 || e.c.kind[kRelease].Completed != 1002 || e.c.dropped != 0 || e.c.malformed+e.c.unexpected != 0 {
			t.Errorf("relay=%v: counters %+v", relay, e.c)
		}
	}
}

// TestRejectAllocs: a datagram the generator does not use (a late
// duplicate, another message type, a shape left to insomniacslk) is
// counted without allocating. A malformed one is not in the list: wire
// returns its Error as a value in an error interface, which costs one
// small allocation per malformed datagram.
func TestRejectAllocs(t *testing.T) {
	e := testEngine(t, Config{Exchange: FourMessage, NA: true, Server: netip6("[2001:db8::547]:547")})
	out := make([]byte, maxMsg)
	var m wire.Message
	late := answer(dhcpv6.MessageTypeAdvertise, 0x0fffff, true, false)
	for name, b := range map[string][]byte{
		"late":        late,
		"reconfigure": {10, 0, 0, 1},
		"relayed":     relayed(late),
	} {
		if a := testing.AllocsPerRun(1000, func() { e.onReply(b, 0, &m, out) }); a != 0 {
			t.Errorf("%s: %v allocations", name, a)
		}
	}
}

// TestSocketBatchAllocs sends a batch with the writer (sendmmsg, the run
// segmented) and receives it with the reader (recvmmsg, the run coalesced
// again) over ::1.
func TestSocketBatchAllocs(t *testing.T) {
	a, b := clientConn(t), clientConn(t)
	w, err := newWriter(a, b.LocalAddr().(*net.UDPAddr).AddrPort(), 0, 16)
	if err != nil {
		t.Fatal(err)
	}
	rd, err := newReader(b, 16)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	round := func() {
		for !w.full() {
			buf := w.next()
			buf[0] = 7
			w.commit(100)
		}
		if f := w.flush(); f != 0 {
			t.Fatalf("%d send errors", f)
		}
		for n := 0; n < 16; {
			k, err := rd.read()
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < k; i++ {
				m, seg, trunc := rd.msg(i)
				if seg != 100 || len(m)%100 != 0 || trunc {
					t.Fatalf("datagram of %d bytes in segments of %d (truncated %v)", len(m), seg, trunc)
				}
				for d := range rd.datagrams(i) { // the writer segments, the reader coalesces
					if len(d) != 100 || d[0] != 7 {
						t.Fatalf("datagram of %d bytes starting %d, want 100 starting 7", len(d), d[0])
					}
					n++
					got++
				}
			}
		}
	}
	round()
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Errorf("%v allocations per 16-datagram round trip", allocs)
	}
	if got != 16*102 {
		t.Errorf("received %d datagrams, want %d", got, 16*102)
	}
}

// TestReaderTruncated: a datagram longer than the reader's buffer (here cut
// to 50 bytes) is reported truncated, by truncated (the receiver's check,
// which counts it malformed) and by msg alike; one that fits is not.
func TestReaderTruncated(t *testing.T) {
	a, b := clientConn(t), clientConn(t)
	rd, err := newReader(b, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range rd.iovs {
		rd.iovs[i].SetLen(50)
	}
	for _, size := range []int{100, 40} {
		if _, err := a.WriteToUDPAddrPort(make([]byte, size), b.LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
			t.Fatal(err)
		}
		if n, err := rd.read(); err != nil || n != 1 {
			t.Fatalf("read: %d datagrams, %v", n, err)
		}
		_, _, trunc := rd.msg(0)
		if want := size > 50; rd.truncated(0) != want || trunc != want {
			t.Errorf("%d-byte datagram into 50 bytes: truncated %v, msg's %v, want %v", size, rd.truncated(0), trunc, want)
		}
	}
}
