package load

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"

	"d6lab/wire"
)

// ErrConfig is wrapped by every configuration error Run returns.
var ErrConfig = errors.New("load: config")

// AllServers is the default destination group (RFC 9915 §7.1).
var AllServers = netip.MustParseAddr("ff02::1:2")

const (
	defaultTimeout = time.Second
	defaultBatch   = 64
	progressEvery  = 250 * time.Millisecond
)

// withDefaults validates cfg and fills its defaults.
func withDefaults(cfg Config) (Config, error) {
	bad := func(f string, a ...any) (Config, error) {
		return cfg, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(f, a...))
	}
	if cfg.Rate <= 0 || math.IsNaN(cfg.Rate) || math.IsInf(cfg.Rate, 0) {
		return bad("rate must be a positive number, not %v", cfg.Rate)
	}
	if cfg.Clients < 0 || cfg.Count < 0 || cfg.Duration < 0 || cfg.Timeout < 0 || cfg.Batch < 0 {
		return bad("negative clients, count, duration, timeout or batch")
	}
	if cfg.Clients == 0 {
		cfg.Clients = 1
	}
	if cfg.Clients > math.MaxInt32 {
		return bad("at most %d clients", math.MaxInt32)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.Batch == 0 {
		cfg.Batch = defaultBatch
	}
	if cfg.Batch > 1024 {
		cfg.Batch = 1024
	}
	if cfg.Exchange < SolicitAdvertise || cfg.Exchange > RapidCommit {
		return bad("unknown exchange %d", int(cfg.Exchange))
	}
	for _, f := range []float64{cfg.Renew, cfg.Rebind, cfg.Release} {
		if f < 0 || f > 1 || math.IsNaN(f) {
			return bad("renew, rebind and release fractions must lie in [0,1]")
		}
	}
	if cfg.Exchange == SolicitAdvertise && (cfg.Renew > 0 || cfg.Rebind > 0 || cfg.Release > 0) {
		return bad("renew, rebind and release need a binding: use sarr or rapid")
	}
	if !cfg.NA && !cfg.PD {
		cfg.NA = true
	}
	if cfg.Relay {
		if !cfg.Server.IsValid() || cfg.Server.Addr().IsMulticast() {
			return bad("relay mode needs a unicast Server address")
		}
		if cfg.LinkAddr.IsValid() && !cfg.LinkAddr.Is6() {
			return bad("link address %s is not IPv6", cfg.LinkAddr)
		}
	}
	return cfg, nil
}

// destination resolves cfg.Server (default ff02::1:2%Interface:547) to
// an address and a scope (interface index). A numeric zone is used as is;
// a zone name is looked up in the calling thread's network namespace, so
// a caller outside the socket's namespace must give the index.
func destination(conn *net.UDPConn, cfg *Config) (netip.AddrPort, uint32, error) {
	zone := cfg.Interface
	if zone == "" {
		if la, _ := conn.LocalAddr().(*net.UDPAddr); la != nil {
			zone = la.Zone
		}
	}
	dst := cfg.Server
	if !dst.IsValid() {
		if zone == "" {
			return dst, 0, fmt.Errorf("%w: neither Server nor Interface set", ErrConfig)
		}
		dst = netip.AddrPortFrom(AllServers.WithZone(zone), 547)
		cfg.Server = dst
	}
	if !dst.Addr().Is6() || dst.Addr().Is4In6() {
		return dst, 0, fmt.Errorf("%w: Server %s is not IPv6", ErrConfig, dst)
	}
	if z := dst.Addr().Zone(); z != "" {
		zone = z
	} else if !dst.Addr().IsMulticast() && !dst.Addr().IsLinkLocalUnicast() {
		return dst, 0, nil
	}
	if zone == "" {
		return dst, 0, fmt.Errorf("%w: link-scoped Server %s without a zone and no Interface", ErrConfig, dst)
	}
	if idx, err := strconv.ParseUint(zone, 10, 32); err == nil {
		return dst, uint32(idx), nil
	}
	ifi, err := net.InterfaceByName(zone)
	if err != nil {
		return dst, 0, fmt.Errorf("load: interface %q (give its index when the socket lives in another namespace): %w", zone, err)
	}
	return dst, uint32(ifi.Index), nil
}

