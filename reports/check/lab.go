package check

import (
	"net/netip"
	"strings"
	"time"
)

// Lab describes the run a history came from: what Analyze cannot read from
// the events themselves. Faults are read from the history's lab events.
type Lab struct {
	Scenario  string  // copied to the report
	Model     string  // split | unique | identical, copied to the report
	Engine    string  // netns | virtual, copied to the report
	Timescale float64 // copied to the report; 0 means 1
	// Profile is the simulated clients' profile (clients.profile: rfc,
	// dhclient, ...), copied to the report; "" for rfc.
	Profile string
	// Gaps are the profile's gaps: what the real client kind does that the
	// profile does not model, each sized in Report.Gaps where the run met
	// it (gaps.go).
	Gaps []Gap

	// Servers maps the lab's server names (used by lab events) to their
	// DUIDs (used by client events).
	Servers []ServerInfo

	// Start and End bound the run. Zero Start: the RunStarted event, else
	// the first event. Zero End: the last RunEnded event, else the last
	// event. Events after End are ignored.
	Start, End time.Time

	// Step is the sampling step of the binding share series. Zero picks 1s,
	// or a whole number of seconds giving at most 600 samples.
	Step time.Duration

	// Files are the servers' lease files as read after the run, by server
	// name (nil: none read; the virtual engine reads none).
	Files map[string]ServerFile

	// Usage is the CPU time and peak memory of the run's processes, by
	// name: "clients" (the population's process) and each server (nil:
	// not measured; the virtual engine does not).
	Usage map[string]Usage
}

// Usage is what one process of the run consumed.
type Usage struct {
	CPUS      float64 `json:"cpu_s"`       // user + system CPU seconds
	MaxRSSKiB int64   `json:"max_rss_kib"` // peak resident memory
}

// ServerInfo names one server of the lab.
type ServerInfo struct {
	Name   string       `json:"name"`
	DUID   string       `json:"duid"`            // hex; case and ':' or '-' separators are ignored
	Prefix netip.Prefix `json:"prefix,omitzero"` // the server's prefix (informational)
	// PDPool and PDLen are the server's delegated-prefix pool and the
	// length of each prefix it delegates (PD metrics); zero: no PD.
	PDPool netip.Prefix `json:"pd_pool,omitzero"`
	PDLen  int          `json:"pd_len,omitempty"`
	// Kind and Version name the implementation that ran (builtin, kea,
	// ...); Notes say what it could not be configured to do.
	Kind    string   `json:"kind,omitempty"`
	Version string   `json:"version,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// NormalizeDUID returns the canonical spelling of a hex DUID used to match
// client events to lab servers: lower case, without ':', '-' or spaces.
func NormalizeDUID(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ':' || c == '-' || c == ' ' || (c >= 'A' && c <= 'F') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ':' || c == '-' || c == ' ':
		case c >= 'A' && c <= 'F':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
