package conform

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/reports/check"
	"d6lab/server"
	"d6lab/sim/netns"
)

// Bulk Leasequery (RFC 5460) checks. The probe makes three bindings
// through a relay agent it plays itself (Relay-forward messages from port
// 547 of the clients node, as relay-one does), each Relay-forward carrying
// a Relay-ID (§5.4.1) and a Remote-ID (RFC 4649): two clients behind relay
// A (circuits 1 and 2), one behind relay B (circuit 3), all with
// link-address clientAddr, an address on the link. Then it connects to TCP
// port 547 of srv1 from the clients node and asks: by relay ID (A: both of
// its clients and not B's), by remote ID (circuit 2: that client only), by
// link address (every relayed client), for a relay nobody knows (no client
// data and no LEASEQUERY-DONE), and it opens BULK_LQ_MAX_CONNS + 1
// connections. A server that refuses the TCP connection does not offer
// Bulk Leasequery: those checks are n/a, saying so.

// The relays the probe plays, by their Relay-ID DUIDs (DUID-LL, locally
// administered MACs).
var (
	relayA = (&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x02, 0, 0, 0, 0x0a, 0x0a}}).ToBytes()
	relayB = (&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x02, 0, 0, 0, 0x0b, 0x0b}}).ToBytes()
	relayZ = (&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0x02, 0, 0, 0, 0x0f, 0x0f}}).ToBytes()
)

// circuit is the Remote-ID of circuit n: enterprise 32473 (RFC 5612, for
// documentation) and "conform-circuit-n".
func circuit(n int) *dhcpv6.OptRemoteID {
	return &dhcpv6.OptRemoteID{EnterpriseNumber: 32473, RemoteID: fmt.Appendf(nil, "conform-circuit-%d", n)}
}

// Bulk Leasequery query types (RFC 5460 §5.3).
const (
	queryByRelayID     = 3
	queryByLinkAddress = 4
	queryByRemoteID    = 5
)

// bulkFixture is the relayed bindings the bulk checks query, made once per
// srv1 process.
type bulkFixture struct {
	proc    *netns.Process
	clients [3]client // behind A (circuit 1), A (circuit 2), B (circuit 3)
	addrs   [3]netip.Addr
	err     string // why the bindings could not be made ("" when they were)
}

// bulkSetup runs srv1 with the base configuration and makes the relayed
// bindings, unless this srv1 process already has them. It returns false,
// with c's verdict set, when the checks cannot go on.
func (r *runner) bulkSetup(c *Check) (*bulkFixture, bool) {
	if err := r.base(); err != nil {
		setupFailed(c, err)
		return nil, false
	}
	if f := r.bulk; f != nil && f.proc == r.nodes["srv1"].proc {
		if f.err != "" {
			c.Verdict, c.Detail = NA, f.err
			return nil, false
		}
		return f, true
	}
	f := &bulkFixture{proc: r.nodes["srv1"].proc}
	// A server that refuses the TCP connection does not offer Bulk
	// Leasequery, whatever else it does: say that, not why a binding
	// could not be made.
	conn, err := r.bulkDial()
	if err != nil {
		bulkUnavailable(c, err)
		if c.Verdict == NA {
			f.err = c.Detail
			r.bulk = f
		}
		return nil, false
	}
	_ = conn.Close()
	r.bulk = f
	ids := [3][]byte{relayA, relayA, relayB}
	for i := range f.clients {
		f.clients[i] = r.newClient()
		a, why := r.relayedAcquire(f.clients[i], ids[i], circuit(i+1))
		if !a.IsValid() {
			f.err = fmt.Sprintf("no binding through the probe's relay for client %d (see relay-one): %s", i+1, why)
			c.Verdict, c.Detail = NA, f.err
			return nil, false
		}
		f.addrs[i] = a
	}
	return f, true
}

