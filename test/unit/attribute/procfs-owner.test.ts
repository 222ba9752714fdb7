import { describe, expect, it } from 'vitest';
import { ProcfsOwnerFinder } from '../../../src/attribute/procfs-owner.js';
import { rowMatchesKey } from '../../../src/attribute/proc-scan.js';
import type { SocketKey } from '../../../src/attribute/types.js';
import { fakeHost } from './fixtures.js';

const finder = new ProcfsOwnerFinder({ ...fakeHost, retryDelaysMs: [0, 5] });

describe('ProcfsOwnerFinder over fixtures/proc/host', () => {
  it.each<[string, SocketKey, number | null]>([
    ['IPv4 IMDS client in a netns', { family: 4, srcIp: '10.0.2.15', srcPort: 42891, dstIp: '169.254.169.254', dstPort: 80 }, 2015],
    ['IPv6 IMDS client (address spelled long)', { family: 6, srcIp: 'fd00:ec2:0:0:0:0:0:2', srcPort: 46535, dstIp: 'fd00:ec2::254', dstPort: 80 }, 2015],
    ['IPv4 key on a dual-stack socket (v4-mapped row in tcp6)', { family: 4, srcIp: '127.0.0.1', srcPort: 80, dstIp: '127.0.0.1', dstPort: 42950 }, 3001],
    ['row present but no process holds the inode', { family: 4, srcIp: '127.0.0.1', srcPort: 42950, dstIp: '127.0.0.1', dstPort: 80 }, null],
    ['TIME_WAIT row (inode 0)', { family: 6, srcIp: '::1', srcPort: 80, dstIp: '::1', dstPort: 60158 }, null],
    ['no such connection', { family: 4, srcIp: '10.0.2.15', srcPort: 1, dstIp: '169.254.169.254', dstPort: 80 }, null],
  ])('%s', async (_name, key, pid) => {
    const info = await finder.find(key, 50);
    expect(info.pid).toBe(pid);
    expect(info.attribution).toBe(pid === null ? 'unknown' : 'procfs');
  });

  it('fills the whole ProcessInfo', async () => {
    const info = await finder.find({ family: 4, srcIp: '10.0.2.15', srcPort: 42891, dstIp: '169.254.169.254', dstPort: 80 }, 50);
    expect(info).toMatchObject({ comm: 'curl', netns: 4026532451, user: 'root', ancestors: [{ pid: 812 }, { pid: 1 }] });
  });

  it('gives up at the timeout', async () => {
    const slow = new ProcfsOwnerFinder({ ...fakeHost, retryDelaysMs: [0, 1_000] });
    const t0 = Date.now();
    await slow.find({ family: 4, srcIp: '1.1.1.1', srcPort: 1, dstIp: '2.2.2.2', dstPort: 80 }, 30);
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('start() checks the socket table is readable', async () => {
    await expect(finder.start()).resolves.toBeUndefined();
    await expect(new ProcfsOwnerFinder({ procRoot: '/nonexistent' }).start()).rejects.toThrow(/cannot read/);
  });
});

describe('rowMatchesKey', () => {
  const row = { local: { ip: '::ffff:10.0.2.15', port: 5 }, remote: { ip: '::ffff:169.254.169.254', port: 80 }, state: 1, uid: 0, inode: 9 };
  it.each<[string, SocketKey, boolean]>([
    ['v4 key, mapped row', { family: 4, srcIp: '10.0.2.15', srcPort: 5, dstIp: '169.254.169.254', dstPort: 80 }, true],
    ['v6 key spelled mapped', { family: 6, srcIp: '::ffff:10.0.2.15', srcPort: 5, dstIp: '::ffff:169.254.169.254', dstPort: 80 }, true],
    ['wrong port', { family: 4, srcIp: '10.0.2.15', srcPort: 6, dstIp: '169.254.169.254', dstPort: 80 }, false],
  ])('%s', (_name, key, expected) => {
    expect(rowMatchesKey(row, key)).toBe(expected);
  });
});
