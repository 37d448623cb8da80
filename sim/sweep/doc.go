// Package sweep is `d6lab sweep`: the lifetime trade-off of RFC 6853 §6.1
// ("shorter values ... will create an additional load on the DHCPv6
// servers") measured over a grid. It parses the grid (--vary: products
// of durations, or ratios of the valid lifetime), derives one scenario per
// grid point and model (the model's servers as `d6lab compare` builds
// them, scenarios.Compare; the base scenario's clients and first fault,
// the fault and duration scaled to the lifetimes), runs the points in
// parallel on the virtual engine, and writes sweep.json (one row per
// point: the lifetimes and every numeric report metric, server load
// included) and sweep.html (per model, steady load against outage and
// re-acquisition p99 with the Pareto front, and the table).
package sweep
