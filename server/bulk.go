package server

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server/lease"
)

// DHCPv6 Bulk Leasequery (RFC 5460), the sans-IO core: a requestor
// connects by TCP to port 547 and sends LEASEQUERY messages, each framed
// by a two-octet length (§5.1); the server answers each with a
// LEASEQUERY-REPLY holding the first client's data, one LEASEQUERY-DATA
// per further client and a LEASEQUERY-DONE (§5.2). Besides RFC 5007's
// query by address and by client ID it answers the three query-types of
// §5.3: by relay ID, by link address, by remote ID. bulk_serve.go is the
// TCP side (ServeBulk).
//
// Concurrency. Serve owns the Server on its own goroutine and Bulk
// Leasequery runs on the connections' goroutines, so an answer must not
// touch what Serve changes. It reads only what New fixed (the
// configuration, the DUID and Server Identifier option, the link and pool
// predicates) and the store, through one All(): lease.Memory and
// lease.Bolt are safe for concurrent use and All copies the bindings under
// the store's read lock, so each query is answered from one consistent
// snapshot of the bindings, taken without waiting for Serve (a query over
// a large store does not hold up the UDP answers either). Its exchange is
// its own (readMessage uses nothing of the server's), and the answers are
// built and encoded by insomniacslk, not in the storage Serve's answers
// reuse (answer.go). ServeBulk refuses a store it cannot vouch for. As with
// UDP Leasequery, a binding in lease.Bolt's cache whose Sync is still
// running may be reported a moment before it is on disk.

// Query types of RFC 5460 §5.3.
const (
	queryByRelayID     = 3 // QUERY_BY_RELAY_ID (§5.3.1): query-options hold an OPTION_RELAY_ID
	queryByLinkAddress = 4 // QUERY_BY_LINK_ADDRESS (§5.3.2): the link-address names the link
	queryByRemoteID    = 5 // QUERY_BY_REMOTE_ID (§5.3.3): query-options hold an OPTION_REMOTE_ID
)

// Connection and transmission parameters (RFC 5460 §5.6).
const (
	// BulkMaxConns is BULK_LQ_MAX_CONNS: connections a server accepts at
	// once (§7.1: servers MUST be able to limit the accepted and active
	// connections, BULK_LQ_MAX_CONNS the default; §7.4: SHOULD be
	// prepared to limit them. Closing the ones beyond it at once is this
	// server's way: §7.1's "closed immediately" is for connections from
	// clients not permitted).
	BulkMaxConns = 10
	// BulkDataTimeout is BULK_LQ_DATA_TIMEOUT, the time a side of the
	// connection waits for the other's data. The server applies it both
	// ways: a connection without a query for that long, or whose
	// requestor takes none of an answer for that long, is closed.
	BulkDataTimeout = 300 * time.Second
)

// statusQueryTerminated ends a LEASEQUERY-DONE for a query the server
// abandons after its LEASEQUERY-REPLY (RFC 5460 §5.5, §7.4).
const statusQueryTerminated = iana.StatusQueryTerminated // 11

// bulkHeader is the smallest DHCPv6 message: msg-type and transaction-id
// (RFC 9915 §8); a frame shorter than that cannot be one.
const bulkHeader = 4

// bulkMaxFrame is the largest frame: the length field is 16 bits (§5.1).
const bulkMaxFrame = 2 + 0xffff

// BulkEnd is why a Bulk Leasequery connection ended.
type BulkEnd uint8

