package server

import (
	"context"
	"errors"
	"fmt"
	"time"

	"d6lab/transport"
)

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// Serve reads datagrams from conn, hands each to s.Handle with the time
// now() gives, and writes the answers back. It returns nil when ctx is
// cancelled (it closes conn to unblock the read) and an error when conn
// fails otherwise. Malformed datagrams are dropped and counted; a failed
// write is counted in Counters.WriteErrors and the loop goes on.
//
// Serve owns s while it runs: do not call Handle concurrently.
func Serve(ctx context.Context, conn transport.Conn, s *Server, now func() time.Time) error {
	if now == nil {
		return errors.New("server: Serve needs a clock")
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.Close() })
	defer stop()
	buf := make([]byte, maxDatagram)
	for {
		n, src, multicast, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("server: read from %s: %w", conn.LocalAddr(), err)
		}
		reply, dst, ok := s.Handle(now(), buf[:n], src, multicast)
		if !ok {
			continue
		}
		if _, err := conn.WriteTo(reply, dst); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			s.ctr.writeErrors.Add(1)
		}
	}
}
