// Package lab runs one scenario in network namespaces: it builds the
// topology (sim/netns), starts each server as a real process inside its
// namespace, runs the simulated client population on a real UDP socket in
// the clients' namespace, plays the fault timeline against the real
// processes and links, and returns the history. The lab's life (the
// claimed prefix, the namespaces, the server processes, the capture, the
// population, the progress line) is a sim/session.Session, whose Close
// tears it all down in its stated order: at the end, on error and when the
// context is cancelled (SIGINT).
package lab
