// Package lease holds a DHCPv6 server's bindings: which client (DUID),
// which IA (IAID and type, IA_NA or IA_PD) holds which address or delegated
// prefix, with the lifetimes granted and when they run out.
//
// Store is the interface the server's handler uses; Memory is the
// in-memory implementation and Bolt the durable one (a bbolt file with a
// Memory in front as a read cache): its Put and Delete return only once the
// change is committed and fsynced, which is why they return errors. In
// deferred mode (OpenBoltWith, BoltOptions.Deferred: group commit) they
// change the cache and queue the change, and Sync makes every queued change
// durable with one append to a write-ahead log (PATH.wal) and one
// fdatasync (Durability OnDisk, the default; InKernel stops at the write,
// which a killed server's kernel still keeps); the log is folded into the bbolt file in the background, at
// Close and at every open, so OpenBolt alone reads everything synced. The
// store is the source of truth about what is bound: allocators ask it,
// through the server, whether an address is taken.
//
// Expired bindings stay in the store until Expire is called with a time at
// or after their expiry (the server sweeps lazily, with the now of each
// message it handles).
package lease
