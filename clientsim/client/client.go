package client

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"net/netip"
	"slices"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"

	"d6lab/reports/history"
	"d6lab/transport"
)

// Datagram is a message the client wants sent, and where to.
type Datagram struct {
	Msg *dhcpv6.Message
	Dst netip.AddrPort
}

// Output is what one call on a Client produced: the messages to send, the
// history events of the transitions made, and the time at which the
// client wants Timer called (zero: it wants no timer).
//
// The slices belong to the Client and are reused: they are valid until
// the next call on the same Client, or with Config.Scratch on any client
// sharing it. Copy what must outlive that.
type Output struct {
	Send   []Datagram
	Events []history.Event
	Timer  time.Time
}

// XIDClaimer lets the owner of many clients keep their transaction IDs
// apart. The client draws an ID from its random source and calls ClaimXID;
// on false it draws again. A successful claim replaces the client's
// previous one.
type XIDClaimer interface {
	ClaimXID(client int, xid dhcpv6.TransactionID) bool
}

// DADProber answers a client's duplicate address detection (RFC 4862
// §5.4): whether addr is already in use on the link by someone other than
// client (the asking client's Config.Index). holder is the index of the
// population client that holds it, or -1 for a host outside the
// population.
type DADProber interface {
	InUse(client int, addr netip.Addr) (holder int, inUse bool)
}

// Config describes one client.
type Config struct {
	Index       int        // index in the population, copied into history events
	DUID        []byte     // raw client DUID (e.g. DUID-LL: 00 03 00 01 + MAC)
	IANA        bool       // ask for an IA_NA (IAID 1)
	IAPD        bool       // ask for an IA_PD (IAID 2); neither: stateless Information-request
	RapidCommit bool       // put Rapid Commit in Solicit (§18.2.1, §21.14)
	Timescale   float64    // multiplies every RFC constant (0.1: ten times shorter); 0 means 1
	Rand        *rand.Rand // seeded source; nil: PCG, or one seeded from the DUID and Index
	// PCG, when Rand is nil, is the state the client's own source starts
	// from, copied into the client: the draws of rand.New(PCG), with no
	// pointer to follow (a population's clients). nil: seeded from the
	// DUID and Index.
	PCG *rand.PCG
	// Dst is where messages go; zero means transport.AllServersPort.
	// A Reply with status UseMulticast switches a client back to that.
	Dst  netip.AddrPort
	XIDs XIDClaimer // optional transaction ID registry (a population)

	// Duplicate address detection of each new IA_NA address (RFC 4862
	// §5.4; RFC 9915 §18.2.10.1: the client SHOULD perform it). DAD is
	// how long the address stays tentative after the first Neighbor
	// Solicitation (Linux: RetransTimer 1 s x DupAddrDetectTransmits 1);
	// 0 turns DAD off (addresses usable at once, no probe). DADDelay
	// bounds the random delay before that first probe, drawn per address
	// uniform in [0, DADDelay) (Linux: rtr_solicit_delay, 1 s). Prober
	// answers the probe; nil finds nothing in use. An address found in
	// use is declined (§18.2.8). DAD and DADDelay are host constants:
	// Timescale does not scale them.
	DAD      time.Duration
	DADDelay time.Duration
	Prober   DADProber

	// Jitter spreads the instants of T1 and T2 taken from each Reply by
	// a uniform factor in [1-Jitter, 1+Jitter] (0: off; clamped to
	// [0, 0.5]), as real clients do (systemd-networkd, for one). RFC 9915
	// leaves only zero T1/T2 to the client (§14.2); spreading given
	// values models real clients, it is not an RFC rule. T1 stays at or
	// below T2, and T2 before the shortest valid lifetime ends.
	Jitter float64

	// Deviations make the client behave as a real client kind where it
	// departs from RFC 9915 (clientsim/profile); the zero value is RFC
	// 9915.
	Deviations Deviations

	// Epoch is an instant of the clock the client will be given (its
	// run's start, say). The client keeps its timers as nanoseconds from
	// 73 years before it, so the times it is given must lie between then
	// and 219 years after Epoch; the times it returns carry Epoch's
	// location and monotonic reading. Zero: 2000-01-01 UTC.
	Epoch time.Time

	// Peer, when set, is a client made from a Config that may differ
	// from this one in Index, DUID, Rand, PCG and FQDN only: the new
	// client then shares Peer's copy of the rest instead of keeping its
	// own (a population's clients; if the rest differs after all, the
	// client keeps its own, as it does without a Scratch).
	Peer *Client

	// Scratch, when set, is the room the client works in during a call,
	// shared with other clients that are never called at the same time
	// (NewScratch; a population's clients share one): an Output is then
	// valid until the next call on any of them. nil: the client's own
	// (and so its own settings: see Peer).
	Scratch *Scratch

	// FQDN, when set, is the name the client sends in a Client FQDN
	// option (RFC 4704) in every Solicit, Request, Renew and Rebind: a
	// partial name ("h7", RFC 4704 §4.2: without the terminating
	// zero-length label, for the server to complete with its zone), or a
	// fully qualified one when it ends with a dot. The flags ask the
	// server to do the AAAA update (S=1, N=0, O=0: §4.1, §5.2).
	FQDN string

	// Names, when set, gives the client's DUID in hex for its history
	// events, so that the Client keeps no string of its own (a
	// population's names are a few long strings, sliced). It must name
	// the DUID this Config gives (New checks). nil: the client writes it
	// from its Client Identifier at each event, an allocation.
	Names Namer
}

// Errors of New.
var (
	ErrNoDUID = errors.New("client: DUID missing or shorter than 3 bytes")
)

// Client is one DHCPv6 client. It is not safe for concurrent use.
//
// Its fields are ordered and sized for a population of a million: a
// Client, with its first IA inside, fits the 256-byte size class of Go's
// allocator, under the 512 bytes past which an object with pointers
// takes an 8-byte header (a spec holds it there); its times are instants
// (8 bytes, not a time.Time's 24); what all of a population's clients
// have in common is one settings value they share (Config.Peer), and the
// servers they heard from are their Scratch's (serverID).
type Client struct {
	cfg *settings
	rng source

	// maxRTSecs is the client's maximum RT (maxRT) as a server last set
	// it, in seconds; 0: the settings'.
	maxRTSecs uint32

	state        State
	toAll        bool  // a Reply said UseMulticast: send to transport.AllServersPort from now on (§18.2.10)
	reqFromOffer bool  // the Request carries the offer's leases as hints (else the held ones)
	notOnLink    bool  // a Confirm was answered NotOnLink; act at the end of the RT (§18.2.10.1)
	offerAt      int32 // the offer the running Request came from
	index        int32 // Config.Index
	ex           exchange
	ia1          [1]ia  // the IA of a client that asks for one (ias): no pointer to follow to it
	ia2          *[2]ia // the IAs of one that asks for both (ias)

	server *serverID // the server that granted the binding (Renew goes there, §18.2.4); nil: none

	x *aside // what a client holds only now and then; nil when it holds none of it
	// waitAt is, for a stateful client, no Renew before it (after a
	// NoBinding that a Request did not cure); for a stateless one (which
	// never Renews; no stateful client informs), its next
	// Information-request (§21.23).
	waitAt instant

	cidOpt  dhcpv6.Option
	fqdnOpt dhcpv6.Option // the Client FQDN option, nil without Config.FQDN

	drops [NumDropReasons]uint16 // Drops, each saturating at 65,535
	nIA   uint8                  // IAs in ia1 (ias): 0 or 1
}

// aside is what a client holds only for a while: the Advertises of a
// Solicit, the leases it declines or releases, the server that said
// NotOnLink. A bound client renewing holds none of it, and keeps no room
// for it (Client.x is nil): a Client is 128 bytes smaller, which a
// million clients notice. finish lets it go once it is empty.
type aside struct {
	offers      []offer   // valid Advertises of the Solicit, best first (§18.2.1, §18.2.9)
	offerHints  []hint    // their leases; offers[i] owns offerHints[lo:hi]
	notOnLinkBy *serverID // the server that said NotOnLink
	declining   []held
	declineQ    []held // declined, waiting for the running exchange to end (§18.2.8)
	releasing   []held
	declSid     dhcpv6.Option // the Decline's Server ID: the server that granted the addresses
	linkUpAt    instant       // LinkDown: when the link comes back (LinkChanged then); 0 when up
}

// noAside is what rd gives a client without an aside: read, never written.
var noAside aside

