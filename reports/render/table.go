package render

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"

	"d6lab/reports/check"
)

// MaxEvidence bounds the duplicate evidence lines Table prints.
const MaxEvidence = 5

// Row is one line of a summary: a name and its formatted value.
type Row struct{ Name, Value string }

// Summary returns the rows of one report's summary, as Table prints them
// (the HTML and Markdown pages show the same rows).
func Summary(r *check.Report) []Row {
	var rows []Row
	row := func(k, v string) { rows = append(rows, Row{k, v}) }
	row("scenario", dash(r.Scenario))
	row("model", dash(r.Model))
	row("engine", dash(r.Engine))
	row("duration", sec(r.DurationS)+timescale(r.Timescale))
	row("clients", strconv.Itoa(r.Clients))
	row("bound at end", strconv.Itoa(r.Bound))
	for _, sv := range r.Servers {
		if sv.Kind == "" {
			continue
		}
		row("server "+sv.Name, strings.TrimSpace(sv.Kind+" "+sv.Version))
		if len(sv.Notes) > 0 {
			row("server "+sv.Name+" notes", strings.Join(sv.Notes, "; "))
		}
	}
	for _, st := range r.ServerState {
		v := "not read: " + st.Error
		if st.Read {
			v = fmt.Sprintf("%d in file, %d held by clients: %d agree, %d missing, %d stale", st.File, st.Clients, st.Agree, st.Missing, st.Stale)
		}
		row("server "+st.Server+" lease file", v)
	}
	if len(r.Usage) > 0 {
		row("cpu / peak memory", usageText(r.Usage))
	}
	if ac := r.Acquire; ac.BindS.Count > 0 || ac.Never > 0 {
		row("first binding p50/p99/max", percentiles(ac.BindS, false))
		row("last first binding", fmt.Sprintf("+%s (never bound: %d)", sec(ac.LastS), ac.Never))
	}
	if l := r.Load; l != nil {
		row("server load steady / peak", loadText(l))
	}
	row("fault", FaultText(r))
	row("affected", strconv.Itoa(r.Affected))
	rb := r.Rebind
	row("rebind extended", fmt.Sprintf("%d (survivor %d, recovered %d)", rb.Extended, rb.ExtendedSurvivor, rb.ExtendedRecovered))
	row("rebind renumbered", strconv.Itoa(rb.Renumbered))
	row("rebind refused", fmt.Sprintf("%d (nobinding %d, zero %d)", rb.Refused, rb.RefusedNoBinding, rb.RefusedZero))
	row("rebind silent", strconv.Itoa(rb.Silent))
	row("rebind released", strconv.Itoa(rb.Released))
	row("rebind undecided", strconv.Itoa(rb.Undecided))
	row("rebind nobinding answers", strconv.Itoa(rb.NoBinding))
	row("rebind failure", pctOf(rb.FailureRate))
	row("re-acquisition p50/p95/p99/max", percentilesOf(r.ReacquireS, true))
	row("outage p50/p99/max", percentilesOf(r.OutageS, false))
	row("outage tentative p50/p99/max", percentilesOf(r.OutageTentativeS, false))
	row("continuity", pctOf(r.Continuity))
	row("unrecovered", strconv.Itoa(r.Unrecovered))
	// per IA type, when the affected clients held more than one (with one,
	// these rows repeat the ones above)
	if ias := affectedIAs(r); len(ias) > 1 {
		for _, ia := range ias {
			f := r.PerIA[ia]
			row(ia+" affected / unrecovered / continuity", fmt.Sprintf("%d / %d / %s", f.Affected, f.Unrecovered, pctOf(f.Continuity)))
			row(ia+" re-acquisition p50/p95/p99/max", percentilesOf(f.ReacquireS, true))
			row(ia+" outage p50/p99/max", percentilesOf(f.OutageS, false))
		}
	}
	row("duplicates", duplicates(r.Duplicates))
	row("conflicts (dad)", conflicts(r.Conflicts))
	row("binding share at end", share(r.BindingShare.Last))
	// Rows for what only some runs have: prefix delegation, stateless
	// clients, churn and Decline/Confirm.
	if pd := r.PD; pd.Servers > 0 {
		row("pd pool prefixes / clients", fmt.Sprintf("%.0f / %d (%.3g per client)", pd.PoolPrefixes, pd.Clients, pd.PoolPerClient))
		row("pd survivor share / peak", fmt.Sprintf("%.3g / %d delegated (pool use %s)", pd.SurvivorShare, pd.DelegatedPeak, pct(pd.PoolUse)))
	}
	if st := r.Stateless; st.Clients > 0 {
		row("stateless refreshes", fmt.Sprintf("%d clients, %d refreshes, %d failed (%d clients)", st.Clients, st.Refreshes, st.RefreshFailures, st.Affected))
		row("stateless outage p50/p99/max", percentiles(st.OutageS, false))
	}
	if l := r.Life; l != (check.Life{}) {
		row("released / declined", fmt.Sprintf("%d / %d", l.Released, l.Declined))
		row("confirmed / notonlink", fmt.Sprintf("%d / %d", l.Confirmed, l.NotOnLink))
		if l.Dropped > 0 {
			row("dropped addresses / unusable p50/p99/max", fmt.Sprintf("%d (%d not back) / %s", l.Dropped, l.Unrestored, percentilesOf(l.DroppedS, false)))
		}
	}
	// the lab's DNS server and Leasequery prober, when the run had them
	rows = append(rows, dnsRows(r)...)
	return rows
}

