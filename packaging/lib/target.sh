# Sourced by the packaging scripts: `target_init NAME ARCH` checks ARCH (x64 or arm64), goes to the
# checkout's root, sets a umask that does not depend on who builds (group-writable files are refused
# at run time) and every name the target goes by:
#   root, arch, version                      the checkout, x64|arm64, package.json's version
#   triplet, loader, cc, strip, gyp_arch, cross   the toolchain (cross: env for node-gyp)
#   deb_arch, rpm_arch, oci_arch             amd64|arm64, x86_64|aarch64, amd64|arm64
target_init() {
  local name="$1"
  arch="${2:-}"
  umask 022
  cd "$(dirname "${BASH_SOURCE[0]}")/../.."
  root="$(pwd)"
  case "$arch" in
    x64)
      triplet=x86_64-linux-gnu loader=ld-linux-x86-64.so.2 cc=gcc strip=strip gyp_arch=x64
      cross=() deb_arch=amd64 rpm_arch=x86_64 oci_arch=amd64 ;;
    arm64)
      triplet=aarch64-linux-gnu loader=ld-linux-aarch64.so.1 cc=aarch64-linux-gnu-gcc strip=aarch64-linux-gnu-strip gyp_arch=arm64
      cross=(CC=aarch64-linux-gnu-gcc CXX=aarch64-linux-gnu-g++ LINK=aarch64-linux-gnu-g++ AR=aarch64-linux-gnu-ar)
      deb_arch=arm64 rpm_arch=aarch64 oci_arch=arm64 ;;
    *) echo "usage: $name x64|arm64" >&2; exit 2 ;;
  esac
  version="$(node -p "require('./package.json').version")"
}
