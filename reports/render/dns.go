package render

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/vg"

	"d6lab/reports/chart"
	"d6lab/reports/check"
)

// The DNS and Leasequery parts of the outputs: rows, evidence and figures
// shown only for runs that have them (check.Report.DNS, .Leasequery).

// dnsRows are the summary rows of r.DNS and r.Leasequery; none when the
// run had neither.
func dnsRows(r *check.Report) []Row {
	var rows []Row
	row := func(k, v string) { rows = append(rows, Row{k, v}) }
	if d := r.DNS; d != nil {
		row("dns records at end", fmt.Sprintf("%d (%d AAAA, %d PTR); %d names, %d with more than one AAAA",
			d.Records, d.AAAA, d.PTR, d.Names, d.Multi))
		row("dns abandoned at end", fmt.Sprintf("%d (%d AAAA, %d PTR); most at one sample %d", d.Abandoned, d.AbandonedAAAA, d.AbandonedPTR, d.AbandonedMax))
		row("dns stale names at end", strconv.Itoa(d.StaleAtEnd))
		conv := percentilesOf(d.ConvergeS, false)
		if d.ConvergeS != nil {
			conv += fmt.Sprintf(", unconverged %d", d.Unconverged)
		}
		row("dns converge p50/p99/max", conv)
		row("dns updates", dnsUpdates(d))
		died := ""
		if d.ServerDied != nil {
			died = fmt.Sprintf("; the DNS server died at +%s", sec(*d.ServerDied))
		}
		row("dns transfers", fmt.Sprintf("%d (failed %d)%s", d.Transfers, d.FailedTransfers, died))
	}
	if lq := r.Leasequery; lq != nil {
		row("leasequery queries", fmt.Sprintf("%d in %d rounds about %d clients: %d bound, %d none, %d no answer",
			lq.Asked, lq.Rounds, lq.Sampled, lq.Bound, lq.None, lq.NoAnswer))
		row("leasequery asked", lqAsked(lq))
		gap := percentilesOf(lq.GapS, false)
		if lq.GapS != nil {
			gap += fmt.Sprintf(", %d clients in the dark", lq.GapClients)
		}
		row("leasequery gap p50/p99/max", gap)
		row("leasequery stale answers", strconv.Itoa(lq.Stale))
	}
	return rows
}

// dnsUpdates is "12 (ok 11, conflict 1); by server: s1 ok 6; s2 ok 5, conflict 1".
func dnsUpdates(d *check.DNSReport) string {
	total := 0
	for _, n := range d.Updates {
		total += n
	}
	if total == 0 {
		return "0"
	}
	s := fmt.Sprintf("%d (%s)", total, counts(d.Updates))
	var per []string
	for _, srv := range sortedNames(d.UpdatesByServer) {
		per = append(per, srv+" "+counts(d.UpdatesByServer[srv]))
	}
	return s + "; by server: " + strings.Join(per, "; ")
}

// lqAsked says how each server was asked and what it answered: "s1
// rfc5007 (40 asked, 20 bound, 1 stale); s2 lease_cmds (...)".
func lqAsked(lq *check.LeasequeryReport) string {
	if len(lq.Servers) == 0 {
		return "-"
	}
	parts := make([]string, len(lq.Servers))
	for i, s := range lq.Servers {
		parts[i] = fmt.Sprintf("%s %s (%d asked, %d bound, %d none, %d no answer, %d stale)",
			s.Name, lqMethods(s), s.Asked, s.Bound, s.None, s.NoAnswer, s.Stale)
	}
	return strings.Join(parts, "; ")
}

