package deploy_test

import (
	"encoding/json"
	"strings"
	"testing"

	"d6lab/deploy"
)

func TestParse(t *testing.T) {
	for _, a := range deploy.Allocators {
		if got, err := deploy.ParseAllocator(string(a)); err != nil || got != a {
			t.Errorf("ParseAllocator(%q) = %q, %v", a, got, err)
		}
	}
	if _, err := deploy.ParseAllocator("roundrobin"); err == nil || !strings.Contains(err.Error(), "hash, sequential, random") {
		t.Errorf("ParseAllocator(roundrobin): %v", err)
	}
	for _, p := range deploy.RebindPolicies {
		var q deploy.RebindPolicy
		if err := q.Set(string(p)); err != nil || q != p || q.String() != string(p) {
			t.Errorf("Set(%q) = %q, %v", p, q, err)
		}
	}
	if _, err := deploy.ParseRebindPolicy(""); err == nil {
		t.Error(`ParseRebindPolicy("") must fail: the zero value is a default, not a name`)
	}
	if _, err := deploy.ParseRebindPolicy("kea"); err == nil || !strings.Contains(err.Error(), "create, zero, nobinding, silent") {
		t.Errorf("ParseRebindPolicy(kea): %v", err)
	}
}

func TestRebindZeroValueIsCreate(t *testing.T) {
	var p deploy.RebindPolicy
	if p.Or() != deploy.RebindCreate || p.String() != "create" || !p.Valid() {
		t.Errorf("zero RebindPolicy: Or %q String %q Valid %v", p.Or(), p, p.Valid())
	}
	if deploy.RebindPolicy("kea").Valid() {
		t.Error(`"kea" is a valid rebind policy`)
	}
	b, _ := json.Marshal(struct{ R deploy.RebindPolicy }{})
	if string(b) != `{"R":"create"}` {
		t.Errorf("zero policy marshals as %s", b)
	}
}

func TestKindsAreDistinct(t *testing.T) {
	seen := map[deploy.Kind]bool{}
	for _, k := range deploy.Kinds {
		if seen[k] || k == "" {
			t.Errorf("kind %q repeated or empty", k)
		}
		seen[k] = true
	}
	if deploy.Kinds[0] != deploy.Builtin {
		t.Errorf("Kinds starts with %q, want builtin", deploy.Kinds[0])
	}
}
