package transport

import (
	"fmt"
	"net/netip"
	"os"
	"sync"
	"unsafe"

	"golang.org/x/sys/unix"
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

// batchState is UDP's reusable recvmmsg/sendmmsg state. The system calls
// go through the socket's RawConn (so they wait in the runtime poller) on
// headers, addresses and control buffers built once, so that neither
// ReadBatch nor WriteBatch allocates. (ipv6.PacketConn's ReadBatch
// allocates a *net.UDPAddr per datagram and its WriteBatch marshals each
// destination: at 100,000 exchanges/s that garbage made the collector run
// every second, up to 9.5 ms of the server's P each time.)
type batchState struct {
	rhs    []unix.Mmsghdr
	riovs  []unix.Iovec
	rnames []unix.RawSockaddrInet6
	roob   [][]byte
	rn     int
	rerr   unix.Errno
	rfn    func(fd uintptr) bool // recv, bound once

	// With generic receive offload (SetOffload) the datagrams are read into
	// gbufs, and a coalesced one is handed out a segment at a time:
	// gnext is the next datagram of the last read, goff the offset of its
	// next segment.
	gro         bool
	gbufs       [][]byte
	gnext, goff int
	coalesced   int // runs read whole (for the specs)

	lastLL    [16]byte   // the last link-local source read
	lastZoned netip.Addr // and it with the socket's zone

	wmu    sync.Mutex // WriteBatch may run in two goroutines (Serve's sender and committer)
	whs    []unix.Mmsghdr
	wiovs  []unix.Iovec // one per datagram
	wnames []unix.RawSockaddrInet6
	wrun   []int    // datagrams per message
	woob   [][]byte // control messages per message
	wm     int      // messages of the write
	woff   int
	wsent  int
	werr   unix.Errno
	wfn    func(fd uintptr) bool // send, bound once
	gso    bool                  // segment runs (SetOffload; off once the kernel refuses)
}

// pktinfoSpace is the room one IPV6_PKTINFO control message takes.
var pktinfoSpace = unix.CmsgSpace(unix.SizeofInet6Pktinfo)

// groBuffers is how many datagrams, and groBufSize how large each, a
// ReadBatch with generic receive offload reads per recvmmsg: a coalesced
// datagram holds at most one IPv6 payload.
const (
	groBuffers = 32
	groBufSize = 65535
)

// SetOffload turns on the kernel's UDP offloads for this socket's runs of
// datagrams. WriteBatch then sends consecutive datagrams to one
// destination, of one length (the last of a run may be shorter), as one
// segmented message (UDP_SEGMENT, Linux 4.18), and the socket receives a
// run another such socket sent as one buffer (UDP_GRO, Linux 5.0), which
// ReadBatch hands out a datagram at a time, in order. The kernel carries a
// run through its stack once instead of once per datagram; each datagram
// still arrives as its own. Only ReadBatch may read the socket afterwards
// (ReadFrom would see a run whole). What else sees the packets sees a run
// as one: nftables rules and a packet capture on the way (a capture shows
// one oversized datagram), so a lab that captures or impairs its links
// leaves this off.
func (u *UDP) SetOffload() error {
	var serr error
	if err := u.rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1)
	}); err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("transport: UDP_GRO: %w", serr)
	}
	u.batch.gro, u.batch.gso = true, true
	u.batch.gnext, u.batch.rn = 0, 0 // nothing left over from a read without it
	return nil
}

// ReadBatch implements BatchConn with one recvmmsg per call (more when
// every datagram read came from another interface and is skipped; none
// while segments of a coalesced datagram are left, with SetOffload).
func (u *UDP) ReadBatch(ps []Packet) (int, error) {
	if len(ps) == 0 {
		return 0, nil
	}
	b := &u.batch
	if b.gro {
		return u.readGRO(ps)
	}
	b.prepare(len(ps), func(i int) []byte { return ps[i].Buf })
	for {
		if err := u.read(); err != nil {
			return 0, err
		}
		k := 0
		for i := range b.rn {
			src, mc, _, ok := u.datagram(i)
			if !ok {
				continue
			}
			if k != i { // close the gap left by skipped datagrams
				ps[k].Buf, ps[i].Buf = ps[i].Buf, ps[k].Buf
			}
			ps[k].N = min(int(b.rhs[i].Len), len(ps[k].Buf))
			ps[k].Addr, ps[k].Multicast = src, mc
			k++
		}
		if k > 0 {
			return k, nil
		}
		b.rn = len(ps)
	}
}

