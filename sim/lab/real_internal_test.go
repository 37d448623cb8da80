package lab

import (
	"strings"
	"testing"
	"time"

	"d6lab/deploy"
	"d6lab/scenarios"
	"d6lab/sim/realclient"
)

// TestRealHostsLayout: real clients get nodes rc1, rc2, ... with DAD on,
// indexed after every simulated client, and a kind the scenario's
// lifetimes cannot serve is refused before anything exists.
func TestRealHostsLayout(t *testing.T) {
	for _, k := range []deploy.ClientKind{deploy.Dhclient, deploy.Dhcp6c} {
		if why := realclient.Lacks(k, realclient.Spec{IA: []string{realclient.IANA}}); why != "" {
			t.Skipf("%s: %s (run scripts/setup.sh)", k, why)
		}
	}
	sc, err := scenarios.Load("../../scenarios/split-kill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc.Clients.Real = []scenarios.RealClients{{Kind: deploy.Dhclient, Count: 2, IA: []scenarios.IA{scenarios.NA}}}
	hosts, nodes, err := realHosts(sc, "/out")
	if err != nil {
		t.Fatal(err)
	}
	if len(hosts) != 2 || len(nodes) != 2 {
		t.Fatalf("%d hosts, %d nodes, want 2", len(hosts), len(nodes))
	}
	for i, h := range hosts {
		if h.index != sc.TotalClients()+i || !nodes[i].DAD || nodes[i].Name != h.node {
			t.Errorf("host %d: index %d node %s DAD %v", i, h.index, nodes[i].Name, nodes[i].DAD)
		}
	}
	if hosts[1].name != "dhclient-2" || hosts[1].dir != "/out/clients/dhclient-2" {
		t.Errorf("host 2: %s in %s", hosts[1].name, hosts[1].dir)
	}

	// dhcp6c raises T1 to 18 s with a T2 under 30 s: a valid lifetime of
	// 18 s or less ends before its first Renew; one of 30 s ends at its
	// T2, which is what its profile models (a Solicit, not a Rebind).
	sc.Clients.Real = []scenarios.RealClients{{Kind: deploy.Dhcp6c, Count: 1, IA: []scenarios.IA{scenarios.NA}}}
	sc.Lifetimes.Valid = 18 * time.Second
	if _, _, err := realHosts(sc, "/out"); err == nil || !strings.Contains(err.Error(), "T1 to 18s") || !strings.Contains(err.Error(), "valid lifetime above 18s") {
		t.Errorf("dhcp6c with valid %s: %v, want a refusal", sc.Lifetimes.Valid, err)
	}
	for _, v := range []time.Duration{19 * time.Second, 30 * time.Second, 60 * time.Second} {
		sc.Lifetimes.Valid = v
		if _, _, err := realHosts(sc, "/out"); err != nil {
			t.Errorf("dhcp6c with valid %s: %v", v, err)
		}
	}
}

// TestRealStarts: real clients arrive over the ramp as the simulated ones
// do, one in the middle of each equal share; with no ramp, all at once.
func TestRealStarts(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		n    int
		ramp time.Duration
		want []time.Duration
	}{
		{5, 2 * time.Second, []time.Duration{200 * ms, 600 * ms, 1000 * ms, 1400 * ms, 1800 * ms}},
		{1, 2 * time.Second, []time.Duration{time.Second}},
		{3, 0, []time.Duration{0, 0, 0}},
		{0, time.Second, []time.Duration{}},
	} {
		got := realStarts(c.n, c.ramp)
		if len(got) != len(c.want) {
			t.Fatalf("realStarts(%d, %s) = %v, want %v", c.n, c.ramp, got, c.want)
		}
		for k := range got {
			if d := got[k] - c.want[k]; d < -time.Microsecond || d > time.Microsecond {
				t.Errorf("realStarts(%d, %s)[%d] = %s, want %s", c.n, c.ramp, k, got[k], c.want[k])
			}
		}
	}
}
