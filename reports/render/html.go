package render

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"path"
	"slices"
	"strconv"
	"strings"

	"d6lab/reports/chart"
	"d6lab/reports/check"
)

//go:embed page.html.tmpl
var pageSource string

var pageTemplate = template.Must(template.New("page").Parse(pageSource))

// page is what page.html.tmpl shows.
type page struct {
	Title, Subtitle, Verdict string
	Compare                  bool

	Summary     []Row        // one run
	CompareHead []string     // compare: the run names
	CompareRows []CompareRow // compare: the rows without the header

	Expect     []expectGroup
	Figures    []figure
	Duplicates []dupGroup
	Conflicts  []conflictGroup // shown when one run has a conflict
	Kinds      []kindGroup     // per run with real clients: the breakdown by client kind
	Gaps       []gapGroup      // per run whose profile has gaps it met (gaps.go)
	DNS        []dnsGroup      // per run with DNS: the names behind dns.multi and dns.stale_at_end
	Files      []string        // relative links to the other outputs
	NoHistory  bool            // a run's history.jsonl not written (--no-history-file): nothing to rebuild from
}

// AnyConflict tells whether a run of the page had a DAD conflict.
func (p page) AnyConflict() bool {
	for _, g := range p.Conflicts {
		if g.Count > 0 {
			return true
		}
	}
	return false
}

// kindGroup is one run's breakdown by client kind (KindRows).
type kindGroup struct {
	Name string
	Head []string
	Rows [][]string
}

func kindsOf(name string, r *check.Report) []kindGroup {
	rows := KindRows(r)
	if rows == nil {
		return nil
	}
	return []kindGroup{{Name: name, Head: KindHead, Rows: rows}}
}

// conflictGroup is one run's DAD conflicts.
type conflictGroup struct {
	Name, Summary string
	Count         int
	Rows          []conflictRow
	More          int // conflicts not in the evidence
}

type conflictRow struct {
	Address, Holder, Server, At string
	Client                      int
}

type expectGroup struct {
	Name string
	Held int
	Rows []Expectation
}

type dupGroup struct {
	Name, Summary string
	Rows, Rest    []dupRow // the first shownEvidence rows, then the others
	More, Kept    int
}

type dupRow struct {
	Address, ServerA, ServerB string
	ClientA, ClientB          int
	From, To, Overlap         string
}

// shownEvidence is how many duplicate evidence rows a page shows before
// folding the others under a <details> element.
const shownEvidence = 15

// HTML writes the self-contained report.html of one run: summary,
// expectations, figures (inline SVG) and duplicate evidence. It needs no
// network and no script.
func HTML(w io.Writer, run *Run) error {
	return htmlRun(w, run, []string{ReportFile, MarkdownFile, JUnitFile, HistoryFile})
}

// htmlRun is HTML with the footer linking files, the others of the run
// directory (SaveRunPages lists those it holds).
func htmlRun(w io.Writer, run *Run, files []string) error {
	r := run.Report
	p := page{
		Title:    "d6lab · " + dash(r.Scenario),
		Subtitle: subtitle(r),
		Verdict:  Verdict(r),
		Summary:  Summary(r),
		Expect:   []expectGroup{group(r.Scenario, r)},
		Files:    files,
		// HTML (no directory) lists history.jsonl; SaveRunPages, when
		// the directory holds it.
		NoHistory: !slices.Contains(files, HistoryFile),
	}
	names := []string{dash(r.Model)}
	figs := []struct {
		make func() (figure, error)
		wide bool
	}{
		{func() (figure, error) {
			return boundFigure(run, "Bound clients per server", chart.WideWidth, chart.WideHeight)
		}, true},
		{func() (figure, error) {
			return cdfFigure([]*Run{run}, names, chart.HalfWidth, chart.HalfHeight)
		}, false},
		{func() (figure, error) {
			return outcomeFigure([]*Run{run}, names, chart.HalfWidth, chart.HalfHeight)
		}, false},
		{func() (figure, error) {
			return driftFigure(run, "Binding share drift", chart.WideWidth, chart.WideHeight*0.85)
		}, true},
	}
	for _, f := range figs {
		fig, err := f.make()
		if err != nil {
			return fmt.Errorf("render html %s: %w", r.Scenario, err)
		}
		fig.Wide = f.wide
		p.Figures = append(p.Figures, fig)
	}
	dnsFig, ok, err := dnsFigure(run, "DNS records over time", chart.WideWidth, chart.WideHeight*0.85)
	if err != nil {
		return fmt.Errorf("render html %s: %w", r.Scenario, err)
	}
	if ok {
		dnsFig.Wide = true
		p.Figures = append(p.Figures, dnsFig)
	}
	lqFig, ok, err := lqFigure([]*Run{run}, names, chart.WideWidth, chart.WideHeight*0.85)
	if err != nil {
		return fmt.Errorf("render html %s: %w", r.Scenario, err)
	}
	if ok {
		lqFig.Wide = true
		p.Figures = append(p.Figures, lqFig)
	}
	p.DNS = dnsGroups(r.Scenario, r)
	p.Duplicates = []dupGroup{dups(r.Scenario, r)}
	p.Conflicts = []conflictGroup{conflictsOf(r.Scenario, r)}
	p.Kinds = kindsOf(r.Scenario, r)
	p.Gaps = gapsOf(r.Scenario, r)
	return execute(w, p)
}

