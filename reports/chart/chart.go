package chart

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sizes of the figures in points (1/72 in); an inlined chart scales to its
// container, keeping this aspect ratio and these text proportions.
const (
	WideWidth    vg.Length = 720
	WideHeight   vg.Length = 280
	HalfWidth    vg.Length = 400
	HalfHeight   vg.Length = 250
	legendGap    vg.Length = 10
	maxPoints              = 500 // a series longer than this is thinned for drawing
	titleSize              = 13
	labelSize              = 11
	tickSize               = 10
	legendSize             = 10
	markTextSize           = 9
)

// palette is the Okabe–Ito colour-blind-safe palette; series take its
// colours in order.
var palette = []color.Color{
	rgb(0x00, 0x72, 0xB2), // blue
	rgb(0xE6, 0x9F, 0x00), // orange
	rgb(0x00, 0x9E, 0x73), // green
	rgb(0xCC, 0x79, 0xA7), // purple
	rgb(0x56, 0xB4, 0xE9), // sky
	rgb(0xD5, 0x5E, 0x00), // vermillion
	rgb(0xF0, 0xE4, 0x42), // yellow
}

var (
	markColor = rgb(0xB0, 0x00, 0x20)
	gridColor = rgb(0xE4, 0xE4, 0xE4)
)

func rgb(r, g, b uint8) color.Color { return color.RGBA{R: r, G: g, B: b, A: 0xff} }

// Color returns the palette colour of series i.
func Color(i int) color.Color { return palette[i%len(palette)] }

// Series is one named line. X and Y have the same length.
type Series struct {
	Name string
	X, Y []float64
	// Step draws a step function: each value holds until the next X.
	Step bool
	// Color overrides the palette colour of the series' position.
	Color color.Color
	// Dashes makes the line dashed (on, off lengths); nil draws it solid.
	Dashes []vg.Length
}

// Mark is a vertical marker line at X, labelled at the top of the plot.
type Mark struct {
	X     float64
	Label string
}

// Lines is a line chart: series over a common X axis, with markers.
type Lines struct {
	Title, XLabel, YLabel string
	Series                []Series
	Marks                 []Mark
	// XMin/XMax fix the X range when XMax > XMin; otherwise it covers the
	// data and the marks.
	XMin, XMax float64
	// YMax fixes the top of the Y data range when > 0 (e.g. 100 for a
	// percentage); otherwise it is the data's maximum. The axis adds
	// headroom above it, more with marks (their labels sit at the top).
	// The Y axis starts at 0.
	YMax float64
}

// Bars is a grouped bar chart: for each category, one bar per group side
// by side, each labelled with its value.
type Bars struct {
	Title, XLabel, YLabel string
	Categories            []string
	Groups                []Group
}

// Group is one set of bars, one value per category.
type Group struct {
	Name   string
	Values []float64
}

// ErrNoData is returned when a chart has nothing to draw.
var ErrNoData = fmt.Errorf("chart: no data to draw")

