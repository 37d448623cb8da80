//go:build race

package load

// raceEnabled: the race detector instruments x/net's batch I/O, which
// then allocates.
const raceEnabled = true
