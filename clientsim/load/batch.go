package load

import (
	"fmt"
	"iter"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"d6lab/transport"
)

// writer batches outgoing datagrams to one destination and sends them
// with sendmmsg(2) through the socket's RawConn (so it waits in the
// runtime poller when the socket buffer is full). Consecutive datagrams of
// one length (the last of a run may be shorter) leave as one message with
// UDP generic segmentation offload (UDP_SEGMENT): the kernel carries the
// run through its stack as one buffer and splits it where it leaves, so a
// run costs one traversal rather than one per datagram; each still arrives
// as its own datagram. Its buffers, headers and destination sockaddr are
// built once, so a flush does not allocate.
//
// It does not use ipv6.PacketConn.WriteBatch, which marshals the
// destination per call and resolves a zone name (or, failing that, a
// numeric zone after a forced refresh of its interface cache: a netlink
// dump per call) in the namespace of the calling thread, which for the lab
// is not the socket's.
type writer struct {
	rc   syscall.RawConn
	hs   []unix.Mmsghdr // the messages of a flush, one per run
	runs []int          // datagrams per message
	ctl  [][]byte       // each message's UDP_SEGMENT control message
	iovs []unix.Iovec   // one per datagram
	bufs [][]byte
	sa   unix.RawSockaddrInet6
	fn   func(fd uintptr) bool // w.send, bound once so Write does not allocate
	gso  bool                  // segment runs (off once the kernel refuses)
	n    int                   // datagrams queued
	m    int                   // messages of the flush
	off  int
	sent int
	err  unix.Errno
}

func newWriter(c *net.UDPConn, dst netip.AddrPort, scope uint32, batch int) (*writer, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("load: raw conn: %w", err)
	}
	w := &writer{rc: rc, hs: make([]unix.Mmsghdr, batch), runs: make([]int, batch), ctl: make([][]byte, batch),
		iovs: make([]unix.Iovec, batch), bufs: make([][]byte, batch), gso: true}
	w.sa.Family = unix.AF_INET6
	p := dst.Port()
	w.sa.Port = p>>8 | p<<8 // network byte order
	w.sa.Addr = dst.Addr().As16()
	w.sa.Scope_id = scope
	for i := range w.hs {
		w.bufs[i] = make([]byte, maxMsg)
		w.iovs[i].Base = &w.bufs[i][0]
		w.ctl[i] = make([]byte, 0, unix.CmsgSpace(2))
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
	n, e, done := transport.Mmsg(unix.SYS_SENDMMSG, fd, w.hs[w.off:w.m])
	if done {
		w.sent, w.err = n, e
	}
	return done
}

// group builds the messages for datagrams [from, w.n): runs of one length
// when segmenting, one datagram each otherwise.
func (w *writer) group(from int) {
	w.m = 0
	for i := from; i < w.n; {
		j := i + 1
		if w.gso {
			j = transport.RunEnd(w.iovs, i, w.n, nil) // one destination
		}
		h := &w.hs[w.m].Hdr
		h.Iov = &w.iovs[i]
		h.SetIovlen(j - i)
		h.Control, h.Controllen = nil, 0
		if j-i > 1 {
			w.ctl[w.m] = transport.AppendSegment(w.ctl[w.m][:0], int(w.iovs[i].Len))
			h.Control = &w.ctl[w.m][0]
			h.SetControllen(len(w.ctl[w.m]))
		}
		w.runs[w.m] = j - i
		w.m++
		i = j
	}
}

