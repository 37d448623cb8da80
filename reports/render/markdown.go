package render

import (
	"fmt"
	"io"
	"strings"

	"d6lab/reports/check"
)

// MarkdownEvidence bounds the duplicate evidence rows the Markdown summary
// shows.
const MarkdownEvidence = 5

// Markdown writes report.md: a summary of one run that reads well in a
// pull-request comment (the summary table, the expectations, the duplicate
// count with the first evidence rows).
func Markdown(w io.Writer, r *check.Report) error { return markdownRun(w, r, nil) }

// markdownRun is Markdown with a closing line linking extra files of the
// run directory (clients.pcap), when there are any.
func markdownRun(w io.Writer, r *check.Report, extra []string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s d6lab · %s: %s\n\n", mark(r.OK()), mdText(dash(r.Scenario)), Verdict(r))
	fmt.Fprintf(&b, "%s\n\n", mdText(subtitle(r)))
	b.WriteString("| metric | value |\n|---|---|\n")
	for _, x := range Summary(r) {
		fmt.Fprintf(&b, "| %s | %s |\n", mdText(x.Name), mdText(x.Value))
	}
	b.WriteString("\n")
	mdKinds(&b, "", r)
	mdExpect(&b, []string{""}, []*check.Report{r})
	mdDuplicates(&b, "", r)
	mdConflicts(&b, "", r)
	mdGaps(&b, "", r)
	mdDNS(&b, "", r)
	if len(extra) > 0 {
		links := make([]string, len(extra))
		for i, f := range extra {
			links[i] = fmt.Sprintf("[%s](%s)", mdText(f), f)
		}
		fmt.Fprintf(&b, "\nAlso in this directory: %s\n", strings.Join(links, " · "))
	}
	return writeString(w, b.String(), "render markdown")
}

