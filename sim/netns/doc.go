// Package netns is d6lab's network-namespace lab: it builds a simulated link
// out of real Linux network namespaces, a bridge and veth pairs, starts real
// processes inside those namespaces, and injects faults (cut a node off the
// link, freeze or kill its process, drop a share of its UDP traffic).
//
// Topology for a run with prefix P (see NewPrefix):
//
//	namespace P-link     holds the bridge P-br (multicast snooping off, IPv6
//	                     off) and one port P-b<i> per node;
//	namespace P-<node>   holds the node's end of the veth pair, P-n<i>, with a
//	                     deterministic MAC (so its fe80:: address is stable),
//	                     the node's global addresses (no DAD), and lo.
//
// With Spec.Upstream or Spec.Relay there is a second link, the server
// network: bridge P-bu in P-link, whose ports belong to the Upstream nodes
// and to the relay. The relay namespace has two interfaces, P-n<i> on the
// client link and P-n<i+1> on the server network; nothing routes between
// them, so clients reach the servers only through a relay agent.
//
// A process started in a node (Start) gets a process group of its own;
// Freeze stops the group with SIGSTOP and returns once /proc shows every
// thread of it stopped, so nothing the process does follows Freeze's
// return; Thaw resumes it, Kill ends it with SIGKILL and reaps it.
//
// A node with NodeSpec.DAD is a real DHCPv6 client's host (sim/realclient):
// its interface runs the kernel's duplicate address detection on the
// addresses a client adds, and takes no Router Advertisement and no SLAAC
// address. WatchAddrs reports the changes of its global addresses over
// netlink (tentative, DAD failed, deprecated, lifetimes); AddAddr puts an
// address on another node without DAD, a host already using it, which
// makes a client's DAD for it fail.
//
// Nothing is ever created in, or changed in, the caller's (host) namespace:
// veth pairs are created directly in the lab's namespaces through netlink
// handles bound to them. Every namespace, link and process the lab makes
// carries the prefix, so Teardown and Clean (for a crashed run) remove
// exactly those and nothing else. Addresses must come from 2001:db8::/32 or
// fd00::/8.
//
// The library talks to the kernel through netlink (vishvananda/netlink,
// vishvananda/netns) and nftables (google/nftables); it never shells out.
// It needs CAP_NET_ADMIN (root).
package netns