// FaultText describes the report's fault: "server_killed s1 at +5s", or
// "none".
func FaultText(r *check.Report) string {
	f := r.Fault
	if f == nil {
		return "none"
	}
	return fmt.Sprintf("%s %s at +%s", f.Kind, strings.Join(f.Servers, ","), sec(f.At.Sub(r.Started).Seconds()))
}

// Table writes one report as an aligned two-column table, followed by the
// expect results and the verdict.
func Table(w io.Writer, r *check.Report) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, x := range Summary(r) {
		fmt.Fprintf(tw, "%s\t%s\n", x.Name, x.Value)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("render table: %w", err)
	}

	var b strings.Builder
	kindTable(&b, r)
	ev := r.Duplicates.Evidence
	for i, e := range ev {
		if i == MaxEvidence {
			fmt.Fprintf(&b, "  ... %d more overlaps\n", r.Duplicates.Pairs-MaxEvidence)
			break
		}
		within := ""
		if e.Within != "" {
			within = " within " + e.Within
		}
		fmt.Fprintf(&b, "  %s%s: client %d (%s) and client %d (%s) for %s from +%s\n",
			e.Address, within, e.ClientA, e.ServerA, e.ClientB, e.ServerB,
			sec(e.OverlapS), sec(e.From.Sub(r.Started).Seconds()))
	}
	for i, c := range r.Conflicts.Evidence {
		if i == MaxEvidence {
			fmt.Fprintf(&b, "  ... %d more conflicts\n", r.Conflicts.Count-MaxEvidence)
			break
		}
		did := "declined it at"
		if c.Kept {
			did = "kept it unusable, its DAD failing at" // DADFailed: no Decline
		}
		fmt.Fprintf(&b, "  conflict %s: client %d %s +%s (held by %s, granted by %s)\n",
			dash(c.Address), c.Client, did, sec(c.At.Sub(r.Started).Seconds()), holder(c.Holder), dash(c.Server))
	}
	dnsEvidenceText(&b, r)
	gapsText(&b, r)
	if len(r.Expect) > 0 {
		b.WriteString("expect\n")
		for _, x := range r.Expect {
			mark := "PASS"
			if !x.OK {
				mark = "FAIL"
			}
			if x.Error != "" {
				fmt.Fprintf(&b, "  %s  %s %s  (%s)\n", mark, x.Name, x.Bound, x.Error)
				continue
			}
			fmt.Fprintf(&b, "  %s  %s %s  (got %s)\n", mark, x.Name, x.Bound, num(x.Value))
		}
	}
	fmt.Fprintf(&b, "verdict  %s\n", Verdict(r))
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("render table: %w", err)
	}
	return nil
}

