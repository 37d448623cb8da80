package nameserver

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	"d6lab/deploy"
	"d6lab/netaddr6"
	"d6lab/reports/history"

	"github.com/miekg/dns"
)

// ReadyInterval is how often Ready asks.
const ReadyInterval = 50 * time.Millisecond

// Ready waits until an SOA query for zone to addr is answered
// authoritatively (RFC 1035 §4.1.1: AA set, NOERROR, the zone's SOA in the
// answer), asking every ReadyInterval until ctx ends; its error then says
// what the last attempt got. It dials in the calling goroutine (run it
// inside the lab's namespace with netns.Lab.Do).
func Ready(ctx context.Context, addr netip.AddrPort, zone string) error {
	zone = dns.Fqdn(strings.ToLower(zone))
	q := new(dns.Msg)
	q.SetQuestion(zone, dns.TypeSOA)
	q.RecursionDesired = false
	last := errors.New("not asked")
	for {
		start := time.Now()
		wait := ReadyInterval
		if err := soaOnce(ctx, q, addr, zone); err == nil {
			return nil
		} else {
			last = err
		}
		wait -= time.Since(start)
		if wait < 0 {
			wait = 0
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nameserver: %s not answering for %s: %w (last: %v)", addr, zone, ctx.Err(), last)
		case <-time.After(wait):
		}
	}
}

// soaOnce asks addr for zone's SOA once, for at most 4 intervals.
func soaOnce(ctx context.Context, q *dns.Msg, addr netip.AddrPort, zone string) error {
	ctx, cancel := context.WithTimeout(ctx, 4*ReadyInterval)
	defer cancel()
	c := &dns.Client{Net: "udp"}
	q.Id = dns.Id()
	r, _, err := c.ExchangeContext(ctx, q, addr.String())
	switch {
	case err != nil:
		return err
	case r.Rcode != dns.RcodeSuccess:
		return fmt.Errorf("rcode %s", dns.RcodeToString[r.Rcode])
	case !r.Authoritative:
		return errors.New("answer not authoritative")
	}
	for _, rr := range r.Answer {
		if rr.Header().Rrtype == dns.TypeSOA && strings.EqualFold(rr.Header().Name, zone) {
			return nil
		}
	}
	return errors.New("no SOA in the answer")
}

// Record is one RR of a transfer, normalised.
type Record struct {
	// Name is the owner name, lower case, fully qualified.
	Name string
	// Type is history.DNSTypeAAAA, DNSTypePTR, DNSTypeDHCID or another
	// type's name ("TXT").
	Type string
	// Addr is an AAAA's address, or the address a PTR's owner name spells
	// (netaddr6.AddrOfReverse); zero otherwise.
	Addr netip.Addr
	// Data is a PTR's target (lower case, fully qualified), a DHCID's
	// RDATA in hex (RFC 4701 §3), "" for an AAAA; another type's RDATA in
	// presentation format.
	Data string
	TTL  time.Duration
}

