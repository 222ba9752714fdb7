// pipeline/: builds the imds_request event (contract/imds-request-event.ts) of one HTTP exchange: redacted, sanitized.

import type { Ancestor, AttributionMethod, ProcessInfo } from '../attribute/types.js';
import { redactCmdline } from '../attribute/redact-cmdline.js';
import { sanitizeText } from '../http/request.js';
import { scrubSecrets } from '../text/scrub-secrets.js';
import type { RequestKind } from '../classify/classify.js';
import type { ProbeCloud } from '../classify/foreign-probe.js';
import type { HttpExchange } from '../http/exchange-tracker.js';
import type { ImdsRequestEvent } from '../contract/imds-request-event.js';


/** Names from /proc are chosen by whoever runs the process: printable and bounded before they reach a terminal. */
function text(value: string | null, maxLength: number): string | null {
  return value === null ? null : sanitizeText(value, maxLength);
}

/**
 * A process's redacted command line and sanitized ancestors, made once per /proc snapshot:
 * a client that connects 100 times a second shares one snapshot's arrays (never changed
 * once read), so they are redacted once, not once per request.
 */
function onceEach<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    if (!made.has(key)) made.set(key, make(key));
    return made.get(key) as V;
  };
}

const cmdlineOf = onceEach((argv: readonly string[]) => redactCmdline(argv).map((arg) => scrubSecrets(arg, 'word')));
const ancestorsOf = onceEach((chain: readonly Ancestor[]) => chain.map((a) => ({ pid: a.pid, comm: sanitizeText(a.comm, 64) })));

export function isoTime(timestampUs: number): string {
  return new Date(Math.floor(timestampUs / 1000)).toISOString();
}

/** Builds the contract object. `kind`, `probeCloud`, `forwarded` and `hopLimitExceeded` come from classify/. */
export function buildRequestEvent(
  exchange: HttpExchange,
  process: ProcessInfo,
  facts: { kind: RequestKind; probeCloud: ProbeCloud | null; forwarded: boolean; hopLimitExceeded: boolean; own: boolean },
): ImdsRequestEvent {
  const { conn, request } = exchange;
  const ttl = request.tokenTtlSeconds === null ? null : Number.parseInt(request.tokenTtlSeconds, 10);
  return {
    event: 'imds_request',
    time: isoTime(exchange.requestUs),
    kind: facts.kind,
    probe_cloud: facts.probeCloud,
    method: request.method,
    path: request.path,
    status: exchange.status,
    src_ip: conn.client.ip,
    src_port: conn.client.port,
    dst_ip: conn.server.ip,
    dst_port: conn.server.port,
    nat_src: conn.views.slice(1).map((v) => (v.ip.includes(':') ? `[${v.ip}]:${v.port}` : `${v.ip}:${v.port}`)),
    user_agent: request.userAgent,
    pid: process.pid,
    ppid: process.ppid,
    comm: text(process.comm, 64),
    exe: text(process.exe, 1024),
    cmdline: process.cmdline === null ? null : cmdlineOf(process.cmdline),
    uid: process.uid,
    user: text(process.user, 64),
    ancestors: ancestorsOf(process.ancestors),
    netns: process.netns,
    cgroup: text(process.cgroup, 1024),
    container_id: text(process.containerId, 128),
    container_pid: process.nsPid,
    attribution: process.attribution,
    token_ttl_seconds: Number.isFinite(ttl) ? ttl : null,
    response_ttl: exchange.responseTtl,
    forwarded: facts.forwarded,
    hop_limit_exceeded: facts.hopLimitExceeded,
    latency_ms: exchange.responseUs === null ? null : Math.round((exchange.responseUs - exchange.requestUs) / 100) / 10,
    connection: conn.id,
    request_index: exchange.index,
    own: facts.own,
  };
}