// rd is the client's aside, to read (empty when it has none).
func (c *Client) rd() *aside {
	if c.x != nil {
		return c.x
	}
	return &noAside
}

// wr is the client's aside, to write: made when it has none.
func (c *Client) wr() *aside {
	if c.x == nil {
		c.x = new(aside)
	}
	return c.x
}

// empty reports whether x holds nothing a client still needs.
func (x *aside) empty() bool {
	return len(x.offers) == 0 && len(x.offerHints) == 0 && x.notOnLinkBy == nil &&
		len(x.declining) == 0 && len(x.declineQ) == 0 && len(x.releasing) == 0 && x.declSid == nil &&
		x.linkUpAt == 0
}

// Namer names clients' DUIDs (Config.Names).
type Namer interface {
	// DUIDHex is the DUID of the client with Config.Index i, in lower-case
	// hex.
	DUIDHex(i int) string
}

// namesDUID reports whether name is duid in lower-case hex (what
// hex.EncodeToString writes), without writing it.
func namesDUID(name string, duid []byte) bool {
	const digits = "0123456789abcdef"
	if len(name) != 2*len(duid) {
		return false
	}
	for i, b := range duid {
		if name[2*i] != digits[b>>4] || name[2*i+1] != digits[b&15] {
			return false
		}
	}
	return true
}

// settings are what a Config says but Index, DUID, Rand, PCG, FQDN and
// Peer: the same for every client of a population, which share one
// (Config.Peer), with the Scratch they share.
type settings struct {
	IANA, IAPD, RapidCommit bool
	Timescale               float64
	Dst                     netip.AddrPort // Config.Dst, or transport.AllServersPort
	XIDs                    XIDClaimer
	DAD, DADDelay           time.Duration
	Prober                  DADProber
	Jitter                  float64
	Deviations              Deviations
	irtDefault              time.Duration     // IRT_DEFAULT, scaled (§21.23)
	irtMin                  time.Duration     // IRT_MINIMUM, scaled
	maxRT                   time.Duration     // SOL_MAX_RT or INF_MAX_RT (Client.maxRT), or Deviations', scaled
	minT2, minT2T1          time.Duration     // Deviations.MinT2 and the T1 it sets, scaled (0: none)
	clock                                     // of the client's instants: 73 years before Config.Epoch
	params                  [numParams]Params // each exchange's, scaled; Solicit's and Information-request's MRT is maxRT
	scr                     *Scratch          // Config.Scratch, or the client's own
	names                   Namer             // Config.Names
}

// paramKind names an exchange's parameters in settings.params.
type paramKind uint8

const (
	pSolicit paramKind = iota
	pRequest
	pConfirm
	pRenew
	pRebind
	pInfo
	pRelease
	pDecline
	pLinkRebind
	numParams
)

// baseParams are RFC 9915's, by paramKind, before scaling.
var baseParams = [numParams]*Params{
	pSolicit: &SolicitParams, pRequest: &RequestParams, pConfirm: &ConfirmParams,
	pRenew: &RenewParams, pRebind: &RebindParams, pInfo: &InfoParams,
	pRelease: &ReleaseParams, pDecline: &DeclineParams, pLinkRebind: &LinkRebindParams,
}

// retryParams are the parameters of k, an exchange the client repeats
// until a server answers (Solicit, Information-request): the settings',
// with the MRT a server set (maxRT, §21.24, §21.25) when one did.
func (c *Client) retryParams(k paramKind) *Params {
	p := &c.cfg.params[k]
	if c.maxRTSecs == 0 {
		return p
	}
	return c.cfg.scr.withMRT(p, c.maxRT())
}

// same reports whether s and t are equal; an XIDClaimer or DADProber
// whose dynamic type cannot be compared makes them differ.
func (s *settings) same(t *settings) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false
		}
	}()
	return *s == *t
}

// Scratch is the room a client works in during one call: the slices of
// the Output it returns, and what it reads from a Reply. Clients that are
// never called at the same time may share one (Config.Scratch), which
// saves each its own (a population's clients: some 600 bytes each, most
// of it the history events of the last call).
//
// A Scratch also holds the messages the clients send, once its owner has
// called Recycle: in two generations, each message's storage used again
// two Recycle calls after it was sent.
type Scratch struct {
	out     Output
	entries []entry
	zeroed  []held // of apply
	isExt   []bool // of apply

	recycling bool
	cur       int        // the generation transmit fills
	sends     [2][]*sent // the generations' messages
	used      [2]int     // how many of each generation are in use

	// rooms: the templates (exchange.room) no exchange uses: a client
	// holds one only while an exchange runs (finish gives it back). A
	// bound client renewing every T1 holds none between renewals, where
	// each kept its own (112 bytes, a million times).
	rooms []*room

	// The IA_NA options of exchanges that ended or were built again
	// (retireNA), by the generation in which they were let go, and those
	// two Recycle calls older, which no message sent reads any more
	// (takeNA's). Not kept unless the scratch recycles.
	retiredNAs [2][]*oneAddress
	spareNAs   []*oneAddress

	servers []*serverID // the servers its clients heard from (serverOf)
	mrts    []*Params   // exchanges' parameters with a server's MRT (withMRT)
}

// maxSpare bounds the templates and the IA_NA options a Scratch keeps
// for reuse: after a failover, when every client of the dead server ran
// its exchange at once, the rest go to the collector.
const maxSpare = 1024

// takeRoom is room for an exchange's template: one given back, or a new
// one.
func (s *Scratch) takeRoom() *room {
	n := len(s.rooms)
	if n == 0 {
		return newRoom()
	}
	r := s.rooms[n-1]
	s.rooms[n-1] = nil
	s.rooms = s.rooms[:n-1]
	return r
}

// giveRoom takes back the room of an exchange that ended. Its IA_NA is
// retired: a message sent may still hold it.
func (s *Scratch) giveRoom(r *room) {
	s.retireNA(r.na)
	r.na = nil
	if len(s.rooms) < maxSpare {
		clear(r.opts[:cap(r.opts)])
		r.opts = r.opts[:0]
		s.rooms = append(s.rooms, r)
	}
}

// takeNA is storage for an IA_NA option with one address: one that no
// message sent reads any more, or a new one.
func (s *Scratch) takeNA() *oneAddress {
	n := len(s.spareNAs)
	if n == 0 {
		return new(oneAddress)
	}
	o := s.spareNAs[n-1]
	s.spareNAs[n-1] = nil
	s.spareNAs = s.spareNAs[:n-1]
	return o
}

// retireNA lets go of an IA_NA option built for an exchange: a scratch
// that recycles uses it again two Recycle calls from now, when no message
// sent reads it (the messages' own rule); one that does not leaves it to
// the collector.
func (s *Scratch) retireNA(o *oneAddress) {
	if o != nil && s.recycling && len(s.retiredNAs[s.cur]) < maxSpare {
		s.retiredNAs[s.cur] = append(s.retiredNAs[s.cur], o)
	}
}

// NewScratch returns an empty Scratch for Config.Scratch.
func NewScratch() *Scratch { return new(Scratch) }

// Recycle tells the clients sharing s that nobody reads the messages they
// sent before the previous call to Recycle any more: their storage may
// hold the messages sent from now on. The owner of a population calls it
// when whoever takes its messages has done with them (population.Outbox:
// a message it returns is read until the next call). Before the first
// call every message is an allocation of its own, which the client never
// touches again once sent (the spec retain_test.go checks it): a message
// may be read for as long as anyone holds it.
func (s *Scratch) Recycle() {
	s.recycling = true
	s.cur ^= 1
	s.used[s.cur] = 0
	// The IA_NA options retired two calls ago: what was sent then is done.
	g := s.retiredNAs[s.cur]
	if room := maxSpare - len(s.spareNAs); len(g) > room {
		clear(g[room:])
		g = g[:room]
	}
	s.spareNAs = append(s.spareNAs, g...)
	clear(s.retiredNAs[s.cur])
	s.retiredNAs[s.cur] = s.retiredNAs[s.cur][:0]
}

// newSent is the storage of a message to send: a recycled one when the
// scratch recycles, else a new allocation.
func (s *Scratch) newSent() *sent {
	if !s.recycling {
		return new(sent)
	}
	g := s.cur
	if n := s.used[g]; n < len(s.sends[g]) {
		s.used[g]++
		b := s.sends[g][n]
		*b = sent{}
		return b
	}
	b := new(sent)
	s.sends[g] = append(s.sends[g], b)
	s.used[g]++
	return b
}

