package check

import (
	"cmp"
	"slices"

	"d6lab/reports/history"
)

// Simulated is the kind of the clients no history.ClientKind event names:
// d6lab's own simulated population.
const Simulated = "simulated"

// KindReport is the part of a Report computed over the clients of one kind
// alone (the same definitions, the same analyzer): how a real client kind
// fared beside the simulated population in the same run. Lab events (the
// fault, the servers' states) are shared by every kind.
type KindReport struct {
	Kind    string `json:"kind"`              // Simulated or a real client kind (dhclient, ...)
	Version string `json:"version,omitempty"` // a real kind's version, from its ClientKind events
	// Profile is the simulated clients' profile ("" for rfc); empty for a
	// real kind.
	Profile string `json:"profile,omitempty"`
	Clients int    `json:"clients"`
	Bound   int    `json:"bound"`
	// FirstBoundBy counts the clients by the server (name) of their first
	// binding: where Preference sent them (RFC 9915 §18.2.1; RFC 6853
	// §5.3). A server without a name in the lab is keyed by its DUID.
	FirstBoundBy map[string]int `json:"first_bound_by"`
	Acquire      Acquire        `json:"acquire"`
	Affected     int            `json:"affected"`
	Rebind       Rebind         `json:"rebind"`
	ReacquireS   *Percentiles   `json:"reacquire_s"` // nil: none affected
	OutageS      *Percentiles   `json:"outage_s"`    // nil: none affected
	Continuity   *float64       `json:"continuity"`  // nil: none affected
	Unrecovered  int            `json:"unrecovered"`
	Conflicts    int            `json:"conflicts"` // addresses of this kind's clients caught by DAD
	Declined     int            `json:"declined"`
	Released     int            `json:"released"`
	// Dropped and DroppedS: Life's, for this kind (addresses taken off
	// the interface while held, and the seconds until usable again).
	Dropped  int          `json:"dropped,omitempty"`
	DroppedS *Percentiles `json:"dropped_s,omitempty"`
}

// byKind analyses each client kind's events apart; nil when the history
// names no real client.
func byKind(events history.Source, lab Lab) []KindReport {
	kindOf, version := realKinds(events)
	if len(kindOf) == 0 {
		return nil
	}
	groups := map[string][]history.Event{}
	for i := range events.Len() {
		e := events.Event(i)
		if e.Kind == history.ClientKind {
			continue
		}
		if e.Client < 0 || isLab(e.Kind) {
			// lab events belong to every kind
			for _, k := range kindNames(kindOf) {
				groups[k] = append(groups[k], e)
			}
			continue
		}
		k, ok := kindOf[e.Client]
		if !ok {
			k = Simulated
		}
		groups[k] = append(groups[k], e)
	}
	var out []KindReport
	kl := lab
	kl.Gaps = nil // a KindReport has none: the whole run's report sizes them once
	for k, evs := range groups {
		r, _ := analyze(history.Events(evs), kl)
		if r.Clients == 0 {
			continue
		}
		kr := KindReport{
			Kind: k, Version: version[k],
			Clients: r.Clients, Bound: r.Bound, Acquire: r.Acquire,
			Affected: r.Affected, Rebind: r.Rebind, ReacquireS: r.ReacquireS,
			OutageS: r.OutageS, Continuity: r.Continuity, Unrecovered: r.Unrecovered,
			Conflicts: r.Conflicts.Count, Declined: r.Life.Declined, Released: r.Life.Released,
			Dropped: r.Life.Dropped, DroppedS: r.Life.DroppedS,
		}
		kr.FirstBoundBy = firstBoundBy(evs, lab)
		if k == Simulated {
			kr.Profile = lab.Profile
		}
		out = append(out, kr)
	}
	slices.SortFunc(out, func(a, b KindReport) int {
		if (a.Kind == Simulated) != (b.Kind == Simulated) {
			if a.Kind == Simulated {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.Kind, b.Kind)
	})
	return out
}

// realKinds maps each real client (one a ClientKind event names) to its
// kind, and each kind to its version; a client no event names is
// simulated.
func realKinds(events history.Source) (kindOf map[int]string, version map[string]string) {
	kindOf, version = map[int]string{}, map[string]string{}
	for i := range events.Len() {
		if events.Kind(i) != history.ClientKind {
			continue
		}
		if e := events.Event(i); e.Client >= 0 {
			kindOf[e.Client] = e.Detail
			if e.Cause != "" {
				version[e.Detail] = e.Cause
			}
		}
	}
	return kindOf, version
}

// kindNames lists the kinds present: Simulated and each real kind.
func kindNames(kindOf map[int]string) []string {
	names := []string{Simulated}
	for _, k := range kindOf {
		if !slices.Contains(names, k) {
			names = append(names, k)
		}
	}
	return names
}

// firstBoundBy counts clients by the server of their first Bound event.
func firstBoundBy(events []history.Event, lab Lab) map[string]int {
	names := map[string]string{}
	for _, s := range lab.Servers {
		names[NormalizeDUID(s.DUID)] = s.Name
	}
	seen := map[int]bool{}
	out := map[string]int{}
	for _, i := range timeOrder(history.Events(events)) {
		e := &events[i]
		if e.Kind != history.Bound || e.Client < 0 || seen[e.Client] {
			continue
		}
		seen[e.Client] = true
		name, ok := names[NormalizeDUID(e.Server)]
		if !ok {
			name = e.Server
		}
		out[name]++
	}
	return out
}