// HTMLCompare writes the self-contained report.html of a comparison: the
// side-by-side summary, each run's expectations, the re-acquisition
// distributions and rebind outcomes of all runs on shared charts, then
// each run's bindings per server and share drift.
func HTMLCompare(w io.Writer, runs []*Run) error {
	reps := make([]*check.Report, len(runs))
	verdict := "PASS"
	noHistory := false
	for i, run := range runs {
		reps[i] = run.Report
		if !run.Report.OK() {
			verdict = "FAIL"
		}
		noHistory = noHistory || run.NoHistoryFile
	}
	rows := CompareRows(reps)
	names := rows[0].Values
	p := page{
		Title:       "d6lab compare · " + strings.Join(names, " vs "),
		Subtitle:    compareSubtitle(reps),
		Verdict:     verdict,
		Compare:     true,
		CompareHead: names,
		CompareRows: rows[1:],
		Files:       []string{CompareFile, MarkdownFile, JUnitFile},
		NoHistory:   noHistory,
	}
	for i, r := range reps {
		p.Expect = append(p.Expect, group(names[i], r))
		p.Duplicates = append(p.Duplicates, dups(names[i], r))
		p.Conflicts = append(p.Conflicts, conflictsOf(names[i], r))
		p.Kinds = append(p.Kinds, kindsOf(names[i], r)...)
		p.Gaps = append(p.Gaps, gapsOf(names[i], r)...)
		p.DNS = append(p.DNS, dnsGroups(names[i], r)...)
		dir := r.Model
		if dir == "" {
			dir = r.Scenario
		}
		p.Files = append(p.Files, path.Join(dir, HTMLFile))
	}
	add := func(wide bool) func(figure, error) error {
		return func(f figure, err error) error {
			if err != nil {
				return fmt.Errorf("render compare html: %w", err)
			}
			f.Wide = wide
			p.Figures = append(p.Figures, f)
			return nil
		}
	}
	half := add(false)
	if err := half(cdfFigure(runs, names, chart.HalfWidth, chart.HalfHeight)); err != nil {
		return err
	}
	if err := half(outcomeFigure(runs, names, chart.HalfWidth, chart.HalfHeight)); err != nil {
		return err
	}
	for i, run := range runs {
		if err := half(boundFigure(run, names[i]+": bound clients per server", chart.HalfWidth, chart.HalfHeight)); err != nil {
			return err
		}
		if err := half(driftFigure(run, names[i]+": binding share drift", chart.HalfWidth, chart.HalfHeight)); err != nil {
			return err
		}
	}
	for i, run := range runs {
		if f, ok, err := dnsFigure(run, names[i]+": DNS records over time", chart.HalfWidth, chart.HalfHeight); ok || err != nil {
			if err := half(f, err); err != nil {
				return err
			}
		}
	}
	if f, ok, err := lqFigure(runs, names, chart.HalfWidth, chart.HalfHeight); ok || err != nil {
		if err := half(f, err); err != nil {
			return err
		}
	}
	return execute(w, p)
}

