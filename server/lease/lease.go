package lease

import (
	"errors"
	"fmt"
	"iter"
	"net/netip"
	"time"
	"unsafe"
)

// IAType is the type of an IA and of the lease it holds.
type IAType uint8

// IA types (RFC 9915 §21.4 IA_NA, §21.21 IA_PD).
const (
	NA IAType = 1 // IA_NA: a non-temporary address
	PD IAType = 2 // IA_PD: a delegated prefix
)

// String returns "na" or "pd", the names history.Event uses.
func (t IAType) String() string {
	switch t {
	case NA:
		return "na"
	case PD:
		return "pd"
	}
	return fmt.Sprintf("iatype(%d)", uint8(t))
}

// Key indexes a binding: RFC 9915 §4.2 indexes an IA binding by
// <DUID, IA-type, IAID>. DUID holds the raw DUID bytes.
type Key struct {
	DUID string
	IAID uint32
	Type IAType
}

// KeyOf builds a Key from a raw DUID.
func KeyOf(duid []byte, iaid uint32, t IAType) Key {
	return Key{DUID: string(duid), IAID: iaid, Type: t}
}

// KeyView is KeyOf without the copy: the Key's DUID is duid's memory, so
// it is valid only while duid is unchanged. It is for looking a binding up
// with a DUID read from a datagram without allocating; every Store copies
// a key it keeps (Put, Delete), so passing a view to a Store is safe.
func KeyView(duid []byte, iaid uint32, t IAType) Key {
	return Key{DUID: unsafe.String(unsafe.SliceData(duid), len(duid)), IAID: iaid, Type: t}
}

// Binding is one lease held by one client IA.
type Binding struct {
	DUID  []byte // client DUID, raw (as in the Client Identifier option)
	IAID  uint32
	Type  IAType
	Lease netip.Prefix // the address as a /128 (NA) or the delegated prefix (PD)

	T1, T2, Preferred, Valid time.Duration // as last granted

	Granted time.Time // when the lease was granted or last extended
	Expires time.Time // when the valid lifetime runs out: Granted + Valid

	// FQDN is the client's fully qualified domain name as the server
	// registers it in DNS (RFC 4704, lower case, with the final dot);
	// "" when the client sent no Client FQDN option or the server does
	// not update DNS. Kept so that the server can remove the records when
	// the binding ends, even after a restart (RFC 4703 §5.5).
	FQDN string
	// How the client's message reached the server, for Bulk Leasequery's
	// queries (RFC 5460 §5.3): LinkAddr is the link-address of the
	// Relay-forward closest to the client (zero when it came directly),
	// RelayID and RemoteID the payloads of that relay's Relay-ID
	// (RFC 5460 §5.4.1) and Remote-ID (RFC 4649) options (nil when absent).
	LinkAddr netip.Addr
	RelayID  []byte
	RemoteID []byte
}

// Key returns the binding's index.
func (b Binding) Key() Key { return KeyOf(b.DUID, b.IAID, b.Type) }

// sameKey reports whether b and c have the same Key, without building one.
func (b *Binding) sameKey(c Binding) bool {
	return b.IAID == c.IAID && b.Type == c.Type && string(b.DUID) == string(c.DUID)
}

// Expired reports whether the valid lifetime has run out at now.
func (b Binding) Expired(now time.Time) bool { return !now.Before(b.Expires) }

// maxFQDN is the longest domain name in text form (RFC 1035 §2.3.4: 255
// octets on the wire); maxOpaque the longest option payload (RFC 9915
// §21.1: a 16-bit option-len).
const (
	maxFQDN   = 255
	maxOpaque = 0xffff
)

// Errors a Store returns.
var (
	// ErrConflict: the lease is already bound to another key.
	ErrConflict = errors.New("lease: bound to another client")
	// ErrInvalid: the binding is incomplete or inconsistent.
	ErrInvalid = errors.New("lease: invalid binding")
)

// Validate checks that b can be stored.
func (b Binding) Validate() error {
	switch {
	case len(b.DUID) == 0:
		return fmt.Errorf("%w: empty DUID", ErrInvalid)
	case b.Type != NA && b.Type != PD:
		return fmt.Errorf("%w: IA type %d", ErrInvalid, b.Type)
	case !b.Lease.IsValid() || !b.Lease.Addr().Is6() || b.Lease.Addr().Is4In6():
		return fmt.Errorf("%w: lease %s is not IPv6", ErrInvalid, b.Lease)
	case b.Type == NA && b.Lease.Bits() != 128:
		return fmt.Errorf("%w: IA_NA lease %s is not a /128", ErrInvalid, b.Lease)
	case b.Lease != b.Lease.Masked():
		return fmt.Errorf("%w: lease %s has host bits set", ErrInvalid, b.Lease)
	case b.Expires.IsZero():
		return fmt.Errorf("%w: no expiry time", ErrInvalid)
	case len(b.FQDN) > maxFQDN:
		return fmt.Errorf("%w: FQDN of %d octets", ErrInvalid, len(b.FQDN))
	case len(b.RelayID) > maxOpaque || len(b.RemoteID) > maxOpaque:
		return fmt.Errorf("%w: relay option of more than %d octets", ErrInvalid, maxOpaque)
	case b.LinkAddr.IsValid() && !b.LinkAddr.Is6():
		return fmt.Errorf("%w: link address %s is not IPv6", ErrInvalid, b.LinkAddr)
	}
	return nil
}

// Store holds bindings. Implementations need not be safe for concurrent
// use unless they say so; the server calls its store from one goroutine.
//
// Bindings returned by Get, GetByLease and All share the store's DUID
// bytes: callers must not modify them.
//
// A Key (Get, Delete) and a Binding's DUID (Put) may share memory the
// caller reuses once the call returns (a KeyView of a datagram): a store
// copies the key and DUID it keeps. The Binding's other byte slices
// (RelayID, RemoteID) it keeps as given.
type Store interface {
	// Get returns the binding of a client IA.
	Get(k Key) (Binding, bool)
	// GetByLease returns the binding that holds an address (as a /128) or
	// a delegated prefix.
	GetByLease(p netip.Prefix) (Binding, bool)
	// Put creates or replaces the binding for b.Key(); when the key held
	// another lease, that lease is unbound. It returns ErrConflict if the
	// lease is bound to another key and ErrInvalid if b fails Validate.
	Put(b Binding) error
	// Delete removes the binding of k; deleting an absent key is not an
	// error.
	Delete(k Key) error
	// Expire removes every binding whose Expires is at or before now,
	// calling fn (if not nil) with each, and returns how many it removed.
	Expire(now time.Time, fn func(Binding)) (int, error)
	// Len is the number of bindings held (expired ones included until
	// Expire removes them).
	Len() int
	// All iterates over a snapshot of the bindings, in no set order.
	All() iter.Seq[Binding]
}
