package netns

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// readyTimeout bounds how long Create and Heal wait for the kernel (a
// link-local address to appear, a carrier to come back).
const readyTimeout = 10 * time.Second

// ErrUnknownNode is returned for a node name the lab does not have.
var ErrUnknownNode = errors.New("netns: unknown node")

// ErrTornDown is returned by operations on a lab after Teardown.
var ErrTornDown = errors.New("netns: lab torn down")

// ErrNamespaceExists is returned by Create when a namespace with one of the
// lab's names already exists (another run with the same prefix, or a crashed
// one: see Clean). Create never touches it.
var ErrNamespaceExists = errors.New("netns: namespace already exists")

// node is one namespace of the lab. Its (first) interface is leg; a relay
// has a second one, up, on the server network.
type node struct {
	name string
	ns   string // namespace name, prefix-name
	fd   netns.NsHandle
	nl   *netlink.Handle
	leg
	up *leg
}

// leg is one veth pair: an interface in a node and its port on a bridge.
type leg struct {
	index     int
	ifName    string // in the node's namespace
	portName  string // the bridge-side end, in the link namespace
	ifIndex   int
	mac       net.HardwareAddr
	linkLocal netip.Addr
	addrs     []netip.Prefix
	dad       bool // NodeSpec.DAD
}

func newLeg(prefix string, index int, addrs []netip.Prefix) leg {
	return leg{index: index, ifName: nodeIfName(prefix, index), portName: portName(prefix, index), mac: mac(macNode, index), addrs: addrs}
}

// Lab is a running topology. Its methods are safe for concurrent use.
type Lab struct {
	spec Spec

	mu       sync.RWMutex
	torn     bool
	link     *node // the namespace that holds the bridge
	nodes    map[string]*node
	order    []*node  // clients first, then spec.Nodes, spec.Upstream, the relay
	created  []string // namespaces this lab made, in creation order
	procs    []*Process
	netem    *bool // nil until probed
	netemErr error
	delayed  map[string]bool // nodes with a netem qdisc
	watchers []*watcher      // open WatchAddrs subscriptions
}