// multicastOut sets the socket's multicast interface and hop limit 1
// (RFC 9915 §7.1: ff02::1:2 is link-scoped).
func multicastOut(conn *net.UDPConn, scope uint32) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, int(scope))
		if serr == nil {
			serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1)
		}
	}); err != nil {
		return err
	}
	return serr
}

func run(ctx context.Context, conn *net.UDPConn, cfg Config, progress func(Snapshot)) (*Result, error) {
	if conn == nil {
		return nil, fmt.Errorf("%w: nil conn", ErrConfig)
	}
	cfg, err := withDefaults(cfg)
	if err != nil {
		return nil, err
	}
	dst, scope, err := destination(conn, &cfg)
	if err != nil {
		return nil, err
	}
	if dst.Addr().IsMulticast() {
		if err := multicastOut(conn, scope); err != nil {
			return nil, fmt.Errorf("load: multicast interface %d: %w", scope, err)
		}
	}
	growBuffers(conn)
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	rd, err := newReader(conn, cfg.Batch)
	if err != nil {
		return nil, err
	}
	sw, err := newWriter(conn, dst, scope, cfg.Batch)
	if err != nil {
		return nil, err
	}
	rw, err := newWriter(conn, dst, scope, cfg.Batch)
	if err != nil {
		return nil, err
	}

	start := time.Now()
	now := func() int64 { return int64(time.Since(start)) }
	var stopping atomic.Bool
	var rerr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		rerr = e.receive(rd, rw, now, &stopping)
	}()
	done := make(chan struct{})
	if progress != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(progressEvery)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					progress(e.snapshot(now()))
				}
			}
		}()
	}

	cancelled, sendEnd := e.send(ctx, sw, now, &stopping)
	if !cancelled {
		e.drain(ctx, now)
	}
	e.mu.Lock()
	if ctx.Err() != nil {
		cancelled = true
		e.abandon()
	}
	e.sweep(math.MaxInt64) // anything left after the drain is a drop
	e.mu.Unlock()

	stopping.Store(true)
	_ = conn.SetReadDeadline(time.Now())
	close(done)
	wg.Wait()
	_ = conn.SetReadDeadline(time.Time{})

	res := e.result(time.Duration(max(sendEnd, e.lastDone)))
	if progress != nil {
		progress(e.snapshot(now()))
	}
	if rerr != nil {
		return res, fmt.Errorf("load: receive: %w", rerr)
	}
	if cancelled {
		return res, ctx.Err()
	}
	return res, nil
}

// send starts exchanges on schedule (open loop: exchange q is due at
// start + q/Rate, whatever came back) until Duration or Count, sweeping
// for drops as it goes. It returns whether ctx was cancelled and when it
// stopped (ns since start).
func (e *engine) send(ctx context.Context, w *writer, now func() int64, stopping *atomic.Bool) (bool, int64) {
	cfg := &e.cfg
	period := sweepPeriod(cfg.Timeout)
	var attempted uint64
	var nextSweep int64
	nsPerExchange := float64(time.Second) / cfg.Rate
	quantum := min(time.Duration(float64(cfg.Batch/4)*nsPerExchange), time.Millisecond)
	for {
		select {
		case <-ctx.Done():
			return true, now()
		default:
		}
		t := now()
		if cfg.Duration > 0 && t >= int64(cfg.Duration) {
			return false, t
		}
		if cfg.Count > 0 && attempted >= uint64(cfg.Count) {
			return false, t
		}
		due := uint64(float64(t)/nsPerExchange) + 1
		if cfg.Count > 0 && due > uint64(cfg.Count) {
			due = uint64(cfg.Count)
		}
		if due > attempted {
			e.mu.Lock()
			for due > attempted && !w.full() {
				if l := e.start(t, w.next()); l > 0 {
					w.commit(l)
				}
				attempted++
			}
			if t >= nextSweep {
				e.sweep(t)
				nextSweep = t + int64(period)
			}
			e.mu.Unlock()
			if f := w.flush(); f > 0 {
				e.mu.Lock()
				e.c.sendErrors += f
				e.mu.Unlock()
			}
			continue
		}
		if t >= nextSweep {
			e.mu.Lock()
			e.sweep(t)
			e.mu.Unlock()
			nextSweep = t + int64(period)
		}
		wake := min(int64(float64(attempted)*nsPerExchange), nextSweep)
		if cfg.Duration > 0 {
			wake = min(wake, int64(cfg.Duration))
		}
		if d := wake - now(); d > 0 {
			// Sleep at least a quantum so due exchanges leave in batches
			// (fewer sendmmsg calls); each one's latency is still timed
			// from its own send.
			time.Sleep(max(time.Duration(d), quantum))
		}
	}
}