// readGRO is ReadBatch with generic receive offload: it reads into its
// own buffers and copies each segment out into ps.
func (u *UDP) readGRO(ps []Packet) (int, error) {
	b := &u.batch
	if b.gbufs == nil {
		b.gbufs = make([][]byte, groBuffers)
		for i := range b.gbufs {
			b.gbufs[i] = make([]byte, groBufSize)
		}
	}
	k := 0
	for k == 0 {
		if b.gnext >= b.rn { // nothing left of the last read
			b.prepare(groBuffers, func(i int) []byte { return b.gbufs[i] })
			if err := u.read(); err != nil {
				return 0, err
			}
			b.gnext, b.goff = 0, 0
		}
		for ; b.gnext < b.rn; b.gnext, b.goff = b.gnext+1, 0 {
			src, mc, seg, ok := u.datagram(b.gnext)
			if !ok {
				continue
			}
			d := b.gbufs[b.gnext][:min(int(b.rhs[b.gnext].Len), groBufSize)]
			if seg <= 0 {
				seg = len(d)
			}
			if b.goff == 0 && seg < len(d) {
				b.coalesced++
			}
			for ; b.goff < len(d); b.goff += seg {
				if k == len(ps) {
					return k, nil // the rest at the next call
				}
				ps[k].N = copy(ps[k].Buf, d[b.goff:min(b.goff+seg, len(d))])
				ps[k].Addr, ps[k].Multicast = src, mc
				k++
			}
		}
	}
	return k, nil
}

// prepare points the first n read headers at the buffers buf gives.
func (b *batchState) prepare(n int, buf func(i int) []byte) {
	if len(b.rhs) < n {
		b.rhs = make([]unix.Mmsghdr, n)
		b.riovs = make([]unix.Iovec, n)
		b.rnames = make([]unix.RawSockaddrInet6, n)
		b.roob = make([][]byte, n)
		for i := range b.roob {
			b.roob[i] = make([]byte, pktinfoSpace+unix.CmsgSpace(4))
		}
	}
	for i := range n {
		b.riovs[i] = unix.Iovec{}
		if d := buf(i); len(d) > 0 {
			b.riovs[i].Base = &d[0]
			b.riovs[i].SetLen(len(d))
		}
		h := &b.rhs[i].Hdr
		h.Iov = &b.riovs[i]
		h.SetIovlen(1)
		h.Name = (*byte)(unsafe.Pointer(&b.rnames[i]))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Control = &b.roob[i][0]
		h.SetControllen(len(b.roob[i]))
		h.Flags = 0
	}
	b.rn = n
}

// read runs one recvmmsg on the prepared headers, waiting in the poller
// until a datagram is there; b.rn is then how many arrived.
func (u *UDP) read() error {
	b := &u.batch
	if b.rfn == nil {
		b.rfn = u.recv
	}
	if err := u.rc.Read(b.rfn); err != nil {
		return err
	}
	if b.rerr != 0 {
		return os.NewSyscallError("recvmmsg", b.rerr)
	}
	return nil
}

