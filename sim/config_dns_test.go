package sim_test

import (
	"testing"

	"d6lab/sim"
)

// TestDNSWiring: with dns: every simulated client sends its name (the
// servers' DNS settings are the netns engine's to give: ServerConfig stays
// engine-neutral and leaves them out).
func TestDNSWiring(t *testing.T) {
	sc := withProfile(t, "")
	if sim.PopulationConfig(sc, nil).SendFQDN {
		t.Fatal("clients send a Client FQDN option without dns:")
	}
	sc.EnableDNS()
	if !sim.PopulationConfig(sc, nil).SendFQDN {
		t.Fatal("clients send no Client FQDN option with dns:")
	}
	for i := range sc.Servers {
		cfg, err := sim.ServerConfig(sc, i)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.DNS != nil {
			t.Fatalf("ServerConfig(%d) sets DNS %+v; the lab sets it once the DNS server exists", i, cfg.DNS)
		}
	}
}
