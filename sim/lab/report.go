package lab

import (
	"encoding/hex"

	"d6lab/reports/check"
	"d6lab/scenarios"
	"d6lab/sim"
	"d6lab/sim/netns"
)

// Report analyses a run's history with the checkers and evaluates the
// scenario's expect: bounds against it. The command line and the scenario
// suite both judge a run through it, so they cannot disagree.
func Report(sc *scenarios.Scenario, res *Result) *check.Report {
	l := sim.CheckLab(sc, "netns")
	res.Annotate(&l)
	rep := check.Analyze(res.Events, l)
	rep.Evaluate(sim.Bounds(sc.Expect))
	return rep
}

// Annotate adds to l, sim.CheckLab's description of the run's scenario,
// what the run saw: its times, the DUID each server actually sent (a
// server that cannot be told a DUID-LL, such as dnsmasq, has its own),
// each server's kind, version, notes and lease file, and the processes'
// usage.
func (res *Result) Annotate(l *check.Lab) {
	l.Start, l.End = res.Start, res.End
	l.Files = map[string]check.ServerFile{}
	usage := func(u netns.Usage) check.Usage {
		return check.Usage{CPUS: u.CPU.Seconds(), MaxRSSKiB: u.MaxRSSKiB}
	}
	l.Usage = map[string]check.Usage{"clients": usage(res.ClientUsage)}
	for i := range l.Servers {
		for _, s := range res.Servers {
			if s.Name != l.Servers[i].Name {
				continue
			}
			if s.DUID != "" {
				l.Servers[i].DUID = s.DUID
			}
			l.Servers[i].Kind, l.Servers[i].Version, l.Servers[i].Notes = s.Kind, s.Version, s.Notes
			f := check.ServerFile{Error: s.LeasesError}
			for _, b := range s.Bindings {
				f.Leases = append(f.Leases, check.ServerLease{
					DUID: hex.EncodeToString(b.DUID), IAID: b.IAID, IA: b.Type.String(),
					Lease: b.Lease, Expires: b.Expires,
				})
			}
			l.Files[s.Name] = f
			l.Usage[s.Name] = usage(s.Usage)
		}
	}
}
