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
// calls Sync once (one transaction, one fsync, covering every change made
// before it took them) and only then sends them (sendmmsg). So a Reply
// never leaves before the binding it grants, extends or removes is on
// disk, as with a write-through store; and the handler goes on reading and
// answering while the disk works, so the next group grows with the load.
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
	var c *committer
	if syncer, ok := s.store.(lease.Syncer); ok {
		c = &committer{s: s, bc: bc, syncer: syncer, wake: make(chan struct{}, 1), done: make(chan struct{})}
		go c.run(ctx, cancel)
		defer func() { cancel(nil); <-c.done }()
	}
	out := &sender{s: s, bc: bc, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go out.run(ctx)
	defer func() { cancel(nil); <-out.done }()
	in := make([]transport.Packet, BatchSize)
	for i := range in {
		in[i].Buf = make([]byte, maxDatagram)
	}
	early := make([]transport.Packet, 0, BatchSize) // answers that wrote nothing
	late := make([]transport.Packet, 0, BatchSize)  // answers that wait for a Sync
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
			reply, dst, ok := s.Handle(now(), p.Buf[:p.N], p.Addr, p.Multicast)
			if !ok {
				continue
			}
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

// sender writes the answers that wait for nothing, on its own goroutine:
// the handler hands each batch over and goes back to reading. Over a veth,
// sendmmsg also runs the receiving side of the kernel's stack, and at the
// builtin server's top rate that was about half of the handler's time
// (perf, `d6lab bench --server builtin --rate 36000`); here it runs on
// the other core while the handler reads and answers the next batch.
type sender struct {
	s    *Server
	bc   transport.BatchConn
	wake chan struct{} // one token: there is work
	done chan struct{}

	mu      sync.Mutex
	waiting []transport.Packet
	spare   []transport.Packet
}

// hand queues answers to send (the handler keeps no reference to their
// bytes: each reply is its own slice).
func (q *sender) hand(ps []transport.Packet) {
	if len(ps) == 0 {
		return
	}
	q.mu.Lock()
	q.waiting = append(q.waiting, ps...)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *sender) run(ctx context.Context) {
	defer close(q.done)
	for {
		select {
		case <-q.wake:
		case <-ctx.Done():
			return
		}
		q.mu.Lock()
		batch := q.waiting
		q.waiting = q.spare[:0]
		q.mu.Unlock()
		_ = q.s.send(ctx, q.bc, batch)
		clear(batch) // let the reply bytes go
		q.mu.Lock()
		q.spare = batch[:0]
		q.mu.Unlock()
	}
}

// committer makes the handler's changes durable and then sends the
// answers that waited for them.
type committer struct {
	s      *Server
	bc     transport.BatchConn
	syncer lease.Syncer
	wake   chan struct{} // one token: there is work
	done   chan struct{}

	mu      sync.Mutex
	waiting []transport.Packet // answers whose changes are not synced yet
	spare   []transport.Packet
	failed  bool // a Sync failed: answers handed now are dropped
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
// without an answer still needs a Sync) and wakes the committer.
func (c *committer) hand(ps []transport.Packet) {
	c.mu.Lock()
	if c.failed {
		c.mu.Unlock()
		c.s.unanswer(len(ps))
		return
	}
	c.waiting = append(c.waiting, ps...)
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

func (c *committer) run(ctx context.Context, fail context.CancelCauseFunc) {
	defer close(c.done)
	for {
		select {
		case <-c.wake:
		case <-ctx.Done():
			return
		}
		c.mu.Lock()
		group := c.waiting
		c.waiting = c.spare[:0]
		c.mu.Unlock()
		// Every change behind group was made before it was handed over,
		// so before this Sync takes the store's queue.
		if err := c.syncer.Sync(); err != nil {
			c.mu.Lock()
			k := len(group) + len(c.waiting)
			c.waiting, c.failed = nil, true
			c.mu.Unlock()
			c.s.unanswer(k)
			fail(fmt.Errorf("%w: %d answers not sent: %w", ErrStoreSync, k, err))
			return
		}
		_ = c.s.send(ctx, c.bc, group)
		clear(group) // let the reply bytes go
		c.mu.Lock()
		c.spare = group[:0]
		c.mu.Unlock()
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
