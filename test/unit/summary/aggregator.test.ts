import { describe, expect, it } from 'vitest';
import { Aggregator } from '../../../src/summary/aggregator.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { formatRequestLine } from '../../../src/sinks/table.js';

function ev(over: Partial<ImdsRequestEvent>): ImdsRequestEvent {
  return {
    event: 'imds_request', time: '2026-11-23T10:00:00.000Z', kind: 'v1', probe_cloud: null, method: 'GET', path: '/latest/meta-data/', status: 200,
    src_ip: '10.0.0.2', src_port: 1, dst_ip: '169.254.169.254', dst_port: 80, nat_src: [], user_agent: null,
    pid: 100, ppid: 1, comm: 'curl', exe: '/usr/bin/curl', cmdline: ['curl', 'x'], uid: 0, user: 'root', ancestors: [],
    netns: 1, cgroup: null, container_id: null, container_pid: null, attribution: 'tracefs', token_ttl_seconds: null, response_ttl: 64,
    forwarded: false, hop_limit_exceeded: false, latency_ms: 1, connection: 1, request_index: 1, own: false, ...over,
  };
}

describe('Aggregator', () => {
  it('groups by executable and container across pids, IMDSv1 users first', () => {
    const a = new Aggregator();
    a.add(ev({ pid: 1, time: '2026-11-23T10:00:01.000Z' }));
    a.add(ev({ pid: 2, time: '2026-11-23T10:00:00.000Z', status: 401 }));
    a.add(ev({ pid: 3, exe: '/usr/bin/node', comm: 'node', kind: 'v2_token' }));
    a.add(ev({ pid: 3, exe: '/usr/bin/node', comm: 'node', kind: 'v2_get' }));
    a.add(ev({ pid: 4, container_id: 'c'.repeat(64), kind: 'v2_token', status: 200, hop_limit_exceeded: true }));
    const p = a.processes();
    expect(p.map((x) => [x.name, x.v1, x.v2_token, x.v2_get, x.errors, x.pids, x.verdict])).toEqual([
      ['curl', 2, 0, 0, 1, [1, 2], 'uses_imdsv1'],
      ['node', 0, 1, 1, 0, [3], 'imdsv2_only'],
      ['curl (container cccccccccccc)', 0, 1, 0, 0, [4], 'hop_limit_failure'],
    ]);
    expect(p[0]).toMatchObject({ first_seen: '2026-11-23T10:00:00.000Z', last_seen: '2026-11-23T10:00:01.000Z', v1_rejected: 1 });
    const v = a.verdict();
    expect(v.safe_to_require_imdsv2).toBe(false);
    expect(v.message).toBe('not safe to require IMDSv2: 1 process still uses IMDSv1: curl; IMDSv2 token answers are lost at the container hop for: curl (container cccccccccccc)');
    expect(v.fixes.join('\n')).toContain('HttpPutResponseHopLimit to 2');
  });

  it('lists the in-container pids of a container process (container_pids), none for the host', () => {
    const a = new Aggregator();
    const c = 'c'.repeat(64);
    for (const [pid, container_pid] of [[5001, 7], [5002, 8], [5003, 7]] as const) a.add(ev({ pid, container_id: c, container_pid }));
    a.add(ev({ pid: 6 }));
    expect(a.processes().map((p) => [p.name, p.pids, p.container_pids])).toEqual([
      ['curl (container cccccccccccc)', [5001, 5002, 5003], [7, 8]],
      ['curl', [6], []],
    ]);
  });

  it('keeps a process in another network namespace apart from the host\'s', () => {
    const a = new Aggregator(1);
    a.add(ev({ netns: 1, kind: 'v2_token' }));
    a.add(ev({ netns: 99 }));
    expect(a.processes().map((p) => [p.name, p.v1, p.v2_token])).toEqual([
      ['curl (netns 99)', 1, 0],
      ['curl', 0, 1],
    ]);
  });

  it('leaves out the agent\'s own calls', () => {
    const a = new Aggregator();
    a.add(ev({ own: true }));
    expect(a.processes()).toEqual([]);
    expect(a.ownRequests).toBe(1);
    expect(a.verdict().safe_to_require_imdsv2).toBe(true);
  });

  it('is not safe while token answers die at the hop limit, even without IMDSv1', () => {
    const a = new Aggregator();
    a.add(ev({ kind: 'v2_token', hop_limit_exceeded: true }));
    expect(a.verdict()).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: [], hop_limit_processes: ['curl'] });
  });

  it('says safe when only IMDSv2 was used', () => {
    const a = new Aggregator();
    a.add(ev({ kind: 'v2_token' }));
    expect(a.verdict()).toMatchObject({ safe_to_require_imdsv2: true, message: 'safe to require IMDSv2: no process used IMDSv1' });
  });

  it('a host with only foreign-cloud probes and IMDSv2 callers is safe; the probers are named, their 404s are no errors', () => {
    const a = new Aggregator();
    const gce = { exe: '/usr/bin/node', comm: 'node', kind: 'foreign_probe', probe_cloud: 'gce', path: '/computeMetadata/v1/instance', status: 404 } as const;
    a.add(ev(gce));
    a.add(ev({ ...gce, pid: 101, status: 401 }));
    a.add(ev({ exe: '/usr/bin/node', comm: 'node', kind: 'v2_token' }));
    a.add(ev({ kind: 'foreign_probe', probe_cloud: 'azure', path: '/metadata/instance', status: 404 }));
    expect(a.processes().map((p) => [p.name, p.v1, p.v2_token, p.foreign_probe, p.probe_clouds, p.errors, p.verdict])).toEqual([
      ['node', 0, 1, 2, ['gce'], 0, 'imdsv2_only'],
      ['curl', 0, 0, 1, ['azure'], 0, 'foreign_probe_only'],
    ]);
    expect(a.verdict()).toMatchObject({ safe_to_require_imdsv2: true, v1_processes: [], foreign_probe_processes: ['node', 'curl'] });
    expect(a.verdict().message).toMatch(/^safe to require IMDSv2: no process used IMDSv1 \(probes for other clouds' metadata by node, curl are not IMDSv1 calls/);
  });

  it('a foreign probe does not excuse an IMDSv1 call of the same process', () => {
    const a = new Aggregator();
    a.add(ev({ kind: 'foreign_probe', probe_cloud: 'gce', path: '/computeMetadata/v1/instance', status: 404 }));
    a.add(ev({ kind: 'v1', path: '/', status: 200 }));
    expect(a.verdict()).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: ['curl'], foreign_probe_processes: ['curl'] });
  });

  it('counts unattributed IMDSv1 calls as IMDSv1 seen', () => {
    const a = new Aggregator();
    a.add(ev({ pid: null, comm: null, exe: null, attribution: 'unknown' }));
    expect(a.verdict()).toMatchObject({ safe_to_require_imdsv2: false, v1_processes: ['unattributed 10.0.0.2'] });
  });
});

