package server

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/deploy"
	"d6lab/server/alloc"
)

// UnicastPolicy is what the server does with a client message (not
// relayed) that arrived by unicast.
//
// RFC 9915 §16: "Servers SHOULD NOT accept unicast traffic from clients";
// RFC 9915 obsoletes the Server Unicast option and the UseMulticast status
// code, which RFC 8415 §18.4 used to answer such messages. The zero value,
// UnicastDrop, follows RFC 9915; the others reproduce a server that still
// accepts unicast (RFC 9915 §16 allows it for a server that once sent the
// Server Unicast option) or RFC 8415's UseMulticast answer.
type UnicastPolicy uint8

// Unicast policies.
const (
	// UnicastDrop discards the message (DropUnicast), RFC 9915 §16.
	UnicastDrop UnicastPolicy = iota
	// UnicastAccept processes the message as if it had been multicast.
	UnicastAccept
	// UnicastUseMulticast answers a unicast Request, Renew, Release or
	// Decline with a Reply carrying only Server ID, Client ID and status
	// UseMulticast (RFC 8415 §18.4); other message types are discarded.
	UnicastUseMulticast
)

var unicastNames = [...]string{"drop", "accept", "usemulticast"}

// ParseUnicastPolicy parses "drop", "accept" or "usemulticast".
func ParseUnicastPolicy(s string) (UnicastPolicy, error) {
	for i, n := range unicastNames {
		if s == n {
			return UnicastPolicy(i), nil
		}
	}
	return 0, fmt.Errorf("server: unknown unicast policy %q (valid: %s)", s, strings.Join(unicastNames[:], ", "))
}

func (p UnicastPolicy) String() string {
	if int(p) < len(unicastNames) {
		return unicastNames[p]
	}
	return fmt.Sprintf("UnicastPolicy(%d)", uint8(p))
}

// Set implements flag.Value and pflag.Value.
func (p *UnicastPolicy) Set(s string) error {
	q, err := ParseUnicastPolicy(s)
	if err == nil {
		*p = q
	}
	return err
}

// Type implements pflag.Value.
func (*UnicastPolicy) Type() string { return "unicast-policy" }

// MarshalText implements encoding.TextMarshaler.
func (p UnicastPolicy) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *UnicastPolicy) UnmarshalText(b []byte) error { return p.Set(string(b)) }

// Config configures a Server. Every field maps to one flag or scenario
// setting; DefaultConfig fills the lifetimes and the allocator.
type Config struct {
	// Name names the server; when DUID is empty a stable DUID is derived
	// from it (see DeriveDUID), so a given config always has the same DUID.
	Name string
	// DUID is the server's raw DUID (RFC 9915 §11), e.g. from ParseDUID.
	DUID []byte
	// DUIDType is the kind of DUID derived from Name: "ll" (DUID-LL, the
	// default) or "llt" (DUID-LLT). Ignored when DUID is set.
	DUIDType string

	// Prefix is the on-link prefix: addresses in it (or in Pool) are
	// "appropriate to the link" (RFC 9915 §4.2) for Confirm, Request,
	// Renew and Rebind. Zero means the /64 that holds Pool's first address.
	Prefix netip.Prefix
	// Pool is the address pool for IA_NA. It need not lie inside Prefix
	// (the unique model gives each server its own /64) but must not be
	// empty.
	Pool alloc.Pool
	// PDPool is the delegated-prefix pool for IA_PD; zero disables prefix
	// delegation (IA_PDs get NoPrefixAvail).
	PDPool alloc.PrefixPool

	// Preference is sent in every Advertise (RFC 9915 §21.8).
	Preference uint8

	// Lifetimes: T1 <= T2 <= Preferred <= Valid, each at least 1s.
	T1, T2, Preferred, Valid time.Duration

	// Allocator is "hash", "sequential" or "random" (empty means hash).
	Allocator deploy.Allocator
	// Rebind is the policy for a Rebind of an IA this server holds no
	// binding for.
	Rebind deploy.RebindPolicy
	// RapidCommit lets the server answer a Solicit carrying Rapid Commit
	// with a committed Reply (RFC 9915 §18.3.1).
	RapidCommit bool
	// Seed feeds the random allocator.
	Seed uint64
	// DeclineHold is how long a declined address stays out of the pool
	// (RFC 9915 §18.3.8 leaves it to local policy). Zero means Valid.
	DeclineHold time.Duration
	// InfoRefresh is the Information Refresh Time sent in every Reply to
	// an Information-request (RFC 9915 §21.23); zero sends no option, and
	// clients fall back to IRT_DEFAULT (one day). Clients raise a value
	// below IRT_MINIMUM (600 s) to it; the lab's clients scale that floor
	// with their timescale.
	InfoRefresh time.Duration
	// Unicast is what to do with a client message received by unicast.
	Unicast UnicastPolicy
	// DNS, when set, has the server keep its clients' names in DNS: it
	// answers the Client FQDN option (RFC 4704) and adds and removes
	// AAAA, PTR and DHCID records by RFC 2136 updates under RFC 4703's
	// conflict rules. nil: no DNS updates, and the option is ignored.
	DNS *deploy.DNS
}

// DefaultConfig returns a config with RFC 9915 §21.4's recommended timer
// ratios (T1 = 0.5, T2 = 0.8 of the preferred lifetime), the hash
// allocator and the create rebind policy. Name and Pool remain to be set.
func DefaultConfig() Config {
	return Config{
		Preferred: time.Hour,
		Valid:     2 * time.Hour,
		T1:        30 * time.Minute,
		T2:        48 * time.Minute,
		Allocator: deploy.AllocHash,
		Rebind:    deploy.RebindCreate,
		Unicast:   UnicastDrop,
	}
}

