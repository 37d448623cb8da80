package server

import (
	"bytes"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/deploy"
	"d6lab/server/alloc"
	"d6lab/server/lease"
)

type statusCode = iana.StatusCode

const (
	statusSuccess       = iana.StatusSuccess
	statusNoAddrsAvail  = iana.StatusNoAddrsAvail
	statusNoBinding     = iana.StatusNoBinding
	statusNotOnLink     = iana.StatusNotOnLink
	statusUseMulticast  = iana.StatusUseMulticast
	statusNoPrefixAvail = iana.StatusNoPrefixAvail
)

// statusText is each code's usual status-message, as bytes: the answer's
// encoder writes them without a conversion.
var statusText = map[statusCode][]byte{
	statusSuccess:       []byte("success"),
	statusNoAddrsAvail:  []byte("no addresses available"),
	statusNoBinding:     []byte("no binding for this IA"),
	statusNotOnLink:     []byte("not on link"),
	statusUseMulticast:  []byte("use multicast"),
	statusNoPrefixAvail: []byte("no prefixes available"),
}

// Status messages of the answers that say more than the code.
var (
	msgReleased = []byte("released")
	msgDeclined = []byte("declined")
	msgOnLink   = []byte("all addresses on link")
)

// status is a Status Code option for an insomniacslk answer (msg "": the
// code's usual text).
func status(c statusCode, msg string) *dhcpv6.OptStatusCode {
	if msg == "" {
		msg = string(statusText[c])
	}
	return &dhcpv6.OptStatusCode{StatusCode: c, StatusMessage: msg}
}

// iaIn is one IA (IA_NA or IA_PD) of a client message; IA_TA is obsoleted
// by RFC 9915 and ignored.
type iaIn struct {
	sp     *space
	iaid   uint32
	leases []netip.Prefix // addresses (as /128) or delegated prefixes the client listed
	lo, hi int            // leases' window on the server's storage (exchange.go)
}

// iaOut is one IA of an answer (start one with Server.outIA).
type iaOut struct {
	sp     *space
	iaid   uint32
	t1, t2 time.Duration
	leases []leaseOut
	status statusCode
	hasSt  bool
	slot   int // which of the server's reused lease slices leases is
}

type leaseOut struct {
	p                netip.Prefix
	preferred, valid time.Duration
}

func (o *iaOut) setStatus(c statusCode) { o.status, o.hasSt = c, true }

// grant adds a lease with the configured lifetimes and T1/T2 (RFC 9915
// §18.1: the same T1/T2 in every IA of a Reply).
func (s *Server) grant(o *iaOut, l netip.Prefix) {
	o.t1, o.t2 = s.cfg.T1, s.cfg.T2
	o.leases = append(o.leases, leaseOut{l, s.cfg.Preferred, s.cfg.Valid})
}

// zero adds a lease with lifetimes 0: an explicit notice that the client
// must stop using it (§18.3.4, §18.3.5).
func zero(o *iaOut, l netip.Prefix) {
	for _, lo := range o.leases {
		if lo.p == l {
			return
		}
	}
	o.leases = append(o.leases, leaseOut{p: l})
}

// key is the binding key of one of the client's IAs. It aliases the
// datagram (lease.KeyView): the stores copy a key they keep.
func (s *Server) key(x *exchange, in iaIn) lease.Key {
	return lease.KeyView(x.duid, in.iaid, in.sp.typ)
}

func (s *Server) isPending(p netip.Prefix) bool {
	for _, q := range s.pending {
		if q == p {
			return true
		}
	}
	return false
}

// usable reports whether the client (key) may have lease l: it lies in the
// pool, is not reserved, not held after a Decline, not offered to another
// IA of this message and not bound to another client.
func (s *Server) usable(sp *space, l netip.Prefix, k lease.Key) bool {
	i, ok := sp.index(l)
	if !ok || sp.reserved(i) {
		return false
	}
	if _, held := s.declined[l]; held || s.isPending(l) {
		return false
	}
	if b, ok := s.store.GetByLease(l); ok {
		return b.Type == k.Type && b.IAID == k.IAID && string(b.DUID) == k.DUID
	}
	return true
}

