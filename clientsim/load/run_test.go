package load

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"sync"
	"time"

	"d6lab/server"
	"d6lab/server/alloc"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

var _ = Describe("Run against d6lab's server core over UDP on ::1", func() {
	// A modest rate and a generous timeout: these specs check counting,
	// not speed (speed lives in BenchmarkLoopback).
	base := func(srv *responder) Config {
		return Config{Clients: 50, Seed: 1, Exchange: FourMessage, NA: true, Server: srv.addr(), Rate: 400, Count: 120, Timeout: 2 * time.Second}
	}
	run := func(cfg Config) *Result {
		conn := clientConn(GinkgoT())
		res, err := Run(context.Background(), conn, cfg, nil)
		Expect(err).NotTo(HaveOccurred())
		return res
	}

	It("completes N four-message exchanges with no drops", func() {
		srv := startResponder(GinkgoT(), false)
		var mu sync.Mutex
		var snaps []Snapshot
		res, err := Run(context.Background(), clientConn(GinkgoT()), base(srv), func(s Snapshot) {
			mu.Lock()
			snaps = append(snaps, s)
			mu.Unlock()
		})
		Expect(err).NotTo(HaveOccurred())
		Expect(res.Stats.Started).To(BeEquivalentTo(120))
		Expect(res.Stats.Completed).To(BeEquivalentTo(120))
		Expect(res.Stats.Dropped).To(BeZero())
		Expect(res.Stats.Failed + res.Stats.Malformed + res.Stats.Unexpected + res.Stats.Skipped).To(BeZero())
		Expect(res.Drops).To(BeZero())
		Expect(res.Latency.TotalCount()).To(BeEquivalentTo(120))
		Expect(res.PerKind["solicit"].Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["request"].Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["request"].Latency.TotalCount()).To(BeEquivalentTo(120))
		Expect(res.Rate).To(BeNumerically(">", 0))
		Expect(res.Percentile(50)).To(BeNumerically(">", 0))
		Expect(res.Percentile(99.9)).To(BeNumerically(">=", res.Percentile(50)))
		Expect(res.Max()).To(BeNumerically(">=", res.Percentile(99.9)))
		Expect(srv.received()).To(Equal(240))
		// 50 distinct clients hold 50 bindings in the server.
		Expect(srv.srv.Counters().DroppedTotal()).To(BeZero())
		mu.Lock()
		defer mu.Unlock()
		Expect(snaps).NotTo(BeEmpty(), "the last snapshot is always reported")
		Expect(snaps[len(snaps)-1].Completed).To(BeEquivalentTo(120))
	})

	It("counts Renew, Rebind and Release mixes each in its own kind", func() {
		srv := startResponder(GinkgoT(), false)
		cfg := base(srv)
		cfg.NA, cfg.PD = true, true
		cfg.Renew, cfg.Rebind, cfg.Release = 1, 0.5, 1
		res := run(cfg)
		Expect(res.Stats.Completed).To(BeEquivalentTo(120))
		Expect(res.Stats.Dropped).To(BeZero())
		Expect(res.PerKind["renew"].Sent).To(BeEquivalentTo(120))
		Expect(res.PerKind["renew"].Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["renew"].Latency.TotalCount()).To(BeEquivalentTo(120))
		rebinds := res.PerKind["rebind"]
		Expect(rebinds.Sent).To(BeNumerically("~", 60, 30), "half the clients, drawn from the seeded source")
		Expect(rebinds.Completed).To(Equal(rebinds.Sent))
		Expect(res.PerKind["release"].Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["release"].Failed + res.PerKind["renew"].Failed + rebinds.Failed).To(BeZero())
		Expect(srv.received()).To(BeEquivalentTo(240 + 120 + rebinds.Sent + 120))
		// Releases gave every binding back.
		Expect(res.Stats.Unexpected).To(BeZero())
	})

	It("draws the same mix from the same seed", func() {
		srv := startResponder(GinkgoT(), false)
		cfg := base(srv)
		cfg.Rebind = 0.3
		a, b := run(cfg), run(cfg)
		Expect(a.PerKind["rebind"].Sent).To(Equal(b.PerKind["rebind"].Sent))
	})

	It("runs Rapid Commit as two messages", func() {
		srv := startResponder(GinkgoT(), false)
		cfg := base(srv)
		cfg.Exchange, cfg.NA, cfg.PD = RapidCommit, false, true
		res := run(cfg)
		Expect(res.Stats.Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["request"].Sent).To(BeZero())
		Expect(srv.received()).To(Equal(120))
	})

	It("runs Solicit-Advertise only", func() {
		srv := startResponder(GinkgoT(), false)
		cfg := base(srv)
		cfg.Exchange = SolicitAdvertise
		res := run(cfg)
		Expect(res.Stats.Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["request"].Sent).To(BeZero())
	})

	It("relays: Relay-forward out, Relay-reply back", func() {
		srv := startResponder(GinkgoT(), false)
		cfg := base(srv)
		cfg.Relay, cfg.LinkAddr = true, linkAddr
		cfg.NA, cfg.PD = true, true
		cfg.Renew = 1
		res := run(cfg)
		Expect(res.Stats.Completed).To(BeEquivalentTo(120))
		Expect(res.PerKind["renew"].Completed).To(BeEquivalentTo(120))
		Expect(res.Stats.Dropped + res.Stats.Malformed + res.Stats.Unexpected).To(BeZero())
	})

	It("stops after Duration when Count is 0", func() {
		srv := startResponder(GinkgoT(), false)
		cfg := base(srv)
		cfg.Count, cfg.Duration, cfg.Rate = 0, 200*time.Millisecond, 200
		res := run(cfg)
		// Exchanges are due at 0, 5 ms, ... 195 ms: never more than 40.
		// How many fewer depends on how the machine schedules the sender
		// (no speed bound in a unit test): some did start.
		Expect(res.Stats.Started).To(BeNumerically("<=", 40))
		Expect(res.Stats.Started).To(BeNumerically(">", 0))
		Expect(res.Stats.Completed).To(Equal(res.Stats.Started))
	})

	It("counts refusals as failed, not dropped", func() {
		srv := startResponder(GinkgoT(), false, func(c *server.Config) {
			pool, err := alloc.ParsePool("2001:db8:1::/126")
			Expect(err).NotTo(HaveOccurred())
			c.Pool = pool
		})
		cfg := base(srv)
		cfg.Clients, cfg.Count = 10, 10 // ten clients, four addresses
		res := run(cfg)
		Expect(res.Stats.Completed).To(BeNumerically("<=", 4))
		Expect(res.Stats.Failed).To(BeNumerically(">=", 6))
		Expect(res.Stats.Completed + res.Stats.Failed).To(BeEquivalentTo(10))
		Expect(res.Stats.Dropped).To(BeZero())
		Expect(res.Latency.TotalCount()).To(Equal(int64(res.Stats.Completed)))
	})

	It("gives 100 % drops after Timeout when nobody answers", func() {
		srv := startResponder(GinkgoT(), true)
		cfg := base(srv)
		cfg.Count, cfg.Rate, cfg.Timeout = 20, 200, 150*time.Millisecond
		res := run(cfg)
		Expect(res.Stats.Started).To(BeEquivalentTo(20))
		Expect(res.Stats.Dropped).To(BeEquivalentTo(20))
		Expect(res.Stats.Completed).To(BeZero())
		Expect(res.Drops).To(Equal(1.0))
		Expect(res.PerKind["solicit"].Dropped).To(BeEquivalentTo(20))
		Expect(res.Latency.TotalCount()).To(BeZero())
		Expect(srv.received()).To(Equal(20))
	})

	It("stops early on cancellation and reports what it had", func() {
		srv := startResponder(GinkgoT(), true)
		cfg := base(srv)
		cfg.Count, cfg.Rate = 0, 100
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		res, err := Run(ctx, clientConn(GinkgoT()), cfg, nil)
		Expect(errors.Is(err, context.DeadlineExceeded)).To(BeTrue())
		Expect(res).NotTo(BeNil())
		Expect(res.Stats.Started).To(BeNumerically(">", 0))
		Expect(res.Stats.Abandoned + res.Stats.Dropped).To(Equal(res.Stats.Started))
	})

	DescribeTable("rejects bad configs",
		func(mut func(*Config)) {
			cfg := Config{Rate: 10, Server: netip6("[::1]:547")}
			mut(&cfg)
			_, err := Run(context.Background(), clientConn(GinkgoT()), cfg, nil)
			Expect(errors.Is(err, ErrConfig)).To(BeTrue(), "%v", err)
		},
		Entry("zero rate", func(c *Config) { c.Rate = 0 }),
		Entry("fraction above 1", func(c *Config) { c.Exchange, c.Renew = FourMessage, 1.5 }),
		Entry("follow-ups without a binding", func(c *Config) { c.Exchange, c.Release = SolicitAdvertise, 0.5 }),
		Entry("relay to multicast", func(c *Config) { c.Relay, c.Server = true, netip6("[ff02::1:2%1]:547") }),
		Entry("no server and no interface", func(c *Config) { c.Server = netip.AddrPort{} }),
	)
})

var _ = Describe("the default destination", func() {
	It("is ff02::1:2 on the socket's interface, port 547", func() {
		conn, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Zone: "lo"})
		if err != nil {
			Skip("no IPv6 socket on lo: " + err.Error())
		}
		defer conn.Close()
		res, err := Run(context.Background(), conn, Config{Interface: "lo", Rate: 100, Count: 3, Timeout: 50 * time.Millisecond}, nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(res).NotTo(BeNil())
		Expect(res.Config.Server).To(Equal(netip.MustParseAddrPort("[ff02::1:2%lo]:547")))
		Expect(res.Stats.Started).To(BeEquivalentTo(3))
		Expect(res.Stats.Completed).To(BeZero(), "nobody serves on lo")
		Expect(res.Stats.Dropped + res.Stats.SendErrors).To(BeNumerically(">=", 3))
	})
})
