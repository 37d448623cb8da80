package alloc

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"net/netip"
	"slices"
	"strconv"
	"strings"
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

// u128 is an IPv6 address as a 128-bit unsigned integer.
type u128 struct{ hi, lo uint64 }

func fromAddr(a netip.Addr) u128 {
	b := a.As16()
	var u u128
	for i := 0; i < 8; i++ {
		u.hi = u.hi<<8 | uint64(b[i])
		u.lo = u.lo<<8 | uint64(b[8+i])
	}
	return u
}

func (u u128) addr() netip.Addr {
	var b [16]byte
	for i := 7; i >= 0; i-- {
		b[i] = byte(u.hi >> (8 * (7 - i)))
		b[8+i] = byte(u.lo >> (8 * (7 - i)))
	}
	return netip.AddrFrom16(b)
}

func (u u128) add64(n uint64) u128 {
	lo, c := bits.Add64(u.lo, n, 0)
	return u128{u.hi + c, lo}
}

func (u u128) sub(v u128) u128 {
	lo, b := bits.Sub64(u.lo, v.lo, 0)
	return u128{u.hi - v.hi - b, lo}
}

func (u u128) less(v u128) bool { return u.hi < v.hi || (u.hi == v.hi && u.lo < v.lo) }

// shl shifts left by n (0..127).
func (u u128) shl(n uint) u128 {
	switch {
	case n == 0:
		return u
	case n >= 64:
		return u128{u.lo << (n - 64), 0}
	default:
		return u128{u.hi<<n | u.lo>>(64-n), u.lo << n}
	}
}

// shr shifts right by n (0..127).
func (u u128) shr(n uint) u128 {
	switch {
	case n == 0:
		return u
	case n >= 64:
		return u128{0, u.hi >> (n - 64)}
	default:
		return u128{u.hi >> n, u.lo>>n | u.hi<<(64-n)}
	}
}

func isPlainIPv6(a netip.Addr) bool { return a.Is6() && !a.Is4In6() && a.Zone() == "" }

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
func ReservedAddr(a netip.Addr) bool { return ReservedIID(fromAddr(a).lo) }

// Pool is a range of IPv6 addresses handed out by an Allocator. The zero
// Pool is empty. Pools are comparable: two servers configured with the same
// string have equal pools.
type Pool struct {
	first  netip.Addr
	last   netip.Addr
	size   uint64
	prefix netip.Prefix // set when the pool was given as a prefix
	// excluded holds the addresses Exclude took out of the pool, 16 bytes
	// each in ascending order: a string keeps Pool comparable.
	excluded string
}

var _ Space = Pool{}

// ParsePool parses a pool given as a prefix ("2001:db8:1::/65") or as an
// inclusive range ("2001:db8:1::100-2001:db8:1::1ff"). Both ends must be
// IPv6 (no IPv4-mapped addresses, no zones). Which prefixes a deployment
// may use (2001:db8::/32, fd00::/8) is the loader's concern, not this one.
func ParsePool(s string) (Pool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Pool{}, fmt.Errorf("%w: empty string", ErrInvalidPool)
	}
	if from, to, ok := strings.Cut(s, "-"); ok {
		a, err := netip.ParseAddr(strings.TrimSpace(from))
		if err != nil {
			return Pool{}, fmt.Errorf("%w %q: %v", ErrInvalidPool, s, err)
		}
		b, err := netip.ParseAddr(strings.TrimSpace(to))
		if err != nil {
			return Pool{}, fmt.Errorf("%w %q: %v", ErrInvalidPool, s, err)
		}
		return NewPool(a, b)
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return Pool{}, fmt.Errorf("%w %q: want a prefix or first-last range: %v", ErrInvalidPool, s, err)
	}
	return PoolFromPrefix(p)
}

