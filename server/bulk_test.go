package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/server/lease"
	"d6lab/transport"
)

// relayIDOpt is a Relay-ID option (RFC 5460 §5.4.1) carrying id as the
// relay's DUID.
func relayIDOpt(id string) dhcpv6.Option {
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRelayID, OptionData: []byte(id)}
}

// remoteIDOpt is a Remote-ID option (RFC 4649) of enterprise 32473 (RFC
// 5612's documentation number).
func remoteIDOpt(id string) dhcpv6.Option {
	return &dhcpv6.OptRemoteID{EnterpriseNumber: 32473, RemoteID: []byte(id)}
}

// bindRelayed binds client n (one IA_NA) by Solicit and Request, each
// in a Relay-forward from link with the relay's extra options, and
// returns the address.
func bindRelayed(s *Server, now time.Time, n int, link string, extra ...dhcpv6.Option) string {
	via := func(m *dhcpv6.Message) *dhcpv6.Message {
		out, _, ok := roundTrip(s, now, relayForw(m, 0, link, "fe80::99", "port1", extra...), relaySrc, false)
		Expect(ok).To(BeTrue())
		in, err := out.(*dhcpv6.RelayMessage).GetInnerMessage()
		Expect(err).NotTo(HaveOccurred())
		return in
	}
	adv := via(newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), naOpt(1)))
	rep := via(newMsg(dhcpv6.MessageTypeRequest, cid(n), sidOf(s), elapsed(), naOpt(1, firstLease(adv))))
	a := firstLease(rep)
	Expect(a).NotTo(BeEmpty())
	return a
}

// bulkQueryOpt is an OPTION_LQ_QUERY of a Bulk Leasequery query-type.
func bulkQueryOpt(typ uint8, link string, qopts ...dhcpv6.Option) dhcpv6.Option {
	return lqQueryOpt(typ, link, qopts...)
}

// bulkAsk sends m as one frame through HandleBulk and decodes the frames
// of the answer, checking each one's length prefix.
func bulkAsk(s *Server, now time.Time, m dhcpv6.DHCPv6) ([]*dhcpv6.Message, BulkAnswer) {
	a := s.HandleBulk(now, m.ToBytes())
	var out []*dhcpv6.Message
	for _, f := range a.Frames {
		Expect(len(f)).To(BeNumerically(">=", 2))
		Expect(int(f[0])<<8 | int(f[1])).To(Equal(len(f) - 2))
		d, err := dhcpv6.FromBytes(f[2:])
		Expect(err).NotTo(HaveOccurred())
		out = append(out, d.(*dhcpv6.Message))
	}
	return out, a
}

// types lists the message types of an answer.
func types(ms []*dhcpv6.Message) []dhcpv6.MessageType {
	out := make([]dhcpv6.MessageType, len(ms))
	for i, m := range ms {
		out[i] = m.MessageType
	}
	return out
}

// answeredDUIDs is the Client ID of every OPTION_CLIENT_DATA in ms.
func answeredDUIDs(ms []*dhcpv6.Message) [][]byte {
	var out [][]byte
	for _, m := range ms {
		for _, cd := range clientDatas(m) {
			out = append(out, cd.DUID)
		}
	}
	return out
}

func duidOf(n int) []byte { return clientDUID(n).ToBytes() }

var (
	lqReply = dhcpv6.MessageTypeLeaseQueryReply
	lqData  = dhcpv6.MessageTypeLeaseQueryData
	lqDone  = dhcpv6.MessageTypeLeaseQueryDone
)

