package netns

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// runNetns is where named namespaces are bind-mounted (as `ip netns` does).
const runNetns = "/run/netns"

// killTimeout bounds the wait for killed processes to go away.
const killTimeout = 10 * time.Second

// nsID identifies a network namespace by its nsfs inode.
type nsID struct{ dev, ino uint64 }

func statNS(path string) (nsID, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return nsID{}, err
	}
	return nsID{uint64(st.Dev), st.Ino}, nil
}

// namedNamespaces lists the names in /run/netns owned by prefix.
func namedNamespaces(prefix string) ([]string, error) {
	entries, err := os.ReadDir(runNetns)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: list %s: %w", runNetns, err)
	}
	var out []string
	for _, e := range entries {
		if ownedBy(prefix, e.Name()) {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// procInfo is a process found inside one of the namespaces looked for.
type procInfo struct {
	pid  int
	comm string
	ns   string
}

func (p procInfo) String() string {
	return fmt.Sprintf("process %d (%s) in netns %s", p.pid, p.comm, p.ns)
}

// processesIn lists the processes (thread-group leaders, other than this
// one) whose network namespace is one of ids.
func processesIn(ids map[nsID]string) ([]procInfo, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, fmt.Errorf("netns: list /proc: %w", err)
	}
	self := os.Getpid()
	var out []procInfo
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		id, err := statNS(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil {
			continue // gone, a zombie, or not ours to see
		}
		if name, ok := ids[id]; ok {
			comm, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
			out = append(out, procInfo{pid: pid, comm: strings.TrimSpace(string(comm)), ns: name})
		}
	}
	return out, nil
}

// killIn SIGKILLs every process inside the namespaces ids (never this
// process) and waits until none is left there. It signals through a pidfd
// after re-checking the namespace, so a reused PID is never hit.
func killIn(ids map[nsID]string) ([]string, error) {
	var killed []string
	deadline := time.Now().Add(killTimeout)
	for {
		procs, err := processesIn(ids)
		if err != nil {
			return killed, err
		}
		if len(procs) == 0 {
			return killed, nil
		}
		if time.Now().After(deadline) {
			var left []string
			for _, p := range procs {
				left = append(left, p.String())
			}
			return killed, fmt.Errorf("netns: still running after SIGKILL and %v: %s", killTimeout, strings.Join(left, ", "))
		}
		for _, p := range procs {
			fd, err := unix.PidfdOpen(p.pid, 0)
			if err != nil {
				continue // already gone
			}
			id, err := statNS(filepath.Join("/proc", strconv.Itoa(p.pid), "ns", "net"))
			if _, ours := ids[id]; err == nil && ours {
				if unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0) == nil && !contains(killed, p.String()) {
					killed = append(killed, p.String())
				}
			}
			unix.Close(fd)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// deleteNamed unmounts and removes /run/netns/name; a missing one is fine,
// and so is a stale file that is not a mount point.
func deleteNamed(name string) error {
	err := netns.DeleteNamed(name)
	switch {
	case err == nil, errors.Is(err, unix.ENOENT):
		return nil
	case errors.Is(err, unix.EINVAL): // not mounted: a leftover file
		if rerr := os.Remove(filepath.Join(runNetns, name)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return fmt.Errorf("netns: remove %s: %w", name, rerr)
		}
		return nil
	default:
		return fmt.Errorf("netns: delete namespace %s: %w", name, err)
	}
}

// listLinks lists links through h, retrying an interrupted dump.
func listLinks(h *netlink.Handle) ([]netlink.Link, error) {
	var err error
	for range 5 {
		var links []netlink.Link
		links, err = h.LinkList()
		if err == nil {
			return links, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return nil, err
}

// deleteOwnedLinks deletes the links owned by prefix that h sees; where
// names the namespace in the returned descriptions.
func deleteOwnedLinks(h *netlink.Handle, prefix, where string) ([]string, error) {
	links, err := listLinks(h)
	if err != nil {
		return nil, fmt.Errorf("netns: list links in %s: %w", where, err)
	}
	var removed []string
	var errs []error
	for _, link := range links {
		name := link.Attrs().Name
		if !ownedBy(prefix, name) {
			continue
		}
		if err := h.LinkDel(link); err != nil {
			if errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENOENT) {
				continue // went with its veth peer
			}
			errs = append(errs, fmt.Errorf("netns: delete link %s in %s: %w", name, where, err))
			continue
		}
		removed = append(removed, fmt.Sprintf("link %s in %s", name, where))
	}
	return removed, errors.Join(errs...)
}

// Clean removes what a run with this prefix left behind after a crash: it
// kills every process inside the run's namespaces, deletes the run's links
// inside them and in the caller's namespace, and deletes the namespaces.
// A run prefix owns names that start with the prefix and a "-"; the bare
// base "d6l" owns every d6l* name (all runs). Any prefix that is not
// d6lab's is refused with ErrBadPrefix, so nothing else is ever touched.
// It returns a description of each thing removed.
func Clean(prefix string) (removed []string, err error) {
	if !ValidPrefix(prefix) {
		return nil, fmt.Errorf("%w: refusing to clean %q", ErrBadPrefix, prefix)
	}
	names, err := namedNamespaces(prefix)
	if err != nil {
		return nil, err
	}
	ids := map[nsID]string{}
	for _, name := range names {
		if id, err := statNS(filepath.Join(runNetns, name)); err == nil {
			ids[id] = name
		}
	}
	var errs []error
	killed, err := killIn(ids)
	removed = append(removed, killed...)
	if err != nil {
		errs = append(errs, err)
	}
	for _, name := range names {
		fd, err := netns.GetFromName(name)
		if err == nil {
			err = inNamespace(fd, func() error {
				h, err := netlink.NewHandle()
				if err != nil {
					return fmt.Errorf("netns: netlink in %s: %w", name, err)
				}
				defer h.Close()
				gone, err := deleteOwnedLinks(h, prefix, name)
				removed = append(removed, gone...)
				return err
			})
			fd.Close()
			if err != nil {
				errs = append(errs, err)
			}
		}
		if err := deleteNamed(name); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, "netns "+name)
	}
	h, err := netlink.NewHandle()
	if err != nil {
		return removed, errors.Join(append(errs, fmt.Errorf("netns: netlink: %w", err))...)
	}
	defer h.Close()
	gone, err := deleteOwnedLinks(h, prefix, "current namespace")
	removed = append(removed, gone...)
	if err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// Leftovers lists every d6l* namespace in /run/netns, every d6l* link in the
// caller's namespace and every process inside those namespaces: what
// `d6lab clean` would remove. It changes nothing.
func Leftovers() ([]string, error) {
	names, err := namedNamespaces(PrefixBase)
	if err != nil {
		return nil, err
	}
	var out []string
	ids := map[nsID]string{}
	for _, name := range names {
		out = append(out, "netns "+name)
		if id, err := statNS(filepath.Join(runNetns, name)); err == nil {
			ids[id] = name
		}
	}
	procs, err := processesIn(ids)
	if err != nil {
		return out, err
	}
	for _, p := range procs {
		out = append(out, p.String())
	}
	h, err := netlink.NewHandle()
	if err != nil {
		return out, fmt.Errorf("netns: netlink: %w", err)
	}
	defer h.Close()
	links, err := listLinks(h)
	if err != nil {
		return out, fmt.Errorf("netns: list links: %w", err)
	}
	for _, link := range links {
		if ownedBy(PrefixBase, link.Attrs().Name) {
			out = append(out, "link "+link.Attrs().Name+" in current namespace")
		}
	}
	return out, nil
}

// Teardown kills the processes the lab started (and anything else running
// inside its namespaces), deletes its links and its namespaces. It is
// idempotent: a second call does nothing, and one after a partial failure
// retries what is left.
func (l *Lab) Teardown() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.torn = true
	l.endWatchers() // before the links go: their last addresses are no change to report
	var errs []error

	for _, p := range l.procs {
		if err := p.signalGroup(unix.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
			errs = append(errs, err)
		}
	}
	for _, p := range l.procs {
		select {
		case <-p.done:
		case <-time.After(killTimeout):
			errs = append(errs, fmt.Errorf("netns: pid %d (%s) not reaped %v after SIGKILL", p.PID, p.Argv[0], killTimeout))
		}
	}

	ids := map[nsID]string{}
	for _, name := range l.created {
		if id, err := statNS(filepath.Join(runNetns, name)); err == nil {
			ids[id] = name
		}
	}
	if _, err := killIn(ids); err != nil {
		errs = append(errs, err)
	}

	// Delete the links explicitly: a socket still open somewhere keeps a
	// namespace alive after its name is gone, but not its interfaces.
	if l.link != nil && l.link.nl != nil {
		if _, err := deleteOwnedLinks(l.link.nl, l.spec.Prefix, l.link.ns); err != nil {
			errs = append(errs, err)
		}
	}
	for _, n := range append(l.order, l.link) {
		if n == nil {
			continue
		}
		if n.nl != nil {
			n.nl.Close()
			n.nl = nil
		}
		if n.fd.IsOpen() {
			n.fd.Close()
			n.fd = netns.None()
		}
	}
	var left []string
	for i := len(l.created) - 1; i >= 0; i-- {
		if err := deleteNamed(l.created[i]); err != nil {
			errs = append(errs, err)
			left = append([]string{l.created[i]}, left...)
		}
	}
	l.created = left
	return errors.Join(errs...)
}
