package server

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server/lease"
	"d6lab/transport"
)

func openBolt(tb testing.TB) (*lease.Bolt, string) {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "srv.leases")
	st, err := lease.OpenBolt(path)
	if err != nil {
		tb.Fatal(err)
	}
	return st, path
}

// A server restarted on the same lease file (state keep) extends the
// bindings it had on Renew and does not hand a held address to another
// client, even with the sequential allocator, which would otherwise start
// again at the first address of the pool.
func TestRestartOnLeaseFileKeepsBindings(t *testing.T) {
	cfg := testConfig("durable")
	cfg.Allocator = "sequential"
	st, path := openBolt(t)
	s, err := New(cfg, st)
	if err != nil {
		t.Fatal(err)
	}
	held := map[int]string{}
	for n := 0; n < 20; n++ {
		if held[n] = bindClient(s, t0, n); held[n] == "" {
			t.Fatalf("client %d got nothing", n)
		}
	}
	if err := st.Close(); err != nil { // the process dies; the file stays
		t.Fatal(err)
	}

	st2, err := lease.OpenBolt(path)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	s2, err := New(cfg, st2)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(cfg.T1)
	for n := 0; n < 20; n++ {
		rep := send(s2, now, newMsg(dhcpv6.MessageTypeRenew, cid(n), sidOf(s2), elapsed(), naOpt(1, held[n])))
		ias := viewIAs(rep)
		if len(ias) != 1 || ias[0].Status != nil || len(ias[0].Leases) != 1 ||
			ias[0].Leases[0].Lease != held[n] || ias[0].Leases[0].Valid != cfg.Valid {
			t.Fatalf("client %d renewing %s after restart: %+v", n, held[n], ias)
		}
	}
	taken := map[string]int{}
	for n, a := range held {
		taken[a] = n
	}
	for n := 100; n < 120; n++ {
		// A newcomer asking for a held address by hint gets another one.
		hint := held[n-100]
		rep := send(s2, now, newMsg(dhcpv6.MessageTypeRequest, cid(n), sidOf(s2), elapsed(), naOpt(1, hint)))
		a := firstLease(rep)
		if owner, ok := taken[a]; ok || a == "" {
			t.Fatalf("newcomer %d got %q (held by client %d)", n, a, owner)
		}
		taken[a] = n
	}

	// The wiped state (a new file) would renumber: the control of this test.
	st3, _ := openBolt(t)
	defer st3.Close()
	s3, _ := New(cfg, st3)
	rep := send(s3, now, newMsg(dhcpv6.MessageTypeRenew, cid(0), sidOf(s3), elapsed(), naOpt(1, held[0])))
	if ias := viewIAs(rep); len(ias) != 1 || ias[0].Status == nil || *ias[0].Status != iana.StatusNoBinding {
		t.Fatalf("a server with an empty file answered a Renew with %+v, want NoBinding", ias)
	}
}

// checkingConn fails the test when the server sends a Reply granting a
// lease that its durable store does not hold yet. Bolt's cache changes
// only after the bbolt transaction has committed, so a lease visible there
// is on disk.
type checkingConn struct {
	transport.Conn
	t     *testing.T
	store lease.Store
	mu    sync.Mutex
	sent  int
}

func (c *checkingConn) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	m, err := dhcpv6.MessageFromBytes(b)
	if err == nil && m.MessageType == dhcpv6.MessageTypeReply {
		for _, ia := range viewIAs(m) {
			for _, l := range ia.Leases {
				if l.Valid == 0 {
					continue
				}
				if _, ok := c.store.GetByLease(netip.PrefixFrom(netip.MustParseAddr(l.Lease), 128)); !ok {
					c.t.Errorf("Reply granting %s left before the binding was stored", l.Lease)
				}
			}
		}
		c.mu.Lock()
		c.sent++
		c.mu.Unlock()
	}
	return c.Conn.WriteTo(b, dst)
}

// Serve writes a Reply only after Handle, and so the store's Put, has
// returned: every lease a Reply grants is already committed when it leaves,
// and is in the file after the store is closed.
func TestServeRepliesAfterCommit(t *testing.T) {
	sc, cli := serverAndClient(t, 64)
	st, path := openBolt(t)
	s, err := New(testConfig("commit"), st)
	if err != nil {
		t.Fatal(err)
	}
	conn := &checkingConn{Conn: sc, t: t, store: st}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, conn, s, func() time.Time { return t0 }) }()

	const clients = 50
	dst := netip.AddrPortFrom(transport.AllServers, transport.ServerPort)
	buf := make([]byte, 2048)
	granted := map[string]bool{}
	for n := 0; n < clients; n++ {
		req := newMsg(dhcpv6.MessageTypeRequest, cid(n), sidOf(s), elapsed(), naOpt(1))
		if _, err := cli.WriteTo(req.ToBytes(), dst); err != nil {
			t.Fatal(err)
		}
		k, _, _, err := cli.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := dhcpv6.MessageFromBytes(buf[:k])
		if err != nil {
			t.Fatal(err)
		}
		granted[firstLease(rep)] = true
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if conn.sent != clients || len(granted) != clients {
		t.Fatalf("%d replies, %d distinct leases; want %d", conn.sent, len(granted), clients)
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

// BenchmarkRequestReplyBolt is BenchmarkRequestReply with the durable
// store: every Request commits (and fsyncs) one bbolt transaction before
// its Reply is built.
func BenchmarkRequestReplyBolt(b *testing.B) {
	st, _ := openBolt(b)
	defer st.Close()
	s, err := New(testConfig("bench"), st)
	if err != nil {
		b.Fatal(err)
	}
	sid := sidOf(s)
	pkts := benchPackets(func(n int) *dhcpv6.Message {
		return newMsg(dhcpv6.MessageTypeRequest, cid(n), sid, elapsed(), naOpt(1))
	})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, ok := s.Handle(t0.Add(time.Duration(i)*time.Microsecond), pkts[i%benchClients], clientSrc, true); !ok {
			b.Fatal(fmt.Sprint("dropped: ", s.Counters().Dropped))
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}
