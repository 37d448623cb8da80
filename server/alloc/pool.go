package alloc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"d6lab/netaddr6"
)

// MaxSize is the largest number of indices a Space offers. A pool with
// more addresses (a prefix shorter than /64) or a PrefixPool with more
// delegated prefixes uses its first MaxSize ones.
const MaxSize uint64 = math.MaxUint64

// ErrInvalidPool reports a pool string or value that cannot describe an
// IPv6 pool.
var ErrInvalidPool = errors.New("alloc: invalid pool")

// Space is an index space an Allocator chooses from: indices 0..Size()-1,
// of which the Reserved ones are never handed out.
type Space interface {
	Size() uint64
	Reserved(i uint64) bool
}

// Interface identifiers that are never handed out (see Reserved).
const (
	rfc2526First = 0xfdffffffffffff80 // first reserved subnet anycast IID (EUI-64 format, RFC 2526 §2)
	rfc2526Last  = 0xfdffffffffffffff
)

// ReservedIID reports whether a 64-bit interface identifier must never be
// assigned: all zeros (the Subnet-Router anycast address of the /64, RFC
// 4291 §2.6.1) or one of the 128 reserved subnet anycast identifiers of a
// /64 with EUI-64 format interface identifiers, fdff:ffff:ffff:ff80 through
// fdff:ffff:ffff:ffff (RFC 2526 §2).
func ReservedIID(iid uint64) bool {
	return iid == 0 || (iid >= rfc2526First && iid <= rfc2526Last)
}

// ReservedAddr reports whether a is a reserved anycast address of its /64
// (see ReservedIID).
func ReservedAddr(a netip.Addr) bool { return ReservedIID(netaddr6.FromAddr(a).Lo) }

// Pool is a range of IPv6 addresses handed out by an Allocator: a
// netaddr6.Pool (parsed by the same rules as a scenario's pool) seen as an
// index space. The zero Pool is empty. Pools are comparable: two servers
// configured with the same string have equal pools.
type Pool struct {
	r        netaddr6.Pool
	size     uint64
	isPrefix bool // the pool was given as a prefix, and String writes it so
	// excluded holds the addresses Exclude took out of the pool, 16 bytes
	// each in ascending order: a string keeps Pool comparable.
	excluded string
}

var _ Space = Pool{}

// ParsePool parses a pool given as a prefix ("2001:db8:1::/65") or as an
// inclusive range ("2001:db8:1::100-2001:db8:1::1ff") by netaddr6.ParsePool's
// rules: both ends plain IPv6 (no IPv4-mapped addresses, no zones), first <=
// last, and a prefix with no host bits set. Which prefixes a deployment may
// use (2001:db8::/32, fd00::/8) is the loader's concern, not this one.
func ParsePool(s string) (Pool, error) {
	r, err := netaddr6.ParsePool(s)
	if err != nil {
		return Pool{}, fmt.Errorf("%w: %w", ErrInvalidPool, err)
	}
	if strings.Contains(s, "-") {
		return NewPool(r.First, r.Last)
	}
	pfx, _ := r.Prefix()
	return PoolFromPrefix(pfx)
}

// NewPool returns the pool of addresses first through last, inclusive.
func NewPool(first, last netip.Addr) (Pool, error) {
	r, err := netaddr6.NewPool(first, last)
	if err != nil {
		return Pool{}, fmt.Errorf("%w: %w", ErrInvalidPool, err)
	}
	return Pool{r: r, size: min(r.Size(), MaxSize)}, nil
}

// PoolFromPrefix returns the pool of every address in p. p must be an IPv6
// prefix with no host bits set ("2001:db8::5/64" is an error).
func PoolFromPrefix(p netip.Prefix) (Pool, error) {
	if err := netaddr6.CheckPrefix(p); err != nil {
		return Pool{}, fmt.Errorf("%w: %w", ErrInvalidPool, err)
	}
	pool, err := NewPool(netaddr6.PoolOf(p).First, netaddr6.PoolOf(p).Last)
	if err != nil {
		return Pool{}, err
	}
	pool.isPrefix = true
	return pool, nil
}

// IsZero reports whether p is the zero (empty, unconfigured) Pool.
func (p Pool) IsZero() bool { return p.size == 0 }

