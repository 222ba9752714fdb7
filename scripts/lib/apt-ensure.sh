# Sourced: apt_ensure TAG PKG… installs from Debian's archive, non-interactively and without
# recommends, the packages that are not installed yet; prints "TAG: installing …" when it does.
# Waits up to 10 minutes for another apt to let go of the dpkg lock.
apt_ensure() {
  local tag="$1" pkg
  shift
  local need=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
  done
  [ ${#need[@]} -gt 0 ] || return 0
  echo "$tag: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends "${need[@]}" >/dev/null
}
