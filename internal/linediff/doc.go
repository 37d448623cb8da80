// Package linediff finds where two texts first differ, line by line: what
// a spec that holds two outputs to each other byte for byte says when
// they are not.
package linediff
