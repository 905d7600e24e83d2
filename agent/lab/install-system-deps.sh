#!/bin/sh
# Installs the Debian packages margay's lab, tests and benchmarks use, if missing.
# Idempotent and quiet when everything is already there. Needs root for apt-get.
set -eu
PKGS="iproute2 procps iptables ipset iputils-ping netcat-openbsd tcpdump tshark bird2 gobgpd frr exabgp containernetworking-plugins golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev socat conntrack curl util-linux"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "margay: missing system packages:$missing (run as root to install them)" >&2
  exit 0
fi
echo "margay: installing system packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
