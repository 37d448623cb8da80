package chart

import (
	"bytes"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCDF(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sorted []float64
		total  int
		xEnd   float64
		x, y   []float64
	}{
		{"empty", nil, 0, 10, []float64{0}, []float64{0}},
		{"all recovered", []float64{1, 2, 2, 4}, 4, 5, []float64{0, 1, 2, 4, 5}, []float64{0, 25, 75, 100, 100}},
		{"one never recovered stays below 100%", []float64{1, 3}, 4, 0, []float64{0, 1, 3}, []float64{0, 25, 50}},
		{"total below the samples counts the samples", []float64{2}, 0, 2, []float64{0, 2}, []float64{0, 100}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := CDF("x", tc.sorted, tc.total, tc.xEnd)
			if !s.Step || !slices.Equal(s.X, tc.x) || !slices.Equal(s.Y, tc.y) {
				t.Errorf("CDF = step %v x %v y %v, want x %v y %v", s.Step, s.X, s.Y, tc.x, tc.y)
			}
		})
	}
}

func TestNiceTicks(t *testing.T) {
	labels := func(lo, hi float64, n int) []string {
		var out []string
		for _, tk := range (niceTicks{n: n}).Ticks(lo, hi) {
			if tk.Label != "" {
				out = append(out, tk.Label)
			}
		}
		return out
	}
	for _, tc := range []struct {
		lo, hi float64
		n      int
		want   []string
	}{
		{0, 65, 7, []string{"0", "10", "20", "30", "40", "50", "60"}},
		{0, 108, 6, []string{"0", "20", "40", "60", "80", "100"}},
		{0, 1080, 6, []string{"0", "200", "400", "600", "800", "1000"}},
		{-0.001, 1.5, 4, []string{"0.0", "0.5", "1.0", "1.5"}}, // no "-0"
		{0, 0.3, 3, []string{"0.0", "0.1", "0.2", "0.3"}},
	} {
		if got := labels(tc.lo, tc.hi, tc.n); !slices.Equal(got, tc.want) {
			t.Errorf("ticks(%v, %v, %d) = %q, want %q", tc.lo, tc.hi, tc.n, got, tc.want)
		}
	}
}

func TestThinKeepsEndsAndBoundsPoints(t *testing.T) {
	n := 10000
	x, y := make([]float64, n), make([]float64, n)
	for i := range x {
		x[i], y[i] = float64(i), float64(i%7)
	}
	tx, ty := thin(x, y, 100)
	if len(tx) > 102 || len(tx) != len(ty) {
		t.Fatalf("thin kept %d x and %d y points, want about 100", len(tx), len(ty))
	}
	if tx[0] != 0 || tx[len(tx)-1] != float64(n-1) || ty[len(ty)-1] != y[n-1] {
		t.Errorf("thin lost an end: first %v, last (%v, %v)", tx[0], tx[len(tx)-1], ty[len(ty)-1])
	}
	if !slices.IsSorted(tx) {
		t.Error("thin reordered the points")
	}
}

var pathRE = regexp.MustCompile(`<path d="M[^"]+L`)

func TestLinesSVGIsInlineAndDrawn(t *testing.T) {
	l := Lines{
		Title: "Bound <clients>", XLabel: "time (s)", YLabel: "clients",
		Series: []Series{{Name: "s1", X: []float64{0, 1, 2}, Y: []float64{0, 5, 3}}, {Name: "s2", X: []float64{0, 2}, Y: []float64{1, 1}, Step: true}},
		Marks:  []Mark{{X: 1, Label: "kill s1"}},
	}
	b, err := l.SVG(WideWidth, WideHeight)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, `<svg class="chart" role="img" viewBox="0 0 720 280"`) {
		t.Errorf("not an inline svg without fixed size: %.120q", s)
	}
	if strings.Contains(s, "<?xml") || strings.Contains(s, "@font-face") {
		t.Error("svg has an XML prolog or embedded fonts")
	}
	for _, want := range []string{"<title>Bound &lt;clients&gt;</title>", ">kill s1</text>", ">s1</text>", ">s2</text>", ">lab event</text>", ">time (s)</text>"} {
		if !strings.Contains(s, want) {
			t.Errorf("svg lacks %q", want)
		}
	}
	if n := len(pathRE.FindAllString(s, -1)); n < 5 { // frame, axes, two lines, the marker
		t.Errorf("svg has %d drawn paths, want the lines, axes and marker", n)
	}
	if !strings.HasSuffix(strings.TrimSpace(s), "</svg>") || bytes.Count(b, []byte("<svg")) != 1 {
		t.Error("svg is not one closed element")
	}
}

func TestNoData(t *testing.T) {
	if _, err := (Lines{Title: "empty", Series: []Series{{Name: "a"}}}).SVG(HalfWidth, HalfHeight); !errors.Is(err, ErrNoData) {
		t.Errorf("empty lines: err %v, want ErrNoData", err)
	}
	if _, err := (Bars{Title: "empty"}).SVG(HalfWidth, HalfHeight); !errors.Is(err, ErrNoData) {
		t.Errorf("empty bars: err %v, want ErrNoData", err)
	}
	if _, err := (Lines{Series: []Series{{X: []float64{1}, Y: nil}}}).SVG(HalfWidth, HalfHeight); err == nil || errors.Is(err, ErrNoData) {
		t.Errorf("mismatched series: err %v, want a length error", err)
	}
}

func TestBarsLabelEveryBar(t *testing.T) {
	b := Bars{Title: "outcomes", YLabel: "clients", Categories: []string{"extended", "renumbered"},
		Groups: []Group{{Name: "split", Values: []float64{0, 300}}, {Name: "identical", Values: []float64{297, 3}}}}
	out, err := b.SVG(HalfWidth, HalfHeight)
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, want := range []string{">extended</text>", ">renumbered</text>", ">300</text>", ">297</text>", ">3</text>", ">split</text>", ">identical</text>"} {
		if !strings.Contains(s, want) {
			t.Errorf("bar chart lacks %q", want)
		}
	}
}