var _ = Describe("Bulk Leasequery (RFC 5460), the core", func() {
	var s *Server
	BeforeEach(func() { s = newServer(testConfig("s1")) })

	It("keeps the link-address, Relay-ID and Remote-ID of the relay closest to the client with the binding", func() {
		sol := newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1))
		inner := relayForw(sol, 0, "2001:db8:5::1", "fe80::99", "p1", relayIDOpt("inner"), remoteIDOpt("circuit-7"))
		outer := relayForw(inner, 1, "2001:db8:6::1", "2001:db8:5::fe", "up", relayIDOpt("outer"), remoteIDOpt("other"))
		out, _, ok := roundTrip(s, t0, outer, relaySrc, false)
		Expect(ok).To(BeTrue())
		adv, err := out.(*dhcpv6.RelayMessage).GetInnerMessage()
		Expect(err).NotTo(HaveOccurred())
		req := newMsg(dhcpv6.MessageTypeRequest, cid(1), sidOf(s), elapsed(), naOpt(1, firstLease(adv)))
		inner = relayForw(req, 0, "2001:db8:5::1", "fe80::99", "p1", relayIDOpt("inner"), remoteIDOpt("circuit-7"))
		outer = relayForw(inner, 1, "2001:db8:6::1", "2001:db8:5::fe", "up", relayIDOpt("outer"), remoteIDOpt("other"))
		_, _, ok = roundTrip(s, t0, outer, relaySrc, false)
		Expect(ok).To(BeTrue())
		var got []lease.Binding
		for b := range s.Store().All() {
			got = append(got, b)
		}
		Expect(got).To(HaveLen(1))
		Expect(got[0].LinkAddr).To(Equal(netip.MustParseAddr("2001:db8:5::1")))
		Expect(got[0].RelayID).To(Equal([]byte("inner")))
		Expect(got[0].RemoteID).To(Equal(append([]byte{0, 0, 0x7e, 0xd9}, "circuit-7"...)))
	})

	It("keeps no relay data for a client that came directly", func() {
		bindClient(s, t0, 1)
		for b := range s.Store().All() {
			Expect(b.LinkAddr.IsValid()).To(BeFalse())
			Expect(b.RelayID).To(BeNil())
			Expect(b.RemoteID).To(BeNil())
		}
	})

	Context("with clients behind two relays and one on the server's link", func() {
		BeforeEach(func() {
			for n := 1; n <= 3; n++ {
				bindRelayed(s, t0, n, "2001:db8:5::1", relayIDOpt("relay-a"), remoteIDOpt("circuit-"+string(rune('0'+n))))
			}
			bindRelayed(s, t0, 4, "2001:db8:6::1", relayIDOpt("relay-b"), remoteIDOpt("circuit-4"))
			Expect(bindClient(s, t0, 5)).NotTo(BeEmpty())
		})

		It("answers a query by relay ID with LEASEQUERY-REPLY, one LEASEQUERY-DATA per further client and LEASEQUERY-DONE, all with the query's transaction ID", func() {
			q := leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("relay-a")))
			q.TransactionID = dhcpv6.TransactionID{0xa, 0xb, 0xc}
			ms, a := bulkAsk(s, t0.Add(5*time.Second), q)
			Expect(a.Close).To(BeFalse())
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply, lqData, lqData, lqDone}))
			for _, m := range ms {
				Expect(m.TransactionID).To(Equal(q.TransactionID))
			}
			// §5.2.1: the REPLY carries the Client and Server IDs; DATA
			// SHOULD NOT carry them nor a status; §5.2.2: DONE SHOULD
			// carry no other option than a status.
			Expect(ms[0].Options.ClientID()).NotTo(BeNil())
			Expect(ms[0].Options.ServerID()).NotTo(BeNil())
			Expect(topStatus(ms[0])).To(BeNil())
			for _, m := range ms[1:] {
				Expect(m.Options.ClientID()).To(BeNil())
				Expect(m.Options.ServerID()).To(BeNil())
				Expect(topStatus(m)).To(BeNil())
			}
			Expect(ms[3].Options.Options).To(BeEmpty())
			Expect(answeredDUIDs(ms)).To(ConsistOf(duidOf(1), duidOf(2), duidOf(3)))
			for _, m := range ms[:3] {
				cd := clientDatas(m)
				Expect(cd).To(HaveLen(1))
				Expect(cd[0].Leases).To(HaveLen(1))
				Expect(cd[0].Leases[0].Valid).To(Equal(25 * time.Second))
				Expect(cd[0].HasCLT).To(BeTrue())
				Expect(cd[0].CLT).To(Equal(uint32(5)))
			}
		})

		It("answers a query by remote ID with the one client behind that circuit", func() {
			ms, _ := bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByRemoteID, "::", remoteIDOpt("circuit-2"))))
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply, lqDone}))
			Expect(answeredDUIDs(ms)).To(ConsistOf([][]byte{duidOf(2)}))
		})

		It("answers a query by link address with the clients on that link, the server's own link holding the direct client", func() {
			ms, _ := bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByLinkAddress, "2001:db8:6::77")))
			Expect(answeredDUIDs(ms)).To(ConsistOf([][]byte{duidOf(4)}))
			ms, _ = bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByLinkAddress, "2001:db8:5::1")))
			Expect(answeredDUIDs(ms)).To(ConsistOf(duidOf(1), duidOf(2), duidOf(3)))
			ms, _ = bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByLinkAddress, "2001:db8:1::1")))
			Expect(answeredDUIDs(ms)).To(ConsistOf([][]byte{duidOf(5)}))
		})

		It("limits a query by relay ID to the link its non-zero link-address names", func() {
			ms, _ := bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByRelayID, "2001:db8:6::1", relayIDOpt("relay-a"))))
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply}))
			Expect(answeredDUIDs(ms)).To(BeEmpty())
		})

		It("answers an unknown relay with a LEASEQUERY-REPLY without client data and no LEASEQUERY-DONE", func() {
			ms, a := bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("nobody"))))
			Expect(a.Close).To(BeFalse())
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply}))
			Expect(clientDatas(ms[0])).To(BeEmpty())
			Expect(topStatus(ms[0])).To(BeNil(), "RFC 5460 §7.2: no OPTION_STATUS_CODE")
		})

		It("never reports an expired binding", func() {
			ms, _ := bulkAsk(s, t0.Add(30*time.Second), leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("relay-a"))))
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply}))
			Expect(clientDatas(ms[0])).To(BeEmpty())
		})

		It("answers RFC 5007's query by client ID with LEASEQUERY-REPLY and LEASEQUERY-DONE, and with the REPLY alone when nothing is found", func() {
			ms, _ := bulkAsk(s, t0, leasequeryMsg(byClientID(2)))
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply, lqDone}))
			Expect(answeredDUIDs(ms)).To(ConsistOf([][]byte{duidOf(2)}))
			ms, _ = bulkAsk(s, t0, leasequeryMsg(byClientID(77)))
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply}))
		})
	})

	DescribeTable("answers a malformed bulk query with a status in the LEASEQUERY-REPLY alone",
		func(q dhcpv6.Option, want iana.StatusCode) {
			bindRelayed(s, t0, 1, "2001:db8:5::1", relayIDOpt("relay-a"))
			ms, a := bulkAsk(s, t0, leasequeryMsg(q))
			Expect(a.Close).To(BeFalse())
			Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply}))
			Expect(topStatus(ms[0])).To(Equal(sc(want)))
			Expect(clientDatas(ms[0])).To(BeEmpty())
		},
		Entry("by relay ID without an OPTION_RELAY_ID", bulkQueryOpt(queryByRelayID, "::", cid(1)), iana.StatusMalformedQuery),
		Entry("by relay ID with an empty one", bulkQueryOpt(queryByRelayID, "::", relayIDOpt("")), iana.StatusMalformedQuery),
		Entry("by remote ID without an OPTION_REMOTE_ID", bulkQueryOpt(queryByRemoteID, "::"), iana.StatusMalformedQuery),
		Entry("by remote ID with only an enterprise number",
			bulkQueryOpt(queryByRemoteID, "::", &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRemoteID, OptionData: []byte{0, 0, 0, 9}}), iana.StatusMalformedQuery),
		Entry("by link address ::", bulkQueryOpt(queryByLinkAddress, "::"), iana.StatusMalformedQuery),
		Entry("by a link address on no link the server knows", bulkQueryOpt(queryByLinkAddress, "2001:db8:77::1"), iana.StatusNotConfigured),
		Entry("query-options cut inside an option",
			&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: append(append([]byte{queryByRelayID}, make([]byte, 16)...), 0, 53, 0, 9, 1)}, iana.StatusMalformedQuery),
		Entry("an unknown query-type", bulkQueryOpt(99, "::"), iana.StatusUnknownQueryType),
	)

	DescribeTable("ends the connection on what is not a query it can answer",
		func(frame func() []byte, end BulkEnd, drop DropReason) {
			a := s.HandleBulk(t0, frame())
			Expect(a.Frames).To(BeEmpty())
			Expect(a.Close).To(BeTrue())
			Expect(a.End).To(Equal(end))
			if end == BulkEndDiscarded {
				Expect(a.Drop).To(Equal(drop))
			}
		},
		Entry("a frame shorter than a message header", func() []byte { return []byte{14, 0} }, BulkEndBadFrame, DropReason(0)),
		Entry("a frame that does not decode", func() []byte {
			return append(leasequeryMsg(byClientID(1)).ToBytes(), 0, 1, 0)
		}, BulkEndMalformed, DropReason(0)),
		Entry("a Solicit (§4)", func() []byte {
			return newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1)).ToBytes()
		}, BulkEndNotLeasequery, DropReason(0)),
		Entry("a Relay-forward", func() []byte {
			return relayForw(leasequeryMsg(byClientID(1)), 0, "2001:db8:1::1", "fe80::1", "").ToBytes()
		}, BulkEndNotLeasequery, DropReason(0)),
		Entry("a LEASEQUERY without the requestor's Client ID (RFC 5007 §4.2.1)", func() []byte {
			return newMsg(dhcpv6.MessageTypeLeaseQuery, byClientID(1)).ToBytes()
		}, BulkEndDiscarded, DropLeasequeryNoClientID),
		Entry("a LEASEQUERY for another server", func() []byte {
			return leasequeryMsg(otherSID(), byClientID(1)).ToBytes()
		}, BulkEndDiscarded, DropLeasequeryOtherServer),
		Entry("a LEASEQUERY without OPTION_LQ_QUERY", func() []byte {
			return leasequeryMsg().ToBytes()
		}, BulkEndDiscarded, DropLeasequeryNoQuery),
	)

	It("does not change the server's UDP counters", func() {
		before := s.Counters()
		bulkAsk(s, t0, leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("x"))))
		Expect(s.Counters()).To(Equal(before))
	})
})