// MarkdownCompare writes the report.md of a comparison: the side-by-side
// table, every run's expectations in one table, and each run's duplicates.
func MarkdownCompare(w io.Writer, runs []*check.Report) error {
	var b strings.Builder
	ok := true
	for _, r := range runs {
		ok = ok && r.OK()
	}
	verdict := "PASS"
	if !ok {
		verdict = "FAIL"
	}
	rows := CompareRows(runs)
	names := rows[0].Values
	fmt.Fprintf(&b, "### %s d6lab compare · %s: %s\n\n", mark(ok), mdText(strings.Join(names, " vs ")), verdict)
	fmt.Fprintf(&b, "%s\n\n", mdText(compareSubtitle(runs)))
	b.WriteString("| |")
	for _, n := range names {
		fmt.Fprintf(&b, " %s |", mdText(n))
	}
	b.WriteString("\n|---|" + strings.Repeat("--:|", len(names)) + "\n")
	for _, row := range rows[1:] {
		fmt.Fprintf(&b, "| %s |", mdText(row.Name))
		for _, v := range row.Values {
			fmt.Fprintf(&b, " %s |", mdText(v))
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for i, r := range runs {
		mdKinds(&b, names[i], r)
	}
	mdExpect(&b, names, runs)
	for i, r := range runs {
		mdDuplicates(&b, names[i], r)
	}
	for i, r := range runs {
		mdConflicts(&b, names[i], r)
	}
	for i, r := range runs {
		mdGaps(&b, names[i], r)
	}
	for i, r := range runs {
		mdDNS(&b, names[i], r)
	}
	return writeString(w, b.String(), "render markdown")
}

// mdExpect writes the expectations of the runs as one table, with a run
// column when there are several.
func mdExpect(b *strings.Builder, names []string, runs []*check.Report) {
	total, hold := 0, 0
	for _, r := range runs {
		ex := Expectations(r)
		total += len(ex)
		hold += held(ex)
	}
	fmt.Fprintf(b, "**Expectations: %d of %d hold**\n\n", hold, total)
	multi := len(runs) > 1
	if multi {
		b.WriteString("| | run | metric | bound | measured |\n|---|---|---|---|--:|\n")
	} else {
		b.WriteString("| | metric | bound | measured |\n|---|---|---|--:|\n")
	}
	for i, r := range runs {
		for _, e := range Expectations(r) {
			name := "`" + e.Name + "`"
			if e.Implicit {
				name += " (implicit: no address held twice)"
			}
			measured := mdText(e.Measured)
			switch {
			case e.Unknown:
				measured = mdText(e.Measured + " (" + e.Error + ")")
			case e.Error != "":
				measured = mdText(e.Error)
			}
			run := ""
			if multi {
				run = " " + mdText(names[i]) + " |"
			}
			fmt.Fprintf(b, "| %s |%s %s | `%s` | %s |\n", mark(e.OK), run, name, e.Bound, measured)
		}
	}
	b.WriteString("\n")
}

func mdDuplicates(b *strings.Builder, name string, r *check.Report) {
	d := r.Duplicates
	prefix := "**Duplicates**"
	if name != "" {
		prefix = "**Duplicates in " + mdText(name) + "**"
	}
	if d.Addresses == 0 {
		fmt.Fprintf(b, "%s: none (verdict %s).\n\n", prefix, d.Verdict)
		return
	}
	fmt.Fprintf(b, "%s: %d addresses held by two clients at once, %d client pairs, %s of overlap (verdict %s).",
		prefix, d.Addresses, d.Pairs, sec(d.OverlapS), d.Verdict)
	n := min(len(d.Evidence), MarkdownEvidence)
	if n < len(d.Evidence) || d.Truncated {
		fmt.Fprintf(b, " The first %d:", n)
	}
	b.WriteString("\n\n| address | client A (server) | client B (server) | from | overlap |\n|---|---|---|--:|--:|\n")
	for _, e := range d.Evidence[:n] {
		addr := "`" + e.Address + "`"
		if e.Within != "" {
			addr += " within `" + e.Within + "`"
		}
		fmt.Fprintf(b, "| %s | %d (%s) | %d (%s) | +%s | %s |\n", addr, e.ClientA, mdText(e.ServerA), e.ClientB, mdText(e.ServerB),
			sec(e.From.Sub(r.Started).Seconds()), sec(e.OverlapS))
	}
	b.WriteString("\n")
}

// mdConflicts writes the run's DAD conflicts, when it had any.
func mdConflicts(b *strings.Builder, name string, r *check.Report) {
	c := r.Conflicts
	if c.Count == 0 {
		return
	}
	prefix := "**Address conflicts (DAD)**"
	if name != "" {
		prefix = "**Address conflicts (DAD) in " + mdText(name) + "**"
	}
	fmt.Fprintf(b, "%s: %d addresses caught by DAD because another host held them (%d distinct, %d client pairs); until usable again p50/p99/max %s",
		prefix, c.Count, c.Addresses, c.Pairs, mdText(percentiles(c.DelayS, false)))
	if c.Unrecovered > 0 {
		fmt.Fprintf(b, "; never: %d", c.Unrecovered)
	}
	if c.Kept > 0 {
		fmt.Fprintf(b, "; %d of them kept, unusable, instead of declined (marked kept)", c.Kept)
	}
	b.WriteString(".")
	n := min(len(c.Evidence), MarkdownEvidence)
	if n < c.Count {
		fmt.Fprintf(b, " The first %d:", n)
	}
	b.WriteString("\n\n| address | client | held by | granted by | at |\n|---|--:|---|---|--:|\n")
	for _, e := range c.Evidence[:n] {
		fmt.Fprintf(b, "| `%s`%s | %d | %s | %s | +%s |\n", dash(e.Address), keptMark(e.Kept), e.Client, mdText(holder(e.Holder)), mdText(dash(e.Server)),
			sec(e.At.Sub(r.Started).Seconds()))
	}
	b.WriteString("\n")
}

// mdDNS writes the run's multi-AAAA and stale names, when it had any.
func mdDNS(b *strings.Builder, name string, r *check.Report) {
	d := r.DNS
	if d == nil || (d.Multi == 0 && d.StaleAtEnd == 0) {
		return
	}
	prefix := "**DNS names at the end**"
	if name != "" {
		prefix = "**DNS names at the end in " + mdText(name) + "**"
	}
	fmt.Fprintf(b, "%s: %d names with more than one AAAA, %d clients whose name does not match the addresses they hold.\n\n", prefix, d.Multi, d.StaleAtEnd)
	list := func(what string, ev []check.DNSName) {
		for _, n := range ev[:min(len(ev), MarkdownEvidence)] {
			fmt.Fprintf(b, "- %s: %s\n", what, mdText(dnsEvidence(n)))
		}
	}
	list("more than one AAAA", d.MultiEvidence)
	list("stale", d.StaleEvidence)
	b.WriteString("\n")
}

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

// mdText escapes what would break a Markdown table cell or start markup.
var mdReplacer = strings.NewReplacer("|", `\|`, "\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "\\`")

func mdText(s string) string { return mdReplacer.Replace(s) }

func writeString(w io.Writer, s, what string) error {
	if _, err := io.WriteString(w, s); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
