package ddns

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// The DHCID RR (RFC 4701).
const (
	// IdentifierDUID is the identifier-type code of a DHCPv6 client's DUID
	// (RFC 4701 §3.3: 0x0002, "the client's DUID", for DHCPv6 the DUID of
	// the Client Identifier option).
	IdentifierDUID = 0x0002
	// DigestSHA256 is the digest type code of SHA-256 (RFC 4701 §3.4:
	// "value 0 is reserved, and value 1 is SHA-256"; §7).
	DigestSHA256 = 1
)

// DHCID returns the DHCID RDATA of a client with DUID duid and name fqdn
// (RFC 4701 §3.3, §3.5, §3.5.1): the identifier-type code (2 octets,
// 0x0002), the digest type code (1 octet, 1) and SHA-256 over the
// identifier (the DUID's octets) followed by the FQDN in canonical wire
// form (RFC 4701 §3.5: "The FQDN is represented in the buffer in the
// canonical wire format as described in [RFC 4034], Section 6.2", i.e.
// uncompressed and lower case).
func DHCID(duid []byte, fqdn string) ([]byte, error) {
	wire := make([]byte, 256)
	n, err := dns.PackDomainName(dns.Fqdn(strings.ToLower(fqdn)), wire, 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("ddns: DHCID of %q: %w", fqdn, err)
	}
	h := sha256.New()
	h.Write(duid)
	h.Write(wire[:n])
	out := make([]byte, 0, 3+sha256.Size)
	out = append(out, IdentifierDUID>>8, IdentifierDUID&0xff, DigestSHA256)
	return h.Sum(out), nil
}

// DHCIDRR returns the DHCID record of duid and fqdn at fqdn with TTL ttl
// (seconds). The RR's Digest field is the whole RDATA in base64 (the
// presentation form, RFC 4701 §3.2).
func DHCIDRR(duid []byte, fqdn string, ttl uint32) (*dns.DHCID, error) {
	rd, err := DHCID(duid, fqdn)
	if err != nil {
		return nil, err
	}
	return &dns.DHCID{
		Hdr:    dns.RR_Header{Name: fqdn, Rrtype: dns.TypeDHCID, Class: dns.ClassINET, Ttl: ttl},
		Digest: base64.StdEncoding.EncodeToString(rd),
	}, nil
}

func encodeDigest(rd []byte) string { return base64.StdEncoding.EncodeToString(rd) }
