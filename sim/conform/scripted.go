package conform

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv6"
	"github.com/insomniacslk/dhcp/iana"

	"d6lab/server"
	"d6lab/sim/netns"
	"d6lab/transport"
)

// query is one client message a scripted server received, as its script
// sees it.
type query struct {
	// In is what the client sent.
	In *dhcpv6.Message
	// Out is what the builtin core answered, a copy the script may change
	// (nil: the core dropped the message).
	Out *dhcpv6.Message
	// N counts the messages of In's type this server received, this one
	// included (1 for the first).
	N int
	// Replies counts the Replies this server has sent (or scheduled)
	// before this message.
	Replies int
	// Since is the time since this server's first message of the check.
	Since time.Duration
}

// script decides a scripted server's answer to one client message: the
// message to send (nil: none) and how long to hold it first. A nil script
// sends what the core answered, at once.
type script func(q *query) (answer *dhcpv6.Message, delay time.Duration)

// wireMsg is one message a scripted server received or sent.
type wireMsg struct {
	At       time.Time
	Msg      *dhcpv6.Message
	Answered dhcpv6.MessageType // for a sent message: the type it answers
}

// scripted is one scripted DHCPv6 server of a client check: a UDP socket
// on port 547 in a server node's namespace, joined to ff02::1:2, in front
// of the builtin core (package server, sans-IO, leases in memory), with a
// script that may hold, drop or rewrite the core's answers.
type scripted struct {
	name  string // the node
	label string // how details name it: "s1", "s2"
	core  *server.Server
	conn  *transport.UDP
	run   script
	done  chan struct{}

	mu      sync.Mutex
	closed  bool
	first   time.Time
	counts  map[dhcpv6.MessageType]int
	replies int
	got     []wireMsg
	sent    []wireMsg
	timers  []*time.Timer
	errs    []error
}

// startScripted opens the server's socket inside node's namespace and
// starts answering with cfg's core through run.
func startScripted(lab *netns.Lab, node, label string, cfg server.Config, run script) (*scripted, error) {
	core, err := server.New(cfg, nil)
	if err != nil {
		return nil, fmt.Errorf("conform: %s: %w", node, err)
	}
	s := &scripted{name: node, label: label, core: core, run: run, done: make(chan struct{}), counts: map[dhcpv6.MessageType]int{}}
	err = lab.Do(node, func() error {
		var err error
		s.conn, err = transport.ListenUDP(lab.IfName(node), transport.ServerPort, transport.AllServers)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("conform: scripted server %s: %w", node, err)
	}
	go s.loop()
	return s, nil
}

func (s *scripted) loop() {
	defer close(s.done)
	buf := make([]byte, 65536)
	for {
		n, src, mc, err := s.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // never spin a core of a 2-core box
			continue
		}
		m, err := dhcpv6.MessageFromBytes(append([]byte(nil), buf[:n]...))
		if err != nil {
			continue // a relay message or garbage: not a client's
		}
		s.handle(time.Now(), m, src, mc)
	}
}

// handle runs one client message through the core and the script.
func (s *scripted) handle(now time.Time, m *dhcpv6.Message, src netip.AddrPort, multicast bool) {
	s.mu.Lock()
	if s.first.IsZero() {
		s.first = now
	}
	s.counts[m.MessageType]++
	q := &query{In: m, N: s.counts[m.MessageType], Replies: s.replies, Since: now.Sub(s.first)}
	s.got = append(s.got, wireMsg{At: now, Msg: m})
	s.mu.Unlock()

	if out, ok := s.core.HandleMessage(now, m, multicast); ok {
		if om, ok := out.(*dhcpv6.Message); ok {
			// a copy: the core's answer shares option values with it
			q.Out, _ = dhcpv6.MessageFromBytes(om.ToBytes())
		}
	}
	answer, delay := q.Out, time.Duration(0)
	if s.run != nil {
		answer, delay = s.run(q)
	}
	if answer == nil {
		return
	}
	dst := server.ReplyAddr(src, m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	if answer.MessageType == dhcpv6.MessageTypeReply {
		s.replies++
	}
	if delay <= 0 {
		s.send(answer, m.MessageType, dst)
		return
	}
	s.timers = append(s.timers, time.AfterFunc(delay, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			s.send(answer, m.MessageType, dst)
		}
	}))
}

// send writes answer (under s.mu).
func (s *scripted) send(answer *dhcpv6.Message, answers dhcpv6.MessageType, dst netip.AddrPort) {
	if _, err := s.conn.WriteTo(answer.ToBytes(), dst); err != nil {
		if len(s.errs) < 5 {
			s.errs = append(s.errs, fmt.Errorf("%s: send %s to %s: %w", s.label, answer.MessageType, dst, err))
		}
		return
	}
	s.sent = append(s.sent, wireMsg{At: time.Now(), Msg: answer, Answered: answers})
}

// close stops the server: held answers are not sent.
func (s *scripted) close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for _, t := range s.timers {
		t.Stop()
	}
	s.mu.Unlock()
	err := s.conn.Close()
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(append(s.errs, err)...)
}

