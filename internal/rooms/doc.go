// Package rooms holds d6lab's import rules: which top-level folder (room)
// each package belongs to and which rooms it may import. Table is the one
// statement of those rules (ARCHITECTURE.md explains them); Check reads a
// module's import graph with `go list -deps` and returns every import that
// breaks them, and the package's spec runs it on this repository.
//
// Only non-test imports count: a package's tests may import any room (the
// scenario suite runs the engines, the daemon specs start namespaces).
package rooms