var _ = Describe("Bulk Leasequery framing (RFC 5460 §5.1)", func() {
	scan := func(stream []byte) ([][]byte, error) {
		sc := NewBulkScanner(bytes.NewReader(stream))
		var out [][]byte
		for sc.Scan() {
			out = append(out, bytes.Clone(sc.Bytes()))
		}
		return out, sc.Err()
	}
	a, b := leasequeryMsg(byClientID(1)).ToBytes(), leasequeryMsg(byClientID(2)).ToBytes()

	It("cuts a stream into the messages, each after its two-octet length", func() {
		got, err := scan(AppendBulkFrame(AppendBulkFrame(nil, a), b))
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(Equal([][]byte{a, b}))
	})

	It("refuses a stream that ends inside a frame", func() {
		s := AppendBulkFrame(AppendBulkFrame(nil, a), b)
		got, err := scan(s[:len(s)-3])
		Expect(got).To(Equal([][]byte{a}))
		Expect(errors.Is(err, ErrBulkFrame)).To(BeTrue())
	})

	It("refuses a length shorter than a DHCPv6 message header", func() {
		_, err := scan([]byte{0, 3, 14, 1, 2})
		Expect(errors.Is(err, ErrBulkFrame)).To(BeTrue())
	})
})

// dialBulk connects to a BulkServer on ln.
func dialBulk(ln net.Listener) net.Conn {
	c, err := net.Dial("tcp", ln.Addr().String())
	Expect(err).NotTo(HaveOccurred())
	return c
}

