package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"d6lab/deploy"
	"d6lab/scenarios"
)

// clientFlags override a scenario's clients from the command line: the
// simulated clients' profile, their count, and real clients mixed in.
type clientFlags struct {
	profile string
	real    string
	count   int
}

func (f *clientFlags) add(c *cobra.Command, count bool) {
	names := make([]string, len(deploy.Profiles))
	for i, p := range deploy.Profiles {
		names[i] = string(p)
	}
	kinds := make([]string, len(deploy.ClientKinds))
	for i, k := range deploy.ClientKinds {
		kinds[i] = string(k)
	}
	c.Flags().StringVar(&f.profile, "profile", "", "simulated clients' profile, overriding clients.profile: "+strings.Join(names, ", "))
	c.Flags().StringVar(&f.real, "real", "", "real clients to mix in, overriding clients.real: KIND=N[,KIND=N] (kinds: "+strings.Join(kinds, ", ")+"; netns engine)")
	if count {
		c.Flags().IntVar(&f.count, "sim-clients", 0, "simulated clients, overriding clients.count (0: the scenario's)")
	}
}

// parseReal reads --real: "dhclient=5,dhcpcd=2".
func parseReal(s string) ([]scenarios.RealClients, error) {
	var out []scenarios.RealClients
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, n, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want KIND=N", part)
		}
		k, err := deploy.ParseClientKind(strings.TrimSpace(name))
		if err != nil {
			return nil, err
		}
		count, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || count < 1 || count > scenarios.MaxRealClients {
			return nil, fmt.Errorf("%q: want a count in 1..%d", part, scenarios.MaxRealClients)
		}
		out = append(out, scenarios.RealClients{Kind: k, Count: count})
	}
	return out, nil
}

// check validates the flags alone (before anything runs).
func (f *clientFlags) check() error {
	if f.profile != "" && !slices.Contains(deploy.Profiles, deploy.Profile(f.profile)) {
		return badInput("--profile %q: want one of %v", f.profile, deploy.Profiles)
	}
	if _, err := parseReal(f.real); err != nil {
		return badInput("--real: %v", err)
	}
	if f.count < 0 || f.count > scenarios.MaxClients {
		return badInput("--sim-clients %d: want 0..%d", f.count, scenarios.MaxClients)
	}
	return nil
}

// apply overrides sc's clients and validates the result: an override
// the scenario cannot take (real clients with timescale 0.1, say) is bad
// input, named with the flag.
func (f *clientFlags) apply(sc *scenarios.Scenario) error {
	if f.profile == "" && f.real == "" && f.count == 0 {
		return nil
	}
	if f.profile != "" {
		sc.Clients.Profile = deploy.Profile(f.profile)
	}
	if f.count > 0 {
		sc.Clients.Count = f.count
	}
	if f.real != "" {
		real, _ := parseReal(f.real) // checked
		for i := range real {
			real[i].IA = sc.Clients.IA
		}
		sc.Clients.Real = real
	}
	if err := sc.Validate(); err != nil {
		return badInput("%s with --profile/--real/--sim-clients: %v", sc.Name, err)
	}
	return nil
}
