package realclient

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"d6lab/server/daemon"
)

// newInstance checks spec against adapter a, creates spec.Dir and returns
// the instance's common part: kind, log and events files.
func newInstance(a Adapter, spec Spec) (*Instance, error) {
	if err := check(a, spec); err != nil {
		return nil, err
	}
	if strings.ContainsAny(spec.Dir, "'\"\\\n") {
		return nil, fmt.Errorf("realclient: %s: %s: directory %q: no quotes, backslashes or newlines (it is written into configurations and scripts)", a.Kind(), spec.Name, spec.Dir)
	}
	dir, err := filepath.Abs(spec.Dir)
	if err != nil {
		return nil, fmt.Errorf("realclient: %w", err)
	}
	spec.Dir = dir
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("realclient: %w", err)
	}
	return &Instance{
		Spec:    spec,
		Kind:    a.Kind(),
		Log:     filepath.Join(dir, "client.log"),
		Events:  filepath.Join(dir, "events"),
		adapter: a,
	}, nil
}

// path is a file of the instance's directory.
func (i *Instance) path(name string) string { return filepath.Join(i.Spec.Dir, name) }

// writeFile writes a rendered file into the instance's directory.
func writeFile(path, content string, mode os.FileMode) error {
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		return fmt.Errorf("realclient: %w", err)
	}
	return os.Chmod(path, mode) // WriteFile keeps an existing file's mode
}

// mkdirs creates the instance's private state directories.
func mkdirs(paths ...string) error {
	for _, p := range paths {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return fmt.Errorf("realclient: %w", err)
		}
	}
	return nil
}

// bind mounts Src (a directory or file of the instance's own) over Target
// (a host path the client reads or writes) in the client's private mount
// namespace. IfExists skips a Target the host lacks (or whose symlink
// dangles once /run is private: /etc/resolv.conf pointing into /run).
type bind struct {
	Src, Target string
	IfExists    bool
}

// privately wraps argv so that it runs in a mount namespace of its own
// (unshare --mount, propagation private: no mount reaches the host) where
// binds are mounted first, in order, without touching /etc/mtab or
// /run/mount/utab (mount -n). unshare and sh exec, so the process the lab
// starts is the client itself (its PID). The sources are passed as
// arguments, never spliced into the script.
func privately(name string, binds []bind, argv []string) []string {
	var steps []string
	for i, b := range binds {
		m := fmt.Sprintf(`%s -n --bind "$%d" %s`, MountBinary, i+1, b.Target)
		if b.IfExists {
			m = fmt.Sprintf(`{ [ ! -e %s ] || %s; }`, b.Target, m)
		}
		steps = append(steps, m)
	}
	steps = append(steps, fmt.Sprintf("shift %d", len(binds)), `exec "$@"`)
	out := []string{UnshareBinary, "--mount", "--propagation", "private", "--",
		ShellBinary, "-c", strings.Join(steps, " && "), name}
	for _, b := range binds {
		out = append(out, b.Src)
	}
	return append(out, argv...)
}

// scriptHead starts every client script of the lab's: a fixed PATH, and
// `event`, which appends one line to the events file: the time, then its
// arguments.
func scriptHead(kind, events string) string {
	return fmt.Sprintf(`#!/bin/sh
# d6lab's client script for %s (sim/realclient). It configures nothing but
# what the kind leaves to its script, and touches no file outside the
# client's directory: no resolv.conf, no hooks.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
ip=%s
event() {
	echo "$(%s +%%s.%%N) $*" >> '%s'
}
`, kind, IPBinary, DateBinary, events)
}

// debVersion is the Debian package's version, for clients without a
// version option.
func debVersion(c *daemon.VersionCache, pkg string) string {
	return c.Get(func(out string) string {
		if v := daemon.FirstLine(out); v != "" && !strings.Contains(v, "no packages") {
			return pkg + " " + v
		}
		return ""
	}, DpkgQuery, "-W", "-f", "${Version}", pkg)
}
