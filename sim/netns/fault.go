package netns

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ErrNoNetem is returned by Impair when a delay is asked for and the kernel
// cannot add a netem qdisc (CONFIG_NET_SCH_NETEM unset or the sch_netem
// module missing). Loss does not need netem: it uses nftables.
var ErrNoNetem = errors.New("netns: delay needs the netem qdisc, which this kernel lacks (CONFIG_NET_SCH_NETEM)")

// Cut takes node off the link, as a pulled cable: its bridge port goes
// down, so its interface loses carrier but keeps its addresses (an
// administratively downed IPv6 interface would drop them). Cut waits until
// the node's interface reports the carrier loss.
func (l *Lab) Cut(node string) error { return l.setPort(node, false) }

// Heal puts a cut node back on the link and waits until its interface is
// operationally up again.
func (l *Lab) Heal(node string) error { return l.setPort(node, true) }

func (l *Lab) setPort(node string, up bool) error {
	n, err := l.node(node)
	if err != nil {
		return err
	}
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.torn {
		return ErrTornDown
	}
	port, err := l.link.nl.LinkByName(n.portName)
	if err != nil {
		return fmt.Errorf("netns: find port %s of %s: %w", n.portName, node, err)
	}
	what := "cut"
	if up {
		what = "heal"
		err = l.link.nl.LinkSetUp(port)
	} else {
		err = l.link.nl.LinkSetDown(port)
	}
	if err != nil {
		return fmt.Errorf("netns: %s %s (port %s): %w", what, node, n.portName, err)
	}
	if err := waitOper(n.nl, n.ifName, up, readyTimeout); err != nil {
		return fmt.Errorf("netns: %s %s: %w", what, node, err)
	}
	if up {
		if err := waitOper(l.link.nl, n.portName, true, readyTimeout); err != nil {
			return fmt.Errorf("netns: heal %s: %w", node, err)
		}
	}
	return nil
}

// Impair makes node lose the given share (0..1, in steps of 0.001) of the
// UDP datagrams it sends and of those it receives, each direction drawn
// independently, and delay its outgoing packets by delay.
//
// Loss is an nftables table named after the run prefix in the node's
// namespace with one rule per direction, `meta l4proto udp numgen random
// mod 1000 < loss*1000 drop`. The rules sit on the netdev ingress and
// egress hooks of the node's interface, so a dropped outgoing datagram is
// lost silently, as on a real link (an inet output-hook drop would fail the
// sender's sendto with EPERM); on a kernel without the egress hook they
// fall back to the inet input and output hooks.
//
// Delay needs netem: without it Impair changes nothing and returns an
// error wrapping ErrNoNetem. Each call replaces the node's previous
// impairment; Impair(node, 0, 0) is Unimpair.
func (l *Lab) Impair(node string, loss float64, delay time.Duration) error {
	if math.IsNaN(loss) || loss < 0 || loss > 1 {
		return fmt.Errorf("netns: impair %s: loss %v outside [0, 1]", node, loss)
	}
	if delay < 0 {
		return fmt.Errorf("netns: impair %s: negative delay %v", node, delay)
	}
	n, err := l.node(node)
	if err != nil {
		return err
	}
	if delay > 0 {
		if err := l.probeNetem(); err != nil {
			return fmt.Errorf("netns: impair %s with delay %v: %w", node, delay, err)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.torn {
		return ErrTornDown
	}
	if err := l.setLoss(n, int(math.Round(loss*1000))); err != nil {
		return err
	}
	return l.setDelay(n, delay)
}

// Unimpair removes node's loss and delay.
func (l *Lab) Unimpair(node string) error { return l.Impair(node, 0, 0) }

// lossHook is one chain of the loss table.
type lossHook struct {
	name string
	hook *nftables.ChainHook
}

var (
	netdevHooks = []lossHook{{"ingress", nftables.ChainHookIngress}, {"egress", nftables.ChainHookEgress}}
	inetHooks   = []lossHook{{"input", nftables.ChainHookInput}, {"output", nftables.ChainHookOutput}}
)

// setLoss replaces the node's nftables table; permille 0 removes it.
func (l *Lab) setLoss(n *node, permille int) error {
	err := l.writeLossTable(n, permille, nftables.TableFamilyNetdev, netdevHooks)
	if err != nil && permille > 0 {
		// No netdev egress hook (kernel < 5.16 or NETFILTER_EGRESS off).
		if ierr := l.writeLossTable(n, permille, nftables.TableFamilyINet, inetHooks); ierr == nil {
			return nil
		}
	}
	if err != nil {
		return fmt.Errorf("netns: set loss %d/1000 in %s: %w", permille, n.ns, err)
	}
	return nil
}

// writeLossTable, in one transaction, deletes the prefix-named tables of
// both families and, for permille > 0, adds one of the given family.
func (l *Lab) writeLossTable(n *node, permille int, family nftables.TableFamily, hooks []lossHook) error {
	c, err := nftables.New(nftables.WithNetNSFd(int(n.fd)))
	if err != nil {
		return fmt.Errorf("nftables: %w", err)
	}
	for _, f := range []nftables.TableFamily{nftables.TableFamilyNetdev, nftables.TableFamilyINet} {
		t := &nftables.Table{Name: l.spec.Prefix, Family: f}
		// Add-then-delete makes the delete safe whether or not it exists.
		c.AddTable(t)
		c.DelTable(t)
	}
	if permille > 0 {
		table := c.AddTable(&nftables.Table{Name: l.spec.Prefix, Family: family})
		for _, h := range hooks {
			chain := &nftables.Chain{
				Name:     h.name,
				Table:    table,
				Type:     nftables.ChainTypeFilter,
				Hooknum:  h.hook,
				Priority: nftables.ChainPriorityFilter,
			}
			if family == nftables.TableFamilyNetdev {
				chain.Device = n.ifName
			}
			c.AddChain(chain)
			c.AddRule(&nftables.Rule{Table: table, Chain: chain, Exprs: lossRule(permille)})
		}
	}
	return c.Flush()
}

// lossRule is `meta l4proto udp numgen random mod 1000 < permille counter
// drop`. numgen yields a host-order u32; like nft, convert it to network
// order so that cmp's bytewise "less than" compares numbers.
func lossRule(permille int) []expr.Any {
	threshold := make([]byte, 4)
	binary.BigEndian.PutUint32(threshold, uint32(permille))
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_UDP}},
		&expr.Numgen{Register: 1, Modulus: 1000, Type: unix.NFT_NG_RANDOM},
		&expr.Byteorder{SourceRegister: 1, DestRegister: 1, Op: expr.ByteorderHton, Len: 4, Size: 4},
		&expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: threshold},
		&expr.Counter{},
		&expr.Verdict{Kind: expr.VerdictDrop},
	}
}

