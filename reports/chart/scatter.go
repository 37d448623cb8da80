package chart

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Scatter is a chart of points, each set in its colour, with an optional
// front: a step line through the points no other point beats on both axes
// (both smaller is better), drawn over them.
type Scatter struct {
	Title, XLabel, YLabel string
	Sets                  []Points
	// Front is drawn as a dashed step line with larger markers; empty:
	// none.
	Front Points
	// Log draws both axes on a logarithmic scale (for values spanning
	// decades); points with a coordinate <= 0 are left out.
	Log bool
}

// Points is one named set of points. X and Y have the same length.
type Points struct {
	Name string
	X, Y []float64
}

// SVG draws the scatter chart in a w×h point canvas and returns an inline
// SVG fragment. Both axes start at 0 (Log: at the smallest value).
func (s Scatter) SVG(w, h vg.Length) ([]byte, error) {
	p, legend, err := s.plot(w, h)
	if err != nil {
		return nil, err
	}
	return render(p, legend, w, h, s.Title)
}

// Document is SVG as a standalone SVG file (for a page that embeds it as
// an image).
func (s Scatter) Document(w, h vg.Length) ([]byte, error) {
	p, legend, err := s.plot(w, h)
	if err != nil {
		return nil, err
	}
	return document(p, legend, w, h, s.Title)
}

// shapes tell the sets apart where their points coincide: a filled
// circle, an open square, a cross, an open triangle, again in turn.
var shapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.BoxGlyph{}, draw.CrossGlyph{}, draw.TriangleGlyph{}}

func (s Scatter) plot(w, h vg.Length) (*plot.Plot, *plot.Legend, error) {
	p := newPlot(s.Title, s.XLabel, s.YLabel)
	legend := newLegend()
	xmax, ymax, n := 0.0, 0.0, 0
	xmin, ymin := math.Inf(1), math.Inf(1)
	xys := func(pts Points) (plotter.XYs, error) {
		if len(pts.X) != len(pts.Y) {
			return nil, fmt.Errorf("chart %q: %q has %d x and %d y values", s.Title, pts.Name, len(pts.X), len(pts.Y))
		}
		out := make(plotter.XYs, 0, len(pts.X))
		for i := range pts.X {
			if s.Log && (pts.X[i] <= 0 || pts.Y[i] <= 0) {
				continue
			}
			out = append(out, plotter.XY{X: pts.X[i], Y: pts.Y[i]})
			xmax, ymax = math.Max(xmax, pts.X[i]), math.Max(ymax, pts.Y[i])
			xmin, ymin = math.Min(xmin, pts.X[i]), math.Min(ymin, pts.Y[i])
		}
		n += len(out)
		return out, nil
	}
	for i, set := range s.Sets {
		d, err := xys(set)
		if err != nil {
			return nil, nil, err
		}
		if len(d) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(d)
		if err != nil {
			return nil, nil, fmt.Errorf("chart %q: %q: %w", s.Title, set.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: Color(i), Radius: vg.Points(3.5), Shape: shapes[i%len(shapes)]}
		p.Add(sc)
		legend.Add(set.Name, sc)
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("chart %q: %w", s.Title, ErrNoData)
	}
	if len(s.Front.X) > 0 {
		d, err := xys(s.Front)
		if err != nil {
			return nil, nil, err
		}
		line, pts, err := plotter.NewLinePoints(d)
		if err != nil {
			return nil, nil, fmt.Errorf("chart %q: front: %w", s.Title, err)
		}
		line.LineStyle = draw.LineStyle{Color: markColor, Width: vg.Points(1.2), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
		line.StepStyle = plotter.PostStep
		pts.GlyphStyle = draw.GlyphStyle{Color: markColor, Radius: vg.Points(5), Shape: draw.RingGlyph{}}
		p.Add(line, pts)
		legend.Add(s.Front.Name, line, pts)
	}
	if xmax <= 0 {
		xmax = 1
	}
	if ymax <= 0 {
		ymax = 1
	}
	if s.Log {
		p.X.Scale, p.Y.Scale = plot.LogScale{}, plot.LogScale{}
		p.X.Tick.Marker, p.Y.Tick.Marker = plot.LogTicks{Prec: -1}, plot.LogTicks{Prec: -1}
		p.X.Min, p.X.Max = xmin/1.3, xmax*1.3
		p.Y.Min, p.Y.Max = ymin/1.3, ymax*1.3
		return p, legend, nil
	}
	p.X.Min, p.X.Max = 0, xmax*1.08
	p.Y.Min, p.Y.Max = 0, ymax*1.08
	p.X.Tick.Marker = niceTicks{n: int(w / 80)}
	p.Y.Tick.Marker = niceTicks{n: int(h / 40)}
	return p, legend, nil
}
