package server

import (
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/deploy"
)

const benchClients = 4096

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
