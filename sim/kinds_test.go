package sim_test

import (
	"slices"
	"testing"

	"d6lab/scenarios"
	"d6lab/server/daemon"
)

// Scenarios may not import the server room, so the loader keeps its own
// list of server kinds; this test keeps it equal to the adapters'.
func TestScenarioKindsHaveAdapters(t *testing.T) {
	var want []string
	for _, k := range daemon.Kinds() {
		want = append(want, string(k))
	}
	var got []string
	for _, k := range scenarios.Kinds {
		got = append(got, string(k))
	}
	slices.Sort(want)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("scenarios.Kinds %v, daemon.Kinds() %v: they must name the same kinds", got, want)
	}
}