// pick chooses a lease for a client IA: the one it is bound to, else the
// first usable one it listed (a hint, §18.3.1, §18.3.9), else one from the
// allocator.
func (s *Server) pick(x *exchange, in iaIn, k lease.Key, b lease.Binding, bound bool) (netip.Prefix, bool) {
	sp := in.sp
	if bound {
		if _, inPool := sp.index(b.Lease); inPool {
			return b.Lease, true
		}
	}
	for _, h := range in.leases {
		if s.usable(sp, h, k) {
			return h, true
		}
	}
	i, err := sp.alloc.Allocate(alloc.Key{DUID: x.duid, IAID: in.iaid})
	if err != nil { // alloc.ErrPoolExhausted
		return netip.Prefix{}, false
	}
	return sp.at(i), true
}

// bind records (or extends) the binding of k to l; old is the binding k
// had before, when had.
func (s *Server) bind(x *exchange, sp *space, k lease.Key, l netip.Prefix, old lease.Binding, had bool) error {
	fqdn := x.fqdn
	if fqdn == "" && had {
		fqdn = old.FQDN // a message without the Client FQDN option keeps the name registered
	}
	b := s.Extension(lease.Binding{
		DUID: x.duid, IAID: k.IAID, Type: sp.typ, Lease: l,
		FQDN: fqdn, LinkAddr: x.linkAddr,
		// The store keeps these: the binding's own bytes when unchanged,
		// a copy of the datagram's otherwise.
		RelayID: kept(old.RelayID, x.relayID), RemoteID: kept(old.RemoteID, x.remoteID),
	}, x.now)
	if err := s.store.Put(b); err != nil {
		return storeErr("put", err)
	}
	if had && old.Lease != l {
		s.free(sp, old.Lease)
	}
	s.dnsBound(old, had, b) // fqdn.go
	return nil
}

// Extension is b granted at now: the configured T1, T2 and lifetimes,
// expiring one valid lifetime from now. bind makes every binding it puts
// so; the virtual engine extends a coasting client's binding with it
// (sim/virtual), as the Renews it does not play would have.
func (s *Server) Extension(b lease.Binding, now time.Time) lease.Binding {
	b.T1, b.T2, b.Preferred, b.Valid = s.cfg.T1, s.cfg.T2, s.cfg.Preferred, s.cfg.Valid
	b.Granted, b.Expires = now, now.Add(s.cfg.Valid)
	return b
}

// kept returns old when it holds the same bytes as b, else a copy of b.
func kept(old, b []byte) []byte {
	if bytes.Equal(old, b) && (old == nil) == (b == nil) {
		return old
	}
	return bytes.Clone(b)
}

// unbind deletes the binding of k and frees its lease.
func (s *Server) unbind(sp *space, k lease.Key, l netip.Prefix) error {
	var b lease.Binding
	if s.cfg.DNS != nil {
		b, _ = s.store.Get(k) // its name, for the DNS change
	}
	if err := s.store.Delete(k); err != nil {
		return storeErr("delete", err)
	}
	s.dnsRemove(b)
	s.free(sp, l)
	return nil
}

// assign answers one IA of a Solicit or Request. commit binds the lease
// (Request, Rapid Commit); otherwise it is only offered (Advertise).
func (s *Server) assign(x *exchange, in iaIn, commit, checkLink bool) (iaOut, error) {
	out := s.outIA(x, in)
	if checkLink && in.sp.typ == lease.NA {
		for _, l := range in.leases {
			if !in.sp.onLink(l) {
				// §18.3.2: MUST return the IA with status NotOnLink.
				out.setStatus(statusNotOnLink)
				return out, nil
			}
		}
	}
	k := s.key(x, in)
	cur, bound := s.store.Get(k)
	l, ok := s.pick(x, in, k, cur, bound)
	if !ok {
		// §18.3.2, §18.3.9: no addresses (prefixes) in the IA and status
		// NoAddrsAvail (NoPrefixAvail) inside the IA.
		out.setStatus(in.sp.none)
		return out, nil
	}
	if commit {
		if err := s.bind(x, in.sp, k, l, cur, bound); err != nil {
			return out, err
		}
	} else {
		s.pending = append(s.pending, l)
	}
	s.grant(&out, l)
	return out, nil
}

