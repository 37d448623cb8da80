package netns

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// UDPStats are a namespace's IPv6 UDP counters (/proc/net/snmp6): how
// many datagrams its sockets took in, and how many the kernel dropped
// because a socket's receive buffer was full, the drops no application
// sees.
type UDPStats struct {
	InDatagrams  int64 // Udp6InDatagrams
	RcvbufErrors int64 // Udp6RcvbufErrors: dropped, a receive buffer full
	InErrors     int64 // Udp6InErrors: every drop on input (RcvbufErrors included)
}

// Sub returns s - o, counter by counter.
func (s UDPStats) Sub(o UDPStats) UDPStats {
	return UDPStats{s.InDatagrams - o.InDatagrams, s.RcvbufErrors - o.RcvbufErrors, s.InErrors - o.InErrors}
}

// UDPStats reads node's namespace counters. It reads
// /proc/thread-self/net/snmp6 from a thread inside the namespace
// (/proc/self/net would show the namespace of the process's main
// thread).
func (l *Lab) UDPStats(node string) (UDPStats, error) {
	var st UDPStats
	err := l.Do(node, func() error {
		f, err := os.Open("/proc/thread-self/net/snmp6")
		if err != nil {
			return err
		}
		defer f.Close()
		st, err = ParseSNMP6(bufio.NewScanner(f))
		return err
	})
	if err != nil {
		return UDPStats{}, fmt.Errorf("netns: udp counters of %s: %w", node, err)
	}
	return st, nil
}

// ParseSNMP6 reads the UDP counters from the lines of /proc/net/snmp6
// ("Udp6InDatagrams  3558647").
func ParseSNMP6(sc *bufio.Scanner) (UDPStats, error) {
	var st UDPStats
	found := 0
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		var dst *int64
		switch f[0] {
		case "Udp6InDatagrams":
			dst = &st.InDatagrams
		case "Udp6RcvbufErrors":
			dst = &st.RcvbufErrors
		case "Udp6InErrors":
			dst = &st.InErrors
		default:
			continue
		}
		v, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return st, fmt.Errorf("netns: snmp6 %s: %w", f[0], err)
		}
		*dst = v
		found++
	}
	if err := sc.Err(); err != nil {
		return st, err
	}
	if found < 3 {
		return st, fmt.Errorf("netns: snmp6: UDP counters missing")
	}
	return st, nil
}