// NewPool returns the pool of addresses first through last, inclusive.
func NewPool(first, last netip.Addr) (Pool, error) {
	if !isPlainIPv6(first) || !isPlainIPv6(last) {
		return Pool{}, fmt.Errorf("%w %s-%s: not IPv6", ErrInvalidPool, first, last)
	}
	f, l := fromAddr(first), fromAddr(last)
	if l.less(f) {
		return Pool{}, fmt.Errorf("%w %s-%s: last address before first", ErrInvalidPool, first, last)
	}
	n := l.sub(f)
	size := MaxSize
	if n.hi == 0 && n.lo < MaxSize {
		size = n.lo + 1
	}
	return Pool{first: first, last: last, size: size}, nil
}

// PoolFromPrefix returns the pool of every address in p. Host bits of p
// are cleared ("2001:db8::5/64" is 2001:db8::/64).
func PoolFromPrefix(p netip.Prefix) (Pool, error) {
	if !p.IsValid() || !isPlainIPv6(p.Addr()) {
		return Pool{}, fmt.Errorf("%w %s: not an IPv6 prefix", ErrInvalidPool, p)
	}
	p = p.Masked()
	f := fromAddr(p.Addr())
	hostBits := uint(128 - p.Bits())
	var last u128
	if hostBits == 128 {
		last = u128{math.MaxUint64, math.MaxUint64}
	} else {
		ones := u128{0, 1}.shl(hostBits).sub(u128{0, 1})
		last = u128{f.hi | ones.hi, f.lo | ones.lo}
	}
	pool, err := NewPool(p.Addr(), last.addr())
	if err != nil {
		return Pool{}, err
	}
	pool.prefix = p
	return pool, nil
}

// IsZero reports whether p is the zero (empty, unconfigured) Pool.
func (p Pool) IsZero() bool { return p.size == 0 }

// First is the first address of the pool.
func (p Pool) First() netip.Addr { return p.first }

// Last is the last address of the pool.
func (p Pool) Last() netip.Addr { return p.last }

// Prefix is the prefix the pool was given as, if it was.
func (p Pool) Prefix() (netip.Prefix, bool) { return p.prefix, p.prefix.IsValid() }

// Size is the number of indices: the number of addresses, capped at
// MaxSize (reserved addresses included).
func (p Pool) Size() uint64 { return p.size }

// Addr returns the address at index i (i < Size()).
func (p Pool) Addr(i uint64) netip.Addr { return fromAddr(p.first).add64(i).addr() }

// Index returns the index of a in the pool.
func (p Pool) Index(a netip.Addr) (uint64, bool) {
	if p.size == 0 || !a.Is6() || a.Is4In6() {
		return 0, false
	}
	u, f := fromAddr(a.WithZone("")), fromAddr(p.first)
	if u.less(f) {
		return 0, false
	}
	d := u.sub(f)
	if d.hi != 0 || d.lo >= p.size {
		return 0, false
	}
	return d.lo, true
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
	if ReservedIID(fromAddr(p.first).lo + i) {
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
	case p.prefix.IsValid():
		return p.prefix.String()
	default:
		return p.first.String() + "-" + p.last.String()
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
	if !p.IsValid() || !isPlainIPv6(p.Addr()) {
		return PrefixPool{}, fmt.Errorf("%w %s: not an IPv6 prefix", ErrInvalidPool, p)
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
	p, err := netip.ParsePrefix(s[:i])
	if err != nil {
		return PrefixPool{}, fmt.Errorf("%w %q: %v", ErrInvalidPool, s, err)
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
	off := u128{0, i}.shl(uint(128 - p.delegated))
	b := fromAddr(p.prefix.Addr())
	sum := u128{b.hi + off.hi, 0}
	var c uint64
	sum.lo, c = bits.Add64(b.lo, off.lo, 0)
	sum.hi += c
	return netip.PrefixFrom(sum.addr(), p.delegated)
}

// Index returns the index of the delegated prefix q (it must have the
// delegated length and lie inside the pool).
func (p PrefixPool) Index(q netip.Prefix) (uint64, bool) {
	if p.size == 0 || !q.IsValid() || q.Bits() != p.delegated || !p.prefix.Contains(q.Addr()) {
		return 0, false
	}
	d := fromAddr(q.Masked().Addr()).sub(fromAddr(p.prefix.Addr())).shr(uint(128 - p.delegated))
	if d.hi != 0 || d.lo >= p.size {
		return 0, false
	}
	return d.lo, true
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
