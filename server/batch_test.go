package server

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/server/lease"
	"d6lab/transport"
)

// openDeferred opens a lease file in deferred mode whose Sync waits for
// d.
func openDeferred(tb testing.TB, d lease.Durability) (*lease.Bolt, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "srv.leases")
	st, err := lease.OpenBoltWith(path, lease.BoltOptions{Deferred: true, Durability: d})
	if err != nil {
		tb.Fatal(err)
	}
	return st, path
}

// syncCheckConn is a BatchConn over a MemConn that fails the test when a
// Reply granting a lease leaves before the lease file (read back, not the
// cache) holds that binding: with group commit, every such Reply must
// leave after the Sync that made its binding durable.
type syncCheckConn struct {
	*transport.MemConn
	t       *testing.T
	store   *lease.Bolt
	mu      sync.Mutex
	batches int // WriteBatch calls that carried a Reply
	replies int
}

func (c *syncCheckConn) check(b []byte) {
	m, err := dhcpv6.MessageFromBytes(b)
	if err != nil || m.MessageType != dhcpv6.MessageTypeReply {
		return
	}
	c.mu.Lock()
	c.replies++
	c.mu.Unlock()
	for _, ia := range viewIAs(m) {
		for _, l := range ia.Leases {
			if l.Valid == 0 {
				continue
			}
			b, ok := c.store.GetByLease(netip.PrefixFrom(netip.MustParseAddr(l.Lease), 128))
			if !ok {
				c.t.Errorf("Reply granting %s left before the binding was stored", l.Lease)
				continue
			}
			d, ok, err := c.store.Durable(b.Key())
			if err != nil || !ok || d.Lease != b.Lease || !d.Expires.Equal(b.Expires) {
				c.t.Errorf("Reply granting %s left before its binding was in the file (file: %+v, %v, %v)", l.Lease, d, ok, err)
			}
		}
	}
}

func (c *syncCheckConn) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	c.check(b)
	return c.MemConn.WriteTo(b, dst)
}

func (c *syncCheckConn) WriteBatch(ps []transport.Packet) (int, error) {
	for _, p := range ps {
		c.check(p.Buf[:p.N])
	}
	c.mu.Lock()
	c.batches++
	c.mu.Unlock()
	return c.MemConn.WriteBatch(ps)
}

var _ transport.BatchConn = (*syncCheckConn)(nil)

// Batch serve over an in-memory link with the deferred store: clients
// send in bursts (so that several datagrams queue up and are read in one
// batch), every Request gets its Reply only after its binding is synced,
// and the reopened file holds every acknowledged binding; with the log
// fdatasynced (lease.OnDisk) and written to the kernel (lease.InKernel).
func TestServeBatchDeferredBolt(t *testing.T) {
	for _, d := range []lease.Durability{lease.OnDisk, lease.InKernel} {
		t.Run(d.String(), func(t *testing.T) { testServeBatchDeferredBolt(t, d) })
	}
}

