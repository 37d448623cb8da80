package leasequery

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// ServerPort is where a requestor sends a LEASEQUERY: the servers' port
// (RFC 5007 §4.2.2: "the server port, 547"; RFC 9915 §7.2).
const ServerPort = 547

// Result is the answer to one query: the client's leases (none: the
// server knows no binding of it), or why there is no answer.
type Result struct {
	Leases []Lease
	Err    error
}

// ErrNoAnswer: no reply came before the timeout.
var ErrNoAnswer = errors.New("leasequery: no answer")

// UDP is a requestor's socket for RFC 5007 queries. Open it inside the
// network namespace it must send from; it stays there. It is not safe
// for concurrent use: use one per server.
type UDP struct {
	conn      *net.UDPConn
	requestor []byte
	zone      string // numeric, for link-local destinations
	xid       uint32
}

// ListenUDP opens a UDP socket on an ephemeral port for requestor (its raw
// DUID, sent as the Client Identifier of every query). zoneIndex is the
// interface link-local destinations are reached through (0: none).
func ListenUDP(requestor []byte, zoneIndex int) (*UDP, error) {
	if err := checkDUID("requestor", requestor); err != nil {
		return nil, err
	}
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified})
	if err != nil {
		return nil, fmt.Errorf("leasequery: listen: %w", err)
	}
	u := &UDP{conn: c, requestor: append([]byte(nil), requestor...), xid: rand.Uint32()}
	if zoneIndex > 0 {
		u.zone = fmt.Sprint(zoneIndex)
	}
	return u, nil
}

// Close closes the socket; an Ask under way returns at once.
func (u *UDP) Close() error { return u.conn.Close() }

// Ask sends one LEASEQUERY per client (raw DUIDs) to dst, all at once,
// and waits until each is answered or timeout has passed since the last
// was sent. Replies are matched by transaction ID; late replies to an
// earlier Ask are skipped. The result i answers clients[i].
func (u *UDP) Ask(dst netip.AddrPort, clients [][]byte, timeout time.Duration) []Result {
	out := make([]Result, len(clients))
	if dst.Addr().IsLinkLocalUnicast() && dst.Addr().Zone() == "" && u.zone != "" {
		dst = netip.AddrPortFrom(dst.Addr().WithZone(u.zone), dst.Port())
	}
	pending := map[dhcpv6.TransactionID]int{}
	for i, c := range clients {
		u.xid++
		xid := dhcpv6.TransactionID{byte(u.xid >> 16), byte(u.xid >> 8), byte(u.xid)}
		b, err := Encode(xid, u.requestor, c)
		if err == nil {
			_, err = u.conn.WriteToUDPAddrPort(b, dst)
		}
		if err != nil {
			out[i].Err = fmt.Errorf("leasequery: send to %s: %w", dst, err)
			continue
		}
		pending[xid] = i
	}
	if err := u.conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		for _, i := range pending {
			out[i].Err = fmt.Errorf("leasequery: %w", err)
		}
		return out
	}
	buf := make([]byte, 64<<10)
	for len(pending) > 0 {
		n, _, err := u.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("%w from %s in %s", ErrNoAnswer, dst, timeout)
			} else {
				err = fmt.Errorf("leasequery: receive: %w", err)
			}
			for _, i := range pending {
				out[i].Err = err
			}
			return out
		}
		if n < 4 {
			continue
		}
		xid := dhcpv6.TransactionID(buf[1:4])
		i, ok := pending[xid]
		if !ok {
			continue // a late reply to an earlier Ask, or not a reply
		}
		ls, err := Decode(buf[:n], xid, u.requestor, clients[i])
		if errors.Is(err, ErrNotOurs) {
			continue
		}
		out[i] = Result{Leases: ls, Err: err}
		delete(pending, xid)
	}
	return out
}