// extend answers one IA of a Renew or Rebind for which a binding exists:
// the bound lease gets new lifetimes; listed leases not bound to the IA,
// and a bound lease no longer appropriate to the link, get lifetimes 0
// (§18.3.4, §18.3.5). found is false when there is no binding.
func (s *Server) extend(x *exchange, in iaIn) (out iaOut, found bool, err error) {
	out = s.outIA(x, in)
	k := s.key(x, in)
	b, found := s.store.Get(k)
	if !found {
		return out, false, nil
	}
	_, inPool := in.sp.index(b.Lease)
	if inPool && in.sp.onLink(b.Lease) {
		if err := s.bind(x, in.sp, k, b.Lease, b, true); err != nil {
			return out, true, err
		}
		s.grant(&out, b.Lease)
	} else {
		if err := s.unbind(in.sp, k, b.Lease); err != nil {
			return out, true, err
		}
		zero(&out, b.Lease)
	}
	for _, l := range in.leases {
		if l != b.Lease {
			zero(&out, l)
		}
	}
	return out, true, nil
}

// zeroOffLink adds, with lifetimes 0, the listed leases that are not
// appropriate to the link (§18.3.4, §18.3.5).
func zeroOffLink(out *iaOut, in iaIn) {
	for _, l := range in.leases {
		if !in.sp.onLink(l) {
			zero(out, l)
		}
	}
}

// create answers a Rebind IA without a binding under RebindCreate: the
// client's own lease if it is in the pool and free, else a new one; the
// listed leases not granted go back with lifetimes 0.
func (s *Server) create(x *exchange, in iaIn) (iaOut, error) {
	out := s.outIA(x, in)
	k := s.key(x, in)
	var l netip.Prefix
	ok := false
	for _, h := range in.leases {
		if s.usable(in.sp, h, k) {
			l, ok = h, true
			break
		}
	}
	if !ok {
		if i, err := in.sp.alloc.Allocate(alloc.Key{DUID: x.duid, IAID: in.iaid}); err == nil {
			l, ok = in.sp.at(i), true
		}
	}
	if !ok {
		// §18.3.5: configured to create but no lease to assign.
		out.setStatus(in.sp.none)
		zeroOffLink(&out, in)
		return out, nil
	}
	if err := s.bind(x, in.sp, k, l, lease.Binding{}, false); err != nil { // create: not bound
		return out, err
	}
	s.grant(&out, l)
	for _, h := range in.leases {
		if h != l {
			zero(&out, h)
		}
	}
	return out, nil
}

// solicit answers a Solicit (RFC 9915 §18.3.1, §18.3.9).
func (s *Server) solicit(x *exchange) error {
	// §18.3.1: a Reply only if the client asked for Rapid Commit and the
	// server is configured for it; the server MUST commit before replying.
	rapid := s.cfg.RapidCommit && x.rapid
	t := dhcpv6.MessageTypeAdvertise
	if rapid {
		t = dhcpv6.MessageTypeReply
	}
	s.begin(x, t)
	if err := s.assignAll(x, rapid, false); err != nil {
		return err
	}
	// With Rapid Commit, the Rapid Commit option says the Reply answers a
	// Solicit (§18.3.1). Otherwise §18.3.9 MAY add a Preference option
	// and §21.8 lets a server leave it out when the preference is 0.
	// d6lab always sends it, so that preference 0 is explicit in every
	// capture.
	x.reply.rapid, x.reply.pref = rapid, !rapid
	return nil
}

// request answers a Request (RFC 9915 §18.3.2).
func (s *Server) request(x *exchange) error {
	s.begin(x, dhcpv6.MessageTypeReply)
	return s.assignAll(x, true, true)
}

// assignAll answers every IA of the message with assign.
func (s *Server) assignAll(x *exchange, commit, checkLink bool) error {
	for _, in := range x.ias {
		out, err := s.assign(x, in, commit, checkLink)
		if err != nil {
			return err
		}
		s.answerIA(x, out)
	}
	return nil
}

// renew answers a Renew (RFC 9915 §18.3.4): bound IAs are extended; an IA
// without a binding gets status NoBinding (this server does not create
// bindings on Renew), plus its leases that are not appropriate to the link
// with lifetimes 0.
func (s *Server) renew(x *exchange) error {
	s.begin(x, dhcpv6.MessageTypeReply)
	for _, in := range x.ias {
		out, found, err := s.extend(x, in)
		if err != nil {
			return err
		}
		if !found {
			out.setStatus(statusNoBinding)
			zeroOffLink(&out, in)
		}
		s.answerIA(x, out)
	}
	return nil
}

