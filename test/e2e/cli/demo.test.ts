// `imds-sniff demo` as the README's first command runs it: real clients, the agent, teardown (also on Ctrl-C).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveAgentScript } from '../../../src/testbed/agent-process.js';
import { listNetns } from '../../../src/testbed/netns.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { scaledMs } from '../../../src/testbed/time-scale.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import type { OutputEvent, SummaryEvent } from '../../../src/contract/output-events.js';

const prereq = testbedPrerequisites();
const MAIN = resolveAgentScript();

/** tracefs instances left by an imds-sniff that is gone (the agent names them imds-sniff-<pid>-…; others may be running). */
function leftoverInstances(): string[] {
  // A private tracefs mount: /sys/kernel/tracing may not be mounted here.
  const dir = mkdtempSync(join(tmpdir(), 'imds-sniff-test-tracefs-'));
  execFileSync('mount', ['-t', 'tracefs', 'nodev', dir]);
  try {
    return readdirSync(join(dir, 'instances')).filter((n) => {
      const pid = /^imds-sniff-(\d+)-/.exec(n)?.[1];
      return pid !== undefined && !existsSync(`/proc/${pid}`);
    });
  } finally {
    execFileSync('umount', [dir]);
    rmdirSync(dir);
  }
}

describe.skipIf(!prereq.ok)(prereq.ok ? 'imds-sniff demo' : `imds-sniff demo (skipped: ${prereq.reason ?? ''})`, () => {
  it('runs the clients, reports each request, and leaves nothing behind', async () => {
    const r = spawnSync(process.execPath, [MAIN, 'demo', '--format', 'json'], { encoding: 'utf8', timeout: scaledMs(120_000) });
    expect(r.status, r.stderr).toBe(0);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as OutputEvent);
    const requests = events.filter((e): e is ImdsRequestEvent => e.event === 'imds_request' && !e.own);
    expect(requests.map((e) => `${e.comm}:${e.kind}:${e.status}`).sort()).toEqual(
      [
        'curl:v1:200', // host IMDSv1
        'curl:v2_token:200', 'curl:v2_get:200', // the shell script's two curls
        'node:v2_token:200', 'node:v2_get:200', 'node:v2_get:200', // SDK on the host
        'curl:v1:200', // IPv6
        'curl:v1:200', // container
        'node:v2_token:200', 'node:v1:200', 'node:v1:200', // SDK in the container: hop limit, then IMDSv1
      ].sort(),
    );
    expect(requests.filter((e) => e.hop_limit_exceeded).map((e) => e.comm)).toEqual(['node']);
    const summary = events.find((e): e is SummaryEvent => e.event === 'summary');
    expect(summary?.verdict.safe_to_require_imdsv2).toBe(false);
    expect(summary?.own_requests).toBe(2);
    expect(r.stderr).toContain('demo: done');
    expect((await listNetns()).filter((n) => n.startsWith('imdsdemo'))).toEqual([]);
    expect(leftoverInstances()).toEqual([]);
  });

  it('tears everything down on Ctrl-C and exits 130', async () => {
    const child = spawn(process.execPath, [MAIN, 'demo'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('demo: ran curl IMDSv1 (host)')) resolve();
      });
      child.on('exit', () => reject(new Error(`demo exited early: ${stderr}`)));
    });
    child.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code, stderr).toBe(130);
    expect(stderr).toContain('interrupted: tearing down');
    expect((await listNetns()).filter((n) => n.startsWith(`imdsdemo${child.pid}`))).toEqual([]);
    expect(leftoverInstances()).toEqual([]);
  });
});
