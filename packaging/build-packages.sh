#!/usr/bin/env bash
# Builds the .deb and the .rpm for one architecture from the binary's tree (packaging/build-binary.sh):
#   /usr/bin/imds-sniff, /usr/lib/imds-sniff/          the self-contained binary
#   /usr/lib/systemd/system/imds-sniff.service        systemd/imds-sniff.service
#   /etc/imds-sniff/config.json                       conffile / %config(noreplace)
#   /etc/logrotate.d/imds-sniff                       conffile / %config(noreplace)
#   /usr/share/doc/imds-sniff/                        README, licences
# The maintainer scripts are packaging/files/maintainer.sh plus one call each: install enables and
# starts, upgrade restarts (config and /var/lib/imds-sniff kept), removal stops and disables, purge
# (.deb) removes the state and logs. No system user: the unit runs as root's uid with three
# capabilities (README "Running under systemd"). No dependencies: the binary brings its libraries.
#
# Output: build/dist/imds-sniff_<version>_<amd64|arm64>.deb, build/dist/imds-sniff-<version>-1.<x86_64|aarch64>.rpm
# Usage: bash packaging/build-packages.sh x64|arm64
set -euo pipefail
. "$(dirname "$0")/lib/target.sh"
target_init build-packages.sh "${1:-}"
tree="$root/build/$arch/root"
[ -x "$tree/usr/lib/imds-sniff/imds-sniff" ] || { echo "build-packages: $tree missing: run packaging/build-binary.sh $arch" >&2; exit 1; }
out="$root/build/dist"
work="$root/build/$arch/pkg"
rm -rf "$work"
mkdir -p "$work" "$out"

# The package's files, in one tree both formats take.
files="$work/files"
cp -a "$tree" "$files"
install -D -m 0644 systemd/imds-sniff.service "$files/usr/lib/systemd/system/imds-sniff.service"
install -D -m 0644 packaging/files/config.json "$files/etc/imds-sniff/config.json"
install -D -m 0644 packaging/files/logrotate "$files/etc/logrotate.d/imds-sniff"
install -m 0644 README.md "$files/usr/share/doc/imds-sniff/README.md"
chmod 0755 "$files/etc/imds-sniff"

# One maintainer script: the shared functions, then what this step calls.
script() { # script FILE BODY
  { cat packaging/files/maintainer.sh; printf '\n%s\n' "$2"; } >"$1"
  chmod 0755 "$1"
}

summary='Finds the processes that still call the EC2 instance metadata service with IMDSv1'
description="imds-sniff watches the traffic to the EC2 instance metadata service, classifies each
request (IMDSv1, IMDSv2 token, IMDSv2 get), names the calling process (pid, command line, container)
and publishes per-process CloudWatch metrics, so the instance can be switched to IMDSv2 only
(HttpTokens=required) without breaking anything. Self-contained: it brings its own runtime, glibc
and libpcap."

echo "build-packages[$arch]: .deb" >&2
deb="$work/deb"
cp -a "$files" "$deb"
mkdir -p "$deb/DEBIAN"
size_kib="$(du -sk --exclude=DEBIAN "$deb" | cut -f1)"
cat >"$deb/DEBIAN/control" <<EOF
Package: imds-sniff
Version: $version
Architecture: $deb_arch
Maintainer: imds-sniff maintainers <imds-sniff@users.noreply.github.com>
Installed-Size: $size_kib
Section: admin
Priority: optional
Recommends: logrotate
Homepage: https://github.com/imds-sniff/imds-sniff
Description: $summary
$(printf '%s\n' "$description" | sed 's/^/ /')
EOF
printf '/etc/imds-sniff/config.json\n/etc/logrotate.d/imds-sniff\n' >"$deb/DEBIAN/conffiles"
script "$deb/DEBIAN/postinst" 'case "$1" in configure) if [ -z "$2" ]; then imds_sniff_installed; else imds_sniff_upgraded; fi ;; abort-remove|abort-deconfigure) imds_sniff_installed ;; esac'
script "$deb/DEBIAN/prerm" 'case "$1" in remove|deconfigure) imds_sniff_removing ;; esac'
script "$deb/DEBIAN/postrm" 'case "$1" in remove) imds_sniff_removed ;; purge) imds_sniff_removed; imds_sniff_purged ;; esac'
deb_file="$out/imds-sniff_${version}_${deb_arch}.deb"
# gzip, not xz: xz took 85 s for the two packages of one architecture (31 MB against gzip's 43 MB),
# and zstd .debs do not install on Debian 11 or Ubuntu 20.04.
dpkg-deb --root-owner-group -Zgzip --build "$deb" "$deb_file" >/dev/null

echo "build-packages[$arch]: .rpm" >&2
rpm_top="$work/rpmbuild"
mkdir -p "$rpm_top"/{SPECS,RPMS,BUILD,BUILDROOT}
{
  cat <<EOF
Name: imds-sniff
Version: $version
Release: 1
Summary: $summary
License: Apache-2.0
URL: https://github.com/imds-sniff/imds-sniff
# Self-contained: the automatic library dependencies would name the bundled glibc and libpcap.
AutoReqProv: no
Requires(post): /bin/sh
# The executable carries its Node single-executable blob: rpmbuild must not strip or rewrite it.
%global __os_install_post %{nil}
%global debug_package %{nil}
%global _build_id_links none

%description
$description

%install
cp -a "$files/." %{buildroot}/

%files
%dir /usr/lib/imds-sniff
/usr/lib/imds-sniff/*
/usr/bin/imds-sniff
/usr/lib/systemd/system/imds-sniff.service
%dir %attr(0755,root,root) /etc/imds-sniff
%config(noreplace) /etc/imds-sniff/config.json
%config(noreplace) /etc/logrotate.d/imds-sniff
%doc /usr/share/doc/imds-sniff

EOF
  # rpm passes the count of installed versions after the step: 1 = new install, 2 = upgrade, 0 = erase.
  # rpm has no purge: an erase keeps /var/lib/imds-sniff (the gate's evidence and enforce records).
  # Each scriptlet holds the whole of maintainer.sh ("%" doubled: rpmbuild expands macros there).
  body="$(sed '1d' packaging/files/maintainer.sh)"
  body="${body//%/%%}"
  printf '%%post\n%s\nif [ "$1" -eq 1 ]; then imds_sniff_installed; else imds_sniff_upgraded; fi\n\n' "$body"
  printf '%%preun\n%s\nif [ "$1" -eq 0 ]; then imds_sniff_removing; fi\n\n' "$body"
  printf '%%postun\n%s\nif [ "$1" -eq 0 ]; then imds_sniff_removed; fi\n' "$body"
} >"$rpm_top/SPECS/imds-sniff.spec"
rpmbuild --quiet -bb --target "$rpm_arch" --define "_topdir $rpm_top" \
  --define '_binary_payload w6.gzdio' "$rpm_top/SPECS/imds-sniff.spec" >"$work/rpmbuild.log" 2>&1 ||
  { tail -30 "$work/rpmbuild.log" >&2; exit 1; }
rpm_file="$out/imds-sniff-$version-1.$rpm_arch.rpm"
cp "$rpm_top/RPMS/$rpm_arch/imds-sniff-$version-1.$rpm_arch.rpm" "$rpm_file"
printf 'build-packages[%s]: %s (%s KiB), %s (%s KiB)\n' "$arch" "$deb_file" "$(( $(stat -c %s "$deb_file") / 1024 ))" \
  "$rpm_file" "$(( $(stat -c %s "$rpm_file") / 1024 ))" >&2
