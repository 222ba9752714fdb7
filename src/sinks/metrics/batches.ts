// sinks/metrics/: pure: datums → PutMetricData batches within the service limits.

import type { MetricDatum } from '@aws-sdk/client-cloudwatch';

/** PutMetricData limits (CloudWatch quotas): datums per call, request bytes, dimensions per datum. */
export interface BatchLimits {
  maxDatums: number;
  /** Request body budget; the service limit is 1 MB, this leaves room for the HTTP framing. */
  maxBytes: number;
  maxDimensions: number;
}

export const PUT_METRIC_DATA_LIMITS: Readonly<BatchLimits> = Object.freeze({ maxDatums: 1000, maxBytes: 1_000_000, maxDimensions: 30 });

export interface Batches {
  /** Each is the MetricData of one PutMetricData call, in the order given. */
  batches: MetricDatum[][];
  /** Datums no call can carry (too many dimensions, or larger than a whole request): dropped and counted. */
  rejected: MetricDatum[];
}

/**
 * Bytes a datum adds to the request body. The client sends AWS JSON 1.0
 * (timestamps as epoch seconds), uncompressed before the optional gzip, so
 * this is exact for what the service measures, plus one for the comma.
 */
export function datumBytes(datum: MetricDatum): number {
  const timestamp = datum.Timestamp === undefined ? undefined : datum.Timestamp.getTime() / 1000;
  return Buffer.byteLength(JSON.stringify({ ...datum, Timestamp: timestamp })) + 1;
}

/** Splits datums into as few calls as the limits allow, keeping their order. */
export function splitIntoBatches(datums: readonly MetricDatum[], namespace: string, limits: BatchLimits = PUT_METRIC_DATA_LIMITS): Batches {
  const envelopeBytes = Buffer.byteLength(JSON.stringify({ Namespace: namespace, MetricData: [] }));
  const batches: MetricDatum[][] = [];
  const rejected: MetricDatum[] = [];
  let current: MetricDatum[] = [];
  let currentBytes = envelopeBytes;
  for (const datum of datums) {
    const bytes = datumBytes(datum);
    if ((datum.Dimensions?.length ?? 0) > limits.maxDimensions || envelopeBytes + bytes > limits.maxBytes) {
      rejected.push(datum);
      continue;
    }
    if (current.length >= limits.maxDatums || currentBytes + bytes > limits.maxBytes) {
      batches.push(current);
      current = [];
      currentBytes = envelopeBytes;
    }
    current.push(datum);
    currentBytes += bytes;
  }
  if (current.length > 0) batches.push(current);
  return { batches, rejected };
}
