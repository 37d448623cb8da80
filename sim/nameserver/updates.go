package nameserver

import (
	"bufio"
	"fmt"
	"net/netip"
	"os"
	"regexp"
	"strings"
	"time"

	"d6lab/reports/history"
)

// Update is one RFC 2136 update as BIND logged it.
type Update struct {
	At     time.Time
	Source netip.Addr // the sender
	// Zone is the zone it updated, lower case FQDN; the zone it named
	// when BIND is not authoritative for it (NOTAUTH); "" when BIND
	// refused it before reading it (a TSIG error).
	Zone string
	// Name is the (first) name it updated or whose prerequisite failed,
	// lower case FQDN; "" when BIND does not say (an update denied by
	// allow-update, a TSIG error, NOTAUTH, NOTZONE, an update whose
	// prerequisites held and that changed nothing).
	Name string
	// Outcome is history.DNSUpdateOK; history.DNSUpdateConflict when a
	// DHCID "RRset exists (value dependent)" prerequisite failed (RFC 4703
	// §5.3.2: the name belongs to another client); otherwise the refusing
	// RCODE in lower case: "yxdomain" (RFC 4703 §5.3.1's first step found
	// the name in use), "nxrrset" (another failed prerequisite),
	// "refused" (allow-update denied it: unsigned, or another key),
	// "notauth" (a zone BIND does not serve), "notzone", "quota" (BIND's
	// update-quota was full: dropped without an answer), or a TSIG error
	// (RFC 8945 §5.2: "badkey" for a key BIND does not know, "badsig" for
	// a wrong secret, "badtime").
	Outcome string
}

// A line of a BIND log with print-time iso8601-utc, print-category and
// print-severity: "2026-12-03T05:21:21.178Z update: info: MESSAGE".
var lineRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\dT\S+) ([a-z-]+): ([a-z]+(?: \d+)?): (.*)$`)

// A client's request: "client @0x7f24480dc898 fd00:d6:53::1:0:1#46784/key
// ddns.lab.example: MESSAGE" (the key part only for a signed one).
var clientRE = regexp.MustCompile(`^client @(0x[0-9a-f]+) (\S+)#(\d+)(?:/key \S+)?(?: \([^)]*\))?: (.*)$`)

var (
	// update-security
	approvedRE = regexp.MustCompile(`^(?:signer "[^"]*"|update '[^']*') approved$`)
	deniedRE   = regexp.MustCompile(`^update '([^'/]*)/[A-Z]+' denied$`)
	// update
	zoneRE = regexp.MustCompile(`^updating zone '([^'/]*)/[A-Z]+': (.*)$`)
	// "adding an RR at 'h1.lab.example' AAAA 2001:db8::3", "deleting an RR
	// at h5.lab.example AAAA", "deleting rrset at 'h5.lab.example' DHCID",
	// "delete all rrsets from name 'h6.lab.example'"
	changeRE = regexp.MustCompile(`^(?:adding an RR at|deleting an RR at|deleting rrset at|delete all rrsets from name) '?([^' ]+)'?(?: |$)`)
	// "update unsuccessful: h1.lab.example/DHCID: 'RRset exists (value
	// dependent)' prerequisite not satisfied (NXRRSET)"
	prereqRE = regexp.MustCompile(`^update unsuccessful: ([^/: ]+)(?:/([A-Z0-9]+))?: '([^']*)' prerequisite not satisfied \(([A-Z]+)\)$`)
	// "update failed: update RR is outside zone (NOTZONE)", "update
	// failed: other.example: not authoritative for update zone (NOTAUTH)",
	// "update failed: too many DNS UPDATEs queued (quota reached)" (BIND's
	// update-quota, 100 by default: the update is dropped unanswered, and
	// the sender retries: Outcome "quota")
	failedRE  = regexp.MustCompile(`^update failed: (.*) \(([A-Z]+|quota reached)\)$`)
	notAuthRE = regexp.MustCompile(`^([^: ]+): not authoritative for update zone$`)
	// security: "request has invalid signature: TSIG other.lab.example:
	// tsig verify failure (BADKEY)"
	badSigRE = regexp.MustCompile(`^request has invalid signature: .* \(([A-Z]+)\)$`)
)

// dhcidMatch is BIND's name of the prerequisite RFC 4703 §5.3.2 sends: the
// DHCID RRset with the client's value (RFC 2136 §2.4.2).
const dhcidMatch = "RRset exists (value dependent)"

