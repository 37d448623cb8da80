package daemon

import (
	"slices"
	"testing"

	"d6lab/deploy"
)

// Every kind a scenario may name (deploy.Kinds, the one list) has an
// adapter, and no adapter serves a kind outside it.
func TestEveryDeployKindHasAnAdapter(t *testing.T) {
	got := Kinds()
	want := slices.Clone(deploy.Kinds)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("daemon.Kinds() %v, deploy.Kinds %v: every kind needs an adapter", got, want)
	}
}
