// Package engine is a higher room that imports a lower one.
package engine

import (
	"fixture/reports/check"
	"fixture/reports/history"
)

// Run records nothing and judges it.
func Run() int { return check.Count([]history.Event{}) }
