package profile

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"

	"d6lab/clientsim/client"
)

//go:embed profiles.yaml
var embedded []byte

// Profile is one entry of profiles.yaml: how the simulated clients behave
// to look like one real client kind.
type Profile struct {
	Name   string // the key in profiles.yaml, a deploy.Profile
	Client string // the real client and version it models
	Code   string // the source tree read
	Runs   []Run
	Params []Param // in profiles.yaml's order
	// Gaps are where the real client departs from the simulated one and
	// no parameter models it, in profiles.yaml's order.
	Gaps []Gap
	// Deviations is what Apply sets: the client configuration the
	// parameters make. The zero value is RFC 9915.
	Deviations client.Deviations
}

// Run is one measurement run a profile's figures come from.
type Run struct {
	ID    string `yaml:"id"`
	Date  string `yaml:"date"`
	Where string `yaml:"where"`
	What  string `yaml:"what"`
}

// Param is one parameter of a profile: its value, where the real client's
// source says so, and what runs measured.
type Param struct {
	Name     string
	Value    string
	Source   string
	Measured []Measurement
}

// Measurement is what one run observed of a parameter.
type Measurement struct {
	Run      string `yaml:"run"` // a Run.ID of the same profile
	Observed string `yaml:"observed"`
}

// Gap is one way the real client behaves that the profile does not
// model: what the real client does (with the source or measurement behind
// it), what the simulated client does instead, and the trigger that tells
// a report where a run met it, so that the report can say how many
// clients it touched and by how much (reports/check, Report.Gaps).
type Gap struct {
	Param     string  `yaml:"param"`     // the parameter it concerns; "" for none
	When      Trigger `yaml:"when"`      // where a run meets it
	Real      string  `yaml:"real"`      // what the real client does
	Simulated string  `yaml:"simulated"` // what the simulated client does instead
}

// Trigger names the history events at which a run meets a gap. The
// reports size each (reports/check, gaps.go), which may not import this
// package (ARCHITECTURE.md, import rules): check.GapTriggers names the
// same ones, and a spec in sim holds the two lists equal.
type Trigger string

const (
	// TriggerReleaseGaveUp, TriggerDeclineGaveUp: a Release or a Decline
	// ran out of transmissions, unanswered (GaveUp "release",
	// "decline").
	TriggerReleaseGaveUp Trigger = "release_gave_up"
	TriggerDeclineGaveUp Trigger = "decline_gave_up"
	// TriggerRefreshed: a stateless client refreshed its configuration
	// (an Informed event after the client's first).
	TriggerRefreshed Trigger = "refreshed"
	// TriggerRun: every run of the profile.
	TriggerRun Trigger = "run"
)

// Triggers lists every Trigger.
var Triggers = []Trigger{TriggerReleaseGaveUp, TriggerDeclineGaveUp, TriggerRefreshed, TriggerRun}

// Apply makes cfg behave as the profile: it sets cfg.Deviations.
func (p Profile) Apply(cfg *client.Config) { cfg.Deviations = p.Deviations }

// Param returns the parameter called name.
func (p Profile) Param(name string) (Param, bool) {
	i := slices.IndexFunc(p.Params, func(q Param) bool { return q.Name == name })
	if i < 0 {
		return Param{}, false
	}
	return p.Params[i], true
}

// ErrUnknown is returned by Lookup for a name with no entry.
var ErrUnknown = errors.New("profile: unknown client profile")

var loaded = sync.OnceValues(func() (map[string]Profile, error) { return Parse(embedded) })

// Lookup returns the profile called name (a deploy.Profile: "rfc",
// "dhclient", "dhcpcd"). It takes the name as a string because clientsim
// may not import deploy (ARCHITECTURE.md, import rules):
// Lookup(string(sc.Clients.Profile)).
func Lookup(name string) (Profile, error) {
	all, err := loaded()
	if err != nil {
		return Profile{}, err
	}
	p, ok := all[name]
	if !ok {
		return Profile{}, fmt.Errorf("%w %q (valid: %s)", ErrUnknown, name, strings.Join(names(all), ", "))
	}
	return p, nil
}

