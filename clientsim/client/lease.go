package client

import (
	"net/netip"
	"time"

	"d6lab/reports/history"
)

// Lease is one address of the IA_NA (as a /128) or one delegated prefix
// of the IA_PD, as the client holds it.
type Lease struct {
	IA        string       // history.IANA or history.IAPD
	IAID      uint32       //
	Prefix    netip.Prefix // the address as a /128, or the delegated prefix
	Preferred time.Duration
	Valid     time.Duration
	T1, T2    time.Duration // the IA's T1 and T2 when it was last granted (after §14.2 defaults, before Config.Jitter)
	Granted   time.Time     // the Reply that gave or last extended it
	Until     time.Time     // end of the valid lifetime on the client's clock
	Server    string        // DUID (hex) of the server that granted or last extended it

	// Duplicate address detection (RFC 4862 §5.4; RFC 9915 §18.2.10.1)
	// of an IA_NA address the client did not hold before. ProbeAt is
	// when the client sends its first Neighbor Solicitation for it (zero
	// once probed, or when no probe is due: DAD off, no Config.Prober, a
	// delegated prefix, an extension). UsableAt is when DAD ends: before
	// it the address is tentative and carries no traffic. It equals the
	// time the lease was first granted when the address was never
	// tentative; extensions leave both unchanged.
	ProbeAt  time.Time
	UsableAt time.Time
	// DADFailed: the probe found the address in use and the client kept
	// it without declining it (Deviations.KeepDADFailed): it never
	// becomes usable, whatever UsableAt says, and defends nothing.
	DADFailed bool
	// Dropped: the client took the address off its interface and keeps
	// the lease (Deviations.DropOnLinkChange): it carries no traffic and
	// defends nothing until the client puts it back.
	Dropped bool
}

// Tentative reports whether the address is still in duplicate address
// detection at now (RFC 4862 §5.4): held, but not usable yet.
func (l *Lease) Tentative(now time.Time) bool { return now.Before(l.UsableAt) }

// held is a Lease as the client keeps it: its times as instants, its IA
// told by its IAID (kindOf), its prefix as 16 bytes and a length, its
// server as the shared serverID, the fields it shares with Lease under
// their names. It takes 96 bytes, the 96-byte size class, where a Lease
// takes 208: a million clients hold a million.
type held struct {
	IAID                     uint32
	form                     uint8 // the prefix's address: 0 none, 4 IPv4, 6 IPv6 (prefix)
	bits                     uint8 // the prefix's Bits()+1: 0 an invalid length
	dadFailed                bool  // Lease.DADFailed
	dropped                  bool  // Lease.Dropped
	addr16                   [16]byte
	Preferred, Valid, T1, T2 time.Duration
	granted, until           instant   // Lease.Granted, Lease.Until
	probeAt, usableAt        instant   // Lease.ProbeAt, Lease.UsableAt
	server                   *serverID // the server that granted it, nil: none
}

// newHeld is a lease of IA iaid on p, usable at usable.
func newHeld(iaid uint32, p netip.Prefix, usable instant) held {
	l := held{IAID: iaid, usableAt: usable}
	l.setPrefix(p)
	return l
}

// setPrefix makes p the lease's prefix, as prefix gives it back.
func (l *held) setPrefix(p netip.Prefix) {
	a := p.Addr()
	l.form, l.bits, l.addr16 = 0, uint8(p.Bits()+1), a.As16()
	switch {
	case a.Is4():
		l.form = 4
	case a.Is6():
		l.form = 6
	}
}

// addr is the lease's address (its prefix's).
func (l *held) addr() netip.Addr {
	switch l.form {
	case 4:
		return netip.AddrFrom4([4]byte(l.addr16[12:]))
	case 6:
		return netip.AddrFrom16(l.addr16)
	}
	return netip.Addr{}
}

// prefix is the lease's prefix, the one setPrefix was given (a prefix
// has no zone).
func (l *held) prefix() netip.Prefix { return netip.PrefixFrom(l.addr(), int(l.bits)-1) }

// serverHex is the DUID (hex) of the server that granted the lease, or "".
func (l *held) serverHex() string {
	if l.server == nil {
		return ""
	}
	return l.server.hex
}

// lease is l as a Lease.
func (k *clock) lease(l *held) Lease {
	return Lease{
		IA: kindOf(l.IAID), IAID: l.IAID, Prefix: l.prefix(),
		Preferred: l.Preferred, Valid: l.Valid, T1: l.T1, T2: l.T2,
		Granted: k.time(l.granted), Until: k.time(l.until), Server: l.serverHex(),
		ProbeAt: k.time(l.probeAt), UsableAt: k.time(l.usableAt),
		DADFailed: l.dadFailed, Dropped: l.dropped,
	}
}

// ia is one identity association the client asks for, with its leases.
type ia struct {
	iaid   uint32 // IAIDNA or IAIDPD, which tells the kind
	t1, t2 time.Duration
	t1At   instant // when to Renew (zero: no lease); Config.Jitter applied
	t2At   instant // when to Rebind; Config.Jitter applied
	leases []held
}

// kind is history.IANA or history.IAPD.
func (a *ia) kind() string { return kindOf(a.iaid) }

// kindOf is the kind of the IA whose IAID is iaid: history.IAPD for
// IAIDPD, else history.IANA.
func kindOf(iaid uint32) string {
	if iaid == IAIDPD {
		return history.IAPD
	}
	return history.IANA
}

func (a *ia) find(p netip.Prefix) int {
	for i := range a.leases {
		if a.leases[i].prefix() == p {
			return i
		}
	}
	return -1
}

func (a *ia) remove(i int) held {
	l := a.leases[i]
	a.leases = append(a.leases[:i], a.leases[i+1:]...)
	return l
}
