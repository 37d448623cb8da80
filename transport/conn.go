package transport

import (
	"net/netip"
)

// DHCPv6 ports and groups (RFC 9915 §7.1, §7.2).
const (
	ClientPort = 546
	ServerPort = 547
)

// AllServers is All_DHCP_Relay_Agents_and_Servers (RFC 9915 §7.1).
var AllServers = netip.MustParseAddr("ff02::1:2")

// AllServersPort is AllServers on the server port: where clients send.
var AllServersPort = netip.AddrPortFrom(AllServers, ServerPort)

// Conn is a datagram endpoint. ReadFrom blocks until a datagram arrives or
// the Conn is closed (then it returns net.ErrClosed). multicast reports
// whether the datagram was addressed to a multicast group, which a server
// needs to apply RFC 9915's unicast rules.
type Conn interface {
	ReadFrom(b []byte) (n int, src netip.AddrPort, multicast bool, err error)
	WriteTo(b []byte, dst netip.AddrPort) (int, error)
	LocalAddr() netip.AddrPort
	Close() error
}
