package render

import (
	"errors"
	"html/template"
	"math"
	"slices"

	"gonum.org/v1/plot/vg"

	"d6lab/reports/chart"
	"d6lab/reports/check"
)

// figure is one chart of a page, or the note saying why there is none.
type figure struct {
	Title   string
	SVG     template.HTML // inline SVG drawn by package chart; empty: see Note
	Caption string
	Note    string
	Wide    bool // spans the page's two columns
}

// svg wraps chart output; the charts are made by package chart from
// numbers only (every text in them is escaped), so they are safe to inline.
func svg(b []byte, err error, title, caption string) (figure, error) {
	f := figure{Title: title, Caption: caption}
	if errors.Is(err, chart.ErrNoData) {
		f.Note = "Nothing to draw: the run has no data for this figure."
		return f, nil
	}
	if err != nil {
		return f, err
	}
	f.SVG = template.HTML(b) //nolint:gosec // generated SVG, see above
	return f, nil
}

const (
	timeAxis  = "time since the run started (s)"
	faultAxis = "time since the fault (s)"
)

// boundFigure draws the bound clients per server over time.
func boundFigure(run *Run, title string, w, h vg.Length) (figure, error) {
	r := run.Report
	bs := r.BindingShare
	l := chart.Lines{
		Title:  title,
		XLabel: timeAxis,
		YLabel: "clients bound",
		Marks:  run.marks(),
		XMin:   0,
		XMax:   r.DurationS,
	}
	for _, name := range serverNames(bs) {
		l.Series = append(l.Series, chart.Series{Name: name, X: bs.AtS, Y: ints(bs.Series[name])})
	}
	b, err := l.SVG(w, h)
	return svg(b, err, title,
		"Bindings each server granted or last extended, sampled every "+sec(bs.StepS)+"; dashed lines mark the faults and other lab events.")
}

// driftFigure draws each server's share of the valid bindings over time.
func driftFigure(run *Run, title string, w, h vg.Length) (figure, error) {
	r := run.Report
	bs := r.BindingShare
	names := serverNames(bs)
	l := chart.Lines{
		Title:  title,
		XLabel: timeAxis,
		YLabel: "share of bindings (%)",
		Marks:  run.marks(),
		XMin:   0,
		XMax:   r.DurationS,
		YMax:   100,
	}
	series := make([]chart.Series, len(names))
	for i, n := range names {
		series[i].Name = n
	}
	for k, at := range bs.AtS {
		total := 0
		for _, n := range names {
			if k < len(bs.Series[n]) {
				total += bs.Series[n][k]
			}
		}
		if total == 0 {
			continue // no share to speak of
		}
		for i, n := range names {
			series[i].X = append(series[i].X, at)
			series[i].Y = append(series[i].Y, 100*float64(bs.Series[n][k])/float64(total))
		}
	}
	l.Series = series
	b, err := l.SVG(w, h)
	return svg(b, err, title,
		"Each server's part of the bindings valid at each sample; RFC 6853 warns that the servers' shares drift apart after a failover.")
}

// cdfFigure draws the cumulative distribution of re-acquisition times,
// one curve per run.
func cdfFigure(runs []*Run, names []string, w, h vg.Length) (figure, error) {
	title := "Re-acquisition time after the fault"
	l := chart.Lines{
		Title:  title,
		XLabel: faultAxis,
		YLabel: "affected clients re-bound (%)",
		YMax:   100,
	}
	end := 0.0
	for _, run := range runs {
		if n := len(run.Reacquire); n > 0 {
			end = math.Max(end, run.Reacquire[n-1]*1.1)
		}
		if r := run.Report; r.Unrecovered > 0 && r.Fault != nil {
			end = math.Max(end, r.Ended.Sub(r.Fault.At).Seconds())
		}
	}
	dashes := [][]vg.Length{nil, {vg.Points(7), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}
	for i, run := range runs {
		if run.Report.Affected == 0 {
			continue
		}
		s := chart.CDF(names[i], run.Reacquire, run.Report.Affected, end)
		s.Dashes = dashes[i%len(dashes)]
		l.Series = append(l.Series, s)
	}
	if len(l.Series) == 0 {
		return figure{Title: title, Note: "No client was affected by a fault in this run, so there is no re-acquisition time to show."}, nil
	}
	l.XMin, l.XMax = 0, end
	if end <= 0 {
		l.XMax = 1
	}
	b, err := l.SVG(w, h)
	return svg(b, err, title,
		"Share of the affected clients holding a usable binding (past its DAD time) from a live server again, by time since the fault; a curve that stays below 100% has clients that never recovered.")
}

// outcomeFigure draws the rebind outcomes, one bar group per run.
func outcomeFigure(runs []*Run, names []string, w, h vg.Length) (figure, error) {
	title := "Rebind outcome of the affected clients"
	cats := []string{"extended", "renumbered", "refused: NoBinding", "refused: zero lifetimes", "refused: other", "silent", "released", "undecided"}
	vals := func(rb check.Rebind) []float64 {
		return []float64{float64(rb.Extended), float64(rb.Renumbered), float64(rb.RefusedNoBinding), float64(rb.RefusedZero),
			float64(rb.Refused - rb.RefusedNoBinding - rb.RefusedZero), float64(rb.Silent), float64(rb.Released), float64(rb.Undecided)}
	}
	bars := chart.Bars{Title: title, YLabel: "affected clients"}
	used := make([]bool, len(cats))
	affected := 0
	for i, run := range runs {
		v := vals(run.Report.Rebind)
		bars.Groups = append(bars.Groups, chart.Group{Name: names[i], Values: v})
		affected += run.Report.Affected
		for k, x := range v {
			used[k] = used[k] || x != 0
		}
	}
	if affected == 0 {
		return figure{Title: title, Note: "No client was affected by a fault in this run, so there is no rebind outcome to show."}, nil
	}
	// keep the categories some run has, and always the first two
	used[0], used[1] = true, true
	for k := len(cats) - 1; k >= 0; k-- {
		if used[k] {
			continue
		}
		cats = slices.Delete(cats, k, k+1)
		for g := range bars.Groups {
			bars.Groups[g].Values = slices.Delete(bars.Groups[g].Values, k, k+1)
		}
	}
	bars.Categories = cats
	if len(runs) == 1 {
		bars.Groups[0].Name = ""
	}
	b, err := bars.SVG(w, h)
	return svg(b, err, title,
		"First outcome after the fault of each client whose binding came from a faulted server: kept its address (extended), got a new one in the Rebind's Reply (renumbered), was told to start over (refused), heard nothing before expiry (silent), or gave the lease up itself (released).")
}

func serverNames(bs check.BindingShare) []string {
	names := make([]string, 0, len(bs.Series))
	for n := range bs.Series {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func ints(v []int) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// runNames names runs for legends: their model, or as Compare's columns.
func runNames(runs []*Run) []string {
	reps := make([]*check.Report, len(runs))
	for i, r := range runs {
		reps[i] = r.Report
	}
	return columnNames(reps)
}
