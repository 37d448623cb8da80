package nameserver

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"d6lab/deploy"

	"github.com/miekg/dns"
)

// Config is one run's DNS server.
type Config struct {
	Dir    string        // run directory: named.conf, zone files, journals, logs (created)
	Listen netip.Addr    // the address named listens on (port 53) in its namespace
	Zones  []string      // forward zone first, then the reverse zones; fully qualified, lower case
	TTL    time.Duration // the zones' SOA minimum and NS record TTL
	Key    deploy.TSIG   // the only key allowed to update and transfer (allow-update, allow-transfer)
}

// Instance is a prepared DNS server, ready to start in its namespace.
type Instance struct {
	Config Config
	// Argv runs named in the foreground, as root, with its configuration
	// in Dir; no rndc, no host paths (pid-file, session key,
	// managed-keys directory, lock file all in Dir).
	Argv []string
	// Log is named's general log (a file in Dir).
	Log string
	// UpdateLog is the log of the update and update-security categories
	// (a file in Dir), ReadUpdates' input.
	UpdateLog string
}

// Names of the files Prepare writes in Config.Dir.
const (
	ConfFile      = "named.conf"
	LogFile       = "named.log"
	UpdateLogFile = "update.log"
	// NSLabel is the first label of the zones' name server, inside the
	// forward zone ("ns.lab.example."). A client's host name is "h" and
	// a number (history.HostName), so it never collides.
	NSLabel = "ns"
)

// Threads is named's -n: the lab's DNS server sees a handful of updates
// a second, and the machine's cores belong to the servers under test.
const Threads = 1

// NSName is the name of the zones' name server: NSLabel in the forward
// zone.
func NSName(forward string) string { return NSLabel + "." + forward }

// ZoneFile is the name of zone's file in Config.Dir ("db.lab.example");
// its journal is the same name with ".jnl".
func ZoneFile(zone string) string { return "db." + strings.TrimSuffix(zone, ".") }

// check refuses a configuration Prepare cannot render, naming the value;
// what only BIND can judge is left to named-checkconf.
func (c Config) check() error {
	if c.Dir == "" {
		return fmt.Errorf("nameserver: no run directory")
	}
	if strings.ContainsAny(c.Dir, "\"\n\\") {
		return fmt.Errorf("nameserver: run directory %q: a quote, backslash or newline cannot be written in named.conf", c.Dir)
	}
	if !c.Listen.IsValid() || !c.Listen.Is6() || c.Listen.Is4In6() || c.Listen.Zone() != "" {
		return fmt.Errorf("nameserver: listen address %s: want a global IPv6 address without a zone", c.Listen)
	}
	if len(c.Zones) == 0 {
		return fmt.Errorf("nameserver: no zones (the forward zone first, then the reverse zones)")
	}
	seen := map[string]bool{}
	for _, z := range c.Zones {
		if err := checkZoneName(z); err != nil {
			return err
		}
		if seen[z] {
			return fmt.Errorf("nameserver: zone %q given twice", z)
		}
		seen[z] = true
	}
	if s := ttlSeconds(c.TTL); s < 1 || time.Duration(s)*time.Second != c.TTL {
		return fmt.Errorf("nameserver: TTL %s: want whole seconds, at least 1 s", c.TTL)
	}
	k := c.Key
	if k.Name == "" || k.Secret == "" {
		return fmt.Errorf("nameserver: TSIG key %q: empty name or secret (make one with NewKey)", k.Name)
	}
	if strings.ContainsAny(k.Name+k.Secret+k.Algorithm, "\"; \t\n{}\\") {
		return fmt.Errorf("nameserver: TSIG key %q: a quote, space, semicolon, brace or backslash cannot be written in named.conf", k.Name)
	}
	if alg := confAlgorithm(k.Algorithm); alg == "" {
		return fmt.Errorf("nameserver: TSIG key %s: algorithm %q not one BIND 9 knows (hmac-sha256., hmac-sha512., ...)", k.Name, k.Algorithm)
	}
	if _, err := base64.StdEncoding.DecodeString(k.Secret); err != nil {
		return fmt.Errorf("nameserver: TSIG key %s: secret is not base64: %w", k.Name, err)
	}
	return nil
}