// datagram reads the source, the multicast flag and the segment size
// (generic receive offload; 0 for a single datagram) of read datagram i;
// ok is false for one to skip, not IPv6 or from another interface.
func (u *UDP) datagram(i int) (src netip.AddrPort, multicast bool, seg int, ok bool) {
	b := &u.batch
	h := &b.rhs[i]
	sa := &b.rnames[i]
	if h.Hdr.Namelen < unix.SizeofSockaddrInet6 || sa.Family != unix.AF_INET6 {
		return src, false, 0, false
	}
	c := ParseControl(b.roob[i][:h.Hdr.Controllen])
	if c.Pktinfo && c.IfIndex != 0 && c.IfIndex != u.iface.Index {
		return src, false, 0, false // another interface's datagram: not this link's
	}
	a := netip.AddrFrom16(sa.Addr)
	if a.IsLinkLocalUnicast() {
		// WithZone interns the zone (unique.Make): 35 ns a datagram
		// (measured), the same answer for every datagram of one source.
		if sa.Addr != b.lastLL || !b.lastZoned.IsValid() {
			b.lastLL, b.lastZoned = sa.Addr, a.WithZone(u.zone)
		}
		a = b.lastZoned
	}
	return netip.AddrPortFrom(a, sa.Port>>8|sa.Port<<8), c.Pktinfo && c.Dst[0] == 0xff, c.Segment, true
}

// recv is ReadBatch's recvmmsg, run by the RawConn.
func (u *UDP) recv(fd uintptr) bool {
	b := &u.batch
	n, e, done := Mmsg(unix.SYS_RECVMMSG, fd, b.rhs[:b.rn])
	if done {
		b.rn, b.rerr = n, e
	}
	return done
}

// Control is what a received datagram's control messages say: the
// interface it arrived on and its destination (IPV6_PKTINFO, when
// Pktinfo), and its segment size when the kernel coalesced a run
// (UDP_GRO; 0 for a single datagram).
type Control struct {
	Pktinfo bool
	IfIndex int
	Dst     [16]byte
	Segment int
}

// ParseControl reads oob, the control messages recvmsg or recvmmsg
// returned, without allocating.
func ParseControl(oob []byte) (c Control) {
	for len(oob) >= unix.CmsgLen(0) {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[0]))
		l := int(h.Len)
		if l < unix.CmsgLen(0) || l > len(oob) {
			return c
		}
		switch {
		case h.Level == unix.IPPROTO_IPV6 && h.Type == unix.IPV6_PKTINFO && l >= unix.CmsgLen(unix.SizeofInet6Pktinfo):
			pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&oob[unix.CmsgLen(0)]))
			c.Pktinfo, c.IfIndex, c.Dst = true, int(pi.Ifindex), pi.Addr
		case h.Level == unix.IPPROTO_UDP && h.Type == unix.UDP_GRO && l >= unix.CmsgLen(4):
			c.Segment = int(*(*int32)(unsafe.Pointer(&oob[unix.CmsgLen(0)])))
		}
		oob = oob[min(unix.CmsgSpace(l-unix.CmsgLen(0)), len(oob)):]
	}
	return c
}

// WriteBatch implements BatchConn with sendmmsg. Link-scoped destinations
// leave through this socket's interface (an IPV6_PKTINFO control message
// names it by index, as WriteTo's numeric zone does). With SetOffload, a
// run of datagrams to one destination leaves as one segmented message.
func (u *UDP) WriteBatch(ps []Packet) (int, error) {
	u.batch.wmu.Lock()
	defer u.batch.wmu.Unlock()
	b := &u.batch
	if len(b.whs) < len(ps) {
		b.whs = make([]unix.Mmsghdr, len(ps))
		b.wiovs = make([]unix.Iovec, len(ps))
		b.wnames = make([]unix.RawSockaddrInet6, len(ps))
		b.wrun = make([]int, len(ps))
		b.woob = make([][]byte, len(ps))
		for i := range b.woob {
			b.woob[i] = make([]byte, 0, pktinfoSpace+unix.CmsgSpace(2))
		}
		b.wfn = u.send
	}
	for i := range ps {
		a := ps[i].Addr.Addr()
		if !a.Is6() || a.Is4In6() {
			return 0, fmt.Errorf("transport: write to %s: not IPv6", ps[i].Addr)
		}
		b.wiovs[i] = unix.Iovec{}
		if ps[i].N > 0 {
			b.wiovs[i].Base = &ps[i].Buf[0]
			b.wiovs[i].SetLen(ps[i].N)
		}
	}
	done := 0 // datagrams sent, or failed and skipped
	b.group(ps, 0, u.iface.Index)
	for b.woff = 0; b.woff < b.wm; {
		if err := u.rc.Write(b.wfn); err != nil {
			return done, err // the socket is closed
		}
		for _, r := range b.wrun[b.woff : b.woff+b.wsent] {
			done += r
		}
		b.woff += b.wsent
		if b.werr == 0 {
			continue
		}
		if b.wrun[b.woff] > 1 && (b.werr == unix.EIO || b.werr == unix.EINVAL) {
			// This kernel or route cannot segment: one by one from here on.
			b.gso = false
			b.group(ps, done, u.iface.Index)
			b.woff = 0
			continue
		}
		return done, os.NewSyscallError("sendmmsg", b.werr)
	}
	return done, nil
}

