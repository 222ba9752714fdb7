#!/bin/sh
# systemd VM scenario, run by imds-vmtest.service once the system is up. The .deb was installed into
# this root before the boot (dpkg --root, as an image bake does: enabled, not started), with the
# config for this VM (no EC2 API, no CloudWatch: the identity from the config, EMF metrics).
# It records into /vmresults (a host folder) what test/e2e/packaging/systemd-vm.test.ts checks;
# it asserts nothing itself. Then it powers the VM off.
#   1. at boot: the service active and enabled, its status log in the journal as JSON, the
#      workload's boot-time IMDSv1 call seen and named;
#   2. upgrade (restart, config and state kept), remove (stopped, state kept), purge (state gone);
#   3. the Distributor package's install.sh (a fresh install with systemd running: enabled and
#      started by the package) and uninstall.sh.
R=/vmresults
deb="$(ls /vmtest/imds-sniff_*_amd64.deb)"
say() { echo "vmtest: $*"; }
# wait_for SECONDS COMMAND...: until COMMAND succeeds; 1 when it never did.
wait_for() {
  n=$(($1 * 10)); shift
  while ! "$@" >/dev/null 2>&1; do n=$((n - 1)); [ $n -gt 0 ] || return 1; sleep 0.1; done
}
active() { [ "$(systemctl is-active imds-sniff.service)" = active ]; }
workload_seen() { grep -q '"path":"/latest/meta-data/instance-id"' /var/log/imds-sniff/events.jsonl; }

say "at boot"
wait_for 60 workload_seen; echo $? >$R/boot-workload-seen.code
systemctl is-enabled imds-sniff.service >$R/boot-enabled.txt 2>&1
systemctl is-active imds-sniff.service >$R/boot-active.txt 2>&1
cp /var/log/imds-sniff/events.jsonl $R/boot-events.jsonl
systemctl show imds-sniff.service -p MainPID -p NRestarts -p CapabilityBoundingSet -p NoNewPrivileges >$R/boot-agent.txt
systemctl show imds-sniff.service -p ActiveEnterTimestampMonotonic --value >$R/boot-agent-active.txt
systemctl show workload-imds.service -p ExecMainPID --value >$R/boot-workload-pid.txt
systemctl show workload-imds.service -p ExecMainStartTimestampMonotonic --value >$R/boot-workload-start.txt
systemctl show network-pre.target -p ActiveEnterTimestampMonotonic --value >$R/boot-network-pre.txt
journalctl -u imds-sniff.service -b -o json --no-pager >$R/boot-journal.jsonl
journalctl -b -o short-monotonic --no-pager -u imds-sniff.service -u workload-imds.service >$R/boot.log

say "upgrading"
before="$(systemctl show -p MainPID --value imds-sniff.service)"
echo '{"marker":"kept"}' >/var/lib/imds-sniff/operator-marker.json
dpkg -i --force-confold "$deb" >$R/upgrade-dpkg.log 2>&1; echo $? >$R/upgrade.code
wait_for 60 test -e /run/imds-sniff/capturing
echo "$before $(systemctl show -p MainPID --value imds-sniff.service)" >$R/upgrade-pids.txt
systemctl is-active imds-sniff.service >$R/upgrade-active.txt 2>&1
cp /etc/imds-sniff/config.json $R/upgrade-config.json
ls /var/lib/imds-sniff >$R/upgrade-state.txt

say "removing"
dpkg -r imds-sniff >$R/remove-dpkg.log 2>&1; echo $? >$R/remove.code
systemctl is-active imds-sniff.service >$R/remove-active.txt 2>&1
ls /var/lib/imds-sniff >$R/remove-state.txt 2>&1
[ -e /usr/lib/imds-sniff/imds-sniff ]; echo $? >$R/remove-binary.code

say "purging"
dpkg -P imds-sniff >$R/purge-dpkg.log 2>&1; echo $? >$R/purge.code
[ -e /var/lib/imds-sniff ]; echo $? >$R/purge-state.code
[ -e /etc/imds-sniff ]; echo $? >$R/purge-etc.code
dpkg-query -W -f='${Status}\n' imds-sniff >$R/purge-status.txt 2>&1

say "the Distributor package's install.sh and uninstall.sh"
(cd /vmtest/distributor && sh install.sh) >$R/ssm-install.log 2>&1; echo $? >$R/ssm-install.code
systemctl is-enabled imds-sniff.service >$R/ssm-enabled.txt 2>&1
(cd /vmtest/distributor && sh uninstall.sh) >$R/ssm-uninstall.log 2>&1; echo $? >$R/ssm-uninstall.code
dpkg-query -W -f='${Status}\n' imds-sniff >$R/ssm-uninstall-status.txt 2>&1
systemctl is-active imds-sniff.service >$R/ssm-uninstall-active.txt 2>&1

echo done >$R/done
say "powering off"
sync
systemctl poweroff --no-block