// checkZoneName refuses what cannot be a zone in named.conf; the rest
// (label lengths, characters BIND refuses) is named-checkconf's.
func checkZoneName(z string) error {
	switch {
	case z == "" || z == ".":
		return fmt.Errorf("nameserver: zone %q: empty or the root", z)
	case !strings.HasSuffix(z, "."):
		return fmt.Errorf("nameserver: zone %q: not fully qualified (want %q)", z, z+".")
	case z != strings.ToLower(z):
		return fmt.Errorf("nameserver: zone %q: not lower case", z)
	case strings.ContainsAny(z, "\"; \t\n{}\\/"):
		return fmt.Errorf("nameserver: zone %q: a quote, space, semicolon, brace, slash or backslash is no zone name", z)
	}
	if _, ok := dns.IsDomainName(z); !ok {
		return fmt.Errorf("nameserver: zone %q: not a domain name", z)
	}
	return nil
}

// ttlSeconds is d in whole seconds.
func ttlSeconds(d time.Duration) int64 { return int64(d / time.Second) }

// confAlgorithm is BIND's name of a TSIG algorithm ("hmac-sha256" for
// dns.HmacSHA256), "" for one it does not take.
func confAlgorithm(alg string) string {
	switch strings.ToLower(dns.Fqdn(alg)) {
	case dns.HmacSHA256:
		return "hmac-sha256"
	case dns.HmacSHA224:
		return "hmac-sha224"
	case dns.HmacSHA384:
		return "hmac-sha384"
	case dns.HmacSHA512:
		return "hmac-sha512"
	case dns.HmacSHA1:
		return "hmac-sha1"
	case dns.HmacMD5:
		return "hmac-md5"
	}
	return ""
}

// Prepare writes named.conf and one zone file per zone (SOA, NS and the
// name server's AAAA in the forward zone: NSName -> Listen) into
// cfg.Dir, then runs `named-checkconf -z` on them; its error quotes the
// checker's output. Nothing is started.
func Prepare(cfg Config) (*Instance, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("nameserver: run directory %s: %w", cfg.Dir, err)
	}
	cfg.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("nameserver: %w", err)
	}
	in := &Instance{
		Config:    cfg,
		Log:       filepath.Join(dir, LogFile),
		UpdateLog: filepath.Join(dir, UpdateLogFile),
	}
	// A fresh start: BIND appends to its logs, and ReadUpdates must see
	// this run's updates only.
	for _, p := range []string{in.Log, in.UpdateLog} {
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("nameserver: %w", err)
		}
	}
	conf := filepath.Join(dir, ConfFile)
	if err := os.WriteFile(conf, []byte(renderConf(cfg, in)), 0o644); err != nil {
		return nil, fmt.Errorf("nameserver: %w", err)
	}
	for i, z := range cfg.Zones {
		path := filepath.Join(dir, ZoneFile(z))
		// A journal from an earlier run in the same directory would be
		// replayed over the fresh zone.
		if err := os.Remove(path + ".jnl"); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("nameserver: %w", err)
		}
		// named writes a dynamic zone back to its file: 0644, owned by root.
		if err := os.WriteFile(path, []byte(renderZone(cfg, z, i == 0)), 0o644); err != nil {
			return nil, fmt.Errorf("nameserver: %w", err)
		}
	}
	if err := runCheckConf(conf); err != nil {
		return nil, err
	}
	in.Argv = []string{NamedBinary, "-f", "-n", strconv.Itoa(Threads), "-c", conf}
	return in, nil
}

