// The .deb on a real systemd: packaging/vm/test-systemd.sh boots a fresh debootstrap Debian 12 root
// under qemu (Debian's 6.1 kernel, systemd as PID 1, no network device) with the package baked in,
// and packaging/vm/guest/vmtest.sh records what happened; this test checks the record: the early
// start (a workload's boot-time IMDSv1 call seen and named), the journal, the unit's privileges,
// upgrade, remove, purge, and the Distributor package's install.sh and uninstall.sh.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const DEB = join(ROOT, `build/dist/imds-sniff_${VERSION}_amd64.deb`);

function skipReason(): string | null {
  if (process.env['IMDS_SNIFF_REQUIRE_E2E'] === '1') return null;
  if (process.getuid?.() !== 0) return 'needs root (qemu, debootstrap)';
  if (!existsSync(DEB)) return `${DEB} not built (bash packaging/build-all.sh)`;
  if (process.env['IMDS_SNIFF_SKIP_SYSTEMD_VM'] === '1') return 'IMDS_SNIFF_SKIP_SYSTEMD_VM=1';
  return null;
}
const skip = skipReason();

describe.skipIf(skip !== null)(`the .deb under systemd in a VM${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const results = mkdtempSync(join(tmpdir(), 'imds-sniff-systemd-vm-'));
  const text = (name: string): string => readFileSync(join(results, name), 'utf8').trim();
  const code = (name: string): number => Number(text(`${name}.code`));
  let run: { status: number | null; stderr: string };

  beforeAll(() => {
    // Boots once (about 3 min under TCG, plus the debootstrap the first time).
    const r = spawnSync('bash', [join(ROOT, 'packaging/vm/test-systemd.sh'), results], { encoding: 'utf8', timeout: 900_000 });
    run = { status: r.status, stderr: r.stderr };
  }, 960_000);

  afterAll(() => rmSync(results, { recursive: true, force: true }));

  it('boots, and the scenario runs to its end', () => {
    expect(run.status, run.stderr.split('\n').slice(-15).join('\n')).toBe(0);
    expect(text('done')).toBe('done');
  });

  it('starts at boot (enabled by the package), capturing before the network and the workload', () => {
    expect(text('boot-enabled.txt')).toBe('enabled');
    expect(text('boot-active.txt')).toBe('active');
    const agent = Number(text('boot-agent-active.txt'));
    // Before=network-pre.target, and "active" only once capturing (ExecStartPost waits for the ready file).
    expect(agent).toBeGreaterThan(0);
    expect(agent).toBeLessThanOrEqual(Number(text('boot-network-pre.txt')));
    expect(agent).toBeLessThan(Number(text('boot-workload-start.txt')));
  });

  it("sees the workload's boot-time IMDSv1 call and names its process", () => {
    expect(code('boot-workload-seen')).toBe(0);
    const events = text('boot-events.jsonl').split('\n').map((l) => JSON.parse(l) as ImdsRequestEvent & { event: string; cgroup: string | null });
    const call = events.find((e) => e.event === 'imds_request' && e.path === '/latest/meta-data/instance-id');
    expect(call).toMatchObject({
      kind: 'v1',
      status: 200,
      pid: Number(text('boot-workload-pid.txt')),
      comm: 'curl',
      exe: '/usr/bin/curl',
      attribution: 'tracefs',
      cgroup: '/system.slice/workload-imds.service',
    });
  });

  it('logs its status to the journal as JSON lines, with exactly the unit capabilities and no new privileges', () => {
    const entries = text('boot-journal.jsonl').split('\n').map((l) => JSON.parse(l) as { MESSAGE?: string; _SYSTEMD_UNIT?: string });
    const status = entries
      .filter((e) => e._SYSTEMD_UNIT === 'imds-sniff.service' && typeof e.MESSAGE === 'string' && e.MESSAGE.startsWith('{'))
      .map((e) => JSON.parse(e.MESSAGE as string) as { level: string; msg: string; service: string });
    expect(status.map((s) => s.msg)).toEqual(expect.arrayContaining(['imds-sniff daemon starting', 'identity', 'attribution', 'capturing']));
    for (const s of status) expect(s).toMatchObject({ service: 'imds-sniff', level: expect.any(String) });
    const agent = text('boot-agent.txt');
    expect(agent).toMatch(/^CapabilityBoundingSet=cap_dac_read_search cap_net_raw cap_sys_ptrace$/m);
    expect(agent).toMatch(/^NoNewPrivileges=yes$/m);
    expect(agent).toMatch(/^NRestarts=0$/m);
  });

  it('upgrades: restarted, the edited config and the state kept', () => {
    expect(code('upgrade')).toBe(0);
    const [before, after] = text('upgrade-pids.txt').split(' ').map(Number);
    expect(after).not.toBe(before);
    expect(text('upgrade-active.txt')).toBe('active');
    expect(text('upgrade-config.json')).toContain('i-0abcdef1234567890');
    expect(text('upgrade-state.txt').split('\n')).toEqual(expect.arrayContaining(['operator-marker.json', 'state.json']));
  });

  it('removal stops it and keeps the state; purge removes the state and the config', () => {
    expect(code('remove')).toBe(0);
    expect(text('remove-active.txt')).toBe('inactive');
    expect(code('remove-binary')).toBe(1);
    expect(text('remove-state.txt').split('\n')).toEqual(expect.arrayContaining(['operator-marker.json', 'state.json']));
    expect(code('purge')).toBe(0);
    expect(code('purge-state')).toBe(1);
    expect(code('purge-etc')).toBe(1);
    expect(text('purge-status.txt')).toMatch(/no packages found matching imds-sniff/);
  });

  it("the Distributor zip's install.sh installs and starts it; uninstall.sh stops and removes it", () => {
    expect(code('ssm-install')).toBe(0);
    expect(text('ssm-install.log')).toMatch(new RegExp(`^imds-sniff ${VERSION.replace(/\./g, '\\.')}$[\\s\\S]*^active$`, 'm'));
    expect(text('ssm-enabled.txt')).toBe('enabled');
    expect(code('ssm-uninstall')).toBe(0);
    expect(text('ssm-uninstall-status.txt')).toBe('deinstall ok config-files');
    expect(text('ssm-uninstall-active.txt')).toBe('inactive');
  });
});
