// Package trace turns what a real DHCPv6 client did into the history events
// d6lab's simulated clients emit (reports/history), so the same checkers
// judge both: the client's messages from a capture on its own interface
// (sim/capture's pcap) and its address state from the kernel (AddrChange,
// recorded over netlink while it ran). It is sans-IO apart from the readers
// of those two files: Translate takes the frames and the address changes
// and returns events.
package trace