// offer is one stored Advertise.
type offer struct {
	pref   int
	server *serverID
	lo, hi int32
}

// serverID is a server the client heard from: its DUID, the DUID in hex
// (history's form) and the Server Identifier option naming it. The
// clients sharing a Scratch share one per server (Scratch.serverOf): a
// million clients of two servers hold two, where each client kept its own
// copy of the three (40 bytes in the Client, some 50 more on the heap).
type serverID struct {
	duid dhcpv6.DUID
	hex  string
	opt  dhcpv6.Option
}

// withMRT is p with MRT mrt, shared: a Scratch keeps up to maxServers of
// them (servers set a handful of SOL_MAX_RT and INF_MAX_RT values), past
// that each is new.
func (s *Scratch) withMRT(p *Params, mrt time.Duration) *Params {
	if p.MRT == mrt {
		return p
	}
	q := *p
	q.MRT = mrt
	for _, k := range s.mrts {
		if *k == q {
			return k
		}
	}
	if len(s.mrts) < maxServers {
		s.mrts = append(s.mrts, &q)
	}
	return &q
}

// maxServers bounds the servers a Scratch remembers: past it (a stream
// of Server Identifiers nobody runs) each new one is its client's alone.
const maxServers = 64

// serverOf is the server whose DUID is d: the one s knows with an equal
// DUID (Equal compares every field ToBytes writes), or a new one,
// remembered while there is room.
func (s *Scratch) serverOf(d dhcpv6.DUID) *serverID {
	for _, k := range s.servers {
		if k.duid.Equal(d) {
			return k
		}
	}
	k := &serverID{duid: d, hex: hex.EncodeToString(d.ToBytes()), opt: dhcpv6.OptServerID(d)}
	if len(s.servers) < maxServers {
		s.servers = append(s.servers, k)
	}
	return k
}

// serverByHex is the server s knows whose DUID is h (hex), or nil.
func (s *Scratch) serverByHex(h string) *serverID {
	for _, k := range s.servers {
		if k.hex == h {
			return k
		}
	}
	return nil
}

// hint is one lease an Advertise offered.
type hint struct {
	iaid uint32
	p    netip.Prefix
}

// New returns an idle client; call Start.
func New(cfg Config) (*Client, error) {
	if len(cfg.DUID) < 3 {
		return nil, ErrNoDUID
	}
	cfg.DUID = append([]byte(nil), cfg.DUID...) // what the parse keeps must not be the caller's
	duid, err := dhcpv6.DUIDFromBytes(cfg.DUID)
	if err != nil {
		return nil, fmt.Errorf("client %d: DUID %x: %w", cfg.Index, cfg.DUID, err)
	}
	duid = compactDUID(duid)
	if cfg.Timescale <= 0 {
		cfg.Timescale = 1
	}
	cfg.Jitter = min(max(cfg.Jitter, 0), 0.5)
	cfg.DAD, cfg.DADDelay = max(cfg.DAD, 0), max(cfg.DADDelay, 0)
	set := settings{
		IANA: cfg.IANA, IAPD: cfg.IAPD, RapidCommit: cfg.RapidCommit,
		Timescale: cfg.Timescale, Dst: cfg.Dst, XIDs: cfg.XIDs,
		DAD: cfg.DAD, DADDelay: cfg.DADDelay, Prober: cfg.Prober,
		Jitter: cfg.Jitter, Deviations: cfg.Deviations,
		irtDefault: scale(IRTDefault, cfg.Timescale),
		irtMin:     scale(IRTMinimum, cfg.Timescale),
		clock:      clockFor(cfg.Epoch),
		scr:        cfg.Scratch,
		names:      cfg.Names,
	}
	if set.names != nil && !namesDUID(set.names.DUIDHex(cfg.Index), cfg.DUID) {
		return nil, fmt.Errorf("client %d: Names gives %q for DUID %x", cfg.Index, set.names.DUIDHex(cfg.Index), cfg.DUID)
	}
	if set.scr == nil {
		set.scr = new(Scratch) // the client's own: it shares no settings
	}
	if set.maxRT = scale(orDefault(cfg.Deviations.SolMaxRT, SolMaxRT), cfg.Timescale); !cfg.IANA && !cfg.IAPD {
		set.maxRT = scale(orDefault(cfg.Deviations.InfMaxRT, InfMaxRT), cfg.Timescale) // stateless
	}
	for k, b := range baseParams {
		set.params[k] = b.Scaled(cfg.Timescale)
	}
	set.params[pSolicit].MRT, set.params[pInfo].MRT = set.maxRT, set.maxRT
	if m := cfg.Deviations.MinT2; m > 0 {
		set.minT2 = scale(m, cfg.Timescale)
		set.minT2T1 = scale(cfg.Deviations.MinT2T1(), cfg.Timescale)
	}
	if !set.Dst.IsValid() {
		set.Dst = transport.AllServersPort
	}
	// Built on the stack: a population's clients share the first's
	// (a million settings of 200-odd bytes each were garbage at once).
	var shared *settings
	if cfg.Peer != nil && cfg.Peer.cfg.same(&set) {
		shared = cfg.Peer.cfg
	} else {
		shared = new(settings)
		*shared = set
	}
	c := &Client{
		cfg:    shared,
		index:  int32(cfg.Index),
		rng:    source{ext: cfg.Rand},
		cidOpt: dhcpv6.OptClientID(duid),
	}
	if cfg.FQDN != "" {
		o, err := FQDNOption(cfg.FQDN)
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", cfg.Index, err)
		}
		c.fqdnOpt = o
	}
	switch {
	case cfg.Rand != nil:
	case cfg.PCG != nil:
		c.rng.pcg = *cfg.PCG
	default:
		h := fnv.New64a()
		h.Write(cfg.DUID)
		c.rng.pcg = *rand.NewPCG(h.Sum64(), uint64(cfg.Index))
	}
	switch {
	case cfg.IANA && cfg.IAPD:
		c.ia2 = &[2]ia{{iaid: IAIDNA}, {iaid: IAIDPD}}
	case cfg.IANA:
		c.ia1[0], c.nIA = ia{iaid: IAIDNA}, 1
	case cfg.IAPD:
		c.ia1[0], c.nIA = ia{iaid: IAIDPD}, 1
	}
	return c, nil
}

// ias are the IAs the client asks for: IA_NA first, then IA_PD; none for
// a stateless client.
func (c *Client) ias() []ia {
	if c.ia2 != nil {
		return c.ia2[:]
	}
	return c.ia1[:c.nIA]
}

// compactDUID returns d, a DUID-LL of at most 16 bytes of address in one
// allocation with its address (DUIDFromBytes gives two): the server reads
// it from every message of the client in the virtual engine. Any other
// DUID is returned as it is.
func compactDUID(d dhcpv6.DUID) dhcpv6.DUID {
	ll, ok := d.(*dhcpv6.DUIDLL)
	if !ok || len(ll.LinkLayerAddr) > 16 {
		return d
	}
	c := &struct {
		dhcpv6.DUIDLL
		addr [16]byte
	}{DUIDLL: dhcpv6.DUIDLL{HWType: ll.HWType}}
	n := copy(c.addr[:], ll.LinkLayerAddr)
	c.LinkLayerAddr = c.addr[:n:n]
	return &c.DUIDLL
}

// maxRT is the MRT of the exchange a client repeats until a server
// answers: a stateful client's SOL_MAX_RT (§21.24), a stateless one's
// INF_MAX_RT (§21.25), scaled; the last a server set, else the
// settings'. A stateful client never sends an Information-request, a
// stateless one never a Solicit: each keeps only the one it uses.
func (c *Client) maxRT() time.Duration {
	if c.maxRTSecs == 0 {
		return c.cfg.maxRT
	}
	return scale(time.Duration(c.maxRTSecs)*time.Second, c.cfg.Timescale)
}

// Index is the client's index in its population.
func (c *Client) Index() int { return int(c.index) }

// DUID is the client's DUID, as its Client Identifier carries it (a new
// slice).
func (c *Client) DUID() []byte { return c.AppendDUID(nil) }

// AppendDUID appends the client's DUID, as its Client Identifier carries
// it, to b: no allocation for a DUID-LL when b has room (the form
// population.DUID makes).
func (c *Client) AppendDUID(b []byte) []byte {
	d := c.duid()
	if ll, ok := d.(*dhcpv6.DUIDLL); ok { // RFC 9915 §11.4: type, hardware type, address
		return append(append(b, 0, byte(dhcpv6.DUID_LL), byte(ll.HWType>>8), byte(ll.HWType)), ll.LinkLayerAddr...)
	}
	return append(b, d.ToBytes()...)
}

