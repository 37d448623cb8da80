package transport_test

import (
	"encoding/binary"
	"net/netip"
	"os"
	"testing"
	"time"

	"d6lab/sim/netns"
	"d6lab/transport"
)

// pair is a two-node lab with a transport.UDP socket in each: the server's
// on port 547 joined to ff02::1:2, the client's on an ephemeral port.
type pair struct {
	lab            *netns.Lab
	server, client *transport.UDP
}

func newPair(t *testing.T, offload bool) pair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_NET_ADMIN): network namespaces, veth and a bridge")
	}
	lab, err := netns.Create(netns.Spec{
		Prefix:  netns.NewPrefix(),
		Link:    netip.MustParsePrefix("2001:db8:7::/64"),
		Clients: netns.NodeSpec{Name: "clients", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:7::100/64")}},
		Nodes:   []netns.NodeSpec{{Name: "srv", Addrs: []netip.Prefix{netip.MustParsePrefix("2001:db8:7::1/64")}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := lab.Teardown(); err != nil {
			t.Error(err)
		}
	})
	p := pair{lab: lab}
	open := func(node string, port int, groups ...netip.Addr) *transport.UDP {
		var u *transport.UDP
		if err := lab.Do(node, func() error {
			var err error
			u, err = transport.ListenUDP(lab.IfName(node), port, groups...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = u.Close() })
		return u
	}
	p.server = open("srv", 547, transport.AllServers)
	p.client = open("clients", 0)
	for _, u := range []*transport.UDP{p.server, p.client} {
		if _, err := u.SetReadBuffer(4 << 20); err != nil { // as d6lab serve
			t.Fatal(err)
		}
		if offload {
			if err := u.SetOffload(); err != nil {
				t.Fatal(err)
			}
		}
	}
	return p
}

// batch returns n datagrams to dst, each carrying its index and run in
// runs of equal lengths (the lengths given in turn, each run as long as
// runs says), so that WriteBatch segments them.
func batch(n int, dst netip.AddrPort, lengths, runs []int) []transport.Packet {
	ps := make([]transport.Packet, n)
	r, left := 0, runs[0]
	for i := range ps {
		if left == 0 {
			r++
			left = runs[r%len(runs)]
		}
		left--
		l := lengths[r%len(lengths)]
		ps[i] = transport.Packet{Buf: make([]byte, 2048), N: l, Addr: dst}
		for j := range l {
			ps[i].Buf[j] = byte(i + j)
		}
		binary.BigEndian.PutUint32(ps[i].Buf, uint32(i))
	}
	return ps
}

// readAll reads with ReadBatch until n datagrams arrived or wait passed.
func readAll(t *testing.T, u *transport.UDP, n int, wait time.Duration) []transport.Packet {
	t.Helper()
	if err := u.SetReadDeadline(time.Now().Add(wait)); err != nil {
		t.Fatal(err)
	}
	var got []transport.Packet
	in := make([]transport.Packet, 32)
	for len(got) < n {
		for i := range in {
			in[i].Buf = make([]byte, 4096)
		}
		k, err := u.ReadBatch(in)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), n, err)
		}
		got = append(got, in[:k]...)
	}
	return got
}

// check says whether got is want, datagram for datagram in order.
func check(t *testing.T, got, want []transport.Packet, from netip.Addr, multicast bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d datagrams, want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if string(g.Buf[:g.N]) != string(w.Buf[:w.N]) {
			t.Fatalf("datagram %d: got %d bytes (index %d), want %d bytes (index %d)", i, g.N,
				binary.BigEndian.Uint32(g.Buf), w.N, i)
		}
		if g.Addr.Addr().WithZone("") != from || g.Multicast != multicast {
			t.Fatalf("datagram %d: from %s multicast %v, want from %s multicast %v", i, g.Addr, g.Multicast, from, multicast)
		}
	}
}

