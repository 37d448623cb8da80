// Package scenarios is d6lab's scenario format and its loader.
//
// A scenario is a YAML file naming an RFC 6853 deployment model, the link
// prefix, the lifetimes, the servers, the client population, a timeline of
// faults, the run's duration and the bounds (`expect:`) its report must
// meet. README.md in this folder documents every field and default.
//
// Loading is done in two steps, after containerlab's idea: the YAML is
// decoded into yaml.Node trees and walked into raw values that remember what
// the file set (unknown keys and bad values are rejected here, with their
// line, column and the list of valid names); then the raw values are
// resolved into a Scenario of plain values (netip prefixes, time.Duration),
// with defaults filled and pools derived from the model, and the whole is
// checked (lifetime order, disjoint pools, timeline sense). Every problem
// found is returned as an Errors list of *Error, each naming file, line,
// column and field:
//
//	split.yaml:7:16: servers[1].allocator: unknown value "lru" (valid: hash, sequential, random)
//
// Load and Parse read files; Compare builds the scenario `d6lab compare`
// runs for each model; MetricPaths lists the report paths `expect:` may
// bound, shared with the reports package. The shipped *.yaml files beside
// this package are the scenarios `d6lab run scenarios/*.yaml` runs.
package scenarios
