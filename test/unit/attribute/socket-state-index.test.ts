import { describe, expect, it } from 'vitest';
import { SocketStateIndex } from '../../../src/attribute/socket-state-index.js';
import type { SockStateEvent } from '../../../src/attribute/tracefs/trace-events.js';
import { parseTraceLine } from '../../helpers/trace-text.js';
import type { SocketKey } from '../../../src/attribute/types.js';
import { fixtureText } from './fixtures.js';

function ev(over: Partial<SockStateEvent>): SockStateEvent {
  return {
    kind: 'sock-state',
    comm: 'curl',
    tid: 100,
    tgid: 100,
    cpu: 0,
    timestamp: 1,
    skaddr: 'ffff0001',
    oldState: 7,
    newState: 2,
    sport: 0,
    dport: 80,
    family: 4,
    protocol: 6,
    saddr: '10.0.2.15',
    daddr: '169.254.169.254',
    ...over,
  };
}
const key = (srcPort: number, over: Partial<SocketKey> = {}): SocketKey => ({
  family: 4,
  srcIp: '10.0.2.15',
  srcPort,
  dstIp: '169.254.169.254',
  dstPort: 80,
  ...over,
});
const tidOf = (index: SocketStateIndex<number>, k: SocketKey, now: number): number | null =>
  index.lookup(k, now)?.tid ?? null;

describe('SocketStateIndex: replay of a real capture', () => {
  const index = new SocketStateIndex<number>();
  let payloads = 0;
  let now = 0;
  for (const line of fixtureText('trace', 'live-netns-curls.txt').split('\n')) {
    const e = parseTraceLine(line);
    if (e?.kind === 'sock-state') index.apply(e, (now += 1), () => ++payloads);
  }

  it('made one payload per connect() (6 IPv4 curls + 1 IPv6)', () => {
    expect(payloads).toBe(7);
  });

  it.each([
    [37760, 9282],
    [37770, 9280],
    [37780, 9278],
    [37792, 9281],
    [37802, 9279],
    [37816, 9277],
  ])('IPv4 source port %i → curl %i', (port, tid) => {
    expect(tidOf(index, key(port), now)).toBe(tid);
  });

  it('IPv6 source port 43918 → curl 9297', () => {
    expect(tidOf(index, key(43918, { family: 6, srcIp: 'fd00:ec2::2', dstIp: 'fd00:ec2::254' }), now)).toBe(9297);
  });

  it('closed connections stop answering after the grace period', () => {
    expect(index.lookup(key(37816), now + 5_001)).toBeNull();
  });

  it('the grace runs from when the packet asked about was captured, not from when the question comes', () => {
    expect(tidOf(index, key(37816), now)).not.toBeNull();
    // Asked 20 s late about a packet captured as the connection closed: still it.
    expect(index.lookup(key(37816), now + 20_000, { askedAtMs: now })).not.toBeNull();
    // A packet captured past the grace after the close: not it.
    expect(index.lookup(key(37816), now + 20_000, { askedAtMs: now + 5_001 })).toBeNull();
    // A capture time after the question (clocks disagreeing) counts as now.
    expect(index.lookup(key(37816), now + 5_001, { askedAtMs: now + 30_000 })).toBeNull();
  });

  it('the server side of the same connections is not indexed (its skaddr never connected)', () => {
    expect(index.size.bound).toBe(7);
  });
});