// smallBuffers gives each accepted connection a 4 kB send buffer.
type smallBuffers struct{ net.Listener }

func (l smallBuffers) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// frames reads c's answers: each call returns the frames up to a
// LEASEQUERY-DONE, a REPLY without client data, or the end of the stream
// (io.EOF).
func frames(c net.Conn) func() ([]*dhcpv6.Message, error) {
	sc := NewBulkScanner(c)
	return func() ([]*dhcpv6.Message, error) {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var out []*dhcpv6.Message
		for sc.Scan() {
			m, err := dhcpv6.FromBytes(sc.Bytes())
			if err != nil {
				return out, err
			}
			msg := m.(*dhcpv6.Message)
			out = append(out, msg)
			if msg.MessageType == lqDone || (msg.MessageType == lqReply && msg.Options.GetOne(dhcpv6.OptionClientData) == nil) {
				return out, nil
			}
		}
		if sc.Err() == nil {
			return out, io.EOF
		}
		return out, sc.Err()
	}
}

func readFrames(c net.Conn) ([]*dhcpv6.Message, error) { return frames(c)() }

var _ = Describe("BulkServer, the TCP side", func() {
	var (
		s      *Server
		bs     *BulkServer
		ln     net.Listener
		cancel context.CancelFunc
		done   chan error
		wrap   func(net.Listener) net.Listener // around the listener, when set
	)
	start := func(maxConns int, timeout time.Duration) {
		var err error
		bs, err = NewBulkServer(s, func() time.Time { return t0 })
		Expect(err).NotTo(HaveOccurred())
		bs.MaxConns, bs.Timeout = maxConns, timeout
		ln, err = net.Listen("tcp", "127.0.0.1:0")
		Expect(err).NotTo(HaveOccurred())
		if wrap != nil {
			ln = wrap(ln)
		}
		var ctx context.Context
		ctx, cancel = context.WithCancel(context.Background())
		done = make(chan error, 1)
		go func() { done <- bs.Serve(ctx, ln) }()
	}
	BeforeEach(func() {
		wrap = nil
		s = newServer(testConfig("s1"))
		for n := 1; n <= 3; n++ {
			bindRelayed(s, t0, n, "2001:db8:5::1", relayIDOpt("relay-a"))
		}
	})
	AfterEach(func() {
		cancel()
		Eventually(done).Should(Receive(BeNil()))
	})

	It("answers queries one after the other on one connection", func() {
		start(0, 0)
		c := dialBulk(ln)
		defer c.Close()
		q1 := leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("relay-a")))
		q2 := leasequeryMsg(byClientID(2))
		q2.TransactionID = dhcpv6.TransactionID{9, 9, 9}
		// Both queries in one write: the second waits for the first's
		// answer to be sent (no interleaving).
		_, err := c.Write(AppendBulkFrame(AppendBulkFrame(nil, q1.ToBytes()), q2.ToBytes()))
		Expect(err).NotTo(HaveOccurred())
		next := frames(c)
		ms, err := next()
		Expect(err).NotTo(HaveOccurred())
		Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply, lqData, lqData, lqDone}))
		Expect(ms[3].TransactionID).To(Equal(q1.TransactionID))
		ms, err = next()
		Expect(err).NotTo(HaveOccurred())
		Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply, lqDone}))
		Expect(ms[0].TransactionID).To(Equal(q2.TransactionID))
		// The counters are added after each write: the last may lag the read.
		Eventually(func() uint64 { return bs.Counters().Messages }).Should(Equal(uint64(6)))
		Expect(bs.Counters().Queries).To(Equal(uint64(2)))
	})

	It("closes a connection beyond MaxConns at once and serves the others", func() {
		start(2, 0)
		c1, c2 := dialBulk(ln), dialBulk(ln)
		defer c1.Close()
		defer c2.Close()
		// Both are served (a query answered) before the third arrives.
		for _, c := range []net.Conn{c1, c2} {
			_, err := c.Write(AppendBulkFrame(nil, leasequeryMsg(byClientID(1)).ToBytes()))
			Expect(err).NotTo(HaveOccurred())
			_, err = readFrames(c)
			Expect(err).NotTo(HaveOccurred())
		}
		c3 := dialBulk(ln)
		defer c3.Close()
		_, _ = c3.Write(AppendBulkFrame(nil, leasequeryMsg(byClientID(1)).ToBytes()))
		ms, err := readFrames(c3)
		Expect(ms).To(BeEmpty())
		Expect(err).To(HaveOccurred())
		Expect(bs.Counters().Refused).To(Equal(uint64(1)))
		// Once one closes, a new connection is served again.
		c1.Close()
		Eventually(func() uint64 { return bs.Counters().Ended[BulkEndClosed] }).Should(Equal(uint64(1)))
		c4 := dialBulk(ln)
		defer c4.Close()
		_, err = c4.Write(AppendBulkFrame(nil, leasequeryMsg(byClientID(1)).ToBytes()))
		Expect(err).NotTo(HaveOccurred())
		ms, err = readFrames(c4)
		Expect(err).NotTo(HaveOccurred())
		Expect(types(ms)).To(Equal([]dhcpv6.MessageType{lqReply, lqDone}))
	})

	It("closes a connection that sends no query within the data timeout, and one that sends a bad frame, counting each", func() {
		start(0, 200*time.Millisecond)
		idle := dialBulk(ln)
		defer idle.Close()
		_, err := readFrames(idle)
		Expect(err).To(MatchError(io.EOF))
		bad := dialBulk(ln)
		defer bad.Close()
		_, _ = bad.Write([]byte{0, 2, 14, 0})
		_, err = readFrames(bad)
		Expect(err).To(HaveOccurred())
		Eventually(func() map[BulkEnd]uint64 { return bs.Counters().Ended }).Should(Equal(map[BulkEnd]uint64{BulkEndIdle: 1, BulkEndBadFrame: 1}))
	})

	It("stops when its context ends, closing the connections", func() {
		start(0, 0)
		c := dialBulk(ln)
		defer c.Close()
		Eventually(func() uint64 { return bs.Counters().Accepted }).Should(Equal(uint64(1)))
		cancel()
		Eventually(done).Should(Receive(BeNil()))
		done <- nil // for AfterEach
		_, err := readFrames(c)
		Expect(err).To(HaveOccurred())
		Expect(bs.Counters().Ended).To(HaveKeyWithValue(BulkEndShutdown, uint64(1)))
	})

	It("closes a connection whose requestor takes none of a long answer within the data timeout", func() {
		for n := 10; n < 600; n++ {
			bindRelayed(s, t0, n, "2001:db8:5::1", relayIDOpt("relay-a"))
		}
		// Small socket buffers on both ends: the answer (about 50 kB)
		// cannot all be queued, so the server's write blocks.
		wrap = func(l net.Listener) net.Listener { return smallBuffers{l} }
		start(0, 300*time.Millisecond)
		d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		c, err := d.Dial("tcp", ln.Addr().String())
		Expect(err).NotTo(HaveOccurred())
		defer c.Close()
		_, err = c.Write(AppendBulkFrame(nil, leasequeryMsg(bulkQueryOpt(queryByRelayID, "::", relayIDOpt("relay-a"))).ToBytes()))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() map[BulkEnd]uint64 { return bs.Counters().Ended }, 5*time.Second).Should(HaveKeyWithValue(BulkEndWriteError, uint64(1)))
		Expect(bs.Counters().Messages).To(BeNumerically("<", 594)) // REPLY, 592 DATA, DONE
	})

	It("refuses a store not known to be safe for concurrent use", func() {
		start(0, 0)
		other, err := New(testConfig("s2"), struct{ lease.Store }{lease.NewMemory()})
		Expect(err).NotTo(HaveOccurred())
		_, err = NewBulkServer(other, func() time.Time { return t0 })
		Expect(err).To(MatchError(ContainSubstring("not known to be safe for concurrent use")))
	})
})

