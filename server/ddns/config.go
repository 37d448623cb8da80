package ddns

import (
	"encoding/base64"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/miekg/dns"

	"d6lab/deploy"
)

// Algorithms are the TSIG algorithms an update may be signed with (RFC
// 8945 §6: HMAC-SHA256 is the one to implement; the others as miekg/dns
// knows them), fully qualified and lower case.
var Algorithms = []string{dns.HmacSHA256, dns.HmacSHA224, dns.HmacSHA384, dns.HmacSHA512, dns.HmacSHA1}

// Validate checks a DNS configuration and names the first bad field.
func Validate(c deploy.DNS) error {
	switch {
	case !c.Server.IsValid() || c.Server.Port() == 0:
		return fmt.Errorf("ddns: server %q: want [address]:port", c.Server)
	case c.Zone == "" || !dns.IsFqdn(c.Zone):
		return fmt.Errorf("ddns: zone %q: want a fully qualified name (with the final dot)", c.Zone)
	case c.TTL < 0 || c.TTL > math.MaxInt32*time.Second || c.TTL%time.Second != 0:
		return fmt.Errorf("ddns: TTL %v: want whole seconds in 0..%d s", c.TTL, math.MaxInt32)
	}
	if _, ok := dns.IsDomainName(c.Zone); !ok {
		return fmt.Errorf("ddns: zone %q is not a domain name", c.Zone)
	}
	for _, z := range c.ReverseZones {
		if _, ok := dns.IsDomainName(z); !ok || !dns.IsFqdn(z) || !InZone(strings.ToLower(z), "ip6.arpa.") {
			return fmt.Errorf("ddns: reverse zone %q: want a fully qualified name under ip6.arpa.", z)
		}
	}
	return ValidateKey(c.Key)
}

// ValidateKey checks a TSIG key: a fully qualified name, a known
// algorithm, a base64 secret.
func ValidateKey(k deploy.TSIG) error {
	if _, ok := dns.IsDomainName(k.Name); !ok || k.Name == "" || !dns.IsFqdn(k.Name) {
		return fmt.Errorf("ddns: TSIG key name %q: want a fully qualified name", k.Name)
	}
	known := false
	for _, a := range Algorithms {
		if strings.EqualFold(k.Algorithm, a) {
			known = true
		}
	}
	if !known {
		return fmt.Errorf("ddns: TSIG key %s: algorithm %q: want one of %s", k.Name, k.Algorithm, strings.Join(Algorithms, ", "))
	}
	if s, err := base64.StdEncoding.DecodeString(k.Secret); err != nil || len(s) == 0 {
		return fmt.Errorf("ddns: TSIG key %s: the secret is not base64", k.Name)
	}
	return nil
}