describe('SocketStateIndex: transitions', () => {
  type Step = [SockStateEvent, number];
  const connect = (skaddr: string, tid: number, at: number, over: Partial<SockStateEvent> = {}): Step => [
    ev({ skaddr, tid, tgid: tid, ...over }),
    at,
  ];
  const bound = (skaddr: string, sport: number, at: number, over: Partial<SockStateEvent> = {}): Step => [
    ev({ skaddr, oldState: 2, newState: 1, sport, tid: 0, tgid: 0, comm: 'swapper/0', ...over }),
    at,
  ];
  const closed = (skaddr: string, sport: number, at: number, over: Partial<SockStateEvent> = {}): Step => [
    ev({ skaddr, oldState: 1, newState: 7, sport, ...over }),
    at,
  ];

  it.each<[string, Step[], SocketKey, number, number | null]>([
    ['unknown before the port is bound', [connect('a', 1, 0)], key(5000), 1, null],
    ['found once bound (from softirq context: tid kept from connect)', [connect('a', 1, 0), bound('a', 5000, 1)], key(5000), 2, 1],
    ['refused (SYN_SENT → CLOSE carries the port)', [connect('a', 1, 0), [ev({ skaddr: 'a', oldState: 2, newState: 7, sport: 5000 }), 1]], key(5000), 2, 1],
    ['other address does not match', [connect('a', 1, 0), bound('a', 5000, 1)], key(5000, { srcIp: '10.0.2.16' }), 2, null],
    ['other destination port does not match', [connect('a', 1, 0), bound('a', 5000, 1)], key(5000, { dstPort: 8080 }), 2, null],
    ['closed within grace still answers', [connect('a', 1, 0), bound('a', 5000, 1), closed('a', 5000, 2)], key(5000), 5_000, 1],
    ['closed beyond grace does not', [connect('a', 1, 0), bound('a', 5000, 1), closed('a', 5000, 2)], key(5000), 5_003, null],
    [
      'a newer unbound connect to the same place hides a closed match (tuple reuse)',
      [connect('a', 1, 0), bound('a', 5000, 1), closed('a', 5000, 2), connect('b', 2, 3)],
      key(5000),
      4,
      null,
    ],
    [
      'the newer connect, once bound to the reused port, answers',
      [connect('a', 1, 0), bound('a', 5000, 1), closed('a', 5000, 2), connect('b', 2, 3), bound('b', 5000, 4)],
      key(5000),
      5,
      2,
    ],
    [
      'a newer connect elsewhere does not hide it',
      [connect('a', 1, 0), bound('a', 5000, 1), closed('a', 5000, 2), connect('b', 2, 3, { daddr: '10.0.0.1' })],
      key(5000),
      4,
      1,
    ],
    [
      'skaddr reused after close is a new socket',
      [connect('a', 1, 0), bound('a', 5000, 1), closed('a', 5000, 2), connect('a', 2, 3), bound('a', 6000, 4)],
      key(6000),
      5,
      2,
    ],
    [
      'IPv6 matches by ports only',
      [connect('a', 1, 0, { family: 6, saddr: null, daddr: null }), bound('a', 5000, 1, { family: 6, saddr: null, daddr: null })],
      key(5000, { family: 6, srcIp: 'fd00:ec2::2', dstIp: 'fd00:ec2::254' }),
      2,
      1,
    ],
    [
      'an IPv4 key finds a dual-stack AF_INET6 socket (v4-mapped destination)',
      [connect('a', 1, 0, { family: 6, saddr: null, daddr: null }), bound('a', 5000, 1, { family: 6, saddr: null, daddr: null })],
      key(5000),
      2,
      1,
    ],
    [
      'two open IPv6 sockets on the same ports (two namespaces) answer nothing rather than guess',
      [
        connect('a', 1, 0, { family: 6, saddr: null, daddr: null }),
        bound('a', 5000, 1, { family: 6, saddr: null, daddr: null }),
        connect('b', 2, 2, { family: 6, saddr: null, daddr: null }),
        bound('b', 5000, 3, { family: 6, saddr: null, daddr: null }),
      ],
      key(5000, { family: 6, srcIp: 'fd00:ec2::2', dstIp: 'fd00:ec2::254' }),
      4,
      null,
    ],
    [
      'an IPv6 port reused after the first socket closed is not ambiguous',
      [
        connect('a', 1, 0, { family: 6, saddr: null, daddr: null }),
        bound('a', 5000, 1, { family: 6, saddr: null, daddr: null }),
        closed('a', 5000, 2, { family: 6, saddr: null, daddr: null }),
        connect('b', 2, 3, { family: 6, saddr: null, daddr: null }),
        bound('b', 5000, 4, { family: 6, saddr: null, daddr: null }),
      ],
      key(5000, { family: 6, srcIp: 'fd00:ec2::2', dstIp: 'fd00:ec2::254' }),
      5,
      2,
    ],
    [
      'a port reused at once, the first close read after the second bound (a lagging CPU): the second holds it',
      [connect('a', 1, 0, { timestamp: 1 }), bound('a', 5000, 1, { timestamp: 1.1 }), connect('b', 2, 2, { timestamp: 1.3 }), bound('b', 5000, 3, { timestamp: 1.4 }), closed('a', 5000, 4, { timestamp: 1.2 })],
      key(5000),
      5,
      2,
    ],
    [
      'the same, the older connect read last of all: still the second',
      [connect('b', 2, 0, { timestamp: 1.3 }), bound('b', 5000, 1, { timestamp: 1.4 }), connect('a', 1, 2, { timestamp: 1 }), bound('a', 5000, 3, { timestamp: 1.1 }), closed('a', 5000, 4, { timestamp: 1.2 })],
      key(5000),
      5,
      2,
    ],
    [
      'two sockets open at once on one key (two namespaces) stay ambiguous when one closes',
      [connect('a', 1, 0, { timestamp: 1 }), bound('a', 5000, 1, { timestamp: 1.1 }), connect('b', 2, 2, { timestamp: 1.3 }), bound('b', 5000, 3, { timestamp: 1.4 }), closed('a', 5000, 4, { timestamp: 1.5 })],
      key(5000),
      5,
      null,
    ],
    ['non-TCP (SCTP) is ignored', [connect('a', 1, 0, { protocol: 132 }), bound('a', 5000, 1, { protocol: 132 })], key(5000), 2, null],
    ['transitions of a socket never seen connecting are ignored', [bound('z', 5000, 1)], key(5000), 2, null],
    ['records expire after expiryMs even while open', [connect('a', 1, 0), bound('a', 5000, 1)], key(5000), 30_001, null],
  ])('%s', (_name, steps, k, at, expectedTid) => {
    const index = new SocketStateIndex<null>();
    for (const [e, t] of steps) index.apply(e, t, () => null);
    expect(index.lookup(k, at)?.tid ?? null).toBe(expectedTid);
  });

  describe("a port reused while the capture lagged: the packet's capture time picks the socket", () => {
    const first = [connect('a', 1, 0, { timestamp: 1 }), bound('a', 5000, 1, { timestamp: 1.1 })];
    const second = [connect('b', 2, 3, { timestamp: 1.3 }), bound('b', 5000, 4, { timestamp: 1.4 })];
    const indexOf = (steps: Step[]) => {
      const index = new SocketStateIndex<null>();
      for (const [e, t] of steps) index.apply(e, t, () => null);
      return index;
    };

    it('the first socket closed, the second holds the port: each packet gets its own', () => {
      const index = indexOf([...first, closed('a', 5000, 2, { timestamp: 1.2 }), ...second]);
      expect(index.lookup(key(5000), 5, { askedTs: 1.05 })?.tid).toBe(1);
      expect(index.lookup(key(5000), 5, { askedTs: 1.35 })?.tid).toBe(2);
      expect(index.lookup(key(5000), 5)?.tid).toBe(2);
      // Captured before either connected: neither is its socket.
      expect(index.lookup(key(5000), 5, { askedTs: 0.5 })).toBeNull();
    });

    it("the first socket's close not read yet (both look open): the packet from before the second connect is the first's, one after it is no one's", () => {
      const index = indexOf([...first, ...second]);
      expect(index.lookup(key(5000), 5)).toBeNull();
      expect(index.lookup(key(5000), 5, { askedTs: 1.05 })?.tid).toBe(1);
      expect(index.lookup(key(5000), 5, { askedTs: 1.35 })).toBeNull();
    });

    it('a capture stamp can come late, never early: a socket that closed before its packet was stamped still answers', () => {
      const index = indexOf([...first, closed('a', 5000, 2, { timestamp: 1.2 })]);
      expect(index.lookup(key(5000), 4, { askedTs: 1.15 })?.tid).toBe(1);
      expect(index.lookup(key(5000), 4, { askedTs: 1.5 })?.tid).toBe(1);
    });

    it('two sockets open at once on the key (two namespaces): no packet time tells them apart', () => {
      const index = indexOf([...first, ...second, closed('a', 5000, 5, { timestamp: 1.5 })]);
      expect(index.lookup(key(5000), 6, { askedTs: 1.05 })?.tid).toBe(1);
      expect(index.lookup(key(5000), 6, { askedTs: 1.35 })).toBeNull();
      expect(index.lookup(key(5000), 6)).toBeNull();
    });

    it("a newer connect not bound yet does not hide a closed socket from a packet captured before it", () => {
      const index = indexOf([...first, closed('a', 5000, 2, { timestamp: 1.2 }), connect('b', 2, 3, { timestamp: 1.3 })]);
      expect(index.lookup(key(5000), 4)).toBeNull();
      expect(index.lookup(key(5000), 4, { askedTs: 1.05 })?.tid).toBe(1);
      expect(index.lookup(key(5000), 4, { askedTs: 1.35 })).toBeNull();
    });
  });

  it('reports what changed', () => {
    const index = new SocketStateIndex<string>();
    const c = index.apply(ev({ skaddr: 'a' }), 0, () => 'snap');
    expect(c.connected?.payload).toBe('snap');
    expect(c.changed).toBe(false);
    expect(index.apply(ev({ skaddr: 'a', oldState: 2, newState: 1, sport: 1 }), 1, () => 'x')).toEqual({ connected: null, changed: true });
    expect(index.apply(ev({ skaddr: 'a', oldState: 1, newState: 4, sport: 1 }), 2, () => 'x').changed).toBe(false);
  });

  it('stays bounded by maxEntries', () => {
    const index = new SocketStateIndex<null>({ maxEntries: 100 });
    for (let i = 0; i < 1_000; i++) {
      index.apply(ev({ skaddr: `s${i}` }), i, () => null);
      index.apply(ev({ skaddr: `s${i}`, oldState: 2, newState: 1, sport: 1_000 + i }), i, () => null);
    }
    expect(index.size.connecting).toBeLessThanOrEqual(100);
    expect(index.size.bound).toBeLessThanOrEqual(101);
    expect(index.lookup(key(1_999), 999)?.tid).toBe(100);
  });
});

