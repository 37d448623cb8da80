package load

import (
	"fmt"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// writer batches outgoing datagrams to one destination and sends them
// with ipv6.PacketConn.WriteBatch (sendmmsg). Its buffers, messages and
// destination are allocated once; WriteBatch itself reuses pooled
// headers, so a flush does not allocate (see TestSendReceiveAllocs).
type writer struct {
	pc   *ipv6.PacketConn
	ms   []ipv6.Message
	bufs [][]byte
	n    int
}

func newWriter(pc *ipv6.PacketConn, dst *net.UDPAddr, batch int) *writer {
	w := &writer{pc: pc, ms: make([]ipv6.Message, batch), bufs: make([][]byte, batch)}
	for i := range w.ms {
		w.bufs[i] = make([]byte, maxMsg)
		w.ms[i].Buffers = make([][]byte, 1)
		w.ms[i].Addr = dst
	}
	return w
}

// next returns the buffer for the next datagram.
func (w *writer) next() []byte { return w.bufs[w.n] }

// commit queues the first l bytes of next's buffer.
func (w *writer) commit(l int) {
	w.ms[w.n].Buffers[0] = w.bufs[w.n][:l]
	w.n++
}

func (w *writer) full() bool { return w.n == len(w.ms) }

// flush sends the queued datagrams and returns how many the kernel
// refused (each skipped after its error; its exchange will time out).
func (w *writer) flush() (failed uint64) {
	for off := 0; off < w.n; {
		n, err := w.pc.WriteBatch(w.ms[off:w.n], 0)
		off += max(n, 0) // x/net passes on sendmmsg's -1
		if err != nil || n == 0 {
			// sendmmsg(2) reports an error only for the first datagram
			// of a call: skip that one and go on with the rest.
			failed++
			off++
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