// duid is the client's DUID, read from its Client Identifier option (a
// Client keeps no other copy: a million of them kept 40 bytes each).
func (c *Client) duid() dhcpv6.DUID {
	return dhcpv6.MessageOptions{Options: dhcpv6.Options{c.cidOpt}}.ClientID()
}

// DUIDHex is the client's DUID in hex, as in its history events.
func (c *Client) DUIDHex() string {
	if c.cfg.names != nil {
		return c.cfg.names.DUIDHex(int(c.index))
	}
	var b [64]byte
	return hex.EncodeToString(c.AppendDUID(b[:0]))
}

// State is where the client stands.
func (c *Client) State() State { return c.state }

// Server is the DUID (hex) of the server that granted the binding, or "".
func (c *Client) Server() string {
	if c.server == nil {
		return ""
	}
	return c.server.hex
}

// XID is the transaction ID of the running (or last) exchange.
func (c *Client) XID() dhcpv6.TransactionID { return c.ex.xid }

// Drops counts the messages the client discarded, by reason; each count
// stops at 65,535 (a client that drops more is broken past counting, and
// a million clients keep 14 bytes each less for it).
func (c *Client) Drops() Drops {
	var d Drops
	for r, n := range c.drops {
		d[r] = uint64(n)
	}
	return d
}

// Stateless reports whether the client only asks for configuration
// (Information-request), no addresses or prefixes.
func (c *Client) Stateless() bool { return len(c.ias()) == 0 }

// Leases returns a copy of the leases the client holds.
func (c *Client) Leases() []Lease { return c.AppendLeases(nil) }

// AppendLeases appends the leases the client holds to dst.
func (c *Client) AppendLeases(dst []Lease) []Lease {
	for i := range c.ias() {
		for j := range c.ias()[i].leases {
			dst = append(dst, c.cfg.lease(&c.ias()[i].leases[j]))
		}
	}
	return dst
}

// LeaseOf returns the IA_NA lease of addr when the client holds it. It
// does not allocate.
func (c *Client) LeaseOf(addr netip.Addr) (Lease, bool) {
	if !c.state.HoldsLeases() {
		return Lease{}, false
	}
	p := netip.PrefixFrom(addr, 128)
	for i := range c.ias() {
		a := &c.ias()[i]
		if a.kind() != history.IANA {
			continue
		}
		if j := a.find(p); j >= 0 {
			return c.cfg.lease(&a.leases[j]), true
		}
	}
	return Lease{}, false
}

func (c *Client) leaseCount() int {
	n := 0
	for i := range c.ias() {
		n += len(c.ias()[i].leases)
	}
	return n
}

// Start begins the client: a random delay in [0, SOL_MAX_DELAY] and then
// Solicit (§18.2.1), or for a stateless client a delay in [0,
// INF_MAX_DELAY] and then Information-request (§18.2.6). Start on a client
// that is not idle does nothing.
func (c *Client) Start(now time.Time) Output {
	c.begin()
	if c.state == Idle {
		if c.Stateless() {
			c.startInfo(now, true)
		} else {
			c.startSolicit(now, true)
		}
	}
	return c.finish()
}

// Timer runs whatever is due at now: initial delays, retransmissions,
// ends of exchanges, duplicate address detection probes, T1, T2, lease
// expiry and information refresh.
func (c *Client) Timer(now time.Time) Output {
	c.begin()
	c.expire(now)
	if c.ex.active() && !now.Before(c.cfg.time(c.ex.next)) {
		c.exchangeTimer(now)
	}
	c.probe(now)
	if c.x != nil && c.x.linkUpAt != 0 && !now.Before(c.cfg.time(c.x.linkUpAt)) {
		c.x.linkUpAt = 0
		c.linkUp(now) // the link is back (LinkDown)
	}
	switch c.state {
	case Bound:
		// §18.2.4: at T1 the client sends Renew (and Rebind at T2).
		if at := c.renewTime(); at != 0 && !now.Before(c.cfg.time(at)) {
			c.startRenew(now)
		}
	case Informed:
		// §21.23: refresh the configuration at the Information Refresh Time.
		if c.waitAt != 0 && !now.Before(c.cfg.time(c.waitAt)) {
			c.startInfo(now, false)
		}
	}
	return c.finish()
}

// Stop releases every lease the client holds (§18.2.7) and then stops;
// a client holding nothing stops at once.
func (c *Client) Stop(now time.Time) Output {
	c.begin()
	switch c.state {
	case Stopped, Releasing:
		return c.finish()
	}
	x := c.wr()
	x.releasing = x.releasing[:0]
	for i := range c.ias() {
		x.releasing = append(x.releasing, c.ias()[i].leases...)
	}
	// Addresses declined but not sent yet are left: the client leaves.
	clear(x.declineQ)
	x.declineQ = x.declineQ[:0]
	if len(x.releasing) == 0 {
		c.stop()
		return c.finish()
	}
	// §18.2.7: the client MUST stop using all of the leases being
	// released before it begins the Release message exchange.
	for i := range c.ias() {
		a := &c.ias()[i]
		for _, l := range a.leases {
			c.leaseEvent(now, history.Released, a, l, "")
		}
		a.leases = a.leases[:0]
	}
	if c.state == Soliciting {
		// Leases kept through a Solicit (Deviations.NoBindingSolicit,
		// NoAddrsSolicit; never under RFC 9915): no server to release
		// them to, as dhcpcd 9.4.1 releases only when bound
		// (dhcp6_startrelease); the client stops using them and stops.
		c.stop()
		return c.finish()
	}
	c.state = Releasing
	c.newExchange(dhcpv6.MessageTypeRelease, &c.cfg.params[pRelease], 0)
	c.launch(now, false)
	return c.finish()
}

// Decline tells the client that addr, one of its IA_NA addresses, is a
// duplicate: the client stops using it and declines it to the server
// (§18.2.8). An address the client does not hold is ignored.
func (c *Client) Decline(now time.Time, addr netip.Addr) Output {
	c.begin()
	if !c.state.HoldsLeases() {
		return c.finish()
	}
	p := netip.PrefixFrom(addr, 128)
	for i := range c.ias() {
		a := &c.ias()[i]
		if a.kind() != history.IANA {
			continue
		}
		j := a.find(p)
		if j < 0 {
			continue
		}
		// §18.2.8: the client MUST NOT use the declined address any more.
		l := a.remove(j)
		c.leaseEvent(now, history.Declined, a, l, "")
		x := c.wr()
		x.declineQ = append(x.declineQ, l)
		c.startDecline(now)
		break
	}
	return c.finish()
}

// LinkChanged tells the client its link came back after going down (it
// may have moved to another link). With a delegated prefix it Rebinds
// with Confirm's parameters (§18.2.12); with addresses only it Confirms
// them (§18.2.3); a stateless client asks for its configuration again.
// Other states are left alone. A LinkDown's pending return is cancelled:
// the link is up now.
func (c *Client) LinkChanged(now time.Time) Output {
	c.begin()
	if c.x != nil {
		c.x.linkUpAt = 0
	}
	c.linkLost(now)
	c.linkUp(now)
	return c.finish()
}

// LinkDown tells the client its link went down now and comes back at up
// (its timer then does what LinkChanged does). RFC 9915 asks nothing of a
// client while its link is down; with Deviations.DropOnLinkChange it takes
// its addresses off now, as dhcpcd does at carrier loss. The lab does not
// cut the client's traffic meanwhile: what it sends still goes out. An up
// not after now is LinkChanged at once.
func (c *Client) LinkDown(now, up time.Time) Output {
	if !up.After(now) {
		return c.LinkChanged(now)
	}
	c.begin()
	if c.cfg.Deviations.IgnoreLinkChange {
		return c.finish() // not RFC 9915 (ISC dhclient 4.4 does not watch the link)
	}
	c.wr().linkUpAt = c.cfg.at(up)
	c.linkLost(now)
	return c.finish()
}

// linkDown reports whether the link is down at now (LinkDown, until its
// up).
func (c *Client) linkDown(now time.Time) bool {
	return c.x != nil && c.x.linkUpAt != 0 && now.Before(c.cfg.time(c.x.linkUpAt))
}

