package conform

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/sim/netns"
	"d6lab/transport"
)

// maxLines caps the packet summaries kept per check (a check with a
// thousand clients sends thousands of messages; the pcap has them all).
const maxLines = 300

// packet is one datagram the probe received.
type packet struct {
	msg   dhcpv6.DHCPv6
	src   netip.AddrPort
	relay bool // arrived on the port-547 socket
}

// probe is the conformance client: one socket on the client port 546 (as
// a client) and one on 547 (as a relay agent), both in the clients'
// namespace, a reader per socket, and the log of the check at hand.
type probe struct {
	ctx     context.Context
	client  *transport.UDP
	relay   *transport.UDP
	in      chan packet
	timeout time.Duration

	mu        sync.Mutex
	malformed map[dhcpv6.TransactionID]string // answers that did not decode, by xid
	lines     []string
	more      int
	dropped   int
	wg        sync.WaitGroup
}

// newProbe opens the probe's sockets inside node's namespace.
func newProbe(ctx context.Context, lab *netns.Lab, node string, timeout time.Duration) (*probe, error) {
	p := &probe{ctx: ctx, in: make(chan packet, 8192), timeout: timeout, malformed: map[dhcpv6.TransactionID]string{}}
	err := lab.Do(node, func() error {
		var err error
		if p.client, err = transport.ListenUDP(lab.IfName(node), transport.ClientPort); err != nil {
			return err
		}
		if p.relay, err = transport.ListenUDP(lab.IfName(node), transport.ServerPort); err != nil {
			p.client.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("conform: probe sockets: %w", err)
	}
	for _, c := range []*transport.UDP{p.client, p.relay} {
		p.wg.Add(1)
		go p.read(c, c == p.relay)
	}
	return p, nil
}

func (p *probe) read(c *transport.UDP, relay bool) {
	defer p.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, src, _, err := c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A persistent error must not spin a core of a 2-core box.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m, err := dhcpv6.FromBytes(append([]byte(nil), buf[:n]...))
		if err != nil {
			src = netip.AddrPortFrom(src.Addr().WithZone(""), src.Port())
			what := fmt.Sprintf("%d bytes from %s that do not decode: %v", n, src, err)
			p.log("← " + what)
			if n >= 4 && !relay { // a client message's transaction ID
				var x dhcpv6.TransactionID
				copy(x[:], buf[1:4])
				p.mu.Lock()
				p.malformed[x] = what
				p.mu.Unlock()
			}
			continue
		}
		select {
		case p.in <- packet{msg: m, src: src, relay: relay}:
		default:
			p.mu.Lock()
			p.dropped++
			p.mu.Unlock()
		}
	}
}

func (p *probe) close() {
	p.client.Close()
	p.relay.Close()
	p.wg.Wait()
}

func (p *probe) log(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lines) < maxLines {
		p.lines = append(p.lines, line)
	} else {
		p.more++
	}
}

// take returns the summaries logged since the last take and resets them.
func (p *probe) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := p.lines
	if p.more > 0 {
		out = append(out, fmt.Sprintf("… %d more packets (see the pcap)", p.more))
	}
	if p.dropped > 0 {
		out = append(out, fmt.Sprintf("%d received packets dropped by the probe (queue full)", p.dropped))
	}
	p.lines, p.more, p.dropped = nil, 0, 0
	if out == nil {
		out = []string{}
	}
	return out
}

// drain discards what is queued (late answers to an earlier check).
func (p *probe) drain() {
	for {
		select {
		case <-p.in:
		default:
			return
		}
	}
}

// send writes m to dst from the client socket, or from the relay socket
// (port 547) when asRelay.
func (p *probe) send(m dhcpv6.DHCPv6, dst netip.AddrPort, asRelay bool) error {
	c := p.client
	if asRelay {
		c = p.relay
	}
	p.log(Summary("→", m, dst))
	if _, err := c.WriteTo(m.ToBytes(), dst); err != nil {
		return fmt.Errorf("conform: send %s to %s: %w", m.Type(), dst, err)
	}
	return nil
}

// collect reads answers for up to d: those keep accepts are returned; it
// stops early once done says the answers suffice. Everything read is
// logged. It returns at once when the run is cancelled.
func (p *probe) collect(d time.Duration, keep func(packet) bool, done func([]packet) bool) []packet {
	t := time.NewTimer(d)
	defer t.Stop()
	var out []packet
	for {
		select {
		case <-p.ctx.Done():
			return out
		case <-t.C:
			return out
		case pk := <-p.in:
			p.log(Summary("←", pk.msg, pk.src))
			if keep(pk) {
				out = append(out, pk)
				if done != nil && done(out) {
					return out
				}
			}
		}
	}
}

// exchange sends a client message to dst (ff02::1:2 or a server) and
// returns the first answer with its transaction ID, or nil after the
// timeout.
func (p *probe) exchange(m *dhcpv6.Message, dst netip.AddrPort) (*dhcpv6.Message, netip.AddrPort, error) {
	if err := p.send(m, dst, false); err != nil {
		return nil, netip.AddrPort{}, err
	}
	got := p.collect(p.timeout, matchXID(m.TransactionID), func(ps []packet) bool { return len(ps) > 0 })
	if len(got) == 0 {
		return nil, netip.AddrPort{}, nil
	}
	return got[0].msg.(*dhcpv6.Message), got[0].src, nil
}

// matchXID keeps client-port messages with transaction ID xid.
func matchXID(xid dhcpv6.TransactionID) func(packet) bool {
	return func(pk packet) bool {
		m, ok := pk.msg.(*dhcpv6.Message)
		return ok && !pk.relay && m.TransactionID == xid
	}
}

// malformedAnswer returns what was wrong with an answer to xid that did not
// decode ("" when there was none).
func (p *probe) malformedAnswer(xid dhcpv6.TransactionID) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.malformed[xid]
}