// SVG draws the line chart in a w×h point canvas and returns an inline
// SVG fragment.
func (l Lines) SVG(w, h vg.Length) ([]byte, error) {
	p := newPlot(l.Title, l.XLabel, l.YLabel)
	legend := newLegend()
	xmin, xmax, ymax := math.Inf(1), math.Inf(-1), 0.0
	points := 0
	for i, s := range l.Series {
		if len(s.X) != len(s.Y) {
			return nil, fmt.Errorf("chart %q: series %q has %d x and %d y values", l.Title, s.Name, len(s.X), len(s.Y))
		}
		if len(s.X) == 0 {
			continue
		}
		points += len(s.X)
		x, y := thin(s.X, s.Y, maxPoints)
		xys := make(plotter.XYs, len(x))
		for k := range x {
			xys[k] = plotter.XY{X: x[k], Y: y[k]}
			xmin, xmax, ymax = math.Min(xmin, x[k]), math.Max(xmax, x[k]), math.Max(ymax, y[k])
		}
		line, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("chart %q: series %q: %w", l.Title, s.Name, err)
		}
		line.LineStyle = draw.LineStyle{Color: s.Color, Width: vg.Points(1.8), Dashes: s.Dashes}
		if line.LineStyle.Color == nil {
			line.LineStyle.Color = Color(i)
		}
		if s.Step {
			line.StepStyle = plotter.PostStep
		}
		p.Add(line)
		legend.Add(s.Name, line)
	}
	if points == 0 {
		return nil, fmt.Errorf("chart %q: %w", l.Title, ErrNoData)
	}
	for _, m := range l.Marks {
		xmin, xmax = math.Min(xmin, m.X), math.Max(xmax, m.X)
	}
	if l.XMax > l.XMin {
		xmin, xmax = l.XMin, l.XMax
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	switch {
	case l.YMax > 0:
		ymax = l.YMax
	case ymax <= 0:
		ymax = 1
	}
	// headroom above the data; more when marker labels sit at the top
	if len(l.Marks) > 0 {
		ymax *= 1.14
	} else if l.YMax <= 0 {
		ymax *= 1.08
	}
	p.X.Min, p.X.Max = xmin, xmax
	p.Y.Min, p.Y.Max = 0, ymax
	p.X.Tick.Marker = niceTicks{n: int(w / 80)}
	p.Y.Tick.Marker = niceTicks{n: int(h / 40)}
	if len(l.Marks) > 0 {
		mk := &marks{marks: l.Marks}
		p.Add(mk)
		legend.Add("lab event", mk)
	}
	return render(p, legend, w, h, l.Title)
}

// SVG draws the bar chart in a w×h point canvas and returns an inline SVG
// fragment.
func (b Bars) SVG(w, h vg.Length) ([]byte, error) {
	if len(b.Categories) == 0 || len(b.Groups) == 0 {
		return nil, fmt.Errorf("chart %q: %w", b.Title, ErrNoData)
	}
	p := newPlot(b.Title, b.XLabel, b.YLabel)
	legend := newLegend()
	// bars fill 80% of a category's slot, in the width the legend column
	// (drawn by render on the right) leaves to the plot
	plotW := w - 80
	if len(b.Groups) > 1 || b.Groups[0].Name != "" {
		var widest vg.Length
		for _, g := range b.Groups {
			widest = max(widest, legend.TextStyle.Rectangle(g.Name).Size().X)
		}
		plotW -= widest + legend.ThumbnailWidth + legend.Padding + legendGap
	}
	slot := plotW / vg.Length(len(b.Categories))
	bw := slot * 0.8 / vg.Length(len(b.Groups))
	if bw > 40 {
		bw = 40
	}
	labels := &barLabels{}
	ymax := 0.0
	for g, grp := range b.Groups {
		if len(grp.Values) != len(b.Categories) {
			return nil, fmt.Errorf("chart %q: group %q has %d values for %d categories", b.Title, grp.Name, len(grp.Values), len(b.Categories))
		}
		bc, err := plotter.NewBarChart(plotter.Values(grp.Values), bw)
		if err != nil {
			return nil, fmt.Errorf("chart %q: group %q: %w", b.Title, grp.Name, err)
		}
		bc.Color = Color(g)
		bc.LineStyle = draw.LineStyle{} // no outline
		bc.Offset = (vg.Length(g) - vg.Length(len(b.Groups)-1)/2) * bw
		p.Add(bc)
		if len(b.Groups) > 1 || grp.Name != "" {
			legend.Add(grp.Name, bc)
		}
		for i, v := range grp.Values {
			ymax = math.Max(ymax, v)
			labels.bars = append(labels.bars, barLabel{cat: i, offset: bc.Offset, value: v})
		}
	}
	p.Add(labels)
	p.NominalX(b.Categories...)
	p.X.Min, p.X.Max = -0.5, float64(len(b.Categories))-0.5
	p.X.Tick.Label.Font.Size = vg.Points(labelSize)
	p.Y.Min = 0
	if ymax <= 0 {
		ymax = 1
	}
	p.Y.Max = ymax * 1.15 // room for the value labels
	p.Y.Tick.Marker = niceTicks{n: int(h / 40)}
	return render(p, legend, w, h, b.Title)
}

