package server

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/transport"
)

// readTimeout reads one datagram from c or fails after d.
func readTimeout(c transport.Conn, d time.Duration) ([]byte, netip.AddrPort) {
	type pkt struct {
		b   []byte
		src netip.AddrPort
	}
	ch := make(chan pkt, 1)
	go func() {
		b := make([]byte, 2048)
		n, src, _, err := c.ReadFrom(b)
		if err == nil {
			ch <- pkt{b[:n], src}
		}
	}()
	select {
	case p := <-ch:
		return p.b, p.src
	case <-time.After(d):
		Fail("no datagram within " + d.String())
		return nil, netip.AddrPort{}
	}
}

var _ = Describe("Serve", func() {
	var (
		link   *transport.Link
		srv    *transport.MemConn
		cli    *transport.MemConn
		s      *Server
		cancel context.CancelFunc
		done   chan error
	)
	serverAddr := netip.MustParseAddrPort("[fe80::5]:547")

	BeforeEach(func() {
		link = transport.NewLink()
		var err error
		srv, err = link.Attach(serverAddr, 16, transport.AllServers)
		Expect(err).NotTo(HaveOccurred())
		cli, err = link.Attach(clientSrc, 16)
		Expect(err).NotTo(HaveOccurred())
		s = newServer(testConfig("serve"))
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan error, 1)
		clock := func() time.Time { return t0 }
		go func() { done <- Serve(ctx, srv, s, clock) }()
	})

	AfterEach(func() {
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		_ = cli.Close()
	})

	It("answers a multicast Solicit from the link and survives garbage", func() {
		_, err := cli.WriteTo([]byte{0xff, 0, 1}, transport.AllServersPort)
		Expect(err).NotTo(HaveOccurred())
		_, err = cli.WriteTo(newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)).ToBytes(), transport.AllServersPort)
		Expect(err).NotTo(HaveOccurred())
		b, src := readTimeout(cli, 5*time.Second)
		Expect(src).To(Equal(serverAddr))
		adv, err := dhcpv6.FromBytes(b)
		Expect(err).NotTo(HaveOccurred())
		Expect(adv.Type()).To(Equal(dhcpv6.MessageTypeAdvertise))
		Eventually(func() Counters { return s.Counters() }).Should(And(
			HaveField("Received", uint64(2)),
			HaveField("Answered", uint64(1)),
			HaveField("Dropped", HaveKeyWithValue(DropMalformed, uint64(1))),
		))
	})

	It("counts a reply it cannot deliver and goes on", func() {
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		// Serve again on a conn whose writes to the first client fail.
		srv2, err := link.Attach(netip.MustParseAddrPort("[fe80::6]:547"), 16, transport.AllServers)
		Expect(err).NotTo(HaveOccurred())
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		go func() { done <- Serve(ctx, failingConn{srv2, clientSrc.Addr()}, s, func() time.Time { return t0 }) }()
		_, err = cli.WriteTo(newMsg(dhcpv6.MessageTypeSolicit, cid(1), naOpt(1)).ToBytes(), transport.AllServersPort)
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() uint64 { return s.Counters().WriteErrors }).Should(Equal(uint64(1)))
		other, err := link.Attach(netip.MustParseAddrPort("[fe80::77]:546"), 4)
		Expect(err).NotTo(HaveOccurred())
		_, err = other.WriteTo(newMsg(dhcpv6.MessageTypeSolicit, cid(2), naOpt(1)).ToBytes(), transport.AllServersPort)
		Expect(err).NotTo(HaveOccurred())
		readTimeout(other, 5*time.Second) // still serving
	})
})

// failingConn fails every write to one address. It embeds the Conn
// interface, not the MemConn, so that it does not inherit MemConn's
// WriteBatch (which would bypass this WriteTo): Serve then batches it
// through transport.Batch's one-by-one adapter.
type failingConn struct {
	transport.Conn
	bad netip.Addr
}

func (c failingConn) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	if dst.Addr() == c.bad {
		return 0, errors.New("no route")
	}
	return c.Conn.WriteTo(b, dst)
}

var _ = Describe("Serve's exit", func() {
	It("returns an error when the conn fails without a cancel, and nil on cancel", func() {
		link := transport.NewLink()
		c, _ := link.Attach(netip.MustParseAddrPort("[fe80::9]:547"), 4)
		s := newServer(testConfig("exit"))
		done := make(chan error, 1)
		go func() { done <- Serve(context.Background(), c, s, func() time.Time { return t0 }) }()
		_ = c.Close()
		var err error
		Eventually(done).Should(Receive(&err))
		Expect(errors.Is(err, net.ErrClosed)).To(BeTrue())
		Expect(Serve(context.Background(), c, s, nil)).To(HaveOccurred())
	})
})

var _ = Describe("Serve's outboxes", func() {
	one := func() []transport.Packet { return []transport.Packet{{Buf: make([]byte, 0, 8)}} }
	fill := func() *outbox {
		o := newOutbox(&answerBufs{})
		for range maxWaiting {
			Expect(o.put(one())).To(BeTrue())
		}
		return o
	}
	// put in the background; its result on the channel.
	putLater := func(o *outbox) chan bool {
		done := make(chan bool, 1)
		go func() { done <- o.put(one()) }()
		return done
	}

	It("hold the handler back while maxWaiting answers wait, until the consumer has sent a batch", func() {
		o := fill()
		done := putLater(o)
		Consistently(done, 100*time.Millisecond).ShouldNot(Receive(), "a put with %d answers waiting", maxWaiting)
		batch, ok := o.take(context.Background())
		Expect(ok).To(BeTrue())
		Expect(batch).To(HaveLen(maxWaiting))
		o.recycle(batch)
		Eventually(done).Should(Receive(BeTrue()))
	})

	It("release a waiting handler when the consumer stops, or refuse its answers once closed", func() {
		o := fill()
		done := putLater(o)
		o.stop()
		Eventually(done).Should(Receive(BeTrue()))

		o = fill()
		done = putLater(o)
		Expect(o.close()).To(Equal(maxWaiting), "the answers never taken")
		Eventually(done).Should(Receive(BeFalse()))
	})
})
