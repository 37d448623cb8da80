// Package sweep is `d6lab sweep`: the lifetime trade-off of RFC 6853 §6.1
// ("shorter values ... will create an additional load on the DHCPv6
// servers") measured over a grid. It parses the grid (--vary: products
// of durations, or ratios of the valid lifetime), derives one scenario per
// grid point and model (the base scenario's server count built as
// `d6lab compare` builds the model, scenarios.Compare; the base
// scenario's clients and first fault, the fault and duration scaled to
// the lifetimes), and runs the points with a Player: the virtual engine
// (Virtual) in parallel, or one the caller gives (the netns engine, one
// lab at a time, from cmd/d6lab). Validate plays chosen points again on
// another engine and compares the re-acquisition median and the steady
// load within a tolerance. Save writes sweep.json (one row per point: the
// lifetimes and every numeric report metric, server load included, and
// the validation), sweep.html (every model on one chart, then per model
// steady load against outage and re-acquisition p99 with the Pareto
// front, and the table) and sweep.svg (the first chart alone).
package sweep