// renderConf is named.conf: every path in Dir, no rndc, authoritative
// only, one key allowed to update and transfer each zone.
func renderConf(c Config, in *Instance) string {
	var b strings.Builder
	q := strconv.Quote
	path := func(name string) string { return q(filepath.Join(c.Dir, name)) }
	fmt.Fprintf(&b, "// d6lab: the lab's authoritative DNS server (BIND 9), rendered by sim/nameserver.\n")
	fmt.Fprintf(&b, "options {\n")
	fmt.Fprintf(&b, "\tdirectory %s;\n", q(c.Dir))
	fmt.Fprintf(&b, "\tpid-file %s;\n", path("named.pid"))
	fmt.Fprintf(&b, "\tlock-file %s;\n", path("named.lock"))
	fmt.Fprintf(&b, "\tsession-keyfile %s;\n", path("session.key"))
	fmt.Fprintf(&b, "\tmanaged-keys-directory %s;\n", q(c.Dir))
	fmt.Fprintf(&b, "\tdump-file %s;\n", path("named_dump.db"))
	fmt.Fprintf(&b, "\tstatistics-file %s;\n", path("named.stats"))
	fmt.Fprintf(&b, "\tmemstatistics-file %s;\n", path("named.memstats"))
	fmt.Fprintf(&b, "\tsecroots-file %s;\n", path("named.secroots"))
	fmt.Fprintf(&b, "\trecursing-file %s;\n", path("named.recursing"))
	fmt.Fprintf(&b, "\tlisten-on-v6 { %s; };\n", c.Listen)
	fmt.Fprintf(&b, "\tlisten-on { none; };\n")
	fmt.Fprintf(&b, "\trecursion no;\n")
	fmt.Fprintf(&b, "\tnotify no;\n")
	fmt.Fprintf(&b, "\tdnssec-validation no;\n")
	fmt.Fprintf(&b, "\tallow-query { any; };\n")
	fmt.Fprintf(&b, "\tautomatic-interface-scan no;\n")
	fmt.Fprintf(&b, "\tinterface-interval 0;\n")
	fmt.Fprintf(&b, "};\n\n")
	fmt.Fprintf(&b, "controls { };\n\n")
	fmt.Fprintf(&b, "key %s {\n\talgorithm %s;\n\tsecret %s;\n};\n\n", q(c.Key.Name), confAlgorithm(c.Key.Algorithm), q(c.Key.Secret))
	fmt.Fprintf(&b, "logging {\n")
	fmt.Fprintf(&b, "\tchannel general {\n\t\tfile %s;\n\t\tseverity info;\n\t\tprint-time iso8601-utc;\n\t\tprint-category yes;\n\t\tprint-severity yes;\n\t};\n", q(in.Log))
	fmt.Fprintf(&b, "\tchannel updates {\n\t\tfile %s;\n\t\tseverity info;\n\t\tprint-time iso8601-utc;\n\t\tprint-category yes;\n\t\tprint-severity yes;\n\t};\n", q(in.UpdateLog))
	fmt.Fprintf(&b, "\tcategory default { general; };\n")
	fmt.Fprintf(&b, "\tcategory update { updates; general; };\n")
	fmt.Fprintf(&b, "\tcategory update-security { updates; general; };\n")
	// An update signed with a key BIND does not know or with a bad MAC is
	// refused before it is read as an update: only this category says so.
	fmt.Fprintf(&b, "\tcategory security { updates; general; };\n")
	fmt.Fprintf(&b, "};\n")
	for _, z := range c.Zones {
		fmt.Fprintf(&b, "\nzone %s {\n\ttype primary;\n\tfile %s;\n\tallow-update { key %s; };\n\tallow-transfer { key %s; };\n};\n",
			q(z), q(ZoneFile(z)), q(c.Key.Name), q(c.Key.Name))
	}
	return b.String()
}

// renderZone is zone's initial file: SOA (serial 1, the negative-caching
// TTL c.TTL), NS, and in the forward zone the name server's AAAA.
func renderZone(c Config, zone string, forward bool) string {
	ttl := ttlSeconds(c.TTL)
	ns := NSName(c.Zones[0])
	var b strings.Builder
	fmt.Fprintf(&b, "; d6lab: zone %s, rendered by sim/nameserver\n", zone)
	fmt.Fprintf(&b, "$TTL %d\n", ttl)
	fmt.Fprintf(&b, "%s %d IN SOA %s hostmaster.%s 1 3600 600 86400 %d\n", zone, ttl, ns, c.Zones[0], ttl)
	fmt.Fprintf(&b, "%s %d IN NS %s\n", zone, ttl, ns)
	if forward {
		fmt.Fprintf(&b, "%s %d IN AAAA %s\n", ns, ttl, c.Listen)
	}
	return b.String()
}
