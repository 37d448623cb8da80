package population_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/client"
	"d6lab/clientsim/population"
	"d6lab/reports/history"
	"d6lab/transport"
)

// sim runs a population against a responder on a virtual clock, with no
// network delay.
type sim struct {
	p      *population.Population
	r      *responder
	now    time.Time
	out    []population.Outgoing
	events map[history.Kind]int
	log    []history.Event // every event, in order
	bound  map[int]bool
	nbound int
}

func newSim(cfg population.Config) *sim {
	s := &sim{r: newResponder(), now: t0, events: map[history.Kind]int{}, bound: map[int]bool{}}
	cfg.Sink = func(e history.Event) {
		s.log = append(s.log, e)
		s.events[e.Kind]++
		if e.Kind == history.Bound && !s.bound[e.Client] {
			s.bound[e.Client] = true
			s.nbound++
		}
	}
	p, err := population.New(cfg)
	Expect(err).NotTo(HaveOccurred())
	s.p = p
	return s
}

// flush answers everything in the outbox (and what the answers cause).
func (s *sim) flush() {
	for {
		s.out = s.p.Outbox(s.out[:0])
		if len(s.out) == 0 {
			return
		}
		for _, o := range s.out {
			Expect(o.Dst).To(Equal(transport.AllServersPort))
			if a := s.r.answer(o.Payload); a != nil {
				s.p.Deliver(s.now, a, serverAddr)
			}
		}
	}
}

// run advances the clock timer by timer until cond holds or steps run out.
func (s *sim) run(cond func() bool, steps int) bool {
	if !s.p.Started() {
		s.p.Start(s.now)
	}
	for range steps {
		s.flush()
		if cond() {
			return true
		}
		at, ok := s.p.NextTimer()
		if !ok {
			break
		}
		s.now = at
		s.p.Advance(at)
	}
	s.flush()
	return cond()
}

func readHex(path string) []byte {
	f, err := os.Open(path)
	Expect(err).NotTo(HaveOccurred())
	defer f.Close()
	var b bytes.Buffer
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		raw, err := hex.DecodeString(strings.ReplaceAll(line, " ", ""))
		Expect(err).NotTo(HaveOccurred(), path)
		b.Write(raw)
	}
	return b.Bytes()
}

