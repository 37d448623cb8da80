package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
)

// Link is an in-memory link: a hub that carries datagrams between the
// endpoints attached to it. Multicast datagrams reach every other endpoint
// that joined the group on the same port; unicast ones reach the endpoint
// bound to that address and port. A full receive queue drops the datagram
// and counts it, as a real socket buffer would.
type Link struct {
	mu        sync.RWMutex
	endpoints map[netip.AddrPort]*MemConn
	dropped   atomic.Uint64
}

// NewLink returns an empty link.
func NewLink() *Link {
	return &Link{endpoints: make(map[netip.AddrPort]*MemConn)}
}

// Dropped counts datagrams lost to full queues or missing endpoints.
func (l *Link) Dropped() uint64 { return l.dropped.Load() }

// Attach binds an endpoint to addr and joins it to groups (on the same
// port). queue is the receive queue length (0 means 1024).
func (l *Link) Attach(addr netip.AddrPort, queue int, groups ...netip.Addr) (*MemConn, error) {
	if queue <= 0 {
		queue = 1024
	}
	c := &MemConn{
		link:   l,
		local:  addr,
		groups: groups,
		in:     make(chan memPacket, queue),
		done:   make(chan struct{}),
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.endpoints[addr]; ok {
		return nil, fmt.Errorf("transport: %s already attached", addr)
	}
	l.endpoints[addr] = c
	return c, nil
}

func (l *Link) detach(c *MemConn) {
	l.mu.Lock()
	if l.endpoints[c.local] == c {
		delete(l.endpoints, c.local)
	}
	l.mu.Unlock()
}

func (l *Link) deliver(from netip.AddrPort, b []byte, dst netip.AddrPort) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if dst.Addr().IsMulticast() {
		for _, c := range l.endpoints {
			if c.local == from || c.local.Port() != dst.Port() || !c.member(dst.Addr()) {
				continue
			}
			c.push(l, memPacket{data: clone(b), src: from, multicast: true})
		}
		return
	}
	c, ok := l.endpoints[dst]
	if !ok {
		l.dropped.Add(1)
		return
	}
	c.push(l, memPacket{data: clone(b), src: from})
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }

type memPacket struct {
	data      []byte
	src       netip.AddrPort
	multicast bool
}

// MemConn is one endpoint of a Link. It implements Conn.
type MemConn struct {
	link   *Link
	local  netip.AddrPort
	groups []netip.Addr
	in     chan memPacket
	done   chan struct{}
	once   sync.Once
}

var _ Conn = (*MemConn)(nil)

func (c *MemConn) member(g netip.Addr) bool {
	for _, m := range c.groups {
		if m == g {
			return true
		}
	}
	return false
}

func (c *MemConn) push(l *Link, p memPacket) {
	select {
	case c.in <- p:
	default:
		l.dropped.Add(1)
	}
}

// ReadFrom implements Conn.
func (c *MemConn) ReadFrom(b []byte) (int, netip.AddrPort, bool, error) {
	select {
	case p := <-c.in:
		n := copy(b, p.data)
		return n, p.src, p.multicast, nil
	case <-c.done:
		return 0, netip.AddrPort{}, false, net.ErrClosed
	}
}

// WriteTo implements Conn.
func (c *MemConn) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	select {
	case <-c.done:
		return 0, net.ErrClosed
	default:
	}
	if !dst.IsValid() {
		return 0, errors.New("transport: invalid destination")
	}
	c.link.deliver(c.local, b, dst)
	return len(b), nil
}

// LocalAddr implements Conn.
func (c *MemConn) LocalAddr() netip.AddrPort { return c.local }

// Close implements Conn; it detaches the endpoint from its link.
func (c *MemConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.link.detach(c)
	})
	return nil
}