// Why connections end. Each but BulkEndClosed and BulkEndShutdown names a
// rule the requestor broke or a limit it hit.
const (
	// BulkEndClosed: the requestor closed its end between queries.
	BulkEndClosed BulkEnd = iota
	// BulkEndBadFrame: a frame too short to hold a DHCPv6 message, or cut
	// off by the end of the stream (§5.1).
	BulkEndBadFrame
	// BulkEndMalformed: a frame that does not decode as a DHCPv6 message.
	BulkEndMalformed
	// BulkEndNotLeasequery: a message other than LEASEQUERY: only
	// LEASEQUERY, LEASEQUERY-REPLY, -DATA and -DONE are allowed on the
	// connection, and of those only LEASEQUERY goes to a server (§4).
	BulkEndNotLeasequery
	// BulkEndDiscarded: a LEASEQUERY that RFC 5007 §4.2.1 discards (no
	// Client Identifier, another server's Server Identifier, no
	// OPTION_LQ_QUERY): there is nothing to answer, and a requestor
	// waiting for an answer learns it at once.
	BulkEndDiscarded
	// BulkEndIdle: no query for BulkDataTimeout.
	BulkEndIdle
	// BulkEndWriteError: an answer could not be sent, or the requestor
	// took none of it for BulkDataTimeout (§7.4: the server MUST close on
	// an error sending; §7.2: SHOULD be prepared to once a blocked
	// connection has waited BULK_LQ_DATA_TIMEOUT).
	BulkEndWriteError
	// BulkEndShutdown: the server stopped (a query in progress got a
	// LEASEQUERY-DONE with QueryTerminated first, §7.4).
	BulkEndShutdown
	// BulkEndPanic: a bug, recovered.
	BulkEndPanic

	numBulkEnds
)

var bulkEndNames = [numBulkEnds]string{
	"closed", "bad-frame", "malformed", "not-leasequery", "discarded", "idle", "write-error", "shutdown", "panic",
}

func (e BulkEnd) String() string {
	if e < numBulkEnds {
		return bulkEndNames[e]
	}
	return fmt.Sprintf("BulkEnd(%d)", uint8(e))
}

// MarshalText implements encoding.TextMarshaler (JSON map keys).
func (e BulkEnd) MarshalText() ([]byte, error) { return []byte(e.String()), nil }

// BulkAnswer is what the core makes of one frame: the frames to send, in
// order (each with its length prefix), and whether the connection then
// ends (End is meaningful only when Close is set).
type BulkAnswer struct {
	Frames [][]byte
	// Reply is set when Frames answer a query (a LEASEQUERY-REPLY first).
	Reply bool
	Close bool
	End   BulkEnd
	// Drop names the RFC 5007 rule when End is BulkEndDiscarded.
	Drop DropReason
}

// HandleBulk answers one frame payload (the message, without its length)
// received on a Bulk Leasequery connection at now. It never panics: a bug
// ends the connection (BulkEndPanic).
func (s *Server) HandleBulk(now time.Time, frame []byte) (a BulkAnswer) {
	defer func() {
		if r := recover(); r != nil {
			a = BulkAnswer{Close: true, End: BulkEndPanic}
		}
	}()
	if len(frame) < bulkHeader {
		return BulkAnswer{Close: true, End: BulkEndBadFrame}
	}
	m, err := dhcpv6.FromBytes(frame)
	if err != nil {
		return BulkAnswer{Close: true, End: BulkEndMalformed}
	}
	msgs, a := s.BulkMessage(now, m)
	for _, r := range msgs {
		b := r.ToBytes()
		if len(b) > 0xffff {
			// Cannot be framed (§5.1): the client data of one client
			// never comes near, but a bug must not send a wrong length.
			return BulkAnswer{Close: true, End: BulkEndPanic}
		}
		a.Frames = append(a.Frames, AppendBulkFrame(nil, b))
	}
	return a
}

// BulkMessage is HandleBulk on a decoded message, for tests: the answers
// in order, and the verdict on the connection (a.Frames is left empty).
func (s *Server) BulkMessage(now time.Time, m dhcpv6.DHCPv6) ([]*dhcpv6.Message, BulkAnswer) {
	msg, ok := m.(*dhcpv6.Message)
	// §4: only LEASEQUERY, LEASEQUERY-REPLY, -DATA and -DONE are
	// allowed on the connection, and only LEASEQUERY goes to a server.
	if !ok || msg == nil || msg.MessageType != dhcpv6.MessageTypeLeaseQuery {
		return nil, BulkAnswer{Close: true, End: BulkEndNotLeasequery}
	}
	x := exchange{now: now}
	readMessage(&x, msg)
	// A LEASEQUERY over TCP is the message RFC 5007 defines: its §4.2.1
	// discards apply (and end the connection, BulkEndDiscarded).
	if s.checkLeasequery(&x) != next {
		return nil, BulkAnswer{Close: true, End: BulkEndDiscarded, Drop: x.drop}
	}
	q, ok := parseLQQuery(x.msg.Options.GetOne(dhcpv6.OptionLQQuery).ToBytes())
	if ok && (q.typ == queryByRelayID || q.typ == queryByLinkAddress || q.typ == queryByRemoteID) {
		return s.bulkQuery(&x, q), BulkAnswer{Reply: true}
	}
	// RFC 5007's query-types (and a malformed or unknown one) are
	// answered as over UDP; a reply that found a client is followed by a
	// LEASEQUERY-DONE like any successful bulk answer (§5.2.2).
	s.leasequery(&x)
	out := []*dhcpv6.Message{x.reply.lq}
	if x.reply.lq.Options.GetOne(dhcpv6.OptionClientData) != nil {
		out = append(out, bulkDone(x.msg.TransactionID, nil))
	}
	return out, BulkAnswer{Reply: true}
}

