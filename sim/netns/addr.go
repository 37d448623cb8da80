package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"

	"d6lab/sim/realclient/trace"
)

// ErrBadAddr is returned by AddAddr and DelAddr for an address outside
// 2001:db8::/32 and fd00::/8 (AllowedAddr).
var ErrBadAddr = errors.New("netns: address not in 2001:db8::/32 or fd00::/8")

// AddAddr adds p (the address and its prefix length) to node's link
// interface without DAD (IFA_F_NODAD), valid and preferred forever: the
// node's kernel holds it at once and answers for it, so a real client
// whose duplicate address detection probes it (RFC 4862 §5.4.3) sees it
// in use. This is the netns engine's `occupy`: a host on the link that
// already uses the address. Addrs does not list it.
func (l *Lab) AddAddr(node string, p netip.Prefix) error {
	return l.changeAddr(node, p, true)
}

// DelAddr removes an address AddAddr added (or any address of node's link
// interface).
func (l *Lab) DelAddr(node string, p netip.Prefix) error {
	return l.changeAddr(node, p, false)
}

func (l *Lab) changeAddr(node string, p netip.Prefix, add bool) error {
	if !p.IsValid() || !AllowedAddr(p.Addr()) {
		return fmt.Errorf("%w: %v", ErrBadAddr, p)
	}
	n, err := l.node(node)
	if err != nil {
		return err
	}
	l.mu.RLock() // keeps Teardown from closing n.nl
	defer l.mu.RUnlock()
	if l.torn {
		return ErrTornDown
	}
	addr := &netlink.Addr{
		IPNet:     &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), 128)},
		Flags:     unix.IFA_F_NODAD,
		LinkIndex: n.ifIndex,
	}
	link := &netlink.Device{LinkAttrs: netlink.LinkAttrs{Index: n.ifIndex, Name: n.ifName}}
	if add {
		err = n.nl.AddrAdd(link, addr)
	} else {
		err = n.nl.AddrDel(link, addr)
	}
	if err != nil {
		what := "add"
		if !add {
			what = "delete"
		}
		return fmt.Errorf("netns: %s %v on %s in %s: %w", what, p, n.ifName, n.ns, err)
	}
	return nil
}

// watchBuffer is the receive buffer of an address subscription: room for
// thousands of changes while fn is slow.
const watchBuffer = 1 << 20

// watcher is one WatchAddrs subscription.
type watcher struct {
	done     chan struct{} // closed to end the subscription (the socket closes)
	finished chan struct{} // closed once the reader has returned
	stopping atomic.Bool   // set first: nothing is reported after it
	once     sync.Once

	mu  sync.Mutex
	err error // the first error the subscription reported
}

// end stops reporting and closes the subscription without waiting.
func (w *watcher) end() {
	w.stopping.Store(true)
	w.once.Do(func() { close(w.done) })
}

func (w *watcher) fail(err error) {
	if w.stopping.Load() {
		return // the socket closing under Receive
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err == nil {
		w.err = err
	}
}

// WatchAddrs calls fn for every change of a global IPv6 address (neither
// link-local nor multicast) on node's link interface, as the kernel
// reports it over netlink (RTM_NEWADDR, RTM_DELADDR): first one call per
// address already there, then one per change, in the kernel's order. Each
// change carries the time it was read, the address with its prefix length,
// whether it was deleted, the IFA_F_TENTATIVE, IFA_F_DADFAILED and
// IFA_F_DEPRECATED flags, and the remaining preferred and valid lifetimes
// (trace.Forever for an infinite one). A change of lifetimes alone (a
// renewed lease) is a change too.
//
// fn runs on one goroutine of the subscription's own, one call at a time;
// it must not block for long: the kernel drops notifications when the
// socket's buffer (1 MiB) fills, which ends the subscription with an error
// (ENOBUFS) that stop returns.
//
// stop ends the subscription, waits until fn has returned for the last
// time, and returns the first error the subscription met (nil normally);
// no call of fn starts after stop is called (fn must not call stop: it
// would wait for itself). Teardown ends every
// subscription still open (without waiting for fn); stop may still be
// called afterwards. The subscription's socket is opened inside the node's
// namespace on a thread of its own: the caller's thread never changes
// namespace.
func (l *Lab) WatchAddrs(node string, fn func(trace.AddrChange)) (stop func() error, err error) {
	n, err := l.node(node)
	if err != nil {
		return nil, err
	}
	w := &watcher{done: make(chan struct{}), finished: make(chan struct{})}
	ch := make(chan netlink.AddrUpdate, 64)

	l.mu.Lock() // no Teardown between the subscription and its bookkeeping
	if l.torn {
		l.mu.Unlock()
		return nil, ErrTornDown
	}
	err = inNamespace(n.fd, func() error {
		return netlink.AddrSubscribeWithOptions(ch, w.done, netlink.AddrSubscribeOptions{
			ListExisting:      true,
			ReceiveBufferSize: watchBuffer,
			ErrorCallback:     w.fail,
		})
	})
	if err != nil {
		l.mu.Unlock()
		w.end()
		return nil, fmt.Errorf("netns: watch addresses in %s: %w", n.ns, err)
	}
	l.watchers = append(l.watchers, w)
	l.mu.Unlock()

	ifIndex := n.ifIndex
	go func() {
		defer close(w.finished)
		for u := range ch { // closed by netlink once the socket is closed or fails
			if w.stopping.Load() {
				continue // drain, so netlink's reader can return
			}
			if c, ok := addrChange(u, ifIndex, time.Now()); ok {
				fn(c)
			}
		}
	}()
	return func() error {
		w.end()
		<-w.finished
		l.mu.Lock()
		for i, x := range l.watchers {
			if x == w {
				l.watchers = append(l.watchers[:i], l.watchers[i+1:]...)
				break
			}
		}
		l.mu.Unlock()
		w.mu.Lock()
		defer w.mu.Unlock()
		return w.err
	}, nil
}

// endWatchers ends every subscription (Teardown, under l.mu).
func (l *Lab) endWatchers() {
	for _, w := range l.watchers {
		w.end()
	}
	l.watchers = nil
}

// addrChange maps a netlink address update on interface ifIndex to an
// AddrChange; ok is false for another interface, IPv4, link-local or
// multicast addresses.
func addrChange(u netlink.AddrUpdate, ifIndex int, at time.Time) (trace.AddrChange, bool) {
	if u.LinkIndex != ifIndex {
		return trace.AddrChange{}, false
	}
	ip, ok := netip.AddrFromSlice(u.LinkAddress.IP)
	if !ok || !ip.Is6() || ip.Is4In6() || !ip.IsGlobalUnicast() {
		return trace.AddrChange{}, false
	}
	ones, bits := u.LinkAddress.Mask.Size()
	if bits != 128 {
		ones = 128
	}
	return trace.AddrChange{
		At:         at,
		Prefix:     netip.PrefixFrom(ip, ones),
		Deleted:    !u.NewAddr,
		Tentative:  u.Flags&unix.IFA_F_TENTATIVE != 0,
		DADFailed:  u.Flags&unix.IFA_F_DADFAILED != 0,
		Deprecated: u.Flags&unix.IFA_F_DEPRECATED != 0,
		Preferred:  lifetime(u.PreferedLft),
		Valid:      lifetime(u.ValidLft),
	}, true
}

// lifetime maps IFA_CACHEINFO's remaining seconds (0xffffffff: infinite).
func lifetime(s int) time.Duration {
	if uint32(s) == 0xffffffff {
		return trace.Forever
	}
	return time.Duration(uint32(s)) * time.Second
}
