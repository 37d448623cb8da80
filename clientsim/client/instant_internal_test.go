package client

import (
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
)

// An instant stands for the time it was taken from, the nanoseconds
// Sub counts from the origin: on the virtual engine's clock (UTC, no
// monotonic reading) the very same time.Time,
// zero included, as far as an infinite lifetime away; on the wall clock
// an equal time in the same location, with its monotonic reading. And
// instants order as their times do, the zero one first.
func TestInstantRoundTrip(t *testing.T) {
	epoch := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := &settings{clock: clockFor(epoch)}
	times := []time.Time{
		{},
		epoch,
		epoch.Add(-time.Hour),
		epoch.Add(time.Nanosecond),
		epoch.Add(24*time.Hour + 123456789),
		epoch.Add(time.Duration(0xffffffff) * time.Second), // an infinite lifetime (RFC 9915 §7.7)
		epoch.Add(60 * 365 * 24 * time.Hour),
	}
	for i, tm := range times {
		if got := s.time(s.at(tm)); got != tm {
			t.Errorf("%v came back as %v", tm, got)
		}
		if d := tm.Sub(s.origin); !tm.IsZero() && s.at(tm) != instant(d) {
			t.Errorf("%v is instant %d, %d after the origin", tm, s.at(tm), d)
		}
		for _, u := range times[:i] {
			if (s.at(u) < s.at(tm)) != u.Before(tm) {
				t.Errorf("instants of %v and %v order otherwise than the times", u, tm)
			}
		}
	}

	now := time.Now()
	w := &settings{clock: clockFor(now)}
	for _, tm := range []time.Time{now, time.Now().Add(3 * time.Second), now.Add(-time.Minute)} {
		got := w.time(w.at(tm))
		if !got.Equal(tm) || got.Location() != tm.Location() || got.Round(0) == got {
			t.Errorf("%v came back as %v (monotonic reading kept: %v)", tm, got, got.Round(0) != got)
		}
	}
	if d := (&settings{clock: clockFor(time.Time{})}).at(epoch); d <= 0 {
		t.Errorf("with no Epoch, %v is instant %d", epoch, d)
	}
}

// The clients of a Scratch share one serverID per server: a DUID equal
// to a known one (another object, as each message decodes its own) finds
// it, by hex too; past maxServers a new server is its client's alone.
func TestScratchSharesServers(t *testing.T) {
	duid := func(i int) dhcpv6.DUID {
		return &dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: []byte{2, 0, 0, 0, byte(i >> 8), byte(i)}}
	}
	s := NewScratch()
	a := s.serverOf(duid(1))
	if b := s.serverOf(duid(1)); b != a {
		t.Fatal("an equal DUID made a second serverID")
	}
	if a.hex != "00030001020000000001" || s.serverByHex(a.hex) != a || s.serverByHex("0003") != nil {
		t.Fatalf("hex %q, by hex %p, unknown by hex %p", a.hex, s.serverByHex(a.hex), s.serverByHex("0003"))
	}
	if want := dhcpv6.OptServerID(duid(1)).ToBytes(); string(a.opt.ToBytes()) != string(want) || a.opt.Code() != dhcpv6.OptionServerID {
		t.Fatalf("option % x, want % x", a.opt.ToBytes(), want)
	}
	for i := 2; i <= maxServers+10; i++ {
		s.serverOf(duid(i))
	}
	if len(s.servers) != maxServers {
		t.Fatalf("%d servers remembered, want %d", len(s.servers), maxServers)
	}
	if x, y := s.serverOf(duid(maxServers+5)), s.serverOf(duid(maxServers+5)); x == y || x.hex != y.hex {
		t.Fatal("a server past the bound was remembered, or its hex differs")
	}
}
