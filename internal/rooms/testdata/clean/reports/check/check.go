// Package check is a report that reads the history.
package check

import "fixture/reports/history"

// Count counts events.
func Count(h []history.Event) int { return len(h) }