func testServeBatchDeferredBolt(t *testing.T, d lease.Durability) {
	sc, cli := serverAndClient(t, 512)
	st, path := openDeferred(t, d)
	s, err := New(testConfig("batch"), st)
	if err != nil {
		t.Fatal(err)
	}
	conn := &syncCheckConn{MemConn: sc, t: t, store: st}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, conn, s, func() time.Time { return t0 }) }()

	const bursts, perBurst = 5, 40
	dst := transport.AllServersPort
	buf := make([]byte, 2048)
	granted := map[string]bool{}
	for b := 0; b < bursts; b++ {
		// A Solicit and a Request per client, all sent before any answer
		// is read.
		for i := 0; i < perBurst; i++ {
			n := b*perBurst + i
			for _, m := range []*dhcpv6.Message{
				newMsg(dhcpv6.MessageTypeSolicit, cid(n), elapsed(), naOpt(1)),
				newMsg(dhcpv6.MessageTypeRequest, cid(n), sidOf(s), elapsed(), naOpt(1)),
			} {
				if _, err := cli.WriteTo(m.ToBytes(), dst); err != nil {
					t.Fatal(err)
				}
			}
		}
		for i := 0; i < 2*perBurst; i++ {
			k, _, _, err := cli.ReadFrom(buf)
			if err != nil {
				t.Fatal(err)
			}
			m, err := dhcpv6.MessageFromBytes(buf[:k])
			if err != nil {
				t.Fatal(err)
			}
			if m.MessageType == dhcpv6.MessageTypeReply {
				granted[firstLease(m)] = true
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if conn.replies != bursts*perBurst || len(granted) != bursts*perBurst {
		t.Fatalf("%d Replies, %d distinct leases; want %d", conn.replies, len(granted), bursts*perBurst)
	}
	if conn.batches >= conn.replies {
		t.Fatalf("%d write batches for %d Replies: Serve did not batch", conn.batches, conn.replies)
	}
	if c := s.Counters(); c.Answered != 2*bursts*perBurst || c.DroppedTotal() != 0 {
		t.Fatalf("counters %+v", c)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := lease.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	for a := range granted {
		if _, ok := again.GetByLease(netip.PrefixFrom(netip.MustParseAddr(a), 128)); !ok {
			t.Fatalf("%s was acknowledged but is not in the file", a)
		}
	}
}

// failingSync is a deferred store whose Sync fails.
type failingSync struct{ *lease.Bolt }

var errSyncDisk = errors.New("disk on fire")

func (f failingSync) Sync() error { return errSyncDisk }

// When the store's Sync fails, Serve sends the answers that wrote nothing
// (the Advertise) but none that depended on the Sync, counts those as
// store-error drops, and stops with ErrStoreSync (with either
// durability).
func TestServeStopsWhenSyncFails(t *testing.T) {
	for _, d := range []lease.Durability{lease.OnDisk, lease.InKernel} {
		t.Run(d.String(), func(t *testing.T) { testServeStopsWhenSyncFails(t, d) })
	}
}

func testServeStopsWhenSyncFails(t *testing.T, d lease.Durability) {
	link := transport.NewLink()
	sc, _ := link.Attach(netip.MustParseAddrPort("[fe80::5]:547"), 16, transport.AllServers)
	cli, _ := link.Attach(clientSrc, 16)
	st, _ := openDeferred(t, d)
	defer st.Close()
	s, err := New(testConfig("syncfail"), failingSync{st})
	if err != nil {
		t.Fatal(err)
	}
	// Queue a Solicit and a Request before Serve starts: one batch.
	for _, m := range []*dhcpv6.Message{
		newMsg(dhcpv6.MessageTypeSolicit, cid(1), elapsed(), naOpt(1)),
		newMsg(dhcpv6.MessageTypeRequest, cid(2), sidOf(s), elapsed(), naOpt(1)),
	} {
		if _, err := cli.WriteTo(m.ToBytes(), transport.AllServersPort); err != nil {
			t.Fatal(err)
		}
	}
	err = Serve(context.Background(), sc, s, func() time.Time { return t0 })
	if !errors.Is(err, ErrStoreSync) || !errors.Is(err, errSyncDisk) {
		t.Fatalf("Serve = %v, want ErrStoreSync wrapping the cause", err)
	}
	c := s.Counters()
	if c.Received != 2 || c.Answered != 1 || c.Dropped[DropStoreError] != 1 {
		t.Fatalf("counters %+v: want 2 received, 1 answered, 1 store-error drop", c)
	}
	buf := make([]byte, 2048)
	k, _, _, err := cli.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	if m, err := dhcpv6.MessageFromBytes(buf[:k]); err != nil || m.MessageType != dhcpv6.MessageTypeAdvertise {
		t.Fatalf("got %v, %v; want the Advertise", m, err)
	}
	// Serve has returned, so anything it sent is already queued at the
	// client: a marker sent now must be the next datagram.
	other, _ := link.Attach(netip.MustParseAddrPort("[fe80::99]:547"), 1)
	if _, err := other.WriteTo([]byte("marker"), clientSrc); err != nil {
		t.Fatal(err)
	}
	if k, _, _, err = cli.ReadFrom(buf); err != nil || string(buf[:k]) != "marker" {
		t.Fatalf("after the Advertise got %x, %v; want only the marker (no Reply)", buf[:k], err)
	}
	_ = cli.Close()
}

// BenchmarkServeBatchBolt measures four-message exchanges (a Solicit and
// a Request per client, through Handle, decoding and encoding included)
// with the durable store in deferred mode on a real file, one Sync per
// batch of N exchanges, as Serve does: what the server can sustain when
// the socket hands it N exchanges' messages per read. Clients are new
// for the first 64k exchanges and renew their Request after that.
func BenchmarkServeBatchBolt(b *testing.B) {
	for _, n := range []int{1, 16, 64, 128} {
		b.Run(fmt.Sprint("batch", n), func(b *testing.B) {
			st, _ := openDeferred(b, lease.OnDisk)
			defer st.Close()
			cfg := testConfig("bench")
			s, err := New(cfg, st)
			if err != nil {
				b.Fatal(err)
			}
			const clients = 1 << 16
			sol, req := exchangePackets(s, clients)
			b.ReportAllocs()
			b.ResetTimer()
			now := t0
			for i := 0; i < b.N; {
				for j := 0; j < n && i < b.N; j, i = j+1, i+1 {
					c := i % clients
					now = now.Add(time.Microsecond)
					if _, _, ok := s.Handle(now, sol[c], clientSrc, true); !ok {
						b.Fatal("Solicit dropped")
					}
					if _, _, ok := s.Handle(now, req[c], clientSrc, true); !ok {
						b.Fatal("Request dropped")
					}
				}
				if err := st.Sync(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "exchanges/s")
			b.StopTimer() // not the Close's checkpoint
		})
	}
}

// BenchmarkServeBolt runs Serve itself (handler and committer goroutines,
// group commit on a deferred store with its log on a real file) over an
// in-memory link, with a client keeping 256 Requests (new clients, so
// every one creates a binding) in flight: the durable Request rate the
// whole loop sustains, link overhead included.
func BenchmarkServeBolt(b *testing.B) {
	link := transport.NewLink()
	sc, _ := link.Attach(netip.MustParseAddrPort("[fe80::5]:547"), 4096, transport.AllServers)
	cli, _ := link.Attach(clientSrc, 4096)
	st, _ := openDeferred(b, lease.OnDisk)
	defer st.Close()
	s, err := New(testConfig("bench"), st)
	if err != nil {
		b.Fatal(err)
	}
	sid := sidOf(s)
	const clients = 1 << 16
	req := make([][]byte, clients)
	for c := range clients {
		req[c] = newMsg(dhcpv6.MessageTypeRequest, cid(c), sid, elapsed(), naOpt(1)).ToBytes()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, sc, s, time.Now) }()
	const window = 256
	b.ReportAllocs()
	b.ResetTimer()
	sent := 0
	for ; sent < min(window, b.N); sent++ {
		if _, err := cli.WriteTo(req[sent%clients], transport.AllServersPort); err != nil {
			b.Fatal(err)
		}
	}
	buf := make([]byte, 2048)
	for got := 0; got < b.N; got++ {
		if _, _, _, err := cli.ReadFrom(buf); err != nil {
			b.Fatal(err)
		}
		if sent < b.N {
			if _, err := cli.WriteTo(req[sent%clients], transport.AllServersPort); err != nil {
				b.Fatal(err)
			}
			sent++
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "requests/s")
	b.StopTimer()
	cancel()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	if d := link.Dropped(); d > 0 {
		b.Fatalf("link dropped %d datagrams", d)
	}
}