// Create builds the lab described by spec. On any error it tears down
// whatever it had made and returns the error.
func Create(spec Spec) (lab *Lab, err error) {
	if err := spec.Validate(); err != nil {
		return nil, err
	}
	l := &Lab{spec: spec, nodes: map[string]*node{}, delayed: map[string]bool{}}
	defer func() {
		if err != nil {
			if terr := l.Teardown(); terr != nil {
				err = errors.Join(err, fmt.Errorf("netns: teardown after failed create: %w", terr))
			}
			lab = nil
		}
	}()

	// The link namespace: a bridge and nothing else. IPv6 off, so the
	// bridge and its ports stay silent and hold no addresses.
	if l.link, err = l.newNode(linkNode, -1, nil); err != nil {
		return nil, err
	}
	if err = inNamespace(l.link.fd, func() error {
		for _, k := range []string{"all", "default"} {
			if err := writeSysctl("net/ipv6/conf/"+k+"/disable_ipv6", "1"); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	brIndex, err := l.addBridge(bridgeName(spec.Prefix), 0)
	if err != nil {
		return nil, err
	}
	upIndex := 0
	if len(spec.Upstream) > 0 || spec.Relay != nil {
		if upIndex, err = l.addBridge(upBridgeName(spec.Prefix), 1); err != nil {
			return nil, err
		}
	}

	i := 0
	add := func(ns NodeSpec, bridge int) (*node, error) {
		n, err := l.newNode(ns.Name, i, ns.Addrs)
		i++
		if err != nil {
			return nil, err
		}
		n.leg.dad = ns.DAD
		l.nodes[n.name] = n
		l.order = append(l.order, n)
		return n, l.attach(n, &n.leg, bridge)
	}
	for _, ns := range append([]NodeSpec{spec.Clients}, spec.Nodes...) {
		if _, err := add(ns, brIndex); err != nil {
			return nil, err
		}
	}
	for _, ns := range spec.Upstream {
		if _, err := add(ns, upIndex); err != nil {
			return nil, err
		}
	}
	if r := spec.Relay; r != nil {
		n, err := add(NodeSpec{Name: r.Name, Addrs: r.Down}, brIndex)
		if err != nil {
			return nil, err
		}
		up := newLeg(spec.Prefix, i, r.Up)
		n.up = &up
		if err := l.attach(n, n.up, upIndex); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// addBridge makes a bridge in the link namespace, up, and returns its
// index. k numbers the lab's bridges (for their MACs).
func (l *Lab) addBridge(name string, k int) (int, error) {
	br := &netlink.Bridge{
		LinkAttrs:         netlink.LinkAttrs{Name: name, HardwareAddr: mac(macBridge, k)},
		MulticastSnooping: ptr(false), // ff02::1:2 must reach every port
	}
	if err := l.link.nl.LinkAdd(br); err != nil {
		return 0, fmt.Errorf("netns: add bridge %s in %s: %w", br.Name, l.link.ns, err)
	}
	brLink, err := l.link.nl.LinkByName(br.Name)
	if err != nil {
		return 0, fmt.Errorf("netns: find bridge %s: %w", br.Name, err)
	}
	if err = l.link.nl.LinkSetUp(brLink); err != nil {
		return 0, fmt.Errorf("netns: bridge %s up: %w", br.Name, err)
	}
	return brLink.Attrs().Index, nil
}

func ptr[T any](v T) *T { return &v }

// newNode creates the named namespace prefix-name and a netlink handle in it.
func (l *Lab) newNode(name string, index int, addrs []netip.Prefix) (*node, error) {
	n := &node{name: name, ns: nsName(l.spec.Prefix, name), fd: netns.None()}
	n.leg.index, n.leg.addrs = index, addrs
	if index >= 0 {
		n.leg = newLeg(l.spec.Prefix, index, addrs)
	}
	fd, err := l.newNamed(n.ns)
	if err != nil {
		return nil, err
	}
	n.fd = fd
	if name == linkNode {
		l.link = n // so that a failure below still closes it
	}
	if err := inNamespace(fd, func() error {
		h, err := netlink.NewHandle() // its socket lives in this namespace
		n.nl = h
		return err
	}); err != nil {
		fd.Close()
		n.fd = netns.None()
		return nil, fmt.Errorf("netns: netlink handle in %s: %w", n.ns, err)
	}
	return n, nil
}

// newNamed creates a named namespace (visible in `ip netns list`) on a
// throwaway thread and records it for Teardown.
func (l *Lab) newNamed(name string) (netns.NsHandle, error) {
	type result struct {
		h   netns.NsHandle
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{netns.None(), fmt.Errorf("netns: get current namespace: %w", err)}
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name) // unshares this thread's namespace
		restoreErr := netns.Set(orig)
		if restoreErr == nil {
			runtime.UnlockOSThread()
		} // else: the thread dies with this goroutine
		switch {
		case errors.Is(err, os.ErrExist):
			err = fmt.Errorf("%w: %s", ErrNamespaceExists, name)
		case err != nil:
			err = fmt.Errorf("netns: create namespace %s: %w", name, err)
		}
		if restoreErr != nil {
			err = errors.Join(err, fmt.Errorf("netns: restore namespace: %w", restoreErr))
		}
		done <- result{h, err}
	}()
	r := <-done
	if r.h.IsOpen() || r.err == nil {
		l.mu.Lock()
		l.created = append(l.created, name)
		l.mu.Unlock()
	}
	if r.err != nil {
		if r.h.IsOpen() {
			r.h.Close()
		}
		return netns.None(), r.err
	}
	return r.h, nil
}

// attach makes the veth pair of n's leg g, its port on the bridge, its
// sysctls and addresses, and waits for its link-local address to be usable.
func (l *Lab) attach(n *node, g *leg, bridgeIndex int) error {
	// Sysctls for interfaces born in this namespace: no DAD, EUI-64
	// link-locals (stable, from the deterministic MAC), IPv6 on.
	if err := inNamespace(n.fd, func() error {
		for _, kv := range [][2]string{
			{"net/ipv6/conf/all/disable_ipv6", "0"},
			{"net/ipv6/conf/default/disable_ipv6", "0"},
			{"net/ipv6/conf/all/accept_dad", "0"},
			{"net/ipv6/conf/default/accept_dad", "0"},
			{"net/ipv6/conf/default/addr_gen_mode", "0"},
		} {
			if err := writeSysctl(kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("netns: %s: %w", n.ns, err)
	}
	veth := &netlink.Veth{
		LinkAttrs: netlink.LinkAttrs{
			Name:         g.portName,
			HardwareAddr: mac(macPort, g.index),
			MasterIndex:  bridgeIndex,
		},
		PeerName:         g.ifName,
		PeerHardwareAddr: g.mac,
		PeerNamespace:    netlink.NsFd(n.fd),
	}
	if err := l.link.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("netns: add veth %s/%s for %s: %w", g.portName, g.ifName, n.ns, err)
	}
	ifl, err := n.nl.LinkByName(g.ifName)
	if err != nil {
		return fmt.Errorf("netns: find %s in %s: %w", g.ifName, n.ns, err)
	}
	g.ifIndex = ifl.Attrs().Index
	if err := inNamespace(n.fd, func() error {
		sysctls := [][2]string{
			{"accept_dad", "0"},
			{"addr_gen_mode", "0"},
			{"disable_ipv6", "0"},
		}
		if g.dad {
			// A real client's host: no Router Solicitation, no SLAAC.
			sysctls = append(sysctls, [2]string{"accept_ra", "0"}, [2]string{"autoconf", "0"})
		}
		for _, kv := range sysctls {
			if err := writeSysctl("net/ipv6/conf/"+g.ifName+"/"+kv[0], kv[1]); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return fmt.Errorf("netns: %s: %w", n.ns, err)
	}
	lo, err := n.nl.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("netns: find lo in %s: %w", n.ns, err)
	}
	if err := n.nl.LinkSetUp(lo); err != nil {
		return fmt.Errorf("netns: lo up in %s: %w", n.ns, err)
	}
	if err := n.nl.LinkSetUp(ifl); err != nil {
		return fmt.Errorf("netns: %s up in %s: %w", g.ifName, n.ns, err)
	}
	port, err := l.link.nl.LinkByName(g.portName)
	if err != nil {
		return fmt.Errorf("netns: find port %s: %w", g.portName, err)
	}
	if err := l.link.nl.LinkSetUp(port); err != nil {
		return fmt.Errorf("netns: port %s up: %w", g.portName, err)
	}
	if g.linkLocal, err = waitLinkLocal(n.nl, ifl, readyTimeout); err != nil {
		return fmt.Errorf("netns: %s in %s: %w", g.ifName, n.ns, err)
	}
	for _, a := range g.addrs {
		addr := &netlink.Addr{
			IPNet: &net.IPNet{IP: net.IP(a.Addr().AsSlice()), Mask: net.CIDRMask(a.Bits(), 128)},
			Flags: unix.IFA_F_NODAD, // usable at once
		}
		if err := n.nl.AddrAdd(ifl, addr); err != nil {
			return fmt.Errorf("netns: add %v to %s in %s: %w", a, g.ifName, n.ns, err)
		}
	}
	if g.dad {
		// Only now: the link-local address skipped DAD (it is made of the
		// node's unique MAC), so Create does not wait a DAD round per node.
		// The namespace's all/accept_dad stays 0: the kernel runs DAD on an
		// interface when either that or the interface's own is at least 1.
		if err := inNamespace(n.fd, func() error {
			for _, kv := range [][2]string{{"dad_transmits", "1"}, {"accept_dad", "1"}} {
				if err := writeSysctl("net/ipv6/conf/"+g.ifName+"/"+kv[0], kv[1]); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("netns: %s: %w", n.ns, err)
		}
	}
	return nil
}

// waitLinkLocal polls until link has an fe80:: address that is neither
// tentative nor failed DAD, and returns it.
func waitLinkLocal(h *netlink.Handle, link netlink.Link, timeout time.Duration) (netip.Addr, error) {
	deadline := time.Now().Add(timeout)
	for {
		addrs, err := h.AddrList(link, netlink.FAMILY_V6)
		if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
			return netip.Addr{}, fmt.Errorf("list addresses: %w", err)
		}
		for _, a := range addrs {
			ip, ok := netip.AddrFromSlice(a.IP)
			if !ok || !ip.Is6() || !ip.IsLinkLocalUnicast() {
				continue
			}
			if a.Flags&(unix.IFA_F_TENTATIVE|unix.IFA_F_DADFAILED) == 0 {
				return ip, nil
			}
		}
		if time.Now().After(deadline) {
			return netip.Addr{}, fmt.Errorf("no usable link-local address after %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitOper polls until link (by name) reports the wanted operational state
// (up when up is true, anything else otherwise).
func waitOper(h *netlink.Handle, name string, up bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		link, err := h.LinkByName(name)
		if err != nil {
			return fmt.Errorf("find %s: %w", name, err)
		}
		if (link.Attrs().OperState == netlink.OperUp) == up {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s still %v after %v", name, link.Attrs().OperState, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (l *Lab) node(name string) (*node, error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.torn {
		return nil, ErrTornDown
	}
	n, ok := l.nodes[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownNode, name)
	}
	return n, nil
}

// Spec returns the spec the lab was built from.
func (l *Lab) Spec() Spec { return l.spec }

// Prefix returns the run prefix.
func (l *Lab) Prefix() string { return l.spec.Prefix }

// Nodes returns the node names: the clients first, then the servers in
// spec order, then the server network's nodes, then the relay.
func (l *Lab) Nodes() []string {
	out := make([]string, 0, len(l.order))
	for _, n := range l.order {
		out = append(out, n.name)
	}
	return out
}

// Namespace returns the name of node's namespace (for `ip netns exec`), or
// "" for an unknown node. "link" names the bridge's namespace.
func (l *Lab) Namespace(node string) string {
	if node == linkNode {
		return nsName(l.spec.Prefix, linkNode)
	}
	if n, ok := l.nodes[node]; ok {
		return n.ns
	}
	return ""
}

// IfName returns the name of node's link interface inside its namespace,
// or "" for an unknown node.
func (l *Lab) IfName(node string) string {
	if n, ok := l.nodes[node]; ok {
		return n.ifName
	}
	return ""
}

// IfIndex returns the index of node's link interface inside its namespace
// (0 for an unknown node). Use it as the zone of link-local and multicast
// addresses when a socket is used outside Do: a zone given by name is
// resolved in the namespace of whatever thread resolves it.
func (l *Lab) IfIndex(node string) int {
	if n, ok := l.nodes[node]; ok {
		return n.ifIndex
	}
	return 0
}

// LinkLocal returns node's fe80:: address (EUI-64 from its fixed MAC).
func (l *Lab) LinkLocal(node string) netip.Addr {
	if n, ok := l.nodes[node]; ok {
		return n.linkLocal
	}
	return netip.Addr{}
}

// MAC returns the fixed link-layer address of node's link interface (nil
// for an unknown node).
func (l *Lab) MAC(node string) net.HardwareAddr {
	if n, ok := l.nodes[node]; ok {
		return append(net.HardwareAddr(nil), n.mac...)
	}
	return nil
}

// Addrs returns node's global addresses.
func (l *Lab) Addrs(node string) []netip.Prefix {
	if n, ok := l.nodes[node]; ok {
		return append([]netip.Prefix(nil), n.addrs...)
	}
	return nil
}

// Do runs fn with its OS thread inside node's namespace and waits for it.
// fn runs on a goroutine of its own whose thread is locked for the
// duration; sockets it creates stay in the namespace after it returns.
// Goroutines that fn starts do NOT run in the namespace. A panic in fn is
// re-raised in the caller.
func (l *Lab) Do(node string, fn func() error) error {
	n, err := l.node(node)
	if err != nil {
		return err
	}
	l.mu.RLock() // keeps Teardown from closing n.fd during setns
	if l.torn {
		l.mu.RUnlock()
		return ErrTornDown
	}
	var once sync.Once
	release := func() { once.Do(l.mu.RUnlock) }
	defer release()
	return inNamespace(n.fd, func() error {
		release()
		return fn()
	})
}

// UpIfName returns the name of a relay's server-network interface inside
// its namespace, or "" for a node without one.
func (l *Lab) UpIfName(node string) string {
	if n, ok := l.nodes[node]; ok && n.up != nil {
		return n.up.ifName
	}
	return ""
}

// UpIfIndex returns the index of a relay's server-network interface (0 for
// a node without one).
func (l *Lab) UpIfIndex(node string) int {
	if n, ok := l.nodes[node]; ok && n.up != nil {
		return n.up.ifIndex
	}
	return 0
}

// UpAddrs returns a relay's global addresses on the server network.
func (l *Lab) UpAddrs(node string) []netip.Prefix {
	if n, ok := l.nodes[node]; ok && n.up != nil {
		return append([]netip.Prefix(nil), n.up.addrs...)
	}
	return nil
}
