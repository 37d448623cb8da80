package bench

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Summary files: what `d6lab bench --summary DIR` writes into DIR.
const (
	SummaryText = "summary.txt"
	SummaryJSON = "summary.json"
)

// SummaryRow is one server's benchmark as the summary shows it.
type SummaryRow struct {
	Server  string `json:"server"`
	Version string `json:"version"`
	// Leases is how durable the server's leases were (Report.Leases).
	Leases string `json:"leases,omitempty"`
	// Offload: the server ran with its UDP offloads (Params.Offload).
	Offload bool `json:"offload"`
	// Dir is the directory whose bench.json this row comes from.
	Dir string `json:"dir"`
	// Rate, P99Ms and Drops are at the latency bound (the headline);
	// DropsOnlyRate and DropsOnlyP99Ms at the drops bound alone.
	Rate           float64 `json:"rate"`
	P99Ms          float64 `json:"p99_ms"`
	Drops          float64 `json:"drops"`
	DropsOnlyRate  float64 `json:"drops_only_rate"`
	DropsOnlyP99Ms float64 `json:"drops_only_p99_ms"`
	// PerfdhcpRate is perfdhcp's rate against the same server (drops
	// alone), 0 when it did not run.
	PerfdhcpRate float64 `json:"perfdhcp_rate,omitempty"`
	Steps        int     `json:"steps"`
	ElapsedS     float64 `json:"elapsed_s"`
	// VsKea and VsEcho (builtin rows) are this row's rate over Kea's and
	// over the echo's at the latency bound, the DropsOnly pair by drops
	// alone (0: a side is missing or passed at no rate).
	VsKea           float64 `json:"vs_kea,omitempty"`
	VsEcho          float64 `json:"vs_echo,omitempty"`
	VsKeaDropsOnly  float64 `json:"vs_kea_drops_only,omitempty"`
	VsEchoDropsOnly float64 `json:"vs_echo_drops_only,omitempty"`
}

// Summary puts the benchmarks of one `make bench` run side by side:
// the builtin server against Kea and against the lab's ceiling (the echo),
// each ratio at the latency bound (the headline) and by drops alone.
type Summary struct {
	MaxDrops float64      `json:"max_drops"`
	MaxP99Ms float64      `json:"max_p99_ms"`
	Servers  []SummaryRow `json:"servers"`
	// BuiltinKea and BuiltinEcho are builtin's rate over Kea's and over
	// the echo's at the latency bound (0: a side is missing or passed at
	// no rate); the DropsOnly pair the same by drops alone. With more
	// than one builtin run they are those of the run whose leases are as
	// durable as Kea's (BuiltinLeases names it; its row's Vs fields).
	BuiltinLeases       string  `json:"builtin_leases,omitempty"`
	BuiltinKea          float64 `json:"builtin_kea"`
	BuiltinEcho         float64 `json:"builtin_echo"`
	BuiltinKeaDropsOnly float64 `json:"builtin_kea_drops_only"`
	BuiltinEchoDrops    float64 `json:"builtin_echo_drops_only"`
}

// ErrNoReports is returned when a summary directory holds no bench.json.
var ErrNoReports = errors.New("bench: no */bench.json to summarize")

