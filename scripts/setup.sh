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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
