#!/bin/sh
# Distributor install (and in-place update): the zip holds this script and the one imds-sniff
# package for this platform and architecture. Installs or upgrades it; the package's own scripts
# enable and start the service (upgrade: restart, the config and state kept). Prints the result.
set -eu
cd "$(dirname "$0")"
pkg="$(ls imds-sniff*.deb imds-sniff*.rpm 2>/dev/null | head -n 1 || true)"
case "$pkg" in
  *.deb) DEBIAN_FRONTEND=noninteractive dpkg -i --force-confold "$pkg" ;;
  *.rpm) rpm -U --replacepkgs "$pkg" ;;
  *) echo "install.sh: no imds-sniff package beside this script" >&2; exit 1 ;;
esac
/usr/bin/imds-sniff --version
if [ -d /run/systemd/system ]; then systemctl is-active imds-sniff.service; fi