// CompareRow is one line of a comparison: a name and one value per run.
type CompareRow struct {
	Name   string
	Values []string
}

// CompareRows returns the rows Compare prints: the first is the header,
// naming each run by its model (with the scenario when models repeat).
func CompareRows(runs []*check.Report) []CompareRow {
	rows := []CompareRow{{Name: "", Values: columnNames(runs)}}
	line := func(name string, f func(r *check.Report) string) {
		v := make([]string, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		rows = append(rows, CompareRow{name, v})
	}
	line("rebind failure", func(r *check.Report) string { return pctOf(r.Rebind.FailureRate) })
	line("re-acquisition p50", func(r *check.Report) string {
		return opt(r.ReacquireS, func(p check.Percentiles) float64 { return p.P50 })
	})
	line("re-acquisition p95", func(r *check.Report) string {
		return opt(r.ReacquireS, func(p check.Percentiles) float64 { return p.P95 })
	})
	line("re-acquisition p99", func(r *check.Report) string {
		return opt(r.ReacquireS, func(p check.Percentiles) float64 { return p.P99 })
	})
	line("outage p99", func(r *check.Report) string {
		return opt(r.OutageS, func(p check.Percentiles) float64 { return p.P99 })
	})
	line("continuity", func(r *check.Report) string { return pctOf(r.Continuity) })
	line("duplicates", func(r *check.Report) string { return strconv.Itoa(r.Duplicates.Addresses) })
	line("conflicts", func(r *check.Report) string {
		if c := r.Conflicts; c.Kept > 0 {
			return fmt.Sprintf("%d (%d kept)", c.Count, c.Kept)
		}
		return strconv.Itoa(r.Conflicts.Count)
	})
	line("conflict delay p99", func(r *check.Report) string {
		s := opt(&r.Conflicts.DelayS, func(p check.Percentiles) float64 { return p.P99 })
		if n := r.Conflicts.Unrecovered; n > 0 {
			s += fmt.Sprintf(" (never: %d)", n)
		}
		return s
	})
	line("unrecovered", func(r *check.Report) string { return strconv.Itoa(r.Unrecovered) })
	line("undecided", func(r *check.Report) string { return strconv.Itoa(r.Rebind.Undecided) })
	line("affected", func(r *check.Report) string { return strconv.Itoa(r.Affected) })
	line("bound", func(r *check.Report) string { return strconv.Itoa(r.Bound) })
	if slices.ContainsFunc(runs, func(r *check.Report) bool { return r.Load != nil }) {
		mps := func(r *check.Report, of func(*check.Load) *float64) string {
			if r.Load == nil || of(r.Load) == nil {
				return "n/a"
			}
			return strconv.FormatFloat(*of(r.Load), 'f', 1, 64) + " msg/s"
		}
		line("steady server load", func(r *check.Report) string { return mps(r, func(l *check.Load) *float64 { return l.SteadyMPS }) })
		line("peak server load", func(r *check.Report) string { return mps(r, func(l *check.Load) *float64 { return l.PeakMPS }) })
	}
	dnsCompareRows(runs, line)
	// with real clients: each kind's own figures (KindRows has them all)
	for _, kind := range kindsIn(runs) {
		of := func(r *check.Report) *check.KindReport {
			for i := range r.ByKind {
				if r.ByKind[i].Kind == kind {
					return &r.ByKind[i]
				}
			}
			return nil
		}
		line(kind+" rebind failure", func(r *check.Report) string {
			if k := of(r); k != nil {
				return pctOf(k.Rebind.FailureRate)
			}
			return "-"
		})
		line(kind+" re-acquisition p50", func(r *check.Report) string {
			if k := of(r); k != nil {
				return opt(k.ReacquireS, func(p check.Percentiles) float64 { return p.P50 })
			}
			return "-"
		})
		line(kind+" outage p99", func(r *check.Report) string {
			if k := of(r); k != nil {
				return opt(k.OutageS, func(p check.Percentiles) float64 { return p.P99 })
			}
			return "-"
		})
		if kind == check.Simulated {
			continue
		}
		line("simulated vs "+kind+" re-acq p50", func(r *check.Report) string {
			if g, ok := P50Gap(r, kind); ok {
				return fmt.Sprintf("%+.1f%%", g*100)
			}
			return "-"
		})
	}
	line("verdict", func(r *check.Report) string { return Verdict(r) })
	return rows
}

// Verdict is "PASS" when every expectation holds (check.Report.OK), else
// "FAIL".
func Verdict(r *check.Report) string {
	if r.OK() {
		return "PASS"
	}
	return "FAIL"
}

// Compare writes several reports side by side: one column per run, named
// by its model (with the scenario when models repeat).
func Compare(w io.Writer, runs []*check.Report) error {
	// right-aligned cells; the row names are padded to one width so that
	// they read left-aligned, and each value cell carries its own gap
	tw := tabwriter.NewWriter(w, 0, 0, 0, ' ', tabwriter.AlignRight)
	rows := CompareRows(runs)
	width := 0 // the longest row name
	for _, row := range rows {
		width = max(width, len(row.Name))
	}
	for _, row := range rows {
		cells := []string{fmt.Sprintf("%-*s", width, row.Name)}
		for _, v := range row.Values {
			cells = append(cells, "  "+v)
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("render compare: %w", err)
	}
	return nil
}

func columnNames(runs []*check.Report) []string {
	names := make([]string, len(runs))
	count := map[string]int{}
	for i, r := range runs {
		names[i] = r.Model
		if names[i] == "" {
			names[i] = r.Scenario
		}
		if names[i] == "" {
			names[i] = "run " + strconv.Itoa(i+1)
		}
		count[names[i]]++
	}
	seen := map[string]int{}
	for i, r := range runs {
		n := names[i]
		if count[n] < 2 {
			continue
		}
		seen[n]++
		switch v, ok := strings.CutPrefix(r.Scenario, "compare-"); {
		case ok && strings.HasPrefix(v, n):
			names[i] = v // d6lab compare's variants: identical, identical-sequential
		case r.Scenario != "" && r.Scenario != n:
			names[i] = n + " (" + r.Scenario + ")"
		default:
			names[i] += " #" + strconv.Itoa(seen[n])
		}
	}
	return names
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func timescale(t float64) string {
	if t == 0 || t == 1 {
		return ""
	}
	return " (timescale " + num(t) + ")"
}

// sec formats seconds compactly: 0s, 0.25s, 2.5s, 16s, 990s.
func sec(v float64) string {
	switch {
	case v == 0:
		return "0s"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', -1, 64) + "s"
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + "s"
	default:
		return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) + "s"
	}
}

func pct(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }

// NA is how tables show a metric that is unknown in a run (null in the
// JSON: no client was affected).
const NA = "n/a"

// pctOf shows a share that may be unknown.
func pctOf(v *float64) string {
	if v == nil {
		return NA
	}
	return pct(*v)
}

func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
}

// opt shows one percentile of p, "-" when the distribution is empty, or
// "n/a" when it is unknown.
func opt(p *check.Percentiles, v func(check.Percentiles) float64) string {
	switch {
	case p == nil:
		return NA
	case p.Count == 0:
		return "-"
	}
	return sec(v(*p))
}

// percentilesOf is percentiles of a distribution that may be unknown.
func percentilesOf(p *check.Percentiles, p95 bool) string {
	if p == nil {
		return NA
	}
	return percentiles(*p, p95)
}

// affectedIAs lists the IA types of r.PerIA with affected clients.
func affectedIAs(r *check.Report) []string {
	var out []string
	for ia, f := range r.PerIA {
		if f.Affected > 0 {
			out = append(out, ia)
		}
	}
	slices.Sort(out)
	return out
}

func conflicts(c check.Conflicts) string {
	if c.Count == 0 {
		return "0"
	}
	s := fmt.Sprintf("%d: %d addresses, %d pairs; until usable again p50/p99/max %s", c.Count, c.Addresses, c.Pairs, percentiles(c.DelayS, false))
	if c.Unrecovered > 0 {
		s += fmt.Sprintf(", never: %d", c.Unrecovered)
	}
	if c.Kept > 0 {
		s += fmt.Sprintf("; kept unusable, not declined: %d", c.Kept)
	}
	return s
}

// keptMark marks a conflict whose address the client kept (DADFailed).
func keptMark(kept bool) string {
	if kept {
		return " (kept)"
	}
	return ""
}

// holder names the host a DAD conflict found: a client, or a foreign host.
func holder(h *int) string {
	if h == nil {
		return "a host outside the population"
	}
	return "client " + strconv.Itoa(*h)
}

func percentiles(p check.Percentiles, p95 bool) string {
	if p.Count == 0 {
		return "-"
	}
	parts := []string{sec(p.P50)}
	if p95 {
		parts = append(parts, sec(p.P95))
	}
	parts = append(parts, sec(p.P99), sec(p.Max))
	return strings.Join(parts, " / ") + fmt.Sprintf("  (n=%d)", p.Count)
}

func duplicates(d check.Duplicates) string {
	if d.Verdict != check.VerdictViolated {
		return d.Verdict.String()
	}
	return fmt.Sprintf("%s: %d addresses, %d client pairs, %s overlap", d.Verdict, d.Addresses, d.Pairs, sec(d.OverlapS))
}

func share(last map[string]int) string {
	if len(last) == 0 {
		return "-"
	}
	names := make([]string, 0, len(last))
	for n := range last {
		names = append(names, n)
	}
	slices.Sort(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, last[n])
	}
	return strings.Join(parts, ", ")
}

