package conform

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"d6lab/reports/check"
)

// A check's verdict is a check.Verdict, written pass, fail or n/a
// (Verdict.Conform) in conform.json, the matrix and JUnit.
const (
	Pass = check.VerdictOK
	Fail = check.VerdictViolated
	// NA: the check does not apply (the server does not offer the
	// feature, or the lab could not configure it); the detail says why.
	NA = check.VerdictUnknown
)

// Evidence backs a verdict.
type Evidence struct {
	// Pcap is the capture of the check on the clients' interface, relative
	// to the directory of conform.json ("" when there is none).
	Pcap string `json:"pcap,omitempty"`
	// Packets are one-line summaries of what the probe sent (→) and
	// received (←): message type, transaction ID and the key options.
	Packets []string `json:"packets"`
}

// Check is one requirement's result.
type Check struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Verdict  check.Verdict `json:"-"` // written as Verdict.Conform()
	Detail   string        `json:"detail"`
	Evidence Evidence      `json:"evidence"`
	Duration time.Duration `json:"-"`
}

// checkJSON is Check as conform.json has it, the verdict in conform's words.
type checkJSON struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Verdict  string   `json:"verdict"`
	Detail   string   `json:"detail"`
	Evidence Evidence `json:"evidence"`
}

// MarshalJSON writes c with its verdict as pass, fail or n/a.
func (c Check) MarshalJSON() ([]byte, error) {
	return json.Marshal(checkJSON{c.ID, c.Name, c.Verdict.Conform(), c.Detail, c.Evidence})
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (c *Check) UnmarshalJSON(b []byte) error {
	var w checkJSON
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	v, err := check.ParseConform(w.Verdict)
	if err != nil {
		return fmt.Errorf("check %s: %w", w.ID, err)
	}
	*c = Check{ID: w.ID, Name: w.Name, Verdict: v, Detail: w.Detail, Evidence: w.Evidence}
	return nil
}

// Report is one server kind's conformance (Server set) or one real client
// kind's (Client set): the one shape conform.json, the matrix and JUnit
// write for both sides.
type Report struct {
	// Server is the server kind checked (Run); empty in a client report.
	Server string `json:"server,omitempty"`
	// Client is the real client kind checked (RunClient); empty in a
	// server report.
	Client  string `json:"client,omitempty"`
	Version string `json:"version"`
	// Missing says why the kind could not run (not installed, unknown);
	// such a report is not a failure. A server report then has no checks;
	// a client report lists every check n/a with the same reason.
	Missing string `json:"missing,omitempty"`
	// Notes are the adapter's notes: where the running server (or
	// client) differs from the configuration it was asked for.
	Notes  []string `json:"notes,omitempty"`
	Checks []Check  `json:"checks"`
}

// Subject is the kind the report checks: its server kind, or its client
// kind.
func (r *Report) Subject() string {
	if r.Client != "" {
		return r.Client
	}
	return r.Server
}

// Side is "client" for a client report, "server" otherwise.
func (r *Report) Side() string {
	if r.Client != "" {
		return "client"
	}
	return "server"
}

// Failed reports whether a check failed.
func (r *Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Verdict == Fail {
			return true
		}
	}
	return false
}

// Count returns how many checks have verdict v.
func (r *Report) Count(v check.Verdict) int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict == v {
			n++
		}
	}
	return n
}

// JSONFile and JUnitFile are the names of the outputs in the output
// directory.
const (
	JSONFile  = "conform.json"
	JUnitFile = "junit.xml"
)

// WriteJSON writes r as dir/conform.json.
func WriteJSON(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	return nil
}

// ReadJSON reads a conform.json.
func ReadJSON(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("conform: %w", err)
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("conform: %s: %w", path, err)
	}
	return &r, nil
}