// First is the first address of the pool.
func (p Pool) First() netip.Addr { return p.r.First }

// Last is the last address of the pool.
func (p Pool) Last() netip.Addr { return p.r.Last }

// Prefix is the prefix the pool was given as, if it was.
func (p Pool) Prefix() (netip.Prefix, bool) {
	if !p.isPrefix {
		return netip.Prefix{}, false
	}
	return p.r.Prefix()
}

// Size is the number of indices: the number of addresses, capped at
// MaxSize (reserved addresses included).
func (p Pool) Size() uint64 { return p.size }

// Addr returns the address at index i (i < Size()).
func (p Pool) Addr(i uint64) netip.Addr { return netaddr6.FromAddr(p.r.First).Add64(i).Addr() }

// Index returns the index of a in the pool.
func (p Pool) Index(a netip.Addr) (uint64, bool) {
	if p.size == 0 || !a.Is6() || a.Is4In6() {
		return 0, false
	}
	u, f := netaddr6.FromAddr(a.WithZone("")), netaddr6.FromAddr(p.r.First)
	if u.Less(f) {
		return 0, false
	}
	d := u.Sub(f)
	if d.Hi != 0 || d.Lo >= p.size {
		return 0, false
	}
	return d.Lo, true
}

// Contains reports whether a is one of the pool's indexed addresses.
func (p Pool) Contains(a netip.Addr) bool {
	_, ok := p.Index(a)
	return ok
}

// Reserved reports whether the address at index i is a reserved anycast
// address of its /64 (see ReservedIID) or one that Exclude took out. Only
// the interface identifier matters for the anycast addresses, so this holds
// for pools that span several /64s too.
func (p Pool) Reserved(i uint64) bool {
	if ReservedIID(netaddr6.FromAddr(p.r.First).Lo + i) {
		return true
	}
	if p.excluded == "" {
		return false
	}
	b := p.Addr(i).As16()
	for k := 0; k+16 <= len(p.excluded); k += 16 {
		if p.excluded[k:k+16] == string(b[:]) {
			return true
		}
	}
	return false
}

// Exclude returns p with addrs never handed out: Reserved reports them.
// A server excludes the addresses configured on its own interface, which
// no client may be given. Addresses outside the pool are ignored. The
// exclusions are not part of String: they come from where the server runs,
// not from its configuration.
func (p Pool) Exclude(addrs ...netip.Addr) Pool {
	set := map[[16]byte]bool{}
	for _, a := range p.Excluded() {
		set[a.As16()] = true
	}
	for _, a := range addrs {
		if p.Contains(a) {
			set[a.WithZone("").As16()] = true
		}
	}
	keys := make([][16]byte, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [16]byte) int { return bytes.Compare(x[:], y[:]) })
	var sb strings.Builder
	for _, k := range keys {
		sb.Write(k[:])
	}
	p.excluded = sb.String()
	return p
}

// Excluded lists the addresses Exclude took out of the pool, in order.
func (p Pool) Excluded() []netip.Addr {
	var out []netip.Addr
	for k := 0; k+16 <= len(p.excluded); k += 16 {
		out = append(out, netip.AddrFrom16([16]byte([]byte(p.excluded[k:k+16]))))
	}
	return out
}

// String returns the pool in the form ParsePool reads.
func (p Pool) String() string {
	switch {
	case p.size == 0:
		return ""
	case p.isPrefix:
		pfx, _ := p.r.Prefix()
		return pfx.String()
	default:
		return p.r.First.String() + "-" + p.r.Last.String()
	}
}

// Set parses s into p (flag.Value, pflag.Value).
func (p *Pool) Set(s string) error {
	q, err := ParsePool(s)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Type names the flag type (pflag.Value).
func (*Pool) Type() string { return "pool" }

// MarshalText implements encoding.TextMarshaler.
func (p Pool) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *Pool) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = Pool{}
		return nil
	}
	return p.Set(string(b))
}

// PrefixPool is a prefix cut into delegated prefixes of one length, e.g.
// 2001:db8:100::/40 delegating /56 (65536 prefixes). The zero PrefixPool is
// empty (no prefix delegation).
type PrefixPool struct {
	prefix    netip.Prefix
	delegated int
	size      uint64
}

