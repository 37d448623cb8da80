package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ReportFile is the name of the JSON report in the output directory.
const ReportFile = "bench.json"

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p999"`
	Max  float64 `json:"max"`
}

// Step is one measurement at one offered rate.
type Step struct {
	// Tool is "d6lab" (the generator) or "perfdhcp".
	Tool string `json:"tool"`
	// Offered is the rate asked for, Rate the completed exchanges/s.
	Offered float64 `json:"offered"`
	Rate    float64 `json:"rate"`
	// Drops is the fraction of exchanges lost (for the generator, those
	// it could not start for want of a free slot count as lost too).
	Drops float64 `json:"drops"`
	// Pass: the step passed the search's criterion, drops within
	// MaxDrops (with the offered rate kept) and p99 latency within
	// MaxP99; PassDrops: it passed the drops part alone. Failed says what
	// a step that did not pass broke: "drops", "p99", "drops+p99",
	// "tool-limited" or "tool-limited+p99". A perfdhcp step has no p99
	// (perfdhcp prints no percentiles): it is judged by its drops alone.
	Pass      bool   `json:"pass"`
	PassDrops bool   `json:"pass_drops"`
	Failed    string `json:"failed,omitempty"`
	Started   int64  `json:"started"`
	Completed int64  `json:"completed"`
	// LatencyMs is the generator's distribution (perfdhcp gives none);
	// MeanMs its mean, or perfdhcp's average exchange delay.
	LatencyMs *Latency `json:"latency_ms,omitempty"`
	MeanMs    float64  `json:"mean_ms"`
	ElapsedS  float64  `json:"elapsed_s"`
	// ServerCPU and ToolCPU are CPU cores used during the step by the
	// server process and by the load tool (the generator's process, or
	// perfdhcp).
	ServerCPU float64 `json:"server_cpu"`
	ToolCPU   float64 `json:"tool_cpu"`
	// ServerSocketDrops and ClientSocketDrops are the datagrams the
	// kernel dropped during the step because a UDP socket's receive
	// buffer was full (Udp6RcvbufErrors), in the server's and the
	// clients' namespace: drops that neither the server nor the tool
	// can see, and that say which side could not keep up.
	ServerSocketDrops int64 `json:"server_socket_drops"`
	ClientSocketDrops int64 `json:"client_socket_drops"`
	// QuietS is how long the step waited, after the settle pause, for the
	// server to go idle (bench.quiesce): the backlog an overloaded step
	// leaves behind is worked off before the next one starts.
	QuietS float64 `json:"quiet_s"`
	// Limited: the tool did not start at least 95 % of the exchanges the
	// offered rate asks for, so the step does not pass whatever its drops.
	Limited bool `json:"tool_limited,omitempty"`
	// Retry: the step measures again the rate of the step before it,
	// which failed on p99 alone; the search took the better of the two.
	Retry bool `json:"retry,omitempty"`
	// Warmup: the step ran before a search to bind every client once and
	// was not judged (Report.Warmup).
	Warmup bool   `json:"warmup,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// PerfdhcpSummary is perfdhcp's result: at its highest step passing the
// drops bound with a search (perfdhcp prints no p99, so its steps are
// judged by drops alone), else its one run.
type PerfdhcpSummary struct {
	Rate  float64 `json:"rate"`
	Drops float64 `json:"drops"`
	AvgMs float64 `json:"avg_ms"`
	// Exchanges are that step's per-message-pair statistics.
	Exchanges []PerfdhcpExchange `json:"exchanges,omitempty"`
	Search    *SearchResult      `json:"search,omitempty"`
	Argv      []string           `json:"argv,omitempty"`
	Steps     []Step             `json:"steps"`
}

// CPU is the processes' resource use at the reported steps.
type CPU struct {
	// ServerCores is the server's CPU use (cores) during the generator's
	// reported step, PerfdhcpServerCores during perfdhcp's.
	ServerCores         float64 `json:"server_cores"`
	PerfdhcpServerCores float64 `json:"perfdhcp_server_cores,omitempty"`
	// ServerMaxRSSKiB is the server's peak resident memory over the run.
	ServerMaxRSSKiB int64 `json:"server_max_rss_kib"`
	// GeneratorCores is the generator's own CPU use at its reported step
	// (getrusage of the d6lab process), PerfdhcpCores perfdhcp's.
	GeneratorCores float64 `json:"generator_cores"`
	PerfdhcpCores  float64 `json:"perfdhcp_cores,omitempty"`
}

// Params are the parameters the benchmark ran with.
type Params struct {
	Exchange string  `json:"exchange"`
	NA       bool    `json:"na"`
	PD       bool    `json:"pd"`
	Clients  int     `json:"clients"`
	Renew    float64 `json:"renew,omitempty"`
	Rebind   float64 `json:"rebind,omitempty"`
	Release  float64 `json:"release,omitempty"`
	Relay    bool    `json:"relay,omitempty"`
	// Offload: the server ran with `d6lab serve --offload` (the builtin
	// server and the echo, unless Options.NoOffload).
	Offload   bool    `json:"offload"`
	DurationS float64 `json:"duration_s"`
	TimeoutS  float64 `json:"timeout_s"`
	MaxDrops  float64 `json:"max_drops"`
	MaxP99Ms  float64 `json:"max_p99_ms"`
	Seed      uint64  `json:"seed"`
}

// RateAt is the generator's figures at one step: the second figure of a
// search, at the highest step that passed the drops bound alone.
type RateAt struct {
	// Offered is the step's offered rate, Rate its completed exchanges/s
	// (0 when no step passed), Drops and P99Ms what it measured.
	Offered float64 `json:"offered"`
	Rate    float64 `json:"rate"`
	Drops   float64 `json:"drops"`
	P99Ms   float64 `json:"p99_ms"`
}

// Report is the outcome of Run. Server, Mode, Rate, Drops, LatencyMs and
// Perfdhcp's Rate, Drops and AvgMs are the figures `d6lab bench` promises;
// the rest explains them.
type Report struct {
	Server string `json:"server"`
	// Version is the server's own version string.
	Version string `json:"version"`
	// Mode is "rate" (one run at a fixed rate) or "search".
	Mode string `json:"mode"`
	// Leases is how durable the server's leases are when it answers
	// (leasesKept): "fdatasync", "write", "none" (the echo) or "" (not
	// known for the kind).
	Leases string `json:"leases,omitempty"`
	// Rate is the generator's completed exchanges/s at its highest step
	// passing both bounds, drops and p99 latency (search), or in its run;
	// Drops, LatencyMs and MeanMs what it measured there.
	Rate      float64 `json:"rate"`
	Drops     float64 `json:"drops"`
	LatencyMs Latency `json:"latency_ms"`
	MeanMs    float64 `json:"mean_ms"`
	// DropsOnly (search) is the generator at its highest step passing the
	// drops bound alone, whatever its latency: the figure a search without
	// a latency bound gives, kept for comparison.
	DropsOnly *RateAt `json:"drops_only,omitempty"`
	// Perfdhcp is set with Vs "perfdhcp"; Ratio is the generator's rate
	// over perfdhcp's, both judged by drops alone (perfdhcp prints no
	// p99): DropsOnly.Rate / Perfdhcp.Rate after a search, Rate /
	// Perfdhcp.Rate after a fixed-rate run.
	Perfdhcp *PerfdhcpSummary `json:"perfdhcp,omitempty"`
	Ratio    float64          `json:"ratio,omitempty"`
	Search   *SearchResult    `json:"search,omitempty"`
	Steps    []Step           `json:"steps"`
	// Warmup holds the step each tool ran before its search to bind
	// every client once, outside the search.
	Warmup  []Step  `json:"warmup,omitempty"`
	Params  Params  `json:"params"`
	Machine Machine `json:"machine"`
	CPU     CPU     `json:"cpu"`
	// Notes say where the run differs from what was asked (server
	// adapter notes, what perfdhcp cannot do).
	Notes    []string  `json:"notes,omitempty"`
	Prefix   string    `json:"lab_prefix"`
	Start    time.Time `json:"start"`
	ElapsedS float64   `json:"elapsed_s"`
}

// Save writes the report as dir/bench.json.
func (r *Report) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ReportFile), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	return nil
}

// WriteTable prints the report as a table: the generator's column, and
// perfdhcp's with the ratio when it ran. The first rate is the headline
// (drops and p99 within their bounds); after a search a second rate
// follows, judged by the drops alone.
func (r *Report) WriteTable(w io.Writer) error {
	p := r.Perfdhcp
	ver := r.Version
	if ver == "" {
		ver = "version unknown"
	}
	ia := "IA_NA"
	switch {
	case r.Params.NA && r.Params.PD:
		ia = "IA_NA+IA_PD"
	case r.Params.PD:
		ia = "IA_PD"
	}
	fmt.Fprintf(w, "d6lab bench: %s (%s), %s, exchange %s, %s, %d clients, bounds: drops %.2g%%, p99 %g ms\n",
		r.Server, ver, r.Mode, r.Params.Exchange, ia, r.Params.Clients, 100*r.Params.MaxDrops, r.Params.MaxP99Ms)
	row := func(name, a, b string) {
		if p == nil {
			fmt.Fprintf(w, "  %-26s %12s\n", name, a)
		} else {
			fmt.Fprintf(w, "  %-26s %12s %12s\n", name, a, b)
		}
	}
	ms := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	none := "-"
	pv := func(f func(*PerfdhcpSummary) string) string {
		if p == nil {
			return ""
		}
		return f(p)
	}
	row("", "d6lab", "perfdhcp")
	row("rate (exchanges/s)", fmt.Sprintf("%.0f", r.Rate), none)
	row("drops", pct(r.Drops), none)
	row("latency p50 (ms)", ms(r.LatencyMs.P50), none)
	row("latency p90 (ms)", ms(r.LatencyMs.P90), none)
	row("latency p99 (ms)", ms(r.LatencyMs.P99), none)
	row("latency p99.9 (ms)", ms(r.LatencyMs.P999), none)
	row("latency max (ms)", ms(r.LatencyMs.Max), none)
	row("latency mean (ms)", ms(r.MeanMs), none)
	perfRate := pv(func(p *PerfdhcpSummary) string { return fmt.Sprintf("%.0f", p.Rate) })
	if d := r.DropsOnly; d != nil {
		row("rate, drops alone (/s)", fmt.Sprintf("%.0f", d.Rate), perfRate)
		row("  drops there", pct(d.Drops), pv(func(p *PerfdhcpSummary) string { return pct(p.Drops) }))
		row("  latency p99 there (ms)", ms(d.P99Ms), none)
	} else if p != nil {
		row("perfdhcp rate (/s)", "", perfRate)
		row("perfdhcp drops", "", pct(p.Drops))
	}
	if p != nil {
		row("perfdhcp latency max (ms)", "", pv(func(p *PerfdhcpSummary) string {
			var m float64
			for _, e := range p.Exchanges {
				if e.Name == "SOLICIT-ADVERTISE" || e.Name == "REQUEST-REPLY" {
					m += e.MaxMs
				}
			}
			return ms(m) + "*"
		}))
		row("perfdhcp latency mean (ms)", "", ms(p.AvgMs))
	}
	row("steps", fmt.Sprint(len(r.Steps)), pv(func(p *PerfdhcpSummary) string { return fmt.Sprint(len(p.Steps)) }))
	row("server CPU (cores)", fmt.Sprintf("%.2f", r.CPU.ServerCores), pv(func(*PerfdhcpSummary) string { return fmt.Sprintf("%.2f", r.CPU.PerfdhcpServerCores) }))
	row("load tool CPU (cores)", fmt.Sprintf("%.2f", r.CPU.GeneratorCores), pv(func(*PerfdhcpSummary) string { return fmt.Sprintf("%.2f", r.CPU.PerfdhcpCores) }))
	if p != nil {
		if r.Ratio > 0 {
			fmt.Fprintf(w, "ratio d6lab/perfdhcp (drops alone): %.2fx\n", r.Ratio)
		} else {
			fmt.Fprintln(w, "ratio d6lab/perfdhcp (drops alone): - (perfdhcp passed at no rate)")
		}
		fmt.Fprintln(w, "perfdhcp prints no percentiles: its steps are judged by drops alone; (*) the sum of its message pairs' max delays")
	}
	if s := r.Search; s != nil {
		if s.Outcome != Converged {
			fmt.Fprintf(w, "search: %s after %d steps (pass %.0f/s, fail %.0f/s)\n", s.Outcome, s.Steps, s.Pass, s.Fail)
		}
		if d := s.DropsOnly; d.Outcome != Converged {
			fmt.Fprintf(w, "search, drops alone: %s after %d steps (pass %.0f/s, fail %.0f/s)\n", d.Outcome, s.Steps, d.Pass, d.Fail)
		}
	}
	if s := pv2(p); s != nil && s.DropsOnly.Outcome != Converged {
		fmt.Fprintf(w, "perfdhcp search: %s after %d steps (pass %.0f/s, fail %.0f/s)\n", s.DropsOnly.Outcome, s.Steps, s.DropsOnly.Pass, s.DropsOnly.Fail)
	}
	fmt.Fprintf(w, "server max RSS %.1f MiB; machine: %d CPUs", float64(r.CPU.ServerMaxRSSKiB)/1024, r.Machine.CPUs)
	if r.Machine.Model != "" {
		fmt.Fprintf(w, " (%s)", r.Machine.Model)
	}
	fmt.Fprintf(w, ", kernel %s\n", r.Machine.Kernel)
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	return nil
}

func pv2(p *PerfdhcpSummary) *SearchResult {
	if p == nil {
		return nil
	}
	return p.Search
}

func pct(f float64) string { return fmt.Sprintf("%.3f%%", 100*f) }

// stepLine is the progress line of one finished step.
func stepLine(n int, s Step) string {
	var b strings.Builder
	retry := ""
	switch {
	case s.Retry:
		retry = " (again)"
	case s.Warmup:
		retry = " (warm-up)"
	}
	fmt.Fprintf(&b, "%-8s step %2d%s: offered %7.0f/s  completed %8.1f/s  drops %7s", s.Tool, n, retry, s.Offered, s.Rate, pct(s.Drops))
	if s.LatencyMs != nil {
		fmt.Fprintf(&b, "  p99 %.2f ms", s.LatencyMs.P99)
	} else {
		fmt.Fprintf(&b, "  avg %.2f ms", s.MeanMs)
	}
	fmt.Fprintf(&b, "  server %.2f cpu  %s %.2f cpu", s.ServerCPU, s.Tool, s.ToolCPU)
	if s.ServerSocketDrops > 0 || s.ClientSocketDrops > 0 {
		fmt.Fprintf(&b, "  socket drops server %d clients %d", s.ServerSocketDrops, s.ClientSocketDrops)
	}
	switch {
	case s.Warmup:
		b.WriteString("  (not judged)")
	case s.Pass:
		b.WriteString("  pass")
	case s.Limited:
		fmt.Fprintf(&b, "  FAIL %s (load tool could not keep the rate)", s.Failed)
	case s.PassDrops:
		fmt.Fprintf(&b, "  FAIL %s (passes drops alone)", s.Failed)
	default:
		fmt.Fprintf(&b, "  FAIL %s", s.Failed)
	}
	return b.String()
}
