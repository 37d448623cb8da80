package daemon

import (
	"strings"
	"testing"

	"d6lab/deploy"
)

// The kinds the lab runs without DDNS say so in their notes when the spec
// asks for DNS, and say nothing of DNS when it does not.
func TestNoDNSNote(t *testing.T) {
	for _, k := range []deploy.Kind{deploy.Dhcpd, deploy.Dnsmasq, deploy.Wide, deploy.CoreDHCP} {
		a, err := Lookup(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, dns := range []*deploy.DNS{nil, labDNS()} {
			spec := fixedSpec(t, t.TempDir(), false)
			spec.Config.DNS = dns
			inst, err := a.Prepare(spec)
			if err != nil {
				t.Fatalf("%s: Prepare: %v", k, err)
			}
			var said int
			for _, n := range inst.Notes {
				if strings.Contains(n, "does not update DNS") {
					said++
				}
			}
			if want := map[bool]int{true: 1, false: 0}[dns != nil]; said != want {
				t.Errorf("%s, DNS %v: %d notes say it does not update DNS, want %d: %q", k, dns != nil, said, want, inst.Notes)
			}
		}
	}
}
