package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"d6lab/server/lease"
	"d6lab/transport"
)

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// BatchSize is the most datagrams Serve reads in one system call
// (recvmmsg) and answers before its store's one Sync.
const BatchSize = 128

// ErrStoreSync: the lease store failed to make a batch's bindings durable;
// Serve sent none of the answers that depended on them and stopped.
var ErrStoreSync = errors.New("server: lease store sync failed")

// Serve reads datagrams from conn, hands each to s.Handle with the time
// now() gives, and writes the answers back. It returns nil when ctx is
// cancelled (it closes conn to unblock the read) and an error when conn
// fails otherwise. Malformed datagrams are dropped and counted; a failed
// write is counted in Counters.WriteErrors and the loop goes on.
//
// Serve works in batches, with group commit. It reads every datagram
// already queued, up to BatchSize, in one call (transport.BatchConn:
// recvmmsg on a UDP socket; one datagram per call on a Conn that cannot
// batch) and handles each in turn. When the store is a lease.Syncer
// (lease.Bolt in deferred mode), answers whose handling changed no binding
// (Advertise, Confirm, Information-request replies) leave at once, written
// by a sender goroutine while the handler reads on; the others wait for a
// committer goroutine, which takes every waiting answer,
// calls Sync once (one log append and one fdatasync, covering every change
// made before it took them) and only then sends them (sendmmsg). So a
// Reply never leaves before the binding it grants, extends or removes is
// on disk, as with a write-through store (or, with lease.InKernel, written
// to the kernel, which keeps it through a crash of the server but not of
// the machine); and the handler goes on reading and
// answering while the disk works, so the next group grows with the load,
// up to maxWaiting answers: then the handler waits for the committer (and
// likewise for the sender), and requests wait in the socket's buffer.
//
// If Sync fails, the answers that waited for it are not sent (each is
// counted as dropped, DropStoreError, instead of answered) and Serve
// returns an error wrapping ErrStoreSync: the server stops. The store has
// rolled its cache back to the last synced state and refuses further
// writes (lease.ErrFailed): after a failed fsync the file's contents are
// unknown, so the way on is a restart that reopens the file.
//
// Serve owns s while it runs: do not call Handle concurrently.
func Serve(ctx context.Context, conn transport.Conn, s *Server, now func() time.Time) error {
	if now == nil {
		return errors.New("server: Serve needs a clock")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	bc := transport.Batch(conn)
	bufs := &answerBufs{}
	out := &sender{s: s, bc: bc, box: newOutbox(bufs), done: make(chan struct{})}
	go out.run(ctx)
	defer func() { cancel(nil); <-out.done }()
	var c *committer
	if syncer, ok := s.store.(lease.Syncer); ok {
		c = &committer{s: s, bc: bc, syncer: syncer, box: newOutbox(bufs), early: out.box, done: make(chan struct{})}
		go c.run(ctx, cancel)
		defer func() { cancel(nil); <-c.done }()
	}
	in := make([]transport.Packet, BatchSize)
	for i := range in {
		in[i].Buf = make([]byte, maxDatagram)
	}
	early := make([]transport.Packet, 0, BatchSize) // answers that wrote nothing
	late := make([]transport.Packet, 0, BatchSize)  // answers that wait for a Sync
	var buf []byte                                  // for the next answer
	for {
		n, err := bc.ReadBatch(in)
		if err != nil {
			if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
				return cause // the committer failed
			}
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("server: read from %s: %w", conn.LocalAddr(), err)
		}
		early, late = early[:0], late[:0]
		var start, w uint64
		if c != nil {
			start = c.syncer.Written()
			w = start
		}
		for i := range in[:n] {
			p := &in[i]
			if buf == nil {
				buf = bufs.get()
			}
			reply, dst, ok := s.AppendAnswer(buf, now(), p.Buf[:p.N], p.Addr, p.Multicast)
			if !ok {
				continue // buf is still free
			}
			buf = nil // until sent
			pkt := transport.Packet{Buf: reply, N: len(reply), Addr: dst}
			if c != nil {
				if w2 := c.syncer.Written(); w2 != w {
					w = w2
					late = append(late, pkt)
					continue
				}
			}
			early = append(early, pkt)
		}
		out.hand(early)
		if w != start {
			c.hand(late)
		}
	}
}

