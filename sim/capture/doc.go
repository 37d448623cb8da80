// Package capture watches a lab node's link traffic without libpcap, from
// an AF_PACKET socket opened inside the node's network namespace, two
// ways:
//
//   - Start records it to a pcap file, the way tcpdump would (gopacket's
//     pcapgo.EthernetHandle and a pcapgo writer, LinkTypeEthernet, snaplen
//     65535). A kernel BPF filter keeps only DHCPv6 (IPv6 UDP to or from
//     port 546 or 547). The file is size-capped: once the next packet
//     would take it past the cap, writing stops and later packets are only
//     counted.
//   - Count only counts (count.go): the DHCPv6 messages the node receives
//     for a server (IPv6 UDP to port 547, incoming, Leasequery excepted),
//     handing each one's kernel arrival time to a callback; no file. The
//     lab's server-load meter (sim/lab) runs one per server node.
package capture
