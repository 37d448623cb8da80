package render

import (
	"fmt"
	"strings"

	"d6lab/reports/check"
)

// GapRow is one gap of a run's profile as every output shows it: what it
// concerns, what the real client does, what the simulated one does
// instead, and what it amounted to in the run (check.GapReport).
type GapRow struct {
	Concerns, Real, Simulated, Here string
}

// Gaps lists the gaps of r's profile the run met (check.Report.Gaps):
// where the simulated clients' figures and the real client kind's would
// differ, and by how much.
func Gaps(r *check.Report) []GapRow {
	var out []GapRow
	for _, g := range r.Gaps {
		concerns := g.When // a gap no parameter concerns: its trigger alone
		if g.Param != "" {
			concerns = g.Param + " · " + g.When
		}
		out = append(out, GapRow{Concerns: concerns, Real: g.Real, Simulated: g.Simulated, Here: g.Effect})
	}
	return out
}

// gapsTitle heads a run's gaps: "What profile dhcpcd does not model".
func gapsTitle(r *check.Report) string {
	return fmt.Sprintf("What profile %s does not model", r.Profile)
}

// mdGaps writes the run's profile gaps, when it met any.
func mdGaps(b *strings.Builder, name string, r *check.Report) {
	rows := Gaps(r)
	if len(rows) == 0 {
		return
	}
	title := gapsTitle(r)
	if name != "" {
		title += " in " + name
	}
	fmt.Fprintf(b, "**%s** (the real client's behaviour against the simulated clients'; clientsim/profile/profiles.yaml):\n\n", mdText(title))
	b.WriteString("| concerns | real client | simulated clients | in this run |\n|---|---|---|---|\n")
	for _, g := range rows {
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", mdText(g.Concerns), mdText(g.Real), mdText(g.Simulated), mdText(g.Here))
	}
	b.WriteString("\n")
}

// gapsText writes the run's profile gaps for the terminal: one line each.
func gapsText(b *strings.Builder, r *check.Report) {
	for _, g := range Gaps(r) {
		fmt.Fprintf(b, "  not modelled (profile %s, %s): %s; real client: %s\n", r.Profile, g.Concerns, g.Here, g.Real)
	}
}

// gapGroup is one run's gaps on the HTML page.
type gapGroup struct {
	Name, Title string
	Rows        []GapRow
}

func gapsOf(name string, r *check.Report) []gapGroup {
	rows := Gaps(r)
	if len(rows) == 0 {
		return nil
	}
	return []gapGroup{{Name: name, Title: gapsTitle(r), Rows: rows}}
}
