import { describe, expect, it } from 'vitest';
import { parseTraceLine } from '../../../src/attribute/trace-line.js';
import { fixtureText, traceSamples } from './fixtures.js';

const samples = traceSamples();
const line = (name: string): string => {
  const l = samples.get(name);
  if (!l) throw new Error(`no sample ${name}`);
  return l;
};

describe('parseTraceLine', () => {
  it.each([
    [
      'brief-connect-no-tgid',
      { kind: 'sock-state', comm: 'curl', tid: 2015, tgid: null, cpu: 1, timestamp: 114.653426, skaddr: 'ffff8881012ea500', oldState: 7, newState: 2, sport: 0, dport: 9, family: 4, protocol: 6, saddr: '127.0.0.1', daddr: '127.0.0.1' },
    ],
    ['brief-exec-no-tgid', { kind: 'exec', comm: 'curl', tid: 2015, tgid: null, filename: '/usr/bin/curl', pid: 2015, oldPid: 2015 }],
    [
      'netns-connect',
      { kind: 'sock-state', comm: 'curl', tid: 9277, tgid: 9277, oldState: 7, newState: 2, sport: 0, dport: 80, family: 4, saddr: '10.0.2.15', daddr: '169.254.169.254' },
    ],
    ['netns-established', { kind: 'sock-state', tid: 9277, oldState: 2, newState: 1, sport: 37816, saddr: '10.0.2.15' }],
    ['netns-fin-wait1', { kind: 'sock-state', oldState: 1, newState: 4, sport: 37816 }],
    ['softirq-close-in-server-context', { kind: 'sock-state', comm: 'node', tid: 9233, tgid: 9233, oldState: 5, newState: 7, sport: 37816 }],
    ['fork-before-exec', { kind: 'fork', comm: 'bash', tgid: 9212, parentComm: 'bash', parentPid: 9212, childComm: 'bash', childPid: 9277 }],
    ['exec-ip', { kind: 'exec', comm: 'ip', tid: 9277, filename: '/usr/sbin/ip', pid: 9277 }],
    ['exec-curl', { kind: 'exec', comm: 'curl', filename: '/usr/bin/curl', pid: 9277 }],
    ['ipv6-connect', { kind: 'sock-state', family: 6, sport: 0, dport: 80, saddr: null, daddr: null, oldState: 7, newState: 2 }],
    ['ipv6-established', { kind: 'sock-state', family: 6, sport: 43918, oldState: 2, newState: 1 }],
    ['comm-with-space-and-dash-exec', { kind: 'exec', comm: 'my curl-2', tid: 3982, tgid: 3982, filename: '/tmp/my curl-2', pid: 3982 }],
    ['comm-with-space-and-dash-connect', { kind: 'sock-state', comm: 'my curl-2', tid: 3982, tgid: 3982, oldState: 7, newState: 2 }],
    ['thread-fork', { kind: 'fork', tid: 3985, tgid: 3985, parentPid: 3985, childPid: 4026 }],
    ['thread-connect', { kind: 'sock-state', comm: 'python3', tid: 4026, tgid: 3985 }],
    ['unknown-comm-and-tgid', { kind: 'exec', comm: null, tid: 3496, tgid: null, filename: '/usr/bin/cat', pid: 3496 }],
    ['ipv6-refused-close', { kind: 'sock-state', family: 6, oldState: 2, newState: 7, sport: 41290 }],
    ['lost-events', { kind: 'lost', cpu: 1, count: 42 }],
    ['marker-with-fields', { kind: 'mark', tid: 16241 }],
  ])('%s', (name, expected) => {
    expect(parseTraceLine(line(name))).toMatchObject(expected);
  });

  it('ignores the default print, which has no skaddr', () => {
    expect(parseTraceLine(line('default-print-without-fields'))).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['header', '# tracer: nop'],
    ['other event', '  bash-1 (1) [000] ..... 1.0: sched_switch: prev_comm=bash'],
    ['IPv4 family unknown', '  x-1 [000] ..... 1.0: inet_sock_set_state: skaddr=0x1 (1) oldstate=0x7 (7) newstate=0x2 (2) sport=0x0 (0) dport=0x50 (80) family=0x1 (1)'],
  ])('returns null for %s', (_name, l) => {
    expect(parseTraceLine(l)).toBeNull();
  });

  it('parses without the irq-info flags column', () => {
    expect(parseTraceLine('  curl-5   [000]   9.5: sched_process_exec: filename=/bin/curl pid=5 old_pid=5')).toMatchObject({
      kind: 'exec',
      comm: 'curl',
      tid: 5,
      timestamp: 9.5,
      filename: '/bin/curl',
    });
  });

  it('parses every line of the live capture', () => {
    const lines = fixtureText('trace', 'live-netns-curls.txt').split('\n').filter((l) => l !== '');
    const kinds = lines.map((l) => parseTraceLine(l)?.kind ?? 'unparsed');
    expect(kinds).not.toContain('unparsed');
    expect(kinds.filter((k) => k === 'sock-state')).toHaveLength(35);
  });

  it('reads a trace_marker line without the fields option too, and nothing else as one', () => {
    expect(parseTraceLine('            node-700     (    700) [001] .....   900.000001: tracing_mark_write: imds-sniff-sync')).toEqual({ kind: 'mark', tid: 700 });
    expect(parseTraceLine('            node-700     (    700) [001] .....   900.000001: UNKNOWN TYPE 5 extra')).toBeNull();
  });
});
