package transport

import (
	"errors"
	"net"
	"net/netip"
	"testing"
)

func TestMemMulticastReachesMembersOnly(t *testing.T) {
	l := NewLink()
	cli, _ := l.Attach(netip.MustParseAddrPort("[fe80::1]:546"), 4)
	s1, _ := l.Attach(netip.MustParseAddrPort("[fe80::a]:547"), 4, AllServers)
	s2, _ := l.Attach(netip.MustParseAddrPort("[fe80::b]:547"), 4, AllServers)
	other, _ := l.Attach(netip.MustParseAddrPort("[fe80::c]:547"), 4)

	if _, err := cli.WriteTo([]byte("hi"), AllServersPort); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*MemConn{s1, s2} {
		b := make([]byte, 16)
		n, src, mc, err := s.ReadFrom(b)
		if err != nil || string(b[:n]) != "hi" || src != cli.LocalAddr() || !mc {
			t.Fatalf("member got %q from %s mc=%v err=%v", b[:n], src, mc, err)
		}
	}
	select {
	case p := <-other.in:
		t.Fatalf("non-member received %q", p.data)
	default:
	}
	// Unicast reply reaches only the client, flagged as not multicast.
	if _, err := s1.WriteTo([]byte("re"), cli.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 16)
	n, src, mc, err := cli.ReadFrom(b)
	if err != nil || string(b[:n]) != "re" || src != s1.LocalAddr() || mc {
		t.Fatalf("client got %q from %s mc=%v err=%v", b[:n], src, mc, err)
	}
}

func TestMemFullQueueDropsAndCounts(t *testing.T) {
	l := NewLink()
	a, _ := l.Attach(netip.MustParseAddrPort("[fe80::1]:546"), 1)
	b, _ := l.Attach(netip.MustParseAddrPort("[fe80::2]:547"), 1)
	a.WriteTo([]byte("1"), b.LocalAddr())
	a.WriteTo([]byte("2"), b.LocalAddr())
	a.WriteTo([]byte("3"), netip.MustParseAddrPort("[fe80::9]:547"))
	if got := l.Dropped(); got != 2 {
		t.Fatalf("dropped = %d, want 2", got)
	}
}

func TestMemCloseUnblocksAndDetaches(t *testing.T) {
	l := NewLink()
	a, _ := l.Attach(netip.MustParseAddrPort("[fe80::1]:546"), 1)
	done := make(chan error)
	go func() {
		_, _, _, err := a.ReadFrom(make([]byte, 4))
		done <- err
	}()
	a.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("ReadFrom after Close: %v", err)
	}
	if _, err := l.Attach(a.LocalAddr(), 1); err != nil {
		t.Fatalf("address not released on Close: %v", err)
	}
	if _, err := a.WriteTo([]byte("x"), a.LocalAddr()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("WriteTo after Close: %v", err)
	}
}

// ReadBatch on a MemConn returns the first datagram and every one already
// queued behind it, in order, up to the batch length; WriteBatch delivers
// each to its destination.
func TestMemBatch(t *testing.T) {
	l := NewLink()
	cli, _ := l.Attach(netip.MustParseAddrPort("[fe80::1]:546"), 8)
	srv, _ := l.Attach(netip.MustParseAddrPort("[fe80::a]:547"), 8, AllServers)
	for _, s := range []string{"a", "b", "c"} {
		if _, err := cli.WriteTo([]byte(s), AllServersPort); err != nil {
			t.Fatal(err)
		}
	}
	ps := make([]Packet, 2)
	for i := range ps {
		ps[i].Buf = make([]byte, 16)
	}
	bc := Batch(srv)
	for _, want := range [][]string{{"a", "b"}, {"c"}} {
		n, err := bc.ReadBatch(ps)
		if err != nil || n != len(want) {
			t.Fatalf("ReadBatch = %d, %v; want %d", n, err, len(want))
		}
		for i, w := range want {
			if got := string(ps[i].Buf[:ps[i].N]); got != w || ps[i].Addr != cli.LocalAddr() || !ps[i].Multicast {
				t.Fatalf("packet %d = %q from %s mc=%v, want %q", i, got, ps[i].Addr, ps[i].Multicast, w)
			}
		}
	}
	out := []Packet{{Buf: []byte("x"), N: 1, Addr: cli.LocalAddr()}, {Buf: []byte("yz"), N: 2, Addr: cli.LocalAddr()}}
	if n, err := bc.WriteBatch(out); n != 2 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
	for _, want := range []string{"x", "yz"} {
		b := make([]byte, 4)
		n, src, mc, err := cli.ReadFrom(b)
		if err != nil || string(b[:n]) != want || src != srv.LocalAddr() || mc {
			t.Fatalf("client got %q from %s mc=%v err=%v, want %q", b[:n], src, mc, err, want)
		}
	}
}

// Batch adapts a plain Conn: one datagram per ReadBatch.
func TestBatchAdapter(t *testing.T) {
	l := NewLink()
	cli, _ := l.Attach(netip.MustParseAddrPort("[fe80::1]:546"), 8)
	srv, _ := l.Attach(netip.MustParseAddrPort("[fe80::a]:547"), 8)
	bc := Batch(struct{ Conn }{srv})
	if _, ok := bc.(*MemConn); ok {
		t.Fatal("the adapter should hide the MemConn")
	}
	cli.WriteTo([]byte("1"), srv.LocalAddr())
	cli.WriteTo([]byte("2"), srv.LocalAddr())
	ps := []Packet{{Buf: make([]byte, 4)}, {Buf: make([]byte, 4)}}
	if n, err := bc.ReadBatch(ps); n != 1 || err != nil || string(ps[0].Buf[:ps[0].N]) != "1" {
		t.Fatalf("ReadBatch = %d, %v, %q", n, err, ps[0].Buf[:ps[0].N])
	}
	if n, err := bc.WriteBatch([]Packet{{Buf: []byte("r"), N: 1, Addr: cli.LocalAddr()}}); n != 1 || err != nil {
		t.Fatalf("WriteBatch = %d, %v", n, err)
	}
}
