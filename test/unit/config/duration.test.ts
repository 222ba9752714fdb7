import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../../src/config/duration.js';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['500ms', 500],
    ['30', 30_000],
    ['1.5s', 1500],
  ])('%s → %d ms', (text, ms) => expect(parseDuration(text, '--duration')).toBe(ms));

  it.each(['', 'ten', '10x', '-5s', '0s', '0', '0.0', '5 m', '25d', '99999999999h'])('rejects %j with a usage error', (text) => {
    expect(() => parseDuration(text, '--duration')).toThrowError(/--duration/);
  });
});
