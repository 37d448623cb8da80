//go:build !linux

package server

import "testing"

func pinThread(tb testing.TB, cpu int) {
	tb.Fatalf("-exchange.cpu %d: pinning a thread needs Linux", cpu)
}