// drain sweeps until nothing is in flight, or until the longest an
// exchange can take has passed.
func (e *engine) drain(ctx context.Context, now func() int64) {
	period := sweepPeriod(e.cfg.Timeout)
	limit := now() + int64(steps(&e.cfg))*e.timeout + 2*int64(period)
	for {
		t := now()
		e.mu.Lock()
		e.sweep(t)
		busy := e.inFlight()
		e.mu.Unlock()
		if !busy || t > limit || ctx.Err() != nil {
			return
		}
		time.Sleep(min(period, 5*time.Millisecond))
	}
}

func sweepPeriod(timeout time.Duration) time.Duration {
	return min(max(timeout/8, time.Millisecond), 100*time.Millisecond)
}

// receive reads answers in batches, advances their exchanges and sends
// the follow-up messages in batches, until stopping is set and the read
// deadline fires.
func (e *engine) receive(rd *reader, w *writer, now func() int64, stopping *atomic.Bool) error {
	m := new(wire.Message) // this goroutine's, reused for every datagram
	for {
		n, err := rd.read()
		if err != nil {
			if stopping.Load() {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return err
		}
		t := now()
		e.mu.Lock()
		for i := 0; i < n; i++ {
			if rd.truncated(i) {
				e.c.malformed++
				continue
			}
			for b := range rd.datagrams(i) { // one datagram, or a coalesced run of them
				if w.full() {
					e.c.sendErrors += w.flush()
				}
				if l := e.onReply(b, t, m, w.next()); l > 0 {
					w.commit(l)
				}
			}
		}
		e.mu.Unlock()
		if f := w.flush(); f > 0 {
			e.mu.Lock()
			e.c.sendErrors += f
			e.mu.Unlock()
		}
	}
}

func (e *engine) snapshot(t int64) Snapshot {
	e.mu.Lock()
	defer e.mu.Unlock()
	return Snapshot{Elapsed: time.Duration(t), Started: e.c.started, Completed: e.c.completed, Dropped: e.c.dropped}
}

// result freezes the counters and histograms.
func (e *engine) result(elapsed time.Duration) *Result {
	e.mu.Lock()
	defer e.mu.Unlock()
	res := &Result{
		Config:  e.cfg,
		Elapsed: elapsed,
		Latency: hdrhistogram.Import(e.main.Export()),
		PerKind: make(map[string]KindResult, nKinds),
		Stats: Stats{
			Started: e.c.started, Completed: e.c.completed, Dropped: e.c.dropped,
			Failed: e.c.failed, Abandoned: e.c.abandoned,
			Malformed: e.c.malformed, Unexpected: e.c.unexpected,
			Skipped: e.c.skipped, SendErrors: e.c.sendErrors,
			Kinds: make(map[string]KindStats, nKinds),
		},
	}
	for k := kind(0); k < nKinds; k++ {
		ks := e.c.kind[k]
		res.Stats.Kinds[k.String()] = ks
		res.PerKind[k.String()] = KindResult{Sent: ks.Sent, Completed: ks.Completed, Dropped: ks.Dropped, Failed: ks.Failed,
			Latency: hdrhistogram.Import(e.hist[k].Export())}
	}
	if elapsed > 0 {
		res.Rate = float64(e.c.completed) / elapsed.Seconds()
	}
	if n := e.c.started - e.c.abandoned; n > 0 {
		res.Drops = float64(e.c.dropped) / float64(n)
	}
	return res
}

// socketBuffer is the kernel buffer size Run asks for in each direction,
// so bursts of answers are not dropped by our own socket.
const socketBuffer = 8 << 20

// growBuffers raises conn's receive and send buffers to socketBuffer when
// they are smaller (best effort: without CAP_NET_ADMIN the kernel caps
// them at net.core.rmem_max/wmem_max).
func growBuffers(conn *net.UDPConn) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	var rcv, snd int
	_ = rc.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	// The kernel reports twice the size asked for (socket(7)).
	if rcv/2 < socketBuffer {
		_ = conn.SetReadBuffer(socketBuffer)
	}
	if snd/2 < socketBuffer {
		_ = conn.SetWriteBuffer(socketBuffer)
	}
}