// usageText is "clients 12.3s 210 MiB; s1 4.1s 80 MiB; ...": clients
// first, then the servers by name.
func usageText(u map[string]check.Usage) string {
	names := make([]string, 0, len(u))
	for n := range u {
		if n != "clients" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if _, ok := u["clients"]; ok {
		names = append([]string{"clients"}, names...)
	}
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %.1fs %.0f MiB", n, u[n].CPUS, float64(u[n].MaxRSSKiB)/1024)
	}
	return strings.Join(parts, "; ")
}

// loadText is the load row: "412 msg/s (s1 206, s2 206) / 1,024 msg/s
// (s1 0, s2 1,024)", n/a for an unknown figure.
func loadText(l *check.Load) string {
	names := make([]string, 0, len(l.Servers))
	for n := range l.Servers {
		names = append(names, n)
	}
	slices.Sort(names)
	part := func(total *float64, of func(check.ServerMPS) *float64) string {
		if total == nil {
			return "n/a"
		}
		var per []string
		for _, n := range names {
			v := "n/a"
			if x := of(l.Servers[n]); x != nil {
				v = strconv.FormatFloat(*x, 'f', 1, 64)
			}
			per = append(per, n+" "+v)
		}
		return strconv.FormatFloat(*total, 'f', 1, 64) + " msg/s (" + strings.Join(per, ", ") + ")"
	}
	return part(l.SteadyMPS, func(s check.ServerMPS) *float64 { return s.SteadyMPS }) + " / " +
		part(l.PeakMPS, func(s check.ServerMPS) *float64 { return s.PeakMPS })
}
