// Package history is the leaf every room may import.
package history

// Event is one recorded event.
type Event struct{}
