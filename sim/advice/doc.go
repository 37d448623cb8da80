// Package advice is `d6lab advise`: an operator's question about RFC 6853
// §6.1's one knob, answered from measurements. "N hosts, K servers, an
// outage of at most D per host when one server dies, servers under R
// messages/s in steady state: which model, which T1/T2/preferred/valid?"
//
// It runs the sweep it needs on the virtual engine (sim/sweep): a coarse
// grid of valid lifetimes with T1 at half of valid and T2 at 0.55 or 0.8
// of it (§6.1: T1 and T2 "equal (or nearly equal)", or T2 at the
// preferred lifetime), in each model, then a second round at the T1 the
// load bound allows, estimated from the first round's measured load. Each
// point's clients arrive over one T1 (sweep.Derive), so the fault finds
// them at every phase of their renewals, as a real failure would. A point
// meets the question when its outage and re-acquisition p99 and its
// busiest server's steady load (scaled from the simulated sample to N
// clients) are within the bounds, with the safety margin on the load,
// no address is used twice and every affected client recovers; the pool
// budget, when given, is checked against what each model must configure
// for one survivor to serve every client. Among the points that meet it
// the recommendation is the best failover the bounds allow: the lowest
// outage, then re-acquisition p99, then load. The runner-up is the best
// point of another model; each constraint's cost is what the
// recommendation would be without it.
//
// The virtual engine's servers answer at once and each client's timeline
// does not depend on the others, so a sample of the population (Sample)
// measures the per-client figures, and the load, linear in the clients
// (every server receives each client's multicast Renew once per T1),
// scales to N. The answer is seeded: the same question gives the same
// answer. ScenarioYAML writes the chosen point as a scenario file, at the
// sample's size with its bounds scaled the same way, to replay in netns.
package advice