// flush sends the queued datagrams and returns how many the kernel
// refused. sendmmsg(2) reports an error only for the first message of a
// call: that message's datagrams are skipped (their exchanges will time
// out) and the rest go on. If the kernel refuses a segmented message
// (EIO or EINVAL: no segmentation on this route), the writer stops
// segmenting and sends that message's datagrams one by one.
func (w *writer) flush() (failed uint64) {
	w.group(0)
	done := 0 // datagrams sent or given up
	for w.off = 0; w.off < w.m; {
		if err := w.rc.Write(w.fn); err != nil {
			for _, r := range w.runs[w.off:w.m] {
				failed += uint64(r) // the socket is closed
			}
			break
		}
		for _, r := range w.runs[w.off : w.off+w.sent] {
			done += r
		}
		w.off += w.sent
		if w.err != 0 || w.sent == 0 {
			r := w.runs[w.off]
			if r > 1 && (w.err == unix.EIO || w.err == unix.EINVAL) {
				w.gso = false
				w.group(done)
				w.off = 0
				continue
			}
			failed += uint64(r)
			done += r
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
// transaction ID and needs no source address. It turns on UDP generic
// receive offload (UDP_GRO) when the kernel has it: a run of answers the
// server sent segmented (the builtin server does, transport.UDP) arrives
// as one buffer, which msg splits.
type reader struct {
	rc   syscall.RawConn
	hs   []unix.Mmsghdr
	iovs []unix.Iovec
	bufs [][]byte
	ctl  [][]byte              // each datagram's control message (UDP_GRO)
	fn   func(fd uintptr) bool // r.recv, bound once so Read does not allocate
	n    int
	err  error
}

// readBufSize holds any datagram, and any run the kernel coalesces (at
// most one IPv6 payload).
const readBufSize = 65535

func newReader(c *net.UDPConn, batch int) (*reader, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("load: raw conn: %w", err)
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_UDP, unix.UDP_GRO, 1) // best effort
	})
	r := &reader{rc: rc, hs: make([]unix.Mmsghdr, batch), iovs: make([]unix.Iovec, batch),
		bufs: make([][]byte, batch), ctl: make([][]byte, batch)}
	for i := range r.hs {
		r.bufs[i] = make([]byte, readBufSize)
		r.ctl[i] = make([]byte, unix.CmsgSpace(4))
		r.iovs[i].Base = &r.bufs[i][0]
		r.iovs[i].SetLen(readBufSize)
		r.hs[i].Hdr.Iov = &r.iovs[i]
		r.hs[i].Hdr.SetIovlen(1)
	}
	r.fn = r.recv
	return r, nil
}

func (r *reader) recv(fd uintptr) bool {
	n, e, done := transport.Mmsg(unix.SYS_RECVMMSG, fd, r.hs)
	if done {
		r.n = n
		if e != 0 {
			r.err = e
		}
	}
	return done
}

// read waits for at least one datagram and returns how many arrived.
// Datagram i is msg(i).
func (r *reader) read() (int, error) {
	r.n, r.err = 0, nil
	for i := range r.hs { // the kernel shortened the last read's
		r.hs[i].Hdr.Control = &r.ctl[i][0]
		r.hs[i].Hdr.SetControllen(len(r.ctl[i]))
	}
	if err := r.rc.Read(r.fn); err != nil {
		return 0, err
	}
	return r.n, r.err
}

// datagrams yields the datagrams of message i of the last read (msg): the
// one it holds, or each of a run the kernel coalesced, in order. An empty
// datagram is yielded once.
func (r *reader) datagrams(i int) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		d, seg, _ := r.msg(i)
		for {
			b := d[:min(seg, len(d))]
			d = d[len(b):]
			if !yield(b) || len(d) == 0 {
				return
			}
		}
	}
}

// msg returns datagram i of the last read, the size of the datagrams it
// holds (its own length, or the segment size of a coalesced run: each
// seg bytes, the last one maybe fewer), and whether it was truncated.
func (r *reader) msg(i int) (b []byte, seg int, trunc bool) {
	h := &r.hs[i]
	b = r.bufs[i][:h.Len]
	seg = len(b)
	if g := transport.ParseControl(r.ctl[i][:h.Hdr.Controllen]).Segment; g > 0 {
		seg = g
	}
	return b, seg, r.truncated(i)
}

// truncated reports whether datagram i of the last read did not fit its
// buffer, without reading its control message as msg does.
func (r *reader) truncated(i int) bool { return r.hs[i].Hdr.Flags&unix.MSG_TRUNC != 0 }
