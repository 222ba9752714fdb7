#!/usr/bin/env bash
# The systemd VM: boots a fresh Debian 12 root (packaging/vm/debian-root.sh, debootstrap) under qemu
# TCG on Debian's 6.1 kernel, with systemd as PID 1 and no network device (-nic none). The .deb is
# installed into the root first (dpkg --root, as an image bake does), so the boot shows the early
# start; in the VM packaging/vm/guest/vmtest.sh checks the boot-time capture, then upgrade, remove,
# purge and the Distributor scripts (a fresh install with systemd running). What it found lands in RESULTS_DIR
# (default .cache/vm/systemd-results); test/e2e/packaging/systemd-vm.test.ts runs this and checks it.
# Usage: bash packaging/vm/test-systemd.sh [RESULTS_DIR]   (root; after packaging/build-all.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$(pwd)"
results="$(realpath -m "${1:-.cache/vm/systemd-results}")"
version="$(node -p "require('./package.json').version")"
deb="build/dist/imds-sniff_${version}_amd64.deb"
zip="build/dist/ssm/imds-sniff-debian-x86_64.zip"
for f in "$deb" "$zip"; do [ -f "$f" ] || { echo "test-systemd: $f missing: run packaging/build-all.sh" >&2; exit 1; }; done

bash scripts/vm/host-setup.sh
bash packaging/vm/debian-root.sh
kdir="$(bash scripts/vm/fetch-kernel.sh 6.1)"
initrd=.cache/vm/initramfs-6.1-systemd.cpio.gz
if [ ! -f "$initrd" ] || [ scripts/vm/build-initramfs.sh -nt "$initrd" ]; then
  bash scripts/vm/build-initramfs.sh "$kdir" "$initrd" systemd
fi

# A fresh copy of the pristine root for this run, with the scenario and the package in /vmtest.
# In RAM where there is a tmpfs (the VM writes a few hundred MB; on disk their writeback slowed
# whatever ran next), removed at the end.
if [ -d /dev/shm ]; then work=/dev/shm/imds-sniff-systemd-run; else work=.cache/vm/systemd-run; fi
rm -rf "$work" "$results"
mkdir -p "$work" "$results"
trap 'rm -rf "$work"' EXIT
cp -a .cache/vm/debian-root "$work/root"
vm="$work/root"
install -m 0644 packaging/vm/guest/*.service "$vm/etc/systemd/system/"
systemctl --root="$vm" enable imds-net.service mock-imds.service imds-vmtest.service >/dev/null 2>&1
# No first-boot prompts, no login prompt on the serial console: nobody answers them.
systemd-machine-id-setup --root="$vm" >/dev/null
systemctl --root="$vm" mask systemd-firstboot.service serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1
mkdir -p "$vm/vmtest/distributor" "$vm/srv/imds/latest/meta-data"
install -m 0644 "$deb" "$vm/vmtest/"
install -m 0755 packaging/vm/guest/vmtest.sh "$vm/vmtest/"
(cd "$vm/vmtest/distributor" && unzip -q "$root/$zip")
printf 'i-0abcdef1234567890' >"$vm/srv/imds/latest/meta-data/instance-id"
# Baked in: installed (the package's scripts only enable where systemd does not run), this VM's
# config (no EC2 API, no CloudWatch: the identity from the config, EMF metrics), the boot-time workload.
chroot "$vm" dpkg -i "/vmtest/$(basename "$deb")" >"$results/bake-dpkg.log" 2>&1
cat >"$vm/etc/imds-sniff/config.json" <<'EOF'
{
  "identity": { "instanceId": "i-0abcdef1234567890", "region": "us-east-1" },
  "logs": { "eventsFile": "/var/log/imds-sniff/events.jsonl", "logV2": "all", "summaryInterval": "10s" },
  "metrics": { "sink": "emf", "interval": "10s" }
}
EOF
systemctl --root="$vm" enable workload-imds.service >/dev/null 2>&1

start=$(date +%s)
code=0
# About 3 min alone; CI runs it beside the other e2e files on 2 cores, where TCG gets half the CPU
# (348 s measured in CI against the 360 s this limit was): 540 s, IMDS_SNIFF_SYSTEMD_VM_TIMEOUT to change it.
bash scripts/vm/boot.sh "$kdir" "$initrd" "$results" "$results/console.log" "${IMDS_SNIFF_SYSTEMD_VM_TIMEOUT:-540}" \
  "$(realpath "$vm")" systemd.show_status=0 || code=$?
echo "test-systemd: the VM ended (qemu exit $code) after $(( $(date +%s) - start )) s" >&2
[ "$code" = 0 ] || { tail -30 "$results/console.log" >&2; exit 1; }
[ -f "$results/done" ] || { echo "test-systemd: the scenario did not finish; $results/vmtest.log:" >&2; tail -20 "$results/vmtest.log" >&2; exit 1; }
echo "test-systemd: done; results in $results" >&2
