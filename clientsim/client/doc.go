// Package client is one DHCPv6 client (RFC 9915 §18.2) as a pure state
// machine. It never reads the wall clock, a socket or the global random
// source: callers hand it the time and the messages it receives, and it
// hands back the messages to send, the one time at which it wants its
// Timer method called, and the history events of every transition.
//
// The client asks for one IA_NA (IAID 1), one IA_PD (IAID 2), both, or
// neither (stateless: Information-Request). It follows RFC 9915 §15 for
// retransmission, §16 for validation of what it receives and §18.2 for
// each exchange; the constants live in constants.go with their sections.
//
// Every RFC constant is multiplied by Config.Timescale (0.1 runs ten times
// faster than real DHCPv6) so that a lab fits in seconds; lifetimes granted by
// servers are never scaled (the lab configures short ones instead).
package client
