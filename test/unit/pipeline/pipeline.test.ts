import { describe, expect, it } from 'vitest';
import { OwnProgram } from '../../../src/attribute/own-program.js';
import { unknownProcess, type ProcessInfo, type SocketOwnerFinder } from '../../../src/attribute/types.js';
import { Pipeline, type PipelineOptions } from '../../../src/pipeline/pipeline.js';
import { Aggregator } from '../../../src/summary/aggregator.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { IMDS_ENDPOINTS } from '../../../src/capture/endpoints.js';
import { TcpFlag } from '../../../src/decode/segment.js';
import { conversation, sllFrame } from '../../helpers/packet-builder.js';
import { testPipelineOptions } from '../../helpers/pipeline-options.js';

const PUT = 'PUT /latest/api/token HTTP/1.1\r\nHost: 169.254.169.254\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n';
const TOKEN_ANSWER = 'HTTP/1.1 200 OK\r\nContent-Length: 56\r\nX-aws-ec2-metadata-token-ttl-seconds: 21600\r\n\r\n' + 'T'.repeat(56);
const V1 = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n';
const V2 = `GET /latest/meta-data/instance-id HTTP/1.1\r\nX-aws-ec2-metadata-token: ${'T'.repeat(56)}\r\n\r\n`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\ni-0123456789abcdef0';
const DENIED = 'HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n';
const OWN_UA_V1 = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nUser-Agent: imds-sniff-own/1\r\n\r\n';
const LOOKALIKE_V1 = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nUser-Agent: imds-sniff-own/10\r\n\r\n';

type Frames = Array<{ frame: Uint8Array; timestampUs: number }>;

/** A pipeline over Linux cooked frames, collecting its events; `over` changes a limit or two. */
function make(over: Partial<PipelineOptions> = {}): { pipeline: Pipeline; events: ImdsRequestEvent[] } {
  const events: ImdsRequestEvent[] = [];
  const pipeline = new Pipeline(testPipelineOptions((e) => events.push(e), { maxConnections: 100, ...over }));
  return { pipeline, events };
}

async function run(frames: Frames, localAddresses: Set<string> | null = null): Promise<{ events: ImdsRequestEvent[]; pipeline: Pipeline }> {
  const { pipeline, events } = make({ localAddresses });
  for (const f of frames) pipeline.handleFrame(f.frame, f.timestampUs);
  await pipeline.flush((frames.at(-1)?.timestampUs ?? 0) + 1);
  return { events, pipeline };
}

const brief = (e: ImdsRequestEvent) => [e.kind, e.method, e.path, e.status];

