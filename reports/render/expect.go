package render

import (
	"strconv"
	"strings"

	"d6lab/reports/check"
)

// Expectation is one line of a page's expectations: an `expect:` bound of
// the scenario, or the implicit rule that no address may be held twice.
type Expectation struct {
	Name     string // metric path
	Bound    string // as written: "<= 0.05"
	Measured string // the measured value, "n/a" when unknown, "-" when it could not be read
	Value    float64
	OK       bool
	Error    string // why the metric could not be read, or why it is unknown
	// Unknown: the metric is unknown in this run (no client was
	// affected); the bound fails.
	Unknown bool
	// Implicit marks the duplicate-address rule that check.Report.OK
	// applies when no bound names a duplicates.* metric.
	Implicit bool
}

// Expectations lists what decides a report's verdict: its evaluated
// bounds, then the implicit duplicate rule when no bound guards
// duplicates. Every one holds exactly when r.OK() is true.
func Expectations(r *check.Report) []Expectation {
	var out []Expectation
	guarded := false
	for _, x := range r.Expect {
		e := Expectation{Name: x.Name, Bound: x.Bound, Value: x.Value, OK: x.OK, Error: x.Error, Measured: num(x.Value), Unknown: x.Unknown}
		switch {
		case x.Unknown:
			e.Measured = NA
		case x.Error != "":
			e.Measured = "-"
		}
		out = append(out, e)
		if strings.HasPrefix(x.Name, "duplicates.") {
			guarded = true
		}
	}
	if !guarded {
		n := r.Duplicates.Addresses
		out = append(out, Expectation{Name: "duplicates.addresses", Bound: "== 0", Value: float64(n),
			Measured: strconv.Itoa(n), OK: n == 0, Implicit: true})
	}
	return out
}

// Held counts the expectations that hold.
func held(ex []Expectation) int {
	n := 0
	for _, e := range ex {
		if e.OK {
			n++
		}
	}
	return n
}