// group builds the messages for ps[from:]: runs to one destination of
// one length when segmenting, one datagram each otherwise.
func (b *batchState) group(ps []Packet, from, ifindex int) {
	b.wm = 0
	for i := from; i < len(ps); {
		j := i + 1
		if b.gso {
			j = RunEnd(b.wiovs, i, len(ps), func(j int) bool { return ps[j].Addr == ps[i].Addr })
		}
		a := ps[i].Addr.Addr()
		sa := &b.wnames[b.wm]
		*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Addr: a.As16()}
		p := ps[i].Addr.Port()
		sa.Port = p>>8 | p<<8 // network byte order
		oob := b.woob[b.wm][:0]
		if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
			oob = appendPktinfo(oob, ifindex)
		}
		if j-i > 1 {
			oob = AppendSegment(oob, ps[i].N)
		}
		b.woob[b.wm] = oob
		h := &b.whs[b.wm].Hdr
		h.Name = (*byte)(unsafe.Pointer(sa))
		h.Namelen = unix.SizeofSockaddrInet6
		h.Iov = &b.wiovs[i]
		h.SetIovlen(j - i)
		h.Control, h.Controllen = nil, 0
		if len(oob) > 0 {
			h.Control = &oob[0]
			h.SetControllen(len(oob))
		}
		b.wrun[b.wm] = j - i
		b.wm++
		i = j
	}
}

// send is WriteBatch's sendmmsg, run by the RawConn: it sends from
// message woff on and sets wsent, or werr for message woff.
func (u *UDP) send(fd uintptr) bool {
	b := &u.batch
	n, e, done := Mmsg(unix.SYS_SENDMMSG, fd, b.whs[b.woff:b.wm])
	if done {
		b.wsent, b.werr = n, e
	}
	return done
}

// Mmsg runs recvmmsg or sendmmsg (trap: unix.SYS_RECVMMSG or
// unix.SYS_SENDMMSG) on hs, not empty, without blocking: it is what a
// syscall.RawConn's Read or Write runs. done is false when the socket
// would block (the RawConn then waits in the runtime poller and calls
// again); otherwise n messages went through, or errno says why none did.
func Mmsg(trap, fd uintptr, hs []unix.Mmsghdr) (n int, errno unix.Errno, done bool) {
	for {
		r, _, e := unix.Syscall6(trap, fd, uintptr(unsafe.Pointer(&hs[0])), uintptr(len(hs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			return int(r), 0, true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, 0, false
		}
		return 0, e, true
	}
}

// appendPktinfo appends an IPV6_PKTINFO control message naming the
// interface to oob.
func appendPktinfo(oob []byte, ifindex int) []byte {
	off := len(oob)
	oob = extend(oob, pktinfoSpace)
	h := (*unix.Cmsghdr)(unsafe.Pointer(&oob[off]))
	h.Level = unix.IPPROTO_IPV6
	h.Type = unix.IPV6_PKTINFO
	h.SetLen(unix.CmsgLen(unix.SizeofInet6Pktinfo))
	pi := (*unix.Inet6Pktinfo)(unsafe.Pointer(&oob[off+unix.CmsgLen(0)]))
	pi.Ifindex = uint32(ifindex)
	return oob
}
