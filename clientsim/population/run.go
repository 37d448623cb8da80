package population

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"time"

	"d6lab/transport"
)

type packet struct {
	b   []byte
	src netip.AddrPort
}

// Run drives p over conn with the clock now (time.Now when nil): it
// starts p if needed, sends what the clients send, hands them what
// arrives and fires their timers, sleeping in between until the next
// timer or datagram. It returns nil when ctx ends (after releasing, with
// Config.ReleaseOnStop) and an error when conn fails. Run does not close
// conn; its reader goroutine ends when the caller closes it.
func Run(ctx context.Context, p *Population, conn transport.Conn, now func() time.Time) error {
	return RunControlled(ctx, p, conn, now, nil)
}

// Command is a change to a running population (a join or leave wave, a
// Decline, a link flap), executed by RunControlled on its own goroutine
// with the current time: it may call any method of the Population.
type Command func(p *Population, now time.Time)

// RunControlled is Run that also executes the commands received on ctl,
// in order, on Run's goroutine (so they need no locking), then sends what
// they made the clients send. A nil ctl is never ready.
func RunControlled(ctx context.Context, p *Population, conn transport.Conn, now func() time.Time, ctl <-chan Command) error {
	if now == nil {
		now = time.Now
	}
	pkts := make(chan packet, 1024)
	readErr := make(chan error, 1)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, src, _, err := conn.ReadFrom(buf)
			if err != nil {
				readErr <- err
				return
			}
			select {
			case pkts <- packet{b: append([]byte(nil), buf[:n]...), src: src}:
			case <-quit:
				return
			}
		}
	}()

	if !p.Started() {
		p.Start(now())
	}
	grace := p.cfg.StopGrace
	if grace <= 0 {
		grace = time.Duration(float64(20*time.Second) * p.cfg.Timescale)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	done := ctx.Done()
	stopping := false
	var stopBy time.Time
	var out []Outgoing
	for {
		out = p.Outbox(out[:0])
		for _, o := range out {
			if _, err := conn.WriteTo(o.Payload, o.Dst); err != nil {
				if errors.Is(err, net.ErrClosed) {
					return fmt.Errorf("population: write to %s: %w", o.Dst, err)
				}
				p.CountSendError()
			}
		}
		t := now()
		if stopping && (p.AllStopped() || !t.Before(stopBy)) {
			return nil
		}
		wait := time.Duration(1 << 62)
		if nt, ok := p.NextTimer(); ok {
			wait = nt.Sub(t)
		}
		if stopping && stopBy.Sub(t) < wait {
			wait = stopBy.Sub(t)
		}
		timer.Reset(max(wait, 0))
		select {
		case <-done:
			if !p.cfg.ReleaseOnStop {
				return nil
			}
			done, stopping = nil, true
			t = now()
			p.StopAll(t)
			stopBy = t.Add(grace)
			continue
		case pk := <-pkts:
			p.Deliver(now(), pk.b, pk.src)
		drain:
			for range 255 {
				select {
				case pk = <-pkts:
					p.Deliver(now(), pk.b, pk.src)
				default:
					break drain
				}
			}
		case cmd := <-ctl:
			cmd(p, now())
		case err := <-readErr:
			return fmt.Errorf("population: read from %s: %w", conn.LocalAddr(), err)
		case <-timer.C:
		}
		p.Advance(now())
	}
}
