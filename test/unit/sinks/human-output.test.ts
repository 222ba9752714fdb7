// What people read (the table lines and the summary) when a process on the host chose hostile names:
// every control character arrives escaped, and no secret-shaped value arrives at all.

import { describe, expect, it } from 'vitest';
import { unknownProcess, type ProcessInfo } from '../../../src/attribute/types.js';
import type { HttpExchange } from '../../../src/http/exchange-tracker.js';
import { buildRequestEvent } from '../../../src/pipeline/events.js';
import { Aggregator } from '../../../src/summary/aggregator.js';
import { renderSummary } from '../../../src/summary/summary-text.js';
import { formatRequestLine } from '../../../src/sinks/table.js';
import type { SummaryEvent } from '../../../src/contract/output-events.js';

const TOKEN = 'AQAEAHostileProcToken0123456789abcdefghijklmnopqrstu==';
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function exchange(userAgent: string | null, path: string): HttpExchange {
  const conn = { id: 1, family: 4 as const, client: { ip: '10.0.0.2', port: 40000 }, server: { ip: '169.254.169.254', port: 80 }, views: [{ ip: '10.0.0.2', port: 40000 }], openedUs: 0, lastSeenUs: 0, clientIsn: 1 };
  return {
    conn,
    index: 1,
    request: { method: 'GET', path, httpVersion: '1.1', hasToken: false, tokenTtlSeconds: null, userAgent, forwarded: false },
    requestUs: 1_700_000_000_000_000,
    status: 200,
    responseUs: 1_700_000_000_001_000,
    responseTtl: 64,
  };
}

const hostile: ProcessInfo = {
  ...unknownProcess(),
  pid: 4242,
  ppid: 1,
  comm: 'ev\u001b[31mil\u009b',
  exe: '/tmp/\u001b]0;pwned\u0007/run\nverdict: safe',
  cmdline: ['/tmp/run', '--header', `X-aws-ec2-metadata-token: ${TOKEN}`, 'x\u001b[2J\u202etxt.exe', `plain-${TOKEN}`],
  uid: 1000,
  user: 'us\u001b[1mer',
  ancestors: [{ pid: 1, comm: 'init\u0007' }],
  attribution: 'tracefs',
};

describe('human output of hostile names', () => {
  const event = buildRequestEvent(exchange('curl\u001b[31m', '/latest/\u001b[31m'), hostile, { kind: 'v1', probeCloud: null, forwarded: false, hopLimitExceeded: false, own: false });
  const aggregator = new Aggregator();
  aggregator.add(event);
  const summary: SummaryEvent = {
    event: 'summary', time: event.time, host: { hostname: 'h\u001b[5m', os: 'Linux', kernel: '6.1', instance_id: null }, interface: 'any', file: null,
    started: event.time, duration_s: 1, attribution_method: 'tracefs', requests: 1, own_requests: 0, processes: aggregator.processes(), verdict: aggregator.verdict(),
    capture: { frames: 1, connections: 1, mid_stream_connections: 0, kernel_drops: 0, dropped: {}, not_evidence: null },
  };
  const line = formatRequestLine(event);
  const text = renderSummary(summary);

  it('puts no control character on the terminal', () => {
    expect(line).not.toMatch(CONTROL);
    expect(text.split('\n').every((l) => !CONTROL.test(l))).toBe(true);
  });

  it('shows where the controls were, so the operator sees what the process did', () => {
    // Names from /proc are made printable ASCII in the event itself ('?'); what is left is escaped here.
    expect(line).toContain('ev?[31mil?[4242]');
    expect(text).toContain('/tmp/?]0;pwned?/run?verdict: safe');
    expect(text).toContain('x?[2J?txt.exe');
  });

  it('lets no line be forged: the fake verdict stays inside its field', () => {
    expect(text.split('\n').filter((l) => l.startsWith('verdict:'))).toEqual([expect.stringMatching(/^verdict: not safe/)]);
  });

  it('prints no token, whether argv framed it as a header or not', () => {
    expect(JSON.stringify(event)).not.toContain(TOKEN.slice(4, 24));
    expect(text).not.toContain(TOKEN.slice(4, 24));
  });
});

