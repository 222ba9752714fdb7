import { describe, expect, it } from 'vitest';
import { MAX_PENDING_SEGMENTS, Reassembler } from '../../../src/tcp/reassembler.js';

const text = 'GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.254.169.254\r\n\r\n';
const bytes = new TextEncoder().encode(text);

function collect(r: Reassembler, segments: Array<[number, Uint8Array]>): string {
  let out = '';
  for (const [seq, payload] of segments) for (const c of r.push(seq, payload).chunks) out += Buffer.from(c).toString();
  return out;
}

function split(isn: number, sizes: number[]): Array<[number, Uint8Array]> {
  const segs: Array<[number, Uint8Array]> = [];
  let off = 0;
  for (const size of sizes) {
    segs.push([(isn + 1 + off) >>> 0, bytes.subarray(off, off + size)]);
    off += size;
  }
  if (off < bytes.length) segs.push([(isn + 1 + off) >>> 0, bytes.subarray(off)]);
  return segs;
}

describe('Reassembler', () => {
  it('joins in-order segments', () => {
    const r = new Reassembler({ maxBufferedBytes: 1024 });
    r.synchronize(100);
    expect(collect(r, split(100, [5, 10, 20]))).toBe(text);
  });

  it('handles every reordering of three segments and duplicates', () => {
    const segs = split(100, [7, 13]);
    const orders = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]];
    for (const order of orders) {
      const r = new Reassembler({ maxBufferedBytes: 1024 });
      r.synchronize(100);
      const shuffled = order.flatMap((i) => [segs[i] as [number, Uint8Array], segs[i] as [number, Uint8Array]]);
      expect(collect(r, shuffled)).toBe(text);
    }
  });

  it('keeps only new bytes of an overlapping retransmission', () => {
    const r = new Reassembler({ maxBufferedBytes: 1024 });
    r.synchronize(0);
    expect(collect(r, [[1, bytes.subarray(0, 10)], [1, bytes.subarray(0, 20)], [11, bytes.subarray(10)]])).toBe(text);
  });

  it('wraps around 2^32', () => {
    const isn = 0xfffffff0;
    const r = new Reassembler({ maxBufferedBytes: 1024 });
    r.synchronize(isn);
    expect(collect(r, split(isn, [8, 8, 8]))).toBe(text);
  });

  it('joins mid-stream when no SYN was seen', () => {
    const r = new Reassembler({ maxBufferedBytes: 1024 });
    expect(collect(r, split(5000, [10]))).toBe(text);
  });

  it('skips a hole that never fills once the buffer limit is passed, and says so', () => {
    const r = new Reassembler({ maxBufferedBytes: 100 }); // each held segment costs its bytes + 64
    r.synchronize(0);
    expect(r.push(11, bytes.subarray(10, 20)).gap).toBe(false);
    const result = r.push(21, bytes.subarray(20, 40));
    expect(result.gap).toBe(true);
    expect(Buffer.concat(result.chunks).toString()).toBe(text.slice(10, 40));
    expect(r.bufferedBytes).toBe(0);
  });

  it('holds at most MAX_PENDING_SEGMENTS out-of-order segments, however small', () => {
    const r = new Reassembler({ maxBufferedBytes: 1 << 30 });
    r.synchronize(0);
    // 64k one-byte segments in reverse order, each leaving a hole before it: a crafted worst case.
    let gaps = 0;
    let delivered = 0;
    let maxHeld = 0;
    for (let i = 65536; i >= 2; i--) {
      const result = r.push(i, new Uint8Array([i & 0xff]));
      if (result.gap) gaps++;
      delivered += result.chunks.reduce((n, c) => n + c.length, 0);
      maxHeld = Math.max(maxHeld, r.bufferedBytes);
    }
    expect(maxHeld).toBeLessThanOrEqual((MAX_PENDING_SEGMENTS + 1) * 65);
    expect(gaps).toBeGreaterThan(0);
    expect(delivered).toBeGreaterThan(0);
  });

  it('skips holes when the budget shared by all connections is spent', () => {
    const shared = { usedBytes: 0, maxBytes: 150 };
    const a = new Reassembler({ maxBufferedBytes: 1 << 20, shared });
    const b = new Reassembler({ maxBufferedBytes: 1 << 20, shared });
    a.synchronize(0);
    b.synchronize(0);
    expect(a.push(11, bytes.subarray(10, 20)).gap).toBe(false);
    expect(shared.usedBytes).toBe(74);
    expect(b.push(11, bytes.subarray(10, 50)).gap).toBe(true); // 74 + 104 > 150
    a.finish();
    expect(shared.usedBytes).toBe(0);
  });
});
