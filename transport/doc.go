// Package transport is the seam between d6lab's protocol cores and the
// network. Conn is shaped like net.PacketConn (netip addresses, plus whether a
// datagram arrived on a multicast group), with two implementations:
//
//   - UDP: a real IPv6 UDP socket bound to one interface, joined to
//     ff02::1:2 when it serves, used inside the lab's network namespaces;
//   - MemConn: an endpoint of an in-memory link (Link, a hub); endpoints
//     exchange datagrams through channels, so protocol tests need neither
//     root nor sockets.
//
// The server's UDP loop and the client population take a Conn and never
// know which one they have. BatchConn adds ReadBatch and WriteBatch, several
// datagrams per system call (recvmmsg/sendmmsg on UDP); Batch adapts any
// Conn to it. On UDP neither allocates: the system calls run on headers
// built once. With SetOffload, WriteBatch sends a run of datagrams to one
// destination as one segmented message (UDP_SEGMENT) and the socket
// receives such a run as one buffer (UDP_GRO), which ReadBatch splits
// again: the kernel carries a run through its stack once, not once per
// datagram (d6lab bench's servers; off in the labs, whose captures and
// nftables rules would see a run as one packet).
package transport
