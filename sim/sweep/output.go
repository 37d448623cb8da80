package sweep

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"d6lab/reports/chart"
)

// Files a sweep writes into its output directory.
const (
	JSONFile = "sweep.json"
	HTMLFile = "sweep.html"
	SVGFile  = "sweep.svg" // Overview, standalone
)

// Sweep is sweep.json: what was swept and one row per point.
type Sweep struct {
	Scenario string   `json:"scenario"` // the base scenario's name
	File     string   `json:"file,omitempty"`
	Engine   string   `json:"engine"`
	Clients  int      `json:"clients"`
	Models   []string `json:"models"`
	Vary     []string `json:"vary"` // the axes as given: "lifetimes.valid=60s,300s"
	// Rule states how each point's fault and duration were chosen.
	Rule  string  `json:"rule"`
	WallS float64 `json:"wall_s"` // the whole sweep, wall time
	Rows  []Row   `json:"rows"`
	// Validation, when asked for, is points played again on the netns
	// engine and the agreement measured.
	Validation *Validation `json:"validation,omitempty"`
}

// FaultRule is Sweep.Rule.
const FaultRule = "clients over one t1 (or the file's or compare's ramp when longer); fault (the scenario's first kill, freeze or cut) at ramp + 2*t1 rounded up to a whole second; duration fault + valid + 30s; the file's server count, link and pools as d6lab compare builds each model"

// AxisStrings renders axes the way --vary takes them.
func AxisStrings(axes []Axis) []string {
	var out []string
	for _, a := range axes {
		s := a.Field + "="
		for i, v := range a.Values {
			if i > 0 {
				s += ","
			}
			s += v.String()
		}
		out = append(out, s)
	}
	return out
}

// Save writes sweep.json, sweep.html and sweep.svg into dir (created if
// needed).
func Save(dir string, s *Sweep) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("sweep: encode %s: %w", JSONFile, err)
	}
	if err := os.WriteFile(filepath.Join(dir, JSONFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	var h bytes.Buffer
	if err := HTML(&h, s); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, HTMLFile), h.Bytes(), 0o644); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	svg, err := Overview(s).Document(chart.WideWidth, 360)
	if err != nil {
		// No point with a measured load and re-acquisition: no chart, and
		// none left from an earlier sweep in dir.
		if rerr := os.Remove(filepath.Join(dir, SVGFile)); rerr != nil && !os.IsNotExist(rerr) {
			return fmt.Errorf("sweep: %w", rerr)
		}
		return nil
	}
	if err := os.WriteFile(filepath.Join(dir, SVGFile), svg, 0o644); err != nil {
		return fmt.Errorf("sweep: %w", err)
	}
	return nil
}
