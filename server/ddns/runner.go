package ddns

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"d6lab/deploy"
)

// DefaultQueue is the Runner's queue length when none is given.
const DefaultQueue = 4096

// Fudge is the TSIG time fudge of every update (RFC 8945 §10: 300 s
// recommended).
const Fudge = 300

// Runner is the IO side of an Updater: it takes Changes from the DHCP
// side through a bounded queue and sends the updates over UDP to the DNS
// server, signed with the TSIG key.
type Runner struct {
	cfg deploy.DNS
	opt Options
	log io.Writer
	ch  chan Change

	dropped atomic.Uint64
	mu      sync.Mutex
	stats   Stats
}

// RunnerStats are the Runner's counters: the Updater's and the changes
// dropped because the queue was full.
type RunnerStats struct {
	Stats
	Dropped uint64
}

func (s RunnerStats) String() string {
	return fmt.Sprintf("sent %d retries %d ok %d skipped %d conflicts %d failures %d dropped %d",
		s.Sent, s.Retries, s.OK, s.Skipped, s.Conflicts, s.Failures, s.Dropped)
}

// NewRunner returns a runner for cfg with a queue of queue changes
// (DefaultQueue when 0) that writes one line per update outcome to log
// (nil: none).
func NewRunner(cfg deploy.DNS, opt Options, queue int, log io.Writer) (*Runner, error) {
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	if queue <= 0 {
		queue = DefaultQueue
	}
	if log == nil {
		log = io.Discard
	}
	return &Runner{cfg: cfg, opt: opt, log: log, ch: make(chan Change, queue)}, nil
}

// Offer queues a change without blocking; when the queue is full the
// change is dropped, counted, and Offer returns false.
func (r *Runner) Offer(c Change) bool {
	select {
	case r.ch <- c:
		return true
	default:
		r.dropped.Add(1)
		return false
	}
}

// OfferAll offers each change of cs (the server's sink).
func (r *Runner) OfferAll(cs []Change) {
	for _, c := range cs {
		r.Offer(c)
	}
}

// Stats returns the counters; safe from any goroutine.
func (r *Runner) Stats() RunnerStats {
	r.mu.Lock()
	s := r.stats
	r.mu.Unlock()
	return RunnerStats{Stats: s, Dropped: r.dropped.Load()}
}

type packet struct {
	buf []byte
}

// DefaultDrain is how long Run goes on after its context ends, to finish
// the changes already queued (the Releases of clients stopping just
// before their server).
const DefaultDrain = 2 * time.Second

// Run sends updates until ctx is done; it returns nil then, and an error
// only when it cannot start (the socket). After ctx ends it goes on for
// at most drain (DefaultDrain when 0, none when negative) while changes
// are queued or in flight; what is left then is abandoned.
func (r *Runner) Run(ctx context.Context) error { return r.RunDrain(ctx, 0) }

// RunDrain is Run with its own drain time.
func (r *Runner) RunDrain(ctx context.Context, drain time.Duration) error {
	if drain == 0 {
		drain = DefaultDrain
	}
	u, err := NewUpdater(r.cfg, r.opt)
	if err != nil {
		return err
	}
	conn, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(r.cfg.Server))
	if err != nil {
		return fmt.Errorf("ddns: %w", err)
	}
	rctx, stopReader := context.WithCancel(context.Background()) // the reader outlives ctx by the drain
	defer func() { stopReader(); _ = conn.Close() }()
	in := make(chan packet, 64)
	go read(rctx, conn, in)

	done, stopping := ctx.Done(), false
	var deadline <-chan time.Time

	macs := map[uint16]string{} // the MAC of each update's last send
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var out []*dns.Msg
	var results []Result
	for {
		var changes chan Change
		if !u.Full() {
			changes = r.ch
		}
		var due <-chan time.Time
		if d, ok := u.NextDeadline(); ok {
			timer.Reset(time.Until(d))
			due = timer.C
		}
		out = out[:0]
		if stopping && u.Jobs() == 0 && len(r.ch) == 0 {
			r.flush(u, &results)
			return nil // drained
		}
		select {
		case <-done:
			done, stopping = nil, true
			if drain < 0 {
				r.flush(u, &results)
				return nil
			}
			deadline = time.After(drain)
			continue
		case <-deadline:
			r.flush(u, &results)
			return nil
		case c := <-changes:
			out = u.Submit(time.Now(), c, out)
		case p := <-in:
			m := new(dns.Msg)
			if err := m.Unpack(p.buf); err != nil {
				break // not a DNS message: ignore
			}
			mac, ok := macs[m.Id]
			if !ok {
				break
			}
			if err := verify(p.buf, m, r.cfg.Key.Secret, mac); err != nil {
				delete(macs, m.Id)
				out = u.Fail(time.Now(), m.Id, err.Error(), out)
				break
			}
			delete(macs, m.Id)
			out = u.Receive(time.Now(), m, out)
		case <-due:
			out = u.Expire(time.Now(), out)
		}
		for i := 0; i < len(out); i++ { // Fail may append more
			m, now := out[i], time.Now()
			m.SetTsig(r.cfg.Key.Name, r.cfg.Key.Algorithm, Fudge, now.Unix())
			buf, mac, err := dns.TsigGenerate(m, r.cfg.Key.Secret, "", false)
			if err != nil {
				out = u.Fail(now, m.Id, "sign: "+err.Error(), out)
				continue
			}
			macs[m.Id] = mac
			_, _ = conn.Write(buf) // a lost send is retransmitted on timeout
		}
		r.flush(u, &results)
	}
}

// flush logs the outcomes since the last call and publishes the counters.
func (r *Runner) flush(u *Updater, results *[]Result) {
	*results = u.Results((*results)[:0])
	for _, res := range *results {
		fmt.Fprintf(r.log, "ddns: %s\n", res)
	}
	r.mu.Lock()
	r.stats = u.Stats()
	r.mu.Unlock()
}

// verify checks the TSIG of an answer to the update signed with MAC mac
// (RFC 8945 §5.3: the answer is signed and covers the request's MAC).
func verify(buf []byte, m *dns.Msg, secret, mac string) error {
	t := m.IsTsig()
	if t == nil {
		return fmt.Errorf("unsigned answer (%s)", dns.RcodeToString[m.Rcode])
	}
	if t.Error != dns.RcodeSuccess {
		return fmt.Errorf("TSIG error %s", dns.RcodeToString[int(t.Error)])
	}
	if err := dns.TsigVerify(buf, secret, mac, false); err != nil {
		return fmt.Errorf("TSIG: %w", err)
	}
	return nil
}

// read hands every datagram from conn to in until conn is closed.
func read(ctx context.Context, conn *net.UDPConn, in chan<- packet) {
	buf := make([]byte, dns.MaxMsgSize)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return
			}
			// ECONNREFUSED from an earlier send (ICMP port unreachable):
			// the DNS server is not there; the updates time out.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		p := packet{buf: append([]byte(nil), buf[:n]...)}
		select {
		case in <- p:
		case <-ctx.Done():
			return
		}
	}
}
