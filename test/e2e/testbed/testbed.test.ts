// Namespace testbed end to end: real curl from the instance and a NATed container, v4 and v6, hop limit, teardown.

import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { TestbedError } from '../../../src/errors.js';
import { listNetns, netnsPids } from '../../../src/testbed/netns.js';
import { findExecutable, testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';
import type { TestbedNamespace } from '../../../src/testbed/testbed-layout.js';
import { compileMockScript, type CompiledMockScript } from './compile-mock-script.js';
import { waitUntil } from '../../helpers/wait-until.js';

const prereq = testbedPrerequisites();
const title = prereq.ok ? 'namespace testbed' : `namespace testbed (skipped: ${prereq.reason ?? ''})`;
/** One prefix per run, so afterAll can sweep whatever a failed test left behind. */
const prefix = `imdsse${randomBytes(3).toString('hex')}`;
const IMDS = { v4: 'http://169.254.169.254', v6: 'http://[fd00:ec2::254]' } as const;
type Family = keyof typeof IMDS;
const TTL_HEADER = 'X-aws-ec2-metadata-token-ttl-seconds: 300';
const hasTcpdump = findExecutable('tcpdump') !== undefined;

/** TTL / hop limit of each IMDS answer segment that carries data, from `tcpdump -v` lines, per family. */
function dataTtls(text: string): Record<Family, number[]> {
  const ttls: Record<Family, number[]> = { v4: [], v6: [] };
  for (const line of text.split('\n')) {
    const v4 = /\bIP \(.*\bttl (\d+),.*\blength (\d+)\)/.exec(line);
    if (v4 !== null && Number(v4[2]) > 60) ttls.v4.push(Number(v4[1]));
    const v6 = /\bIP6 \(.*\bhlim (\d+),.*payload length: (\d+)\)/.exec(line);
    if (v6 !== null && Number(v6[2]) > 40) ttls.v6.push(Number(v6[1]));
  }
  return ttls;
}

describe.skipIf(!prereq.ok)(title, () => {
  let compiled: CompiledMockScript | undefined;
  let tb: Testbed | undefined;

  /** curl in a namespace; prints the body then the status on a last line. --max-time bounds the expected timeouts. */
  async function curl(ns: TestbedNamespace, args: string[]): Promise<{ code: number | null; body: string; status: string }> {
    const r = await tb!.exec(ns, ['curl', '-sS', '--max-time', '2', '-w', '\n%{http_code}', ...args]);
    const cut = r.stdout.lastIndexOf('\n');
    return { code: r.code, body: r.stdout.slice(0, cut), status: r.stdout.slice(cut + 1) };
  }
  const putToken = (ns: TestbedNamespace, family: Family) =>
    curl(ns, ['-X', 'PUT', '-H', TTL_HEADER, `${IMDS[family]}/latest/api/token`]);

  beforeAll(async () => {
    compiled = await compileMockScript();
    tb = await createTestbed({ prefix, block: 77, mockScript: compiled.script, mock: { instanceId: 'i-0e2e0e2e0e2e0e2e0' } });
  });
  afterAll(async () => {
    await tb?.destroy().catch(() => undefined);
    // Also reached when a test failed half-way or a second testbed was left behind.
    await destroyStaleTestbeds(prefix);
    await compiled?.remove();
    expect((await listNetns()).filter((n) => n.startsWith(prefix))).toEqual([]);
  });

  describe.each(['host', 'ctr'] as const)('from the %s namespace', (ns) => {
    it.each(['v4', 'v6'] as const)('IMDSv1 GET over %s', async (family) => {
      const res = await curl(ns, [`${IMDS[family]}/latest/meta-data/instance-id`]);
      expect(res).toEqual({ code: 0, body: 'i-0e2e0e2e0e2e0e2e0', status: '200' });
    });

    it.each(['v4', 'v6'] as const)('IMDSv2 PUT + GET over %s with hop limit 2', async (family) => {
      await tb!.mock.setOptions({ hopLimit: 2 });
      const put = await putToken(ns, family);
      expect(put).toMatchObject({ code: 0, status: '200' });
      const get = await curl(ns, ['-H', `X-aws-ec2-metadata-token: ${put.body}`, `${IMDS[family]}/latest/meta-data/placement/region`]);
      expect(get).toEqual({ code: 0, body: 'us-east-1', status: '200' });
    });
  });

  it.each(['v4', 'v6'] as const)('hop limit 1 over %s: the token answer reaches the host but not the container', async (family) => {
    await tb!.mock.setOptions({ hopLimit: 1 });
    await tb!.mock.clearRequests();
    expect(await putToken('host', family)).toMatchObject({ code: 0, status: '200' });
    const fromCtr = await putToken('ctr', family);
    expect(fromCtr.code).toBe(28); // curl: operation timed out
    // The mock did answer; the host dropped the TTL-1 packets instead of forwarding them.
    const log = await tb!.mock.requests();
    expect(log.filter((r) => r.kind === 'token').map((r) => r.status)).toEqual([200, 200]);
    // IMDSv1 from the container is unaffected: only connections that sent a PUT get the low TTL.
    expect(await curl('ctr', [`${IMDS[family]}/latest/meta-data/instance-id`])).toMatchObject({ code: 0, status: '200' });
  });

  it.skipIf(!hasTcpdump)('writes the hop limit into the TTL / hop limit of token answers only (tcpdump on the uplink)', async () => {
    await tb!.mock.setOptions({ hopLimit: 3 });
    const dump = tb!.spawn('host', ['tcpdump', '--immediate-mode', '-l', '-n', '-v', '-i', tb!.layout.interfaces.hostUplink, 'tcp src port 80'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(dump, 'exit');
    let text = '';
    try {
      await new Promise<void>((resolve, reject) => {
        dump.stderr!.setEncoding('utf8').on('data', (d: string) => d.includes('listening on') && resolve());
        dump.once('exit', () => reject(new Error('tcpdump exited before listening')));
      });
      for (const family of ['v4', 'v6'] as const) {
        expect(await putToken('host', family)).toMatchObject({ code: 0, status: '200' });
        expect(await curl('host', [`${IMDS[family]}/latest/meta-data/ami-id`])).toMatchObject({ code: 0, status: '200' });
      }
      // Wait for tcpdump to print the four answers; the timer only bounds a failure.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5_000);
        dump.stdout!.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          const seen = dataTtls(text);
          if (seen.v4.length >= 2 && seen.v6.length >= 2) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
    } finally {
      dump.kill('SIGINT');
      await exited;
    }
    const seen = dataTtls(text);
    expect([...new Set(seen.v4)].sort()).toEqual([3, 64]);
    expect([...new Set(seen.v6)].sort()).toEqual([3, 64]);
  });

  it('sees container traffic NATed to the host uplink address, as behind Docker', async () => {
    await tb!.mock.clearRequests();
    await curl('ctr', [`${IMDS.v4}/latest/meta-data/ami-id`]);
    await curl('ctr', [`${IMDS.v6}/latest/meta-data/ami-id`]);
    const log = await tb!.mock.requests();
    expect(log.map((r) => r.remoteAddress)).toEqual([tb!.layout.host.v4, tb!.layout.host.v6]);
    expect(log.map((r) => r.localAddress)).toEqual([tb!.layout.imds.v4, tb!.layout.imds.v6]);
  });

  it('refuses IMDSv1 with 401 when tokens are required', async () => {
    await tb!.mock.setOptions({ httpTokens: 'required', hopLimit: 2 });
    try {
      expect(await curl('ctr', [`${IMDS.v4}/latest/meta-data/instance-id`])).toMatchObject({ code: 0, status: '401' });
    } finally {
      await tb!.mock.setOptions({ httpTokens: 'optional' });
    }
  });

  it('spawn() runs in the namespace with the command pid; destroy() kills it and removes every namespace', async () => {
    const second = await createTestbed({ prefix: `${prefix}b`, block: 78, mockScript: compiled!.script });
    const names = (['host', 'imds', 'ctr'] as const).map((w) => second.nsName(w));
    expect((await listNetns()).filter((n) => names.includes(n)).sort()).toEqual([...names].sort());
    const sleeper = second.spawn('ctr', ['sleep', '600'], { stdio: 'ignore' });
    await once(sleeper, 'spawn');
    // 'spawn' fires once `ip netns exec` runs, a moment before it has entered the namespace: wait for the pid to show there.
    await waitUntil(async () => (await netnsPids(second.nsName('ctr'))).includes(sleeper.pid as number), 5_000, 'the sleeper in the ctr namespace');
    const mockChild = second.mockProcess!;
    const sleeperGone = once(sleeper, 'exit');
    const mockGone = mockChild.exitCode === null ? once(mockChild, 'exit') : Promise.resolve();

    await second.destroy();
    await Promise.all([sleeperGone, mockGone]);
    expect((await listNetns()).filter((n) => names.includes(n))).toEqual([]);
    await second.destroy(); // idempotent
    expect(() => second.mock).toThrow(TestbedError);
  });

  it('cleans up after a failed build and throws TestbedError with one line', async () => {
    // The mock starts, then refuses the options: the child and all three namespaces must go.
    const failing = createTestbed({ prefix: `${prefix}c`, block: 79, mockScript: compiled!.script, mock: { hopLimit: 99 } });
    await expect(failing).rejects.toThrow(TestbedError);
    await expect(failing).rejects.toThrow(/^mock IMDS control PUT \/options: mock IMDS option hopLimit must be an integer 1\.\.64$/);
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}c`))).toEqual([]);
  });

  it('throws a one-line TestbedError when the mock script is missing, leaving nothing behind', async () => {
    const failing = createTestbed({ prefix: `${prefix}d`, block: 80, mockScript: '/nonexistent/mock-imds-main.js' });
    await expect(failing).rejects.toThrow(/^mock IMDS script not found at \/nonexistent\/mock-imds-main\.js$/);
    expect((await listNetns()).filter((n) => n.startsWith(`${prefix}d`))).toEqual([]);
  });

  it('refuses to reuse a prefix whose namespaces still exist', async () => {
    await expect(createTestbed({ prefix, mockScript: compiled!.script })).rejects.toThrow(/already exists/);
  });
});