// CDF returns the empirical cumulative distribution of sorted (ascending)
// as a step series, in percent of total (total >= len(sorted): members
// with no value keep the curve below 100%), starting at (0, 0) and held to
// xEnd when xEnd is past the last value.
func CDF(name string, sorted []float64, total int, xEnd float64) Series {
	s := Series{Name: name, Step: true, X: []float64{0}, Y: []float64{0}}
	if total < len(sorted) {
		total = len(sorted)
	}
	if total == 0 {
		return s
	}
	for i, v := range sorted {
		// a run of equal values makes one step
		if i+1 < len(sorted) && sorted[i+1] == v {
			continue
		}
		s.X = append(s.X, v)
		s.Y = append(s.Y, 100*float64(i+1)/float64(total))
	}
	if last := s.X[len(s.X)-1]; xEnd > last {
		s.X = append(s.X, xEnd)
		s.Y = append(s.Y, s.Y[len(s.Y)-1])
	}
	return s
}

func newPlot(title, xlabel, ylabel string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.Title.TextStyle.Font = sans(titleSize)
	p.Title.Padding = vg.Points(8)
	p.X.Label.Text = xlabel
	p.Y.Label.Text = ylabel
	for _, ax := range []*plot.Axis{&p.X, &p.Y} {
		ax.Label.TextStyle.Font = sans(labelSize)
		ax.Tick.Label.Font = sans(tickSize)
		ax.Padding = vg.Points(2)
		ax.LineStyle.Color = rgb(0x66, 0x66, 0x66)
		ax.Tick.LineStyle.Color = rgb(0x66, 0x66, 0x66)
	}
	p.X.Label.Padding = vg.Points(4)
	p.Y.Label.Padding = vg.Points(4)
	grid := plotter.NewGrid()
	grid.Vertical.Color = gridColor
	grid.Horizontal.Color = gridColor
	grid.Vertical.Width = vg.Points(0.6)
	grid.Horizontal.Width = vg.Points(0.6)
	p.Add(grid)
	return p
}

func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.TextStyle.Font = sans(legendSize)
	l.Left, l.Top = true, true
	l.ThumbnailWidth = vg.Points(18)
	l.Padding = vg.Points(4)
	return &l
}

func sans(size float64) font.Font {
	return font.Font{Typeface: "Liberation", Variant: "Sans", Size: vg.Points(size)}
}

// render draws p with the legend in a column on its right, and returns the
// SVG without its XML prolog and fixed size, so that it scales inline.
func render(p *plot.Plot, legend *plot.Legend, w, h vg.Length, title string) ([]byte, error) {
	doc, err := document(p, legend, w, h, title)
	if err != nil {
		return nil, err
	}
	return inline(doc, title), nil
}

// document draws the plot and its legend as a standalone SVG document.
func document(p *plot.Plot, legend *plot.Legend, w, h vg.Length, title string) ([]byte, error) {
	c := vgsvg.New(w, h)
	dc := draw.New(c)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	lw := legend.Rectangle(dc).Size().X // zero without entries
	if lw > 0 {
		lw += legendGap
	}
	p.Draw(draw.Crop(dc, 0, -lw-4, 0, -4))
	if lw > 0 {
		top := p.Title.TextStyle.Rectangle(p.Title.Text).Size().Y + p.Title.Padding + 8
		legend.Draw(draw.Crop(dc, w-lw, 0, 0, -top))
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, fmt.Errorf("chart %q: write svg: %w", title, err)
	}
	return buf.Bytes(), nil
}

var (
	prologRE = regexp.MustCompile(`(?s)^<\?xml[^>]*\?>\s*(<!--.*?-->\s*)?`)
	sizeRE   = regexp.MustCompile(`^<svg width="[^"]*" height="[^"]*"`)
)