describe('formatRequestLine: containers', () => {
  const c = '41e499c7cbf3178feccc4d73fa585fbc0f9dbfccbb0e1139b8f19254be5e31fd';
  const base = buildRequestEvent(exchange('curl/7.88.1', '/latest/meta-data/'), { ...unknownProcess(), pid: 13036, comm: 'curl', attribution: 'tracefs' }, { kind: 'v1', probeCloud: null, forwarded: false, hopLimitExceeded: false, own: false });
  it.each([
    ['container id and in-container pid', { container_id: c, container_pid: 1 }, 'curl[13036] container=41e499c7cbf3 container_pid=1  10.0.0.2:40000'],
    ['host process: neither', {}, 'curl[13036]  10.0.0.2:40000'],
  ])('%s', (_name, over, expected) => {
    expect(formatRequestLine({ ...base, ...over })).toContain(expected);
  });
});

describe('renderSummary: the attribution health lines', () => {
  const aggregator = new Aggregator();
  const base: SummaryEvent = {
    event: 'summary', time: '2026-12-05T00:00:00.000Z', host: { hostname: 'h', os: 'Linux', kernel: '5.10', instance_id: null }, interface: 'any', file: null,
    started: '2026-12-05T00:00:00.000Z', duration_s: 1, attribution_method: 'tracefs', attribution_counts: { exited: 9, unknown: 1 }, requests: 10, own_requests: 0,
    processes: aggregator.processes(), verdict: aggregator.verdict(),
    capture: { frames: 1, connections: 10, mid_stream_connections: 0, kernel_drops: 0, dropped: {}, not_evidence: null },
  };
  const healthy = { trace_events: 400, trace_lost_events: 0, connects_traced: 10, lookups_timed_out: 0, trace_reader_restarts: 0 };

  it('says nothing more when the trace lost nothing and no lookup timed out or failed', () => {
    const text = renderSummary({ ...base, attribution_trace: healthy });
    expect(text).toContain('attribution: tracefs (connections: 9 exited, 1 unknown)');
    expect(text).not.toMatch(/trace lost|lookups/);
  });

  it('explains an unknown by lost trace events and timed-out lookups', () => {
    const text = renderSummary({ ...base, attribution_trace: { ...healthy, trace_lost_events: 12, lookups_timed_out: 1 } });
    expect(text).toContain('trace lost 12 of 412 events; 1 lookups timed out');
  });

  it('says when a trace reader had to be restarted', () => {
    const text = renderSummary({ ...base, attribution_trace: { ...healthy, trace_reader_restarts: 2 } });
    expect(text).toContain('trace lost 0 of 400 events; 0 lookups timed out; 2 trace readers restarted');
  });

  it('names the first failed lookup, escaped', () => {
    const text = renderSummary({ ...base, attribution_errors: { count: 2, first: 'EACCES /proc/9/stat\u001b[2J' } });
    expect(text).toContain('2 lookups failed (first: EACCES /proc/9/stat\\x1b[2J)');
  });
});

describe('a process seen at many requests (one /proc snapshot, 100 connects a second)', () => {
  const facts = { kind: 'v1' as const, probeCloud: null, forwarded: false, hopLimitExceeded: false, own: false };

  it('has its cmdline redacted and ancestors sanitized once, and every event still shows no secret', () => {
    const first = buildRequestEvent(exchange('curl', '/latest/meta-data/'), hostile, facts);
    const again = buildRequestEvent(exchange('curl', '/latest/meta-data/'), { ...hostile }, facts);
    expect(again.cmdline).toBe(first.cmdline); // the same snapshot's arrays: made once
    expect(again.ancestors).toBe(first.ancestors);
    for (const e of [first, again]) expect(JSON.stringify(e)).not.toContain(TOKEN);
    expect(first.cmdline).toContain('X-aws-ec2-metadata-token: [redacted]');
  });

  it('a new snapshot (another array) is redacted afresh', () => {
    const first = buildRequestEvent(exchange('curl', '/'), hostile, facts);
    const other = buildRequestEvent(exchange('curl', '/'), { ...hostile, cmdline: ['/usr/bin/curl', `-Htoken=${TOKEN}`] }, facts);
    expect(other.cmdline).not.toBe(first.cmdline);
    expect(JSON.stringify(other.cmdline)).not.toContain(TOKEN);
  });
});
