package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"d6lab/reports/check"
)

// KindHead is the header of the breakdown by client kind (KindRows).
var KindHead = []string{"client kind", "clients", "bound", "first bound by", "first binding p50/p99", "affected",
	"rebind failure", "re-acquisition p50/p99", "outage p99", "continuity", "unrecovered", "conflicts (dad)"}

// KindRows returns one row per client kind of r.ByKind, in KindHead's
// columns; nil when the run had no real client.
func KindRows(r *check.Report) [][]string {
	var rows [][]string
	for _, k := range r.ByKind {
		first := "-"
		if k.Acquire.BindS.Count > 0 {
			first = sec(k.Acquire.BindS.P50) + " / " + sec(k.Acquire.BindS.P99)
		}
		reacq := "n/a"
		if k.ReacquireS != nil {
			reacq = sec(k.ReacquireS.P50) + " / " + sec(k.ReacquireS.P99)
		}
		rows = append(rows, []string{
			KindName(k), strconv.Itoa(k.Clients), strconv.Itoa(k.Bound), counts(k.FirstBoundBy), first,
			strconv.Itoa(k.Affected), pctOf(k.Rebind.FailureRate), reacq,
			opt(k.OutageS, func(p check.Percentiles) float64 { return p.P99 }),
			pctOf(k.Continuity), strconv.Itoa(k.Unrecovered), strconv.Itoa(k.Conflicts),
		})
	}
	return rows
}

// KindName names a kind with its version or profile: "dhclient 4.4.3-P1",
// "simulated (profile dhclient)"; a version that names its program already
// ("dhcpcd 9.4.1", "isc-dhclient-4.4.3-P1") stands alone.
func KindName(k check.KindReport) string {
	switch {
	case k.Profile != "":
		return fmt.Sprintf("%s (profile %s)", k.Kind, k.Profile)
	case strings.Contains(k.Version, k.Kind):
		return k.Version
	case k.Version != "":
		return k.Kind + " " + k.Version
	}
	return k.Kind
}

// kindTable writes the breakdown as aligned text.
func kindTable(b *strings.Builder, r *check.Report) {
	rows := KindRows(r)
	if rows == nil {
		return
	}
	b.WriteString("by client kind\n")
	defer func() {
		for _, a := range Agreement(r) {
			b.WriteString("  " + a + "\n")
		}
	}()
	all := append([][]string{KindHead}, rows...)
	width := make([]int, len(KindHead))
	for _, row := range all {
		for i, c := range row {
			width[i] = max(width[i], len(c))
		}
	}
	for _, row := range all {
		b.WriteString(" ")
		for i, c := range row {
			fmt.Fprintf(b, " %-*s", width[i], c)
		}
		b.WriteString("\n")
	}
}

// mdKinds writes the breakdown as a Markdown table.
func mdKinds(b *strings.Builder, name string, r *check.Report) {
	rows := KindRows(r)
	if rows == nil {
		return
	}
	title := "**By client kind**"
	if name != "" {
		title = "**By client kind in " + mdText(name) + "**"
	}
	b.WriteString(title + "\n\n")
	b.WriteString("| " + strings.Join(KindHead, " | ") + " |\n|" + strings.Repeat("---|", len(KindHead)) + "\n")
	for _, row := range rows {
		cells := make([]string, len(row))
		for i, c := range row {
			cells[i] = mdText(c)
		}
		b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
	}
	b.WriteString("\n")
}

// kindsIn lists the client kinds of the runs' breakdowns, in order of
// first appearance (the simulated population first).
func kindsIn(runs []*check.Report) []string {
	var kinds []string
	for _, r := range runs {
		for _, k := range r.ByKind {
			if !slices.Contains(kinds, k.Kind) {
				kinds = append(kinds, k.Kind)
			}
		}
	}
	return kinds
}

// counts writes a map of counts as "s1 3, s2 2", keys sorted; "-" when
// empty.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// P50Gap is how far the simulated clients' re-acquisition p50 is from
// the real kind's, as a share of the real one's ((sim - real) / real);
// false when either is unknown (no client of it affected).
func P50Gap(r *check.Report, kind string) (float64, bool) {
	var sim, real *check.KindReport
	for i := range r.ByKind {
		switch r.ByKind[i].Kind {
		case check.Simulated:
			sim = &r.ByKind[i]
		case kind:
			real = &r.ByKind[i]
		}
	}
	if sim == nil || real == nil || sim.ReacquireS == nil || real.ReacquireS == nil || real.ReacquireS.P50 == 0 {
		return 0, false
	}
	return (sim.ReacquireS.P50 - real.ReacquireS.P50) / real.ReacquireS.P50, true
}

// Agreement says, per real kind of r, how the simulated clients'
// re-acquisition p50 compares with it: "re-acquisition p50: simulated
// (profile dhclient) 17.5s, dhclient 17.2s: +1.7 %"; and, when both
// dropped addresses (Life.Dropped), how long those stayed unusable:
// "dropped address unusable p50: simulated (profile dhcpcd) 2.6s, dhcpcd
// 2.9s: -10.3 %".
func Agreement(r *check.Report) []string {
	var out []string
	var sim check.KindReport
	for _, k := range r.ByKind {
		if k.Kind == check.Simulated {
			sim = k
		}
	}
	for _, k := range r.ByKind {
		if k.Kind == check.Simulated {
			continue
		}
		if gap, ok := P50Gap(r, k.Kind); ok {
			out = append(out, fmt.Sprintf("re-acquisition p50: %s %s, %s %s: %+.1f %%",
				KindName(sim), sec(sim.ReacquireS.P50), k.Kind, sec(k.ReacquireS.P50), gap*100))
		}
		if s, c := sim.DroppedS, k.DroppedS; s != nil && c != nil && c.P50 > 0 {
			out = append(out, fmt.Sprintf("dropped address unusable p50: %s %s, %s %s: %+.1f %%",
				KindName(sim), sec(s.P50), k.Kind, sec(c.P50), (s.P50-c.P50)/c.P50*100))
		}
	}
	return out
}
