package daemon

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Listening reports whether the network namespace of process pid has a UDP
// socket bound to the DHCPv6 server port 547, read from
// /proc/<pid>/net/udp6. A lab puts one server in each namespace, so a bound
// socket there means that server is ready, whatever it logs. A process that
// has gone returns an error.
func Listening(pid int) (bool, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/udp6", pid))
	if err != nil {
		return false, fmt.Errorf("daemon: readiness of pid %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "  sl  local_address                         remote_address ..."
		// "   0: 00000000000000000000000000000000:0223 0000...:0000 07 ..."
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasSuffix(fields[0], ":") {
			continue
		}
		if strings.HasSuffix(fields[1], ":0223") {
			return true, nil
		}
	}
	return false, sc.Err()
}
