// Package x is in the reports room and imports the sim room: a lower room
// importing a higher one.
package x

import "fixture/sim/y"

// Name reaches up.
const Name = y.Engine
