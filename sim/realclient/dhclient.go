package realclient

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"d6lab/deploy"
	"d6lab/server/daemon"
)

// dhclientAdapter runs ISC dhclient -6 (isc-dhcp-client 4.4) in the
// foreground. Its own options keep it off the host's files: -cf, -lf, -pf
// and -sf name a configuration, a lease file (which also holds its DUID,
// default-duid), a PID file and a client script in the client's
// directory, so it needs no private mount namespace.
type dhclientAdapter struct{}

func init() { register(dhclientAdapter{}) }

var dhclientVersion daemon.VersionCache

func (dhclientAdapter) Kind() deploy.ClientKind { return deploy.Dhclient }
func (dhclientAdapter) Package() string         { return "isc-dhcp-client" }
func (a dhclientAdapter) Installed() error      { return installed(DhclientBinary, a.Package()) }
func (dhclientAdapter) Lacks(Capability) string { return "" }

// Version is dhclient's own, "isc-dhclient-4.4.3-P1".
func (dhclientAdapter) Version() string {
	return dhclientVersion.Get(daemon.FirstLine, DhclientBinary, "--version")
}

// dhclientScript does, for DHCPv6, what Debian 12's /sbin/dhclient-script
// does (isc-dhcp-client 4.4.3-P1-2): bring the interface up (PREINIT6),
// `ip -6 addr replace` the address with the lease's lifetimes (BOUND6,
// RENEW6, REBIND6), set its preferred lifetime to 0 (DEPREF6), delete it
// (EXPIRE6, RELEASE6, STOP6, exit 2 without one). A delegated prefix is
// not configured. With dhclient's --dad-wait-time (dad_wait_time > 0) it
// then waits for DAD as ISC's own script (client/scripts/linux,
// add_ipv6_addr_with_DAD) does and exits 3 when DAD failed or the kernel
// removed the address, which makes dhclient Decline it; Debian's script
// has no such wait. It leaves out Debian's flush of permanent global
// addresses at PREINIT6 (the lab's interface has none of the client's)
// and everything but addresses (resolv.conf, hooks).
const dhclientScript = `
event "$reason" "new=${new_ip6_address:+$new_ip6_address/$new_ip6_prefixlen}" "prefix=$new_ip6_prefix" "old=${old_ip6_address}${old_ip6_prefix}" "preferred=$new_preferred_life" "valid=$new_max_life"

# dad_wait: ISC's add_ipv6_addr_with_DAD, polled every 0.1 s rather than 1 s.
dad_wait() {
	[ "${dad_wait_time:-0}" -gt 0 ] || return 0
	n=$((dad_wait_time * 10))
	while [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
		a=$($ip -6 -o addr show dev "$interface" to "$new_ip6_address/128")
		case "$a" in
		*dadfailed*)
			$ip -6 addr del "$new_ip6_address/128" dev "$interface"
			event DADFAILED "new=$new_ip6_address/128"
			exit 3 ;;
		"")
			event DADFAILED "new=$new_ip6_address/128" gone
			exit 3 ;;
		*tentative*) ;;
		*) return 0 ;;
		esac
	done
	return 0
}

case "$reason" in
PREINIT6)
	$ip link set dev "$interface" up
	;;
BOUND6|RENEW6|REBIND6)
	if [ -n "$new_ip6_address" ]; then
		$ip -6 addr replace "$new_ip6_address/128" dev "$interface" scope global \
			valid_lft "$new_max_life" preferred_lft "$new_preferred_life"
		dad_wait
	fi
	;;
DEPREF6)
	[ -n "$cur_ip6_address" ] || exit 2
	$ip -6 addr change "$cur_ip6_address/128" dev "$interface" scope global preferred_lft 0
	;;
EXPIRE6|RELEASE6|STOP6)
	[ -n "$old_ip6_address" ] || exit 2
	$ip -6 addr del "$old_ip6_address/128" dev "$interface"
	;;
esac
exit 0
`

