package load

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/wire"
)

// BenchmarkEncodeDecode is one four-message exchange in memory: encode
// the Solicit, read the Advertise, encode the Request, read the Reply.
func BenchmarkEncodeDecode(b *testing.B) {
	e := testEngine(b, Config{Clients: 1000, Exchange: FourMessage, NA: true, PD: true, Server: netip6("[2001:db8::547]:547")})
	adv := cannedAnswer(answer(dhcpv6.MessageTypeAdvertise, 0, true, true), false)
	rep := cannedAnswer(answer(dhcpv6.MessageTypeReply, 0, true, true), false)
	out := make([]byte, maxMsg)
	var m wire.Message
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		now := int64(i)
		n := e.start(now, out)
		x := uint32(out[1])<<16 | uint32(out[2])<<8 | uint32(out[3])
		adv.setXID(x)
		n = e.onReply(adv.b, now, &m, out)
		x = uint32(out[1])<<16 | uint32(out[2])<<8 | uint32(out[3])
		rep.setXID(x)
		if n == 0 || e.onReply(rep.b, now, &m, out) != 0 {
			b.Fatal("exchange broke")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
}

// BenchmarkEncode is the choice doc.go states: a Request (IA_NA and IA_PD
// with the granted address and prefix, Server Identifier) patched into its
// template, against the same Request built as a wire.Message and encoded
// whole with AppendTo every time.
func BenchmarkEncode(b *testing.B) {
	e := testEngine(b, Config{Exchange: FourMessage, NA: true, PD: true, Server: netip6("[2001:db8::547]:547")})
	l := &grant{pdLen: 56}
	buf := make([]byte, maxMsg)
	b.Run("template", func(b *testing.B) {
		b.ReportAllocs()
		n := uint32(0)
		for b.Loop() {
			n++
			e.t.encode(buf, kRequest, n&0xffffff, n, l, testSID, false)
		}
	})
	b.Run("append", func(b *testing.B) {
		var m wire.Message
		cid := []byte{0, 3, 0, 1, 0, 0, 0, 0, 0, 0}
		oro := []uint16{optSolMaxRT}
		ias, leases := make([]wire.IA, 2), make([]wire.Lease, 2)
		b.ReportAllocs()
		n := uint32(0)
		for b.Loop() {
			n++
			m.Reset()
			m.Type, m.TransactionID = wire.Request, n&0xffffff
			var mac [6]byte
			e.t.clientMAC(n, &mac)
			copy(cid[4:], mac[:])
			m.ClientID, m.ServerID = cid, testSID[4:]
			m.ORO, m.HasORO, m.HasElapsedTime = oro, true, true
			leases[0] = wire.Lease{Addr: l.naAddr}
			leases[1] = wire.Lease{Addr: l.pdPfx, Bits: l.pdLen}
			ias[0] = wire.IA{IAID: n, Leases: leases[:1]}
			ias[1] = wire.IA{IAID: n | 1<<31, Leases: leases[1:]}
			m.IANA, m.IAPD = ias[:1], ias[1:]
			if _, err := m.AppendTo(buf[:0]); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// echo is a minimal batched responder: canned Advertise/Reply answers
// with the request's transaction ID patched in, so the generator, not
// the responder, is what BenchmarkLoopback/echo measures. It answers
// every datagram of a run the kernel coalesced (its reader has UDP_GRO
// on, and the generator sends its requests segmented): answering only a
// run's first, as it did before, dropped 94-98 % of the exchanges.
func echo(b *testing.B, srv, client *net.UDPConn) func() {
	rd, err := newReader(srv, 64)
	if err != nil {
		b.Fatal(err)
	}
	w, err := newWriter(srv, client.LocalAddr().(*net.UDPAddr).AddrPort(), 0, 64)
	if err != nil {
		b.Fatal(err)
	}
	adv := answer(dhcpv6.MessageTypeAdvertise, 0, true, false)
	rep := answer(dhcpv6.MessageTypeReply, 0, true, false)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			n, err := rd.read()
			if err != nil {
				return
			}
			for i := 0; i < n; i++ {
				for m := range rd.datagrams(i) { // each datagram of a coalesced run
					if len(m) < 4 {
						continue
					}
					a := rep
					if m[0] == 1 { // Solicit
						a = adv
					}
					if w.full() {
						w.flush()
					}
					buf := w.next()
					l := copy(buf, a)
					buf[1], buf[2], buf[3] = m[1], m[2], m[3]
					w.commit(l)
				}
			}
			w.flush()
		}
	}()
	return func() { srv.Close(); wg.Wait() }
}

// BenchmarkLoopback runs the generator (SARR, IA_NA) over ::1 against an
// echo responder and against d6lab's server core. One b.N is one
// exchange, started open loop at the given rate.
func BenchmarkLoopback(b *testing.B) {
	for _, c := range []struct {
		name string
		rate float64
	}{{"echo-20k", 20_000}, {"echo-50k", 50_000}, {"echo-100k", 100_000}, {"server-20k", 20_000}} {
		b.Run(c.name, func(b *testing.B) {
			client := clientConn(b)
			var dst = netip6("[::1]:547")
			if c.name[:4] == "echo" {
				srv := clientConn(b)
				stop := echo(b, srv, client)
				defer stop()
				dst = srv.LocalAddr().(*net.UDPAddr).AddrPort()
			} else {
				dst = startResponder(b, false).addr()
			}
			cfg := Config{Clients: 10_000, Exchange: FourMessage, NA: true, Server: dst, Rate: c.rate, Count: b.N, Timeout: time.Second}
			b.ResetTimer()
			res, err := Run(context.Background(), client, cfg, nil)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(res.Rate, "exchanges/s")
			b.ReportMetric(res.Drops*100, "%drops")
			b.ReportMetric(float64(res.Percentile(50).Microseconds()), "p50-µs")
			b.ReportMetric(float64(res.Percentile(99).Microseconds()), "p99-µs")
		})
	}
}
