// Package history holds the event types that every part of d6lab records and
// every checker reads: what a simulated client did (solicited, bound,
// renewed, rebound, renumbered, refused, expired, declined, released, ...)
// and what the lab did (a server started, killed, frozen, cut off, ...).
//
// It is a leaf package: the protocol cores, the engines and the reports may
// all import it, and it imports nothing of d6lab. A history is append-only;
// checkers decide afterwards (the Jepsen/porcupine shape).
package history
