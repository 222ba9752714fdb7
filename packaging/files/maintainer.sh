#!/bin/sh
# imds-sniff's install, upgrade and removal steps, shared by the .deb maintainer scripts and the
# .rpm scriptlets (each calls one function below). POSIX sh: runs on every distribution we ship to.
# Where systemd is not running (a chroot, an image build) units are only enabled, never started.
# A service that fails to start never fails the package step: the package stays installed and
# consistent, and the journal says why (`journalctl -u imds-sniff`).
set -e
unit=imds-sniff.service
# Left by a removal that keeps the state (dpkg -r): the next install is a new install, not an
# upgrade, even though dpkg passes the old version then.
removed_marker=/var/lib/imds-sniff/.package-removed

running() { [ -d /run/systemd/system ]; }

# Before systemd 235 (Amazon Linux 2 has 219) the unit's syscall filter group @system-service, the
# ExecStartPre "+" prefix and several sandbox settings do not exist: systemd 219 would turn the
# filter into an allow-list of almost nothing and the agent would die at once. This drop-in,
# written only there, resets the filter and runs ExecStartPre/ExecStartPost with full privileges.
old_systemd_dropin=/etc/systemd/system/imds-sniff.service.d/10-systemd-before-235.conf
imds_sniff_old_systemd() {
  v="$(systemctl --version 2>/dev/null | sed -n '1s/^systemd \([0-9]*\).*/\1/p')"
  if [ -n "$v" ] && [ "$v" -lt 235 ]; then
    mkdir -p "$(dirname "$old_systemd_dropin")"
    cat >"$old_systemd_dropin" <<'DROPIN'
# Written by the imds-sniff package for systemd before 235 (removed with the package).
[Service]
SystemCallFilter=
PermissionsStartOnly=true
ExecStartPre=
ExecStartPre=/bin/sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug || true'
StartLimitInterval=10min
DROPIN
  fi
}

start() {
  systemctl start "$unit" || echo "imds-sniff: the service did not start; see journalctl -u imds-sniff" >&2
}

# A new install (or the first after a removal that kept the state): enable, and start now.
imds_sniff_installed() {
  rm -f "$removed_marker"
  command -v systemctl >/dev/null 2>&1 || return 0
  imds_sniff_old_systemd
  if running; then
    systemctl daemon-reload
    systemctl enable "$unit"
    start
  else
    systemctl enable "$unit" >/dev/null 2>&1 || true
  fi
}

# An upgrade: the new binary takes over; the config (a conffile) and /var/lib/imds-sniff stay.
# A service the operator disabled stays disabled (try-restart starts nothing that is not running).
imds_sniff_upgraded() {
  if [ -e "$removed_marker" ]; then
    imds_sniff_installed
    return 0
  fi
  command -v systemctl >/dev/null 2>&1 || return 0
  imds_sniff_old_systemd
  if running; then
    systemctl daemon-reload
    systemctl try-restart "$unit" || echo "imds-sniff: the service did not restart; see journalctl -u imds-sniff" >&2
  fi
}

# Before removal: stop (SIGTERM: the open metrics interval is flushed) and disable.
imds_sniff_removing() {
  command -v systemctl >/dev/null 2>&1 || return 0
  if running; then
    systemctl disable --now "$unit" || true
  else
    systemctl disable "$unit" >/dev/null 2>&1 || true
  fi
}

# After removal: the unit file is gone; the state stays, marked for the next install.
imds_sniff_removed() {
  rm -f "$old_systemd_dropin"
  rmdir "$(dirname "$old_systemd_dropin")" 2>/dev/null || true
  if [ -d /var/lib/imds-sniff ]; then : >"$removed_marker" || true; fi
  if running; then systemctl daemon-reload || true; fi
}

# Purge: the state (the gate's evidence, enforce records, unsent metrics) and the logs go too.
imds_sniff_purged() {
  rm -rf /var/lib/imds-sniff /var/log/imds-sniff
  rmdir /etc/imds-sniff 2>/dev/null || true
}
