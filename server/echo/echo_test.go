package echo_test

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"d6lab/clientsim/load"
	"d6lab/server/echo"
	"d6lab/transport"
)

var duid = []byte{0, 3, 0, 1, 2, 0, 0, 0, 0xec, 1}

func newEcho() *echo.Echo {
	e, err := echo.New(duid)
	Expect(err).NotTo(HaveOccurred())
	return e
}

// request builds a client message with the generator's options: Client
// ID, Elapsed Time, the IAs asked for, Rapid Commit when asked.
func request(t dhcpv6.MessageType, na, pd, rapid bool) *dhcpv6.Message {
	m, err := dhcpv6.NewMessage()
	Expect(err).NotTo(HaveOccurred())
	m.MessageType = t
	m.TransactionID = dhcpv6.TransactionID{0xab, 0xcd, 0xef}
	m.AddOption(dhcpv6.OptClientID(&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 7}}))
	m.AddOption(dhcpv6.OptElapsedTime(0))
	if na {
		m.AddOption(&dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}})
	}
	if pd {
		m.AddOption(&dhcpv6.OptIAPD{IaId: [4]byte{0, 0, 0, 2}})
	}
	if rapid {
		m.AddOption(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRapidCommit})
	}
	return m
}

func answer(e *echo.Echo, req []byte) []byte {
	dst := make([]byte, len(req)+echo.MaxAnswer)
	n := e.Answer(dst, req)
	Expect(n).To(BeNumerically(">", 0), "no answer to % x", req)
	return dst[:n]
}

var _ = Describe("Answer", func() {
	e := newEcho()

	DescribeTable("answers each client message with the reply type it calls for, the same transaction ID and the IAs granted",
		func(t dhcpv6.MessageType, rapid bool, want dhcpv6.MessageType) {
			req := request(t, true, true, rapid)
			b := answer(e, req.ToBytes())
			got, err := dhcpv6.MessageFromBytes(b)
			Expect(err).NotTo(HaveOccurred())
			Expect(got.MessageType).To(Equal(want))
			Expect(got.TransactionID).To(Equal(req.TransactionID))
			Expect(got.Options.ClientID().String()).To(Equal(req.Options.ClientID().String()))
			Expect(got.Options.ServerID().ToBytes()).To(Equal(duid))
			na := got.Options.OneIANA()
			Expect(na).NotTo(BeNil())
			Expect(na.IaId).To(Equal([4]byte{0, 0, 0, 1}))
			Expect(na.Options.OneAddress().IPv6Addr.String()).To(Equal(echo.Addr.String()))
			Expect(na.Options.OneAddress().ValidLifetime).To(BeNumerically(">", 0))
			pd := got.Options.OneIAPD()
			Expect(pd).NotTo(BeNil())
			Expect(pd.IaId).To(Equal([4]byte{0, 0, 0, 2}))
			Expect(pd.Options.Prefixes()).To(HaveLen(1))
			Expect(pd.Options.Prefixes()[0].Prefix.String()).To(Equal(echo.Prefix.String()))
			Expect(got.GetOneOption(dhcpv6.OptionRapidCommit) != nil).To(Equal(rapid && t == dhcpv6.MessageTypeSolicit))
		},
		Entry("Solicit: Advertise", dhcpv6.MessageTypeSolicit, false, dhcpv6.MessageTypeAdvertise),
		Entry("Rapid Commit Solicit: Reply (RFC 9915 §18.3.1)", dhcpv6.MessageTypeSolicit, true, dhcpv6.MessageTypeReply),
		Entry("Request: Reply", dhcpv6.MessageTypeRequest, false, dhcpv6.MessageTypeReply),
		Entry("Renew: Reply", dhcpv6.MessageTypeRenew, false, dhcpv6.MessageTypeReply),
		Entry("Rebind: Reply", dhcpv6.MessageTypeRebind, false, dhcpv6.MessageTypeReply),
		Entry("Release: Reply", dhcpv6.MessageTypeRelease, false, dhcpv6.MessageTypeReply),
	)

	It("answers a Relay-forward with a Relay-reply around the answer, the Interface-ID echoed (RFC 9915 §19.3)", func() {
		inner := request(dhcpv6.MessageTypeSolicit, true, false, false)
		rf, err := dhcpv6.EncapsulateRelay(inner, dhcpv6.MessageTypeRelayForward,
			net.ParseIP("2001:db8:be::2"), net.ParseIP("fe80::7"))
		Expect(err).NotTo(HaveOccurred())
		rf.AddOption(dhcpv6.OptInterfaceID([]byte("eth7")))
		b := answer(e, rf.ToBytes())
		got, err := dhcpv6.FromBytes(b)
		Expect(err).NotTo(HaveOccurred())
		rr, ok := got.(*dhcpv6.RelayMessage)
		Expect(ok).To(BeTrue())
		Expect(rr.MessageType).To(Equal(dhcpv6.MessageTypeRelayReply))
		Expect(rr.LinkAddr.String()).To(Equal("2001:db8:be::2"))
		Expect(rr.PeerAddr.String()).To(Equal("fe80::7"))
		Expect(rr.Options.InterfaceID()).To(Equal([]byte("eth7")))
		m, err := rr.GetInnerMessage()
		Expect(err).NotTo(HaveOccurred())
		Expect(m.MessageType).To(Equal(dhcpv6.MessageTypeAdvertise))
		Expect(m.TransactionID).To(Equal(inner.TransactionID))
	})

	DescribeTable("does not answer what no server answers, or what it cannot read",
		func(b []byte) {
			Expect(e.Answer(make([]byte, 512), b)).To(BeZero())
		},
		Entry("an Advertise", request(dhcpv6.MessageTypeAdvertise, true, false, false).ToBytes()),
		Entry("a Reply", request(dhcpv6.MessageTypeReply, true, false, false).ToBytes()),
		Entry("a Relay-reply", []byte{13, 0, 1, 2, 3}),
		Entry("three bytes", []byte{1, 0, 0}),
		Entry("an option overrunning the message", []byte{1, 0, 0, 1, 0, 1, 0, 9, 1}),
		Entry("a Relay-forward without a Relay Message", make([]byte, 34)),
	)

	It("returns 0 rather than overrun a small buffer", func() {
		req := request(dhcpv6.MessageTypeSolicit, true, true, false).ToBytes()
		Expect(e.Answer(make([]byte, 40), req)).To(BeZero())
	})

	It("refuses a DUID that cannot be a Server Identifier", func() {
		_, err := echo.New(nil)
		Expect(err).To(MatchError(echo.ErrDUID))
	})

	It("allocates nothing", func() {
		req := request(dhcpv6.MessageTypeRequest, true, true, false).ToBytes()
		dst := make([]byte, len(req)+echo.MaxAnswer)
		Expect(testing.AllocsPerRun(100, func() { e.Answer(dst, req) })).To(BeZero())
	})
})

