#!/usr/bin/env bash
# Installs what d6lab's tests need on a Debian machine, only when missing.
# Run as root (make test calls it). Safe to run again.
set -euo pipefail

# Debian package -> a command or file that proves it is installed.
declare -A want=(
	[iproute2]=/usr/sbin/ip
	[nftables]=/usr/sbin/nft
	[isc-dhcp-client]=/usr/sbin/dhclient
	[kea-admin]=/usr/sbin/perfdhcp
	# the relay scenarios (relay: dhcrelay) put ISC dhcrelay -6 between the
	# client link and the server network
	[isc-dhcp-relay]=/usr/sbin/dhcrelay
	# the browser spec opens report.html in headless Chromium; the charts
	# name Liberation Sans (a Recommends of chromium, which we skip)
	[chromium]=/usr/bin/chromium
	[fonts-liberation]=/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf
	# third-party DHCPv6 servers the lab runs (server/daemon): kind kea,
	# dhcpd, dnsmasq and wide
	[kea-dhcp6-server]=/usr/sbin/kea-dhcp6
	[isc-dhcp-server]=/usr/sbin/dhcpd
	[dnsmasq-base]=/usr/sbin/dnsmasq
	[wide-dhcpv6-server]=/usr/sbin/dhcp6s
	# real DHCPv6 clients the lab runs beside the simulated ones
	# (sim/realclient): kind dhcpcd, dhcp6c and udhcpc6 (dhclient is
	# isc-dhcp-client above). They are installed with no service started:
	# the policy-rc.d guard below keeps wide-dhcpv6-client's dhcp6c from
	# starting on the host's interfaces, and dhcpcd-base ships none. Debian's
	# busybox has no udhcpc6 applet: sim/realclient says so at run time.
	[dhcpcd-base]=/usr/sbin/dhcpcd
	[wide-dhcpv6-client]=/usr/sbin/dhcp6c
	[busybox]=/usr/bin/busybox
	# DNS in the lab (scenario dns:, RFC 6853 §7): BIND 9 as the
	# authoritative server taking RFC 2136 updates (sim/nameserver), its
	# checkers (named-checkconf, named-checkzone), and Kea's DDNS daemon,
	# which the kea adapter runs beside kea-dhcp6. The policy-rc.d guard
	# keeps named and kea-dhcp-ddns from starting on the host.
	[bind9]=/usr/sbin/named
	[bind9-utils]=/usr/bin/named-checkconf
	[kea-dhcp-ddns-server]=/usr/sbin/kea-dhcp-ddns
)

missing=()
for pkg in "${!want[@]}"; do
	[ -e "${want[$pkg]}" ] || missing+=("$pkg")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "setup: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing ${missing[*]}; run as root to install them" >&2
	exit 0
fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's maintainer scripts start a package's service right after
# installing it: dnsmasq would become a DNS server on this host,
# kea-dhcp6, dhcpd and dhcp6s would answer DHCPv6 on the host's own
# interfaces, and dhcp6c would ask for addresses on them. The lab runs these programs only inside its namespaces, so no
# service may start: a policy-rc.d that exits 101 ("action forbidden")
# tells invoke-rc.d to start nothing. It exists only for the install and
# is removed afterwards (trap), and an existing one is left alone.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\n# d6lab setup: no service starts during the install\nexit 101\n' >"$policy"
	chmod 755 "$policy"
	trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