// Names lists the profiles in profiles.yaml, sorted.
func Names() ([]string, error) {
	all, err := loaded()
	if err != nil {
		return nil, err
	}
	return names(all), nil
}

func names(all map[string]Profile) []string {
	out := make([]string, 0, len(all))
	for n := range all {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// File is the embedded profiles.yaml.
func File() []byte { return bytes.Clone(embedded) }

// The file's shape. Unknown keys fail the decode (KnownFields).
type file struct {
	Profiles map[string]*entry `yaml:"profiles"`
}

type entry struct {
	Client     string  `yaml:"client"`
	Code       string  `yaml:"code"`
	Runs       []Run   `yaml:"runs"`
	Parameters *params `yaml:"parameters"`
	Gaps       []Gap   `yaml:"gaps"`
}

type params struct {
	Preference     *param `yaml:"preference"`
	PreferenceTie  *param `yaml:"preference_tie"`
	RebindAt       *param `yaml:"rebind_at"`
	LeaseClock     *param `yaml:"lease_clock"`
	NoBinding      *param `yaml:"nobinding"`
	NoAddrs        *param `yaml:"noaddrs"`
	ZeroLifetime   *param `yaml:"zero_lifetime"`
	SolicitDelay   *param `yaml:"solicit_delay"`
	InitialDelay   *param `yaml:"initial_delay"`
	SolMaxRT       *param `yaml:"sol_max_rt"`
	InfMaxRT       *param `yaml:"inf_max_rt"`
	MaxRTOption    *param `yaml:"max_rt_option"`
	Retransmission *param `yaml:"retransmission"`
	FailedExchange *param `yaml:"failed_exchange"`
	MRC            *param `yaml:"mrc"`
	PDRebind       *param `yaml:"pd_rebind"`
	LinkChange     *param `yaml:"link_change"`
	MinT2          *param `yaml:"min_t2"`
	DADFailure     *param `yaml:"dad_failure"`
}

type param struct {
	Value    string        `yaml:"value"`
	Source   string        `yaml:"source"`
	Measured []Measurement `yaml:"measured"`
}

// rule is one parameter: its name, its field and how its value sets the
// client's deviations (an error for a value it does not know).
type rule struct {
	name  string
	field func(*params) *param
	set   func(d *client.Deviations, v string) error
}

// choice is a rule for a parameter with a fixed set of values; values
// maps each to what it sets (nil: RFC 9915, nothing).
func choice(values map[string]func(*client.Deviations)) func(*client.Deviations, string) error {
	return func(d *client.Deviations, v string) error {
		f, ok := values[v]
		if !ok {
			valid := make([]string, 0, len(values))
			for k := range values {
				valid = append(valid, k)
			}
			sort.Strings(valid)
			return fmt.Errorf("unknown value %q (valid: %s)", v, strings.Join(valid, ", "))
		}
		if f != nil {
			f(d)
		}
		return nil
	}
}

// maxRT is a rule for a duration that replaces the RFC constant def (the
// RFC value itself sets nothing).
func maxRT(field func(*client.Deviations) *time.Duration, def time.Duration) func(*client.Deviations, string) error {
	return func(d *client.Deviations, v string) error {
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 || t%time.Second != 0 {
			return fmt.Errorf("value %q: want whole seconds > 0, such as %s", v, def)
		}
		if t != def {
			*field(d) = t
		}
		return nil
	}
}

// rules lists every parameter, in profiles.yaml's order; doc.go says what
// each value means.
var rules = []rule{
	{"preference", func(p *params) *param { return p.Preference }, choice(map[string]func(*client.Deviations){
		"wait":  nil,
		"first": func(d *client.Deviations) { d.TakeFirstAdvertise = true },
	})},
	{"preference_tie", func(p *params) *param { return p.PreferenceTie }, choice(map[string]func(*client.Deviations){
		"first-received":   nil,
		"lowest-server-id": func(d *client.Deviations) { d.LowestServerIDFirst = true },
	})},
	{"rebind_at", func(p *params) *param { return p.RebindAt }, choice(map[string]func(*client.Deviations){
		"t2":                   nil,
		"renew-retransmission": func(d *client.Deviations) { d.UncappedFirstRenewRT = true },
	})},
	{"lease_clock", func(p *params) *param { return p.LeaseClock }, choice(map[string]func(*client.Deviations){
		"reply":        nil,
		"whole-second": func(d *client.Deviations) { d.WholeSecondClock = true },
	})},
	{"nobinding", func(p *params) *param { return p.NoBinding }, choice(map[string]func(*client.Deviations){
		"request":      nil,
		"request-once": func(d *client.Deviations) { d.NoBinding = client.NoBindingRequestOnce },
		"solicit":      func(d *client.Deviations) { d.NoBinding = client.NoBindingSolicit },
	})},
	{"noaddrs", func(p *params) *param { return p.NoAddrs }, choice(map[string]func(*client.Deviations){
		"keep":    nil,
		"solicit": func(d *client.Deviations) { d.NoAddrsSolicit = true },
	})},
	// Every client read removes a lease given lifetime 0 at once, as RFC
	// 9915 says: the one value the client has. The parameter records it.
	{"zero_lifetime", func(p *params) *param { return p.ZeroLifetime }, choice(map[string]func(*client.Deviations){
		"remove": nil,
	})},
	{"solicit_delay", func(p *params) *param { return p.SolicitDelay }, choice(map[string]func(*client.Deviations){
		"first": nil,
		"every": func(d *client.Deviations) { d.SolicitDelayEvery = true },
	})},
	{"initial_delay", func(p *params) *param { return p.InitialDelay }, choice(map[string]func(*client.Deviations){
		"uniform": nil,
		"fixed":   func(d *client.Deviations) { d.FixedInitialDelay = true },
	})},
	{"sol_max_rt", func(p *params) *param { return p.SolMaxRT }, maxRT(func(d *client.Deviations) *time.Duration { return &d.SolMaxRT }, client.SolMaxRT)},
	{"inf_max_rt", func(p *params) *param { return p.InfMaxRT }, maxRT(func(d *client.Deviations) *time.Duration { return &d.InfMaxRT }, client.InfMaxRT)},
	{"max_rt_option", func(p *params) *param { return p.MaxRTOption }, choice(map[string]func(*client.Deviations){
		"honour": nil,
		"ignore": func(d *client.Deviations) { d.IgnoreMaxRTOptions = true },
	})},
	{"retransmission", func(p *params) *param { return p.Retransmission }, choice(map[string]func(*client.Deviations){
		"rand-of-last":    nil,
		"rand-of-doubled": func(d *client.Deviations) { d.DoubledRT = true },
	})},
	{"failed_exchange", func(p *params) *param { return p.FailedExchange }, choice(map[string]func(*client.Deviations){
		"keep": nil,
		"drop": func(d *client.Deviations) { d.FailDrops = true },
		"halt": func(d *client.Deviations) { d.FailHalts = true },
	})},
	{"mrc", func(p *params) *param { return p.MRC }, choice(map[string]func(*client.Deviations){
		"transmissions":   nil,
		"retransmissions": func(d *client.Deviations) { d.MRCRetransmissions = true },
	})},
	{"pd_rebind", func(p *params) *param { return p.PDRebind }, choice(map[string]func(*client.Deviations){
		"rebind":  nil,
		"confirm": func(d *client.Deviations) { d.PDRebindConfirm = true },
	})},
	{"link_change", func(p *params) *param { return p.LinkChange }, choice(map[string]func(*client.Deviations){
		"confirm": nil,
		"drop":    func(d *client.Deviations) { d.DropOnLinkChange = true },
		"ignore":  func(d *client.Deviations) { d.IgnoreLinkChange = true },
	})},
	{"min_t2", func(p *params) *param { return p.MinT2 }, func(d *client.Deviations, v string) error {
		if v == "none" {
			return nil
		}
		t, err := time.ParseDuration(v)
		if err != nil || t <= 0 || t%time.Second != 0 {
			return fmt.Errorf("value %q: want none, or whole seconds > 0 such as 30s", v)
		}
		d.MinT2 = t
		return nil
	}},
	{"dad_failure", func(p *params) *param { return p.DADFailure }, choice(map[string]func(*client.Deviations){
		"decline": nil,
		"keep":    func(d *client.Deviations) { d.KeepDADFailed = true },
		"readd":   func(d *client.Deviations) { d.KeepDADFailed, d.ReaddKept = true, true },
	})},
}

func triggerList() string {
	s := make([]string, len(Triggers))
	for i, t := range Triggers {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// Parse reads a profiles file: every key known (a typo is an error),
// every profile with a client, a code note and every parameter, each with
// a valid value, a source, and measurements that name runs of the
// profile. It reports every problem it finds.
func Parse(b []byte) (map[string]Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("profile: empty file")
		}
		return nil, fmt.Errorf("profile: %w", err)
	}
	if len(f.Profiles) == 0 {
		return nil, errors.New("profile: no profiles")
	}
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf("profile: "+format, a...)) }
	out := make(map[string]Profile, len(f.Profiles))
	keys := make([]string, 0, len(f.Profiles))
	for k := range f.Profiles {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		e := f.Profiles[name]
		if e == nil {
			bad("%s: empty entry", name)
			continue
		}
		p := Profile{Name: name, Client: e.Client, Code: e.Code, Runs: e.Runs}
		if e.Client == "" {
			bad("%s.client: missing", name)
		}
		if e.Code == "" {
			bad("%s.code: missing", name)
		}
		runs := map[string]bool{}
		for i, r := range e.Runs {
			switch {
			case r.ID == "":
				bad("%s.runs[%d].id: missing", name, i)
			case runs[r.ID]:
				bad("%s.runs[%d].id: %q given twice", name, i, r.ID)
			}
			runs[r.ID] = true
			if r.Date == "" || r.Where == "" || r.What == "" {
				bad("%s.runs[%d]: date, where and what are required", name, i)
			}
		}
		if e.Parameters == nil {
			bad("%s.parameters: missing", name)
			continue
		}
		for _, r := range rules {
			q := r.field(e.Parameters)
			at := name + ".parameters." + r.name
			if q == nil {
				bad("%s: missing", at)
				continue
			}
			if q.Source == "" {
				bad("%s.source: missing (where the client's code says so)", at)
			}
			if err := r.set(&p.Deviations, q.Value); err != nil {
				bad("%s.value: %v", at, err)
			}
			for i, m := range q.Measured {
				if !runs[m.Run] {
					bad("%s.measured[%d].run: %q is not in %s.runs", at, i, m.Run, name)
				}
				if m.Observed == "" {
					bad("%s.measured[%d].observed: missing", at, i)
				}
			}
			p.Params = append(p.Params, Param{Name: r.name, Value: q.Value, Source: q.Source, Measured: q.Measured})
		}
		for i, g := range e.Gaps {
			at := fmt.Sprintf("%s.gaps[%d]", name, i)
			if g.Param != "" && !slices.ContainsFunc(rules, func(r rule) bool { return r.name == g.Param }) {
				bad("%s.param: %q is no parameter", at, g.Param)
			}
			if !slices.Contains(Triggers, g.When) {
				bad("%s.when: unknown trigger %q (valid: %s)", at, g.When, triggerList())
			}
			if g.Real == "" || g.Simulated == "" {
				bad("%s: real and simulated are required", at)
			}
		}
		p.Gaps = e.Gaps
		out[name] = p
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}