// fqdn is a name as BIND logs it (no final dot) made lower case and fully
// qualified.
func fqdn(s string) string {
	s = strings.ToLower(strings.TrimSuffix(s, "."))
	if s == "" {
		return ""
	}
	return s + "."
}

// ReadUpdates parses UpdateLog (the update, update-security and security
// categories) into the updates BIND processed, in the order they arrived.
// An update is the lines of one client request: "signer ... approved",
// then one line per change (an update that changed something) or the
// line that refused it; an update refused before it was approved (denied
// by allow-update, NOTAUTH, a TSIG error) is one line. A line it cannot
// parse, or a message of the update categories it does not know, is
// skipped and counted (second result); the security category's other
// messages are not about updates and are passed over.
func ReadUpdates(path string) ([]Update, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("nameserver: update log: %w", err)
	}
	defer f.Close()
	var (
		out     []Update
		skipped int
		open    = map[string]int{} // client @ptr addr#port -> index in out of its update in progress
	)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			skipped++
			continue
		}
		at, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil {
			skipped++
			continue
		}
		category, msg := m[2], m[4]
		c := clientRE.FindStringSubmatch(msg)
		if c == nil {
			if category == "security" {
				continue
			}
			skipped++
			continue
		}
		src, err := netip.ParseAddr(c[2])
		if err != nil {
			skipped++
			continue
		}
		key, msg := c[1]+" "+c[2]+"#"+c[3], c[4]
		// current returns the update in progress of this request, opening
		// one (a log that starts mid-update) when there is none.
		current := func(zone string) *Update {
			i, ok := open[key]
			if !ok {
				out = append(out, Update{At: at, Source: src, Outcome: history.DNSUpdateOK})
				i = len(out) - 1
				open[key] = i
			}
			u := &out[i]
			if u.Zone == "" {
				u.Zone = zone
			}
			return u
		}
		one := func(u Update) {
			delete(open, key)
			u.At, u.Source = at, src
			out = append(out, u)
		}
		switch category {
		case "security":
			if s := badSigRE.FindStringSubmatch(msg); s != nil {
				one(Update{Outcome: strings.ToLower(s[1])})
			}
		case "update-security":
			switch {
			case approvedRE.MatchString(msg):
				delete(open, key) // a new request from the same client
				current("")
			case deniedRE.MatchString(msg):
				one(Update{Zone: fqdn(deniedRE.FindStringSubmatch(msg)[1]), Outcome: "refused"})
			default:
				skipped++
			}
		case "update":
			zone := ""
			if z := zoneRE.FindStringSubmatch(msg); z != nil {
				zone, msg = fqdn(z[1]), z[2]
			}
			if f := failedRE.FindStringSubmatch(msg); f != nil && zone == "" {
				// refused before a zone was found for it (NOTAUTH)
				u := Update{Outcome: failedOutcome(f[2])}
				if n := notAuthRE.FindStringSubmatch(f[1]); n != nil {
					u.Zone = fqdn(n[1])
				}
				if i, ok := open[key]; ok {
					out[i].Outcome = u.Outcome
					if out[i].Zone == "" {
						out[i].Zone = u.Zone
					}
					delete(open, key)
				} else {
					one(u)
				}
				continue
			}
			if zone == "" {
				skipped++
				continue
			}
			switch {
			case changeRE.MatchString(msg):
				u := current(zone)
				if u.Name == "" {
					u.Name = fqdn(changeRE.FindStringSubmatch(msg)[1])
				}
			case prereqRE.MatchString(msg):
				p := prereqRE.FindStringSubmatch(msg)
				u := current(zone)
				u.Name = fqdn(p[1])
				u.Outcome = strings.ToLower(p[4])
				// RFC 4703 §5.3.2: the DHCID differs, the name is another
				// client's.
				if p[3] == dhcidMatch && p[2] == "DHCID" {
					u.Outcome = history.DNSUpdateConflict
				}
				delete(open, key)
			case failedRE.MatchString(msg):
				u := current(zone)
				u.Outcome = failedOutcome(failedRE.FindStringSubmatch(msg)[2])
				delete(open, key)
			default:
				skipped++
			}
		default:
			skipped++
		}
	}
	if err := sc.Err(); err != nil {
		return out, skipped, fmt.Errorf("nameserver: update log %s: %w", path, err)
	}
	return out, skipped, nil
}

// failedOutcome is the Outcome of an "update failed" line: its RCODE in
// lower case, or "quota" when BIND's update-quota dropped it.
func failedOutcome(why string) string {
	if why == "quota reached" {
		return "quota"
	}
	return strings.ToLower(why)
}
