package netaddr6

import (
	"fmt"
	"net/netip"
	"strings"
)

// Pool is an inclusive range of IPv6 addresses [First, Last] that a server
// hands out. A pool written as a prefix ("2001:db8:1:1::/65") is a range
// too; Prefix tells whether a pool is exactly one prefix. The zero Pool is
// invalid (empty).
type Pool struct {
	First, Last netip.Addr
}

// PoolOf returns the pool that covers exactly the (masked) prefix p.
func PoolOf(p netip.Prefix) Pool {
	p = p.Masked()
	first := FromAddr(p.Addr())
	return Pool{First: p.Addr(), Last: first.Or(HostMask(p.Bits())).Addr()}
}

// NewPool returns the pool first through last, inclusive. Both must be
// plain IPv6 addresses (see IsPlain) and first <= last.
func NewPool(first, last netip.Addr) (Pool, error) {
	if !IsPlain(first) || !IsPlain(last) {
		return Pool{}, fmt.Errorf("range %s-%s is not a plain IPv6 range", first, last)
	}
	if last.Less(first) {
		return Pool{}, fmt.Errorf("range %s-%s ends before it starts", first, last)
	}
	return Pool{First: first, Last: last}, nil
}

// ParsePool parses a pool written as a prefix ("2001:db8::/65") or as an
// inclusive range "first-last" ("2001:db8::100-2001:db8::1ff"). A prefix
// must have no host bits set; a range must be plain IPv6 with
// first <= last. Errors name the offending value.
func ParsePool(s string) (Pool, error) {
	s = strings.TrimSpace(s)
	if first, last, ok := strings.Cut(s, "-"); ok {
		a, err := ParseAddr(strings.TrimSpace(first))
		if err != nil {
			return Pool{}, err
		}
		b, err := ParseAddr(strings.TrimSpace(last))
		if err != nil {
			return Pool{}, err
		}
		return NewPool(a, b)
	}
	p, err := ParsePrefix(s)
	if err != nil {
		return Pool{}, fmt.Errorf("%w (or write a range \"first-last\")", err)
	}
	return PoolOf(p), nil
}

// IsPlain reports whether a is an IPv6 address that is not IPv4-mapped and
// has no zone.
func IsPlain(a netip.Addr) bool { return a.Is6() && !a.Is4In6() && a.Zone() == "" }

// ParseAddr parses a plain IPv6 address (see IsPlain).
func ParseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv6 address", short(s))
	}
	if !IsPlain(a) {
		return netip.Addr{}, fmt.Errorf("%q is not a plain IPv6 address", short(s))
	}
	return a, nil
}

// ParsePrefix parses an IPv6 prefix with no host bits set.
func ParsePrefix(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv6 prefix like 2001:db8:1:1::/64", short(s))
	}
	if err := checkPrefix(p, s); err != nil {
		return netip.Prefix{}, err
	}
	return p, nil
}

// CheckPrefix applies ParsePrefix's rules to a prefix already parsed: IPv6,
// not IPv4-mapped, no host bits set.
func CheckPrefix(p netip.Prefix) error { return checkPrefix(p, p.String()) }

// checkPrefix is CheckPrefix naming the prefix as written, s.
func checkPrefix(p netip.Prefix, s string) error {
	if !p.IsValid() || !p.Addr().Is6() || p.Addr().Is4In6() {
		return fmt.Errorf("%q is not an IPv6 prefix", short(s))
	}
	if p.Masked() != p {
		return fmt.Errorf("%q has host bits set (did you mean %s?)", short(s), p.Masked())
	}
	return nil
}

// IsValid reports whether the pool is a non-empty plain IPv6 range.
func (p Pool) IsValid() bool {
	return IsPlain(p.First) && IsPlain(p.Last) && !p.Last.Less(p.First)
}

// Contains reports whether a lies in the pool.
func (p Pool) Contains(a netip.Addr) bool {
	return p.IsValid() && a.Is6() && !a.Less(p.First) && !p.Last.Less(a)
}

// Overlaps reports whether the two pools share at least one address.
func (p Pool) Overlaps(q Pool) bool {
	return p.IsValid() && q.IsValid() && !p.Last.Less(q.First) && !q.Last.Less(p.First)
}

// Within reports whether the whole pool lies inside prefix pfx.
func (p Pool) Within(pfx netip.Prefix) bool {
	return p.IsValid() && pfx.IsValid() && pfx.Contains(p.First) && pfx.Contains(p.Last)
}

// Prefix returns the prefix the pool covers exactly, if it is one.
func (p Pool) Prefix() (netip.Prefix, bool) {
	if !p.IsValid() {
		return netip.Prefix{}, false
	}
	first := FromAddr(p.First)
	span := FromAddr(p.Last).Sub(first) // size - 1
	if !span.And(span.Add64(1)).IsZero() || !first.And(span).IsZero() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(p.First, 128-span.OnesCount()), true
}

// Size returns the number of addresses in the pool, saturated at 2^64-1.
func (p Pool) Size() uint64 {
	if !p.IsValid() {
		return 0
	}
	span := FromAddr(p.Last).Sub(FromAddr(p.First))
	if span.Hi != 0 || span.Lo == ^uint64(0) {
		return ^uint64(0)
	}
	return span.Lo + 1
}

// String writes the pool as a prefix when it is exactly one, else as
// "first-last".
func (p Pool) String() string {
	if !p.IsValid() {
		return "invalid pool"
	}
	if pfx, ok := p.Prefix(); ok {
		return pfx.String()
	}
	return p.First.String() + "-" + p.Last.String()
}

// MarshalText writes String's form, so pools read well in JSON reports;
// an invalid pool is empty text.
func (p Pool) MarshalText() ([]byte, error) {
	if !p.IsValid() {
		return []byte{}, nil
	}
	return []byte(p.String()), nil
}

// UnmarshalText parses ParsePool's forms; empty text is the zero Pool.
func (p *Pool) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*p = Pool{}
		return nil
	}
	q, err := ParsePool(string(b))
	if err != nil {
		return err
	}
	*p = q
	return nil
}

// short cuts a value quoted in a message to a readable length.
func short(s string) string {
	const limit = 60
	if r := []rune(s); len(r) > limit {
		return string(r[:limit]) + "..."
	}
	return s
}
