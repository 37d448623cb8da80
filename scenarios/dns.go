package scenarios

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"d6lab/netaddr6"
)

// The dns: and leasequery: blocks (RFC 6853 §7): the lab runs an
// authoritative DNS server the servers update, and a Leasequery prober.

// ReservedZones are the names a dns: zone must lie under: RFC 2606's
// reserved top-level names (§2) and second-level example names (§3). The
// lab never serves a real domain.
var ReservedZones = []string{"example.", "test.", "invalid.", "localhost.", "example.com.", "example.net.", "example.org."}

// DefaultDNSZone is the zone `d6lab compare --dns` uses.
const DefaultDNSZone = "lab.example."

// Bounds of the dns: and leasequery: values.
const (
	MinDNSSample  = 100 * time.Millisecond
	MinLQInterval = 100 * time.Millisecond
	// MaxDNSTTL: a TTL is an unsigned 32-bit count of seconds whose top
	// bit must be clear (RFC 2181 §8): below 2^31 s.
	MaxDNSTTL = (1<<31 - 1) * time.Second
	maxName   = 253 // a domain name's text without the final dot (RFC 1035 §2.3.4: 255 octets on the wire)
	maxLabel  = 63
)

// NormalizeZone lower-cases a zone name and adds the final dot when it is
// missing ("Lab.Example" -> "lab.example."); "" stays "".
func NormalizeZone(z string) string {
	z = strings.ToLower(strings.TrimSpace(z))
	if z != "" && !strings.HasSuffix(z, ".") {
		z += "."
	}
	return z
}

// checkZoneName returns what is wrong with a normalized zone name: its
// syntax (host-name labels of letters, digits and hyphens, RFC 1123 §2.1;
// each 1-63 characters, the name at most 253) or that it is not under
// one of ReservedZones.
func checkZoneName(z string) string {
	if z == "" {
		return "required: the forward zone, like " + DefaultDNSZone
	}
	name := strings.TrimSuffix(z, ".")
	if name == "" {
		return fmt.Sprintf("%q is the root; want a zone under one of RFC 2606's reserved names", z)
	}
	if len(name) > maxName {
		return fmt.Sprintf("%q is %d characters long; a domain name has at most %d", short(z), len(name), maxName)
	}
	for _, l := range strings.Split(name, ".") {
		switch {
		case l == "":
			return fmt.Sprintf("%q has an empty label", short(z))
		case len(l) > maxLabel:
			return fmt.Sprintf("%q: label %q is longer than %d characters", short(z), short(l), maxLabel)
		case l[0] == '-' || l[len(l)-1] == '-':
			return fmt.Sprintf("%q: label %q starts or ends with '-'", short(z), l)
		}
		for _, r := range l {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return fmt.Sprintf("%q: label %q holds %q; want letters, digits and '-' (RFC 1123 §2.1 host names)", short(z), short(l), r)
			}
		}
	}
	for _, r := range ReservedZones {
		if z == r || strings.HasSuffix(z, "."+r) {
			return ""
		}
	}
	return fmt.Sprintf("%q is not under a name RFC 2606 reserves; the lab never serves a real domain", short(z))
}

// ReverseZones are the ip6.arpa zones (RFC 3596 §2.5) of the servers'
// distinct prefixes, in server order: the zones the lab's DNS server
// holds the PTRs in.
func (s *Scenario) ReverseZones() ([]string, error) {
	var out []string
	var seen []netip.Prefix
	for _, sv := range s.Servers {
		if slices.Contains(seen, sv.Prefix) {
			continue
		}
		seen = append(seen, sv.Prefix)
		z, err := reverseZone(sv.Prefix)
		if err != nil {
			return nil, fmt.Errorf("server %s: %w", sv.Name, err)
		}
		out = append(out, z)
	}
	return out, nil
}

// reverseZone is p's ip6.arpa zone: p must be a /64 (one zone per link).
func reverseZone(p netip.Prefix) (string, error) {
	if p.Bits() != 64 {
		return "", fmt.Errorf("prefix %s is not a /64: the lab keeps one reverse zone per /64", p)
	}
	return netaddr6.ReverseZone(p)
}

// EnableDNS gives s a dns: block (zone DefaultDNSZone) and a leasequery:
// block with their defaults where it has none: what `d6lab compare
// --dns` does to every scenario it runs.
func (s *Scenario) EnableDNS() {
	if s.DNS == nil {
		s.DNS = &DNS{Zone: DefaultDNSZone, TTL: DefaultDNSTTL, Sample: min(DefaultDNSSample, s.Duration)}
	}
	if s.Leasequery == nil {
		s.Leasequery = &Leasequery{Interval: DefaultLQInterval, Clients: min(DefaultLQClients, s.Clients.Count)}
	}
}

// validateDNS checks the dns: and leasequery: blocks.
func validateDNS(s *Scenario, c *collector) {
	if d := s.DNS; d != nil {
		if msg := checkZoneName(d.Zone); msg != "" {
			c.field("dns.zone", ReservedZones, "%s", msg)
		} else if d.Zone != NormalizeZone(d.Zone) {
			c.field("dns.zone", nil, "%q: want it lower case and fully qualified (%q)", d.Zone, NormalizeZone(d.Zone))
		}
		switch {
		case d.TTL < time.Second:
			c.field("dns.ttl", nil, "%s: want at least 1s", d.TTL)
		case d.TTL%time.Second != 0:
			c.field("dns.ttl", nil, "%s is not whole seconds (DNS carries a TTL in seconds, RFC 1035 §3.2.1)", d.TTL)
		case d.TTL > MaxDNSTTL:
			c.field("dns.ttl", nil, "%s: want less than 2^31 s (RFC 2181 §8)", d.TTL)
		}
		switch {
		case d.Sample < MinDNSSample:
			c.field("dns.sample", nil, "%s: want at least %s (each sample is a zone transfer)", d.Sample, MinDNSSample)
		case s.Duration > 0 && d.Sample > s.Duration:
			c.field("dns.sample", nil, "%s is longer than the run (duration %s)", d.Sample, s.Duration)
		}
		for i, sv := range s.Servers {
			// A prefix check64 refuses is reported there already.
			if !usable64(sv.Prefix) || !inLab(sv.Prefix) {
				continue
			}
			if _, err := reverseZone(sv.Prefix); err != nil {
				c.field(fmt.Sprintf("servers[%d].prefix", i), nil, "dns: no reverse zone for it: %v", err)
			}
		}
	}
	if q := s.Leasequery; q != nil {
		if q.Interval < MinLQInterval {
			c.field("leasequery.interval", nil, "%s: want at least %s", q.Interval, MinLQInterval)
		}
		n := s.Clients.Count
		if n >= 1 && n <= MaxClients && (q.Clients < 1 || q.Clients > n) {
			c.field("leasequery.clients", nil, "%d is out of range 1..%d (clients.count)", q.Clients, n)
		}
	}
}
