package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"syscall"

	"golang.org/x/net/ipv6"
)

// Packet is one datagram of a batch. When reading, Buf is the storage the
// datagram is copied into and N, Addr (its source) and Multicast are set;
// when writing, Buf[:N] goes to Addr.
type Packet struct {
	Buf       []byte
	N         int
	Addr      netip.AddrPort
	Multicast bool
}

// BatchConn is a Conn that moves several datagrams per system call
// (recvmmsg and sendmmsg on Linux). ReadBatch and WriteBatch may each be
// called from one goroutine at a time (one reader and one writer may run
// together; UDP's WriteBatch also serialises concurrent writers). A wrapper that embeds a BatchConn and overrides ReadFrom or
// WriteTo must override ReadBatch or WriteBatch too (or embed the Conn
// interface instead, which hides them).
type BatchConn interface {
	Conn
	// ReadBatch blocks until at least one datagram arrives, then fills
	// ps[:n] with it and with those already queued behind it, up to
	// len(ps). Datagrams longer than their Buf are truncated to it.
	ReadBatch(ps []Packet) (n int, err error)
	// WriteBatch sends each ps[i].Buf[:ps[i].N] to ps[i].Addr and returns
	// how many it sent; an error stops it at the first datagram that
	// failed.
	WriteBatch(ps []Packet) (n int, err error)
}

// Batch returns c as a BatchConn: c itself if it is one, otherwise an
// adapter that reads one datagram per ReadBatch and writes them one by one.
func Batch(c Conn) BatchConn {
	if bc, ok := c.(BatchConn); ok {
		return bc
	}
	return single{c}
}

type single struct{ Conn }

func (s single) ReadBatch(ps []Packet) (int, error) {
	if len(ps) == 0 {
		return 0, nil
	}
	n, src, mc, err := s.ReadFrom(ps[0].Buf)
	if err != nil {
		return 0, err
	}
	ps[0].N, ps[0].Addr, ps[0].Multicast = n, src, mc
	return 1, nil
}

func (s single) WriteBatch(ps []Packet) (int, error) { return writeEach(s.Conn, ps) }

func writeEach(c Conn, ps []Packet) (int, error) {
	for i := range ps {
		if _, err := c.WriteTo(ps[i].Buf[:ps[i].N], ps[i].Addr); err != nil {
			return i, err
		}
	}
	return len(ps), nil
}

var _ BatchConn = (*MemConn)(nil)

// ReadBatch implements BatchConn: it waits for one datagram, then takes
// the ones already queued without waiting.
func (c *MemConn) ReadBatch(ps []Packet) (int, error) {
	if len(ps) == 0 {
		return 0, nil
	}
	n, src, mc, err := c.ReadFrom(ps[0].Buf)
	if err != nil {
		return 0, err
	}
	ps[0].N, ps[0].Addr, ps[0].Multicast = n, src, mc
	k := 1
	for k < len(ps) {
		select {
		case p := <-c.in:
			ps[k].N = copy(ps[k].Buf, p.data)
			ps[k].Addr, ps[k].Multicast = p.src, p.multicast
			k++
		default:
			return k, nil
		}
	}
	return k, nil
}

// WriteBatch implements BatchConn.
func (c *MemConn) WriteBatch(ps []Packet) (int, error) { return writeEach(c, ps) }

var _ BatchConn = (*UDP)(nil)

// batchState is UDP's reusable recvmmsg/sendmmsg state.
type batchState struct {
	rmsgs []ipv6.Message
	rbufs [][1][]byte
	cm    ipv6.ControlMessage

	wmu    sync.Mutex // WriteBatch may run in two goroutines (Serve's handler and committer)
	wmsgs  []ipv6.Message
	wbufs  [][1][]byte
	waddrs []net.UDPAddr
	wips   [][16]byte
}

// ReadBatch implements BatchConn with one recvmmsg per call (more when
// every datagram read came from another interface and is skipped).
func (u *UDP) ReadBatch(ps []Packet) (int, error) {
	if len(ps) == 0 {
		return 0, nil
	}
	b := &u.batch
	if len(b.rmsgs) < len(ps) {
		b.rmsgs = make([]ipv6.Message, len(ps))
		b.rbufs = make([][1][]byte, len(ps))
		for i := range b.rmsgs {
			b.rmsgs[i].OOB = ipv6.NewControlMessage(ipv6.FlagDst | ipv6.FlagInterface)
		}
	}
	ms := b.rmsgs[:len(ps)]
	for i := range ms {
		b.rbufs[i][0] = ps[i].Buf
		ms[i].Buffers = b.rbufs[i][:]
		ms[i].OOB = ms[i].OOB[:cap(ms[i].OOB)]
	}
	for {
		n, err := u.pc.ReadBatch(ms, 0)
		if err != nil {
			return 0, err
		}
		k := 0
		for i := 0; i < n; i++ {
			m := &ms[i]
			ua, ok := m.Addr.(*net.UDPAddr)
			if !ok {
				continue
			}
			b.cm = ipv6.ControlMessage{Dst: b.cm.Dst[:0]}
			if m.NN > 0 {
				if err := b.cm.Parse(m.OOB[:m.NN]); err != nil {
					continue
				}
			}
			if b.cm.IfIndex != 0 && b.cm.IfIndex != u.iface.Index {
				continue // another interface's datagram: not this link's
			}
			if k != i { // close the gap left by skipped datagrams
				ps[k].Buf, ps[i].Buf = ps[i].Buf, ps[k].Buf
			}
			ps[k].N = m.N
			ps[k].Addr = ua.AddrPort()
			ps[k].Multicast = b.cm.Dst != nil && b.cm.Dst.IsMulticast()
			k++
		}
		if k > 0 {
			return k, nil
		}
	}
}

// WriteBatch implements BatchConn with sendmmsg. Link-scoped destinations
// leave through this socket's interface (an IPV6_PKTINFO control message
// names it by index, as WriteTo's numeric zone does).
func (u *UDP) WriteBatch(ps []Packet) (int, error) {
	b := &u.batch
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if len(b.wmsgs) < len(ps) {
		b.wmsgs = make([]ipv6.Message, len(ps))
		b.wbufs = make([][1][]byte, len(ps))
		b.waddrs = make([]net.UDPAddr, len(ps))
		b.wips = make([][16]byte, len(ps))
	}
	if u.pktinfo == nil {
		u.pktinfo = (&ipv6.ControlMessage{IfIndex: u.iface.Index}).Marshal()
	}
	ms := b.wmsgs[:len(ps)]
	for i := range ms {
		a := ps[i].Addr.Addr()
		if !a.Is6() || a.Is4In6() {
			return 0, fmt.Errorf("transport: write to %s: not IPv6", ps[i].Addr)
		}
		b.wips[i] = a.As16()
		b.waddrs[i] = net.UDPAddr{IP: b.wips[i][:], Port: int(ps[i].Addr.Port())}
		b.wbufs[i][0] = ps[i].Buf[:ps[i].N]
		ms[i] = ipv6.Message{Buffers: b.wbufs[i][:], Addr: &b.waddrs[i]}
		if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
			ms[i].OOB = u.pktinfo
		}
	}
	sent := 0
	for sent < len(ms) {
		n, err := u.pc.WriteBatch(ms[sent:], 0)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			return sent, err
		}
		sent += n
	}
	return sent, nil
}
