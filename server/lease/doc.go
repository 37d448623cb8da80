// Package lease holds a DHCPv6 server's bindings: which client (DUID),
// which IA (IAID and type, IA_NA or IA_PD) holds which address or delegated
// prefix, with the lifetimes granted and when they run out.
//
// Store is the interface the server's handler uses; Memory is the
// in-memory implementation and Bolt the durable one (a bbolt file with a
// Memory in front as a read cache): its Put and Delete return only once the
// change is committed and fsynced, which is why they return errors. The
// store is the source of truth about what is bound: allocators ask it,
// through the server, whether an address is taken.
//
// Expired bindings stay in the store until Expire is called with a time at
// or after their expiry (the server sweeps lazily, with the now of each
// message it handles).
package lease
