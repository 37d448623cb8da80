package sweep

import (
	"fmt"
	"html/template"
	"io"
	"strconv"

	"d6lab/reports/chart"
)

// HTML writes sweep.html: one self-contained page (inline SVG, no script,
// no network). Per model: steady server load (all servers, messages/s)
// against outage p99 and against re-acquisition p99, every point in the
// model's colour and the Pareto front marked, then the model's table.
func HTML(w io.Writer, s *Sweep) error {
	page := htmlPage{Sweep: s}
	if svg, err := Overview(s).SVG(chart.WideWidth, 360); err == nil {
		page.Overview = template.HTML(svg) //nolint:gosec // our own SVG
	}
	for mi, m := range s.Models {
		sec := htmlModel{Name: m}
		var idx []int
		for i := range s.Rows {
			if s.Rows[i].Model == m {
				idx = append(idx, i)
				sec.Rows = append(sec.Rows, htmlRow(&s.Rows[i]))
			}
		}
		for _, ax := range []struct {
			title, label string
			y            func(*Row) *float64
		}{
			{"outage p99", "outage p99 (s)", func(r *Row) *float64 { return r.OutageP99 }},
			{"re-acquisition p99", "re-acquisition p99 (s)", func(r *Row) *float64 { return r.ReacquireP99 }},
		} {
			var pts, front chart.Points
			pts.Name, front.Name = m+" points", "Pareto front"
			for _, i := range idx {
				r := &s.Rows[i]
				if r.SteadyMPS != nil && ax.y(r) != nil {
					pts.X, pts.Y = append(pts.X, *r.SteadyMPS), append(pts.Y, *ax.y(r))
				}
			}
			for _, i := range Front(s.Rows, idx, ax.y) {
				front.X, front.Y = append(front.X, *s.Rows[i].SteadyMPS), append(front.Y, *ax.y(&s.Rows[i]))
			}
			c := chart.Scatter{
				Title:  fmt.Sprintf("%s: steady server load against %s", m, ax.title),
				XLabel: "steady load, all servers (messages/s)", YLabel: ax.label,
				Sets: []chart.Points{pts}, Front: front,
			}
			// keep the model's colour across the page
			for range mi {
				c.Sets = append([]chart.Points{{Name: ""}}, c.Sets...)
			}
			svg, err := c.SVG(chart.HalfWidth, chart.HalfHeight)
			if err != nil {
				sec.Charts = append(sec.Charts, template.HTML(`<p class="note">`+template.HTMLEscapeString(err.Error())+`</p>`))
				continue
			}
			sec.Charts = append(sec.Charts, template.HTML(svg)) //nolint:gosec // our own SVG
		}
		page.Models = append(page.Models, sec)
	}
	if err := pageTmpl.Execute(w, page); err != nil {
		return fmt.Errorf("sweep: write %s: %w", HTMLFile, err)
	}
	return nil
}

type htmlPage struct {
	*Sweep
	Overview template.HTML
	Models   []htmlModel
}

// Overview is the sweep's chart of every model: the busiest server's
// steady load against re-acquisition p99, one colour per model, both axes
// logarithmic (lifetimes span decades). SVGFile is it as a file.
func Overview(s *Sweep) chart.Scatter {
	c := chart.Scatter{
		Title:  fmt.Sprintf("%s, %d clients: server load against re-acquisition p99", s.Scenario, s.Clients),
		XLabel: "steady load of the busiest server (messages/s)", YLabel: "re-acquisition p99 (s)", Log: true,
	}
	for _, m := range s.Models {
		set := chart.Points{Name: m}
		for i := range s.Rows {
			r := &s.Rows[i]
			if b := r.Busiest(); r.Model == m && b != nil && r.ReacquireP99 != nil {
				set.X, set.Y = append(set.X, *b), append(set.Y, *r.ReacquireP99)
			}
		}
		c.Sets = append(c.Sets, set)
	}
	return c
}

type htmlModel struct {
	Name   string
	Charts []template.HTML
	Rows   []htmlCells
}

type htmlCells struct {
	Cells []string
	Front bool
}

var htmlHeader = []string{"point", "t1", "t2", "pref", "valid", "fault", "steady msg/s", "peak msg/s", "rebind fail", "reacq p50", "reacq p99", "outage p99", "continuity", "dup", "unrec", "front"}

