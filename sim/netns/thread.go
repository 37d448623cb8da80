package netns

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"github.com/vishvananda/netns"
)

// inNamespace runs fn on a fresh goroutine whose OS thread has entered ns,
// and waits for it. The caller's own thread never changes namespace. When fn
// returns, the thread goes back to its original namespace and is released to
// the runtime; if that restore fails, or fn panics, the goroutine exits
// still locked, so the runtime discards the thread instead of reusing it. A
// panic in fn is re-raised on the caller's goroutine.
func inNamespace(ns netns.NsHandle, fn func() error) error {
	type result struct {
		err      error
		panicked bool
		value    any
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// No deferred UnlockOSThread: only a clean restore unlocks.
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("netns: get current namespace: %w", err)}
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			done <- result{err: fmt.Errorf("netns: enter namespace: %w", err)}
			return
		}
		var r result
		func() {
			defer func() {
				if v := recover(); v != nil {
					r = result{panicked: true, value: v}
				}
			}()
			r.err = fn()
		}()
		if r.panicked {
			done <- r // thread stays locked and dies with this goroutine
			return
		}
		if err := netns.Set(orig); err != nil {
			r.err = fmt.Errorf("netns: restore namespace (thread discarded): %w (fn: %v)", err, r.err)
			done <- r
			return
		}
		runtime.UnlockOSThread()
		done <- r
	}()
	r := <-done
	if r.panicked {
		panic(r.value)
	}
	return r.err
}

// writeSysctl writes a value under /proc/sys; called on a thread inside the
// lab's namespace, /proc/sys/net is that namespace's.
func writeSysctl(path, value string) error {
	p := filepath.Join("/proc/sys", path)
	if err := os.WriteFile(p, []byte(value), 0); err != nil {
		return fmt.Errorf("netns: sysctl %s=%s: %w", path, value, err)
	}
	return nil
}
