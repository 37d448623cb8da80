package load

import (
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// writer batches outgoing datagrams to one destination and sends them
// with sendmmsg(2) through the socket's RawConn (so it waits in the
// runtime poller when the socket buffer is full). Its buffers, headers and
// destination sockaddr are built once, so a flush does not allocate.
//
// It does not use ipv6.PacketConn.WriteBatch, which marshals the
// destination per call and resolves a zone name (or, failing that, a
// numeric zone after a forced refresh of its interface cache: a netlink
// dump per call) in the namespace of the calling thread, which for the lab
// is not the socket's.
type writer struct {
	rc   syscall.RawConn
	hs   []unix.Mmsghdr
	iovs []unix.Iovec
	bufs [][]byte
	sa   unix.RawSockaddrInet6
	fn   func(fd uintptr) bool // w.send, bound once so Write does not allocate
	n    int
	off  int
	sent int
	err  unix.Errno
}

func newWriter(c *net.UDPConn, dst netip.AddrPort, scope uint32, batch int) (*writer, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("load: raw conn: %w", err)
	}
	w := &writer{rc: rc, hs: make([]unix.Mmsghdr, batch), iovs: make([]unix.Iovec, batch), bufs: make([][]byte, batch)}
	w.sa.Family = unix.AF_INET6
	p := dst.Port()
	w.sa.Port = p>>8 | p<<8 // network byte order
	w.sa.Addr = dst.Addr().As16()
	w.sa.Scope_id = scope
	for i := range w.hs {
		w.bufs[i] = make([]byte, maxMsg)
		w.iovs[i].Base = &w.bufs[i][0]
		w.hs[i].Hdr.Iov = &w.iovs[i]
		w.hs[i].Hdr.SetIovlen(1)
		w.hs[i].Hdr.Name = (*byte)(unsafe.Pointer(&w.sa))
		w.hs[i].Hdr.Namelen = unix.SizeofSockaddrInet6
	}
	w.fn = w.send
	return w, nil
}

// next returns the buffer for the next datagram.
func (w *writer) next() []byte { return w.bufs[w.n] }

// commit queues the first l bytes of next's buffer.
func (w *writer) commit(l int) {
	w.iovs[w.n].SetLen(l)
	w.n++
}

func (w *writer) full() bool { return w.n == len(w.hs) }

func (w *writer) send(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&w.hs[w.off])), uintptr(w.n-w.off), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			w.sent, w.err = int(n), 0
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		w.sent, w.err = 0, e
		return true
	}
}

// flush sends the queued datagrams and returns how many the kernel
// refused. sendmmsg(2) reports an error only for the first datagram of a
// call: that one is skipped (its exchange will time out) and the rest go on.
func (w *writer) flush() (failed uint64) {
	for w.off = 0; w.off < w.n; {
		if err := w.rc.Write(w.fn); err != nil {
			failed += uint64(w.n - w.off) // the socket is closed
			break
		}
		w.off += w.sent
		if w.err != 0 || w.sent == 0 {
			failed++
			w.off++
		}
	}
	w.n = 0
	return failed
}

// reader receives datagrams in batches with recvmmsg(2) through the
// socket's RawConn, so it waits in the runtime poller and honours read
// deadlines. It does not use ipv6.PacketConn.ReadBatch because that
// allocates a *net.UDPAddr per datagram; the generator matches answers by
// transaction ID and needs no source address.
type reader struct {
	rc   syscall.RawConn
	hs   []unix.Mmsghdr
	iovs []unix.Iovec
	bufs [][]byte
	fn   func(fd uintptr) bool // r.recv, bound once so Read does not allocate
	n    int
	err  error
}

const readBufSize = 4096

func newReader(c *net.UDPConn, batch int) (*reader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("load: raw conn: %w", err)
	}
	r := &reader{rc: rc, hs: make([]unix.Mmsghdr, batch), iovs: make([]unix.Iovec, batch), bufs: make([][]byte, batch)}
	for i := range r.hs {
		r.bufs[i] = make([]byte, readBufSize)
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(readBufSize)
		r.hs[i].Hdr.Iov = &r.iovs[i]
		r.hs[i].Hdr.SetIovlen(1)
	}
	r.fn = r.recv
	return r, nil
}

func (r *reader) recv(fd uintptr) bool {
	for {
		n, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&r.hs[0])), uintptr(len(r.hs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			r.n = int(n)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		r.err = e
		return true
	}
}

// read waits for at least one datagram and returns how many arrived.
// Datagram i is msg(i).
func (r *reader) read() (int, error) {
	r.n, r.err = 0, nil
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	return r.n, r.err
}

// msg returns datagram i of the last read, and whether it was truncated.
func (r *reader) msg(i int) ([]byte, bool) {
	h := &r.hs[i]
	return r.bufs[i][:h.Len], h.Hdr.Flags&unix.MSG_TRUNC != 0
}
