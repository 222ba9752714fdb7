// Test helper: imds_request events for the metrics tests (the README's event contract, defaults for everything else).

import type { ImdsRequestEvent } from '../../../../src/contract/imds-request-event.js';

/** An imds_request event at `timeMs` from `/usr/bin/curl`, IMDSv1 answered 200, unless overridden. */
export function requestEvent(timeMs: number, over: Partial<ImdsRequestEvent> = {}): ImdsRequestEvent {
  return {
    event: 'imds_request', time: new Date(timeMs).toISOString(), kind: 'v1', probe_cloud: null, method: 'GET', path: '/latest/meta-data/', status: 200,
    src_ip: '10.0.0.2', src_port: 40000, dst_ip: '169.254.169.254', dst_port: 80, nat_src: [], user_agent: 'curl/7.88.1',
    pid: 100, ppid: 1, comm: 'curl', exe: '/usr/bin/curl', cmdline: ['curl', '-s'], uid: 0, user: 'root', ancestors: [],
    netns: 1, cgroup: null, container_id: null, container_pid: null, attribution: 'tracefs', token_ttl_seconds: null, response_ttl: 64,
    forwarded: false, hop_limit_exceeded: false, latency_ms: 1, connection: 1, request_index: 1, own: false, ...over,
  };
}

/** A process as the events name it. */
export function proc(exe: string, over: Partial<ImdsRequestEvent> = {}): Partial<ImdsRequestEvent> {
  return { exe, comm: exe.slice(exe.lastIndexOf('/') + 1).slice(0, 15), ...over };
}
