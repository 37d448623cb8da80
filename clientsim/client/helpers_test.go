package client_test

import (
	"encoding/hex"
	"math/rand/v2"
	"net"
	"net/netip"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/clientsim/client"
	"d6lab/reports/history"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func clientDUID(i byte) []byte {
	return (&dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, i}}).ToBytes()
}

// testNames is a client.Namer for the clients clientDUID names: each name
// written once, so that a history event costs no allocation (as with a
// population's names).
type testNames struct{}

var testNamesOf = func() (n [256]string) {
	for i := range n {
		n[i] = hex.EncodeToString(clientDUID(byte(i)))
	}
	return n
}()

func (testNames) DUIDHex(i int) string { return testNamesOf[byte(i)] }

// sent is one datagram the client emitted, decoded back from its bytes.
type sent struct {
	at  time.Time
	msg *dhcpv6.Message
	dst netip.AddrPort
}

// harness drives one client on a virtual clock and records everything.
type harness struct {
	c      *client.Client
	now    time.Time
	timer  time.Time
	sent   []sent
	events []history.Event
}

type opt func(*client.Config)

func withPD(c *client.Config)          { c.IAPD = true }
func withoutNA(c *client.Config)       { c.IANA = false }
func withRapidCommit(c *client.Config) { c.RapidCommit = true }
func withTimescale(ts float64) opt     { return func(c *client.Config) { c.Timescale = ts } }
func withDst(d netip.AddrPort) opt     { return func(c *client.Config) { c.Dst = d } }