// TestUDPBatchSegmentsRuns sends runs of equal-length datagrams (longer
// than the 64 segments one message may carry, ended by a shorter one,
// interleaved with single ones) to ff02::1:2 and to a global address, and
// answers them at their source: each must arrive as its
// own datagram, intact and in order, and the runs must have left as
// segmented messages when the sockets have SetOffload, and then arrive
// coalesced, ReadBatch (32 datagrams at a time) handing them out across
// calls.
func TestUDPBatchSegmentsRuns(t *testing.T) {
	t.Run("without offload: a message a datagram", func(t *testing.T) { segmentsRuns(t, false) })
	t.Run("with offload: runs segmented, coalesced, split by ReadBatch", func(t *testing.T) { segmentsRuns(t, true) })
}

func segmentsRuns(t *testing.T, offload bool) {
	p := newPair(t, offload)
	lengths := []int{120, 120, 97, 300, 64}
	runs := []int{70, 3, 1, 20, 1, 64, 2}
	for _, c := range []struct {
		dst            netip.AddrPort
		client, server netip.Addr // their source addresses
	}{
		{transport.AllServersPort, p.lab.LinkLocal("clients"), p.lab.LinkLocal("srv")},
		{netip.MustParseAddrPort("[2001:db8:7::1]:547"), netip.MustParseAddr("2001:db8:7::100"), netip.MustParseAddr("2001:db8:7::1")},
	} {
		dst := c.dst
		want := batch(300, dst, lengths, runs)
		n, err := p.client.WriteBatch(want)
		if err != nil || n != len(want) {
			t.Fatalf("to %s: WriteBatch sent %d of %d: %v", dst, n, len(want), err)
		}
		if m := transport.Messages(p.client); offload && m >= len(want)/4 {
			t.Errorf("to %s: %d datagrams left in %d messages: runs were not segmented", dst, len(want), m)
		} else if !offload && m != len(want) {
			t.Errorf("to %s: %d datagrams left in %d messages without offload", dst, len(want), m)
		}
		got := readAll(t, p.server, len(want), 5*time.Second)
		check(t, got, want, c.client, dst.Addr().IsMulticast())
		if runs := transport.Coalesced(p.server); offload && runs == 0 {
			t.Errorf("to %s: no run arrived coalesced", dst)
		} else if !offload && runs != 0 {
			t.Errorf("to %s: %d runs coalesced without offload", dst, runs)
		}

		// The answers go back to the datagrams' source (a link-local
		// address takes the socket's interface).
		back := batch(300, got[0].Addr, lengths, runs)
		if n, err := p.server.WriteBatch(back); err != nil || n != len(back) {
			t.Fatalf("answers: WriteBatch sent %d of %d: %v", n, len(back), err)
		}
		check(t, readAll(t, p.client, len(back), 5*time.Second), back, c.server, false)
	}
}

// TestUDPBatchAllocatesNothing: once its buffers exist, a round of
// WriteBatch and ReadBatch allocates nothing, with and without offload.
func TestUDPBatchAllocatesNothing(t *testing.T) {
	for _, offload := range []bool{false, true} {
		allocatesNothing(t, offload)
	}
}

func allocatesNothing(t *testing.T, offload bool) {
	p := newPair(t, offload)
	out := batch(100, transport.AllServersPort, []int{150, 90}, []int{40, 10})
	in := make([]transport.Packet, 128)
	for i := range in {
		in[i].Buf = make([]byte, 4096)
	}
	if err := p.server.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	round := func() {
		if _, err := p.client.WriteBatch(out); err != nil {
			t.Fatal(err)
		}
		for left := len(out); left > 0; {
			n, err := p.server.ReadBatch(in)
			if err != nil {
				t.Fatal(err)
			}
			left -= n
		}
	}
	round()
	if a := testing.AllocsPerRun(20, round); a != 0 {
		t.Errorf("offload %v: a round of WriteBatch and ReadBatch allocated %.1f times, want 0", offload, a)
	}
}
