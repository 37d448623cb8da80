// Package deploy is the lab's shared deployment vocabulary: the one
// declaration of the names a scenario, the server and the daemons' adapters
// all use for how a DHCPv6 server is deployed — its implementation (Kind),
// how it picks addresses (Allocator), what it does with a Rebind for a
// binding it does not hold (RebindPolicy) and the DNS it updates (DNS,
// TSIG) — and for the clients: a real client's kind (ClientKind) and the
// simulated clients' profile (Profile).
//
// scenarios may not import the server room and the server room does not
// import scenarios; both import this leaf package, so a new value is added
// here once. It imports only the standard library.
package deploy
