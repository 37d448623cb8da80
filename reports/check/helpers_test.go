package check_test

import (
	"net/netip"
	"time"

	"d6lab/reports/check"
	"d6lab/reports/history"
)

// Test lab: servers a and b, DUIDs duidA and duidB.
const (
	duidA = "000100010000000a"
	duidB = "000100010000000b"
)

var (
	t0  = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	lab = check.Lab{
		Scenario: "test", Model: "split", Engine: "virtual",
		Servers: []check.ServerInfo{
			{Name: "a", DUID: duidA, Prefix: netip.MustParsePrefix("2001:db8::/64")},
			{Name: "b", DUID: duidB, Prefix: netip.MustParsePrefix("2001:db8::/64")},
		},
	}
)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func addr(i int) netip.Prefix {
	a := netip.MustParseAddr("2001:db8::").As16()
	a[12], a[13], a[14], a[15] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return netip.PrefixFrom(netip.AddrFrom16(a), 128)
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }

// grantEv builds a Bound/Renewed/Rebound of lease to client c by server duid.
func grantEv(kind history.Kind, s float64, c int, lease netip.Prefix, duid string, valid float64) history.Event {
	ia := history.IANA
	if lease.Bits() < 128 {
		ia = history.IAPD
	}
	return history.Event{At: at(s), Kind: kind, Client: c, Server: duid, IA: ia, IAID: 1, Lease: lease,
		T1: secs(valid / 2), T2: secs(valid * 0.8), Preferred: secs(valid), Valid: secs(valid)}
}

func bound(s float64, c int, lease netip.Prefix, duid string, valid float64) history.Event {
	return grantEv(history.Bound, s, c, lease, duid, valid)
}

func renewed(s float64, c int, lease netip.Prefix, duid string, valid float64) history.Event {
	return grantEv(history.Renewed, s, c, lease, duid, valid)
}

func rebound(s float64, c int, lease netip.Prefix, duid string, valid float64) history.Event {
	return grantEv(history.Rebound, s, c, lease, duid, valid)
}

func renumbered(s float64, c int, old, lease netip.Prefix, duid string, valid float64) history.Event {
	e := grantEv(history.Renumbered, s, c, lease, duid, valid)
	e.Old = old
	return e
}

func ended(kind history.Kind, s float64, c int, lease netip.Prefix, cause string) history.Event {
	return history.Event{At: at(s), Kind: kind, Client: c, IA: history.IANA, Lease: lease, Cause: cause}
}

func labEv(kind history.Kind, s float64, name string) history.Event {
	return history.Event{At: at(s), Kind: kind, Server: name}
}

func run(end float64, evs ...history.Event) []history.Event {
	out := []history.Event{{At: t0, Kind: history.RunStarted}}
	out = append(out, evs...)
	return append(out, history.Event{At: at(end), Kind: history.RunEnded})
}