// linkLost is what the client does when its link goes: with
// Deviations.DropOnLinkChange, in the states from which it Confirms once
// the link is back, it takes its addresses off (not RFC 9915: dhcpcd
// 9.4.1).
func (c *Client) linkLost(now time.Time) {
	if !c.cfg.Deviations.DropOnLinkChange || c.cfg.Deviations.IgnoreLinkChange {
		return
	}
	switch c.state {
	case Bound, Renewing, Rebinding, Confirming:
		c.dropAddresses(now)
	}
}

// linkUp is what the client does once its link is back (LinkChanged, or
// LinkDown's up).
func (c *Client) linkUp(now time.Time) {
	if c.cfg.Deviations.IgnoreLinkChange {
		// Not RFC 9915 (ISC dhclient 4.4 does not watch the link).
		return
	}
	switch c.state {
	case Informing, Informed:
		c.startInfo(now, true)
	case Bound, Renewing, Rebinding, Confirming:
		pd, na := false, false
		for i := range c.ias() {
			if len(c.ias()[i].leases) == 0 {
				continue
			}
			if c.ias()[i].kind() == history.IAPD {
				pd = true
			} else {
				na = true
			}
		}
		switch {
		case pd:
			c.startRebind(now, true)
		case na:
			c.startConfirm(now)
		}
	}
}

// dropAddresses takes the client's IA_NA addresses off its interface and
// keeps their leases (Deviations.DropOnLinkChange; not RFC 9915, whose
// §18.2.3 has the client go on using them while it Confirms them). One
// kept after DAD found it in use is off already (the kernel deleted it).
func (c *Client) dropAddresses(now time.Time) {
	for i := range c.ias() {
		a := &c.ias()[i]
		if a.kind() != history.IANA {
			continue
		}
		for j := range a.leases {
			l := &a.leases[j]
			if l.dropped || l.dadFailed {
				continue
			}
			l.dropped, l.probeAt = true, 0 // a probe due is moot: nothing to probe for
			c.leaseEvent(now, history.Dropped, a, *l, "")
		}
	}
}

// readd puts the address l back on the interface, an answer having kept
// it, when it is off: dropped, and the link is up
// (Deviations.DropOnLinkChange; a Reply the lab lets through while the
// link is down puts nothing back), or kept after DAD found it in use
// (Deviations.ReaddKept). It goes through duplicate address detection
// again (RFC 4862 §5.4: an address added to an interface is tentative),
// and a Restored event carries its tentative time.
func (c *Client) readd(now time.Time, a *ia, l *held) {
	switch {
	case l.dropped && !c.linkDown(now):
		l.dropped = false
	case l.dadFailed && c.cfg.Deviations.ReaddKept && !c.linkDown(now):
	default:
		return
	}
	l.dadFailed = false
	c.tentative(now, l)
	c.leaseEvent(now, history.Restored, a, *l, "")
	c.cfg.scr.out.Events[len(c.cfg.scr.out.Events)-1].Tentative = c.tentativeFor(now, l)
}

func (c *Client) begin() {
	c.cfg.scr.out.Send = c.cfg.scr.out.Send[:0]
	c.cfg.scr.out.Events = c.cfg.scr.out.Events[:0]
	c.cfg.scr.out.Timer = time.Time{}
}

func (c *Client) finish() Output {
	c.cfg.scr.out.Timer = c.nextTimer()
	if c.x != nil && c.x.empty() {
		c.x = nil
	}
	if c.ex.room != nil && !c.ex.active() {
		// No exchange runs: its template's room goes back to the
		// scratch, for whichever client starts one next.
		c.cfg.scr.giveRoom(c.ex.room)
		c.ex.room = nil
	}
	return c.cfg.scr.out
}

// nextTimer is the earliest of the exchange's timer, lease expiry, T1 (when
// bound) and the information refresh time: instants compared, one time
// made.
func (c *Client) nextTimer() time.Time {
	var t instant
	upd := func(x instant) {
		if x != 0 && (t == 0 || x < t) {
			t = x
		}
	}
	if c.ex.active() {
		upd(c.ex.next)
	}
	if c.x != nil {
		upd(c.x.linkUpAt)
	}
	if c.state.HoldsLeases() {
		for i := range c.ias() {
			for j := range c.ias()[i].leases {
				upd(c.ias()[i].leases[j].until)
				upd(c.ias()[i].leases[j].probeAt)
			}
		}
	}
	switch c.state {
	case Bound:
		upd(c.renewTime())
	case Informed:
		upd(c.waitAt)
	}
	return c.cfg.time(t)
}

// renewTime is when a bound client starts its next Renew: T1, but not
// before waitAt (after a Request that followed a NoBinding).
func (c *Client) renewTime() instant {
	t := c.renewAt()
	if t != 0 && c.waitAt > t {
		t = c.waitAt
	}
	return t
}

// renewAt is the earliest T1 among the IAs that hold leases.
func (c *Client) renewAt() instant { return c.earliest(func(a *ia) instant { return a.t1At }) }

// rebindAt is the earliest T2 among the IAs that hold leases.
func (c *Client) rebindAt() instant { return c.earliest(func(a *ia) instant { return a.t2At }) }

// earliest is the earliest of at(a) over the IAs that hold leases.
func (c *Client) earliest(at func(*ia) instant) instant {
	var t instant
	for i := range c.ias() {
		a := &c.ias()[i]
		if len(a.leases) > 0 && (t == 0 || at(a) < t) {
			t = at(a)
		}
	}
	return t
}

// lastUntil is the end of the longest valid lifetime held.
func (c *Client) lastUntil() instant {
	var t instant
	for i := range c.ias() {
		for j := range c.ias()[i].leases {
			t = max(t, c.ias()[i].leases[j].until)
		}
	}
	return t
}

// expire drops the leases whose valid lifetime ended by now; when none is
// left, the client starts over with Solicit (§18.2.5) once a Decline that
// waits has gone.
func (c *Client) expire(now time.Time) {
	if !c.state.HoldsLeases() {
		return
	}
	n, at := 0, c.cfg.at(now)
	for i := range c.ias() {
		a := &c.ias()[i]
		for j := 0; j < len(a.leases); {
			if at < a.leases[j].until {
				j++
				continue
			}
			l := a.remove(j)
			c.leaseEvent(now, history.Expired, a, l, "")
			n++
		}
	}
	if n == 0 {
		return
	}
	if c.leaseCount() > 0 {
		c.leasesChanged(now)
		return
	}
	switch c.state {
	case Bound, Renewing, Rebinding, Confirming:
		c.settle(now)
	}
}

// exchangeTimer handles the exchange's timer at now.
func (c *Client) exchangeTimer(now time.Time) {
	e := &c.ex
	if e.count == 0 { // the initial random delay is over
		c.transmit(now)
		return
	}
	switch e.kind {
	case dhcpv6.MessageTypeSolicit:
		// §18.2.1: at the end of the first RT, Request from the best
		// server that advertised (highest preference, first received).
		if len(c.rd().offers) > 0 {
			c.offerAt = 0
			c.startRequest(now)
			return
		}
	case dhcpv6.MessageTypeConfirm:
		if c.notOnLink {
			c.confirmNotOnLink(now)
			return
		}
	}
	if e.exhausted(c.cfg, now) {
		c.fail(now)
		return
	}
	c.transmit(now)
}

