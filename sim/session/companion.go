package session

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"d6lab/sim/netns"
)

// StartCompanion runs argv, a process that belongs to a server
// (daemon.Instance.Companions: Kea's kea-dhcp-ddns), in node's namespace
// with its output appended to logPath, and waits until it is ready: it
// holds a UDP socket bound to a port (UDPBound), polled every 20 ms for up
// to timeout. As StartServer, a process that exits first fails at once
// quoting the end of its log, and one that times out, or whose ctx ends,
// is killed (by PID) before the error returns.
func StartCompanion(ctx context.Context, l *netns.Lab, node string, argv []string, logPath string, timeout time.Duration) (*netns.Process, error) {
	return startReady(ctx, l, node, argv, logPath, timeout, "no UDP socket bound", UDPBound)
}

// UDPBound reports whether process pid holds a UDP socket bound to a port:
// one of its descriptors (/proc/<pid>/fd) is a socket whose inode is in
// its namespace's /proc/<pid>/net/udp or udp6 with a local port other than
// 0. Unlike daemon.Listening it looks at the process's own sockets, not
// at the namespace's, so it tells a companion ready whatever else runs
// beside it. A process that has gone returns an error.
func UDPBound(pid int) (bool, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false, fmt.Errorf("sockets of pid %d: %w", pid, err)
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if in, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(in, "]")] = true
		}
	}
	if len(inodes) == 0 {
		return false, nil
	}
	for _, table := range []string{"udp", "udp6"} {
		ok, err := boundIn(fmt.Sprintf("/proc/%d/net/%s", pid, table), inodes)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// boundIn reads a /proc/net/udp-style table ("sl local_address
// rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
// ...", local_address as HEX:PORT) for a socket of inodes with a port.
func boundIn(path string, inodes map[string]bool) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 10 || !strings.HasSuffix(fields[0], ":") || !inodes[fields[9]] {
			continue
		}
		_, port, ok := strings.Cut(fields[1], ":")
		if n, err := strconv.ParseUint(port, 16, 16); ok && err == nil && n != 0 {
			return true, nil
		}
	}
	return false, sc.Err()
}
