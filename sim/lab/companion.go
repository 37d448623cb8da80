package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"d6lab/server/daemon"
	"d6lab/sim/netns"
	"d6lab/sim/session"
)

// A server's companions (daemon.Instance.Companions: Kea's kea-dhcp-ddns)
// are part of its host: they start before its main process, in its
// namespace, and die, freeze, thaw and restart with it; at the end of the
// run they stop after it (so that what it asked of them last is done).
// Their output goes to OUT/servers/<server>-<companion>.log, their CPU
// time and memory into the server's Usage. Every process is handled by
// PID through sim/netns.

// companion is one running companion process of a server.
type companion struct {
	spec  daemon.Companion
	proc  *netns.Process
	noted bool // its usage is in the server's (noteCompanionUsage)
}

// companionReady is how long a companion has to bind its socket.
const companionReady = 10 * time.Second

// companionLog is where companion c of srv writes: beside the server's own
// log (OUT/servers/<name>.log), as OUT/servers/<name>-<companion>.log.
func companionLog(srv *runServer, c daemon.Companion) string {
	return filepath.Join(filepath.Dir(srv.log), srv.spec.Name+"-"+c.Name+".log")
}

// startCompanions starts srv's companions in its namespace, one after the
// other, each ready (session.StartCompanion: a UDP socket of its own
// bound) before the next; companions left from before (a restart) are killed first. On an
// error the ones started are killed.
func startCompanions(ctx context.Context, lab *netns.Lab, srv *runServer) error {
	if err := killCompanions(lab, srv); err != nil {
		return err
	}
	if srv.inst == nil {
		return nil
	}
	for _, c := range srv.inst.Companions {
		p, err := session.StartCompanion(ctx, lab, srv.node, c.Argv, companionLog(srv, c), companionReady)
		if err != nil {
			return errors.Join(fmt.Errorf("companion %s: %w", c.Name, err), killCompanions(lab, srv))
		}
		srv.comps = append(srv.comps, &companion{spec: c, proc: p})
	}
	return nil
}

// noteCompanionUsage adds the CPU time and peak memory of srv's running
// companions to srv's totals, once per process: called before they are
// stopped or killed.
func (srv *runServer) noteCompanionUsage() {
	for _, c := range srv.comps {
		if c.noted || c.proc.Exited() {
			continue
		}
		if u, err := c.proc.Usage(); err == nil {
			srv.usage.CPU += u.CPU
			srv.usage.MaxRSSKiB = max(srv.usage.MaxRSSKiB, u.MaxRSSKiB)
		}
		c.noted = true
	}
}

// killCompanions kills srv's companions (SIGKILL to each process group)
// and forgets them.
func killCompanions(lab *netns.Lab, srv *runServer) error {
	srv.noteCompanionUsage()
	var errs []error
	for _, c := range srv.comps {
		if err := lab.Kill(c.proc); err != nil {
			errs = append(errs, fmt.Errorf("companion %s: %w", c.spec.Name, err))
		}
	}
	srv.comps = nil
	return errors.Join(errs...)
}

// freezeCompanions stops srv's companions (SIGSTOP), thawCompanions
// resumes them.
func freezeCompanions(lab *netns.Lab, srv *runServer) error {
	var errs []error
	for _, c := range srv.comps {
		if err := lab.Freeze(c.proc); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("companion %s: %w", c.spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

func thawCompanions(lab *netns.Lab, srv *runServer) error {
	var errs []error
	for _, c := range srv.comps {
		if err := lab.Thaw(c.proc); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, fmt.Errorf("companion %s: %w", c.spec.Name, err))
		}
	}
	return errors.Join(errs...)
}

// stopCompanions ends srv's companions at the end of a run: SIGCONT (a
// frozen one cannot act on the next signal), SIGTERM, and SIGKILL after
// stopGrace; then removes the server's control socket when it lies
// outside its directory (daemon.RemoveControlSocket).
func stopCompanions(lab *netns.Lab, srv *runServer) error {
	srv.noteCompanionUsage()
	for _, c := range srv.comps {
		_ = lab.Thaw(c.proc)
		if err := c.proc.Signal(syscall.SIGTERM); err == nil {
			select {
			case <-c.proc.Done():
			case <-time.After(stopGrace):
			}
		}
	}
	err := killCompanions(lab, srv)
	if srv.inst != nil {
		err = errors.Join(err, daemon.RemoveControlSocket(srv.inst))
	}
	return err
}