describe('SocketStateIndex: a later transition read before its connect (another CPU lagging)', () => {
  const connect = ev({ tid: 300, skaddr: 'ffffaa01', timestamp: 10 });
  const established = ev({ tid: 0, skaddr: 'ffffaa01', timestamp: 10.0002, oldState: 2, newState: 1, sport: 45000, cpu: 1 });

  it('joins them once the connect arrives: the port from the later one, the process from the connect', () => {
    const index = new SocketStateIndex<number>();
    expect(index.apply(established, 1, () => 0)).toEqual({ connected: null, changed: false });
    expect(index.lookup(key(45000), 1)).toBeNull();
    expect(index.size.early).toBe(1);
    const update = index.apply(connect, 2, () => 7);
    expect(update.changed).toBe(true);
    expect(index.lookup(key(45000), 2)).toMatchObject({ tid: 300, sport: 45000, payload: 7 });
    expect(index.size.early).toBe(0);
  });

  it('a close read early too leaves the connection answering as closed', () => {
    const index = new SocketStateIndex<number>();
    index.apply(established, 1, () => 0);
    index.apply(ev({ tid: 0, skaddr: 'ffffaa01', timestamp: 10.5, oldState: 1, newState: 7, sport: 45000 }), 1, () => 0);
    index.apply(connect, 2, () => 7);
    expect(index.lookup(key(45000), 2)).toMatchObject({ tid: 300, closedAtMs: 2 });
    expect(index.size.connecting).toBe(0);
  });

  it('ignores a transition older than the connect (the previous socket at that address)', () => {
    const index = new SocketStateIndex<number>();
    index.apply(ev({ tid: 0, skaddr: 'ffffaa01', timestamp: 9, oldState: 2, newState: 1, sport: 44000 }), 1, () => 0);
    index.apply(connect, 2, () => 7);
    expect(index.lookup(key(44000), 2)).toBeNull();
    expect(index.lookup(key(45000), 2)).toBeNull();
  });

  it('forgets early transitions after a while and keeps few per socket', () => {
    const index = new SocketStateIndex<number>({ maxEntries: 3 });
    for (let i = 0; i < 10; i++) index.apply(ev({ skaddr: `ffffbb0${i}`, oldState: 2, newState: 1, sport: 46000 + i }), 1, () => 0);
    expect(index.size.early).toBe(3);
    index.apply(ev({ skaddr: 'ffffcc01', oldState: 2, newState: 1, sport: 47000 }), 10_000, () => 0);
    expect(index.size.early).toBe(1);
  });
});