// TestBulkBesideServe queries the store by Bulk Leasequery while Serve
// binds clients on another goroutine: under -race it shows the core reads
// nothing Serve writes but the store, and every answer is consistent (each
// client's data whole, the count never falling).
func TestBulkBesideServe(t *testing.T) {
	cfg := testConfig("s1")
	cfg.RapidCommit = true
	s := newServer(cfg)
	const clients = 200
	srv, cli := serverAndClient(t, 2*clients) // answers beyond cli's queue are dropped, never blocking
	clock := func() time.Time { return t0 }
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, srv, s, clock) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()
	rc := &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; n <= clients; n++ {
			m := newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), rc, naOpt(1))
			if _, err := cli.WriteTo(m.ToBytes(), netip.AddrPortFrom(transport.AllServers, transport.ServerPort)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	q := leasequeryMsg(bulkQueryOpt(queryByLinkAddress, "2001:db8:1::1")).ToBytes()
	count := func() int {
		a := s.HandleBulk(t0, q)
		if a.Close {
			t.Fatalf("bulk query ended the connection: %s", a.End)
		}
		n := 0
		for _, f := range a.Frames {
			m, err := dhcpv6.FromBytes(f[2:])
			if err != nil {
				t.Fatalf("answer frame does not decode: %v", err)
			}
			for _, o := range m.(*dhcpv6.Message).Options.Get(dhcpv6.OptionClientData) {
				var opts dhcpv6.Options
				if err := opts.FromBytes(o.ToBytes()); err != nil || opts.GetOne(dhcpv6.OptionIAAddr) == nil || opts.GetOne(dhcpv6.OptionCLTTime) == nil {
					t.Fatalf("client data not whole: %v", err)
				}
				n++
			}
		}
		return n
	}
	last := 0
	deadline := time.Now().Add(20 * time.Second)
	for last < clients && time.Now().Before(deadline) {
		n := count()
		if n < last {
			t.Fatalf("a later snapshot holds %d clients, an earlier one %d", n, last)
		}
		last = n
		runtime.Gosched()
	}
	wg.Wait()
	if last != clients {
		t.Fatalf("bulk query by link found %d of %d clients", last, clients)
	}
}