// fail ends an exchange that ran out of transmissions or time (§15).
func (c *Client) fail(now time.Time) {
	kind, link := c.ex.kind, c.ex.linkChange
	c.ex.kind = dhcpv6.MessageTypeNone
	switch kind {
	case dhcpv6.MessageTypeRequest:
		c.gaveUp(now, "request")
		halts := c.cfg.Deviations.FailHalts && !c.cfg.Deviations.FailDrops
		if !halts && c.reqFromOffer && int(c.offerAt)+1 < len(c.rd().offers) {
			// §18.2.9, §18.2.2: the chosen server does not respond; the
			// client chooses the next server by the criteria of §18.2.1
			// among the Advertises it stored.
			c.offerAt++
			c.startRequest(now)
			return
		}
		c.failDrops(now, "request")
		if halts {
			c.halt(now)
			return
		}
		// §18.2.2: the exchange failed; start over with Solicit (or go
		// on with the leases still held after a NoBinding, §18.2.10.1).
		c.endRequest(now)
	case dhcpv6.MessageTypeRenew:
		if len(c.rd().declineQ) > 0 {
			// §18.2.8: a Decline waited for this exchange; it goes now,
			// and T2 (past) starts the Rebind after it.
			c.startDecline(now)
			return
		}
		// §18.2.4: Renew runs until T2, then the client Rebinds.
		if c.cfg.Deviations.WholeSecondClock {
			// ISC dhclient 4.4: do_refresh6, past MRD, calls
			// dhc6_check_times, which arms the expiry again.
			c.rearmExpiry(now)
		}
		c.startRebind(now, false)
	case dhcpv6.MessageTypeRebind:
		if c.ex.cnfRebind && c.cfg.Deviations.FailDrops {
			// Not RFC 9915 (dhcpcd 9.4.1, dhcp6_failrebind): drop
			// everything and Solicit.
			c.gaveUp(now, "rebind")
			c.failDrops(now, "rebind")
			c.settle(now)
			return
		}
		if link || c.ex.cnfRebind {
			// §18.2.12 with §18.2.3: no answer, keep the leases.
			c.gaveUp(now, "rebind")
			c.bound(now)
			return
		}
		// §18.2.5: Rebind ends when the valid lifetimes do (expire
		// normally got there first). Only the leases whose valid
		// lifetime has passed end here.
		at := c.cfg.at(now)
		for i := range c.ias() {
			a := &c.ias()[i]
			for j := 0; j < len(a.leases); {
				if at < a.leases[j].until {
					j++
					continue
				}
				c.leaseEvent(now, history.Expired, a, a.remove(j), "")
			}
		}
		if c.leaseCount() > 0 && len(c.rd().declineQ) == 0 {
			// The deadline was behind the leases: Rebind goes on until
			// the valid lifetimes still held end.
			c.ex.kind = dhcpv6.MessageTypeRebind
			c.ex.deadline = c.lastUntil()
			c.build()
			c.transmit(now)
			return
		}
		c.settle(now)
	case dhcpv6.MessageTypeConfirm:
		// §18.2.3: no answer to Confirm, continue using the leases.
		c.gaveUp(now, "confirm")
		if c.cfg.Deviations.FailDrops {
			// Not RFC 9915 (dhcpcd 9.4.1, dhcp6_failconfirm): drop
			// everything and Solicit.
			c.failDrops(now, "confirm")
			c.settle(now)
			return
		}
		c.bound(now)
	case dhcpv6.MessageTypeDecline:
		c.gaveUp(now, "decline")
		c.afterDecline(now)
	case dhcpv6.MessageTypeRelease:
		// §18.2.7: after REL_MAX_RC the client abandons the exchange.
		c.gaveUp(now, "release")
		c.stop()
	}
}

// forgetNotOnLink forgets a NotOnLink answer to the Confirm, and the
// server that gave it.
func (c *Client) forgetNotOnLink() {
	c.notOnLink = false
	if x := c.x; x != nil {
		x.notOnLinkBy = nil
	}
}

// stop ends the client: no exchange runs, nothing is kept to release
// (at the end of a Release exchange, answered or abandoned: §18.2.7,
// §18.2.10.1), and it is Stopped.
func (c *Client) stop() {
	c.ex.kind = dhcpv6.MessageTypeNone
	c.state = Stopped
	if x := c.x; x != nil {
		clear(x.releasing)
		x.releasing = x.releasing[:0]
	}
}

// failDrops, with Deviations.FailDrops (dhcpcd 9.4.1, dhcp6_fail; not
// RFC 9915), drops every lease the client holds after the exchange what
// failed: an Expired event each, with Detail "dropped: what".
func (c *Client) failDrops(now time.Time, what string) {
	if !c.cfg.Deviations.FailDrops {
		return
	}
	for i := range c.ias() {
		a := &c.ias()[i]
		for _, l := range a.leases {
			c.leaseEvent(now, history.Expired, a, l, "")
			c.cfg.scr.out.Events[len(c.cfg.scr.out.Events)-1].Detail = "dropped: " + what
		}
		clear(a.leases)
		a.leases = a.leases[:0]
	}
}

func (c *Client) gaveUp(now time.Time, what string) {
	e := c.event(now, history.GaveUp)
	e.Detail = what
	c.cfg.scr.out.Events = append(c.cfg.scr.out.Events, e)
}

func (c *Client) startSolicit(now time.Time, delay bool) {
	c.state = Soliciting
	c.forgetServers()
	c.waitAt = 0
	c.newExchange(dhcpv6.MessageTypeSolicit, c.retryParams(pSolicit), 0)
	c.launch(now, delay)
}

// startRequest sends a Request to the server of offers[c.offerAt] (aside),
// with its Server ID and its leases as hints (§18.2.2).
func (c *Client) startRequest(now time.Time) {
	o := &c.rd().offers[c.offerAt]
	c.server = o.server
	c.reqFromOffer = true
	c.state = Requesting
	c.newExchange(dhcpv6.MessageTypeRequest, &c.cfg.params[pRequest], 0)
	c.launch(now, false)
}

// clearOffers forgets the stored Advertises and their room: a client
// solicits once a binding at most, and a million bound clients would
// keep some 200 bytes each for nothing.
func (c *Client) clearOffers() {
	if x := c.x; x != nil {
		x.offers, x.offerHints = nil, nil
	}
	c.offerAt = 0
}

// forgetServers forgets the stored Advertises and the server of the
// binding: the client starts over (Solicit) or gives up (halt).
func (c *Client) forgetServers() {
	c.clearOffers()
	c.server = nil
}

// endRequest ends a Request exchange that gave the client nothing: with
// leases still held (a Request after NoBinding) it goes on with them, and
// with nothing it solicits (§18.2.2, §18.2.10.1).
func (c *Client) endRequest(now time.Time) {
	c.retryAfterNoBinding(now)
	if c.reqFromOffer && c.leaseCount() > 0 && len(c.rd().declineQ) == 0 {
		// A Solicit that kept the old leases (Deviations.NoBindingSolicit,
		// NoAddrsSolicit; never under RFC 9915, which solicits with
		// nothing held) solicits again, as dhcpcd 9.4.1 and ISC dhclient
		// 4.4 go back to it (dhcp6_startdiscoinform; start_init6): the
		// old leases run out meanwhile.
		c.ex.kind = dhcpv6.MessageTypeNone
		c.startSolicit(now, c.cfg.Deviations.SolicitDelayEvery)
		return
	}
	c.settle(now)
}

// halt ends a failed Request for good (Deviations.FailHalts): a client
// that holds nothing (the Request followed a Solicit) is Halted; one that
// holds leases (it followed a NoBinding) lets them run out, with no Renew
// or Rebind before the last valid lifetime ends, when expire Solicits.
func (c *Client) halt(now time.Time) {
	if c.leaseCount() == 0 {
		c.forgetServers()
		c.state = Halted
		return
	}
	c.waitAt = c.lastUntil()
	c.settle(now)
}

// retryAfterNoBinding, at the end of a Request that followed a NoBinding
// and left an IA with leases past its T1 (not reinstated), keeps the next
// Renew or Rebind REN_TIMEOUT away: without it the client would go round
// Rebind, NoBinding, Request at once, and §18.2.10.1 asks it to
// rate-limit what it sends for an IA a server does not serve.
func (c *Client) retryAfterNoBinding(now time.Time) {
	if c.reqFromOffer {
		return
	}
	if at := c.renewAt(); at != 0 && !now.Before(c.cfg.time(at)) {
		c.waitAt = c.cfg.at(now.Add(scale(RenTimeout, c.cfg.Timescale)))
	}
}

func (c *Client) startRenew(now time.Time) {
	// §18.2.4: Renew's MRD is the time left until T2.
	t2At := c.rebindAt()
	t2 := c.cfg.time(t2At)
	if !now.Before(t2) {
		c.startRebind(now, false)
		return
	}
	c.state = Renewing
	c.newExchange(dhcpv6.MessageTypeRenew, &c.cfg.params[pRenew], t2At)
	// Deviations.UncappedFirstRenewRT (ISC dhclient 4.4, not RFC 9915):
	// the first RT may run past T2, and the Rebind waits for it, or for a
	// lifetime's end before it.
	c.ex.uncappedFirst = c.cfg.Deviations.UncappedFirstRenewRT
	c.launch(now, false)
	if next := c.cfg.time(c.ex.next); c.ex.uncappedFirst && c.ex.count == 1 && next.After(t2) {
		if w := c.lifetimeEnd(now); !w.IsZero() && w.Before(next) {
			c.ex.next = c.cfg.at(later(w, t2))
		}
	}
}

