#!/bin/sh
# Kernel VM lane, in the guest: loads the modules the e2e tests use (namespaces, veth, nftables,
# conntrack, NAT), brings up loopback, then runs the command that test-kernels.sh left in
# /vmresults/cmd.sh with the environment in /vmresults/env.sh, and writes its exit code.
set -u
echo "guest: $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)"
for m in veth nf_tables nf_conntrack nf_nat nft_ct nft_nat nft_masq nft_chain_nat nft_reject_inet \
  nft_fib_inet nft_compat nf_tables_inet bridge br_netfilter tun overlay; do
  modprobe -q "$m" 2>/dev/null || true
done
ip link set lo up
hostname imds-sniff-vm 2>/dev/null || true
. /vmresults/env.sh
cd "$IMDS_SNIFF_VM_CWD"
start=$(date +%s)
bash /vmresults/cmd.sh
code=$?
echo "guest: command exited $code after $(( $(date +%s) - start ))s"
echo "$code" >/vmresults/exit-code