// Summarize reads dir/*/bench.json (searches, all with the same bounds)
// and computes the ratios. Servers are in the order echo, builtin, the
// rest by name.
func Summarize(dir string) (*Summary, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*", ReportFile))
	if err != nil {
		return nil, fmt.Errorf("bench: %w", err)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w in %s", ErrNoReports, dir)
	}
	s := &Summary{Servers: []SummaryRow{}}
	bounds := ""
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("bench: %w", err)
		}
		var r Report
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", p, err)
		}
		if r.Mode != "search" {
			return nil, fmt.Errorf("bench: %s is a %q run: a summary compares searches", p, r.Mode)
		}
		if bd := fmt.Sprintf("drops %g, p99 %g ms", r.Params.MaxDrops, r.Params.MaxP99Ms); bounds == "" {
			bounds, s.MaxDrops, s.MaxP99Ms = bd, r.Params.MaxDrops, r.Params.MaxP99Ms
		} else if bd != bounds {
			return nil, fmt.Errorf("bench: %s has bounds %s, another report %s: their rates do not compare", p, bd, bounds)
		}
		row := SummaryRow{
			Server: r.Server, Version: r.Version, Leases: r.Leases, Offload: r.Params.Offload, Dir: filepath.Dir(p),
			Rate: r.Rate, P99Ms: r.LatencyMs.P99, Drops: r.Drops, Steps: len(r.Steps), ElapsedS: r.ElapsedS,
		}
		if r.DropsOnly != nil {
			row.DropsOnlyRate, row.DropsOnlyP99Ms = r.DropsOnly.Rate, r.DropsOnly.P99Ms
		}
		if r.Perfdhcp != nil {
			row.PerfdhcpRate = r.Perfdhcp.Rate
		}
		s.Servers = append(s.Servers, row)
	}
	rank := func(k string) int {
		switch k {
		case string(Echo):
			return 0
		case "builtin":
			return 1
		}
		return 2
	}
	sort.SliceStable(s.Servers, func(i, j int) bool {
		a, b := s.Servers[i], s.Servers[j]
		if rank(a.Server) != rank(b.Server) {
			return rank(a.Server) < rank(b.Server)
		}
		return a.Server < b.Server
	})
	ratio := func(a, b float64) float64 {
		if a <= 0 || b <= 0 {
			return 0
		}
		return a / b
	}
	k, e := s.row("kea"), s.row(string(Echo))
	var head *SummaryRow
	for i := range s.Servers {
		bi := &s.Servers[i]
		if bi.Server != "builtin" {
			continue
		}
		if k != nil {
			bi.VsKea, bi.VsKeaDropsOnly = ratio(bi.Rate, k.Rate), ratio(bi.DropsOnlyRate, k.DropsOnlyRate)
		}
		if e != nil {
			if bi.Offload != e.Offload {
				return nil, fmt.Errorf("bench: %s ran the builtin server with offload %s and %s the echo with offload %s: the ceiling is measured on the server's own socket path, so their rates do not compare",
					bi.Dir, onOff(bi.Offload), e.Dir, onOff(e.Offload))
			}
			bi.VsEcho, bi.VsEchoDropsOnly = ratio(bi.Rate, e.Rate), ratio(bi.DropsOnlyRate, e.DropsOnlyRate)
		}
		// The headline: the first builtin run, or the one as durable as Kea.
		if head == nil || (k != nil && k.Leases != "" && bi.Leases == k.Leases && head.Leases != k.Leases) {
			head = bi
		}
	}
	if head != nil {
		s.BuiltinLeases = head.Leases
		s.BuiltinKea, s.BuiltinKeaDropsOnly = head.VsKea, head.VsKeaDropsOnly
		s.BuiltinEcho, s.BuiltinEchoDrops = head.VsEcho, head.VsEchoDropsOnly
	}
	return s, nil
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// row is the first row of server.
func (s *Summary) row(server string) *SummaryRow {
	for i := range s.Servers {
		if s.Servers[i].Server == server {
			return &s.Servers[i]
		}
	}
	return nil
}

// Line is the one-line summary: the ratios at the latency bound.
func (s *Summary) Line() string {
	f := func(v float64, pct bool) string {
		switch {
		case v == 0:
			return "-"
		case pct:
			return fmt.Sprintf("%.2fx (%.0f %% of the ceiling)", v, 100*v)
		}
		return fmt.Sprintf("%.2fx", v)
	}
	line := fmt.Sprintf("at p99 <= %g ms and drops <= %g %%: builtin/kea %s, builtin/echo %s",
		s.MaxP99Ms, 100*s.MaxDrops, f(s.BuiltinKea, false), f(s.BuiltinEcho, true))
	if s.BuiltinLeases != "" {
		line += "; builtin's leases: " + s.BuiltinLeases
	}
	return line
}

// WriteText prints the servers side by side and the summary line.
func (s *Summary) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "d6lab bench summary: bounds p99 %g ms, drops %g %%\n", s.MaxP99Ms, 100*s.MaxDrops)
	fmt.Fprintf(&b, "  %-8s %-9s %-7s %14s %10s %8s   %16s %12s %14s %8s\n", "server", "leases", "offload", "rate (/s)", "p99 (ms)", "drops", "drops alone (/s)", "p99 (ms)", "perfdhcp (/s)", "time (s)")
	for _, r := range s.Servers {
		perf := "-"
		if r.PerfdhcpRate > 0 {
			perf = fmt.Sprintf("%.0f", r.PerfdhcpRate)
		}
		fmt.Fprintf(&b, "  %-8s %-9s %-7s %14.0f %10.3f %8s   %16.0f %12.3f %14s %8.0f\n",
			r.Server, cmp.Or(r.Leases, "-"), onOff(r.Offload), r.Rate, r.P99Ms, pct(r.Drops), r.DropsOnlyRate, r.DropsOnlyP99Ms, perf, r.ElapsedS)
	}
	fmt.Fprintf(&b, "summary: %s\n", s.Line())
	if s.BuiltinKeaDropsOnly > 0 || s.BuiltinEchoDrops > 0 {
		fmt.Fprintf(&b, "by drops alone: builtin/kea %.2fx, builtin/echo %.2fx\n", s.BuiltinKeaDropsOnly, s.BuiltinEchoDrops)
	}
	for _, r := range s.Servers {
		if r.Server == "builtin" && r.Leases != s.BuiltinLeases {
			fmt.Fprintf(&b, "builtin (leases %s): builtin/kea %.2fx, builtin/echo %.2fx at the bound; %.2fx, %.2fx by drops alone\n",
				cmp.Or(r.Leases, "-"), r.VsKea, r.VsEcho, r.VsKeaDropsOnly, r.VsEchoDropsOnly)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Save writes dir/summary.txt and dir/summary.json.
func (s *Summary) Save(dir string) error {
	var txt strings.Builder
	if err := s.WriteText(&txt); err != nil {
		return err
	}
	js, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryText), []byte(txt.String()), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, SummaryJSON), append(js, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}