// bulkQuery answers a query by relay ID, link address or remote ID
// (RFC 5460 §5.3) from one snapshot of the store.
func (s *Server) bulkQuery(x *exchange, q lqQuery) []*dhcpv6.Message {
	// §5.2.1: the LEASEQUERY-REPLY carries the status, the requestor's
	// Client Identifier and the Server Identifier (newMessage), and the
	// first client's data.
	r := s.newMessage(x, dhcpv6.MessageTypeLeaseQueryReply)
	fail := func(c statusCode, msg string) []*dhcpv6.Message {
		r.AddOption(status(c, msg))
		return []*dhcpv6.Message{r}
	}
	// §5.3.1, §5.3.3: the query-options MUST hold the option the query is
	// by; without it (or with query-options that do not parse) the query
	// is malformed (RFC 5007 §4.1.2.1: MalformedQuery).
	var match func(*lease.Binding) bool
	switch q.typ {
	case queryByRelayID, queryByRemoteID:
		code, min, field := dhcpv6.OptionRelayID, 1, func(b *lease.Binding) []byte { return b.RelayID }
		if q.typ == queryByRemoteID {
			// RFC 4649 §3: enterprise-number (4 octets), then the
			// remote-id itself.
			code, min, field = dhcpv6.OptionRemoteID, 5, func(b *lease.Binding) []byte { return b.RemoteID }
		}
		id, found, ok := findOption(q.opts, code)
		switch {
		case !ok:
			return fail(statusMalformedQuery, "query-options do not parse")
		case !found:
			return fail(statusMalformedQuery, fmt.Sprintf("query-options lack the %s option the query-type requires", code))
		case len(id) < min:
			return fail(statusMalformedQuery, fmt.Sprintf("%s option of %d octets", code, len(id)))
		}
		match = func(b *lease.Binding) bool { return bytes.Equal(field(b), id) }
	case queryByLinkAddress:
		// §5.3.2: the link-address names the link; :: names none.
		if q.link.IsUnspecified() {
			return fail(statusMalformedQuery, "QUERY_BY_LINK_ADDRESS with link-address ::")
		}
		match = func(*lease.Binding) bool { return true }
	}
	// A non-zero link-address limits every query-type to the bindings on
	// that link (RFC 5460 §5.3.1, §7.2: "the server only returns bindings
	// on links that could contain that address"; RFC 5007 §4.1.2.1: the
	// link-address identifies the link to which the query applies).
	var link netip.Prefix
	if !q.link.IsUnspecified() {
		link = s.linkOf(q.link)
	}

	byClient := map[string][]lease.Binding{}
	for b := range s.store.All() {
		if b.Expired(x.now) || !match(&b) {
			continue // expired bindings are never reported
		}
		if link.IsValid() && s.bindingLink(&b) != link {
			continue
		}
		byClient[string(b.DUID)] = append(byClient[string(b.DUID)], b)
	}
	if len(byClient) == 0 {
		if q.typ == queryByLinkAddress && !s.na.onLink(netip.PrefixFrom(q.link, 128)) {
			// RFC 5007 §4.1.3: a link the server has no configuration
			// for (and on which it holds nothing).
			return fail(statusNotConfigured, "link-address is not a link of this server, and no binding came from it")
		}
		// RFC 5460 §5.2.1: LEASEQUERY-DATA only after a successful query
		// that reports more than one client; §6.3: a LEASEQUERY-REPLY
		// without any bindings MUST NOT be followed by a LEASEQUERY-DONE.
		// With none, the LEASEQUERY-REPLY alone answers, without client
		// data and (§7.2: SHOULD) without an OPTION_STATUS_CODE.
		return []*dhcpv6.Message{r}
	}
	duids := make([]string, 0, len(byClient))
	for d := range byClient {
		duids = append(duids, d)
	}
	slices.Sort(duids) // a stable order: by DUID
	out := make([]*dhcpv6.Message, 0, len(duids)+1)
	r.AddOption(clientDataOf(x.now, byClient[duids[0]]))
	out = append(out, r)
	for _, d := range duids[1:] {
		// §5.2.1: one LEASEQUERY-DATA per further client, with the
		// query's transaction-id; Server-ID, Client-ID and status SHOULD
		// NOT be in it.
		m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeLeaseQueryData, TransactionID: x.msg.TransactionID}
		m.AddOption(clientDataOf(x.now, byClient[d]))
		out = append(out, m)
	}
	// §5.2.2: a single LEASEQUERY-DONE ends the answer to a query that
	// returned at least one binding.
	return append(out, bulkDone(x.msg.TransactionID, nil))
}

