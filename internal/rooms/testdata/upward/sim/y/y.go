// Package y is in the sim room.
package y

// Engine is a name from a higher room.
const Engine = "netns"
