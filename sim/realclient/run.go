package realclient

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"d6lab/sim/netns"
)

// Client is an instance running in a lab node's namespace.
type Client struct {
	Instance *Instance
	Node     string
	Proc     *netns.Process

	lab     *netns.Lab
	stopped bool
}

// Start runs inst in node's namespace of lab, its output appended to
// inst.Log. The lab tracks the process: Teardown kills it (its process
// group) if it still runs.
func Start(lab *netns.Lab, node string, inst *Instance) (*Client, error) {
	p, err := lab.Start(node, inst.Argv, inst.Log)
	if err != nil {
		return nil, fmt.Errorf("realclient: start %s %s: %w", inst.Kind, inst.Spec.Name, err)
	}
	return &Client{Instance: inst, Node: node, Proc: p, lab: lab}, nil
}

// Stop stops the client the clean way (Instance.Stop: a signal, or a
// command run in its namespace with its output in the client's directory,
// stop.log), so that it releases what it holds, and waits up to Stop.Wait
// for it (and the command) to exit; whatever still runs then is killed.
// clean reports that the client exited on its own. A client that had
// already exited is clean. Stop is idempotent.
func (c *Client) Stop() (clean bool, err error) {
	if c.stopped {
		return c.Proc.Exited(), nil
	}
	c.stopped = true
	if c.Proc.Exited() {
		return true, nil
	}
	st := c.Instance.Stop
	deadline := time.Now().Add(st.Wait)
	var errs []error
	if len(st.Argv) > 0 {
		log := filepath.Join(c.Instance.Spec.Dir, "stop.log")
		p, err := c.lab.Start(c.Node, st.Argv, log)
		if err != nil {
			errs = append(errs, fmt.Errorf("realclient: stop %s: %w", c.Instance.Spec.Name, err))
		} else {
			waitUntil(p.Done(), deadline)
			if err := c.lab.Kill(p); err != nil {
				errs = append(errs, err)
			}
		}
	} else {
		// A signal can go unseen: dhcpcd 9.4.1, stopped just as it ran
		// its script and spawned a listener after binding, ignored
		// SIGALRM (measured: once in three runs). It is sent again each
		// second until the client exits or the deadline passes; every
		// stop signal here is idempotent (release and exit).
		for {
			if err := c.Proc.Signal(st.Signal); err != nil && !errors.Is(err, os.ErrProcessDone) {
				errs = append(errs, fmt.Errorf("realclient: stop %s: %w", c.Instance.Spec.Name, err))
				break
			}
			next := time.Now().Add(resignal)
			if next.After(deadline) || waitUntil(c.Proc.Done(), next) {
				break
			}
		}
	}
	clean = waitUntil(c.Proc.Done(), deadline)
	if err := c.lab.Kill(c.Proc); err != nil {
		errs = append(errs, err)
	}
	return clean, errors.Join(errs...)
}

// resignal is how long Stop waits for a stop signal to take effect before
// sending it again.
const resignal = time.Second

// waitUntil waits for done until deadline and reports whether it closed.
func waitUntil(done <-chan struct{}, deadline time.Time) bool {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}