// answerBufs is the free list of the buffers Serve encodes answers into:
// the handler takes one per answer, and the goroutine that sends it gives
// it back once sent (outbox.recycle), so a warm Serve allocates none.
type answerBufs struct {
	mu   sync.Mutex
	free [][]byte
}

// maxFreeBufs bounds the free list: room for every answer that can be in
// flight (for each of the two outboxes, up to maxWaiting plus the batch a
// put carries past it waiting, and as many in its goroutine's hands), so
// that a warm Serve allocates none even when held back: at most 2 MiB.
const maxFreeBufs = 4 * (maxWaiting + BatchSize)

// get returns an empty buffer with room for a typical answer.
func (a *answerBufs) get() []byte {
	a.mu.Lock()
	if n := len(a.free); n > 0 {
		b := a.free[n-1]
		a.free = a.free[:n-1]
		a.mu.Unlock()
		return b
	}
	a.mu.Unlock()
	return make([]byte, 0, answerCap)
}

// put takes back the buffers of sent answers.
func (a *answerBufs) put(ps []transport.Packet) {
	a.mu.Lock()
	for i := range ps {
		if len(a.free) == maxFreeBufs {
			break
		}
		a.free = append(a.free, ps[i].Buf[:0])
	}
	a.mu.Unlock()
}

// outbox carries batches of answers from the handler to a goroutine that
// sends them. The handler appends; the goroutine, woken, takes everything
// queued and gives the slice back once sent, with the answers' buffers
// (to bufs), so the two swap two slices and, once warm, allocate nothing.
// At most maxWaiting answers wait: a handler that far ahead waits for the
// goroutine (backpressure).
type outbox struct {
	wake chan struct{} // one token: there is work
	bufs *answerBufs

	mu      sync.Mutex
	idle    *sync.Cond // on mu: signalled when a batch is done or the consumer stops
	waiting []transport.Packet
	spare   []transport.Packet
	busy    bool // the consumer holds a batch it has not recycled yet
	stopped bool // the consumer's loop has returned
	closed  bool // the consumer stopped for good: put refuses
}

// maxWaiting bounds the answers an outbox holds that its goroutine has not
// taken yet. A handler that gets this far ahead of its sender (whose
// sendmmsg, over a veth, also runs the receiving side's stack) or of its
// committer (behind a slow disk) waits for it instead of reading on. Under
// overload the requests then wait in the socket's receive buffer, and the
// kernel drops what does not fit, at no cost, where without the bound the
// answers piled up in memory (measured: over 500 MiB after 10 s at 120,000
// exchanges/s offered, `d6lab bench --server builtin --rate 120000`) and
// left seconds late to clients that had given up. It is 16 batches, a
// few tens of milliseconds at the server's top rate: enough for a group of
// Replies waiting out a slow fdatasync (280 at 70,000 exchanges/s for 4
// ms) and for the bursts a near-saturated sender lags behind. Measured
// (`d6lab bench --search`, two or three each): 4 batches lowered the highest rate
// by drops alone from 80,000-86,000/s to 72,500/s; 16 gave 75,000-80,000.
const maxWaiting = 16 * BatchSize

func newOutbox(bufs *answerBufs) *outbox {
	o := &outbox{wake: make(chan struct{}, 1), bufs: bufs}
	o.idle = sync.NewCond(&o.mu)
	return o
}

// flush waits until everything put so far has been taken and recycled, or
// the consumer has stopped.
func (o *outbox) flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for (len(o.waiting) > 0 || o.busy) && !o.stopped {
		o.idle.Wait()
	}
}

// stop marks the consumer gone, releasing any flush and any put waiting
// for room.
func (o *outbox) stop() {
	o.mu.Lock()
	o.stopped = true
	o.mu.Unlock()
	o.idle.Broadcast()
}

// put queues ps (possibly none: a wake-up alone) and wakes the consumer.
// While maxWaiting answers or more wait it first waits until the consumer
// has sent a batch (or stopped). It returns false, queuing nothing, once
// the outbox is closed.
func (o *outbox) put(ps []transport.Packet) bool {
	o.mu.Lock()
	for len(o.waiting) >= maxWaiting && !o.closed && !o.stopped {
		o.idle.Wait()
	}
	if o.closed {
		o.mu.Unlock()
		return false
	}
	o.waiting = append(o.waiting, ps...)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return true
}

