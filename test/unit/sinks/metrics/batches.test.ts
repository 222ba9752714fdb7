// Unit tests: PutMetricData batching within 1000 datums, 1 MB and 30 dimensions.
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { datumBytes, splitIntoBatches } from '../../../../src/sinks/metrics/batches.js';

function datum(i: number, valueLength = 8, dimensions = 2): MetricDatum {
  return {
    MetricName: 'IMDSv1Calls', Value: i, Unit: 'Count', Timestamp: new Date(1_795_000_000_000),
    Dimensions: Array.from({ length: dimensions }, (_, d) => ({ Name: `D${d}`, Value: `${String(i).padStart(valueLength, 'p')}` })),
  };
}

describe('splitIntoBatches', () => {
  it.each([
    [0, []],
    [1, [1]],
    [1000, [1000]],
    [1001, [1000, 1]],
    [2500, [1000, 1000, 500]],
  ])('%i small datums → batch sizes %j (1000 per call)', (n, sizes) => {
    const { batches, rejected } = splitIntoBatches(Array.from({ length: n }, (_, i) => datum(i)), 'IMDSSniff');
    expect(batches.map((b) => b.length)).toEqual(sizes);
    expect(rejected).toEqual([]);
  });

  it('keeps every request under 1 MB with large datums, in order', () => {
    const datums = Array.from({ length: 900 }, (_, i) => datum(i, 1000, 2));
    const { batches } = splitIntoBatches(datums, 'IMDSSniff');
    expect(batches.length).toBeGreaterThan(1);
    for (const b of batches) {
      const body = JSON.stringify({ Namespace: 'IMDSSniff', MetricData: b.map((d) => ({ ...d, Timestamp: (d.Timestamp as Date).getTime() / 1000 })) });
      expect(Buffer.byteLength(body)).toBeLessThanOrEqual(1_000_000);
    }
    expect(batches.flat()).toEqual(datums);
  });

  it('fills a call to the byte budget exactly', () => {
    const d = datum(1);
    const envelope = Buffer.byteLength(JSON.stringify({ Namespace: 'N', MetricData: [] }));
    const limits = { maxDatums: 1000, maxBytes: envelope + 3 * datumBytes(d), maxDimensions: 30 };
    expect(splitIntoBatches([d, d, d, d], 'N', limits).batches.map((b) => b.length)).toEqual([3, 1]);
  });

  it('rejects datums with more than 30 dimensions or larger than a whole request', () => {
    const tooWide = datum(1, 8, 31);
    const tooBig = datum(2, 1_100_000, 1);
    const { batches, rejected } = splitIntoBatches([datum(0, 8, 30), tooWide, tooBig], 'IMDSSniff');
    expect(batches.map((b) => b.length)).toEqual([1]);
    expect(rejected).toEqual([tooWide, tooBig]);
  });
});
