package check

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Bound is one `expect:` line: the metric at Path compared with Op to Value.
// Path is the dotted JSON path of the metric in the Report
// ("rebind.failure_rate", "reacquire_s.p99", "duplicates.addresses"); Raw
// is the bound as the scenario wrote it, kept for display.
type Bound struct {
	Path  string
	Op    string // < <= > >= == !=
	Value float64
	Raw   string
}

// Ops lists the comparison operators a Bound may use.
var Ops = []string{"<", "<=", ">", ">=", "==", "!="}

// Evaluate checks each bound against the report and replaces r.Expect with
// the results, in the order given. Metrics are looked up by their JSON path
// in the report's own JSON, so the names in `expect:` are exactly the names
// in report.json. A metric that is null there (or inside a null group) is
// unknown: the bound fails, with Unknown set and an Error saying why
// ("rebind.failure_rate: unknown: no client was affected by the fault").
func (r *Report) Evaluate(bounds []Bound) {
	r.Expect = make([]ExpectResult, 0, len(bounds))
	var doc map[string]any
	b, err := json.Marshal(r)
	if err == nil {
		err = json.Unmarshal(b, &doc)
	}
	for _, bd := range bounds {
		res := ExpectResult{Name: bd.Path, Bound: bd.Raw}
		if res.Bound == "" {
			res.Bound = bd.Op + " " + strconv.FormatFloat(bd.Value, 'g', -1, 64)
		}
		if err != nil {
			res.Error = fmt.Sprintf("encode report: %v", err)
			r.Expect = append(r.Expect, res)
			continue
		}
		v, lerr := lookup(doc, bd.Path)
		if lerr != nil && r.zeroWhenAbsent(bd.Path) {
			v, lerr = 0, nil // a count the JSON leaves out when zero
		}
		if lerr != nil && r.optionalMissing(bd.Path) {
			lerr = &UnknownError{Path: bd.Path} // dns.*, leasequery.* of a run without them
		}
		if lerr != nil {
			var ue *UnknownError
			if errors.As(lerr, &ue) {
				if ue.Reason == "" {
					ue.Reason = r.unknownReason(bd.Path)
				}
				res.Unknown = true
			}
			res.Error = lerr.Error()
			r.Expect = append(r.Expect, res)
			continue
		}
		res.Value = v
		ok, cerr := compare(v, bd.Op, bd.Value)
		if cerr != nil {
			res.Error = cerr.Error()
		}
		res.OK = ok
		r.Expect = append(r.Expect, res)
	}
}

// OK reports whether every evaluated bound holds. Duplicates are a safety
// violation ("zero is the only good value"): unless a bound names a
// duplicates.* metric itself, any duplicate makes the report fail.
func (r *Report) OK() bool {
	guarded := false
	for _, x := range r.Expect {
		if !x.OK {
			return false
		}
		if strings.HasPrefix(x.Name, "duplicates.") {
			guarded = true
		}
	}
	return guarded || r.Duplicates.Addresses == 0
}

// MetricError tells why a metric path could not be read.
type MetricError struct {
	Path   string
	Reason string
	Valid  []string // the names valid at the point where the lookup stopped
}

func (e *MetricError) Error() string {
	msg := fmt.Sprintf("metric %q: %s", e.Path, e.Reason)
	if len(e.Valid) > 0 {
		msg += " (valid: " + strings.Join(e.Valid, ", ") + ")"
	}
	return msg
}

// UnknownError is a metric that exists but is unknown in this run: it is
// null in the report (the failover metrics of a run in which no client
// was affected).
type UnknownError struct {
	Path   string
	Reason string
}

func (e *UnknownError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no value in this run"
	}
	return e.Path + ": unknown: " + reason
}

// zeroWhenAbsent tells whether path is a count the JSON leaves out when
// it is zero (Life's drops, those of a kind the run has).
func (r *Report) zeroWhenAbsent(path string) bool {
	if path == "life.dropped" || path == "life.unrestored" {
		return true
	}
	rest, ok := strings.CutPrefix(path, "by_kind.")
	kind, m, _ := strings.Cut(rest, ".")
	return ok && m == "dropped" && slices.ContainsFunc(r.ByKind, func(k KindReport) bool { return k.Kind == kind })
}

// optionalMissing tells whether path lies in a group of the report that
// only some runs have and this one lacks (dns, leasequery: omitted from
// the JSON then), or is a distribution of drops the run did not have.
func (r *Report) optionalMissing(path string) bool {
	group, _, _ := strings.Cut(path, ".")
	return (group == "dns" && r.DNS == nil) || (group == "leasequery" && r.Leasequery == nil) || (group == "load" && r.Load == nil) ||
		strings.Contains(path, "dropped_s.")
}

