package check

import "fmt"

// Verdict is the outcome of one judgement. The checkers (the duplicate
// verdict in report.json) and `d6lab conform` (each check in conform.json)
// use this one type; each output keeps its own words for it: String for
// report.json ("ok", "violated", "unknown"), Conform for conform.json and
// its matrix ("pass", "fail", "n/a").
type Verdict string

// The verdicts, in the Jepsen style.
const (
	VerdictOK       Verdict = "ok"       // the property held
	VerdictViolated Verdict = "violated" // it was broken; the evidence says where
	// VerdictUnknown: nothing to judge (no binding in the history; for
	// conform, the check does not apply to the server or the lab could not
	// configure it).
	VerdictUnknown Verdict = "unknown"
)

// String returns v as report.json writes it.
func (v Verdict) String() string { return string(v) }

// Conform returns v as conform.json writes it: pass, fail or n/a.
func (v Verdict) Conform() string {
	switch v {
	case VerdictOK:
		return "pass"
	case VerdictViolated:
		return "fail"
	case VerdictUnknown:
		return "n/a"
	}
	return string(v)
}

// ParseConform reads a verdict written by Conform.
func ParseConform(s string) (Verdict, error) {
	for _, v := range []Verdict{VerdictOK, VerdictViolated, VerdictUnknown} {
		if v.Conform() == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown verdict %q (want pass, fail or n/a)", s)
}