func newHarness(seed uint64, opts ...opt) *harness {
	cfg := client.Config{
		Index: 7,
		DUID:  clientDUID(7),
		IANA:  true,
		Rand:  rand.New(rand.NewPCG(seed, 99)),
	}
	for _, o := range opts {
		o(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		panic(err)
	}
	return &harness{c: c, now: t0}
}

func roundTrip(m *dhcpv6.Message) *dhcpv6.Message {
	out, err := dhcpv6.MessageFromBytes(m.ToBytes())
	if err != nil {
		panic(err)
	}
	return out
}

func (h *harness) take(o client.Output) {
	for _, d := range o.Send {
		h.sent = append(h.sent, sent{at: h.now, msg: roundTrip(d.Msg), dst: d.Dst})
	}
	h.events = append(h.events, o.Events...)
	h.timer = o.Timer
}

func (h *harness) start() { h.take(h.c.Start(h.now)) }

// fire moves the clock to the client's timer and fires it. It reports
// false when the client has no timer.
func (h *harness) fire() bool {
	if h.timer.IsZero() {
		return false
	}
	if h.timer.After(h.now) {
		h.now = h.timer
	}
	h.take(h.c.Timer(h.now))
	return true
}

// until fires timers until cond holds (or the client has no timer, or
// limit timers fired). It reports whether cond held.
func (h *harness) until(cond func() bool, limit int) bool {
	for i := 0; i < limit; i++ {
		if cond() {
			return true
		}
		if !h.fire() {
			break
		}
	}
	return cond()
}

// nextSend fires timers until the client sends something new, and returns it.
func (h *harness) nextSend() *sent {
	n := len(h.sent)
	if !h.until(func() bool { return len(h.sent) > n }, 1000) {
		return nil
	}
	return &h.sent[n]
}

func (h *harness) deliver(m *dhcpv6.Message) { h.take(h.c.Receive(h.now, roundTrip(m))) }

func (h *harness) advance(d time.Duration) {
	target := h.now.Add(d)
	for !h.timer.IsZero() && !h.timer.After(target) {
		h.fire()
	}
	h.now = target
}

func (h *harness) last() *dhcpv6.Message { return h.sent[len(h.sent)-1].msg }

func (h *harness) eventsOf(k history.Kind) []history.Event {
	var out []history.Event
	for _, e := range h.events {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// sendsOf lists the sends of one message type.
func (h *harness) sendsOf(t dhcpv6.MessageType) []sent {
	var out []sent
	for _, s := range h.sent {
		if s.msg.MessageType == t {
			out = append(out, s)
		}
	}
	return out
}

// --- a scripted server -------------------------------------------------

type server struct{ duid dhcpv6.DUID }

func newServer(i byte) *server {
	return &server{duid: &dhcpv6.DUIDLL{HWType: iana.HWTypeEthernet, LinkLayerAddr: net.HardwareAddr{0, 0, 0x5e, 0, 0x53, i}}}
}

func (s *server) hex() string { return hexOf(s.duid.ToBytes()) }

func hexOf(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func (s *server) answer(to *dhcpv6.Message, t dhcpv6.MessageType, opts ...dhcpv6.Option) *dhcpv6.Message {
	m := &dhcpv6.Message{MessageType: t, TransactionID: to.TransactionID}
	if cid := to.GetOneOption(dhcpv6.OptionClientID); cid != nil {
		m.AddOption(cid)
	}
	m.AddOption(dhcpv6.OptServerID(s.duid))
	for _, o := range opts {
		m.AddOption(o)
	}
	return m
}

func (s *server) advertise(to *dhcpv6.Message, pref int, opts ...dhcpv6.Option) *dhcpv6.Message {
	if pref >= 0 {
		opts = append(opts, dhcpv6.OptPreference(uint8(pref)))
	}
	return s.answer(to, dhcpv6.MessageTypeAdvertise, opts...)
}

func (s *server) reply(to *dhcpv6.Message, opts ...dhcpv6.Option) *dhcpv6.Message {
	return s.answer(to, dhcpv6.MessageTypeReply, opts...)
}

func ianaOpt(t1, t2 time.Duration, sub ...dhcpv6.Option) *dhcpv6.OptIANA {
	o := &dhcpv6.OptIANA{IaId: [4]byte{0, 0, 0, 1}, T1: t1, T2: t2}
	for _, s := range sub {
		o.Options.Add(s)
	}
	return o
}

func iapdOpt(t1, t2 time.Duration, sub ...dhcpv6.Option) *dhcpv6.OptIAPD {
	o := &dhcpv6.OptIAPD{IaId: [4]byte{0, 0, 0, 2}, T1: t1, T2: t2}
	for _, s := range sub {
		o.Options.Add(s)
	}
	return o
}

func addrOpt(a string, pref, valid time.Duration) *dhcpv6.OptIAAddress {
	return &dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP(a), PreferredLifetime: pref, ValidLifetime: valid}
}

func prefixOpt(p string, pref, valid time.Duration) *dhcpv6.OptIAPrefix {
	_, n, err := net.ParseCIDR(p)
	if err != nil {
		panic(err)
	}
	return &dhcpv6.OptIAPrefix{Prefix: n, PreferredLifetime: pref, ValidLifetime: valid}
}

func statusOpt(code iana.StatusCode) *dhcpv6.OptStatusCode {
	return &dhcpv6.OptStatusCode{StatusCode: code, StatusMessage: code.String()}
}

// IA contents of a client message.
func naAddrs(m *dhcpv6.Message) []string {
	var out []string
	for _, na := range m.Options.IANA() {
		for _, a := range na.Options.Addresses() {
			out = append(out, a.IPv6Addr.String())
		}
	}
	return out
}

func pdPrefixes(m *dhcpv6.Message) []string {
	var out []string
	for _, pd := range m.Options.IAPD() {
		for _, p := range pd.Options.Prefixes() {
			out = append(out, p.Prefix.String())
		}
	}
	return out
}

func serverIDHex(m *dhcpv6.Message) string {
	if d := m.Options.ServerID(); d != nil {
		return hexOf(d.ToBytes())
	}
	return ""
}

// bind drives a fresh harness to Bound with one address from srv.
func (h *harness) bind(srv *server, ia dhcpv6.Option) {
	h.start()
	sol := h.nextSend()
	h.deliver(srv.advertise(sol.msg, 255, ia))
	req := h.last()
	if req.MessageType != dhcpv6.MessageTypeRequest {
		panic("no Request after Advertise 255")
	}
	h.deliver(srv.reply(req, ia))
	if h.c.State() != client.Bound {
		panic("not bound: " + h.c.State().String())
	}
}

func withJitter(j float64) opt { return func(c *client.Config) { c.Jitter = j } }

func withDAD(dad, delay time.Duration, p client.DADProber) opt {
	return func(c *client.Config) { c.DAD, c.DADDelay, c.Prober = dad, delay, p }
}

// prober is a scripted DADProber: the addresses in inUse are held by
// holder (-1: a host outside the population).
type prober struct {
	holder int
	inUse  map[netip.Addr]bool
	calls  []probeCall
}

type probeCall struct {
	client int
	addr   netip.Addr
}

func newProber(holder int, addrs ...string) *prober {
	p := &prober{holder: holder, inUse: map[netip.Addr]bool{}}
	for _, a := range addrs {
		p.inUse[netip.MustParseAddr(a)] = true
	}
	return p
}

func (p *prober) InUse(c int, a netip.Addr) (int, bool) {
	p.calls = append(p.calls, probeCall{c, a})
	if p.inUse[a] {
		return p.holder, true
	}
	return -1, false
}

// leaseOf is the held lease p (a prefix, or an address as /128).
func (h *harness) leaseOf(p netip.Prefix) (client.Lease, bool) {
	for _, l := range h.c.Leases() {
		if l.Prefix == p {
			return l, true
		}
	}
	return client.Lease{}, false
}

// kindsOf lists the events' kinds.
func kindsOf(evs []history.Event) []history.Kind {
	out := make([]history.Kind, len(evs))
	for i, e := range evs {
		out[i] = e.Kind
	}
	return out
}
