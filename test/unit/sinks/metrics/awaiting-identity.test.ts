// The metrics held while the instance identity is unknown: bounded, imds-sniff's own calls left out,
// handed over oldest first, then every later event passes straight through.

import { describe, expect, it } from 'vitest';
import type { ImdsRequestEvent } from '../../../../src/contract/imds-request-event.js';
import { AwaitingIdentitySink } from '../../../../src/sinks/metrics/awaiting-identity.js';
import type { OutputEvent } from '../../../../src/contract/output-events.js';

function request(pid: number, own = false): ImdsRequestEvent {
  return { event: 'imds_request', time: '2026-12-06T10:00:00.000Z', kind: 'v1', status: 200, comm: 'curl', own, pid } as ImdsRequestEvent;
}

function recorder(): { seen: OutputEvent[]; write(e: OutputEvent): void; close(): Promise<void>; closed: boolean } {
  const r = { seen: [] as OutputEvent[], closed: false, write: (e: OutputEvent) => void r.seen.push(e), close: async () => void (r.closed = true) };
  return r;
}

describe('AwaitingIdentitySink', () => {
  it('holds request events (not its own calls, not other events) and hands them over in order', () => {
    const sink = new AwaitingIdentitySink(10);
    sink.write(request(1));
    sink.write(request(2, true));
    sink.write({ event: 'warning', time: 't', code: 'X', message: 'm' } as OutputEvent);
    sink.write(request(3));
    expect(sink.waiting).toBe(true);
    const inner = recorder();
    expect(sink.attach(inner)).toEqual({ held: 2, dropped: 0 });
    expect(inner.seen.map((e) => (e as ImdsRequestEvent).pid)).toEqual([1, 3]);
    sink.write(request(4, true));
    expect(inner.seen.map((e) => (e as ImdsRequestEvent).pid)).toEqual([1, 3, 4]);
    expect(sink.waiting).toBe(false);
  });

  it('keeps at most maxHeld and counts the rest as dropped', () => {
    const sink = new AwaitingIdentitySink(2);
    for (let pid = 1; pid <= 5; pid++) sink.write(request(pid));
    const inner = recorder();
    expect(sink.attach(inner)).toEqual({ held: 2, dropped: 3 });
    expect(inner.seen.map((e) => (e as ImdsRequestEvent).pid)).toEqual([1, 2]);
  });

  it('closes the attached sink, and closes fine with none; attaches once', async () => {
    await new AwaitingIdentitySink(1).close();
    const sink = new AwaitingIdentitySink(1);
    const inner = recorder();
    sink.attach(inner);
    expect(() => sink.attach(recorder())).toThrow(/attached already/);
    await sink.close();
    expect(inner.closed).toBe(true);
  });
});
