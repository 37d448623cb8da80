package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/server/lease"
)

// BulkServer couples a Server to a TCP listener for Bulk Leasequery
// (RFC 5460): the IO around HandleBulk. Each connection has its own
// goroutine and reads one query at a time: it reads a frame, sends every
// frame of its answer, then reads the next (§7.3: a server MUST NOT read
// more queries from a connection than it is prepared to process at once;
// here one, so answers are never interleaved). The core's concurrency
// with Serve is explained in bulk.go.
type BulkServer struct {
	s   *Server
	now func() time.Time

	// MaxConns is how many connections are served at once; one more is
	// accepted and closed at once (§7.1: servers MUST be able to limit
	// the accepted and active connections). 0 means BulkMaxConns.
	MaxConns int
	// Timeout is how long a connection may wait for a query, or for the
	// requestor to take a frame, before it is closed. 0 means
	// BulkDataTimeout.
	Timeout time.Duration

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
	ctr   bulkCounters
}

// NewBulkServer returns the Bulk Leasequery side of s, reading the clock
// with now. s's store must be safe for concurrent use, since queries read
// it while Serve writes it: lease.Memory and lease.Bolt are.
func NewBulkServer(s *Server, now func() time.Time) (*BulkServer, error) {
	if now == nil {
		return nil, errors.New("server: BulkServer needs a clock")
	}
	switch s.store.(type) {
	case *lease.Memory, *lease.Bolt:
	default:
		return nil, fmt.Errorf("server: Bulk Leasequery reads the store beside Serve, and a %T is not known to be safe for concurrent use", s.store)
	}
	return &BulkServer{s: s, now: now, conns: map[net.Conn]struct{}{}}, nil
}

// Serve accepts connections on ln and answers them until ctx is done; it
// then closes ln and every connection (a query being answered ends with a
// LEASEQUERY-DONE QueryTerminated, §7.4) and returns nil once they are
// closed. It returns an error when ln fails otherwise, after closing the
// connections too.
func (b *BulkServer) Serve(ctx context.Context, ln net.Listener) error {
	maxConns, timeout := b.MaxConns, b.Timeout
	if maxConns <= 0 {
		maxConns = BulkMaxConns
	}
	if timeout <= 0 {
		timeout = BulkDataTimeout
	}
	// However Serve ends, the listener and every connection close with it.
	ctx, cancel := context.WithCancel(ctx)
	context.AfterFunc(ctx, func() {
		_ = ln.Close()
		b.mu.Lock()
		for c := range b.conns {
			// Unblock a read or a write; the connection's loop sees ctx.
			_ = c.SetDeadline(time.Now())
		}
		b.mu.Unlock()
	})
	defer b.wg.Wait()
	defer cancel()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("server: Bulk Leasequery listener %s closed: %w", ln.Addr(), err)
			}
			// A transient failure (EMFILE, a connection reset before
			// accept) must not spin a core.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		b.mu.Lock()
		if len(b.conns) >= maxConns || ctx.Err() != nil {
			b.mu.Unlock()
			// §7.1: servers MUST be able to limit the accepted and
			// active connections, BULK_LQ_MAX_CONNS by default (§7.4:
			// SHOULD be prepared to limit them). Accepting and closing
			// the ones beyond it at once is this server's way; the RFC
			// asks immediate closing only of connections from clients
			// that are not permitted (§7.1).
			b.ctr.refused.Add(1)
			_ = c.Close()
			continue
		}
		b.conns[c] = struct{}{}
		b.wg.Add(1)
		b.mu.Unlock()
		b.ctr.accepted.Add(1)
		go b.serveConn(ctx, c, timeout)
	}
}