func (a dhclientAdapter) Prepare(spec Spec) (*Instance, error) {
	i, err := newInstance(a, spec)
	if err != nil {
		return nil, err
	}
	spec = i.Spec
	i.Config, i.Script = i.path("dhclient.conf"), i.path("script.sh")
	leases, pid := i.path("dhclient6.leases"), i.path("dhclient.pid")

	conf := fmt.Sprintf("# written by d6lab (sim/realclient) for client %s\n", spec.Name) +
		"# the DHCPv6 options Debian's /etc/dhcp/dhclient.conf requests\n" +
		"request dhcp6.name-servers, dhcp6.domain-search, dhcp6.fqdn, dhcp6.sntp-servers;\n"
	var ias []string
	if spec.wants(IANA) {
		ias = append(ias, "-N")
	}
	if spec.wants(IAPD) {
		ias = append(ias, "-P")
	}
	stateless := len(ias) == 0
	if stateless {
		// Without it dhclient -S exits after its first Reply
		// (dhc6_check_irt): a stateless client that stays, and refreshes,
		// must ask for the Information Refresh Time.
		conf += "# stateless: stay and refresh at the Information Refresh Time (dhclient -S exits otherwise)\n" +
			"also request dhcp6.info-refresh-time;\n"
		ias = []string{"-S"}
		i.Notes = append(i.Notes, "stateless: the configuration also requests the Information Refresh Time option, without which dhclient -S exits after its first Reply")
	}
	if err := writeFile(i.Config, conf, 0o644); err != nil {
		return nil, err
	}
	if err := writeFile(i.Script, scriptHead("ISC dhclient -6", i.Events)+dhclientScript, 0o755); err != nil {
		return nil, err
	}
	// A fresh client: no lease (and so no DUID) from an earlier run.
	for _, f := range []string{leases, pid} {
		if err := os.Remove(f); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("realclient: %w", err)
		}
	}

	files := []string{"-cf", i.Config, "-lf", leases, "-pf", pid, "-sf", i.Script}
	i.Argv = append([]string{DhclientBinary, "-6", "-d", "-v"}, ias...)
	if spec.DADWait > 0 {
		secs := int((spec.DADWait + time.Second - 1) / time.Second)
		i.Argv = append(i.Argv, "--dad-wait-time", strconv.Itoa(secs))
		i.Notes = append(i.Notes, fmt.Sprintf("DAD: the script waits up to %d s for DAD and exits 3 when it failed, so dhclient Declines (ISC's own dhclient-script; Debian's does not wait)", secs))
	} else {
		i.Notes = append(i.Notes, "DAD: the script adds the address and returns at once, as Debian's dhclient-script does, so dhclient never learns of a DAD failure and never Declines (the kernel removes the duplicate; dhclient adds it again at its next Renew)")
	}
	i.Argv = append(append(i.Argv, files...), spec.IfName)

	if stateless {
		i.Stop = Stop{Signal: syscall.SIGTERM, Wait: 5 * time.Second}
	} else {
		// dhclient -6 exits on SIGTERM without a Release (it releases on
		// shutdown only for DHCPv4). `dhclient -r` with the same files
		// signals the running one (PID file), then Releases the lease
		// file's bindings and runs the script with RELEASE6.
		i.Stop = Stop{
			Argv: append(append(append([]string{DhclientBinary, "-6", "-r", "-d", "-v"}, ias...), files...), spec.IfName),
			Wait: 5 * time.Second,
		}
	}
	i.Notes = append(i.Notes, "DUID: a DUID-LLT of the interface's MAC (dhclient's default), kept in the lease file")
	return i, nil
}

var defaultDUIDRE = regexp.MustCompile(`(?m)^default-duid "((?:[^"\\]|\\.)*)";`)

// DUID reads default-duid from the lease file: a string with C escapes
// (octal \ooo, \" and \\).
func (dhclientAdapter) DUID(i *Instance) ([]byte, error) {
	b, err := os.ReadFile(i.path("dhclient6.leases"))
	if err != nil {
		return nil, fmt.Errorf("realclient: dhclient DUID: %w", err)
	}
	m := defaultDUIDRE.FindSubmatch(b)
	if m == nil {
		return nil, fmt.Errorf("realclient: dhclient DUID: no default-duid in %s", i.path("dhclient6.leases"))
	}
	return unescapeC(string(m[1]))
}

// unescapeC undoes dhclient's escaping of a binary string.
func unescapeC(s string) ([]byte, error) {
	var out []byte
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			out = append(out, s[i])
			continue
		}
		if i+1 >= len(s) {
			return nil, fmt.Errorf("realclient: trailing backslash in %q", s)
		}
		if c := s[i+1]; c < '0' || c > '7' {
			out = append(out, c)
			i++
			continue
		}
		if i+4 > len(s) {
			return nil, fmt.Errorf("realclient: short octal escape in %q", s)
		}
		v, err := strconv.ParseUint(s[i+1:i+4], 8, 8)
		if err != nil {
			return nil, fmt.Errorf("realclient: octal escape in %q: %w", s, err)
		}
		out = append(out, byte(v))
		i += 3
	}
	return out, nil
}
