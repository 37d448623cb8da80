// Package virtual is d6lab's in-process engine: the builtin server core and
// the client population on an in-memory link, driven by a virtual clock.
// Nothing reads the wall clock or a socket, every random draw is seeded, so
// a run is deterministic and a minute of DHCPv6 takes milliseconds.
//
// The link delivers datagrams synchronously and in order. Faults act on the
// in-memory servers the way the netns engine acts on processes: Kill drops
// the server and its state, Freeze queues what it would receive (its socket
// buffer) until Thaw, Cut drops everything to and from it until Heal.
package virtual
