// Package realclient prepares and runs real DHCPv6 clients, Debian
// packages, in the netns engine's lab beside the simulated population:
// one client per network namespace, on a veth of the client link whose
// interface runs the kernel's duplicate address detection
// (netns.NodeSpec.DAD), so that what the lab watches over netlink
// (netns.Lab.WatchAddrs, trace.AddrChange) is what a real host would do.
//
// There is one Adapter per deploy.ClientKind, registered in a table
// (Lookup, Kinds; a spec checks that every kind in deploy.ClientKinds has
// one). An adapter says whether its client can run here (Installed, naming
// the Debian package, or for udhcpc6 the missing applet), its Version,
// what it cannot do (Lacks: IA_NA, IA_PD, both at once, stateless; the
// reason becomes a report's "n/a"), and Prepare writes into Spec.Dir, the
// client's own directory in the run directory, everything the client
// needs (configuration, the lab's client script, lease, PID and DUID
// files) and returns an Instance: the argv to run in the client's
// namespace in the foreground (the lab tracks the PID and kills the
// process group at teardown), how to stop it cleanly so that it sends a
// Release (Instance.Stop), where it logs, and Notes on how it differs
// from a plain install. Start and Client.Stop run an instance in a lab.
//
// # Never touching the host
//
// Namespaces share the host's file system. Each client's files live in
// Spec.Dir, by the client's own options where they suffice (dhclient's
// -cf -lf -pf -sf; udhcpc6's -s -p), otherwise in a private mount
// namespace: the argv is `unshare --mount --propagation private -- sh -c
// 'mount -n --bind DIR/x /host/path && ... && exec CLIENT ...'`, so the
// bind mounts exist only for that process and vanish with it (unshare and
// sh exec: the lab's PID is the client's). /etc/resolv.conf is a private
// file there too (when the host has one). No client runs the host's hooks:
// every kind is given the lab's own script (Instance.Script), which adds
// and removes addresses where the kind leaves that to its script, and
// appends one line per call to Instance.Events. Nothing is written under
// /etc/netns: the lab enters a namespace itself (setns on a thread of its
// own) rather than through `ip netns exec`, so there is no per-namespace
// resolv.conf to provide, and no host file for a crashed run to leave
// behind.
//
// Each client has its own DUID: every kind makes it of the interface's
// MAC (a DUID-LL or DUID-LLT; the lab's nodes have distinct deterministic
// MACs) and keeps it, if at all, in Spec.Dir. dhcpcd is told `duid ll`:
// its default would be the machine's DUID-UUID where the machine has one,
// the same for every client.
//
// # The kinds
//
// dhclient (isc-dhcp-client 4.4.3): `dhclient -6 -d -v [-N] [-P] [-S]
// -cf -lf -pf -sf IF`. Its script does for DHCPv6 what Debian 12's
// /sbin/dhclient-script does: `ip -6 addr replace ADDR/128 ... valid_lft
// preferred_lft` at BOUND6, RENEW6 and REBIND6, preferred_lft 0 at
// DEPREF6, `ip -6 addr del` at EXPIRE6, RELEASE6 and STOP6; a delegated
// prefix is not configured. dhclient has no DAD check of its own: ISC's
// upstream script waits for DAD (with --dad-wait-time) and exits 3 when it
// failed, which makes dhclient Decline, but Debian's script does not wait,
// so on a Debian host a DAD failure never reaches dhclient: the kernel
// removes the address (it has finite lifetimes) and dhclient puts it back
// at its next Renew. The script mirrors Debian by default; Spec.DADWait
// runs ISC's wait instead (and dhclient then Declines). A clean stop is
// the command `dhclient -6 -r` with the same files: it signals the running
// one through the PID file, then Releases (SIGTERM alone releases only
// DHCPv4 leases). Stateless (-S) asks for the Information Refresh Time, or
// dhclient -S would exit after its first Reply.
//
// dhcpcd (dhcpcd-base 9.4.1): `dhcpcd -6 -B -d -f CONF -c SCRIPT IF` in a
// private mount namespace with Spec.Dir's directories over /run (dhcpcd
// makes /run/dhcpcd: PID file, control sockets) and /var/lib/dhcpcd
// (DUID, leases, secret), for which dhcpcd has no option. Its privilege
// separation (a root proxy, the rest as user dhcpcd chrooted to
// /usr/lib/dhcpcd) works as is. The configuration has `noipv6rs` and
// `ia_na 1`, `ia_pd 2 -` (a prefix delegated to no interface) or
// `inform6`, which start DHCPv6 without a Router Advertisement; `nodev`;
// `option rapid_commit` as Debian's /etc/dhcpcd.conf. dhcpcd configures
// its addresses itself. A clean stop is SIGALRM (Release, then exit;
// SIGTERM exits without one). dhcpcd Declines an address the kernel flags
// duplicate, but on Linux the kernel deletes a duplicate address with
// finite lifetimes, so dhcpcd never Declines: it waits for DAD and adds
// the address again at its next Renew.
//
// dhcp6c (wide-dhcpv6-client 20080615): `dhcp6c -f -D -c CONF -p PIDFILE
// IF` in a private mount namespace with Spec.Dir/state over
// /var/lib/dhcpv6, where it keeps its DUID (compiled in). The
// configuration is `send ia-na 1;` / `send ia-pd 2;` with `id-assoc na 1 {
// };` / `id-assoc pd 2 { };` (no prefix-interface: the prefix is not
// configured), or `information-only;`. dhcp6c adds addresses itself,
// without lifetimes (the kernel holds them forever; dhcp6c removes them at
// the end of their valid lifetime), so an address that fails DAD stays on
// the interface flagged dadfailed and dhcp6c, which does not watch DAD,
// keeps renewing it: no Decline. It raises a T2 under 30 s to 30 s (T1 18
// s). A clean stop is SIGTERM: a Release per IA, then exit.
//
// udhcpc6 (busybox): `busybox udhcpc6 -f -R -i IF -s SCRIPT -p PIDFILE`,
// with -d for IA_PD, -r no for no IA_NA, -l for stateless; -R releases on
// SIGTERM; its script configures the address. Debian's busybox 1.35 is
// built without the udhcpc6 applet: Installed finds that at run time
// (`busybox --list`) and every use of the kind is n/a with that reason.
package realclient