// unknownReason says why the metric at path is null in r.
func (r *Report) unknownReason(path string) string {
	switch group, _, _ := strings.Cut(path, "."); {
	case group == "dns" && r.DNS == nil:
		return "the run has no DNS zone transfer (no dns: block)"
	case group == "leasequery" && r.Leasequery == nil:
		return "the run has no Leasequery prober round (no leasequery: block)"
	case group == "load" && r.Load == nil:
		return "the run sampled no server load (no server_load events in its history)"
	case group == "load" && strings.HasSuffix(path, "peak_mps") && r.Fault == nil:
		return "the run has no fault"
	case group == "load":
		return "the steady window is empty: no time between the last binding before the fault and the fault"
	case path == "dns.server_died":
		return "the DNS server did not die"
	case strings.Contains(path, "dropped_s."):
		return "no address a client dropped was usable again in this run"
	case group == "leasequery" && r.Fault != nil && r.Affected > 0:
		return "no affected client was among the sampled clients"
	case group == "dns" && r.Fault != nil && r.Affected > 0:
		return "no client with an IA_NA address was affected by the fault"
	}
	if r.Fault == nil {
		return "no client was affected: the run has no fault"
	}
	if r.Affected == 0 {
		return "no client was affected by the fault"
	}
	if rest, ok := strings.CutPrefix(path, "by_kind."); ok {
		kind, _, _ := strings.Cut(rest, ".")
		return "no " + kind + " client was affected by the fault"
	}
	if ia, ok := strings.CutPrefix(path, "per_ia."); ok {
		ia, _, _ = strings.Cut(ia, ".")
		return "no " + ia + " lease was affected by the fault"
	}
	if path == "rebind.failure_rate" || strings.HasPrefix(path, "rebind.failure_rate.") {
		return fmt.Sprintf("no affected client had a rebind outcome (%d undecided, %d released)",
			r.Rebind.Undecided, r.Rebind.Released)
	}
	return "no client was affected by the fault"
}

func lookup(doc map[string]any, path string) (float64, error) {
	var cur any = doc
	parts := strings.Split(path, ".")
	for i, p := range parts {
		switch node := cur.(type) {
		case nil:
			return 0, &UnknownError{Path: path}
		case map[string]any:
			next, ok := node[p]
			if !ok {
				keys := make([]string, 0, len(node))
				for k := range node {
					keys = append(keys, k)
				}
				slices.Sort(keys)
				return 0, &MetricError{Path: path, Reason: fmt.Sprintf("no %q", strings.Join(parts[:i+1], ".")), Valid: keys}
			}
			cur = next
		case []any:
			if el, ok := byKindName(node, p); ok {
				// by_kind.<kind>: the element of that kind
				cur = el
				continue
			}
			if strings.Join(parts[:i], ".") == "by_kind" {
				return 0, &UnknownError{Path: path, Reason: fmt.Sprintf("no %s client in this run", p)}
			}
			n, err := strconv.Atoi(p)
			if err != nil || n < 0 || n >= len(node) {
				return 0, &MetricError{Path: path, Reason: fmt.Sprintf("index %q out of range [0,%d)", p, len(node))}
			}
			cur = node[n]
		default:
			return 0, &MetricError{Path: path, Reason: fmt.Sprintf("%q is not an object", strings.Join(parts[:i], "."))}
		}
	}
	switch v := cur.(type) {
	case nil:
		return 0, &UnknownError{Path: path}
	case float64:
		return v, nil
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, path+"."+k)
		}
		slices.Sort(keys)
		return 0, &MetricError{Path: path, Reason: "is a group, not a number", Valid: keys}
	default:
		return 0, &MetricError{Path: path, Reason: fmt.Sprintf("is not a number (%T)", cur)}
	}
}

// Tolerance used by == and != (metrics are computed in float64).
const eqTolerance = 1e-9

func compare(v float64, op string, bound float64) (bool, error) {
	switch op {
	case "<":
		return v < bound, nil
	case "<=":
		return v <= bound, nil
	case ">":
		return v > bound, nil
	case ">=":
		return v >= bound, nil
	case "==", "=":
		return math.Abs(v-bound) <= eqTolerance, nil
	case "!=":
		return math.Abs(v-bound) > eqTolerance, nil
	}
	return false, fmt.Errorf("unknown operator %q (valid: %s)", op, strings.Join(Ops, " "))
}

// byKindName finds the element of a list of objects whose "kind" is name
// (Report.ByKind as JSON).
func byKindName(list []any, name string) (any, bool) {
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["kind"] == name {
			return m, true
		}
	}
	return nil, false
}