describe('SocketStateIndex: one struct sock reused at once, one CPU lagging (seen under qemu TCG: the port of one curl named another)', () => {
  // Socket S is used by tid 760 (connect t=1, established t=2, closed t=3), then at once by
  // tid 765 (connect t=4, established t=5). 760's connect comes from a CPU whose reader lags.
  const S = 'ffff0bad';
  const c760 = ev({ skaddr: S, tid: 760, tgid: 760, timestamp: 1 });
  const e760 = ev({ skaddr: S, tid: 0, tgid: null, timestamp: 2, oldState: 2, newState: 1, sport: 40760 });
  const x760 = ev({ skaddr: S, tid: 760, tgid: 760, timestamp: 3, oldState: 1, newState: 7, sport: 40760 });
  const c765 = ev({ skaddr: S, tid: 765, tgid: 765, timestamp: 4 });
  const e765 = ev({ skaddr: S, tid: 0, tgid: null, timestamp: 5, oldState: 2, newState: 1, sport: 40765 });
  const orders: [string, SockStateEvent[]][] = [
    ['in kernel order', [c760, e760, x760, c765, e765]],
    ["760's connect last", [e760, x760, c765, e765, c760]],
    ["760's connect after 765's, before 765's port", [e760, x760, c765, c760, e765]],
    ["760's whole connection after 765's", [c765, e765, c760, e760, x760]],
    ["765's port first, then both connects", [e765, e760, x760, c760, c765]],
    // 760's own transitions lag, so 765's port reaches 760 first; 765's connect, read late, takes it back.
    ["765's port before its connect, 760's own after", [c760, e765, c765, e760, x760]],
    ["765's port and 760's close before 765's connect", [c760, e765, x760, c765, e760]],
    ["760 bound, then 765's port before 760's close and 765's connect", [c760, e760, e765, x760, c765]],
  ];
  it.each(orders)('%s: each port names its own process', (_name, events) => {
    const index = new SocketStateIndex<number>();
    let now = 0;
    for (const e of events) index.apply(e, (now += 1), () => 0);
    expect(tidOf(index, key(40765), now)).toBe(765);
    expect(tidOf(index, key(40760), now)).toBe(760);
  });

  it('a transition of a newer socket whose connect is not read yet waits for it, never joins the closed one', () => {
    const index = new SocketStateIndex<number>();
    for (const [i, e] of [c760, e760, x760, e765].entries()) index.apply(e, i + 1, () => 0);
    expect(tidOf(index, key(40765), 5)).toBeNull();
    index.apply(c765, 6, () => 0);
    expect(tidOf(index, key(40765), 6)).toBe(765);
  });
});

