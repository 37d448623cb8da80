package scenarios

import (
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"d6lab/deploy"
)

// Validate checks a resolved scenario: the checks Load runs after
// resolution, for scenarios built or changed in code. It returns Errors, or
// nil when the scenario is sound. Errors carry no line (there is no file),
// except for actions and expects that remember theirs.
func (s *Scenario) Validate() error {
	c := &collector{file: s.File, pos: positions{}}
	validate(s, c)
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

var serverName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,7}$`)

// maxLifetime is the largest finite DHCPv6 lifetime: 0xffffffff means
// infinity (RFC 9915 §7.7).
const maxLifetime = (1<<32 - 2) * time.Second

func validate(s *Scenario, c *collector) {
	switch {
	case strings.TrimSpace(s.Name) == "":
		c.field("name", nil, "required and not blank")
	case strings.ContainsAny(s.Name, "\r\n"):
		c.field("name", nil, "must be one line (use description for more)")
	}
	if !slices.Contains(Models, s.Model) {
		if s.Model == "" {
			c.field("model", names(Models), "required")
		} else {
			c.field("model", names(Models), "unknown value %q", s.Model)
		}
	}
	validateLink(s, c)
	validateLifetimes(s, c)
	validateServers(s, c)
	validateClients(s, c)
	if s.Duration <= 0 {
		c.field("duration", nil, "must be positive, got %s", s.Duration)
	}
	validateTimeline(s, c)
	validateDNS(s, c)
	for _, e := range s.Expect {
		f := "expect." + e.Path
		switch {
		case !NumericMetric(e.Path):
			c.field(f, numericMetricPaths(), "unknown numeric metric path %q", e.Path)
		case !slices.Contains(Operators, e.Op):
			c.field(f, Operators, "unknown operator %q", e.Op)
		case math.IsNaN(e.Value) || math.IsInf(e.Value, 0):
			c.field(f, nil, "bound %v is not a finite number", e.Value)
		}
	}
}

func labSpaces() []string {
	out := make([]string, len(LabSpaces))
	for i, p := range LabSpaces {
		out[i] = p.String()
	}
	return out
}

// check64 reports what is wrong with a prefix that must be a lab /64.
func check64(c *collector, field string, p netip.Prefix) bool {
	switch {
	case !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6():
		c.field(field, nil, "want an IPv6 /64 like %s", DefaultLink)
	case p.Bits() != 64:
		c.field(field, nil, "%s is a /%d; want a /64", p, p.Bits())
	case p.Masked() != p:
		c.field(field, nil, "%s has host bits set (did you mean %s?)", p, p.Masked())
	case !inLab(p):
		c.field(field, labSpaces(), "%s is outside the lab's address spaces", p)
	default:
		return true
	}
	return false
}

func validateLink(s *Scenario, c *collector) {
	check64(c, "link", s.Link)
}

func validateLifetimes(s *Scenario, c *collector) {
	l := []struct {
		name string
		v    time.Duration
	}{{"t1", s.Lifetimes.T1}, {"t2", s.Lifetimes.T2}, {"preferred", s.Lifetimes.Preferred}, {"valid", s.Lifetimes.Valid}}
	ok := true
	for _, x := range l {
		f := "lifetimes." + x.name
		switch {
		case x.v <= 0:
			c.field(f, nil, "must be positive, got %s", x.v)
		case x.v%time.Second != 0:
			c.field(f, nil, "%s is not whole seconds (DHCPv6 carries lifetimes in seconds, RFC 9915 §21.4)", x.v)
		case x.v > maxLifetime:
			c.field(f, nil, "%s is longer than the largest finite lifetime %s (RFC 9915 §7.7)", x.v, maxLifetime)
		default:
			continue
		}
		ok = false
	}
	if ir := s.Lifetimes.InfoRefresh; ir != 0 {
		switch {
		case ir < 0:
			c.field("lifetimes.info_refresh", nil, "must not be negative, got %s", ir)
		case ir%time.Second != 0:
			c.field("lifetimes.info_refresh", nil, "%s is not whole seconds (DHCPv6 carries it in seconds, RFC 9915 §21.23)", ir)
		case ir > maxLifetime:
			c.field("lifetimes.info_refresh", nil, "%s is longer than the largest finite value %s (RFC 9915 §7.7)", ir, maxLifetime)
		}
	}
	if !ok {
		return
	}
	for i := 1; i < len(l); i++ {
		a, b := l[i-1], l[i]
		if b.v >= a.v {
			continue
		}
		// Blame the field the file wrote; when both or neither, the later one.
		fa, fb := "lifetimes."+a.name, "lifetimes."+b.name
		if c.pos.has(fa) && !c.pos.has(fb) {
			c.field(fa, nil, "%s %s is longer than %s %s%s; want 0 < t1 <= t2 <= preferred <= valid", a.name, a.v, b.name, b.v, dflt(c, fb))
		} else {
			c.field(fb, nil, "%s %s is shorter than %s %s%s; want 0 < t1 <= t2 <= preferred <= valid", b.name, b.v, a.name, a.v, dflt(c, fa))
		}
	}
}

// dflt marks a value the file did not write, when there is a file.
func dflt(c *collector, field string) string {
	if len(c.pos) > 0 && !c.pos.has(field) {
		return " (default)"
	}
	return ""
}

func validateServers(s *Scenario, c *collector) {
	if len(s.Servers) == 0 {
		c.field("servers", nil, "want at least one server")
		return
	}
	if len(s.Servers) > MaxServers {
		c.field("servers", nil, "%d servers; at most %d", len(s.Servers), MaxServers)
	}
	modelOK := slices.Contains(Models, s.Model)
	linkOK := usable64(s.Link)
	prefixOK := make([]bool, len(s.Servers))
	poolOK := make([]bool, len(s.Servers))
	for i := range s.Servers {
		sv := &s.Servers[i]
		f := fmt.Sprintf("servers[%d]", i)
		switch {
		case !serverName.MatchString(sv.Name):
			c.field(f+".name", nil, "%q: want 1-8 characters of a-z, 0-9 and '-', not starting with '-' (it goes into interface names)", sv.Name)
		default:
			for j := range i {
				if s.Servers[j].Name == sv.Name {
					c.field(f+".name", nil, "%q already names servers[%d]", sv.Name, j)
					break
				}
			}
		}
		if !slices.Contains(deploy.Kinds, sv.Kind) {
			c.field(f+".kind", names(deploy.Kinds), "unknown value %q", sv.Kind)
		}
		if !slices.Contains(deploy.Allocators, sv.Allocator) {
			c.field(f+".allocator", names(deploy.Allocators), "unknown value %q", sv.Allocator)
		}
		if !slices.Contains(deploy.RebindPolicies, sv.Rebind) {
			c.field(f+".rebind", names(deploy.RebindPolicies), "unknown value %q", sv.Rebind)
		}

		prefixOK[i] = check64(c, f+".prefix", sv.Prefix)
		if prefixOK[i] && modelOK && linkOK {
			switch s.Model {
			case Split, Identical:
				if sv.Prefix != s.Link {
					c.field(f+".prefix", nil, "the %s model puts every server on the link /64 %s, not %s", s.Model, s.Link, sv.Prefix)
					prefixOK[i] = false
				}
			case Unique:
				for j := range i {
					if prefixOK[j] && s.Servers[j].Prefix == sv.Prefix {
						c.field(f+".prefix", nil, "%s is also servers[%d]'s prefix; the unique model gives each server its own /64", sv.Prefix, j)
						prefixOK[i] = false
						break
					}
				}
			}
		}

		switch {
		case !sv.Pool.IsValid():
			c.field(f+".pool", nil, "no pool: want a prefix or a range \"first-last\" of IPv6 addresses")
		case !poolInLab(sv.Pool):
			c.field(f+".pool", labSpaces(), "%s is outside the lab's address spaces", sv.Pool)
		case prefixOK[i] && !sv.Pool.Within(sv.Prefix):
			c.field(f+".pool", nil, "%s is not inside the server's prefix %s", sv.Pool, sv.Prefix)
		default:
			poolOK[i] = true
		}
		if poolOK[i] && modelOK {
			for j := range i {
				if !poolOK[j] {
					continue
				}
				o := s.Servers[j].Pool
				if s.Model == Identical {
					if o != sv.Pool {
						c.field(f+".pool", nil, "the identical model gives every server the same pool: %s differs from servers[%d]'s %s", sv.Pool, j, o)
						break
					}
				} else if sv.Pool.Overlaps(o) {
					c.field(f+".pool", nil, "%s overlaps servers[%d]'s pool %s; the %s model needs disjoint pools", sv.Pool, j, o, s.Model)
					break
				}
			}
		}
	}
	validatePD(s, c, modelOK)
}

func validatePD(s *Scenario, c *collector, modelOK bool) {
	on := s.Clients.Wants(PD)
	for _, sv := range s.Servers {
		on = on || sv.PDPool.IsValid() || sv.PDLen != 0
	}
	if !on {
		return
	}
	// Every address prefix in use, which delegated prefixes must avoid.
	var onLink []netip.Prefix
	if s.Link.IsValid() {
		onLink = append(onLink, s.Link)
	}
	for _, sv := range s.Servers {
		if sv.Prefix.IsValid() {
			onLink = append(onLink, sv.Prefix)
		}
	}
	ok := make([]bool, len(s.Servers))
	for i := range s.Servers {
		sv := &s.Servers[i]
		f := fmt.Sprintf("servers[%d]", i)
		p := sv.PDPool
		switch {
		case !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6():
			c.field(f+".pd_pool", nil, "no pd_pool: clients ask for pd (or another server delegates), so every server needs one")
			continue
		case p.Masked() != p:
			c.field(f+".pd_pool", nil, "%s has host bits set (did you mean %s?)", p, p.Masked())
			continue
		case !inLab(p):
			c.field(f+".pd_pool", labSpaces(), "%s is outside the lab's address spaces", p)
			continue
		}
		if sv.PDLen < p.Bits() || sv.PDLen > 64 {
			c.field(f+".pd_len", nil, "/%d: want a length between the pd_pool's /%d and /64", sv.PDLen, p.Bits())
			continue
		}
		clash := false
		for _, q := range onLink {
			if p.Overlaps(q) {
				c.field(f+".pd_pool", nil, "%s overlaps the on-link prefix %s", p, q)
				clash = true
				break
			}
		}
		if clash {
			continue
		}
		ok[i] = true
		if !modelOK {
			continue
		}
		for j := range i {
			if !ok[j] {
				continue
			}
			o := s.Servers[j]
			if s.Model == Identical {
				if o.PDPool != p || o.PDLen != sv.PDLen {
					c.field(f+".pd_pool", nil, "the identical model gives every server the same PD pool: %s/%d differs from servers[%d]'s %s/%d", p, sv.PDLen, j, o.PDPool, o.PDLen)
					break
				}
			} else if p.Overlaps(o.PDPool) {
				c.field(f+".pd_pool", nil, "%s overlaps servers[%d]'s pd_pool %s; the %s model needs disjoint pools", p, j, o.PDPool, s.Model)
				break
			}
		}
	}
}

func validateClients(s *Scenario, c *collector) {
	cl := s.Clients
	if cl.Count < 1 || cl.Count > MaxClients {
		c.field("clients.count", nil, "%d is out of range 1..%d", cl.Count, MaxClients)
	}
	switch {
	case cl.Ramp < 0:
		c.field("clients.ramp", nil, "must not be negative, got %s", cl.Ramp)
	case s.Duration > 0 && cl.Ramp > s.Duration:
		c.field("clients.ramp", nil, "%s is longer than the run (duration %s)", cl.Ramp, s.Duration)
	}
	for i, ia := range cl.IA {
		f := fmt.Sprintf("clients.ia[%d]", i)
		if !slices.Contains(IATypes, ia) {
			c.field(f, names(IATypes), "unknown value %q", ia)
		} else if slices.Contains(cl.IA[:i], ia) {
			c.field(f, nil, "%q listed twice", ia)
		}
	}
	if !(cl.Timescale > 0) || math.IsInf(cl.Timescale, 0) {
		c.field("clients.timescale", nil, "must be a finite number > 0, got %v", cl.Timescale)
	}
	if cl.DAD < 0 {
		c.field("clients.dad", nil, "must not be negative, got %s (0s turns DAD off)", cl.DAD)
	}
	if cl.DADDelay < 0 {
		c.field("clients.dad_delay", nil, "must not be negative, got %s", cl.DADDelay)
	}
	if !(cl.Jitter >= 0 && cl.Jitter <= 0.5) {
		c.field("clients.jitter", nil, "must be a fraction in [0, 0.5], got %v", cl.Jitter)
	}
	if !slices.Contains(deploy.Profiles, cl.Profile) {
		c.field("clients.profile", names(deploy.Profiles), "unknown value %q", cl.Profile)
	}
	if len(cl.Real) > 0 && cl.Timescale != 1 {
		c.field("clients.timescale", nil, "%v with clients.real: real clients keep RFC 9915's constants, so the simulated ones must too (timescale 1) for the kinds to compare", cl.Timescale)
	}
	if n := cl.RealCount(); n > MaxRealClients {
		c.field("clients.real", nil, "%d real clients in all; at most %d (each is a namespace, a process and a capture)", n, MaxRealClients)
	}
	for i, r := range cl.Real {
		f := fmt.Sprintf("clients.real[%d]", i)
		if !slices.Contains(deploy.ClientKinds, r.Kind) {
			c.field(f+".kind", names(deploy.ClientKinds), "unknown value %q", r.Kind)
		}
		if r.Count < 1 || r.Count > MaxRealClients {
			c.field(f+".count", nil, "%d is out of range 1..%d", r.Count, MaxRealClients)
		}
		if len(r.IA) == 0 && !cl.Stateless() {
			c.field(f+".ia", nil, "a real client in a stateful run asks for na, pd or both")
		}
	}
}

type serverState string

const (
	running serverState = "running"
	killed  serverState = "killed"
	frozen  serverState = "frozen"
)

type linkState string

const (
	linkUp       linkState = "up"
	linkCut      linkState = "cut"
	linkImpaired linkState = "impaired"
)

// onSomeLink reports whether addr lies in the link or a server's prefix.
func onSomeLink(s *Scenario, addr netip.Addr) bool {
	if s.Link.Contains(addr) {
		return true
	}
	for _, sv := range s.Servers {
		if sv.Prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// validateTimeline checks each action and that the sequence makes sense:
// one cannot thaw a server that is not frozen, kill one already dead, or
// heal a link that is neither cut nor impaired.
func validateTimeline(s *Scenario, c *collector) {
	srv := map[string]serverState{}
	link := map[string]linkState{}
	var serverNames []string
	for _, sv := range s.Servers {
		srv[sv.Name] = running
		link[sv.Name] = linkUp
		serverNames = append(serverNames, sv.Name)
	}
	var prev time.Duration
	for i, a := range s.Timeline {
		f := fmt.Sprintf("timeline[%d]", i)
		pos := func(field string, valid []string, format string, args ...any) {
			if a.Line > 0 && !c.pos.has(f) { // built in code but with a line: use it
				c.at(a.Line, 0, field, valid, format, args...)
				return
			}
			c.field(field, valid, format, args...)
		}
		switch {
		case a.At < 0:
			pos(f+".at", nil, "must not be negative, got %s", a.At)
		case s.Duration > 0 && a.At > s.Duration:
			pos(f+".at", nil, "%s is after the run ends (duration %s)", a.At, s.Duration)
		case a.At < prev:
			pos(f+".at", nil, "%s comes before the previous action's %s; list actions in time order", a.At, prev)
		}
		prev = max(prev, a.At)
		good := true
		if !slices.Contains(ActionKinds, a.Kind) {
			pos(f+".action", names(ActionKinds), "unknown value %q", a.Kind)
			good = false
		}
		if a.Kind.ClientAction() {
			if a.Target != "" {
				pos(f+".target", nil, "action %s acts on clients and takes no target", a.Kind)
			}
			switch {
			case a.Kind != Join && a.Kind != Leave:
				if a.Count != 0 {
					pos(f+".count", nil, "only with action join or leave, not %s", a.Kind)
				}
			case a.Count < 1 || a.Count > 1_000_000:
				pos(f+".count", nil, "action %s needs a count in 1..1000000, got %d", a.Kind, a.Count)
			}
			switch {
			case a.Kind != Occupy:
				if a.Address.IsValid() {
					pos(f+".address", nil, "only with action occupy, not %s", a.Kind)
				}
			case !a.Address.IsValid():
				pos(f+".address", nil, "action occupy needs address")
			case !onSomeLink(s, a.Address):
				pos(f+".address", nil, "%s is on no server's prefix: no client could be given it", a.Address)
			}
			if a.State != "" {
				pos(f+".state", nil, "only with action restart, not %s", a.Kind)
			}
			if a.Loss != 0 || a.Delay != 0 {
				pos(f+".loss", nil, "loss and delay only with action impair, not %s", a.Kind)
			}
			if a.Down < 0 {
				pos(f+".down", nil, "must not be negative, got %s", a.Down)
			} else if a.Kind != Flap && a.Down != 0 {
				pos(f+".down", nil, "only with action flap, not %s", a.Kind)
			} else if s.Duration > 0 && a.At+a.Down > s.Duration {
				pos(f+".down", nil, "flap at %s with down %s ends after the run (duration %s)", a.At, a.Down, s.Duration)
			}
			if a.Ramp < 0 {
				pos(f+".ramp", nil, "must not be negative, got %s", a.Ramp)
			} else if a.Kind != Join && a.Ramp != 0 {
				pos(f+".ramp", nil, "only with action join, not %s", a.Kind)
			} else if s.Duration > 0 && a.At+a.Ramp > s.Duration {
				pos(f+".ramp", nil, "join at %s with ramp %s ends after the run (duration %s)", a.At, a.Ramp, s.Duration)
			}
			continue
		}
		if a.Count != 0 {
			pos(f+".count", nil, "only with action join or leave, not %s", a.Kind)
		}
		if a.Ramp != 0 {
			pos(f+".ramp", nil, "only with action join, not %s", a.Kind)
		}
		if a.Down != 0 {
			pos(f+".down", nil, "only with action flap, not %s", a.Kind)
		}
		if _, ok := srv[a.Target]; !ok {
			pos(f+".target", serverNames, "no server named %q", a.Target)
			good = false
		}
		if a.Kind == Restart {
			if !slices.Contains(RestartStates, a.State) {
				pos(f+".state", names(RestartStates), "unknown value %q", a.State)
			}
		} else if a.State != "" {
			pos(f+".state", nil, "only with action restart, not %s", a.Kind)
		}
		if a.Kind == Impair {
			if !(a.Loss >= 0 && a.Loss <= 1) {
				pos(f+".loss", nil, "%v is not a share between 0 and 1", a.Loss)
			}
			if a.Delay < 0 {
				pos(f+".delay", nil, "must not be negative, got %s", a.Delay)
			}
		} else {
			if a.Loss != 0 {
				pos(f+".loss", nil, "only with action impair, not %s", a.Kind)
			}
			if a.Delay != 0 {
				pos(f+".delay", nil, "only with action impair, not %s", a.Kind)
			}
		}
		if !good {
			continue
		}
		st, ln := srv[a.Target], link[a.Target]
		bad := func(format string, args ...any) { pos(f+".action", nil, format, args...) }
		switch a.Kind {
		case Kill:
			if st == killed {
				bad("cannot kill %s at %s: it is already killed", a.Target, a.At)
			}
			srv[a.Target] = killed
		case Freeze:
			if st != running {
				bad("cannot freeze %s at %s: it is %s, not running", a.Target, a.At, st)
			}
			srv[a.Target] = frozen
		case Thaw:
			if st != frozen {
				bad("cannot thaw %s at %s: it is %s, not frozen", a.Target, a.At, st)
			}
			srv[a.Target] = running
		case Restart:
			srv[a.Target] = running
		case Cut:
			if ln == linkCut {
				bad("cannot cut %s's link at %s: it is already cut", a.Target, a.At)
			}
			link[a.Target] = linkCut
		case Heal:
			if ln == linkUp {
				bad("nothing to heal at %s: %s's link is neither cut nor impaired", a.At, a.Target)
			}
			link[a.Target] = linkUp
		case Impair:
			if ln == linkCut {
				bad("cannot impair %s's link at %s: it is cut (heal it first)", a.Target, a.At)
			}
			link[a.Target] = linkImpaired
		}
	}
}
