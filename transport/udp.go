package transport

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/ipv6"
)

// UDP is a real IPv6 UDP socket bound to one interface. Create it inside
// the namespace it must live in; it stays there.
type UDP struct {
	conn  *net.UDPConn
	pc    *ipv6.PacketConn
	iface *net.Interface
	local netip.AddrPort
	zone  string // the interface index, as a zone

	rc    syscall.RawConn
	batch batchState // ReadBatch/WriteBatch buffers
}

var _ Conn = (*UDP)(nil)

// ListenUDP opens a UDP socket on port (0 picks one) bound to ifname, joined
// to groups on that interface. Servers join AllServers; clients join none.
func ListenUDP(ifname string, port int, groups ...netip.Addr) (*UDP, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("transport: interface %q: %w", ifname, err)
	}
	// Bind to the unspecified address so multicast to the groups arrives;
	// the interface is pinned with the zone and the multicast membership.
	c, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6unspecified, Port: port, Zone: ifname})
	if err != nil {
		return nil, fmt.Errorf("transport: listen [::]:%d%%%s: %w", port, ifname, err)
	}
	pc := ipv6.NewPacketConn(c)
	for _, g := range groups {
		if err := pc.JoinGroup(ifi, &net.UDPAddr{IP: g.AsSlice()}); err != nil {
			c.Close()
			return nil, fmt.Errorf("transport: join %s on %s: %w", g, ifname, err)
		}
	}
	if err := pc.SetControlMessage(ipv6.FlagDst|ipv6.FlagInterface, true); err != nil {
		c.Close()
		return nil, fmt.Errorf("transport: control messages: %w", err)
	}
	if err := pc.SetMulticastInterface(ifi); err != nil {
		c.Close()
		return nil, fmt.Errorf("transport: multicast interface %s: %w", ifname, err)
	}
	// Keep our own multicast out of our own socket.
	_ = pc.SetMulticastLoopback(false)
	_ = pc.SetMulticastHopLimit(1)
	rc, err := c.SyscallConn()
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("transport: raw conn: %w", err)
	}
	la := c.LocalAddr().(*net.UDPAddr).AddrPort()
	return &UDP{conn: c, pc: pc, rc: rc, iface: ifi, local: la, zone: strconv.Itoa(ifi.Index)}, nil
}

// ReadFrom implements Conn. Datagrams that arrived on another interface
// are skipped, so a socket never answers outside its link.
func (u *UDP) ReadFrom(b []byte) (int, netip.AddrPort, bool, error) {
	for {
		n, cm, src, err := u.pc.ReadFrom(b)
		if err != nil {
			return 0, netip.AddrPort{}, false, err
		}
		if cm != nil && cm.IfIndex != 0 && cm.IfIndex != u.iface.Index {
			continue
		}
		ua, ok := src.(*net.UDPAddr)
		if !ok {
			continue
		}
		mc := cm != nil && cm.Dst != nil && cm.Dst.IsMulticast()
		return n, ua.AddrPort(), mc, nil
	}
}

// WriteTo implements Conn. Link-scoped destinations get this socket's
// interface as a numeric zone: a zone given by name would be looked up in
// the namespace of whichever OS thread runs the write, which need not be the
// socket's own.
func (u *UDP) WriteTo(b []byte, dst netip.AddrPort) (int, error) {
	a := dst.Addr()
	if a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast() {
		a = a.WithZone(u.zone)
	}
	return u.conn.WriteToUDPAddrPort(b, netip.AddrPortFrom(a, dst.Port()))
}

// LocalAddr implements Conn.
func (u *UDP) LocalAddr() netip.AddrPort { return u.local }

// SetReadDeadline makes ReadFrom and ReadBatch fail once t passes (the
// zero time: never), as net.Conn's does.
func (u *UDP) SetReadDeadline(t time.Time) error { return u.conn.SetReadDeadline(t) }

// Close implements Conn.
func (u *UDP) Close() error { return u.conn.Close() }

// Interface is the interface the socket is bound to.
func (u *UDP) Interface() *net.Interface { return u.iface }

// SetReadBuffer asks for a receive buffer of n bytes, past the system's
// rmem_max when the process may (SO_RCVBUFFORCE needs CAP_NET_ADMIN),
// so that a server rides out bursts and scheduling gaps without drops.
// It returns the size the kernel granted (which counts its overhead).
func (u *UDP) SetReadBuffer(n int) (int, error) {
	rc, err := u.conn.SyscallConn()
	if err != nil {
		return 0, err
	}
	var got int
	var serr error
	if err := rc.Control(func(fd uintptr) {
		if serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n); serr != nil {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		}
		got, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
	}); err != nil {
		return 0, err
	}
	if serr != nil {
		return got, fmt.Errorf("transport: receive buffer of %d bytes: %w", n, serr)
	}
	return got, nil
}
