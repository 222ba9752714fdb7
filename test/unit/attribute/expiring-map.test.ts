import { describe, expect, it } from 'vitest';
import { ExpiringMap } from '../../../src/attribute/expiring-map.js';

describe('ExpiringMap', () => {
  it.each([
    ['fresh entry', 0, 50, 'v'],
    ['at the ttl', 0, 100, 'v'],
    ['past the ttl', 0, 101, undefined],
  ])('%s', (_name, setAt, getAt, expected) => {
    const m = new ExpiringMap<string, string>({ ttlMs: 100, maxEntries: 10 });
    m.set('k', 'v', setAt);
    expect(m.get('k', getAt)).toBe(expected);
  });

  it('drops the oldest beyond maxEntries and refreshes on set', () => {
    const m = new ExpiringMap<number, number>({ ttlMs: 1_000, maxEntries: 3 });
    for (let i = 0; i < 3; i++) m.set(i, i, i);
    m.set(0, 0, 3); // refresh 0: now 1 is the oldest
    m.set(4, 4, 4);
    expect([m.get(0, 5), m.get(1, 5), m.get(2, 5), m.get(4, 5)]).toEqual([0, undefined, 2, 4]);
    expect(m.size).toBe(3);
  });

  it('prunes expired entries on set', () => {
    const m = new ExpiringMap<number, number>({ ttlMs: 10, maxEntries: 100 });
    for (let i = 0; i < 50; i++) m.set(i, i, i);
    expect(m.size).toBeLessThanOrEqual(11);
  });
});