// Transfer does an AXFR (RFC 5936) of zone from addr over TCP, signed
// with key (RFC 8945), all within timeout, and returns its records
// without the zone's own: the SOA and NS at its apex and the addresses of
// the name servers the NS records name. It dials in the calling goroutine
// (run it inside the lab's namespace with netns.Lab.Do); the reading
// goroutine it starts creates no sockets. A server that is down, refuses
// or stops answering is an error within timeout.
func Transfer(addr netip.AddrPort, zone string, key deploy.TSIG, timeout time.Duration) ([]Record, error) {
	zone = dns.Fqdn(strings.ToLower(zone))
	fail := func(err error) ([]Record, error) {
		return nil, fmt.Errorf("nameserver: transfer of %s from %s: %w", zone, addr, err)
	}
	if key.Name == "" || key.Secret == "" {
		return fail(errors.New("no TSIG key"))
	}
	alg := strings.ToLower(dns.Fqdn(key.Algorithm))
	if key.Algorithm == "" {
		alg = dns.HmacSHA256
	}
	keyName := dns.Fqdn(strings.ToLower(key.Name))
	end := time.Now().Add(timeout)
	d := net.Dialer{Deadline: end}
	nc, err := d.Dial("tcp", addr.String())
	if err != nil {
		return fail(err)
	}
	_ = nc.SetDeadline(end)
	t := &dns.Transfer{
		Conn:        &dns.Conn{Conn: &deadlineConn{Conn: nc, end: end}},
		ReadTimeout: timeout,
		TsigSecret:  map[string]string{keyName: key.Secret},
	}
	q := new(dns.Msg)
	q.SetAxfr(zone)
	q.SetTsig(keyName, alg, 300, time.Now().Unix())
	env, err := t.In(q, addr.String())
	if err != nil {
		nc.Close()
		return fail(err)
	}
	var rrs []dns.RR
	var xerr error
	for e := range env { // read to the end: the reader closes the connection, then env
		if e.Error != nil && xerr == nil {
			xerr = e.Error
		}
		rrs = append(rrs, e.RR...)
	}
	if errors.Is(xerr, dns.ErrAuth) {
		// RFC 8945 §5.2: a server that refuses the request's signature
		// answers unsigned, with NOTAUTH and BADKEY or BADSIG.
		return fail(fmt.Errorf("%w: the answer's TSIG does not verify with key %s (the server does not know the key or its secret differs)", xerr, keyName))
	}
	if xerr != nil {
		return fail(xerr)
	}
	if len(rrs) < 2 {
		return fail(fmt.Errorf("%d records, not a whole zone", len(rrs)))
	}
	return zoneRecords(zone, rrs), nil
}

// deadlineConn keeps every read and write deadline at or before end: the
// transfer's reader sets a fresh read deadline per message.
type deadlineConn struct {
	net.Conn
	end time.Time
}

func (c *deadlineConn) clamp(t time.Time) time.Time {
	if t.IsZero() || t.After(c.end) {
		return c.end
	}
	return t
}
func (c *deadlineConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clamp(t)) }
func (c *deadlineConn) SetReadDeadline(t time.Time) error {
	return c.Conn.SetReadDeadline(c.clamp(t))
}
func (c *deadlineConn) SetWriteDeadline(t time.Time) error {
	return c.Conn.SetWriteDeadline(c.clamp(t))
}

// zoneRecords normalises a transfer's RRs, leaving out the zone's own
// (apex records and the name servers' addresses) and the closing SOA.
func zoneRecords(zone string, rrs []dns.RR) []Record {
	servers := map[string]bool{}
	for _, rr := range rrs {
		if ns, ok := rr.(*dns.NS); ok && strings.EqualFold(ns.Hdr.Name, zone) {
			servers[strings.ToLower(ns.Ns)] = true
		}
	}
	var out []Record
	for _, rr := range rrs {
		h := rr.Header()
		name := strings.ToLower(h.Name)
		if name == zone {
			continue
		}
		if servers[name] && (h.Rrtype == dns.TypeAAAA || h.Rrtype == dns.TypeA) {
			continue
		}
		out = append(out, normalise(name, rr))
	}
	return out
}

func normalise(name string, rr dns.RR) Record {
	h := rr.Header()
	r := Record{Name: name, Type: dns.TypeToString[h.Rrtype], TTL: time.Duration(h.Ttl) * time.Second}
	if r.Type == "" {
		r.Type = fmt.Sprintf("TYPE%d", h.Rrtype)
	}
	switch v := rr.(type) {
	case *dns.AAAA:
		r.Type = history.DNSTypeAAAA
		if a, ok := netip.AddrFromSlice(v.AAAA); ok {
			r.Addr = a.Unmap()
		}
	case *dns.PTR:
		r.Type = history.DNSTypePTR
		r.Addr, _ = netaddr6.AddrOfReverse(name)
		r.Data = strings.ToLower(v.Ptr)
	case *dns.DHCID:
		r.Type = history.DNSTypeDHCID
		if b, err := base64.StdEncoding.DecodeString(v.Digest); err == nil {
			r.Data = hex.EncodeToString(b)
		} else {
			r.Data = v.Digest
		}
	default:
		r.Data = strings.TrimPrefix(rr.String(), h.String())
	}
	return r
}
