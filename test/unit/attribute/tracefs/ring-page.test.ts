import { describe, expect, it } from 'vitest';
import { parseEventHeaderLayout, parsePageLayout } from '../../../../src/attribute/tracefs/format.js';
import { decodePage } from '../../../../src/attribute/tracefs/ring-page.js';
import { fixtureText } from '../fixtures.js';

const KERNEL = '6.18.44-fc-v1272';
const layout = parsePageLayout(fixtureText('tracefs', KERNEL, 'events', 'header_page'));
const header = parseEventHeaderLayout(fixtureText('tracefs', KERNEL, 'events', 'header_event'));

/** Builds a page the way the kernel lays one out: header, then 4-byte-aligned records. */
class PageBuilder {
  private readonly words: Buffer[] = [];
  constructor(private readonly timestamp: bigint) {}
  private word(typeLen: number, delta: number, ...array: number[]): this {
    const b = Buffer.alloc(4 + 4 * array.length);
    b.writeUInt32LE(((delta << 5) | typeLen) >>> 0, 0);
    array.forEach((v, i) => b.writeUInt32LE(v, 4 + 4 * i));
    this.words.push(b);
    return this;
  }
  /** A small record: type_len = its length in words. */
  data(delta: number, payload: Buffer): this {
    const padded = Buffer.alloc(Math.ceil(payload.length / 4) * 4);
    payload.copy(padded);
    this.word(padded.length / 4, delta);
    this.words.push(padded);
    return this;
  }
  /** A record whose length is in array[0] (type_len 0). */
  big(delta: number, payload: Buffer): this {
    const padded = Buffer.alloc(Math.ceil(payload.length / 4) * 4);
    payload.copy(padded);
    this.word(0, delta, payload.length + 4);
    this.words.push(padded);
    return this;
  }
  extend(delta: number, high: number): this {
    return this.word(header.timeExtend, delta, high);
  }
  absolute(low27: number, high: number): this {
    return this.word(header.timeStamp, low27, high);
  }
  discarded(delta: number, bytes: number): this {
    this.word(header.padding, delta, bytes);
    this.words.push(Buffer.alloc(bytes - 4));
    return this;
  }
  raw(b: Buffer): this {
    this.words.push(b);
    return this;
  }
  build(opts: { flags?: number; missed?: bigint; commit?: number } = {}): Buffer {
    const body = Buffer.concat(this.words);
    const page = Buffer.alloc(layout.dataOffset + layout.dataSize);
    page.writeBigUInt64LE(this.timestamp, layout.timestampOffset);
    page.writeUInt32LE(((opts.commit ?? body.length) | (opts.flags ?? 0)) >>> 0, layout.commitOffset);
    body.copy(page, layout.dataOffset);
    if (opts.missed !== undefined) page.writeBigUInt64LE(opts.missed, layout.dataOffset + body.length);
    return page;
  }
}

function records(page: Buffer): { ts: bigint; data: string }[] {
  const out: { ts: bigint; data: string }[] = [];
  decodePage(page, layout, header, (ts, data) => out.push({ ts, data: data.toString('latin1').replace(/\0+$/, '') }));
  return out;
}

describe('decodePage', () => {
  it('the layouts this kernel publishes', () => {
    expect(layout).toEqual({ timestampOffset: 0, commitOffset: 8, commitSize: 8, dataOffset: 16, dataSize: 4080 });
    expect(header).toEqual({ padding: 29, timeExtend: 30, timeStamp: 31, maxDataTypeLen: 28 });
  });

  it('small and large records, deltas added in order', () => {
    const page = new PageBuilder(1_000n).data(5, Buffer.from('abcd')).big(7, Buffer.alloc(200, 'x')).data(1, Buffer.from('xyz')).build();
    expect(records(page)).toEqual([
      { ts: 1_005n, data: 'abcd' },
      { ts: 1_012n, data: 'x'.repeat(200) },
      { ts: 1_013n, data: 'xyz' },
    ]);
  });

  it('a time extend carries the high bits of a long gap', () => {
    const page = new PageBuilder(0n).extend(3, 2).data(0, Buffer.from('late')).build();
    expect(records(page)).toEqual([{ ts: (2n << 27n) + 3n, data: 'late' }]);
  });

  it('an absolute timestamp replaces the running time (upper bits from the page)', () => {
    const pageTs = (1n << 60n) + 5n;
    const page = new PageBuilder(pageTs).data(1, Buffer.from('a')).absolute(9, 1).data(2, Buffer.from('b')).build();
    expect(records(page).map((r) => r.ts)).toEqual([pageTs + 1n, (1n << 60n) + (1n << 27n) + 9n + 2n]);
  });

  it('a discarded record is skipped, its delta kept; null padding ends the page', () => {
    const page = new PageBuilder(100n).data(1, Buffer.from('one')).discarded(4, 12).data(2, Buffer.from('two')).raw(Buffer.alloc(4, 0).fill(header.padding, 0, 1)).data(1, Buffer.from('never')).build();
    expect(records(page)).toEqual([
      { ts: 101n, data: 'one' },
      { ts: 107n, data: 'two' },
    ]);
  });

  it('reports events the kernel dropped before the page: the stored count, or -1 when only flagged', () => {
    const stored = new PageBuilder(0n).data(1, Buffer.from('a')).build({ flags: 0xc0000000, missed: 17n });
    expect(decodePage(stored, layout, header, () => {})).toEqual({ records: 1, missedEvents: 17, damagedBytes: 0 });
    const flagged = new PageBuilder(0n).data(1, Buffer.from('a')).build({ flags: 0x80000000 });
    expect(decodePage(flagged, layout, header, () => {}).missedEvents).toBe(-1);
  });

  it('a length that runs past the commit ends the walk without reading beyond it', () => {
    const page = new PageBuilder(0n).data(1, Buffer.from('ok')).raw(Buffer.from([0, 0, 0, 0, 0xff, 0xff, 0, 0])).build();
    const seen: string[] = [];
    const summary = decodePage(page, layout, header, (_ts, d) => seen.push(d.toString('latin1').replace(/\0+$/, '')));
    expect(seen).toEqual(['ok']);
    expect(summary.damagedBytes).toBeGreaterThan(0);
  });

  it('never throws and never reads outside the page, whatever the bytes', () => {
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    for (let i = 0; i < 2_000; i++) {
      const page = Buffer.alloc(layout.dataOffset + layout.dataSize);
      for (let j = 0; j < page.length; j++) page[j] = rand() & 0xff;
      if (i % 2 === 0) page.writeUInt32LE(rand() % 4096, layout.commitOffset);
      decodePage(page, layout, header, (_ts, data) => {
        expect(data.byteOffset + data.length).toBeLessThanOrEqual(page.byteOffset + page.length);
      });
    }
  });
});