// ConfigError is a Validate failure; Field names the offending field.
type ConfigError struct {
	Field string
	Msg   string
}

func (e *ConfigError) Error() string { return "server: config: " + e.Field + ": " + e.Msg }

func cfgErr(field, format string, args ...any) error {
	return &ConfigError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// maxLifetime is the largest lifetime an IA option carries short of
// infinity (0xffffffff seconds, RFC 9915 §7.7).
const maxLifetime = (math.MaxUint32 - 1) * time.Second

// Validate checks c and names the first offending field.
func (c Config) Validate() error {
	if len(c.DUID) > 0 {
		if err := ValidateDUID(c.DUID); err != nil {
			return &ConfigError{Field: "DUID", Msg: err.Error()}
		}
	} else {
		if c.Name == "" {
			return cfgErr("Name", "either DUID or Name must be set")
		}
		switch c.DUIDType {
		case "", "ll", "llt":
		default:
			return cfgErr("DUIDType", "%q is not ll or llt", c.DUIDType)
		}
	}
	if c.Prefix.IsValid() && (!c.Prefix.Addr().Is6() || c.Prefix.Addr().Is4In6() || c.Prefix.Addr().Zone() != "") {
		return cfgErr("Prefix", "%s is not an IPv6 prefix", c.Prefix)
	}
	if c.Pool.IsZero() {
		return cfgErr("Pool", "empty pool")
	}
	lts := []struct {
		name string
		d    time.Duration
	}{{"T1", c.T1}, {"T2", c.T2}, {"Preferred", c.Preferred}, {"Valid", c.Valid}}
	for i, lt := range lts {
		if lt.d < time.Second {
			return cfgErr(lt.name, "%v must be at least 1s", lt.d)
		}
		if lt.d > maxLifetime {
			return cfgErr(lt.name, "%v exceeds %v", lt.d, maxLifetime)
		}
		if i > 0 && lts[i-1].d > lt.d { // RFC 9915 §21.4: T1 <= T2; §21.6: preferred <= valid
			return cfgErr(lt.name, "%v is less than %s (%v); want T1 <= T2 <= Preferred <= Valid",
				lt.d, lts[i-1].name, lts[i-1].d)
		}
	}
	if c.Allocator != "" {
		if _, err := deploy.ParseAllocator(string(c.Allocator)); err != nil {
			return &ConfigError{Field: "Allocator", Msg: err.Error()}
		}
	}
	if !c.Rebind.Valid() {
		return cfgErr("Rebind", "unknown policy %q", string(c.Rebind))
	}
	if int(c.Unicast) >= len(unicastNames) {
		return cfgErr("Unicast", "unknown policy %d", c.Unicast)
	}
	if c.InfoRefresh < 0 || c.InfoRefresh > maxLifetime || c.InfoRefresh%time.Second != 0 {
		return cfgErr("InfoRefresh", "%v is not a whole number of seconds in 0..%v", c.InfoRefresh, maxLifetime)
	}
	if c.DeclineHold < 0 {
		return cfgErr("DeclineHold", "%v is negative", c.DeclineHold)
	}
	return nil
}

// ErrInvalidDUID reports a DUID that is too short, too long or does not
// decode.
var ErrInvalidDUID = errors.New("server: invalid DUID")

// ValidateDUID checks a raw DUID: a 2-octet type and 1 to 128 octets of
// identifier (RFC 9915 §11.1), decodable by the dhcpv6 library.
func ValidateDUID(d []byte) error {
	if len(d) < 3 || len(d) > 130 {
		return fmt.Errorf("%w: %d octets, want 3 to 130", ErrInvalidDUID, len(d))
	}
	if _, err := dhcpv6.DUIDFromBytes(d); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidDUID, err)
	}
	return nil
}

// ParseDUID parses a DUID written in hex, with or without ':' or '-'
// between octets ("00:03:00:01:02:00:00:00:00:01" or "000300010200...").
func ParseDUID(s string) ([]byte, error) {
	s = strings.NewReplacer(":", "", "-", "", " ", "").Replace(strings.TrimSpace(s))
	d, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidDUID, s, err)
	}
	if err := ValidateDUID(d); err != nil {
		return nil, err
	}
	return d, nil
}

// FormatDUID writes a raw DUID as lower-case hex (the form history.Event
// uses).
func FormatDUID(d []byte) string { return hex.EncodeToString(d) }

// DeriveDUID derives a stable DUID from a name: kind "ll" (or "") gives a
// DUID-LL (RFC 9915 §11.4), "llt" a DUID-LLT (§11.2), both with hardware
// type Ethernet and a locally administered unicast MAC taken from a hash of
// the name. The DUID-LLT time also comes from the hash, so the same name
// always gives the same DUID.
func DeriveDUID(name, kind string) ([]byte, error) {
	h := fnv64a([]byte(name))
	var mac [6]byte
	binary.BigEndian.PutUint32(mac[:4], uint32(h>>32))
	binary.BigEndian.PutUint16(mac[4:], uint16(h>>16))
	mac[0] = mac[0]&0xfc | 0x02 // locally administered, unicast
	switch kind {
	case "", "ll":
		return dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: mac[:]}.ToBytes(), nil
	case "llt":
		return dhcpv6.DUIDLLT{HWType: iana.HWTypeEthernet, Time: uint32(fnv64a([]byte("llt:" + name))), LinkLayerAddr: mac[:]}.ToBytes(), nil
	}
	return nil, fmt.Errorf("%w: unknown DUID kind %q (valid: ll, llt)", ErrInvalidDUID, kind)
}

func fnv64a(b []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