describe('Pipeline', () => {
  it('classifies an SDK-style session: token PUT then token GETs on one keep-alive connection', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41000, exchanges: [{ request: PUT, response: TOKEN_ANSWER }, { request: V2, response: OK }, { request: V2, response: OK }] });
    const { events } = await run(frames);
    expect(events.map(brief)).toEqual([
      ['v2_token', 'PUT', '/latest/api/token', 200],
      ['v2_get', 'GET', '/latest/meta-data/instance-id', 200],
      ['v2_get', 'GET', '/latest/meta-data/instance-id', 200],
    ]);
    expect(events.map((e) => e.request_index)).toEqual([1, 2, 3]);
    expect(events[0]).toMatchObject({ src_ip: '10.0.0.2', src_port: 41000, dst_ip: '169.254.169.254', dst_port: 80, token_ttl_seconds: 21600, attribution: 'none' });
  });

  it("counts a request with imds-sniff's User-Agent when the process cannot be attributed (offline)", async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41010, exchanges: [{ request: OWN_UA_V1, response: DENIED }] });
    const { events } = await run(frames);
    expect(events.map((e) => [e.kind, e.status, e.attribution, e.own])).toEqual([['v1', 401, 'none', false]]);
  });

  describe("imds-sniff's User-Agent is own only from the imds-sniff program", () => {
    const NODE = '/usr/local/lib/nodejs/bin/node';
    const MAIN = '/opt/imds-sniff/dist/src/main.js';
    const real: Record<string, string> = { [NODE]: NODE, [MAIN]: MAIN, '/usr/local/bin/imds-sniff': MAIN, '/usr/bin/curl': '/usr/bin/curl', '/tmp/copy.js': '/tmp/copy.js' };
    const ownProgram = new OwnProgram({ script: MAIN }, (file) => real[file] ?? null);
    const at = (pid: number, comm: string, exe: string, cmdline: string[]): ProcessInfo => ({ ...unknownProcess(), pid, ppid: 1, comm, exe, cmdline, attribution: 'tracefs' });
    /** The owner of each client port, as attribution would report it. */
    const owners = new Map<number, ProcessInfo>([
      [41020, at(700, 'node', NODE, ['node', '/usr/local/bin/imds-sniff', 'status'])],
      [41021, at(701, 'curl', '/usr/bin/curl', ['curl', '-A', 'imds-sniff-own/1', 'http://169.254.169.254/latest/meta-data/instance-id'])],
      [41022, at(702, 'node', NODE, ['node', '/tmp/copy.js'])],
      [41023, unknownProcess()],
      [41024, at(process.pid, 'node', NODE, ['node', MAIN, 'daemon'])],
    ]);
    const finder: SocketOwnerFinder = {
      method: 'tracefs',
      start: async () => {},
      find: async (key) => owners.get(key.srcPort) ?? unknownProcess(),
      close: async () => {},
    };

    it.each([
      ['the control CLI (node + imds-sniff through its symlink)', 41020, OWN_UA_V1, true],
      ['curl -A imds-sniff-own/1', 41021, OWN_UA_V1, false],
      ['node running another script', 41022, OWN_UA_V1, false],
      ['an owner that could not be found', 41023, OWN_UA_V1, false],
      ['the control CLI with another User-Agent', 41020, V1, false],
      ['the agent itself (its pid), any User-Agent', 41024, V1, true],
      ['a look-alike User-Agent from the control CLI', 41020, LOOKALIKE_V1, false],
    ])('%s → own %s', async (_name, cport, request, own) => {
      const { pipeline, events } = make({ finder, ownProgram });
      for (const f of conversation({ client: '10.0.0.2', cport, exchanges: [{ request, response: OK }] })) pipeline.handleFrame(f.frame, f.timestampUs);
      await pipeline.flush(Number.MAX_SAFE_INTEGER);
      expect(events.map((e) => [e.kind, e.src_port, e.own])).toEqual([['v1', cport, own]]);
    });

    it('a caller hiding behind the User-Agent is counted as an IMDSv1 caller', async () => {
      const { pipeline, events } = make({ finder, ownProgram });
      const frames = [
        ...conversation({ client: '10.0.0.2', cport: 41020, exchanges: [{ request: OWN_UA_V1, response: DENIED }] }),
        ...conversation({ client: '10.0.0.2', cport: 41021, exchanges: [{ request: OWN_UA_V1, response: OK }] }),
      ];
      for (const f of frames) pipeline.handleFrame(f.frame, f.timestampUs);
      await pipeline.flush(Number.MAX_SAFE_INTEGER);
      const aggregator = new Aggregator();
      for (const e of events) aggregator.add(e);
      expect(aggregator.ownRequests).toBe(1);
      expect(aggregator.verdict()).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: ['curl'] });
    });
  });

  it('a lookup that fails is an unknown event, counted with its reason; a connection without its SYN is counted as mid-stream', async () => {
    const finder: SocketOwnerFinder = {
      method: 'tracefs',
      start: async () => {},
      find: async (key, _timeout, hint) => {
        if (key.srcPort === 41031) throw new Error('EACCES: /proc/41031/stat');
        return { ...unknownProcess(), pid: key.srcPort, comm: hint?.midStream ? 'mid' : 'curl', attribution: 'tracefs' };
      },
      close: async () => {},
    };
    const { pipeline, events } = make({ finder });
    const failing = conversation({ client: '10.0.0.2', cport: 41031, exchanges: [{ request: V1, response: OK }] });
    // The SYN and SYN-ACK never captured: the capture began with the connection already open.
    const mid = conversation({ client: '10.0.0.2', cport: 41032, exchanges: [{ request: V1, response: OK }] }).slice(2);
    for (const f of [...failing, ...mid]) pipeline.handleFrame(f.frame, f.timestampUs);
    await pipeline.flush(Number.MAX_SAFE_INTEGER);
    expect(events.map((e) => [e.src_port, e.pid, e.comm, e.attribution])).toEqual([
      [41031, null, null, 'unknown'],
      [41032, 41032, 'mid', 'tracefs'],
    ]);
    expect(pipeline.stats).toMatchObject({ connections: 2, midStream: 1, lookupErrors: 1, firstLookupError: 'EACCES: /proc/41031/stat', attributed: { unknown: 1, tracefs: 1 } });
  });

  it("tells the finder how long ago the connection's SYN was captured (a lagging capture asks late)", async () => {
    const asked: Array<number | undefined> = [];
    const finder: SocketOwnerFinder = {
      method: 'tracefs',
      start: async () => {},
      find: async (_key, _timeout, hint) => {
        asked.push(hint?.capturedAgoMs);
        return unknownProcess();
      },
      close: async () => {},
    };
    const { pipeline } = make({ finder });
    const before = Date.now();
    // Frames stamped 3 s ago, as a capture 3 s behind hands them over.
    for (const f of conversation({ client: '10.0.0.2', cport: 41033, startUs: (before - 3_000) * 1000, exchanges: [{ request: V1, response: OK }] })) pipeline.handleFrame(f.frame, f.timestampUs);
    await pipeline.flush(Number.MAX_SAFE_INTEGER);
    expect(asked).toHaveLength(1);
    // The SYN is the first frame (startUs + 1 ms).
    expect(asked[0]).toBeGreaterThanOrEqual(2_999 - 1);
    expect(asked[0]).toBeLessThanOrEqual(2_999 + (Date.now() - before));
  });

  it('pairs pipelined requests with their answers in order', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41001, exchanges: [{ request: V1 + V2 + V1, response: OK + OK + DENIED }] });
    expect((await run(frames)).events.map(brief)).toEqual([
      ['v1', 'GET', '/latest/meta-data/instance-id', 200],
      ['v2_get', 'GET', '/latest/meta-data/instance-id', 200],
      ['v1', 'GET', '/latest/meta-data/instance-id', 401],
    ]);
  });

  it('counts each request once through retransmissions and reordering', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41002, exchanges: [{ request: V1, response: OK }, { request: V1, response: OK }] });
    // duplicate every data frame and swap the two requests' segments
    const dup = frames.flatMap((f) => [f, f]);
    const swapped = [...dup];
    [swapped[6], swapped[10]] = [swapped[10] as Frames[number], swapped[6] as Frames[number]];
    expect((await run(swapped)).events.map(brief)).toEqual([
      ['v1', 'GET', '/latest/meta-data/instance-id', 200],
      ['v1', 'GET', '/latest/meta-data/instance-id', 200],
    ]);
  });

  it('reports a request that got no answer with status null', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41003, exchanges: [{ request: PUT }] });
    expect((await run(frames)).events.map(brief)).toEqual([['v2_token', 'PUT', '/latest/api/token', null]]);
  });

  it('reports a container request seen before and after NAT once, with the pre-NAT client and the hop-limit failure', async () => {
    const inner = conversation({ client: '172.18.0.2', cport: 45000, isn: 777, exchanges: [{ request: PUT, response: TOKEN_ANSWER }], responseTtl: 1 });
    const outer = conversation({ client: '10.0.0.2', cport: 45000, isn: 777, exchanges: [{ request: PUT, response: TOKEN_ANSWER }], responseTtl: 1 });
    // Frames cross the bridge first, then the uplink; the TTL-1 answer dies at the bridge hop so only the uplink sees it.
    const frames: Frames = [];
    inner.forEach((f, i) => {
      const o = outer[i] as Frames[number];
      const fromServer = [1, 4, 6].includes(i);
      if (fromServer) frames.push(o);
      else frames.push(f, o);
    });
    const { events } = await run(frames, new Set(['10.0.0.2', '172.18.0.1']));
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'v2_token', status: 200, src_ip: '172.18.0.2', src_port: 45000, nat_src: ['10.0.0.2:45000'], forwarded: true, response_ttl: 1, hop_limit_exceeded: true });
  });

  it('merges the NAT views of a connection joined mid-stream (open before the capture)', async () => {
    const inner = conversation({ client: '172.18.0.2', cport: 45100, isn: 900, exchanges: [{ request: V1, response: OK }, { request: V1, response: OK }] });
    const outer = conversation({ client: '10.0.0.2', cport: 45100, isn: 900, exchanges: [{ request: V1, response: OK }, { request: V1, response: OK }] });
    const frames: Frames = [];
    // Skip the handshake and the first exchange: the capture starts at the second request.
    inner.forEach((f, i) => {
      if (i < 5) return;
      const o = outer[i] as Frames[number];
      if ([6, 8].includes(i)) frames.push(o, f); // server → client: uplink first
      else frames.push(f, o);
    });
    const { events } = await run(frames);
    expect(events.map(brief)).toEqual([['v1', 'GET', '/latest/meta-data/instance-id', 200]]);
    expect(events[0]).toMatchObject({ src_ip: '172.18.0.2', nat_src: ['10.0.0.2:45100'] });
  });

  it('reports requests that never get an answer without holding them forever', async () => {
    const many = Array.from({ length: 70 }, () => ({ request: V1 }));
    const frames = conversation({ client: '10.0.0.2', cport: 41010, exchanges: many }).slice(0, -3); // never closed
    const { pipeline, events } = make();
    for (const f of frames) pipeline.handleFrame(f.frame, f.timestampUs);
    await new Promise((resolve) => setImmediate(resolve));
    // the 65th request overflowed the queue: everything waiting was reported, and later ones at once
    expect(events).toHaveLength(70);
    expect(events.every((e) => e.status === null)).toBe(true);
    expect(pipeline.stats.dropped).toMatchObject({ http_unanswered_overflow: 1 });
  });

  it('reports waiting requests at once when the answers cannot be followed', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41011, exchanges: [{ request: V1 + V1, response: 'garbage\r\n\r\n' }] }).slice(0, -3);
    const { pipeline, events } = make();
    for (const f of frames) pipeline.handleFrame(f.frame, f.timestampUs);
    await new Promise((resolve) => setImmediate(resolve));
    expect(events.map(brief)).toEqual([
      ['v1', 'GET', '/latest/meta-data/instance-id', null],
      ['v1', 'GET', '/latest/meta-data/instance-id', null],
    ]);
    expect(pipeline.stats.dropped).toMatchObject({ http_response_bad_status_line: 1 });
  });

  it('does not flag the hop limit for the host itself', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41004, exchanges: [{ request: PUT, response: TOKEN_ANSWER }], responseTtl: 1 });
    const { events } = await run(frames, new Set(['10.0.0.2']));
    expect(events[0]).toMatchObject({ forwarded: false, hop_limit_exceeded: false, response_ttl: 1 });
  });

  it('keeps IPv6 and IPv4 connections apart', async () => {
    const v4 = conversation({ client: '10.0.0.2', cport: 50000, isn: 1, exchanges: [{ request: V1, response: OK }] });
    const v6 = conversation({ client: 'fd00:7::2', server: 'fd00:ec2::254', cport: 50000, isn: 1, exchanges: [{ request: V2, response: OK }] });
    const { events } = await run([...v4, ...v6]);
    expect(events.map((e) => [e.kind, e.src_ip, e.dst_ip])).toEqual([
      ['v1', '10.0.0.2', '169.254.169.254'],
      ['v2_get', 'fd00:7::2', 'fd00:ec2::254'],
    ]);
  });

  it('counts, never throws on, garbage and traffic that is not IMDS', async () => {
    const junk: Frames = [
      { frame: new Uint8Array([1, 2, 3]), timestampUs: 1 },
      { frame: sllFrame({ src: '10.0.0.2', dst: '10.0.0.9', sport: 1, dport: 80, seq: 1, payload: 'x' }), timestampUs: 2 },
      ...conversation({ client: '10.0.0.2', cport: 41005, exchanges: [{ request: '\x16\x03\x01garbage\r\n\r\n' }] }),
    ];
    const { events, pipeline } = await run(junk);
    expect(events).toEqual([]);
    expect(pipeline.stats.dropped).toMatchObject({ decode_truncated: 1, http_request_bad_request_line: 1 });
  });

  it('ends a connection left idle and reports its unanswered request', async () => {
    const frames = conversation({ client: '10.0.0.2', cport: 41006, exchanges: [{ request: V1 }] }).slice(0, 4);
    const { pipeline, events } = make({ idleTimeoutMs: 1000 });
    for (const f of frames) pipeline.handleFrame(f.frame, f.timestampUs);
    expect(pipeline.openConnections).toBe(1);
    pipeline.tick((frames.at(-1)?.timestampUs ?? 0) + 2_000_000);
    await pipeline.flush(0);
    expect(pipeline.openConnections).toBe(0);
    expect(events.map(brief)).toEqual([['v1', 'GET', '/latest/meta-data/instance-id', null]]);
  });

  it('bounds the number of tracked connections', async () => {
    const frames: Frames = [];
    for (let i = 0; i < 300; i++) {
      frames.push({ frame: sllFrame({ src: '10.0.0.2', dst: '169.254.169.254', sport: 10000 + i, dport: 80, seq: i, flags: TcpFlag.SYN }), timestampUs: i });
    }
    const { pipeline } = make({ maxBufferedBytesPerDirection: 1024 });
    for (const f of frames) pipeline.handleFrame(f.frame, f.timestampUs);
    expect(pipeline.openConnections).toBe(100);
    expect(pipeline.stats.connections).toBe(300);
    expect(pipeline.stats.dropped).toEqual({ tcp_evicted_connection: 200 });
  });
});