var _ Space = PrefixPool{}

// NewPrefixPool returns the pool of the /delegated prefixes inside p.
func NewPrefixPool(p netip.Prefix, delegated int) (PrefixPool, error) {
	if err := netaddr6.CheckPrefix(p); err != nil {
		return PrefixPool{}, fmt.Errorf("%w: %w", ErrInvalidPool, err)
	}
	if delegated < p.Bits() || delegated > 128 {
		return PrefixPool{}, fmt.Errorf("%w %s: delegated length /%d must be between /%d and /128",
			ErrInvalidPool, p, delegated, p.Bits())
	}
	p = p.Masked()
	size := MaxSize
	if d := delegated - p.Bits(); d < 64 {
		size = 1 << d
	}
	return PrefixPool{prefix: p, delegated: delegated, size: size}, nil
}

// ParsePrefixPool parses "PREFIX/DELEGATED", e.g. "2001:db8:100::/40/56"
// for 2001:db8:100::/40 delegating /56 prefixes.
func ParsePrefixPool(s string) (PrefixPool, error) {
	s = strings.TrimSpace(s)
	i := strings.LastIndexByte(s, '/')
	if i < 0 || strings.Count(s, "/") != 2 {
		return PrefixPool{}, fmt.Errorf("%w %q: want PREFIX/DELEGATED, e.g. 2001:db8:100::/40/56", ErrInvalidPool, s)
	}
	p, err := netaddr6.ParsePrefix(s[:i])
	if err != nil {
		return PrefixPool{}, fmt.Errorf("%w %q: %w", ErrInvalidPool, s, err)
	}
	d, err := strconv.Atoi(s[i+1:])
	if err != nil {
		return PrefixPool{}, fmt.Errorf("%w %q: delegated length: %v", ErrInvalidPool, s, err)
	}
	return NewPrefixPool(p, d)
}

// IsZero reports whether p is the zero (unconfigured) PrefixPool.
func (p PrefixPool) IsZero() bool { return p.size == 0 }

// Base is the prefix the delegated prefixes are cut from.
func (p PrefixPool) Base() netip.Prefix { return p.prefix }

// Delegated is the length of the delegated prefixes.
func (p PrefixPool) Delegated() int { return p.delegated }

// Size is the number of delegated prefixes, capped at MaxSize.
func (p PrefixPool) Size() uint64 { return p.size }

// Reserved is always false: no delegated prefix is reserved.
func (PrefixPool) Reserved(uint64) bool { return false }

// Prefix returns the delegated prefix at index i (i < Size()).
func (p PrefixPool) Prefix(i uint64) netip.Prefix {
	return netaddr6.Subprefix(p.prefix, p.delegated, i)
}

// Index returns the index of the delegated prefix q (it must have the
// delegated length and lie inside the pool).
func (p PrefixPool) Index(q netip.Prefix) (uint64, bool) {
	if p.size == 0 || q.Bits() != p.delegated {
		return 0, false
	}
	i, ok := netaddr6.SubprefixIndex(p.prefix, q)
	if !ok || i >= p.size {
		return 0, false
	}
	return i, true
}

// Contains reports whether q lies inside the pool's prefix (any length at
// least as long as the pool's).
func (p PrefixPool) Contains(q netip.Prefix) bool {
	return p.size != 0 && q.IsValid() && q.Bits() >= p.prefix.Bits() && p.prefix.Contains(q.Addr())
}

// String returns the pool in the form ParsePrefixPool reads.
func (p PrefixPool) String() string {
	if p.size == 0 {
		return ""
	}
	return fmt.Sprintf("%s/%d", p.prefix, p.delegated)
}

// Set parses s into p (flag.Value, pflag.Value).
func (p *PrefixPool) Set(s string) error {
	q, err := ParsePrefixPool(s)
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// Type names the flag type (pflag.Value).
func (*PrefixPool) Type() string { return "pdpool" }

// MarshalText implements encoding.TextMarshaler.
func (p PrefixPool) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (p *PrefixPool) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = PrefixPool{}
		return nil
	}
	return p.Set(string(b))
}
