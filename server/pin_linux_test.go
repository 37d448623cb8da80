package server

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// pinThread locks the calling goroutine to its thread and the thread to
// CPU cpu. The lock is never undone: the thread ends with the goroutine,
// so its affinity goes with it.
func pinThread(tb testing.TB, cpu int) {
	runtime.LockOSThread()
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		tb.Fatalf("pin the handler to CPU %d: %v", cpu, err)
	}
}
