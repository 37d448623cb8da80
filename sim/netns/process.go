package netns

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Process is a real process started inside a lab node's namespace, in a
// process group of its own.
type Process struct {
	PID  int
	Node string
	Argv []string
	Log  string

	cmd  *exec.Cmd
	done chan struct{}
	err  error // cmd.Wait's result, set before done closes

	mu     sync.Mutex
	exited bool // set (under mu) once the process is a zombie or gone
}

// Wait blocks until the process has exited and been reaped, and returns
// exec.Cmd.Wait's result (an *exec.ExitError for a non-zero exit or death by
// signal).
func (p *Process) Wait() error {
	<-p.done
	return p.err
}

// Done is closed once the process has been reaped.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// Signal sends sig to the process (not its group). It returns
// os.ErrProcessDone once the process has exited.
func (p *Process) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return os.ErrProcessDone
	}
	// While exited is false the process has not been reaped, so its PID
	// cannot have been reused.
	if err := unix.Kill(p.PID, sig); err != nil {
		return fmt.Errorf("netns: signal %v to pid %d: %w", sig, p.PID, err)
	}
	return nil
}

// signalGroup sends sig to the process's group (the process and whatever it
// forked). It returns os.ErrProcessDone once the leader has exited.
func (p *Process) signalGroup(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exited {
		return os.ErrProcessDone
	}
	// The leader is not reaped, so its PID (the group ID) is still ours.
	if err := unix.Kill(-p.PID, sig); err != nil {
		if err := unix.Kill(p.PID, sig); err != nil {
			return fmt.Errorf("netns: signal %v to pid %d: %w", sig, p.PID, err)
		}
	}
	return nil
}

// reap waits for the process to exit without reaping it, marks it exited
// (so no signal can hit a reused PID), then reaps it.
func (p *Process) reap() {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.PID, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if err != unix.EINTR {
			break
		}
	}
	p.mu.Lock()
	p.exited = true
	p.mu.Unlock()
	p.err = p.cmd.Wait()
	close(p.done)
}

// Start runs argv inside node's namespace, with stdout and stderr appended
// to logPath (its directory is created). The child inherits the namespace
// from the OS thread that forks it.
func (l *Lab) Start(node string, argv []string, logPath string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("netns: start: empty argv")
	}
	n, err := l.node(node)
	if err != nil {
		return nil, err
	}
	if dir := filepath.Dir(logPath); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("netns: start %s: log dir: %w", argv[0], err)
		}
	}
	logf, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("netns: start %s: log: %w", argv[0], err)
	}
	defer logf.Close() // the child has its own copy

	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p := &Process{Node: node, Argv: append([]string(nil), argv...), Log: logPath, cmd: cmd, done: make(chan struct{})}

	l.mu.Lock() // no Teardown between the fork and the bookkeeping
	defer l.mu.Unlock()
	if l.torn {
		return nil, ErrTornDown
	}
	if err := inNamespace(n.fd, cmd.Start); err != nil {
		return nil, fmt.Errorf("netns: start %q in %s: %w", argv, n.ns, err)
	}
	p.PID = cmd.Process.Pid
	l.procs = append(l.procs, p)
	go p.reap()
	return p, nil
}

// Processes returns the processes the lab started (running or not).
func (l *Lab) Processes() []*Process {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return append([]*Process(nil), l.procs...)
}

// Kill sends SIGKILL to p's process group and waits until p is reaped. It
// is not an error if p had already exited.
func (l *Lab) Kill(p *Process) error {
	if err := p.signalGroup(unix.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// Freeze stops p's process group (SIGSTOP), as a hung server, and returns
// once every thread in the group is stopped: kill(2) only queues the signal,
// and the group stops when its threads next run, which on a loaded machine
// can be milliseconds later, time in which a "frozen" server still answers.
func (l *Lab) Freeze(p *Process) error {
	if err := p.signalGroup(unix.SIGSTOP); err != nil {
		return err
	}
	deadline := time.Now().Add(freezeTimeout)
	for {
		running, err := runningInGroup(p.PID)
		if err != nil || running == "" {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netns: freeze pid %d: not stopped after %v: %s", p.PID, freezeTimeout, running)
		}
		time.Sleep(time.Millisecond)
	}
}

// freezeTimeout bounds Freeze's wait for a group to stop: a thread in an
// uninterruptible sleep (state D) stops only when that sleep ends.
const freezeTimeout = 5 * time.Second

// runningInGroup names a thread of process group pgid that is not stopped
// (state T), or returns "" when there is none. A process or thread that
// vanishes while it looks is not running.
func runningInGroup(pgid int) (string, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return "", fmt.Errorf("netns: list /proc: %w", err)
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		f, ok := readStat(filepath.Join("/proc", e.Name(), "stat"), 3)
		if !ok || f[2] != strconv.Itoa(pgid) {
			continue
		}
		tasks, err := os.ReadDir(filepath.Join("/proc", e.Name(), "task"))
		if err != nil {
			continue
		}
		for _, t := range tasks {
			f, ok := readStat(filepath.Join("/proc", e.Name(), "task", t.Name(), "stat"), 1)
			if ok && f[0] != "T" && f[0] != "Z" && f[0] != "X" {
				return fmt.Sprintf("thread %s of pid %s is in state %s", t.Name(), e.Name(), f[0]), nil
			}
		}
	}
	return "", nil
}

// readStat reads the fields of a /proc stat file (statFields); ok is false
// when it is gone or unreadable.
func readStat(path string, n int) (f []string, ok bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false
	}
	f, err = statFields(string(b), n)
	return f, err == nil
}

// Thaw resumes a frozen process group (SIGCONT).
func (l *Lab) Thaw(p *Process) error { return p.signalGroup(unix.SIGCONT) }
