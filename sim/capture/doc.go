// Package capture records a lab node's link traffic to a pcap file, the way
// tcpdump would, without libpcap: an AF_PACKET socket opened inside the
// node's network namespace (gopacket's pcapgo.EthernetHandle) and a pcapgo
// writer (LinkTypeEthernet, snaplen 65535). A kernel BPF filter keeps only
// DHCPv6 (IPv6 UDP to or from port 546 or 547). The file is size-capped:
// once the next packet would take it past the cap, writing stops and later
// packets are only counted.
package capture