func htmlRow(r *Row) htmlCells {
	f := func(p *float64, d int) string {
		if p == nil {
			return "n/a"
		}
		return strconv.FormatFloat(*p, 'f', d, 64)
	}
	n := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "s" }
	front := ""
	switch {
	case r.ParetoOutage && r.ParetoReacquire:
		front = "outage, reacq"
	case r.ParetoOutage:
		front = "outage"
	case r.ParetoReacquire:
		front = "reacq"
	}
	return htmlCells{Front: front != "", Cells: []string{
		strconv.Itoa(r.Grid + 1), n(r.T1S), n(r.T2S), n(r.PreferredS), n(r.ValidS), n(r.FaultS),
		f(r.SteadyMPS, 1), f(r.PeakMPS, 0), f(r.RebindFailure, 3), f(r.ReacquireP50, 2), f(r.ReacquireP99, 2),
		f(r.OutageP99, 2), f(r.Continuity, 3), strconv.Itoa(r.Duplicates), strconv.Itoa(r.Unrecovered), front,
	}}
}

// htmlFuncs format the validation table: a value and a relative
// difference, "n/a" when unknown.
var htmlFuncs = template.FuncMap{
	"header": func() []string { return htmlHeader },
	"val": func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return strconv.FormatFloat(*p, 'f', 2, 64)
	},
	"pct": func(p *float64) string {
		if p == nil {
			return "n/a"
		}
		return strconv.FormatFloat(100**p, 'f', 1, 64) + " %"
	},
	"inc":    func(i int) int { return i + 1 },
	"mulPct": func(f float64) float64 { return 100 * f },
}

var pageTmpl = template.Must(template.New("sweep").Funcs(htmlFuncs).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>d6lab sweep: {{.Scenario}}</title>
<style>
body{font-family:"Liberation Sans",Arial,Helvetica,sans-serif;color:#1d1d1f;background:#f6f7f9;margin:0}
main{max-width:1120px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid #d8dbe0}
.sub{color:#555;margin:0 0 12px}
table{border-collapse:collapse;background:#fff;font-size:13px;margin:0 0 8px}
th,td{padding:3px 8px;border:1px solid #dfe2e6;text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef0f3;font-weight:600}
tr.front td{background:#fff4f4}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:14px;margin-bottom:12px}
figure{margin:0;background:#fff;border:1px solid #dfe2e6;padding:8px}
svg.chart{width:100%;height:auto;display:block}
.note{background:#fff;border:1px dashed #c8ccd2;padding:10px;color:#555;font-size:14px}
</style>
</head>
<body>
<main>
<h1>d6lab sweep: {{.Scenario}}</h1>
<p class="sub">{{.Engine}} engine, {{.Clients}} clients, models {{range $i, $m := .Models}}{{if $i}}, {{end}}{{$m.Name}}{{end}}; {{len .Rows}} runs in {{printf "%.1f" .WallS}} s.<br>
vary: {{range $i, $v := .Vary}}{{if $i}} {{end}}<code>{{$v}}</code>{{end}}<br>
{{.Rule}}.<br>
Steady load: all servers' received messages per second from the last binding before the fault to the fault; peak: the most in one second from the fault on. The front (red rings, shaded rows) holds the points no other point of the model beats on both load and the delay.</p>
{{with .Overview}}<figure>{{.}}</figure>{{end}}
{{with .Validation}}
<h2>Validation: points played again in {{.Engine}}</h2>
<p class="sub">{{if .OK}}Every metric agrees{{else}}<strong>Some metric disagrees</strong>{{end}} within {{printf "%.0f" (mulPct .Tolerance)}} % (|{{.Engine}} &minus; sweep| / sweep).</p>
<table>
<tr><th>point</th><th>model</th><th>lifetimes</th><th>metric</th><th>sweep</th><th>{{.Engine}}</th><th>difference</th><th>agrees</th></tr>
{{range .Points}}{{$p := .}}{{range .Metrics}}<tr><td>{{inc $p.Point}}</td><td>{{$p.Model}}</td><td>{{$p.Lifetimes}}</td><td>{{.Metric}}</td><td>{{val .Sweep}}</td><td>{{val .Again}}</td><td>{{pct .Diff}}</td><td>{{if .OK}}yes{{else}}NO{{end}}</td></tr>
{{end}}{{end}}</table>
{{end}}
{{range .Models}}
<h2>{{.Name}}</h2>
<div class="grid">{{range .Charts}}<figure>{{.}}</figure>{{end}}</div>
<table>
<tr>{{range header}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr{{if .Front}} class="front"{{end}}>{{range .Cells}}<td>{{.}}</td>{{end}}</tr>
{{end}}</table>
{{end}}
</main>
</body>
</html>
`))
