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