// take waits for work and returns everything queued; ok is false when ctx
// is done first.
func (o *outbox) take(ctx context.Context) (batch []transport.Packet, ok bool) {
	select {
	case <-o.wake:
	case <-ctx.Done():
		return nil, false
	}
	o.mu.Lock()
	batch, o.waiting = o.waiting, o.spare[:0]
	o.busy = true
	o.mu.Unlock()
	return batch, true
}

// recycle gives a sent batch's slice back, and its answers' buffers.
func (o *outbox) recycle(batch []transport.Packet) {
	o.bufs.put(batch)
	clear(batch)
	o.mu.Lock()
	o.spare, o.busy = batch[:0], false
	o.mu.Unlock()
	o.idle.Broadcast()
}

// close refuses further answers (releasing a put waiting for room) and
// returns how many were queued and never taken.
func (o *outbox) close() int {
	o.mu.Lock()
	k := len(o.waiting)
	o.waiting, o.closed = nil, true
	o.mu.Unlock()
	o.idle.Broadcast()
	return k
}

// sender writes the answers that wait for nothing, on its own goroutine:
// the handler hands each batch over and goes back to reading. Over a veth,
// sendmmsg also runs the receiving side of the kernel's stack, and at the
// builtin server's top rate that was about half of the handler's time
// (perf, `d6lab bench --server builtin --rate 36000`); here it runs on
// the other core while the handler reads and answers the next batch.
type sender struct {
	s    *Server
	bc   transport.BatchConn
	box  *outbox
	done chan struct{}
}

// hand queues answers to send (the handler keeps no reference to their
// bytes: each reply is its own buffer until recycled).
func (q *sender) hand(ps []transport.Packet) {
	if len(ps) > 0 {
		q.box.put(ps)
	}
}

func (q *sender) run(ctx context.Context) {
	defer close(q.done)
	defer q.box.stop()
	for {
		batch, ok := q.box.take(ctx)
		if !ok {
			return
		}
		_ = q.s.send(ctx, q.bc, batch)
		q.box.recycle(batch)
	}
}

// committer makes the handler's changes durable and then sends the
// answers that waited for them.
type committer struct {
	s      *Server
	bc     transport.BatchConn
	syncer lease.Syncer
	box    *outbox // answers whose changes are not synced yet; closed once a Sync fails
	early  *outbox // the sender's: flushed before a failed Sync stops Serve
	done   chan struct{}
}

// unanswer moves k answers that will not be sent from answered to dropped
// (DropStoreError).
func (s *Server) unanswer(k int) {
	if k > 0 {
		s.ctr.answered.Add(^uint64(k - 1))
		s.ctr.dropped[DropStoreError].Add(uint64(k))
	}
}

// hand queues answers whose changes are made (possibly none: a change
// without an answer still needs a Sync) and wakes the committer. After a
// failed Sync they are dropped.
func (c *committer) hand(ps []transport.Packet) {
	if !c.box.put(ps) {
		c.s.unanswer(len(ps))
	}
}

func (c *committer) run(ctx context.Context, fail context.CancelCauseFunc) {
	defer close(c.done)
	defer c.box.stop()
	for {
		group, ok := c.box.take(ctx)
		if !ok {
			return
		}
		// Every change behind group was made before it was handed over,
		// so before this Sync takes the store's queue.
		if err := c.syncer.Sync(); err != nil {
			k := len(group) + c.box.close()
			c.s.unanswer(k)
			// The answers that waited for nothing and were handled before
			// these still go out (the handler hands a batch's early
			// answers to the sender before its late ones to the
			// committer): stopping Serve closes the socket.
			c.early.flush()
			fail(fmt.Errorf("%w: %d answers not sent: %w", ErrStoreSync, k, err))
			return
		}
		_ = c.s.send(ctx, c.bc, group)
		c.box.recycle(group)
	}
}

// send writes ps, counting each datagram that fails and going on with the
// next. It returns an error only when ctx is cancelled.
func (s *Server) send(ctx context.Context, bc transport.BatchConn, ps []transport.Packet) error {
	for len(ps) > 0 {
		n, err := bc.WriteBatch(ps)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.ctr.writeErrors.Add(1)
		ps = ps[min(n+1, len(ps)):]
	}
	return nil
}
