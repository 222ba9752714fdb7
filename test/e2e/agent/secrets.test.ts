// The secrets canary: a planted token and planted credentials cross the whole pipeline and appear in no output.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AgentProcess } from '../../../src/testbed/agent-process.js';
import { curlToken, curlV1, curlWithToken, nodeWithTokenOnCmdline, sdkCredentials } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';

const prereq = testbedPrerequisites();
const title = prereq.ok ? 'secrets canary' : `secrets canary (skipped: ${prereq.reason ?? ''})`;
const prefix = `imdssk${randomBytes(3).toString('hex')}`;

const CANARY = {
  token: `AQAEACANARYTOKEN${randomBytes(12).toString('hex')}==`,
  accessKeyId: `ASIACANARY${randomBytes(5).toString('hex').toUpperCase()}`,
  secretAccessKey: `canarySecret/${randomBytes(14).toString('base64url')}`,
  sessionToken: `IQoJcanarySession${randomBytes(16).toString('hex')}`,
};
const SECRETS = [CANARY.token, CANARY.accessKeyId, CANARY.secretAccessKey, CANARY.sessionToken];

describe.skipIf(!prereq.ok)(title, () => {
  let tb: Testbed;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'imds-sniff-canary-'));
    tb = await createTestbed({
      prefix,
      block: 32,
      mock: {
        fixedToken: CANARY.token,
        credentials: { accessKeyId: CANARY.accessKeyId, secretAccessKey: CANARY.secretAccessKey, token: CANARY.sessionToken, expiration: null },
      },
    });
  });

  afterAll(async () => {
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  /** Every way a secret crosses the wire: token answers, token headers (also on a cmdline), credential bodies. */
  async function workload(): Promise<number> {
    const put = await curlToken(tb, 'host');
    expect(put.stdout).toBe(CANARY.token); // the canary really went over the wire
    await curlWithToken(tb, 'host', put.stdout, '/latest/meta-data/iam/security-credentials/imds-sniff-test-role');
    const v1 = await curlV1(tb, 'host', '/latest/meta-data/iam/security-credentials/imds-sniff-test-role');
    expect(v1.stdout).toBe('200');
    const cmdline = await nodeWithTokenOnCmdline(tb, 'host', CANARY.token);
    expect(cmdline.stdout).toBe('200');
    const sdk = await sdkCredentials(tb, 'host');
    expect(JSON.parse(sdk.stdout)).toMatchObject({ ok: true });
    return 1 + 1 + 1 + 1 + 3;
  }

  function expectNoSecret(text: string): void {
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  }

  it('prints no token or credential in JSON output, stderr or the summary', async () => {
    const agent = await AgentProcess.start(tb.nsName('host'), []);
    const expected = await workload();
    await agent.waitForRequests(expected, 10_000, (e) => !e.own);
    const exit = await agent.stop();
    // the run saw what it had to see, including the cmdline it redacted
    const withCmdline = agent.requests.find((e) => e.comm === 'node' && e.cmdline?.some((a) => a.includes('X-aws-ec2-metadata-token')));
    expect(withCmdline?.cmdline).toContain('X-aws-ec2-metadata-token: [redacted]');
    expect(exit.summary?.requests).toBe(expected);
    // The agent's own identity lookup (IMDSv2) is marked as its own and not counted.
    const own = agent.requests.filter((e) => e.own);
    expect(own.map((e) => [e.kind, e.status, e.pid])).toEqual([
      ['v2_token', 200, agent.child.pid],
      ['v2_get', 200, agent.child.pid],
    ]);
    expect(exit.summary?.own_requests).toBe(2);
    expect(exit.summary?.host.instance_id).toBe('i-0123456789abcdef0');
    expectNoSecret(JSON.stringify(agent.events));
    expectNoSecret(exit.stderr);
  });

  it('writes no token or credential to an --output file in table format', async () => {
    const out = join(dir, 'table.txt');
    const agent = await AgentProcess.start(tb.nsName('host'), ['--output', out, '--format', 'table']);
    const expected = await workload();
    // The live lines go to the file: wait until all of them are there (the agent's own 2 included), then stop.
    await vi.waitFor(() => expect(readFileSync(out, 'utf8').split('\n').filter((l) => /^\d\d:\d\d:/.test(l))).toHaveLength(expected + 2), { timeout: 10_000, interval: 50 });
    const exit = await agent.stop();
    const text = readFileSync(out, 'utf8');
    expect(text).toContain('== imds-sniff summary ==');
    expect(text.match(/v2-token/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(text).toContain(`requests:    ${expected}`);
    expectNoSecret(text);
    expectNoSecret(exit.stderr);
    // and nothing else was left behind by the agent in the temp dir
    expect(readdirSync(dir)).toEqual(['table.txt']);
  });
});
