// The agent end to end: real clients in namespaces, the built CLI capturing in the testbed's host namespace.

import { randomBytes } from 'node:crypto';
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AgentProcess } from '../../../src/testbed/agent-process.js';
import { curlToken, curlV1, curlWithToken, IMDS_V6, nodeWithTokenOnCmdline, runClient, sdkCredentials, type ClientRun } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import { scaledMs } from '../../../src/testbed/time-scale.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { agentSuite } from '../../helpers/agent-suite.js';

const prereq = testbedPrerequisites();
const title = prereq.ok ? 'agent end to end' : `agent end to end (skipped: ${prereq.reason ?? ''})`;
const prefix = `imdssa${randomBytes(3).toString('hex')}`;
const WAIT_MS = scaledMs(10_000);

/** The request events of one client process, in order. */
function of(agent: AgentProcess, run: ClientRun): ImdsRequestEvent[] {
  return agent.requests.filter((e) => e.pid === run.pid);
}

const brief = (e: ImdsRequestEvent) => [e.kind, e.status, e.comm];

describe.skipIf(!prereq.ok)(title, () => {
  const suite = agentSuite({ prefix, block: 31 }, (tb) => tb.mock.setOptions({ httpTokens: 'optional', hopLimit: 1, refuseTokenPut: null, fixedToken: null }));

  it('attributes IMDSv1 from curl on the host and exits 3 with the process named', async () => {
    const a = await suite.startAgent();
    const run = await curlV1(suite.tb, 'host');
    expect(run.stdout).toBe('200');
    await a.waitForRequests(1, WAIT_MS, (e) => e.pid === run.pid);
    expect(of(a, run).map(brief)).toEqual([['v1', 200, 'curl']]);
    const event = of(a, run)[0];
    expect(event, JSON.stringify(event)).toMatchObject({ method: 'GET', path: '/latest/meta-data/instance-id', exe: '/usr/bin/curl', dst_ip: '169.254.169.254', dst_port: 80 });
    // curl may exit before /proc is read: then pid, comm and exe come from the trace and it says so.
    expect(['tracefs', 'exited']).toContain(event?.attribution);
    if (event?.attribution === 'tracefs') expect(event, JSON.stringify(event)).toMatchObject({ uid: 0, user: 'root', cmdline: expect.arrayContaining(['curl']) });
    const exit = await a.stop();
    expect(exit.code).toBe(3);
    expect(exit.summary?.verdict).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: ['curl'] });
    // The trace reader's own health is in the summary: it read the connect, lost nothing.
    expect(exit.summary?.attribution_trace).toMatchObject({ trace_lost_events: 0, lookups_timed_out: 0 });
    expect(exit.summary?.attribution_trace?.connects_traced).toBeGreaterThanOrEqual(1);
    expect(exit.summary?.capture.mid_stream_connections).toBe(0);
    expect(exit.summary?.attribution_errors).toBeUndefined();
    // The summary says how each connection's process was found: here by the trace, none unknown.
    const counts = exit.summary?.attribution_counts ?? {};
    expect((counts.tracefs ?? 0) + (counts.exited ?? 0)).toBe(1);
    expect(counts.unknown).toBeUndefined();
  });

  it("counts curl sending imds-sniff's User-Agent as an IMDSv1 caller: the header alone does not make a request own", async () => {
    const a = await suite.startAgent();
    const run = await runClient(suite.tb, 'host', ['curl', '-sS', '--max-time', '3', '-A', 'imds-sniff-own/1', '-o', '/dev/null', '-w', '%{http_code} %{local_port}', 'http://169.254.169.254/latest/meta-data/instance-id']);
    const [status, port] = run.stdout.split(' ');
    expect(status).toBe('200');
    await a.waitForRequests(1, WAIT_MS, (e) => e.src_port === Number(port));
    const events = a.requests.filter((e) => e.src_port === Number(port));
    expect(events.map((e) => [e.kind, e.status, e.pid, e.comm, e.user_agent, e.own])).toEqual([['v1', 200, run.pid, 'curl', 'imds-sniff-own/1', false]]);
    const exit = await a.stop();
    expect(exit.code).toBe(3);
    expect(exit.summary?.own_requests).toBe(0);
    expect(exit.summary?.verdict).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: ['curl'] });
  });

  it('classifies curl IMDSv2 (token PUT, token GET) and exits 0', async () => {
    const a = await suite.startAgent();
    const put = await curlToken(suite.tb, 'host');
    const get = await curlWithToken(suite.tb, 'host', put.stdout);
    await a.waitForRequests(2, WAIT_MS, (e) => e.pid === put.pid || e.pid === get.pid);
    expect(of(a, put).map(brief)).toEqual([['v2_token', 200, 'curl']]);
    expect(of(a, get).map(brief)).toEqual([['v2_get', 200, 'curl']]);
    const exit = await a.stop();
    expect(exit.code).toBe(0);
    expect(exit.summary?.verdict.safe_to_require_imdsv2).toBe(true);
  });

  it('records 401 for IMDSv1 when the instance requires tokens', async () => {
    await suite.tb.mock.setOptions({ httpTokens: 'required' });
    const a = await suite.startAgent();
    const v1 = await curlV1(suite.tb, 'host');
    const put = await curlToken(suite.tb, 'host');
    const v2 = await curlWithToken(suite.tb, 'host', put.stdout);
    const sdk = await sdkCredentials(suite.tb, 'host');
    expect(JSON.parse(sdk.stdout)).toMatchObject({ ok: true });
    await a.waitForRequests(6, WAIT_MS, (e) => [v1.pid, put.pid, v2.pid, sdk.pid].includes(e.pid ?? -1));
    expect([...of(a, v1), ...of(a, put), ...of(a, v2), ...of(a, sdk)].map(brief)).toEqual([
      ['v1', 401, 'curl'],
      ['v2_token', 200, 'curl'],
      ['v2_get', 200, 'curl'],
      ['v2_token', 200, 'node'],
      ['v2_get', 200, 'node'],
      ['v2_get', 200, 'node'],
    ]);
    const exit = await a.stop();
    expect(exit.summary?.processes.find((p) => p.name === 'curl')).toMatchObject({ v1: 1, v1_rejected: 1 });
  });

  it('captures IMDS over IPv6 (fd00:ec2::254)', async () => {
    const a = await suite.startAgent();
    const v1 = await curlV1(suite.tb, 'host', '/latest/meta-data/ami-id', IMDS_V6);
    const put = await curlToken(suite.tb, 'host', IMDS_V6);
    const v2 = await curlWithToken(suite.tb, 'host', put.stdout, '/latest/meta-data/ami-id', IMDS_V6);
    await a.waitForRequests(3, WAIT_MS, (e) => [v1.pid, put.pid, v2.pid].includes(e.pid ?? -1));
    expect([...of(a, v1), ...of(a, put), ...of(a, v2)].map((e) => [e.kind, e.status, e.comm, e.dst_ip])).toEqual([
      ['v1', 200, 'curl', 'fd00:ec2::254'],
      ['v2_token', 200, 'curl', 'fd00:ec2::254'],
      ['v2_get', 200, 'curl', 'fd00:ec2::254'],
    ]);
  });

  it('reports a container request once, with the pre-NAT address and the process inside', async () => {
    const a = await suite.startAgent();
    const run = await curlV1(suite.tb, 'ctr');
    // A process that lives on in the container: its network namespace is read from /proc.
    const longLived = await nodeWithTokenOnCmdline(suite.tb, 'ctr', 'not-a-token', '/latest/meta-data/ami-id');
    await a.waitForRequests(2, WAIT_MS, (e) => e.pid === run.pid || e.pid === longLived.pid);
    await a.stop();
    const events = a.requests.filter((e) => e.path === '/latest/meta-data/instance-id');
    expect(events).toHaveLength(1);
    expect(events.map(brief)).toEqual([['v1', 200, 'curl']]);
    expect(events[0]).toMatchObject({ pid: run.pid, src_ip: suite.tb.layout.ctr.v4, forwarded: true });
    expect(events[0]?.nat_src).toEqual([expect.stringMatching(new RegExp(`^${suite.tb.layout.host.v4.replace(/\./g, '\\.')}:\\d+$`))]);
    expect(of(a, longLived)).toHaveLength(1);
    expect(of(a, longLived)[0]).toMatchObject({
      kind: 'v2_get', status: 401, comm: 'node', attribution: 'tracefs', src_ip: suite.tb.layout.ctr.v4,
      netns: statSync(`/run/netns/${suite.tb.nsName('ctr')}`).ino,
    });
  });

  it('reports an IPv6 request from the container once (NAT66), with the container address', async () => {
    const a = await suite.startAgent();
    const run = await curlV1(suite.tb, 'ctr', '/latest/meta-data/mac', IMDS_V6);
    expect(run.stdout).toBe('200');
    await a.waitForRequests(1, WAIT_MS, (e) => e.pid === run.pid);
    await a.stop();
    const events = a.requests.filter((e) => e.path === '/latest/meta-data/mac');
    expect(events.map((e) => [e.kind, e.status, e.comm, e.pid, e.src_ip, e.src_port, e.dst_ip])).toEqual([
      ['v1', 200, 'curl', run.pid, suite.tb.layout.ctr.v6, run.localPort, 'fd00:ec2::254'],
    ]);
    expect(events[0]?.nat_src).toEqual([expect.stringMatching(new RegExp(`^\\[${suite.tb.layout.host.v6}\\]:\\d+$`))]);
  });

  it('stops by itself at the end of --duration, and on SIGTERM, with a summary', async () => {
    const timed = await AgentProcess.start(suite.tb.nsName('host'), ['--no-identity', '--duration', '2s']);
    const run = await curlV1(suite.tb, 'host');
    const exit = await timed.stop(15_000, 'none');
    expect(exit.code).toBe(3);
    expect(exit.summary?.duration_s).toBeGreaterThanOrEqual(1.9);
    expect(exit.summary?.duration_s).toBeLessThan(5);
    expect(timed.requests.map((e) => e.pid)).toContain(run.pid);
    const termed = await AgentProcess.start(suite.tb.nsName('host'), ['--no-identity']);
    const termExit = await termed.stop(15_000, 'SIGTERM');
    expect(termExit.code).toBe(0);
    expect(termExit.summary?.verdict.safe_to_require_imdsv2).toBe(true);
  });

  it('follows the AWS SDK for JavaScript (IMDSv2: token PUT, role, credentials)', async () => {
    const a = await suite.startAgent();
    const run = await sdkCredentials(suite.tb, 'host');
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
    await a.waitForRequests(3, WAIT_MS, (e) => e.pid === run.pid);
    expect(of(a, run).map((e) => [e.kind, e.status, e.comm, e.path])).toEqual([
      ['v2_token', 200, 'node', '/latest/api/token'],
      ['v2_get', 200, 'node', '/latest/meta-data/iam/security-credentials/'],
      ['v2_get', 200, 'node', '/latest/meta-data/iam/security-credentials/imds-sniff-test-role'],
    ]);
  });

  it('sees the SDK fall back to IMDSv1 when the token PUT is refused', async () => {
    await suite.tb.mock.setOptions({ refuseTokenPut: 403 });
    const a = await suite.startAgent();
    const run = await sdkCredentials(suite.tb, 'host');
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true });
    await a.waitForRequests(3, WAIT_MS, (e) => e.pid === run.pid);
    expect(of(a, run).map(brief)).toEqual([
      ['v2_token', 403, 'node'],
      ['v1', 200, 'node'],
      ['v1', 200, 'node'],
    ]);
    const exit = await a.stop();
    expect(exit.code).toBe(3);
  });

  it('detects the container hop-limit failure and says how to fix it', async () => {
    const a = await suite.startAgent();
    const put = await curlToken(suite.tb, 'ctr', undefined, 2);
    expect(put.code).not.toBe(0); // the answer never reached the container
    await a.waitForRequests(1, WAIT_MS, (e) => e.pid === put.pid);
    const exit = await a.stop();
    const events = of(a, put);
    expect(events.map(brief)).toEqual([['v2_token', 200, 'curl']]);
    expect(events[0]).toMatchObject({ forwarded: true, response_ttl: 1, hop_limit_exceeded: true });
    expect(exit.summary?.verdict.hop_limit_processes).toEqual([expect.stringMatching(/^curl/)]);
    expect(exit.summary?.verdict.safe_to_require_imdsv2).toBe(false);
    expect(exit.code).toBe(3);
    expect(exit.summary?.verdict.fixes.join(' ')).toContain('HttpPutResponseHopLimit to 2');
  });

  it('does not flag the hop limit once it is 2', async () => {
    await suite.tb.mock.setOptions({ hopLimit: 2 });
    const a = await suite.startAgent();
    const put = await curlToken(suite.tb, 'ctr');
    expect(put.code).toBe(0);
    await a.waitForRequests(1, WAIT_MS, (e) => e.pid === put.pid);
    expect(of(a, put)[0]).toMatchObject({ kind: 'v2_token', status: 200, response_ttl: 2, hop_limit_exceeded: false });
  });

  it('counts each request of a keep-alive poller once', async () => {
    const a = await suite.startAgent();
    const script = `
      const http = require('node:http');
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      let n = 0;
      const next = () => http.get({ host: '169.254.169.254', path: '/latest/meta-data/instance-id', agent }, (res) => {
        res.resume();
        res.on('end', () => (++n < 20 ? next() : agent.destroy()));
      });
      next();`;
    const run = await runClient(suite.tb, 'host', [process.execPath, '-e', script]);
    await a.waitForRequests(20, WAIT_MS, (e) => e.pid === run.pid);
    await a.stop();
    const events = of(a, run);
    expect(events).toHaveLength(20);
    expect(new Set(events.map((e) => e.connection)).size).toBe(1);
    expect(events.map((e) => e.request_index)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(events.every((e) => e.kind === 'v1' && e.status === 200 && e.comm === 'node')).toBe(true);
    // A process that lives on is described in full from /proc.
    expect(events[0]).toMatchObject({ attribution: 'tracefs', exe: process.execPath, uid: 0, user: 'root', container_id: null });
    expect(events[0]?.cmdline?.slice(0, 2)).toEqual([process.execPath, '-e']);
    expect(events[0]?.ancestors.at(-1)).toMatchObject({ pid: 1 });
    expect(events[0]?.netns).toBe(statSync(`/run/netns/${suite.tb.nsName('host')}`).ino);
  });
});
