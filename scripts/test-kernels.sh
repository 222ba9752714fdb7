#!/usr/bin/env bash
# Kernel matrix: runs the attribution e2e tests (scripts/vm/ci-tests.txt by default) inside qemu VMs booting
# stock Debian kernels, 5.10 (bullseye) and 6.1 (bookworm), next to the host's own kernel. Each
# guest runs this checkout from the host root over virtio-9p, with no network device; the tests
# build their own namespaces inside it. Prints the attribution figures per kernel and scenario and
# each kernel's wall time. Logs: .cache/vm/logs/. Run as root.
#
# Usage: scripts/test-kernels.sh [--kernel 5.10|6.1]... [--timeout SECONDS] [--no-build] [-- CMD...]
#   --kernel   only this kernel (repeatable); default both
#   --timeout  per-kernel limit for the VM, boot to power-off (default 600)
#   --no-build skip `tsc` (dist/ must be current: the guest never compiles TypeScript)
#   --list F   the tests to run, "FILE" or "FILE | NAME PATTERN" per line, "[6.1] FILE" for some kernels
#              only (default scripts/vm/ci-tests.txt, what CI runs)
#   -- CMD     run CMD in the guest (from the checkout's root) instead of the e2e test list
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
kernels=() timeout_s=600 build=1 cmd=() list=scripts/vm/ci-tests.txt
while [ $# -gt 0 ]; do
  case "$1" in
    --kernel) kernels+=("$2"); shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    --list) list="$2"; shift 2 ;;
    --) shift; cmd=("$@"); break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "test-kernels: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ ${#kernels[@]} -gt 0 ] || kernels=(5.10 6.1)
for k in "${kernels[@]}"; do
  case "$k" in 5.10|6.1) ;; *) echo "test-kernels: unknown kernel $k (5.10 or 6.1)" >&2; exit 2 ;; esac
done

# The guest command for one kernel: CMD, or vitest on the list's lines for that kernel.
guest_cmd() {
  local k="$1" file pattern only
  if [ ${#cmd[@]} -gt 0 ]; then guest=("${cmd[@]}"); return; fi
  local files=() patterns=()
  while IFS='|' read -r file pattern; do
    file="$(echo "$file" | sed 's/^ *//; s/ *$//')" pattern="$(echo "$pattern" | sed 's/^ *//; s/ *$//')"
    [ -n "$file" ] && [ "${file:0:1}" != '#' ] || continue
    # "[6.1] FILE": only on the kernels named in the brackets.
    if [[ "$file" =~ ^\[([^]]*)\]\ *(.*)$ ]]; then
      only="${BASH_REMATCH[1]}" file="${BASH_REMATCH[2]}"
      [[ ",${only// /}," == *",$k,"* ]] || continue
    fi
    if [ ! -f "$file" ]; then echo "test-kernels: $file is not in this checkout; left out" >&2; continue; fi
    [[ " ${files[*]} " == *" $file "* ]] || files+=("$file")
    [ -z "$pattern" ] || patterns+=("$pattern")
  done <"$list"
  # Whole files when no line names a pattern: then no test is reported as skipped.
  local filter=()
  if [ ${#patterns[@]} -gt 0 ]; then filter=(-t "$(IFS='|'; echo "${patterns[*]}")"); fi
  # Generous limits: everything is ~15x slower under TCG than on the host.
  guest=(npx vitest run "${files[@]}" "${filter[@]}" --reporter=verbose --testTimeout=300000 --hookTimeout=300000)
}

bash scripts/vm/host-setup.sh
if [ "$build" = 1 ]; then npx tsc -p tsconfig.json; fi

cache="$root/.cache/vm"
mkdir -p "$cache/logs"
declare -A wall status
overall=0
for k in "${kernels[@]}"; do
  start=$(date +%s)
  kdir="$(bash scripts/vm/fetch-kernel.sh "$k")"
  initrd="$cache/initramfs-$k.cpio.gz"
  if [ ! -f "$initrd" ] || [ scripts/vm/build-initramfs.sh -nt "$initrd" ]; then
    bash scripts/vm/build-initramfs.sh "$kdir" "$initrd"
  fi
  results="$cache/results-$k"
  rm -rf "$results" && mkdir -p "$results"
  {
    printf 'export PATH=%q HOME=/root CI=%q IMDS_SNIFF_REQUIRE_E2E=%q\n' "$PATH" "${CI:-}" "${IMDS_SNIFF_REQUIRE_E2E:-}"
    printf 'export IMDS_SNIFF_FIGURES=/vmresults/figures.jsonl IMDS_SNIFF_TIME_SCALE=10 IMDS_SNIFF_VM_CWD=%q\n' "$root"
  } >"$results/env.sh"
  guest_cmd "$k"
  printf '%q ' "${guest[@]}" >"$results/cmd.sh"
  echo "test-kernels: booting $(cat "$kdir/release") (limit ${timeout_s}s): ${guest[*]}" >&2
  boot_code=0
  bash scripts/vm/boot.sh "$kdir" "$initrd" "$results" "$cache/logs/$k-console.log" "$timeout_s" || boot_code=$?
  cp "$results/guest.log" "$cache/logs/$k-guest.log" 2>/dev/null || true
  sed "s/^/[$k] /" "$cache/logs/$k-guest.log" 2>/dev/null || true
  code="$(cat "$results/exit-code" 2>/dev/null || true)"
  if [ -z "$code" ]; then
    [ "$boot_code" = 124 ] && why="timed out after ${timeout_s}s" || why="qemu exited $boot_code"
    echo "test-kernels: $k: no exit code from the guest ($why); console log:" >&2
    tail -40 "$cache/logs/$k-console.log" | sed "s/^/[$k console] /" >&2
    code=1
  fi
  wall[$k]=$(( $(date +%s) - start ))
  status[$k]=$code
  [ "$code" = 0 ] || overall=1
done

echo
echo "Kernel matrix: attribution figures (requests, right pid)"
printf '%-16s %-40s %9s %15s\n' kernel scenario requests 'right pid'
for k in "${kernels[@]}"; do
  f="$cache/results-$k/figures.jsonl"
  [ -s "$f" ] || { printf '%-16s %-40s %9s %15s\n' "$k" '(no figures)' - -; continue; }
  node -e '
    const lines = require("node:fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
    for (const l of lines) console.log(`${l.kernel.padEnd(16)} ${l.scenario.padEnd(40)} ${String(l.requests).padStart(9)} ${`${l.right} (${l.right_percent} %)`.padStart(15)}`);
  ' "$f"
done
echo
for k in "${kernels[@]}"; do
  echo "kernel $k: $([ "${status[$k]}" = 0 ] && echo passed || echo "FAILED (exit ${status[$k]})") in ${wall[$k]}s wall (fetch, boot, tests)"
done
exit "$overall"