describe('formatRequestLine', () => {
  it('shows kind, status, request and process', () => {
    expect(formatRequestLine(ev({ time: '2026-11-23T10:00:00.123Z' }))).toBe(
      '10:00:00.123  IMDSv1    200  GET  /latest/meta-data/  curl[100] root  10.0.0.2:1',
    );
  });

  it('names the cloud of a foreign probe', () => {
    expect(formatRequestLine(ev({ time: '2026-11-23T10:00:00.123Z', kind: 'foreign_probe', probe_cloud: 'gce', path: '/computeMetadata/v1/instance', status: 404 }))).toBe(
      '10:00:00.123  foreign   404  GET  /computeMetadata/v1/instance  curl[100] root  10.0.0.2:1  (gce metadata probe, not IMDSv1)',
    );
  });
});

describe('Aggregator bounds (a host with container churn)', () => {
  const cid = (i: number): string => i.toString(16).padStart(64, 'c');
  const at = (i: number): string => new Date(Date.UTC(2026, 10, 23, 10) + i * 100).toISOString();

  it('keeps at most its cap of identities over 5000 containers, every request still counted', () => {
    const a = new Aggregator(null, 100);
    a.add(ev({ exe: '/usr/bin/legacy-agent', comm: 'legacy-agent', pid: 7, time: at(0) })); // an IMDSv1 caller on the host, early
    for (let i = 1; i <= 5000; i += 1) {
      a.add(ev({ kind: 'v2_get', pid: 1000 + i, container_id: cid(i), time: at(i) }));
      a.add(ev({ kind: 'v2_token', exe: '/usr/bin/python3.11', comm: 'python3', pid: 20_000 + i, container_id: cid(i), time: at(i) }));
      expect(a.size).toBeLessThanOrEqual(100);
    }
    const processes = a.processes();
    const count = (k: 'v1' | 'v2_get' | 'v2_token'): number => processes.reduce((n, p) => n + p[k], 0);
    expect(count('v1')).toBe(1);
    expect(count('v2_get')).toBe(5000);
    expect(count('v2_token')).toBe(5000);
    // The host's IMDSv1 caller stays named; the containers fold by program.
    expect(processes[0]?.name).toBe('legacy-agent');
    expect(processes.find((p) => p.name === 'curl (containers)')?.folded).toBeGreaterThan(4000);
    expect(processes.find((p) => p.name === 'python3.11 (containers)')?.folded).toBeGreaterThan(4000);
    expect(a.verdict().v1_processes).toEqual(['legacy-agent']);
  });

  it('an IMDSv1 caller in a folded container still blocks the verdict, under its program', () => {
    const a = new Aggregator(null, 50);
    a.add(ev({ kind: 'v1', container_id: cid(0), pid: 1, time: at(0) }));
    for (let i = 1; i <= 500; i += 1) a.add(ev({ kind: 'v2_get', exe: '/usr/bin/aws', comm: 'aws', container_id: cid(i), pid: 1 + i, time: at(i) }));
    expect(a.size).toBeLessThanOrEqual(50);
    const v = a.verdict();
    expect(v.safe_to_require_imdsv2).toBe(false);
    expect(v.v1_processes).toHaveLength(1);
    expect(v.v1_processes[0]).toMatch(/^curl/);
  });
});