// relayedAcquire runs Solicit, Advertise, Request, Reply for one IA_NA of
// cl, each client message in a Relay-forward (hop-count 0, link-address
// clientAddr, peer-address the clients node's link-local address) with an
// Interface-ID, a Relay-ID of relayID and remoteID, sent by unicast from
// port 547 to srv1's address.
func (r *runner) relayedAcquire(cl client, relayID []byte, remoteID dhcpv6.Option) (netip.Addr, string) {
	dst := netip.AddrPortFrom(srv1Addr, 547)
	via := func(m *dhcpv6.Message) (*dhcpv6.Message, error) {
		rm := &dhcpv6.RelayMessage{MessageType: dhcpv6.MessageTypeRelayForward,
			LinkAddr: clientAddr.AsSlice(), PeerAddr: r.lab.LinkLocal("clients").AsSlice()}
		rm.Options.Add(dhcpv6.OptRelayMessage(m))
		rm.Options.Add(dhcpv6.OptInterfaceID([]byte("conform-bulk")))
		rm.Options.Add(&dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRelayID, OptionData: relayID})
		rm.Options.Add(remoteID)
		if err := r.p.send(rm, dst, true); err != nil {
			return nil, err
		}
		got := r.p.collect(r.opt.Timeout, func(pk packet) bool {
			rr, ok := pk.msg.(*dhcpv6.RelayMessage)
			if !ok || !pk.relay {
				return false
			}
			in, err := rr.GetInnerMessage()
			return err == nil && in.TransactionID == m.TransactionID
		}, func(ps []packet) bool { return len(ps) > 0 })
		if len(got) == 0 {
			return nil, fmt.Errorf("no Relay-reply to a relayed %s within %s", m.MessageType, r.opt.Timeout)
		}
		return got[0].msg.(*dhcpv6.RelayMessage).GetInnerMessage()
	}
	adv, err := via(cl.message(dhcpv6.MessageTypeSolicit, r.xid(), dhcpv6.OptRequestedOption(oroPlain...), iaNA(cl.iaid)))
	if err != nil {
		return netip.Addr{}, err.Error()
	}
	if adv.MessageType == dhcpv6.MessageTypeReply {
		return firstAddr(adv, cl), whyNone(adv, cl)
	}
	if len(naResult(adv, cl.iaid).granted()) == 0 {
		return netip.Addr{}, "Advertise without an address: " + whyNone(adv, cl)
	}
	reply, err := via(r.requestFor(cl, adv, serverID(adv)))
	if err != nil {
		return netip.Addr{}, err.Error()
	}
	return firstAddr(reply, cl), whyNone(reply, cl)
}

// bulkDialWait is how long a connection to TCP port 547 is retried while
// it is refused: the builtin server opens its TCP listener just after its
// UDP socket, which is what the start waited for.
const bulkDialWait = time.Second

// errBulkRefused: nothing listens on TCP port 547.
var errBulkRefused = errors.New("TCP port 547 refused the connection: no Bulk Leasequery (RFC 5460)")