func lqMethods(s check.LQServer) string {
	if len(s.Methods) == 0 {
		return "-"
	}
	return strings.Join(s.Methods, "+")
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// dnsEvidence is the names behind dns.multi and dns.stale_at_end, as
// lines: "h1.lab.example. (client 1): AAAA 2001:db8::1, 2001:db8::65; holds 2001:db8::65".
// A client whose name never was in the zones: "client 3, no name in the
// zones; holds 2001:db8::3".
func dnsEvidence(n check.DNSName) string {
	held := strings.Join(n.Held, ", ")
	if held == "" {
		held = "nothing"
	}
	if n.Name == "" {
		return fmt.Sprintf("client %d, no name in the zones; holds %s", n.Client, held)
	}
	aaaa := strings.Join(n.AAAA, ", ")
	if aaaa == "" {
		aaaa = "none"
	}
	return fmt.Sprintf("%s (client %d): AAAA %s; holds %s", n.Name, n.Client, aaaa, held)
}

// dnsEvidenceText writes the first MaxEvidence names of each list.
func dnsEvidenceText(b *strings.Builder, r *check.Report) {
	d := r.DNS
	if d == nil {
		return
	}
	list := func(what string, ev []check.DNSName, total int) {
		for i, n := range ev {
			if i == MaxEvidence {
				fmt.Fprintf(b, "  ... %d more %s\n", total-MaxEvidence, what)
				return
			}
			fmt.Fprintf(b, "  %s %s\n", what, dnsEvidence(n))
		}
	}
	list("multi-AAAA name", d.MultiEvidence, d.Multi)
	list("stale name", d.StaleEvidence, d.StaleAtEnd)
}

// dnsCompareRows are CompareRows' DNS and Leasequery rows: only when a
// run has them ("-" for a run without).
func dnsCompareRows(runs []*check.Report, line func(string, func(*check.Report) string)) {
	anyDNS := slices.ContainsFunc(runs, func(r *check.Report) bool { return r.DNS != nil })
	anyLQ := slices.ContainsFunc(runs, func(r *check.Report) bool { return r.Leasequery != nil })
	dns := func(f func(d *check.DNSReport) string) func(*check.Report) string {
		return func(r *check.Report) string {
			if r.DNS == nil {
				return "-"
			}
			return f(r.DNS)
		}
	}
	lq := func(f func(l *check.LeasequeryReport) string) func(*check.Report) string {
		return func(r *check.Report) string {
			if r.Leasequery == nil {
				return "-"
			}
			return f(r.Leasequery)
		}
	}
	if anyDNS {
		line("DNS records abandoned at end", dns(func(d *check.DNSReport) string { return strconv.Itoa(d.Abandoned) }))
		line("DNS multi-AAAA names", dns(func(d *check.DNSReport) string { return strconv.Itoa(d.Multi) }))
		line("DNS converge p50/p99", dns(func(d *check.DNSReport) string { return pair(d.ConvergeS) }))
		line("DNS unconverged", dns(func(d *check.DNSReport) string { return strconv.Itoa(d.Unconverged) }))
		line("DNS conflicts", dns(func(d *check.DNSReport) string { return strconv.Itoa(d.Conflicts) }))
		line("stale names at end", dns(func(d *check.DNSReport) string { return strconv.Itoa(d.StaleAtEnd) }))
		if slices.ContainsFunc(runs, func(r *check.Report) bool { return r.DNS != nil && r.DNS.ServerDied != nil }) {
			line("DNS server died", dns(func(d *check.DNSReport) string {
				if d.ServerDied == nil {
					return "-"
				}
				return "+" + sec(*d.ServerDied)
			}))
		}
	}
	if anyLQ {
		line("Leasequery gap p50/p99/max", lq(func(l *check.LeasequeryReport) string {
			if l.GapS == nil {
				return NA
			}
			if l.GapS.Count == 0 {
				return "-"
			}
			return sec(l.GapS.P50) + " / " + sec(l.GapS.P99) + " / " + sec(l.GapS.Max)
		}))
		line("Leasequery stale answers", lq(func(l *check.LeasequeryReport) string { return strconv.Itoa(l.Stale) }))
		line("Leasequery asked", lq(func(l *check.LeasequeryReport) string {
			parts := make([]string, len(l.Servers))
			for i, s := range l.Servers {
				parts[i] = s.Name + " " + lqMethods(s)
			}
			return strings.Join(parts, ", ")
		}))
	}
}

// pair is "p50 / p99" of a distribution that may be unknown or empty.
func pair(p *check.Percentiles) string {
	switch {
	case p == nil:
		return NA
	case p.Count == 0:
		return "-"
	}
	return sec(p.P50) + " / " + sec(p.P99)
}

// dnsFigure draws the records in the zones and the abandoned ones over
// time; ok is false when the run had no DNS.
func dnsFigure(run *Run, title string, w, h vg.Length) (figure, bool, error) {
	r := run.Report
	if r.DNS == nil {
		return figure{}, false, nil
	}
	s := r.DNS.Samples
	l := chart.Lines{
		Title:  title,
		XLabel: timeAxis,
		YLabel: "DNS records",
		Marks:  run.marks(),
		XMin:   0,
		XMax:   r.DurationS,
		Series: []chart.Series{
			{Name: "records", X: s.AtS, Y: ints(s.Records), Step: true},
			{Name: "abandoned", X: s.AtS, Y: ints(s.Abandoned), Step: true},
		},
	}
	b, err := l.SVG(w, h)
	f, err := svg(b, err, title,
		"The records (AAAA, PTR, DHCID) the DHCP servers put in the lab's DNS zones, as each zone transfer saw them, and the abandoned ones: AAAA and PTR records naming an address no client held at that instant (RFC 6853 §7).")
	return f, true, err
}

// lqFigure draws the Leasequery gap distribution: the share of the
// sampled affected clients in the dark for at most x seconds, one curve
// per run; ok is false when no run had a prober.
func lqFigure(runs []*Run, names []string, w, h vg.Length) (figure, bool, error) {
	title := "Leasequery gap after the fault"
	l := chart.Lines{Title: title, XLabel: "longest time no live server knew the client's binding (s)", YLabel: "sampled affected clients (%)", YMax: 100}
	end, have := 0.0, false
	for _, run := range runs {
		if lq := run.Report.Leasequery; lq != nil {
			have = true
			if n := len(run.LeasequeryGap); n > 0 {
				end = max(end, run.LeasequeryGap[n-1]*1.1)
			}
		}
	}
	if !have {
		return figure{}, false, nil
	}
	dashes := [][]vg.Length{nil, {vg.Points(7), vg.Points(3)}, {vg.Points(2), vg.Points(2)}}
	for i, run := range runs {
		if lq := run.Report.Leasequery; lq != nil && lq.GapS != nil && len(run.LeasequeryGap) > 0 {
			s := chart.CDF(names[i], run.LeasequeryGap, lq.GapS.Count, end)
			s.Dashes = dashes[i%len(dashes)]
			l.Series = append(l.Series, s)
		}
	}
	if len(l.Series) == 0 {
		return figure{Title: title, Note: "No sampled client was affected by a fault, so there is no Leasequery gap to show."}, true, nil
	}
	l.XMin, l.XMax = 0, max(end, 1)
	b, err := l.SVG(w, h)
	f, err := svg(b, err, title,
		"Per sampled affected client, the longest run of prober rounds after the fault in which it held a lease and no live server's Leasequery answer named one it held (RFC 5007); a curve at 100% from 0 s: someone could always say where each client was bound.")
	return f, true, err
}
