#!/bin/sh
# imds-sniff's install, upgrade and removal steps, shared by the .deb maintainer scripts and the
# .rpm scriptlets (each calls one function below). POSIX sh: runs on every distribution we ship to.
# Where systemd is not running (a chroot, an image build) units are only enabled, never started.
set -e
unit=imds-sniff.service

running() { [ -d /run/systemd/system ]; }

# A new install: enable, and start now.
imds_sniff_installed() {
  if running; then
    systemctl daemon-reload
    systemctl enable --now "$unit"
  elif command -v systemctl >/dev/null 2>&1; then
    systemctl enable "$unit" >/dev/null 2>&1 || true
  fi
}

# An upgrade: the new binary takes over; the config (a conffile) and /var/lib/imds-sniff stay.
imds_sniff_upgraded() {
  if running; then
    systemctl daemon-reload
    systemctl try-restart "$unit"
  fi
}

# Before removal: stop (SIGTERM: the open metrics interval is flushed) and disable.
imds_sniff_removing() {
  if running; then
    systemctl disable --now "$unit" || true
  elif command -v systemctl >/dev/null 2>&1; then
    systemctl disable "$unit" >/dev/null 2>&1 || true
  fi
}

# After removal: the unit file is gone.
imds_sniff_removed() {
  if running; then systemctl daemon-reload || true; fi
}

# Purge: the state (the gate's evidence, enforce records, unsent metrics) and the logs go too.
imds_sniff_purged() {
  rm -rf /var/lib/imds-sniff /var/log/imds-sniff
  rmdir /etc/imds-sniff 2>/dev/null || true
}