func (b *BulkServer) serveConn(ctx context.Context, c net.Conn, timeout time.Duration) {
	defer b.wg.Done()
	defer func() {
		b.mu.Lock()
		delete(b.conns, c)
		b.mu.Unlock()
		_ = c.Close()
	}()
	end := func(e BulkEnd) { b.ctr.ended[e].Add(1) }
	sc := NewBulkScanner(c)
	for {
		// Each deadline is set before ctx is looked at: a shutdown that
		// comes after the look sets its own, which the read then meets.
		_ = c.SetReadDeadline(time.Now().Add(timeout))
		if ctx.Err() != nil {
			end(BulkEndShutdown)
			return
		}
		if !sc.Scan() {
			err := sc.Err()
			switch {
			case ctx.Err() != nil:
				end(BulkEndShutdown)
			case errors.Is(err, os.ErrDeadlineExceeded):
				end(BulkEndIdle) // BULK_LQ_DATA_TIMEOUT without a query
			case errors.Is(err, ErrBulkFrame), errors.Is(err, bufio.ErrTooLong):
				end(BulkEndBadFrame)
			default:
				end(BulkEndClosed) // EOF, or the requestor reset
			}
			return
		}
		a := b.s.HandleBulk(b.now(), sc.Bytes())
		if a.Reply {
			b.ctr.queries.Add(1)
		}
		for i, f := range a.Frames {
			_ = c.SetWriteDeadline(time.Now().Add(timeout))
			if ctx.Err() != nil {
				if i > 0 {
					// §5.2.2, §7.2: an error after the LEASEQUERY-REPLY
					// SHOULD be signalled by a LEASEQUERY-DONE with the
					// error status; §7.4: a server aborting a request MAY
					// use QueryTerminated (§5.5), and MUST close.
					_ = c.SetWriteDeadline(time.Now().Add(time.Second))
					if _, err := c.Write(BulkTerminated(dhcpv6.TransactionID(f[3:6]), "server shutting down")); err == nil {
						b.ctr.messages.Add(1)
					}
				}
				end(BulkEndShutdown)
				return
			}
			if _, err := c.Write(f); err != nil {
				if ctx.Err() != nil {
					end(BulkEndShutdown)
				} else {
					end(BulkEndWriteError) // §7.4: MUST close on a send error
				}
				return
			}
			b.ctr.messages.Add(1)
		}
		if a.Close {
			end(a.End)
			if a.End == BulkEndDiscarded {
				b.ctr.discarded[a.Drop].Add(1)
			}
			return
		}
	}
}

// Counters returns a snapshot of the counters; safe from any goroutine.
func (b *BulkServer) Counters() BulkCounters { return b.ctr.snapshot() }

// BulkCounters counts a BulkServer's connections and queries.
type BulkCounters struct {
	// Accepted connections were served; Refused ones were closed at once
	// because MaxConns were open (§7.1).
	Accepted uint64 `json:"accepted"`
	Refused  uint64 `json:"refused"`
	// Queries is the LEASEQUERY messages answered, Messages the frames
	// sent (LEASEQUERY-REPLY, -DATA, -DONE).
	Queries  uint64 `json:"queries"`
	Messages uint64 `json:"messages"`
	// Ended counts connections by why they ended (reasons with a
	// non-zero count), Discarded the LEASEQUERYs RFC 5007 §4.2.1 discards
	// (each also ended its connection, BulkEndDiscarded).
	Ended     map[BulkEnd]uint64    `json:"ended,omitempty"`
	Discarded map[DropReason]uint64 `json:"discarded,omitempty"`
}

type bulkCounters struct {
	accepted, refused, queries, messages atomic.Uint64
	ended                                [numBulkEnds]atomic.Uint64
	discarded                            [numDropReasons]atomic.Uint64
}

func (c *bulkCounters) snapshot() BulkCounters {
	s := BulkCounters{
		Accepted: c.accepted.Load(), Refused: c.refused.Load(),
		Queries: c.queries.Load(), Messages: c.messages.Load(),
		Ended: map[BulkEnd]uint64{}, Discarded: map[DropReason]uint64{},
	}
	for i := range c.ended {
		if v := c.ended[i].Load(); v != 0 {
			s.Ended[BulkEnd(i)] = v
		}
	}
	for i := range c.discarded {
		if v := c.discarded[i].Load(); v != 0 {
			s.Discarded[DropReason(i)] = v
		}
	}
	return s
}