// bulkDone is a LEASEQUERY-DONE for transaction xid (RFC 5460 §5.2.2): no
// option but, when the server abandons the query, its status.
func bulkDone(xid dhcpv6.TransactionID, st dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: dhcpv6.MessageTypeLeaseQueryDone, TransactionID: xid}
	if st != nil {
		m.AddOption(st)
	}
	return m
}

// BulkTerminated is the frame that ends an abandoned answer to the query
// with transaction ID xid: a LEASEQUERY-DONE with status QueryTerminated
// (RFC 5460 §7.4).
func BulkTerminated(xid dhcpv6.TransactionID, why string) []byte {
	return AppendBulkFrame(nil, bulkDone(xid, status(statusQueryTerminated, why)).ToBytes())
}

// linkOf is the link a link-address names. The server is configured for
// one link (Config.Prefix, and its pools): an address on it names that
// link; any other names the /64 it lies in (RFC 4291 §2.5.4: the
// interface identifier of a unicast address is 64 bits), the link of a
// relay the server has no configuration for.
func (s *Server) linkOf(a netip.Addr) netip.Prefix {
	if s.na.onLink(netip.PrefixFrom(a, 128)) {
		return s.cfg.Prefix
	}
	p, _ := a.Prefix(64)
	return p
}

// bindingLink is the link of a binding: its relay's link-address's, or
// the server's own link for a client that came directly.
func (s *Server) bindingLink(b *lease.Binding) netip.Prefix {
	if b.LinkAddr.IsValid() {
		return s.linkOf(b.LinkAddr)
	}
	return s.cfg.Prefix
}

// AppendBulkFrame appends msg with its two-octet length prefix (RFC 5460
// §5.1: msg-size in network byte order, then the message). msg must be
// shorter than 65536 octets.
func AppendBulkFrame(b, msg []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(msg)))
	return append(b, msg...)
}

// ErrBulkFrame: a frame too short to hold a DHCPv6 message, or cut off by
// the end of the stream.
var ErrBulkFrame = errors.New("server: bad Bulk Leasequery frame")

// SplitBulkFrames is a bufio.SplitFunc that cuts a Bulk Leasequery stream
// into messages (RFC 5460 §5.1: each prefixed by its length, two octets in
// network byte order), each token without its prefix. Give the Scanner a
// buffer of bulkMaxFrame (NewBulkScanner does). A length below the DHCPv6
// header, or a stream that ends inside a frame, is ErrBulkFrame.
func SplitBulkFrames(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if len(data) >= 2 {
		n := int(binary.BigEndian.Uint16(data))
		if n < bulkHeader {
			return 0, nil, fmt.Errorf("%w: length %d", ErrBulkFrame, n)
		}
		if len(data) >= 2+n {
			return 2 + n, data[2 : 2+n], nil
		}
	}
	if atEOF && len(data) > 0 {
		return 0, nil, fmt.Errorf("%w: stream ends %d octets into a frame", ErrBulkFrame, len(data))
	}
	return 0, nil, nil
}

// NewBulkScanner reads frames from a Bulk Leasequery stream.
func NewBulkScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), bulkMaxFrame)
	sc.Split(SplitBulkFrames)
	return sc
}
