package conform

import (
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"
	g "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// Hand-built Bulk Leasequery answers (RFC 5460 §5.2) for the judges.
var (
	bxid      = dhcpv6.TransactionID{1, 2, 3}
	requestor = newClient(900)
	srvDUID   = &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 0xf1}}
)

// cdOf is the OPTION_CLIENT_DATA of cl holding one address.
func cdOf(cl client) dhcpv6.Option {
	var clt [4]byte
	binary.BigEndian.PutUint32(clt[:], 3)
	opts := dhcpv6.Options{
		dhcpv6.OptClientID(cl.duid),
		&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:c0::1:10"), PreferredLifetime: 100 * time.Second, ValidLifetime: 200 * time.Second},
		&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionCLTTime, OptionData: clt[:]},
	}
	return &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionClientData, OptionData: opts.ToBytes()}
}

func lqMsg(t dhcpv6.MessageType, xid dhcpv6.TransactionID, opts ...dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: xid}
	for _, o := range opts {
		m.AddOption(o)
	}
	return m
}

func lqReplyOf(xid dhcpv6.TransactionID, opts ...dhcpv6.Option) *dhcpv6.Message {
	return lqMsg(dhcpv6.MessageTypeLeaseQueryReply, xid, append([]dhcpv6.Option{dhcpv6.OptClientID(requestor.duid), dhcpv6.OptServerID(srvDUID)}, opts...)...)
}

func lqDataOf(xid dhcpv6.TransactionID, cl client) *dhcpv6.Message {
	return lqMsg(dhcpv6.MessageTypeLeaseQueryData, xid, cdOf(cl))
}

func lqDoneOf(xid dhcpv6.TransactionID) *dhcpv6.Message {
	return lqMsg(dhcpv6.MessageTypeLeaseQueryDone, xid)
}

var _ = g.Describe("Bulk Leasequery judges (RFC 5460 §5.2)", func() {
	c1, c2, c3 := newClient(1), newClient(2), newClient(3)
	other := dhcpv6.TransactionID{9, 9, 9}

	g.DescribeTable("judgeBulk",
		func(ms []*dhcpv6.Message, err error, want bulkWant, verdict any, detail string) {
			v, d := judgeBulk(ms, err, bxid, want)
			Expect(v).To(Equal(verdict), d)
			Expect(d).To(ContainSubstring(detail))
		},
		g.Entry("REPLY, DATA, DONE for exactly the wanted clients",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDataOf(bxid, c2), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1, c2}, exact: true}, Pass, "2 client(s) reported"),
		g.Entry("the wanted clients among others on a link",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c3)), lqDataOf(bxid, c1), lqDataOf(bxid, c2), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1, c2}}, Pass, "3 client(s)"),
		g.Entry("no LEASEQUERY-DONE",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDataOf(bxid, c2)}, nil,
			bulkWant{clients: []client{c1, c2}}, Fail, "does not end with a LEASEQUERY-DONE"),
		g.Entry("a lone REPLY with the client",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1))}, nil,
			bulkWant{clients: []client{c1}}, Fail, "no LEASEQUERY-DONE"),
		g.Entry("a DATA with another transaction ID",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDataOf(other, c2), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1, c2}}, Fail, "message 2 has transaction ID 090909"),
		g.Entry("DATA first",
			[]*dhcpv6.Message{lqDataOf(bxid, c1), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1}}, Fail, "does not start with a LEASEQUERY-REPLY"),
		g.Entry("a REPLY with two clients' data",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1), cdOf(c2)), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1, c2}}, Fail, "holds 2 client data"),
		g.Entry("a REPLY without the Server ID",
			[]*dhcpv6.Message{lqMsg(dhcpv6.MessageTypeLeaseQueryReply, bxid, dhcpv6.OptClientID(requestor.duid), cdOf(c1)), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1}}, Fail, "lacks the Server ID"),
		g.Entry("a client twice",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDataOf(bxid, c1), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1}}, Fail, "reported twice"),
		g.Entry("a client of another relay too",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDataOf(bxid, c3), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1}, exact: true}, Fail, "want exactly 1"),
		g.Entry("a wanted client missing",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDoneOf(bxid)}, nil,
			bulkWant{clients: []client{c1, c2}}, Fail, "missing client(s) 2"),
		g.Entry("an error status",
			[]*dhcpv6.Message{lqReplyOf(bxid, &dhcpv6.OptStatusCode{StatusCode: iana.StatusNotAllowed})}, nil,
			bulkWant{clients: []client{c1}}, Fail, "status NotAllowed"),
		g.Entry("the connection closed midway",
			[]*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1))}, io.EOF,
			bulkWant{clients: []client{c1}}, Fail, "then EOF"),
	)

	g.DescribeTable("judgeBulkUnknown",
		func(ms []*dhcpv6.Message, err error, verdict any, detail string) {
			v, d := judgeBulkUnknown(ms, err, bxid, time.Second)
			Expect(v).To(Equal(verdict), d)
			Expect(d).To(ContainSubstring(detail))
		},
		g.Entry("a lone REPLY without client data, status Success",
			[]*dhcpv6.Message{lqReplyOf(bxid, &dhcpv6.OptStatusCode{StatusCode: iana.StatusSuccess})}, nil, Pass, "nothing more within 1s"),
		g.Entry("a lone REPLY without status", []*dhcpv6.Message{lqReplyOf(bxid)}, nil, Pass, "without client data"),
		g.Entry("a REPLY then a DONE", []*dhcpv6.Message{lqReplyOf(bxid), lqDoneOf(bxid)}, nil, Fail, "then a LEASEQUERY-DONE"),
		g.Entry("client data", []*dhcpv6.Message{lqReplyOf(bxid, cdOf(c1)), lqDoneOf(bxid)}, nil, Fail, "client data for 1 client"),
		g.Entry("an error status", []*dhcpv6.Message{lqReplyOf(bxid, &dhcpv6.OptStatusCode{StatusCode: iana.StatusMalformedQuery})}, nil, Fail, "status MalformedQuery"),
		g.Entry("another transaction ID", []*dhcpv6.Message{lqReplyOf(dhcpv6.TransactionID{7, 7, 7})}, nil, Fail, "transaction ID 070707"),
		g.Entry("no answer", nil, errors.New("i/o timeout"), Fail, "no answer: i/o timeout"),
	)

	g.It("asks a query's bytes as RFC 5007 §4.1.2.1 lays them out", func() {
		r := &runner{rng: rand.New(rand.NewPCG(1, 2)), next: 10}
		q := r.bulkQuery(queryByLinkAddress, clientAddr)
		lq := q.Options.GetOne(dhcpv6.OptionLQQuery).ToBytes()
		Expect(lq[0]).To(Equal(uint8(4)))
		Expect(netip.AddrFrom16([16]byte(lq[1:17]))).To(Equal(clientAddr))
		Expect(lq[17:]).To(BeEmpty())
		Expect(q.Options.ClientID()).NotTo(BeNil(), "RFC 5007 §4.2.1: a LEASEQUERY without the requestor's Client ID is discarded")
	})
})
