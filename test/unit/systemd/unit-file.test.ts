// The shipped systemd unit: systemd itself accepts it, its exposure stays low, and it is ordered
// early (before cloud-init's later stages) without the After=multi-user.target cycle.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveAgentScript } from '../../../src/testbed/agent-process.js';
import { readUnit, UNIT_PATH, unitCapabilities } from '../../helpers/systemd-unit.js';

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const missing = analyze.status !== 0 && process.env.IMDS_SNIFF_REQUIRE_E2E !== '1';
const dir = mkdtempSync(path.join(tmpdir(), 'imds-sniff-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * The unit with ExecStart running this checkout's build with this node (verify wants an
 * executable, and a build made by tsc alone, as in the Node 22 lane, has no executable bit).
 */
function localCopy(): string {
  const file = path.join(dir, 'imds-sniff.service');
  writeFileSync(file, readFileSync(UNIT_PATH, 'utf8').replaceAll('/usr/bin/imds-sniff', `${process.execPath} ${resolveAgentScript()}`));
  return file;
}

describe('systemd/imds-sniff.service', () => {
  const unit = readUnit();
  const one = (key: string) => unit.get(key)?.join(' ');

  it('starts early, before cloud-init and the workloads, with no ordering cycle', () => {
    expect(one('Unit.DefaultDependencies')).toBe('no');
    const before = (one('Unit.Before') ?? '').split(/\s+/);
    expect(before).toEqual(expect.arrayContaining(['network-pre.target', 'cloud-init.service', 'cloud-config.service', 'cloud-final.service', 'multi-user.target']));
    // Started means capturing: the daemon writes the ready file the start waits for.
    const ready = /--ready-file (\S+)/.exec(one('Service.ExecStart') ?? '')?.[1];
    expect(ready).toBe('/run/imds-sniff/capturing');
    expect(one('Service.ExecStartPost')).toContain(`until [ -e ${ready} ]`);
    expect(one('Service.RuntimeDirectory')).toBe('imds-sniff');
    const after = (one('Unit.After') ?? '').split(/\s+/);
    // aws-imds-packet-analyzer's After=multi-user.target with WantedBy=multi-user.target blocked logins.
    expect(after).not.toContain('multi-user.target');
    expect(after).not.toContain('network-online.target');
    expect(one('Install.WantedBy')).toBe('multi-user.target');
    expect(one('Unit.Conflicts')).toBe('shutdown.target');
  });

  it('restarts with a back-off, not after a config error, and stops on SIGTERM', () => {
    expect(one('Service.Restart')).toBe('on-failure');
    expect(one('Service.RestartSec')).toMatch(/^\d+s$/);
    expect(one('Service.RestartPreventExitStatus')).toBe('2');
    expect(Number(one('Unit.StartLimitBurst'))).toBeGreaterThan(0);
    expect(one('Service.KillSignal')).toBe('SIGTERM');
    expect(one('Service.ExecReload')).toBe('/bin/kill -HUP $MAINPID');
  });

  it('keeps only the capabilities the agent needs, and no new privileges', () => {
    expect(unitCapabilities(unit)).toEqual(['net_raw', 'sys_ptrace', 'dac_read_search']);
    expect(one('Service.AmbientCapabilities')).toBe('');
    expect(one('Service.NoNewPrivileges')).toBe('yes');
    expect(one('Service.ProtectSystem')).toBe('strict');
    expect(one('Service.PrivateTmp')).toBe('yes');
    expect(one('Service.MemoryMax')).toMatch(/^\d+M$/);
    expect(one('Service.CPUQuota')).toMatch(/^\d+%$/);
    // Settings that would break it: /proc of every process, tracefs under /sys, the host's packets, V8's JIT.
    for (const key of ['ProtectProc', 'PrivateUsers', 'ProtectKernelTunables', 'PrivateNetwork', 'MemoryDenyWriteExecute']) {
      expect(unit.has(`Service.${key}`), key).toBe(false);
    }
  });

  it.skipIf(missing)('is accepted by systemd-analyze verify', () => {
    const r = spawnSync('systemd-analyze', ['verify', localCopy()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(missing)('has an exposure of at most 3.5 in systemd-analyze security', () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', localCopy()], { encoding: 'utf8' });
    const level = /Overall exposure level for imds-sniff\.service: (\d+\.\d)/.exec(r.stdout);
    expect(level, r.stdout + r.stderr).not.toBeNull();
    expect(Number(level?.[1])).toBeLessThanOrEqual(3.5);
  });
});
