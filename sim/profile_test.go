package sim_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"d6lab/clientsim/client"
	"d6lab/clientsim/profile"
	"d6lab/deploy"
	"d6lab/reports/check"
	"d6lab/scenarios"
	"d6lab/sim"
)

// withProfile is scenarios/split-kill.yaml with clients.profile set (none
// for "").
func withProfile(t *testing.T, p deploy.Profile) *scenarios.Scenario {
	t.Helper()
	b, err := os.ReadFile("../scenarios/split-kill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if p != "" {
		s = strings.Replace(s, "  ramp: 2s\n", "  ramp: 2s\n  profile: "+string(p)+"\n", 1)
	}
	sc, err := scenarios.Parse("split-kill.yaml", []byte(s))
	if err != nil {
		t.Fatal(err)
	}
	if sc.Clients.Profile != p && p != "" {
		t.Fatalf("clients.profile %q not taken: %q", p, sc.Clients.Profile)
	}
	return sc
}

// TestPopulationConfigAppliesTheProfile: every simulated client gets the
// deviations of the scenario's clients.profile; none given, or rfc, is RFC
// 9915 (no deviation).
func TestPopulationConfigAppliesTheProfile(t *testing.T) {
	if got := sim.PopulationConfig(withProfile(t, ""), nil).Deviations; got != (client.Deviations{}) {
		t.Errorf("no profile: deviations %+v, want none", got)
	}
	for _, p := range deploy.Profiles {
		want, err := profile.Lookup(string(p))
		if err != nil {
			t.Fatal(err)
		}
		got := sim.PopulationConfig(withProfile(t, p), nil).Deviations
		if got != want.Deviations {
			t.Errorf("profile %s: deviations %+v, want %+v", p, got, want.Deviations)
		}
		if p == deploy.ProfileRFC && !got.IsRFC() {
			t.Errorf("profile rfc: deviations %+v, want none", got)
		}
	}
}

// TestCheckLabNamesTheProfile: the report names a non-RFC profile (and the
// by-kind row of the simulated clients shows it); rfc stays unnamed.
func TestCheckLabNamesTheProfile(t *testing.T) {
	if got := sim.CheckLab(withProfile(t, deploy.ProfileRFC), "virtual").Profile; got != "" {
		t.Errorf("rfc: Profile %q, want empty", got)
	}
	if got := sim.CheckLab(withProfile(t, deploy.ProfileDhclient), "virtual").Profile; got != "dhclient" {
		t.Errorf("dhclient: Profile %q", got)
	}
}

// TestCheckLabCarriesTheProfileGaps: the report is given what the
// scenario's profile does not model (clientsim/profile, gaps), to size
// where the run meets it; rfc has none.
func TestCheckLabCarriesTheProfileGaps(t *testing.T) {
	for _, p := range deploy.Profiles {
		prof, err := profile.Lookup(string(p))
		if err != nil {
			t.Fatal(err)
		}
		got := sim.CheckLab(withProfile(t, p), "virtual").Gaps
		if len(got) != len(prof.Gaps) {
			t.Fatalf("profile %s: %d gaps in the lab, want the profile's %d", p, len(got), len(prof.Gaps))
		}
		for i, g := range prof.Gaps {
			want := check.Gap{Param: g.Param, When: string(g.When), Real: g.Real, Simulated: g.Simulated}
			if got[i] != want {
				t.Errorf("profile %s gap %d: %+v, want %+v", p, i, got[i], want)
			}
		}
	}
	if g := sim.CheckLab(withProfile(t, deploy.ProfileDhcpcd), "virtual").Gaps; len(g) == 0 {
		t.Error("dhcpcd: no gaps in the lab; profiles.yaml lists five")
	}
}

// TestGapTriggersSized: every trigger a profile's gap may name is one the
// report sizes (reports/check, gaps.go), and none more: the one
// vocabulary, named in both rooms because reports may not import
// clientsim.
func TestGapTriggersSized(t *testing.T) {
	var names []string
	for _, tr := range profile.Triggers {
		names = append(names, string(tr))
	}
	if !slices.Equal(names, check.GapTriggers) {
		t.Errorf("clientsim/profile.Triggers %v, reports/check.GapTriggers %v: want the same", names, check.GapTriggers)
	}
}
