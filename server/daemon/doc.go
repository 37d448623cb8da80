// Package daemon runs DHCPv6 server programs in the lab: d6lab's own
// builtin server (`d6lab serve`) and third-party servers from Debian
// packages (Kea, ISC dhcpd, dnsmasq, WIDE dhcp6s) or built from source
// (coredhcp).
//
// An Adapter knows one kind of server: whether it is installed and which
// version, how to render its configuration from a resolved Spec (prefix,
// pool, Preference, lifetimes, PD pool, lease file), the command line that
// runs it in the foreground, and how to read its lease file back as
// lease.Binding values so that server-side state can be compared with the
// clients' history. Starting the process, inside its namespace, is the
// caller's job (sim/netns, with Instance.Command); Listening tells when it
// is ready. sim/session.StartServer does both, for runs, conform and bench.
//
// Every kind is given its DUID where it can be (Instance.DUID): a DUID-LL
// of Spec.MAC for kea (server-id), dhcpd (server-duid), wide (its DUID
// file) and coredhcp (server_id), a DUID-EN for dnsmasq (dhcp-duid), so
// replies map to server names without probing. What a kind cannot be told
// (allocator, rebind policy, T1/T2, Preference when unasked, ...) is listed
// in Instance.Notes, never silently dropped; a spec a kind cannot serve at
// all (IA_PD for dnsmasq and wide) fails Prepare with ErrUnsupported.
//
// Adapter files: builtin.go, kea.go (kea-dhcp6, memfile CSV), dhcpd.go
// (dhcpd -6, lease6 journal), dnsmasq.go (lease file lines), wide.go
// (dhcp6s in a private mount namespace; no lease file), coredhcp.go
// (pinned module build in the user's cache; PD and static only).
//
// DNS (Spec.Config.DNS): the builtin server updates it itself (`d6lab serve
// --ddns-*`, the TSIG key in a file beside the lease file); Kea through
// kea-dhcp-ddns, which Instance.Companions runs beside kea-dhcp6; the
// other kinds say in their notes that they do not. Kea always loads the
// lease_cmds hook on a UNIX control socket (Instance.ControlSocket), where
// the lab's Leasequery prober asks it.
package daemon
