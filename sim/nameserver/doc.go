// Package nameserver runs BIND 9 (Debian bind9) as the lab's
// authoritative DNS server: the forward zone and the ip6.arpa zones of
// the links, taking RFC 2136 updates signed with a TSIG key made per run.
package nameserver
