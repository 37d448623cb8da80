// Package lab runs one scenario in network namespaces: it builds the
// topology (sim/netns), starts each server as a real process inside its
// namespace, runs the simulated client population on a real UDP socket in
// the clients' namespace, plays the fault timeline against the real
// processes and links, and returns the history. Teardown always happens:
// at the end, on error and when the context is cancelled (SIGINT).
package lab