var _ = Describe("Serve", func() {
	It("answers the load generator's exchanges over a real socket: every one completes, none unexpected", func() {
		conn, err := transport.ListenUDP("lo", 0)
		if err != nil {
			Skip("no loopback socket: " + err.Error())
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan echo.Counters, 1)
		go func() {
			defer GinkgoRecover()
			c, err := newEcho().Serve(ctx, conn)
			Expect(err).NotTo(HaveOccurred())
			done <- c
		}()
		client, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
		Expect(err).NotTo(HaveOccurred())
		defer client.Close()
		srv := netip.AddrPortFrom(netip.IPv6Loopback(), conn.LocalAddr().Port())
		res, err := load.Run(context.Background(), client, load.Config{
			Clients: 100, Exchange: load.FourMessage, NA: true, PD: true, Renew: 0.5, Release: 0.5,
			Server: srv, Rate: 500, Count: 200, Timeout: 2 * time.Second,
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		cancel()
		c := <-done
		st := res.Stats
		Expect(st.Started).To(BeEquivalentTo(200))
		Expect(st.Completed).To(Equal(st.Started), "%+v", st)
		Expect(st.Failed+st.Dropped+st.Malformed+st.Unexpected).To(BeZero(), "%+v", st)
		Expect(st.Kinds["renew"].Completed).To(BeNumerically(">", 0))
		Expect(st.Kinds["release"].Completed).To(BeNumerically(">", 0))
		Expect(c.Answered).To(Equal(c.Received))
		Expect(c.Ignored).To(BeZero())
	})
})