// bulkDial connects from the clients node to TCP port 547 of srv1.
func (r *runner) bulkDial() (net.Conn, error) {
	dst := netip.AddrPortFrom(srv1Addr, 547)
	deadline := time.Now().Add(bulkDialWait)
	for {
		var c net.Conn
		err := r.lab.Do("clients", func() error {
			var err error
			c, err = net.DialTimeout("tcp6", dst.String(), r.opt.Timeout)
			return err
		})
		switch {
		case err == nil:
			return c, nil
		case !errors.Is(err, syscall.ECONNREFUSED):
			return nil, fmt.Errorf("connect to TCP %s: %w", dst, err)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("%s: %w", dst, errBulkRefused)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// bulkConn is one Bulk Leasequery connection of the probe.
type bulkConn struct {
	r    *runner
	c    net.Conn
	next func() ([]byte, error) // the next frame's message
	peer netip.AddrPort
}

func (r *runner) bulkOpen() (*bulkConn, error) {
	c, err := r.bulkDial()
	if err != nil {
		return nil, err
	}
	sc := server.NewBulkScanner(c)
	b := &bulkConn{r: r, c: c, peer: netip.AddrPortFrom(srv1Addr, 547)}
	b.next = func() ([]byte, error) {
		if sc.Scan() {
			return sc.Bytes(), nil
		}
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, io.EOF
	}
	return b, nil
}

func (b *bulkConn) close() { _ = b.c.Close() }

// ask sends q and reads the answer: frames until a LEASEQUERY-DONE, or a
// LEASEQUERY-REPLY without client data (an error, or nothing found) and
// then whatever else arrives within linger, or until the connection ends
// or stays silent for the probe's timeout. err says why reading stopped
// early (nil when the answer ended as the protocol says).
func (b *bulkConn) ask(q *dhcpv6.Message, linger time.Duration) (out []*dhcpv6.Message, err error) {
	b.r.p.log(Summary("→", q, b.peer) + " (TCP)")
	if _, err := b.c.Write(server.AppendBulkFrame(nil, q.ToBytes())); err != nil {
		return nil, fmt.Errorf("send: %w", err)
	}
	wait, lingering := b.r.opt.Timeout, false
	for {
		_ = b.c.SetReadDeadline(time.Now().Add(wait))
		f, err := b.next()
		if err != nil {
			if lingering && isTimeout(err) {
				return out, nil // nothing more after a lone REPLY: as it should be
			}
			return out, err
		}
		d, derr := dhcpv6.FromBytes(bytes.Clone(f))
		if derr != nil {
			b.r.p.log(fmt.Sprintf("← %d bytes over TCP that do not decode: %v", len(f), derr))
			return out, fmt.Errorf("an answer does not decode: %w", derr)
		}
		b.r.p.log(Summary("←", d, b.peer) + " (TCP)")
		m, ok := d.(*dhcpv6.Message)
		if !ok {
			return out, fmt.Errorf("answered with a %s", d.Type())
		}
		out = append(out, m)
		switch {
		case m.MessageType == dhcpv6.MessageTypeLeaseQueryDone:
			return out, nil
		case m.MessageType == dhcpv6.MessageTypeLeaseQueryReply && m.Options.GetOne(dhcpv6.OptionClientData) == nil:
			if linger <= 0 {
				return out, nil
			}
			wait, lingering = linger, true
		}
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (r *runner) bulkQuery(typ uint8, link netip.Addr, opts ...dhcpv6.Option) *dhcpv6.Message {
	b := []byte{typ}
	b = append(b, link.AsSlice()...)
	b = append(b, dhcpv6.Options(opts).ToBytes()...)
	return r.newClient().message(dhcpv6.MessageTypeLeaseQuery, r.xid(), &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionLQQuery, OptionData: b})
}

// bulkAsk opens a connection, asks q and closes it. A refused connection
// makes c n/a and returns ok false.
func (r *runner) bulkAsk(c *Check, q *dhcpv6.Message, linger time.Duration) (ms []*dhcpv6.Message, ok bool, err error) {
	bc, err := r.bulkOpen()
	if err != nil {
		bulkUnavailable(c, err)
		return nil, false, nil
	}
	defer bc.close()
	ms, err = bc.ask(q, linger)
	return ms, true, err
}

// bulkUnavailable: no TCP connection, so no Bulk Leasequery to judge.
func bulkUnavailable(c *Check, err error) {
	if errors.Is(err, errBulkRefused) {
		c.Verdict, c.Detail = NA, err.Error()
		return
	}
	c.Verdict, c.Detail = Fail, "no Bulk Leasequery connection: "+err.Error()
}

// bulkWant is what an answer must report: exactly these clients, or at
// least them (others may hold bindings on the link).
type bulkWant struct {
	clients []client
	exact   bool
}

// judgeBulk judges the answer ms to a bulk query with transaction ID xid
// (read until err): RFC 5460 §5.2's sequence (a LEASEQUERY-REPLY with the
// first client's data, the Server and the requestor's Client ID; one
// LEASEQUERY-DATA per further client, without them; one LEASEQUERY-DONE
// last), every message with the query's transaction ID, each client once,
// and the clients want names.
func judgeBulk(ms []*dhcpv6.Message, err error, xid dhcpv6.TransactionID, want bulkWant) (check.Verdict, string) {
	var seq []string
	for _, m := range ms {
		seq = append(seq, typeName(m.MessageType))
	}
	detail := "answer " + strings.Join(seq, ", ")
	if len(ms) == 0 {
		detail = "no answer"
	}
	if err != nil {
		return Fail, fmt.Sprintf("%s; then %v", detail, err)
	}
	var got [][]byte
	for i, m := range ms {
		if m.TransactionID != xid {
			return Fail, fmt.Sprintf("%s: message %d has transaction ID %x, the query %x (RFC 5460 §5.2.1, §5.2.2: MUST match)", detail, i+1, m.TransactionID[:], xid[:])
		}
		ids, _ := clientData(m)
		n := len(m.Options.Get(dhcpv6.OptionClientData))
		switch {
		case i == 0:
			if m.MessageType != dhcpv6.MessageTypeLeaseQueryReply {
				return Fail, detail + ": does not start with a LEASEQUERY-REPLY (§5.2.1: DATA MUST be preceded by one)"
			}
			if st := topStatus(m); st != iana.StatusSuccess {
				return Fail, fmt.Sprintf("%s: status %s", detail, st)
			}
			if serverID(m) == nil || m.Options.ClientID() == nil {
				return Fail, detail + ": the LEASEQUERY-REPLY lacks the Server ID or the requestor's Client ID"
			}
			if n != 1 {
				return Fail, fmt.Sprintf("%s: the LEASEQUERY-REPLY holds %d client data, not the first client's", detail, n)
			}
		case i == len(ms)-1:
			if m.MessageType != dhcpv6.MessageTypeLeaseQueryDone {
				return Fail, detail + ": does not end with a LEASEQUERY-DONE (§5.2.2: MUST be sent after the replies to a query that returned a binding)"
			}
			if n != 0 {
				return Fail, detail + ": the LEASEQUERY-DONE holds client data"
			}
		default:
			if m.MessageType != dhcpv6.MessageTypeLeaseQueryData || n != 1 {
				return Fail, fmt.Sprintf("%s: message %d is a %s with %d client data, not a LEASEQUERY-DATA with one", detail, i+1, typeName(m.MessageType), n)
			}
		}
		got = append(got, ids...)
	}
	if len(ms) < 2 {
		return Fail, detail + ": no LEASEQUERY-DONE (§5.2.2)"
	}
	for i, a := range got {
		for _, b := range got[:i] {
			if bytes.Equal(a, b) {
				return Fail, fmt.Sprintf("%s: client %x reported twice", detail, a)
			}
		}
	}
	var missing []string
	for _, cl := range want.clients {
		if !slices.ContainsFunc(got, func(d []byte) bool { return bytes.Equal(d, cl.raw) }) {
			missing = append(missing, fmt.Sprintf("%d", cl.n))
		}
	}
	detail += fmt.Sprintf(" (transaction ID %x on each): %d client(s) reported", xid[:], len(got))
	switch {
	case len(missing) > 0:
		return Fail, fmt.Sprintf("%s; missing client(s) %s", detail, strings.Join(missing, ", "))
	case want.exact && len(got) != len(want.clients):
		return Fail, fmt.Sprintf("%s, want exactly %d", detail, len(want.clients))
	}
	return Pass, detail
}

func (r *runner) checkBulkRelayID(c *Check) {
	f, ok := r.bulkSetup(c)
	if !ok {
		return
	}
	q := r.bulkQuery(queryByRelayID, netip.IPv6Unspecified(), &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRelayID, OptionData: relayA})
	ms, ok, err := r.bulkAsk(c, q, 0)
	if !ok {
		return
	}
	v, d := judgeBulk(ms, err, q.TransactionID, bulkWant{clients: f.clients[:2], exact: true})
	c.Verdict, c.Detail = v, fmt.Sprintf("QUERY_BY_RELAY_ID %x (relay A, clients %d and %d; client %d is behind relay B): %s", relayA, f.clients[0].n, f.clients[1].n, f.clients[2].n, d)
}

func (r *runner) checkBulkLinkAddress(c *Check) {
	f, ok := r.bulkSetup(c)
	if !ok {
		return
	}
	q := r.bulkQuery(queryByLinkAddress, clientAddr)
	ms, ok, err := r.bulkAsk(c, q, 0)
	if !ok {
		return
	}
	v, d := judgeBulk(ms, err, q.TransactionID, bulkWant{clients: f.clients[:]})
	c.Verdict, c.Detail = v, fmt.Sprintf("QUERY_BY_LINK_ADDRESS %s (the relayed clients %d, %d, %d among those on the link): %s", clientAddr, f.clients[0].n, f.clients[1].n, f.clients[2].n, d)
}

func (r *runner) checkBulkRemoteID(c *Check) {
	f, ok := r.bulkSetup(c)
	if !ok {
		return
	}
	q := r.bulkQuery(queryByRemoteID, netip.IPv6Unspecified(), circuit(2))
	ms, ok, err := r.bulkAsk(c, q, 0)
	if !ok {
		return
	}
	v, d := judgeBulk(ms, err, q.TransactionID, bulkWant{clients: f.clients[1:2], exact: true})
	c.Verdict, c.Detail = v, fmt.Sprintf("QUERY_BY_REMOTE_ID %q (client %d only): %s", circuit(2).RemoteID, f.clients[1].n, d)
}

// judgeBulkUnknown judges the answer to a query for a relay that made no
// binding: one LEASEQUERY-REPLY without client data (Success, or no
// status) and nothing after it (RFC 5460 §5.2.1: LEASEQUERY-DATA only when
// more than one client is reported; §6.3: a LEASEQUERY-REPLY without any
// bindings MUST NOT be followed by a LEASEQUERY-DONE).
func judgeBulkUnknown(ms []*dhcpv6.Message, err error, xid dhcpv6.TransactionID, linger time.Duration) (check.Verdict, string) {
	switch {
	case err != nil && len(ms) == 0:
		return Fail, fmt.Sprintf("no answer: %v", err)
	case len(ms) == 0:
		return Fail, "no answer"
	case ms[0].MessageType != dhcpv6.MessageTypeLeaseQueryReply:
		return Fail, fmt.Sprintf("answered with a %s", typeName(ms[0].MessageType))
	case ms[0].TransactionID != xid:
		return Fail, fmt.Sprintf("LEASEQUERY-REPLY with transaction ID %x, the query %x", ms[0].TransactionID[:], xid[:])
	case ms[0].Options.GetOne(dhcpv6.OptionClientData) != nil:
		ids, _ := clientData(ms[0])
		return Fail, fmt.Sprintf("LEASEQUERY-REPLY with client data for %d client(s)", len(ids))
	case topStatus(ms[0]) != iana.StatusSuccess:
		return Fail, fmt.Sprintf("LEASEQUERY-REPLY with status %s, not a successful query that found nothing", topStatus(ms[0]))
	case len(ms) > 1:
		return Fail, fmt.Sprintf("LEASEQUERY-REPLY without client data, then a %s (nothing may follow when no binding is returned)", typeName(ms[1].MessageType))
	case err != nil:
		return Fail, fmt.Sprintf("LEASEQUERY-REPLY without client data, then %v", err)
	}
	return Pass, fmt.Sprintf("LEASEQUERY-REPLY (status %s) without client data, transaction ID %x, and nothing more within %s", topStatus(ms[0]), xid[:], linger)
}

func (r *runner) checkBulkUnknownRelay(c *Check) {
	if _, ok := r.bulkSetup(c); !ok {
		return
	}
	q := r.bulkQuery(queryByRelayID, netip.IPv6Unspecified(), &dhcpv6.OptionGeneric{OptionCode: dhcpv6.OptionRelayID, OptionData: relayZ})
	linger := r.opt.Timeout / 2
	ms, ok, err := r.bulkAsk(c, q, linger)
	if !ok {
		return
	}
	v, d := judgeBulkUnknown(ms, err, q.TransactionID, linger)
	c.Verdict, c.Detail = v, fmt.Sprintf("QUERY_BY_RELAY_ID %x (a relay that made no binding): %s", relayZ, d)
}

// checkBulkMaxConns opens BULK_LQ_MAX_CONNS connections, each asked one
// query, then one more: RFC 5460 §7.1 says a server MUST be able to limit
// its accepted and active connections, with BULK_LQ_MAX_CONNS the default
// (§7.4: it SHOULD be prepared to limit them and to close idle ones). The
// RFC asks no immediate close of the one beyond the limit (§7.1's "SHOULD
// BE closed immediately" is for connections from clients not permitted),
// so the extra connection passes refused, closed, or left unanswered (a
// server that stops accepting at its limit leaves it in the kernel's
// backlog); only an answer on it fails. Once one of the first closes, a
// new connection must be served again.
func (r *runner) checkBulkMaxConns(c *Check) {
	f, ok := r.bulkSetup(c)
	if !ok {
		return
	}
	ask := func(bc *bulkConn) error {
		q := r.bulkQuery(queryByRemoteID, netip.IPv6Unspecified(), circuit(1))
		ms, err := bc.ask(q, 0)
		if v, d := judgeBulk(ms, err, q.TransactionID, bulkWant{clients: f.clients[:1], exact: true}); v != Pass {
			return errors.New(d)
		}
		return nil
	}
	var open []*bulkConn
	defer func() {
		for _, bc := range open {
			bc.close()
		}
	}()
	for i := 0; i < server.BulkMaxConns; i++ {
		bc, err := r.bulkOpen()
		if err != nil {
			if i == 0 {
				bulkUnavailable(c, err)
			} else {
				c.Verdict, c.Detail = Fail, fmt.Sprintf("connection %d of %d (BULK_LQ_MAX_CONNS): %v", i+1, server.BulkMaxConns, err)
			}
			return
		}
		open = append(open, bc)
		if err := ask(bc); err != nil {
			c.Verdict, c.Detail = Fail, fmt.Sprintf("connection %d of %d (BULK_LQ_MAX_CONNS) not served: %v", i+1, server.BulkMaxConns, err)
			return
		}
	}
	extra, err := r.bulkOpen()
	over := ""
	switch {
	case err != nil:
		over = "refused: " + err.Error()
	default:
		q := r.bulkQuery(queryByRemoteID, netip.IPv6Unspecified(), circuit(1))
		ms, aerr := extra.ask(q, 0)
		extra.close()
		if len(ms) > 0 {
			c.Verdict, c.Detail = Fail, fmt.Sprintf("%d connections open and served; connection %d was served too (%d messages): BULK_LQ_MAX_CONNS is %d (RFC 5460 §7.1)", server.BulkMaxConns, server.BulkMaxConns+1, len(ms), server.BulkMaxConns)
			return
		}
		if isTimeout(aerr) {
			over = fmt.Sprintf("left without an answer for %s", r.opt.Timeout)
		} else {
			over = fmt.Sprintf("closed without an answer (%v)", aerr)
		}
	}
	open[0].close()
	open = open[1:]
	time.Sleep(100 * time.Millisecond) // the server sees the close
	again, err := r.bulkOpen()
	if err == nil {
		err = ask(again)
		again.close()
	}
	detail := fmt.Sprintf("%d connections open, each served a query; connection %d %s", server.BulkMaxConns, server.BulkMaxConns+1, over)
	if err != nil {
		c.Verdict, c.Detail = Fail, detail+fmt.Sprintf("; after one of the %d closed, a new connection was not served: %v", server.BulkMaxConns, err)
		return
	}
	c.Verdict, c.Detail = Pass, detail+"; after one closed, a new connection was served"
}
