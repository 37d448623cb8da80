package main

import (
	"errors"
	"testing"

	"d6lab/deploy"
	"d6lab/scenarios"
)

func TestParseReal(t *testing.T) {
	got, err := parseReal("dhclient=5, dhcpcd=2")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Kind != deploy.Dhclient || got[0].Count != 5 || got[1].Kind != deploy.Dhcpcd || got[1].Count != 2 {
		t.Fatalf("parseReal: %+v", got)
	}
	for _, bad := range []string{"dhclient", "dhclient=0", "dhclient=65", "systemd=1", "dhclient=x"} {
		if _, err := parseReal(bad); err == nil {
			t.Errorf("parseReal(%q): no error", bad)
		}
	}
}

func TestClientFlagsApply(t *testing.T) {
	sc, err := scenarios.Load("../../scenarios/split-kill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := clientFlags{profile: "dhclient", real: "dhcpcd=3", count: 200}
	if err := f.check(); err != nil {
		t.Fatal(err)
	}
	if err := f.apply(sc); err != nil {
		t.Fatal(err)
	}
	if sc.Clients.Profile != deploy.ProfileDhclient || sc.Clients.Count != 200 || sc.Clients.RealCount() != 3 {
		t.Fatalf("apply: %+v", sc.Clients)
	}
	if ia := sc.Clients.Real[0].IA; len(ia) != 1 || ia[0] != scenarios.NA {
		t.Fatalf("real IAs %v, want the scenario's [na]", ia)
	}

	// an override the scenario cannot take is bad input (exit 2)
	st, err := scenarios.Load("../../scenarios/stateless-split.yaml")
	if err != nil {
		t.Fatal(err)
	}
	err = (&clientFlags{real: "dhclient=1"}).apply(st)
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitBadInput {
		t.Fatalf("real clients at timescale 0.01: %v, want exit %d", err, exitBadInput)
	}
	if err := (&clientFlags{profile: "nope"}).check(); err == nil {
		t.Fatal("--profile nope: no error")
	}
}
