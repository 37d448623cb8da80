// Package nameserver runs BIND 9 (Debian bind9, 9.18 here) as the lab's
// authoritative DNS server (RFC 6853 §7's DNS cost, issue 14): the
// forward zone and the ip6.arpa zones of the links, taking RFC 2136
// updates signed with a TSIG key (RFC 8945) made per run (NewKey), and
// giving them back by zone transfer (Transfer) and from its log
// (ReadUpdates). It starts nothing itself: the lab (sim/lab) runs
// Instance.Argv in the DNS server's namespace, like every lab process,
// and kills it at teardown.
//
// # Files, all in the run directory
//
// Prepare writes Config.Dir/named.conf and one zone file per zone
// (ZoneFile: "db.lab.example"), each with an SOA (serial 1, the
// negative-caching TTL Config.TTL), an NS naming NSName ("ns." and the
// forward zone) and, in the forward zone, that name's AAAA (Config.Listen).
// named.conf keeps every path BIND would otherwise take from the host in
// Dir (directory, pid-file, lock-file, session-keyfile,
// managed-keys-directory, the dump, statistics, secroots and recursing
// files), has no control channel (`controls { };`: no rndc), listens on
// Config.Listen port 53 only (no IPv4), is authoritative only (recursion
// no, notify no, dnssec-validation no), and lets Config.Key alone update
// and transfer each zone (allow-update, allow-transfer). Prepare removes a
// journal (.jnl) an earlier run left, then runs `named-checkconf -z`: a
// configuration BIND refuses is an error quoting the checker (a zone name
// whose name server breaks check-names, say), before anything starts.
// Argv is `named -f -n 1 -c Dir/named.conf`: foreground (-g would send
// the log to stderr and ignore the channels), one worker thread, as
// root (the lab runs as root; no -u). The host's /etc/bind is never read
// for configuration nor written.
//
// # Logs
//
// Two file channels, times in ISO 8601 UTC with milliseconds (print-time
// iso8601-utc), category and severity printed: Instance.Log (named.log)
// has everything, Instance.UpdateLog (update.log) the update,
// update-security and security categories. BIND 9.18 logs an update that
// succeeds as its approval and one line per change (the client, its
// source address and port, its key):
//
//	2026-12-03T05:25:37.850Z update-security: info: client @0x7ff9c04dc898 fd00:d6:53::1:0:1#34062/key ddns.lab.example: signer "ddns.lab.example" approved
//	2026-12-03T05:25:37.850Z update: info: client @0x7ff9c04dc898 fd00:d6:53::1:0:1#34062/key ddns.lab.example: updating zone 'lab.example/IN': adding an RR at 'h1.lab.example' AAAA 2001:db8:53::3
//
// and one whose prerequisite fails as its approval and the failure, the
// prerequisite in RFC 2136 §2.4's words and the RCODE:
//
//	... update: info: client @0x... fd00:d6:53::1:0:2#49922/key ddns.lab.example: updating zone 'lab.example/IN': update unsuccessful: h1.lab.example: 'name not in use' prerequisite not satisfied (YXDOMAIN)
//	... update: info: client @0x... fd00:d6:53::1:0:2#49932/key ddns.lab.example: updating zone 'lab.example/IN': update unsuccessful: h1.lab.example/DHCID: 'RRset exists (value dependent)' prerequisite not satisfied (NXRRSET)
//
// An update allow-update refuses (unsigned, or another key) is one
// update-security line, "update 'lab.example/IN' denied"; one for a zone
// BIND does not serve one update line, "update failed: other.example: not
// authoritative for update zone (NOTAUTH)"; one signed with a key BIND
// does not know or with a wrong secret is refused before BIND reads it,
// as one security line: "request has invalid signature: TSIG
// other.lab.example: tsig verify failure (BADKEY)" (BADSIG for the
// secret). testdata/update.log is such a log, captured from named in the
// lab spec.
//
// ReadUpdates turns the log into Updates, one per request (its lines
// grouped by BIND's client object and source address and port): Outcome
// history.DNSUpdateOK, history.DNSUpdateConflict for a failed DHCID
// "RRset exists (value dependent)" prerequisite (RFC 4703 §5.3.2: the
// name is another client's), otherwise the RCODE in lower case
// ("yxdomain", "nxrrset", "refused", "notauth", "notzone", "badkey",
// "badsig"). A security line does not say whether the request was an
// update: in the lab the only other signed requests are the lab's own
// transfers, with the run's key, so a TSIG error is read as an update.
// Lines it cannot read are counted, not guessed at.
//
// # Queries from the lab
//
// Ready (SOA polling) and Transfer (AXFR over TCP, RFC 5936, signed)
// dial in the calling goroutine, so that the caller can run them inside a
// namespace (netns.Lab.Do); Transfer's whole exchange ends within its
// timeout, so a DNS server that died (connection refused) or hangs
// (frozen: the read deadline) never holds up the lab. Transfer leaves the
// zone's own records out (the apex SOA and NS, the name server's AAAA)
// and normalises the rest as Records: owner names lower case and fully
// qualified, a PTR's address from its owner name (netaddr6.AddrOfReverse),
// a DHCID's RDATA (RFC 4701 §3) in hex.
package nameserver