// setDelay puts a netem root qdisc on the node's interface, or removes it
// for delay 0. The caller holds l.mu and has probed netem for delay > 0.
func (l *Lab) setDelay(n *node, delay time.Duration) error {
	link, err := n.nl.LinkByName(n.ifName)
	if err != nil {
		return fmt.Errorf("netns: find %s in %s: %w", n.ifName, n.ns, err)
	}
	attrs := netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT}
	if delay == 0 {
		if !l.delayed[n.name] {
			return nil
		}
		if err := n.nl.QdiscDel(netlink.NewNetem(attrs, netlink.NetemQdiscAttrs{})); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("netns: remove delay on %s: %w", n.name, err)
		}
		delete(l.delayed, n.name)
		return nil
	}
	q := netlink.NewNetem(attrs, netlink.NetemQdiscAttrs{Latency: uint32(delay / time.Microsecond)})
	if err := n.nl.QdiscReplace(q); err != nil {
		return fmt.Errorf("netns: delay %v on %s: %w", delay, n.name, err)
	}
	l.delayed[n.name] = true
	return nil
}

// NetemAvailable reports whether delay impairments work here; when they do
// not, the error wraps ErrNoNetem.
func (l *Lab) NetemAvailable() error { return l.probeNetem() }

// probeNetem adds a netem qdisc to a scratch veth pair in the link
// namespace and removes the pair again; the answer is cached.
func (l *Lab) probeNetem() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.torn {
		return ErrTornDown
	}
	if l.netem != nil {
		if *l.netem {
			return nil
		}
		return l.netemErr
	}
	name := probeName(l.spec.Prefix)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: name + "a"}, PeerName: name + "b"}
	if err := l.link.nl.LinkAdd(veth); err != nil {
		return fmt.Errorf("netns: netem probe: add scratch veth: %w", err)
	}
	defer l.link.nl.LinkDel(veth) //nolint:errcheck // the namespace goes at Teardown anyway
	link, err := l.link.nl.LinkByName(name + "a")
	if err != nil {
		return fmt.Errorf("netns: netem probe: %w", err)
	}
	q := netlink.NewNetem(netlink.QdiscAttrs{LinkIndex: link.Attrs().Index, Handle: netlink.MakeHandle(1, 0), Parent: netlink.HANDLE_ROOT},
		netlink.NetemQdiscAttrs{Latency: 1000})
	probeErr := l.link.nl.QdiscAdd(q)
	ok := probeErr == nil
	l.netem = &ok
	if !ok {
		l.netemErr = fmt.Errorf("%w: adding a netem qdisc failed: %v", ErrNoNetem, probeErr)
		return l.netemErr
	}
	return nil
}