describe('SocketStateIndex: a connection whose later transition names another port', () => {
  it("another socket's port from softirq (the newer socket's connect and this one's close not read yet) leaves its port alone", () => {
    // Seen in the 5.10 VM's container burst: marking both ports unknown here cost 10 % of the burst.
    const S = 'ffff0dad';
    const index = new SocketStateIndex<number>();
    index.apply(ev({ skaddr: S, tid: 1346, tgid: 1346, timestamp: 1 }), 1, () => 0);
    index.apply(ev({ skaddr: S, tid: 0, tgid: null, timestamp: 2, oldState: 2, newState: 1, sport: 50312 }), 2, () => 0);
    index.apply(ev({ skaddr: S, tid: 0, tgid: null, timestamp: 5, oldState: 2, newState: 1, sport: 50326 }), 3, () => 0);
    expect(tidOf(index, key(50312), 3)).toBe(1346);
    expect(tidOf(index, key(50326), 3)).toBeNull();
    index.apply(ev({ skaddr: S, tid: 1346, tgid: 1346, timestamp: 3, oldState: 1, newState: 7, sport: 50312 }), 4, () => 0);
    index.apply(ev({ skaddr: S, tid: 1347, tgid: 1347, timestamp: 4 }), 5, () => 0);
    expect(tidOf(index, key(50312), 5)).toBe(1346);
    expect(tidOf(index, key(50326), 5)).toBe(1347);
    expect(index.size.early).toBe(0);
  });

  it('its own thread closing with another port: that port is its own, the one it was joined to answers nothing', () => {
    const S = 'ffff0cab';
    const index = new SocketStateIndex<number>();
    index.apply(ev({ skaddr: S, tid: 1589, tgid: 1589, timestamp: 1 }), 1, () => 0);
    // Joined to another socket's port (read out of order), then its own close shows its real port.
    index.apply(ev({ skaddr: S, tid: 0, tgid: null, timestamp: 2, oldState: 2, newState: 1, sport: 41598 }), 2, () => 0);
    expect(tidOf(index, key(41598), 2)).toBe(1589);
    index.apply(ev({ skaddr: S, tid: 1589, tgid: 1589, timestamp: 3, oldState: 1, newState: 4, sport: 58188 }), 3, () => 0);
    expect(tidOf(index, key(41598), 3)).toBeNull();
    expect(tidOf(index, key(58188), 3)).toBe(1589);
    // Its close still closes it: the contradiction does not leave it open.
    index.apply(ev({ skaddr: S, tid: 1589, tgid: 1589, timestamp: 4, oldState: 4, newState: 7, sport: 58188 }), 4, () => 0);
    expect(index.size.connecting).toBe(0);
  });
});
