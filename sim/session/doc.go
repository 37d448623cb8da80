// Package session is one lab's life for the netns engine and the tools
// that build labs: `d6lab run` and `compare` (sim/lab), `bench`
// (sim/bench) and `conform` (sim/conform).
//
// A Session finds the d6lab binary, claims its run prefix (OwnerDir/
// PREFIX.pid, so that `d6lab clean` leaves a live lab alone; Live and
// Forget are clean's side), builds the namespaces and links (Create, on
// sim/netns), starts servers and waits until they listen (StartServer),
// and keeps the cleanups its user registers (OnClose). Close tears it
// down in one order on every path, its errors joined: the progress
// reporter stops, the cleanups run last-registered first, the lab is torn
// down (its processes killed, its namespaces and links deleted), the
// owner record goes. Close is safe to call twice.
//
// Progress is the one progress reporter of those commands, and of the
// virtual engine's runs and sweeps: a bar (schollz/progressbar) where a
// terminal is attached, a plain periodic line (or none) otherwise, with
// the session's log lines above it. The bar fills with the time elapsed
// (Start) or with a position its caller gives (Track: the virtual time a
// run has played).
package session
