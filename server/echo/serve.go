package echo

import (
	"context"
	"fmt"
	"sync/atomic"

	"d6lab/server"
	"d6lab/transport"
)

// maxDatagram is the largest datagram read (a DHCPv6 message fits an
// IPv6 minimum MTU many times over; relayed ones grow by 38 bytes a level).
const maxDatagram = 4096

// Counters are what Serve did.
type Counters struct {
	// Received datagrams, Answered with an answer sent, Ignored (not a
	// client or relay message, or malformed), SendErrors (answers the
	// kernel refused).
	Received, Answered, Ignored, SendErrors uint64
}

// counters is Counters kept by two goroutines.
type counters struct {
	received, answered, ignored, sendErrors atomic.Uint64
}

// Serve answers every datagram conn receives until ctx ends (then it
// closes conn and returns nil) or a read fails. Like server.Serve it reads
// up to server.BatchSize datagrams per call and hands each batch's answers
// to a sender goroutine, which writes them in one call while the next
// batch is read; two answer buffers take turns, so it allocates nothing
// after its start.
func (e *Echo) Serve(ctx context.Context, conn transport.Conn) (Counters, error) {
	var c counters
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	bc := transport.Batch(conn)

	const batches = 2
	free := make(chan []transport.Packet, batches)
	full := make(chan []transport.Packet, batches)
	for range batches {
		out := make([]transport.Packet, server.BatchSize)
		for i := range out {
			out[i].Buf = make([]byte, maxDatagram+MaxAnswer)
		}
		free <- out[:0]
	}
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		for out := range full {
			if len(out) > 0 {
				n, err := bc.WriteBatch(out)
				c.answered.Add(uint64(n))
				if err != nil {
					c.sendErrors.Add(uint64(len(out) - n))
				}
			}
			free <- out[:0]
		}
	}()
	defer func() { close(full); <-sent }()

	in := make([]transport.Packet, server.BatchSize)
	for i := range in {
		in[i].Buf = make([]byte, maxDatagram)
	}
	for {
		n, err := bc.ReadBatch(in)
		if err != nil {
			if ctx.Err() != nil {
				return c.snapshot(), nil
			}
			return c.snapshot(), fmt.Errorf("echo: read from %s: %w", conn.LocalAddr(), err)
		}
		c.received.Add(uint64(n))
		var out []transport.Packet
		select {
		case out = <-free:
		case <-ctx.Done():
			return c.snapshot(), nil
		}
		for i := range in[:n] {
			p := &in[i]
			k := len(out)
			out = out[:k+1]
			q := &out[k]
			q.N = e.Answer(q.Buf[:cap(q.Buf)], p.Buf[:p.N])
			if q.N == 0 {
				out = out[:k]
				c.ignored.Add(1)
				continue
			}
			q.Addr = p.Addr
		}
		full <- out
	}
}

func (c *counters) snapshot() Counters {
	return Counters{
		Received: c.received.Load(), Answered: c.answered.Load(),
		Ignored: c.ignored.Load(), SendErrors: c.sendErrors.Load(),
	}
}