func execute(w io.Writer, p page) error {
	if err := pageTemplate.Execute(w, p); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

func group(name string, r *check.Report) expectGroup {
	ex := Expectations(r)
	return expectGroup{Name: name, Held: held(ex), Rows: ex}
}

func dups(name string, r *check.Report) dupGroup {
	d := r.Duplicates
	g := dupGroup{Name: name, Kept: len(d.Evidence)}
	if d.Addresses == 0 {
		g.Summary = "No address was held by two clients at once (verdict " + d.Verdict.String() + ")."
		return g
	}
	g.Summary = fmt.Sprintf("%d addresses were held by two clients at once: %d client pairs, %s of overlap in total (verdict %s).",
		d.Addresses, d.Pairs, sec(d.OverlapS), d.Verdict)
	for _, e := range d.Evidence {
		addr := e.Address
		if e.Within != "" {
			addr += " within " + e.Within
		}
		g.Rows = append(g.Rows, dupRow{
			Address: addr, ClientA: e.ClientA, ClientB: e.ClientB, ServerA: e.ServerA, ServerB: e.ServerB,
			From: "+" + sec(e.From.Sub(r.Started).Seconds()), To: "+" + sec(e.To.Sub(r.Started).Seconds()), Overlap: sec(e.OverlapS),
		})
	}
	if len(g.Rows) > shownEvidence {
		g.Rows, g.Rest = g.Rows[:shownEvidence], g.Rows[shownEvidence:]
	}
	// evidence is capped per overlap; Pairs counts client pairs, so the
	// overlaps not shown are at least Pairs minus those kept
	if more := d.Pairs - len(d.Evidence); d.Truncated && more > 0 {
		g.More = more
	}
	return g
}

// dnsGroup is one run's DNS names: those with more than one AAAA and
// those stale at the end, one line each (dnsEvidence).
type dnsGroup struct {
	Name, Summary string
	Multi, Stale  []string
	More          int // names not in the evidence
}

func dnsGroups(name string, r *check.Report) []dnsGroup {
	d := r.DNS
	if d == nil || (d.Multi == 0 && d.StaleAtEnd == 0) {
		return nil
	}
	g := dnsGroup{Name: name, Summary: fmt.Sprintf(
		"At the end, %d client names had more than one AAAA record (RFC 6853 §7: nothing says which lease is active) and %d clients' names did not name exactly the addresses they held.",
		d.Multi, d.StaleAtEnd)}
	for _, n := range d.MultiEvidence {
		g.Multi = append(g.Multi, dnsEvidence(n))
	}
	for _, n := range d.StaleEvidence {
		g.Stale = append(g.Stale, dnsEvidence(n))
	}
	g.More = d.Multi + d.StaleAtEnd - len(g.Multi) - len(g.Stale)
	return []dnsGroup{g}
}

func conflictsOf(name string, r *check.Report) conflictGroup {
	c := r.Conflicts
	g := conflictGroup{Name: name, Count: c.Count}
	if c.Count == 0 {
		g.Summary = "Duplicate address detection found no address in use."
		return g
	}
	g.Summary = fmt.Sprintf("Duplicate address detection found %d addresses in use (%d distinct addresses, %d client pairs); from the grant to a usable address again: %s",
		c.Count, c.Addresses, c.Pairs, percentiles(c.DelayS, false))
	if c.Unrecovered > 0 {
		g.Summary += fmt.Sprintf("; %d never had one by the end", c.Unrecovered)
	}
	if c.Kept > 0 {
		g.Summary += fmt.Sprintf("; %d of them were kept, unusable, instead of declined (marked kept), as the Debian clients do", c.Kept)
	}
	g.Summary += "."
	for _, e := range c.Evidence {
		g.Rows = append(g.Rows, conflictRow{Address: dash(e.Address) + keptMark(e.Kept), Client: e.Client, Holder: holder(e.Holder),
			Server: dash(e.Server), At: "+" + sec(e.At.Sub(r.Started).Seconds())})
	}
	g.More = c.Count - len(c.Evidence)
	return g
}

func subtitle(r *check.Report) string {
	parts := []string{
		dash(r.Model) + " model",
		dash(r.Engine) + " engine",
		strconv.Itoa(r.Clients) + " clients",
		sec(r.DurationS) + timescale(r.Timescale),
		"fault: " + FaultText(r),
		"started " + r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
	}
	return strings.Join(parts, " · ")
}

func compareSubtitle(reps []*check.Report) string {
	if len(reps) == 0 {
		return "no runs"
	}
	r := reps[0]
	parts := []string{
		dash(r.Engine) + " engine",
		strconv.Itoa(r.Clients) + " clients per model",
		sec(r.DurationS) + " each",
		"fault: " + FaultText(r),
		"started " + r.Started.UTC().Format("2006-01-02 15:04:05 UTC"),
	}
	return strings.Join(parts, " · ")
}