// Matrix writes the terminal matrix: one row per check, one column per
// server (or client) kind. With one kind the row also carries the detail.
func Matrix(w io.Writer, reps []*Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ids, names := checkRows(reps)
	single := len(reps) == 1
	head := []string{"check"}
	for _, r := range reps {
		col := r.Subject()
		if v, _, _ := strings.Cut(r.Version, "  "); v != "" { // dnsmasq's banner goes on after two spaces
			col += " " + v
		}
		head = append(head, col)
	}
	if single {
		head = append(head, "detail")
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, id := range ids {
		row := []string{id}
		detail := ""
		for _, r := range reps {
			row = append(row, cell(r, id))
			if c := find(r, id); c != nil {
				detail = c.Detail
			}
		}
		if single {
			row = append(row, clip(detail, 160))
		}
		_ = names
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	foot := []string{"failed"}
	for _, r := range reps {
		if r.Missing != "" && len(r.Checks) == 0 {
			foot = append(foot, "-")
			continue
		}
		foot = append(foot, fmt.Sprintf("%d/%d", r.Count(Fail), len(r.Checks)))
	}
	fmt.Fprintln(tw, strings.Join(foot, "\t"))
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range reps {
		if r.Missing != "" {
			fmt.Fprintf(w, "%s: %s\n", r.Subject(), r.Missing)
		}
	}
	if !single {
		for _, r := range reps {
			for _, c := range r.Checks {
				if c.Verdict == Fail {
					fmt.Fprintf(w, "%s %s: %s\n", r.Subject(), c.ID, c.Detail)
				}
			}
		}
	}
	return nil
}

func cell(r *Report, id string) string {
	c := find(r, id)
	if r.Missing != "" && c == nil {
		return "not installed"
	}
	if c == nil {
		return "-"
	}
	if c.Verdict == Fail {
		return "FAIL"
	}
	return c.Verdict.Conform()
}

func find(r *Report, id string) *Check {
	for i := range r.Checks {
		if r.Checks[i].ID == id {
			return &r.Checks[i]
		}
	}
	return nil
}

// checkRows lists the check IDs of reps in catalogue order (the server
// side's, then the client side's), then any unknown ones in report order.
func checkRows(reps []*Report) ([]string, map[string]string) {
	seen := map[string]bool{}
	names := map[string]string{}
	for _, r := range reps {
		for _, c := range r.Checks {
			seen[c.ID] = true
			names[c.ID] = c.Name
		}
	}
	var ids []string
	for _, id := range append(IDs(), ClientIDs()...) {
		if seen[id] {
			ids = append(ids, id)
			delete(seen, id)
		}
	}
	for _, r := range reps {
		for _, c := range r.Checks {
			if seen[c.ID] {
				ids = append(ids, c.ID)
				delete(seen, c.ID)
			}
		}
	}
	return ids, names
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes path: a test suite per server (or client) kind, a
// test case per check, failure for fail and skipped for n/a. A kind that is
// not installed is a suite with one skipped case (a client kind's suite
// also has its checks, each skipped). Server suites are "conform KIND"
// (class conform.KIND), client suites "conform client KIND" (class
// conform.client.KIND).
func WriteJUnit(path string, reps []*Report) error {
	all := junitSuites{Name: "d6lab conform"}
	for _, r := range reps {
		name, class := "conform "+r.Subject(), "conform."+r.Subject()
		if r.Client != "" {
			name, class = "conform client "+r.Client, "conform.client."+r.Client
		}
		s := junitSuite{Name: name}
		if r.Version != "" {
			s.Name += " " + r.Version
		}
		var total time.Duration
		if r.Missing != "" {
			s.Cases = append(s.Cases, junitCase{Name: "installed", ClassName: class, Time: "0",
				Skipped: &junitMessage{Message: r.Missing}})
			s.Skipped++
		}
		for _, c := range r.Checks {
			total += c.Duration
			jc := junitCase{
				Name:      c.ID + ": " + c.Name,
				ClassName: class,
				Time:      fmt.Sprintf("%.3f", c.Duration.Seconds()),
				SystemOut: evidenceText(c.Evidence),
			}
			switch c.Verdict {
			case Fail:
				jc.Failure = &junitMessage{Message: c.Detail, Body: c.Detail}
				s.Failures++
			case NA:
				jc.Skipped = &junitMessage{Message: c.Detail}
				s.Skipped++
			}
			s.Cases = append(s.Cases, jc)
		}
		s.Tests = len(s.Cases)
		s.Time = fmt.Sprintf("%.3f", total.Seconds())
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Skipped += s.Skipped
		all.Suites = append(all.Suites, s)
	}
	b, err := xml.MarshalIndent(all, "", "  ")
	if err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644); err != nil {
		return fmt.Errorf("conform: %w", err)
	}
	return nil
}

func evidenceText(e Evidence) string {
	var sb strings.Builder
	if e.Pcap != "" {
		fmt.Fprintf(&sb, "pcap: %s\n", e.Pcap)
	}
	for _, p := range e.Packets {
		sb.WriteString(p)
		sb.WriteByte('\n')
	}
	return sb.String()
}
