package lab

import (
	"encoding/hex"
	"errors"
	"net/netip"
	"testing"
	"time"

	"d6lab/clientsim/population"
	"d6lab/reports/history"
	"d6lab/scenarios"
	"d6lab/server/lease"
	"d6lab/sim"
	"d6lab/sim/leasequery"
)

// TestLeasequerySample: the prober samples every k-th simulated client
// (k = population / clients) with the population's own DUIDs, and puts
// its namespace in the service /64 only when the scenario asks for it.
func TestLeasequerySample(t *testing.T) {
	sc, err := scenarios.Load("../../scenarios/split-kill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc.Leasequery = nil
	if n, ok := proberNode(sc); ok {
		t.Fatalf("a prober namespace %+v for a scenario without leasequery:", n)
	}
	sc.Clients.Count = 23
	sc.Leasequery = &scenarios.Leasequery{Interval: time.Second, Clients: 5}
	n, ok := proberNode(sc)
	if !ok || n.Name != proberName || len(n.Addrs) != 1 || n.Addrs[0] != netip.PrefixFrom(sim.ProberAddr(), 64) {
		t.Fatalf("proberNode = %+v, %v; want %s with %s/64", n, ok, proberName, sim.ProberAddr())
	}
	got := sampleClients(sc)
	want := []int{0, 4, 8, 12, 16} // k = 23/5 = 4
	if len(got) != len(want) {
		t.Fatalf("%d sampled clients, want %d", len(got), len(want))
	}
	seed := sim.PopulationConfig(sc, nil).Seed
	for j, c := range got {
		d := population.DUID(seed, want[j])
		if c.index != want[j] || string(c.duid) != string(d) || c.hex != hex.EncodeToString(d) {
			t.Errorf("sample %d = client %d %s, want client %d %x", j, c.index, c.hex, want[j], d)
		}
	}
	sc.Leasequery.Clients = sc.Clients.Count
	if got := sampleClients(sc); len(got) != sc.Clients.Count || got[len(got)-1].index != sc.Clients.Count-1 {
		t.Errorf("clients = population: %d sampled, the last %d", len(got), got[len(got)-1].index)
	}
}

// TestLeasequeryAnswerEvents: one LQBound per lease named, else one
// LQNone or LQNoAnswer; Detail names the way the server was asked (and
// for LQNoAnswer why, after it).
func TestLeasequeryAnswerEvents(t *testing.T) {
	at := time.Date(2026, 12, 3, 6, 0, 0, 0, time.UTC)
	tg := &lqTarget{name: "s2", method: history.LQByUDP}
	c := lqClient{index: 8, duid: []byte{0, 3, 0, 1, 2, 0, 0, 0, 0, 8}, hex: "00030001020000000008"}
	na := netip.MustParsePrefix("2001:db8:1::9/128")
	pd := netip.MustParsePrefix("2001:db8:100::/56")
	evs := answerEvents(at, tg, c, leasequery.Result{Leases: []leasequery.Lease{
		{Type: lease.NA, Prefix: na, Preferred: 2 * time.Second, Valid: 4 * time.Second},
		{Type: lease.PD, Prefix: pd, Preferred: time.Second, Valid: 3 * time.Second},
	}})
	want := []history.Event{
		{At: at, Kind: history.LeasequeryAnswer, Client: 8, DUID: c.hex, Server: "s2", Cause: history.LQBound, Detail: history.LQByUDP,
			IA: history.IANA, Lease: na, Preferred: 2 * time.Second, Valid: 4 * time.Second},
		{At: at, Kind: history.LeasequeryAnswer, Client: 8, DUID: c.hex, Server: "s2", Cause: history.LQBound, Detail: history.LQByUDP,
			IA: history.IAPD, Lease: pd, Preferred: time.Second, Valid: 3 * time.Second},
	}
	if len(evs) != 2 || evs[0] != want[0] || evs[1] != want[1] {
		t.Errorf("bound: got %+v\nwant %+v", evs, want)
	}
	evs = answerEvents(at, tg, c, leasequery.Result{})
	if len(evs) != 1 || evs[0].Cause != history.LQNone || evs[0].Detail != history.LQByUDP || evs[0].Lease.IsValid() {
		t.Errorf("none: got %+v", evs)
	}
	evs = answerEvents(at, tg, c, leasequery.Result{Err: errors.New("leasequery: no answer")})
	if len(evs) != 1 || evs[0].Cause != history.LQNoAnswer || evs[0].Detail != history.LQByUDP+": leasequery: no answer" {
		t.Errorf("no answer: got %+v", evs)
	}
}
