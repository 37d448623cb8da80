package render

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"

	"d6lab/reports/check"
)

// junitSuites is the root of junit.xml (the Ant/Jenkins JUnit schema that
// CI services read).
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// JUnit writes junit.xml: one test suite per report, named after its
// scenario, with one test case per expectation (Expectations: each
// `expect:` bound, and the implicit duplicate rule). A broken bound is a
// <failure> whose message gives the measured value, and so is a bound on
// a metric that is unknown in the run (no client was affected: the run
// did not test it); a metric that could not be read is an <error>.
func JUnit(w io.Writer, reps ...*check.Report) error {
	doc := junitSuites{Name: "d6lab"}
	total := 0.0
	for _, r := range reps {
		s := junitSuite{
			Name:      dash(r.Scenario),
			Time:      seconds3(r.DurationS),
			Timestamp: r.Started.UTC().Format("2006-01-02T15:04:05"),
			Properties: []junitProperty{
				{"model", r.Model}, {"engine", r.Engine},
				{"clients", strconv.Itoa(r.Clients)}, {"fault", FaultText(r)},
				{"verdict", Verdict(r)},
			},
		}
		total += r.DurationS
		for _, e := range Expectations(r) {
			c := junitCase{Name: e.Name + " " + e.Bound, Classname: "d6lab." + dash(r.Scenario), Time: "0"}
			if e.Implicit {
				c.Name += " (implicit: no address held twice)"
			}
			switch {
			case e.Unknown:
				c.Failure = &junitProblem{
					Type:    "unknown",
					Message: fmt.Sprintf("%s = %s, want %s: %s", e.Name, e.Measured, e.Bound, e.Error),
					Text:    failureText(r, e),
				}
				s.Failures++
			case e.Error != "":
				c.Error = &junitProblem{
					Type:    "metric",
					Message: fmt.Sprintf("%s could not be read: %s", e.Name, e.Error),
					Text:    failureText(r, e),
				}
				s.Errors++
			case !e.OK:
				c.Failure = &junitProblem{
					Type:    "expect",
					Message: fmt.Sprintf("%s = %s, want %s", e.Name, e.Measured, e.Bound),
					Text:    failureText(r, e),
				}
				s.Failures++
			}
			s.Cases = append(s.Cases, c)
		}
		s.Tests = len(s.Cases)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Suites = append(doc.Suites, s)
	}
	doc.Time = seconds3(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	return writeString(w, "\n", "render junit")
}

// failureText is the body of a failure: where the value comes from.
func failureText(r *check.Report, e Expectation) string {
	s := fmt.Sprintf("scenario %s (model %s, engine %s, %d clients, fault: %s): %s measured %s, bound %s.",
		dash(r.Scenario), dash(r.Model), dash(r.Engine), r.Clients, FaultText(r), e.Name, e.Measured, e.Bound)
	if e.Implicit {
		s += fmt.Sprintf(" No address may be held by two clients at once; %d were (%d client pairs).", r.Duplicates.Addresses, r.Duplicates.Pairs)
	}
	return s
}

func seconds3(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }
