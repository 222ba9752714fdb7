// Requests whose head (or body) arrives in several TCP segments: each is reported once, classified and attributed.
// The capture hands frames over in one reused buffer; a head held across segments once vanished (commit d34b5ab).

import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RequestKind } from '../../../src/classify/classify.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { AgentProcess } from '../../../src/testbed/agent-process.js';
import { splitRequests, type SplitRun } from '../../../src/testbed/clients.js';
import { testbedPrerequisites } from '../../../src/testbed/prerequisites.js';
import type { SplitRequest } from '../../../src/testbed/split-client.js';
import type { TestbedNamespace } from '../../../src/testbed/testbed-layout.js';
import { createTestbed, destroyStaleTestbeds, type Testbed } from '../../../src/testbed/testbed.js';

const prereq = testbedPrerequisites();
const title = prereq.ok ? 'split requests end to end' : `split requests end to end (skipped: ${prereq.reason ?? ''})`;
const prefix = `imdssp${randomBytes(3).toString('hex')}`;
const WAIT_MS = 10_000;
const IMDS = { v4: '169.254.169.254', v6: 'fd00:ec2::254' } as const;
const TOKEN_HEADER = 'X-aws-ec2-metadata-token: ';

/** One client process: one connection, its requests in order, and the kind each must be reported as. */
interface Scenario {
  name: string;
  requests: SplitRequest[];
  kinds: RequestKind[];
}

/** The split points, for one address family (the Host value differs: `169.254.169.254` or `[fd00:ec2::254]`). */
function scenarios(family: 'v4' | 'v6'): Scenario[] {
  const inHost = { after: family === 'v4' ? 'Host: 169.' : 'Host: [fd00:' };
  const inRequestLine = { after: 'GET /latest/me' };
  const requestLineCrLf = { after: 'HTTP/1.1\r' };
  const headEndCrLf = { after: '\r\n\r' }; // the blank line's LF arrives alone
  const inHeaderName = { after: 'User-Ag' };
  const v1 = (splitAt: SplitRequest['splitAt']): SplitRequest => ({ method: 'GET', path: '/latest/meta-data/instance-id', splitAt });
  const put = (splitAt: SplitRequest['splitAt'], body?: string): SplitRequest => ({
    method: 'PUT', path: '/latest/api/token', tokenTtlSeconds: 21600, splitAt, ...(body === undefined ? {} : { body }),
  });
  const v2 = (splitAt: SplitRequest['splitAt']): SplitRequest => ({ method: 'GET', path: '/latest/meta-data/ami-id', withToken: true, splitAt });
  return [
    { name: 'v1, cut inside the request line', requests: [v1([inRequestLine])], kinds: ['v1'] },
    { name: 'v1, cut inside the Host value', requests: [v1([inHost])], kinds: ['v1'] },
    { name: 'v1, cut between CR and LF (request line, blank line)', requests: [v1([requestLineCrLf, headEndCrLf])], kinds: ['v1'] },
    { name: 'v1, cut inside a header name', requests: [v1([inHeaderName])], kinds: ['v1'] },
    { name: 'v1, cut at all of those points', requests: [v1([inRequestLine, requestLineCrLf, inHost, inHeaderName, headEndCrLf])], kinds: ['v1'] },
    {
      name: 'token PUT cut inside the TTL header name, then a GET cut twice inside the token value',
      requests: [put([{ after: 'X-aws-ec2-metadata-tok' }, { after: '21600\r' }]), v2([{ after: TOKEN_HEADER, plus: 1 }, { after: TOKEN_HEADER, plus: 28 }])],
      kinds: ['v2_token', 'v2_get'],
    },
    {
      name: 'token PUT with a body cut at its start and inside it, then a GET on the same connection',
      requests: [put([{ after: '\r\n\r\n' }, { after: '\r\n\r\n', plus: 5 }], 'split-body-0123456789'), v2([inRequestLine])],
      kinds: ['v2_token', 'v2_get'],
    },
    {
      name: 'keep-alive: four requests on one connection, each cut',
      requests: [v1([inHost]), put([{ after: 'X-aws-ec2-metadata-token-ttl-sec' }]), v2([{ after: TOKEN_HEADER, plus: 20 }]), v1([requestLineCrLf, headEndCrLf])],
      kinds: ['v1', 'v2_token', 'v2_get', 'v1'],
    },
  ];
}

const LOCATIONS: ReadonlyArray<[string, TestbedNamespace, 'v4' | 'v6']> = [
  ['the host over IPv4', 'host', 'v4'],
  ['the host over IPv6', 'host', 'v6'],
  ['the container (NAT) over IPv4', 'ctr', 'v4'],
  ['the container (NAT66) over IPv6', 'ctr', 'v6'],
];

describe.skipIf(!prereq.ok)(title, () => {
  let tb: Testbed;
  let agent: AgentProcess | null = null;

  beforeAll(async () => {
    // Hop limit 2: token answers must reach the container too (the hop-limit failure is tested elsewhere).
    tb = await createTestbed({ prefix, block: 36, mock: { hopLimit: 2 } });
  });

  afterEach(async () => {
    await agent?.stop();
    agent = null;
  });

  afterAll(async () => {
    await agent?.stop();
    await tb?.destroy();
    await destroyStaleTestbeds(prefix);
  });

  it.each(LOCATIONS)('reports each split request from %s once, with its kind, status and process', async (_where, ns, family) => {
    const a = await AgentProcess.start(tb.nsName('host'), ['--no-identity']);
    agent = a;
    expect(a.startEvent?.attribution_method).toBe('tracefs');
    const plan = scenarios(family);
    const runs: SplitRun[] = [];
    for (const scenario of plan) {
      const run = await splitRequests(tb, ns, { host: IMDS[family], requests: scenario.requests });
      expect(run.result.error, `${scenario.name}: the client failed`).toBeNull();
      expect(run.code).toBe(0);
      // The client really wrote each request in the pieces asked for, and every answer was 200.
      expect(run.result.pieces).toEqual(scenario.requests.map((r) => (r.splitAt?.length ?? 0) + 1));
      expect(run.statuses).toEqual(scenario.kinds.map(() => 200));
      runs.push(run);
    }
    const total = plan.reduce((n, s) => n + s.kinds.length, 0);
    // A client's own address and port (the agent reports the pre-NAT view) name its connection.
    const ofRun = (run: SplitRun) => (e: ImdsRequestEvent): boolean => e.src_port === run.localPort && e.src_ip === run.result.localAddress;
    // On a timeout, go on: the per-client comparison below says which request is missing.
    const waited = await a.waitForRequests(total, WAIT_MS, (e) => runs.some((run) => ofRun(run)(e))).then(() => null, (error: unknown) => error);
    const exit = await a.stop(); // flushes everything: a late duplicate would show below

    const container = ns === 'ctr';
    // Behind NAT each request is also seen with the host's address, and reported once with the container's.
    const natSrc = container ? [expect.stringContaining(family === 'v4' ? `${tb.layout.host.v4}:` : `[${tb.layout.host.v6}]:`)] : [];
    plan.forEach((scenario, i) => {
      const run = runs[i] as SplitRun;
      const events = a.requests.filter(ofRun(run));
      const methods = scenario.requests.map((r) => r.method);
      const paths = scenario.requests.map((r) => r.path);
      expect(
        events.map((e) => [e.kind, e.method, e.path, e.status, e.pid, e.comm, e.own, e.request_index, e.dst_ip, e.dst_port]),
        `${scenario.name}: ${JSON.stringify(events)}`,
      ).toEqual(scenario.kinds.map((kind, j) => [kind, methods[j], paths[j], 200, run.pid, 'node', false, j + 1, IMDS[family], 80]));
      expect(new Set(events.map((e) => e.connection)).size, scenario.name).toBe(1);
      for (const e of events) {
        expect(e, scenario.name).toMatchObject({ forwarded: container, hop_limit_exceeded: false, nat_src: natSrc });
        if (e.kind === 'v2_token') expect(e.token_ttl_seconds).toBe(21600);
      }
    });
    expect(waited).toBeNull();
    // Nothing else was reported, and the summary counts the same.
    expect(a.requests.filter((e) => !runs.some((run) => ofRun(run)(e)))).toEqual([]);
    const summary = exit.summary;
    expect(summary?.requests).toBe(total);
    expect(summary?.own_requests).toBe(0);
    const count = (kind: RequestKind): number => plan.reduce((n, s) => n + s.kinds.filter((k) => k === kind).length, 0);
    const counted = (field: 'v1' | 'v2_token' | 'v2_get' | 'other' | 'errors'): number => (summary?.processes ?? []).reduce((n, p) => n + p[field], 0);
    expect([counted('v1'), counted('v2_token'), counted('v2_get'), counted('other'), counted('errors')]).toEqual([count('v1'), count('v2_token'), count('v2_get'), 0, 0]);
    expect(summary?.processes.map((p) => p.comm)).toEqual(['node']);
    expect([...(summary?.processes[0]?.pids ?? [])].sort((x, y) => x - y)).toEqual(runs.map((r) => r.pid).sort((x, y) => x - y));
    expect(summary?.verdict).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: [expect.stringMatching(/^node/)] });
    expect(exit.code).toBe(3);
    // No request or answer was lost or misparsed on the way (http_request_*, http_response_without_request, …).
    const dropped = summary?.capture.dropped ?? {};
    expect(Object.keys(dropped).filter((reason) => reason.startsWith('http_')), JSON.stringify(dropped)).toEqual([]);
  });
});