var _ = Describe("Population", func() {
	Describe("DUIDs", func() {
		It("are DUID-LLs, deterministic per seed and distinct per index", func() {
			const n = 100_000
			seen := make(map[string]int, n)
			for i := range n {
				d := population.DUID(42, i)
				Expect(d[:4]).To(Equal([]byte{0, 3, 0, 1}))
				Expect(d[4]).To(Equal(byte(0x02)))
				_, dup := seen[string(d)]
				Expect(dup).To(BeFalse(), "index %d repeats index %d's DUID", i, seen[string(d)])
				seen[string(d)] = i
			}
			Expect(population.DUID(42, 7)).To(Equal(population.DUID(42, 7)))
			Expect(population.DUID(43, 7)).NotTo(Equal(population.DUID(42, 7)))
			p, err := population.New(population.Config{Count: 3, Seed: 42, IANA: true})
			Expect(err).NotTo(HaveOccurred())
			Expect(p.Client(2).DUID()).To(Equal(population.DUID(42, 2)))
		})

		It("refuses an empty population", func() {
			_, err := population.New(population.Config{})
			Expect(err).To(MatchError(population.ErrCount))
		})
	})

	Describe("against a scripted responder", func() {
		It("brings 10,000 clients to Bound", func() {
			const n = 10_000
			s := newSim(population.Config{Count: n, Seed: 1, IANA: true, Ramp: 10 * time.Second})
			Expect(s.run(func() bool { return s.nbound == n }, 1_000_000)).To(BeTrue(),
				"%d of %d bound", s.nbound, n)
			st := s.p.Stats()
			Expect(st.States).To(Equal(map[string]int{"bound": n}))
			Expect(st.Dropped).To(BeEmpty())
			Expect(st.Sent).To(BeEquivalentTo(2 * n))
			Expect(st.Received).To(BeEquivalentTo(2 * n))
			Expect(s.r.seen[dhcpv6.MessageTypeSolicit]).To(Equal(n))
			Expect(s.r.seen[dhcpv6.MessageTypeRequest]).To(Equal(n))
			Expect(s.events[history.Solicited]).To(Equal(n))
			Expect(s.events[history.Advertised]).To(Equal(n))
			// Every client holds its own address, and the one the
			// responder gave its DUID.
			addrs := map[netip.Prefix]bool{}
			for i := range n {
				c := s.p.Client(i)
				ls := c.Leases()
				Expect(ls).To(HaveLen(1))
				Expect(addrs[ls[0].Prefix]).To(BeFalse())
				addrs[ls[0].Prefix] = true
				Expect(ls[0].Prefix.Addr()).To(Equal(s.r.addrs[c.DUIDHex()]))
			}
			// The clients started spread over the ramp.
			Expect(s.now.Sub(t0)).To(BeNumerically(">=", 9*time.Second))
			Expect(s.now.Sub(t0)).To(BeNumerically("<=", 10*time.Second+client.SolMaxDelay))
		})

		It("keeps bindings through renewals and releases them all on StopAll", func() {
			const n = 500
			s := newSim(population.Config{Count: n, Seed: 2, IANA: true, Ramp: time.Second, Timescale: 0.1})
			Expect(s.run(func() bool { return s.nbound == n }, 100_000)).To(BeTrue())
			end := s.now.Add(2 * s.r.valid)
			Expect(s.run(func() bool { return !s.now.Before(end) }, 1_000_000)).To(BeTrue())
			Expect(s.events[history.Renewed]).To(BeNumerically(">=", 2*n))
			Expect(s.events[history.Expired]).To(BeZero())
			Expect(s.p.Stats().States).To(HaveKeyWithValue("bound", n))

			s.p.StopAll(s.now)
			Expect(s.events[history.Released]).To(Equal(n))
			s.flush()
			Expect(s.r.seen[dhcpv6.MessageTypeRelease]).To(Equal(n))
			Expect(s.p.AllStopped()).To(BeTrue())
			_, ok := s.p.NextTimer()
			Expect(ok).To(BeFalse())
		})

		It("keeps transaction IDs distinct between clients", func() {
			const n = 20_000
			s := newSim(population.Config{Count: n, Seed: 3, IANA: true})
			s.p.Start(s.now)
			s.p.Advance(s.now.Add(client.SolMaxDelay)) // every client has sent its first Solicit
			Expect(s.p.Stats().States).To(Equal(map[string]int{"soliciting": n}))
			xids := map[dhcpv6.TransactionID]int{}
			for i := range n {
				xids[s.p.Client(i).XID()] = i
			}
			Expect(xids).To(HaveLen(n))
		})
	})

	Describe("demultiplexing", func() {
		var (
			p   *population.Population
			out []population.Outgoing
		)
		BeforeEach(func() {
			var err error
			p, err = population.New(population.Config{Count: 10, Seed: 4, IANA: true})
			Expect(err).NotTo(HaveOccurred())
			p.Start(t0)
			p.Advance(t0.Add(time.Second))
			out = p.Outbox(nil)
			Expect(out).To(HaveLen(10))
		})

		advertiseFor := func(o population.Outgoing, duid []byte) []byte {
			sol, err := dhcpv6.MessageFromBytes(o.Payload)
			Expect(err).NotTo(HaveOccurred())
			return advertiseTo(sol, duid).ToBytes()
		}

		It("hands a datagram to the client holding its transaction ID", func() {
			o := out[3]
			p.Deliver(t0.Add(time.Second), advertiseFor(o, p.Client(o.Client).DUID()), serverAddr)
			for i := range 10 {
				if i == o.Client {
					Expect(p.Client(i).State()).To(Equal(client.Requesting))
				} else {
					Expect(p.Client(i).State()).To(Equal(client.Soliciting))
				}
			}
			next := p.Outbox(nil)
			Expect(next).To(HaveLen(1))
			Expect(next[0].Client).To(Equal(o.Client))
		})

		It("counts a datagram for an unknown transaction ID", func() {
			b := advertiseFor(out[0], p.Client(out[0].Client).DUID())
			b[1] ^= 0xff
			b[2] ^= 0x5a
			p.Deliver(t0, b, serverAddr)
			Expect(p.Stats().Dropped).To(Equal(map[string]uint64{population.DropUnknownXID: 1}))
		})

		It("lets the client drop a datagram with its ID but another's DUID", func() {
			o := out[3]
			other := (o.Client + 1) % 10
			p.Deliver(t0, advertiseFor(o, p.Client(other).DUID()), serverAddr)
			Expect(p.Client(o.Client).State()).To(Equal(client.Soliciting))
			Expect(p.Stats().Dropped).To(Equal(map[string]uint64{client.DropClientID.String(): 1}))
		})

		It("refuses an ID another client holds, until it lets it go", func() {
			x := p.Client(0).XID()
			Expect(p.ClaimXID(1, x)).To(BeFalse())
			Expect(p.ClaimXID(0, x)).To(BeTrue())
			y := dhcpv6.TransactionID{x[0] ^ 1, x[1], x[2]}
			for !p.ClaimXID(0, y) {
				y[1]++
			}
			Expect(p.ClaimXID(1, x)).To(BeTrue())
		})

		entries := []TableEntry{}
		files, _ := filepath.Glob("testdata/malformed/*.hex")
		for _, f := range files {
			reason := population.DropMalformed
			if strings.Contains(f, "relay") {
				reason = population.DropRelay
			}
			entries = append(entries, Entry(filepath.Base(f), f, reason))
		}
		DescribeTable("drops and counts malformed datagrams",
			func(path, reason string) {
				b := readHex(path)
				if len(b) >= 4 && b[0] != 0x0d && b[0] != 0x0c {
					copy(b[1:4], out[0].Payload[1:4]) // a live transaction ID
				}
				p.Deliver(t0, b, serverAddr)
				st := p.Stats()
				Expect(st.Received).To(BeEquivalentTo(1))
				Expect(st.Dropped).To(Equal(map[string]uint64{reason: 1}))
				Expect(st.States).To(Equal(map[string]int{"soliciting": 10}))
				Expect(p.Outbox(nil)).To(BeEmpty())
			},
			entries,
		)
		It("has malformed samples to test", func() { Expect(len(files)).To(BeNumerically(">=", 8)) })
	})

	Describe("Run", func() {
		It("drives clients over an in-memory link and releases them when stopped", func() {
			cli := respondingLink()

			const n = 200
			var bound, released atomic.Int64
			p, err := population.New(population.Config{
				Count: n, Seed: 5, IANA: true, Ramp: 100 * time.Millisecond, Timescale: 0.01,
				ReleaseOnStop: true, StopGrace: 15 * time.Second,
				Sink: func(e history.Event) {
					switch e.Kind {
					case history.Bound:
						bound.Add(1)
					case history.Released:
						released.Add(1)
					}
				},
			})
			Expect(err).NotTo(HaveOccurred())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- population.Run(ctx, p, cli, nil) }()
			Eventually(bound.Load, 20*time.Second).Should(BeEquivalentTo(n))
			cancel()
			Eventually(done, 20*time.Second).Should(Receive(BeNil()))
			Expect(released.Load()).To(BeEquivalentTo(n))
			Expect(p.AllStopped()).To(BeTrue())
		})

		It("returns an error when its connection fails", func() {
			link := transport.NewLink()
			cli, err := link.Attach(netip.MustParseAddrPort("[fe80::2]:546"), 16)
			Expect(err).NotTo(HaveOccurred())
			p, err := population.New(population.Config{Count: 1, Seed: 6, IANA: true})
			Expect(err).NotTo(HaveOccurred())
			done := make(chan error, 1)
			go func() { done <- population.Run(context.Background(), p, cli, nil) }()
			Expect(cli.Close()).To(Succeed())
			var got error
			Eventually(done, 20*time.Second).Should(Receive(&got))
			Expect(got).To(MatchError(net.ErrClosed))
		})
	})
})
