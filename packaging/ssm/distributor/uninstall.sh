#!/bin/sh
# Distributor uninstall: stops and removes imds-sniff. The state (/var/lib/imds-sniff: the gate's
# evidence and the enforce record a rollback needs) is kept; `dpkg --purge imds-sniff` removes it.
set -eu
if command -v dpkg-query >/dev/null 2>&1 && dpkg-query -W -f='${Status}' imds-sniff 2>/dev/null | grep -q ' installed$'; then
  DEBIAN_FRONTEND=noninteractive dpkg -r imds-sniff
elif command -v rpm >/dev/null 2>&1 && rpm -q imds-sniff >/dev/null 2>&1; then
  rpm -e imds-sniff
else
  echo "uninstall.sh: imds-sniff is not installed" >&2
fi