// received returns the first message of type t the server received at or
// after since.
func (s *scripted) received(t dhcpv6.MessageType, since time.Time) (wireMsg, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.got {
		if w.Msg.MessageType == t && !w.At.Before(since) {
			return w, true
		}
	}
	return wireMsg{}, false
}

// count returns how many messages of type t the server received.
func (s *scripted) count(t dhcpv6.MessageType) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[t]
}

// granted returns when the server first sent a Reply to a Request (or to a
// Solicit) that grants a lease with a valid lifetime.
func (s *scripted) granted() (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.sent {
		if w.Msg.MessageType != dhcpv6.MessageTypeReply {
			continue
		}
		if w.Answered != dhcpv6.MessageTypeRequest && w.Answered != dhcpv6.MessageTypeSolicit {
			continue
		}
		if grantsLease(w.Msg) {
			return w.At, true
		}
	}
	return time.Time{}, false
}

// answered returns when the server first sent an answer to a message of
// type t.
func (s *scripted) answered(t dhcpv6.MessageType) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range s.sent {
		if w.Answered == t {
			return w.At, true
		}
	}
	return time.Time{}, false
}

// grantsLease reports whether m holds an address or prefix with a valid
// lifetime > 0.
func grantsLease(m *dhcpv6.Message) bool {
	for _, ia := range m.Options.IANA() {
		for _, a := range ia.Options.Addresses() {
			if a.ValidLifetime > 0 {
				return true
			}
		}
	}
	for _, ia := range m.Options.IAPD() {
		for _, p := range ia.Options.Prefixes() {
			if p.ValidLifetime > 0 {
				return true
			}
		}
	}
	return false
}

// Scripts the client checks compose.

// silent answers nothing.
func silent(*query) (*dhcpv6.Message, time.Duration) { return nil, 0 }

// holdAdvertise holds every Advertise for d.
func holdAdvertise(d time.Duration) script {
	return func(q *query) (*dhcpv6.Message, time.Duration) {
		if q.Out != nil && q.Out.MessageType == dhcpv6.MessageTypeAdvertise {
			return q.Out, d
		}
		return q.Out, 0
	}
}

// advertiseOnly answers Solicits and nothing else: the server died between
// its Advertise and the Reply.
func advertiseOnly(q *query) (*dhcpv6.Message, time.Duration) {
	if q.In.MessageType == dhcpv6.MessageTypeSolicit {
		return q.Out, 0
	}
	return nil, 0
}

// diesAfterGrant answers until it has sent its first Reply, then nothing:
// the server died once the client was bound.
func diesAfterGrant(q *query) (*dhcpv6.Message, time.Duration) {
	if q.Replies > 0 {
		return nil, 0
	}
	return q.Out, 0
}

// only answers messages of type t, nothing else.
func only(t dhcpv6.MessageType) script {
	return func(q *query) (*dhcpv6.Message, time.Duration) {
		if q.In.MessageType == t {
			return q.Out, 0
		}
		return nil, 0
	}
}

// onFirst rewrites the answer to the first message of type t with edit;
// the rest go as the core made them.
func onFirst(t dhcpv6.MessageType, edit func(*dhcpv6.Message) *dhcpv6.Message) script {
	return func(q *query) (*dhcpv6.Message, time.Duration) {
		if q.In.MessageType == t && q.N == 1 && q.Out != nil {
			return edit(q.Out), 0
		}
		return q.Out, 0
	}
}

// zeroLifetimes sets every address and prefix of m to lifetimes 0.
func zeroLifetimes(m *dhcpv6.Message) *dhcpv6.Message {
	for _, ia := range m.Options.IANA() {
		for _, a := range ia.Options.Addresses() {
			a.PreferredLifetime, a.ValidLifetime = 0, 0
		}
	}
	for _, ia := range m.Options.IAPD() {
		for _, p := range ia.Options.Prefixes() {
			p.PreferredLifetime, p.ValidLifetime = 0, 0
		}
	}
	return m
}

// noBinding replaces each IA of m by the same IA with status NoBinding
// and nothing else, as a server that lost the bindings answers a Renew
// (RFC 9915 §18.3.4).
func noBinding(m *dhcpv6.Message) *dhcpv6.Message {
	var opts dhcpv6.Options
	for _, o := range m.Options.Options {
		switch ia := o.(type) {
		case *dhcpv6.OptIANA:
			n := &dhcpv6.OptIANA{IaId: ia.IaId}
			n.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding, StatusMessage: "no binding"})
			opts = append(opts, n)
		case *dhcpv6.OptIAPD:
			n := &dhcpv6.OptIAPD{IaId: ia.IaId}
			n.Options.Add(&dhcpv6.OptStatusCode{StatusCode: iana.StatusNoBinding, StatusMessage: "no binding"})
			opts = append(opts, n)
		default:
			opts = append(opts, o)
		}
	}
	m.Options.Options = opts
	return m
}
