import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAncestors, readProcessInfo, readProcessSnapshot, readTgid } from '../../../src/attribute/process-info.js';
import { fakeHost } from './fixtures.js';

describe('readProcessInfo over fixtures/proc/host', () => {
  it('curl in a Docker container (exe deleted, own netns)', async () => {
    expect(await readProcessInfo(2015, fakeHost)).toEqual({
      pid: 2015,
      ppid: 812,
      comm: 'curl',
      exe: '/usr/bin/curl',
      cmdline: ['curl', '-s', 'http://169.254.169.254/latest/meta-data/'],
      uid: 0,
      user: 'root',
      ancestors: [
        { pid: 812, comm: 'bash' },
        { pid: 1, comm: 'systemd' },
      ],
      netns: 4026532451,
      cgroup: '/system.slice/docker-4f3b5a6c7d8e9f00112233445566778899aabbccddeeff00112233445566aabb.scope',
      containerId: '4f3b5a6c7d8e9f00112233445566778899aabbccddeeff00112233445566aabb',
      nsPid: 7,
      attribution: 'procfs',
    });
  });

  it.each([
    ['odd comm, uid 1000, Kubernetes v1 cgroup', 3001, {
      comm: 'my app) (x',
      user: 'ec2-user',
      uid: 1000,
      ancestors: [{ pid: 1, comm: 'systemd' }],
      containerId: '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef',
      nsPid: 1,
      cmdline: ['/opt/app/bin/app', '--serve'],
    }],
    ['zombie: only stat and status left', 4000, {
      comm: 'aws',
      exe: null,
      cmdline: null,
      netns: null,
      cgroup: null,
      uid: 4242,
      user: null,
      ancestors: [{ pid: 812, comm: 'bash' }, { pid: 1, comm: 'systemd' }],
    }],
    ['pid 1 has no ancestors; one NSpid entry: the host pid namespace', 1, { ppid: 0, ancestors: [], netns: 4026531840, cgroup: '/init.scope', nsPid: null }],
  ])('%s', async (_name, pid, expected) => {
    expect(await readProcessInfo(pid, fakeHost)).toMatchObject(expected);
  });

  it('returns null for a process that is gone', async () => {
    expect(await readProcessInfo(99999, fakeHost)).toBeNull();
  });

  it('snapshot exposes the zombie state', async () => {
    expect((await readProcessSnapshot(4000, fakeHost))?.stat.state).toBe('Z');
  });
});

describe('readAncestors', () => {
  it.each([
    ['chain to init', 2015, [2015, 812, 1]],
    ['ppid cycle stops', 50, [50, 51]],
    ['missing pid', 99999, []],
  ])('%s', (_name, pid, expected) => {
    expect(readAncestors(pid, fakeHost).map((a) => a.pid)).toEqual(expected);
  });
});

describe('readTgid', () => {
  it.each([
    [2015, 2015],
    [99999, null],
  ])('%i → %s', (tid, tgid) => {
    expect(readTgid(tid, fakeHost)).toBe(tgid);
  });

  it('a task half-way through its exit (status says Tgid 0, stat pid 0) has no process id: null, not 0', async () => {
    const procRoot = mkdtempSync(join(tmpdir(), 'imds-sniff-proc-'));
    try {
      mkdirSync(join(procRoot, '4242'));
      writeFileSync(join(procRoot, '4242', 'status'), 'Name:\tcurl\nState:\tX (dead)\nTgid:\t0\nPid:\t0\nPPid:\t0\n');
      expect(readTgid(4242, { procRoot })).toBeNull();
      writeFileSync(join(procRoot, '4242', 'stat'), '0 (curl) X 0 0 0 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n');
      await expect(readProcessSnapshot(4242, { procRoot })).resolves.toBeNull();
    } finally {
      rmSync(procRoot, { recursive: true, force: true });
    }
  });
});