// lifetimeEnd is the first instant after now at which a held lease's
// preferred or valid lifetime ends, zero when none does. ISC dhclient
// 4.4 runs dhc6_check_times then (do_depref, do_expire), and a client
// still renewing then arms its Rebind at T2: at once when T2 is past
// (UncappedFirstRenewRT).
func (c *Client) lifetimeEnd(now time.Time) time.Time {
	var w time.Time
	for i := range c.ias() {
		for _, l := range c.ias()[i].leases {
			for _, t := range [2]time.Time{c.cfg.time(l.granted).Add(l.Preferred), c.cfg.time(l.until)} {
				if t.After(now) && (w.IsZero() || t.Before(w)) {
					w = t
				}
			}
		}
	}
	return w
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func (c *Client) startRebind(now time.Time, link bool) {
	c.state = Rebinding
	if c.cfg.Deviations.PDRebindConfirm && c.cfg.IAPD {
		// Not RFC 9915 (dhcpcd 9.4.1, dhcp6_startrebind, after RFC 3633
		// §12.1): with an IA_PD every Rebind takes Confirm's parameters
		// and CNF_MAX_RD counted from now, the start, not from the first
		// transmission.
		p := &c.cfg.params[pLinkRebind]
		c.newExchange(dhcpv6.MessageTypeRebind, p, c.cfg.at(now.Add(p.MRD)))
		c.ex.linkChange, c.ex.cnfRebind = link, true
		c.launch(now, true)
		return
	}
	if link {
		// §18.2.12: after a link change, Rebind with Confirm's parameters.
		c.newExchange(dhcpv6.MessageTypeRebind, &c.cfg.params[pLinkRebind], 0)
		c.ex.linkChange = true
		c.launch(now, true)
		return
	}
	// §18.2.5: Rebind's MRD is the time left until the valid lifetimes end.
	c.newExchange(dhcpv6.MessageTypeRebind, &c.cfg.params[pRebind], c.lastUntil())
	c.launch(now, false)
}

func (c *Client) startConfirm(now time.Time) {
	c.forgetNotOnLink()
	c.state = Confirming
	c.newExchange(dhcpv6.MessageTypeConfirm, &c.cfg.params[pConfirm], 0)
	c.launch(now, true)
}

func (c *Client) startInfo(now time.Time, delay bool) {
	c.state = Informing
	c.waitAt = 0
	c.newExchange(dhcpv6.MessageTypeInformationRequest, c.retryParams(pInfo), 0)
	c.launch(now, delay)
}

// afterDecline ends a Decline exchange (§18.2.8, §18.2.10.1): the next
// waiting Decline goes, or the client goes on with what it holds, or
// solicits when nothing is left.
func (c *Client) afterDecline(now time.Time) {
	c.ex.kind = dhcpv6.MessageTypeNone
	if x := c.x; x != nil {
		clear(x.declining)
		x.declining, x.declSid = x.declining[:0], nil
	}
	// Deviations.FailDrops (dhcpcd 9.4.1: a Reply to Decline, or none,
	// ends in dhcp6_fail; not RFC 9915): the other leases go too.
	c.failDrops(now, "decline")
	c.settle(now)
}

// bound ends the running exchange with the client holding leases. A
// Decline that waited for the exchange goes now (§18.2.8).
func (c *Client) bound(now time.Time) {
	c.ex.kind = dhcpv6.MessageTypeNone
	c.state = Bound
	if len(c.rd().declineQ) > 0 {
		c.startDecline(now)
	}
}

// settle ends the running exchange: a waiting Decline goes first
// (§18.2.8), then a client with nothing left solicits, and one with
// leases is bound.
func (c *Client) settle(now time.Time) {
	c.ex.kind = dhcpv6.MessageTypeNone
	switch {
	case len(c.rd().declineQ) > 0:
		c.startDecline(now)
	case c.leaseCount() == 0, c.server == nil:
		// §18.2.1 delays the first Solicit only; Deviations.SolicitDelayEvery
		// (ISC dhclient 4.4, dhcpcd 9.4.1) delays every one. Leases with
		// no server were kept through a Solicit (Deviations.NoBindingSolicit,
		// NoAddrsSolicit; never under RFC 9915): it goes on.
		c.startSolicit(now, c.cfg.Deviations.SolicitDelayEvery)
	default:
		c.state = Bound
	}
}

// startDecline starts a Decline exchange (§18.2.8) for the waiting
// addresses that the server of the first one granted, to that server;
// the others wait for the next exchange. A Decline that was running is
// restarted with its addresses added.
func (c *Client) startDecline(now time.Time) {
	x := c.wr()
	if c.state == Declining && c.ex.kind == dhcpv6.MessageTypeDecline {
		x.declineQ = append(x.declineQ, x.declining...)
	}
	clear(x.declining)
	x.declining = x.declining[:0]
	srv := x.declineQ[0].serverHex()
	n := 0
	for _, l := range x.declineQ {
		if l.serverHex() == srv {
			x.declining = append(x.declining, l)
		} else {
			x.declineQ[n] = l
			n++
		}
	}
	clear(x.declineQ[n:])
	x.declineQ = x.declineQ[:n]
	x.declSid = c.sidFor(srv)
	c.state = Declining
	c.newExchange(dhcpv6.MessageTypeDecline, &c.cfg.params[pDecline], 0)
	c.launch(now, false)
}

// sidFor is the Server ID option of the server whose DUID is h (hex):
// the binding's server's, or another one the clients heard from, or one
// made from h; the binding's server's when h is none.
func (c *Client) sidFor(h string) dhcpv6.Option {
	var own dhcpv6.Option
	if c.server != nil {
		if h == c.server.hex {
			return c.server.opt
		}
		own = c.server.opt
	}
	if k := c.cfg.scr.serverByHex(h); k != nil {
		return k.opt
	}
	b, err := hex.DecodeString(h)
	if err != nil {
		return own
	}
	d, err := dhcpv6.DUIDFromBytes(b)
	if err != nil {
		return own
	}
	return dhcpv6.OptServerID(d)
}

// outstanding reports whether the running Renew or Rebind is still for
// something: an IA with leases whose T1 (Renew) or T2 (Rebind) has come.
// A Rebind after a link change is for every IA (§18.2.12).
func (c *Client) outstanding(now time.Time) bool {
	if c.ex.linkChange {
		return true
	}
	for i := range c.ias() {
		a := &c.ias()[i]
		if len(a.leases) == 0 {
			continue
		}
		at := a.t1At
		if c.ex.kind == dhcpv6.MessageTypeRebind {
			at = a.t2At
		}
		if !now.Before(c.cfg.time(at)) {
			return true
		}
	}
	return false
}

// leasesChanged follows a change of the leases while a Renew or Rebind
// runs. With nothing left to renew or rebind the exchange ends. Otherwise
// its end follows the leases (§18.2.4: Renew runs until T2; §18.2.5:
// Rebind until the valid lifetimes of the leases held end) and its
// retransmissions carry the leases now held.
func (c *Client) leasesChanged(now time.Time) {
	k := c.ex.kind
	if k != dhcpv6.MessageTypeRenew && k != dhcpv6.MessageTypeRebind {
		return
	}
	if !c.outstanding(now) {
		c.bound(now)
		return
	}
	switch {
	case c.ex.linkChange, c.ex.cnfRebind: // Confirm's MRD (§18.2.12; PDRebindConfirm)
	case k == dhcpv6.MessageTypeRebind:
		c.ex.deadline = c.lastUntil()
	default:
		c.ex.deadline = c.rebindAt()
	}
	if c.ex.count > 0 && c.ex.next > c.ex.deadline {
		c.ex.next = c.ex.deadline
	}
	c.build()
}

// probe runs the duplicate address detection probes due at now (RFC 4862
// §5.4; RFC 9915 §18.2.10.1). An address found in use is declined
// (§18.2.8): the client stops using it at once, and sends the Decline now
// when no exchange runs, or when the running one ends. With
// Deviations.KeepDADFailed it is kept instead, unusable (until a later DAD
// of it passes, Deviations.ReaddKept).
func (c *Client) probe(now time.Time) {
	if c.cfg.Prober == nil || !c.state.HoldsLeases() {
		return
	}
	found := false
	for i := range c.ias() {
		a := &c.ias()[i]
		if a.kind() != history.IANA {
			continue
		}
		for j := 0; j < len(a.leases); {
			l := &a.leases[j]
			if l.probeAt == 0 || now.Before(c.cfg.time(l.probeAt)) {
				j++
				continue
			}
			l.probeAt = 0
			holder, inUse := c.cfg.Prober.InUse(int(c.index), l.addr())
			if !inUse {
				j++
				continue
			}
			if c.cfg.Deviations.KeepDADFailed {
				// Not RFC 9915 §18.2.8: kept, unusable, not declined.
				l.dadFailed = true
				c.leaseEvent(now, history.DADFailed, a, *l, history.CauseDAD)
				c.namePeer(holder)
				j++
				continue
			}
			d := a.remove(j)
			c.leaseEvent(now, history.Declined, a, d, history.CauseDAD)
			c.namePeer(holder)
			x := c.wr()
			x.declineQ = append(x.declineQ, d)
			found = true
		}
	}
	switch {
	case !found:
	case c.state == Bound:
		c.startDecline(now)
	default:
		c.leasesChanged(now)
	}
}

// namePeer names holder (a client, -1 none) as the Peer of the event
// just recorded.
func (c *Client) namePeer(holder int) {
	if holder >= 0 {
		peer := new(int)
		*peer = holder
		c.cfg.scr.out.Events[len(c.cfg.scr.out.Events)-1].Peer = peer
	}
}

// newExchange sets up a new exchange with a fresh transaction ID (§15:
// a new ID per exchange, kept across its retransmissions) and builds its
// message.
func (c *Client) newExchange(kind dhcpv6.MessageType, p *Params, deadline instant) {
	r := c.ex.room
	if r == nil {
		r = c.cfg.scr.takeRoom()
	}
	c.ex = exchange{
		kind:          kind,
		deadline:      deadline,
		positiveFirst: kind == dhcpv6.MessageTypeSolicit,
		room:          r,
	}
	c.ex.setParams(p)
	if p.MRC > 0 && c.cfg.Deviations.MRCRetransmissions && c.ex.mrc < math.MaxUint16 {
		c.ex.mrc++ // not RFC 9915 §15 (ISC dhclient 4.4, check_timing6)
	}
	c.ex.xid = c.newXID()
	c.build()
}

// launch sends the exchange's first message now, or after a random delay
// in [0, MaxDelay] when delay is set and the parameters have one.
func (c *Client) launch(now time.Time, delay bool) {
	if delay && c.ex.p.MaxDelay > 0 {
		var d time.Duration
		if c.cfg.Deviations.FixedInitialDelay {
			// Not RFC 9915 (dhcpcd 9.4.1, dhcp6_sendmessage): the maximum
			// times 1 + RAND, RAND uniform in [0, 0.1).
			d = c.ex.p.MaxDelay + frac(c.ex.p.MaxDelay, c.rng.Float64()*0.1)
		} else {
			d = time.Duration(c.rng.Int64N(int64(c.ex.p.MaxDelay) + 1))
		}
		if d > 0 {
			c.ex.next = c.cfg.at(now.Add(d))
			return
		}
	}
	c.transmit(now)
}

func (c *Client) newXID() dhcpv6.TransactionID {
	for i := 0; ; i++ {
		v := c.rng.Uint32()
		x := dhcpv6.TransactionID{byte(v >> 16), byte(v >> 8), byte(v)}
		if c.cfg.XIDs == nil || c.cfg.XIDs.ClaimXID(int(c.index), x) {
			return x
		}
		if i > 1<<20 {
			panic("client: no free transaction ID")
		}
	}
}

// sent is a message the client sends, with room for its options: a
// Solicit, Request, Renew or Rebind has at most seven (Client ID, Server
// ID, Elapsed Time, Option Request, IA_NA, IA_PD, Rapid Commit or Client
// FQDN).
type sent struct {
	m    dhcpv6.Message
	opts [7]dhcpv6.Option
}

// transmit sends (or resends) the exchange's message at now. The message
// is new (or recycled, Scratch.Recycle) and its options are the
// template's values, which nothing changes once built: whoever holds a
// message sent (a server's queue) reads it as it was sent.
func (c *Client) transmit(now time.Time) {
	first := c.ex.count == 0
	if c.ex.room == nil {
		// Its room went back after the last transmission (lendsRoom):
		// built again from the state it was built from.
		c.ex.room = c.cfg.scr.takeRoom()
		c.build()
	}
	var m *dhcpv6.Message
	var opts dhcpv6.Options
	tmpl := c.ex.room.opts
	if n := len(tmpl); n <= len(sent{}.opts) {
		b := c.cfg.scr.newSent() // the message and its options in one allocation, or recycled
		m, opts = &b.m, b.opts[:n:n]
	} else {
		m, opts = new(dhcpv6.Message), make(dhcpv6.Options, n)
	}
	copy(opts, tmpl)
	if el := c.ex.elapsed(c.cfg, now); el != 0 {
		opts[c.ex.elapsedIdx] = dhcpv6.OptElapsedTime(el)
	}
	*m = dhcpv6.Message{
		MessageType:   c.ex.kind,
		TransactionID: c.ex.xid,
		Options:       dhcpv6.MessageOptions{Options: opts},
	}
	c.cfg.scr.out.Send = append(c.cfg.scr.out.Send, Datagram{Msg: m, Dst: c.Dst()})
	c.ex.sent(c.cfg, now, &c.rng)
	if lendsRoom(c.ex.kind) {
		c.cfg.scr.giveRoom(c.ex.room) // the message holds the values, not the room
		c.ex.room = nil
	}
	if first && c.ex.kind == dhcpv6.MessageTypeSolicit {
		c.cfg.scr.out.Events = append(c.cfg.scr.out.Events, c.event(now, history.Solicited))
	}
}

// lendsRoom reports whether an exchange of kind k gives its template's
// room back to the scratch after each transmission, to be built again for
// the next: the exchanges that may wait minutes between transmissions
// (Solicit and Information-request up to their MRT, Renew until T2,
// Rebind until the leases end: a million clients renewing with their
// server gone held a million rooms and IA_NA options, a quarter of the
// heap), whose template is what build makes of the client's state
// whenever it is built (Renew's and Rebind's follow the leases,
// leasesChanged; Solicit's and Information-request's do not read them).
// A Request, Confirm, Decline or Release keeps its room: a few seconds,
// and a template that must not follow the leases.
func lendsRoom(k dhcpv6.MessageType) bool {
	switch k {
	case dhcpv6.MessageTypeSolicit, dhcpv6.MessageTypeRenew,
		dhcpv6.MessageTypeRebind, dhcpv6.MessageTypeInformationRequest:
		return true
	}
	return false
}

// Dst is where the client sends its messages now (transmit): Config.Dst,
// or All_DHCP_Relay_Agents_and_Servers once a server asked for multicast
// (§18.2.10).
func (c *Client) Dst() netip.AddrPort {
	if c.toAll {
		return transport.AllServersPort
	}
	return c.cfg.Dst
}

func (c *Client) event(now time.Time, k history.Kind) history.Event {
	return history.Event{At: now, Kind: k, Client: int(c.index), DUID: c.DUIDHex(), Server: c.Server()}
}

func (c *Client) leaseEvent(now time.Time, k history.Kind, a *ia, l held, cause string) {
	c.cfg.scr.out.Events = append(c.cfg.scr.out.Events, history.Event{
		At:        now,
		Kind:      k,
		Client:    int(c.index),
		DUID:      c.DUIDHex(),
		Server:    l.serverHex(),
		IA:        a.kind(),
		IAID:      a.iaid,
		Lease:     l.prefix(),
		T1:        l.T1,
		T2:        l.T2,
		Preferred: l.Preferred,
		Valid:     l.Valid,
		Cause:     cause,
	})
}

// CopyMessage is a copy of m, a message a client sent, that outlives its
// Scratch's recycling (Scratch.Recycle): the message, its list of options
// and its IA_NA options, whose storage a Scratch uses again (room.na).
// Its other options are values nobody changes: the copy shares them.
func CopyMessage(m *dhcpv6.Message) *dhcpv6.Message {
	c := *m
	c.Options.Options = slices.Clone(m.Options.Options)
	for i, o := range c.Options.Options {
		if na, ok := o.(*dhcpv6.OptIANA); ok {
			c.Options.Options[i] = copyIANA(na)
		}
	}
	return &c
}

// copyIANA is a copy of na with its list of options and its IA Address
// options (their addresses too).
func copyIANA(na *dhcpv6.OptIANA) *dhcpv6.OptIANA {
	n := *na
	n.Options.Options = slices.Clone(na.Options.Options)
	for i, o := range n.Options.Options {
		if a, ok := o.(*dhcpv6.OptIAAddress); ok {
			b := *a
			b.IPv6Addr = slices.Clone(a.IPv6Addr)
			n.Options.Options[i] = &b
		}
	}
	return &n
}
