package server

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
	"d6lab/server/lease"
)

const benchClients = 4096

// exchangePackets encodes, for clients 0..n-1, a Solicit and a Request to
// s (one IA_NA each, no hint).
func exchangePackets(s *Server, n int) (sol, req [][]byte) {
	sid := sidOf(s)
	sol, req = make([][]byte, n), make([][]byte, n)
	for c := range n {
		sol[c] = newMsg(dhcpv6.MessageTypeSolicit, cid(c), elapsed(), naOpt(1)).ToBytes()
		req[c] = newMsg(dhcpv6.MessageTypeRequest, cid(c), sid, elapsed(), naOpt(1)).ToBytes()
	}
	return sol, req
}

// benchPackets encodes one message per client.
func benchPackets(build func(n int) *dhcpv6.Message) [][]byte {
	pkts := make([][]byte, benchClients)
	for n := range pkts {
		pkts[n] = build(n).ToBytes()
	}
	return pkts
}

// BenchmarkSolicitAdvertise measures a Solicit (one IA_NA) through Handle,
// decoding and encoding included, with the hash allocator.
func BenchmarkSolicitAdvertise(b *testing.B) {
	s := newServer(testConfig("bench"))
	pkts := benchPackets(func(n int) *dhcpv6.Message {
		return newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), naOpt(1))
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := s.Handle(t0, pkts[i%benchClients], clientSrc, true); !ok {
			b.Fatal("dropped")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRequestReply measures a Request (one IA_NA) through Handle: the
// first pass over the clients creates their bindings, later passes extend
// them (the store holds benchClients bindings).
func BenchmarkRequestReply(b *testing.B) {
	s := newServer(testConfig("bench"))
	sid := sidOf(s)
	pkts := benchPackets(func(n int) *dhcpv6.Message {
		return newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, elapsed(), naOpt(1))
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := s.Handle(t0.Add(time.Duration(i)*time.Microsecond), pkts[i%benchClients], clientSrc, true); !ok {
			b.Fatal("dropped")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkRequestNewClients measures a Request that creates a binding
// every time, with 100k bindings already held, for each allocator.
func BenchmarkRequestNewClients(b *testing.B) {
	for _, strategy := range []string{"hash", "sequential", "random"} {
		b.Run(strategy, func(b *testing.B) {
			cfg := testConfig("bench")
			cfg.Allocator = deploy.Allocator(strategy)
			cfg.Pool = mustPool("2001:db8:1::/108") // 1M addresses
			s := newServer(cfg)
			sid := sidOf(s)
			const held = 100_000
			for n := 0; n < held; n++ {
				if _, ok := s.HandleMessage(t0, newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, naOpt(1)), true); !ok {
					b.Fatal("prefill dropped")
				}
			}
			// Fresh clients: IAIDs the prefill never used.
			pkts := benchPackets(func(n int) *dhcpv6.Message {
				return newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, naOpt(uint32(1000+n)))
			})
			rel := benchPackets(func(n int) *dhcpv6.Message {
				return newMsg(dhcpv6.MessageTypeRelease, cid(n), sid, naOpt(uint32(1000+n)))
			})
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := i % benchClients
				if k == 0 && i > 0 { // release the previous round's bindings, untimed
					b.StopTimer()
					for _, p := range rel {
						s.Handle(t0, p, clientSrc, true)
					}
					b.StartTimer()
				}
				if _, _, ok := s.Handle(t0, pkts[k], clientSrc, true); !ok {
					b.Fatal("dropped")
				}
			}
		})
	}
}

// exchangeCPU pins BenchmarkExchange's handler (go test -bench
// Exchange$ -args -exchange.cpu N). On a machine whose disk interrupts
// all go to one CPU, the durable runs measure the handler's own cost
// only when it runs on another: on this 2-core machine (virtio-blk on
// CPU 1) durable took 1,070-1,119 ns on CPU 0 and 1,502-1,573 on CPU 1,
// where memory took 913-954 on either (/proc/interrupts tells which CPU
// takes them).
var exchangeCPU = flag.Int("exchange.cpu", -1, "BenchmarkExchange: pin the handler's thread to this CPU (-1: not pinned)")

// BenchmarkExchange measures one four-message exchange through Handle
// (Solicit -> Advertise, Request -> Reply, one IA_NA, decoding and
// encoding included) per operation, over 65,536 clients: new clients for
// the first pass, clients exchanging again with their binding in place
// after that, as BenchmarkServeBatchBolt. "memory" keeps the bindings in a
// lease.Memory; "durable" in a deferred lease.Bolt on a real file, with
// group commit as Serve does it: after each BatchSize exchanges the
// handler wakes a committer goroutine, which makes everything written so
// far durable in one Sync (one log append and fdatasync) while the handler
// goes on; the benchmark ends after the last Sync. "durable-write" is
// "durable" whose Sync stops at the append (lease.InKernel: the durability
// of `d6lab serve --leases-sync write`, Kea's memfile's).
func BenchmarkExchange(b *testing.B) {
	for _, variant := range []string{"memory", "durable", "durable-write"} {
		b.Run(variant, func(b *testing.B) {
			var st lease.Store = lease.NewMemory()
			var syncer lease.Syncer
			if variant != "memory" {
				opt := lease.BoltOptions{Deferred: true}
				if variant == "durable-write" {
					opt.Durability = lease.InKernel
				}
				bolt, err := lease.OpenBoltWith(filepath.Join(b.TempDir(), "srv.leases"), opt)
				if err != nil {
					b.Fatal(err)
				}
				defer bolt.Close()
				st, syncer = bolt, bolt
			}
			s, err := New(testConfig("bench"), st)
			if err != nil {
				b.Fatal(err)
			}
			const clients = 1 << 16
			sol, req := exchangePackets(s, clients)
			wake := make(chan struct{}, 1)
			synced := make(chan error, 1)
			if syncer != nil {
				go func() { // the committer
					var err error
					for range wake {
						if err == nil {
							err = syncer.Sync()
						}
					}
					synced <- err
				}()
			}
			buf := make([]byte, 0, answerCap)
			if *exchangeCPU >= 0 {
				pinThread(b, *exchangeCPU)
			}
			b.ReportAllocs()
			b.ResetTimer()
			now := t0
			for i := 0; i < b.N; i++ {
				c := i % clients
				now = now.Add(time.Microsecond)
				if _, _, ok := s.AppendAnswer(buf[:0], now, sol[c], clientSrc, true); !ok {
					b.Fatal("Solicit dropped")
				}
				if _, _, ok := s.AppendAnswer(buf[:0], now, req[c], clientSrc, true); !ok {
					b.Fatal("Request dropped")
				}
				if syncer != nil && i%BatchSize == BatchSize-1 {
					select {
					case wake <- struct{}{}:
					default: // a Sync is due already: it will take these too
					}
				}
			}
			if syncer != nil {
				wake <- struct{}{}
				close(wake)
				if err := <-synced; err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
			b.StopTimer() // not the Close's checkpoint
		})
	}
}

// BenchmarkRenewAtScale measures one Renew -> Reply through AppendAnswer
// (memory store, one IA_NA, bytes in and out) with 65,536 and with
// 1,048,576 clients bound, taken in turn: the server's floor per renewal
// in a population's day, where every lookup misses the CPU's caches (a
// virtual-engine day of a million clients with T1 30 min is 48 million
// of them). The Renew is one encoded template whose client DUID is
// patched per operation.
func BenchmarkRenewAtScale(b *testing.B) {
	for _, clients := range []int{1 << 16, 1 << 20} {
		b.Run(fmt.Sprint(clients), func(b *testing.B) {
			cfg := testConfig("bench")
			cfg.Pool = mustPool("2001:db8:1::/96")
			s := newServer(cfg)
			sid := sidOf(s)
			buf := make([]byte, 0, answerCap)
			req := newMsg(dhcpv6.MessageTypeRequest, cid(0), sid, elapsed(), naOpt(1)).ToBytes()
			ren := newMsg(dhcpv6.MessageTypeRenew, cid(0), sid, elapsed(), naOpt(1)).ToBytes()
			patch := func(pkt []byte, c int) {
				i := bytes.Index(pkt, []byte{0x02, 0xcc})
				binary.BigEndian.PutUint32(pkt[i+2:], uint32(c))
			}
			for c := range clients {
				patch(req, c)
				if _, _, ok := s.AppendAnswer(buf[:0], t0, req, clientSrc, true); !ok {
					b.Fatal("Request dropped")
				}
			}
			if n := s.store.Len(); n != clients {
				b.Fatalf("%d bindings, want %d", n, clients)
			}
			// The Renew extends the binding: a Reply with the address.
			patch(ren, 0)
			out, _, ok := s.AppendAnswer(buf[:0], t0, ren, clientSrc, true)
			if m, err := dhcpv6.MessageFromBytes(out); !ok || err != nil || m.MessageType != dhcpv6.MessageTypeReply ||
				m.Options.OneIANA() == nil || len(m.Options.OneIANA().Options.Addresses()) != 1 ||
				m.Options.OneIANA().Options.Addresses()[0].ValidLifetime == 0 {
				b.Fatalf("Renew answered %v, %v, %v", m, ok, err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				patch(ren, i%clients)
				// Renews a second apart for every client in turn: no
				// binding runs out (valid 30 s).
				now := t0.Add(time.Duration(i/clients) * time.Second)
				if _, _, ok := s.AppendAnswer(buf[:0], now, ren, clientSrc, true); !ok {
					b.Fatal("Renew dropped")
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "renewals/s")
		})
	}
}