// rebind answers a Rebind (RFC 9915 §18.3.5): bound IAs are extended; IAs
// without a binding follow the RebindPolicy. When the Reply would hold no
// IA at all the server does not send it.
func (s *Server) rebind(x *exchange) (verdict, error) {
	s.begin(x, dhcpv6.MessageTypeReply)
	silenced := false
	for _, in := range x.ias {
		out, found, err := s.extend(x, in)
		if err != nil {
			return drop, err
		}
		if !found {
			switch s.cfg.Rebind.Or() { // the zero policy is create
			case deploy.RebindCreate:
				// §18.3.5 says a server SHOULD create bindings on Rebind
				// only if it is configured for Rapid Commit; d6lab makes
				// the policy an explicit lab setting instead.
				if out, err = s.create(x, in); err != nil {
					return drop, err
				}
			case deploy.RebindZero:
				for _, l := range in.leases {
					zero(&out, l)
				}
				if len(out.leases) == 0 {
					continue // nothing to say about this IA
				}
			case deploy.RebindNoBinding:
				out.setStatus(statusNoBinding)
				zeroOffLink(&out, in)
			case deploy.RebindSilent:
				silenced = true
				continue
			}
		}
		s.answerIA(x, out)
	}
	if len(x.ias) > 0 && len(x.reply.ias) == 0 {
		// §18.3.5: no IA with leases or status codes: no Reply.
		x.drop = DropRebindEmpty
		if silenced {
			x.drop = DropRebindSilent
		}
		return drop, nil
	}
	return answer, nil
}

// release answers a Release (RFC 9915 §18.3.7): leases bound to the IAs
// are deleted and freed, others ignored; an IA without a binding comes back
// with status NoBinding and nothing else; the Reply carries Success.
func (s *Server) release(x *exchange) error {
	s.begin(x, dhcpv6.MessageTypeReply)
	for _, in := range x.ias {
		k := s.key(x, in)
		b, found := s.store.Get(k)
		if !found {
			out := s.outIA(x, in)
			out.setStatus(statusNoBinding)
			s.answerIA(x, out)
			continue
		}
		for _, l := range in.leases {
			if l == b.Lease {
				if err := s.unbind(in.sp, k, l); err != nil {
					return err
				}
				break
			}
		}
	}
	x.reply.setStatus(statusSuccess, msgReleased)
	return nil
}

// decline answers a Decline (RFC 9915 §18.3.8): addresses bound to the
// IAs are deleted and held out of the pool for DeclineHold; an IA without a
// binding comes back with status NoBinding; the Reply carries Success.
// Decline is about addresses: IA_PDs are ignored.
func (s *Server) decline(x *exchange) error {
	s.begin(x, dhcpv6.MessageTypeReply)
	for _, in := range x.ias {
		if in.sp.typ != lease.NA {
			continue
		}
		k := s.key(x, in)
		b, found := s.store.Get(k)
		if !found {
			out := s.outIA(x, in)
			out.setStatus(statusNoBinding)
			s.answerIA(x, out)
			continue
		}
		for _, l := range in.leases {
			if l != b.Lease {
				continue
			}
			if err := s.store.Delete(k); err != nil {
				return storeErr("delete", err)
			}
			s.dnsRemove(b)
			// §18.3.8: SHOULD mark the address so that it is not assigned
			// to other clients; local policy says for how long.
			until := x.now.Add(s.cfg.DeclineHold)
			s.declined[l] = until
			s.declineQ = append(s.declineQ, held{l, until})
			break
		}
	}
	x.reply.setStatus(statusSuccess, msgDeclined)
	return nil
}

// confirm answers a Confirm (RFC 9915 §18.3.3): Success if every address
// is appropriate to the link, NotOnLink otherwise, no Reply at all when
// the IAs hold no address.
func (s *Server) confirm(x *exchange) verdict {
	var n int
	onLink := true
	for _, in := range x.ias {
		if in.sp.typ != lease.NA {
			continue
		}
		for _, l := range in.leases {
			n++
			if !in.sp.onLink(l) {
				onLink = false
			}
		}
	}
	if n == 0 {
		x.drop = DropConfirmNoAddresses // §18.3.3: MUST NOT send a Reply
		return drop
	}
	s.begin(x, dhcpv6.MessageTypeReply)
	if onLink {
		x.reply.setStatus(statusSuccess, msgOnLink)
	} else {
		x.reply.setStatus(statusNotOnLink, nil)
	}
	return answer
}
