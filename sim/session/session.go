package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"d6lab/server/daemon"
	"d6lab/sim/netns"
)

// Options open a Session. The zero value is usable.
type Options struct {
	// Name prefixes the session's errors ("lab", "bench", "conform").
	Name string
	// Binary is the d6lab executable that runs builtin servers (`d6lab
	// serve`); with FindBinary set and Binary empty, the running
	// executable.
	Binary     string
	FindBinary bool
	// Prefix names every namespace and link of the session; default: a
	// fresh netns.NewPrefix().
	Prefix string
	// Log receives the session's lines (Logf) and its progress; nil:
	// silent. Terminal draws the progress as a bar redrawn in place.
	Log      io.Writer
	Terminal bool
}

// A Session is one lab's life: its binary, its claimed prefix, its
// namespaces and links, the processes started in them, the cleanups its
// user registered, and its progress reporter. Open it, Create the
// topology, start servers with StartServer, register what must be undone
// with OnClose, and Close it on every path (defer it right after Open).
type Session struct {
	// Name, Binary and Prefix are Options' after defaults.
	Name, Binary, Prefix string
	// Lab is the topology, nil until Create succeeds.
	Lab *netns.Lab

	progress *Progress

	mu       sync.Mutex
	cleanups []func() error
	closed   bool
	err      error
}

// Open finds the binary (Options.FindBinary), picks the prefix and claims
// it (OwnerDir/PREFIX.pid), so that `d6lab clean` leaves the lab alone
// while this process lives. Nothing is built yet.
func Open(opt Options) (*Session, error) {
	if opt.Name == "" {
		opt.Name = "lab"
	}
	if opt.FindBinary && opt.Binary == "" {
		b, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("%s: find the d6lab binary: %w", opt.Name, err)
		}
		opt.Binary = b
	}
	if opt.Prefix == "" {
		opt.Prefix = netns.NewPrefix()
	}
	if err := claim(opt.Prefix); err != nil {
		return nil, fmt.Errorf("%s: %w", opt.Name, err)
	}
	return &Session{
		Name: opt.Name, Binary: opt.Binary, Prefix: opt.Prefix,
		progress: NewProgress(opt.Log, opt.Terminal),
	}, nil
}

// Create builds the namespaces and links of spec (sim/netns) under the
// session's prefix; Close tears them down.
func (s *Session) Create(spec netns.Spec) error {
	if s.Lab != nil {
		return fmt.Errorf("%s: lab %s already built", s.Name, s.Prefix)
	}
	spec.Prefix = s.Prefix
	l, err := netns.Create(spec)
	if err != nil {
		return fmt.Errorf("%s: build the lab: %w", s.Name, err)
	}
	s.Lab = l
	return nil
}

// StartServer starts argv in node's namespace and waits until it listens
// (the package's StartServer). Close kills it if it still runs.
func (s *Session) StartServer(ctx context.Context, node string, argv []string, logPath string, timeout time.Duration) (*netns.Process, error) {
	return StartServer(ctx, s.Lab, node, argv, logPath, timeout)
}

// OnClose registers f to run at Close, before the namespaces go (see
// Close for the order). Its error joins Close's.
func (s *Session) OnClose(f func() error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

// Progress is the session's progress reporter.
func (s *Session) Progress() *Progress { return s.progress }

// Logf writes one line to the session's log, above the progress bar.
func (s *Session) Logf(format string, a ...any) { s.progress.Logf(format, a...) }

// Close tears the session down, in this order, whatever state it is in:
//
//  1. the progress reporter stops and clears its line;
//  2. the OnClose cleanups run, the last registered first (as deferred
//     calls: stop the clients, then the servers, then the capture that
//     started before them);
//  3. the lab is torn down (netns.Lab.Teardown): every process still
//     running in it is killed, then its namespaces and links are deleted;
//  4. the prefix's owner record is removed.
//
// Every step runs even when an earlier one failed or panicked; the errors
// are joined (a teardown error as "NAME: teardown: ..."). Close is safe to
// call more than once: later calls return the first call's error.
func (s *Session) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return s.err
	}
	s.closed = true
	cleanups := s.cleanups
	s.cleanups = nil
	s.mu.Unlock()

	s.progress.End()
	var errs []error
	for i := len(cleanups) - 1; i >= 0; i-- {
		errs = append(errs, s.cleanup(cleanups[i]))
	}
	if s.Lab != nil {
		if err := s.Lab.Teardown(); err != nil {
			errs = append(errs, fmt.Errorf("%s: teardown: %w", s.Name, err))
		}
	}
	release(s.Prefix)
	err := errors.Join(errs...)
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
	return err
}

// cleanup runs one OnClose cleanup. A panic in it comes back as an error,
// with its stack, so that the cleanups after it and the lab's teardown
// still run: a bug in one step must not leave namespaces and processes
// behind.
func (s *Session) cleanup(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%s: a cleanup panicked: %v\n%s", s.Name, r, debug.Stack())
		}
	}()
	return f()
}

// StartServer runs argv in node's namespace, its output appended to
// logPath, and waits until it listens: a UDP socket on the DHCPv6 server
// port 547 in its namespace (daemon.Listening: a lab runs one server per
// namespace), polled every 20 ms for up to timeout. A process that exits
// first fails at once, quoting the end of what it logged. On timeout, or
// when ctx ends, the process is killed (its process group, by PID) before
// the error returns, so a caller that goes on leaves nothing running.
// sim/lab, sim/conform and sim/bench start every server kind with it;
// argv is daemon.Instance.Command().
func StartServer(ctx context.Context, l *netns.Lab, node string, argv []string, logPath string, timeout time.Duration) (*netns.Process, error) {
	return startReady(ctx, l, node, argv, logPath, timeout, "not listening on port 547", daemon.Listening)
}

// startReady starts argv in node with its output appended to logPath and
// polls ready(pid) every 20 ms for up to timeout. A process that exits
// first fails at once quoting the end of its log; one that is not ready
// in time (the error says notReady), or whose ctx ends, is killed (by
// PID) before the error returns.
func startReady(ctx context.Context, l *netns.Lab, node string, argv []string, logPath string, timeout time.Duration, notReady string, ready func(pid int) (bool, error)) (*netns.Process, error) {
	before := logSize(logPath)
	p, err := l.Start(node, argv, logPath)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		ok, rerr := ready(p.PID)
		if ok {
			return p, nil
		}
		if p.Exited() {
			return nil, fmt.Errorf("exited at start (see %s): %s", logPath, logTail(readFrom(logPath, before)))
		}
		if time.Now().After(deadline) {
			why := ""
			if rerr != nil {
				why = ": " + rerr.Error()
			}
			_ = l.Kill(p)
			return nil, fmt.Errorf("%s after %s (see %s)%s: %s", notReady, timeout, logPath, why, logTail(readFrom(logPath, before)))
		}
		select {
		case <-ctx.Done():
			_ = l.Kill(p)
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// logTail is the end of a server's log on one line, for an error message.
func logTail(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return "nothing logged"
	}
	if len(s) > 400 {
		s = "…" + s[len(s)-400:]
	}
	return s
}

func logSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func readFrom(path string, off int64) string {
	b, err := os.ReadFile(path)
	if err != nil || int64(len(b)) < off {
		return ""
	}
	return string(b[off:])
}