// inline strips the prolog and the fixed size of an SVG document, and
// gives it a title for screen readers.
func inline(svg []byte, title string) []byte {
	svg = prologRE.ReplaceAll(svg, nil)
	svg = sizeRE.ReplaceAll(svg, []byte(`<svg class="chart" role="img"`))
	if title != "" {
		if i := bytes.IndexByte(svg, '>'); i >= 0 {
			t := "<title>" + escape(title) + "</title>"
			svg = append(svg[:i+1:i+1], append([]byte(t), svg[i+1:]...)...)
		}
	}
	return svg
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// thin keeps at most about n points of a series, the last one of each of n
// equal X buckets (a step function drawn from them looks the same at the
// chart's resolution), always keeping the first and last points.
func thin(x, y []float64, n int) ([]float64, []float64) {
	if len(x) <= n {
		return x, y
	}
	lo, hi := x[0], x[len(x)-1]
	if hi <= lo {
		return x[:1], y[:1]
	}
	ox, oy := []float64{x[0]}, []float64{y[0]}
	bucket := func(v float64) int { return int(float64(n) * (v - lo) / (hi - lo)) }
	for i := 1; i < len(x); i++ {
		if i+1 < len(x) && bucket(x[i+1]) == bucket(x[i]) {
			continue
		}
		ox, oy = append(ox, x[i]), append(oy, y[i])
	}
	return ox, oy
}

// marks is a plotter drawing vertical marker lines with their labels.
type marks struct{ marks []Mark }

var markStyle = draw.LineStyle{Color: markColor, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(5), vg.Points(3)}}

func (m *marks) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := text.Style{Color: markColor, Font: sans(markTextSize), Handler: p.TextHandler, XAlign: draw.XLeft, YAlign: draw.YTop}
	lastX := vg.Length(math.Inf(-1))
	row := 0
	for _, mk := range m.marks {
		x := trX(mk.X)
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(markStyle, x, c.Min.Y, x, c.Max.Y)
		if mk.Label == "" {
			continue
		}
		// labels of close marks go on successive rows
		if x-lastX < sty.Width(mk.Label)+8 {
			row++
		} else {
			row = 0
		}
		lastX = x
		lsty := sty
		tx := x + 3
		if tx+sty.Width(mk.Label) > c.Max.X {
			lsty.XAlign = draw.XRight
			tx = x - 3
		}
		c.FillText(lsty, vg.Point{X: tx, Y: c.Max.Y - 2 - vg.Length(row)*sty.Height(mk.Label)}, mk.Label)
	}
}

func (m *marks) Thumbnail(c *draw.Canvas) {
	y := c.Center().Y
	c.StrokeLine2(markStyle, c.Min.X, y, c.Max.X, y)
}

// barLabels writes each bar's value above it.
type barLabels struct{ bars []barLabel }

type barLabel struct {
	cat    int
	offset vg.Length
	value  float64
}

func (b *barLabels) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	sty := text.Style{Color: rgb(0x33, 0x33, 0x33), Font: sans(tickSize), Handler: p.TextHandler, XAlign: draw.XCenter, YAlign: draw.YBottom}
	for _, l := range b.bars {
		c.FillText(sty, vg.Point{X: trX(float64(l.cat)) + l.offset, Y: trY(l.value) + 2}, formatValue(l.value))
	}
}

func formatValue(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.3g", v)
}

// niceTicks labels about n round values (steps of 1, 2 or 5 times a
// power of ten) with unlabelled minor ticks between them.
type niceTicks struct{ n int }

func (t niceTicks) Ticks(lo, hi float64) []plot.Tick {
	n := max(t.n, 2)
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return plot.DefaultTicks{}.Ticks(lo, hi)
	}
	raw := span / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, minor := 10*mag, 5
	for _, m := range []struct {
		f     float64
		minor int
	}{{1, 5}, {2, 4}, {5, 5}, {10, 5}} {
		if m.f*mag >= raw*0.999 {
			step, minor = m.f*mag, m.minor
			break
		}
	}
	decimals := 0
	for decimals < 9 && math.Abs(step*math.Pow(10, float64(decimals))-math.Round(step*math.Pow(10, float64(decimals)))) > 1e-6 {
		decimals++
	}
	var ticks []plot.Tick
	sub := step / float64(minor)
	for k := math.Ceil(lo/sub - 1e-9); k*sub <= hi+sub*1e-9; k++ {
		v := k * sub
		if v == 0 {
			v = 0 // not -0
		}
		if int64(math.Round(k))%int64(minor) == 0 {
			ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', decimals, 64)})
		} else {
			ticks = append(ticks, plot.Tick{Value: v})
		}
	}
	return ticks
}
