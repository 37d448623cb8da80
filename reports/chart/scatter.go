package chart

import (
	"fmt"
	"math"

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
}

// Points is one named set of points. X and Y have the same length.
type Points struct {
	Name string
	X, Y []float64
}

// SVG draws the scatter chart in a w×h point canvas and returns an inline
// SVG fragment. Both axes start at 0.
func (s Scatter) SVG(w, h vg.Length) ([]byte, error) {
	p := newPlot(s.Title, s.XLabel, s.YLabel)
	legend := newLegend()
	xmax, ymax, n := 0.0, 0.0, 0
	xys := func(pts Points) (plotter.XYs, error) {
		if len(pts.X) != len(pts.Y) {
			return nil, fmt.Errorf("chart %q: %q has %d x and %d y values", s.Title, pts.Name, len(pts.X), len(pts.Y))
		}
		out := make(plotter.XYs, len(pts.X))
		for i := range pts.X {
			out[i] = plotter.XY{X: pts.X[i], Y: pts.Y[i]}
			xmax, ymax = math.Max(xmax, pts.X[i]), math.Max(ymax, pts.Y[i])
		}
		n += len(out)
		return out, nil
	}
	for i, set := range s.Sets {
		d, err := xys(set)
		if err != nil {
			return nil, err
		}
		if len(d) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(d)
		if err != nil {
			return nil, fmt.Errorf("chart %q: %q: %w", s.Title, set.Name, err)
		}
		sc.GlyphStyle = draw.GlyphStyle{Color: Color(i), Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
		p.Add(sc)
		legend.Add(set.Name, sc)
	}
	if n == 0 {
		return nil, fmt.Errorf("chart %q: %w", s.Title, ErrNoData)
	}
	if len(s.Front.X) > 0 {
		d, err := xys(s.Front)
		if err != nil {
			return nil, err
		}
		line, pts, err := plotter.NewLinePoints(d)
		if err != nil {
			return nil, fmt.Errorf("chart %q: front: %w", s.Title, err)
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
	p.X.Min, p.X.Max = 0, xmax*1.08
	p.Y.Min, p.Y.Max = 0, ymax*1.08
	p.X.Tick.Marker = niceTicks{n: int(w / 80)}
	p.Y.Tick.Marker = niceTicks{n: int(h / 40)}
	return render(p, legend, w, h, s.Title)
}
