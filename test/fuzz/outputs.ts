// Fuzz harness: everything the agent would show for one session — the JSON line of every event, the
// table line of every request, and the rendered summary — built with the product's own sinks.

import { isoTime } from '../../src/pipeline/events.js';
import { type ImdsRequestEvent } from '../../src/contract/imds-request-event.js';
import type { PipelineStats } from '../../src/pipeline/pipeline.js';
import { Aggregator } from '../../src/summary/aggregator.js';
import type { SummaryEvent } from '../../src/contract/output-events.js';
import { renderSummary } from '../../src/summary/summary-text.js';
import { formatRequestLine } from '../../src/sinks/table.js';

/** The outputs of one session, as text. */
export interface FuzzOutputs {
  /** `--format json`: one line per request event, then the summary event. */
  jsonLines: string[];
  /** `--format table`: one line per request. */
  tableLines: string[];
  /** `--format table`: the summary block, split into its lines. */
  summaryLines: string[];
  /**
   * Lines the summary block has beyond what the same summary renders to once
   * every control character is taken out of its texts: a newline inside a
   * process name or command line would forge a line of its own, which looking
   * at the lines one by one cannot show. 0 when none.
   */
  summaryForgedLines: number;
}

const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** A deep copy with every control character removed from every string. */
function withoutControls<T>(value: T): T {
  if (typeof value === 'string') return value.replace(CONTROLS, '') as T;
  if (Array.isArray(value)) return value.map((v: unknown) => withoutControls(v)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutControls(v)])) as T;
  return value;
}

/** Host facts are the harness's own: constant, so outputs of two runs compare equal. */
const HOST = { hostname: 'fuzz-host', os: 'fuzz', kernel: 'fuzz', instance_id: null };

/**
 * The summary as src/pipeline/session.ts `summaryOf` builds it for an offline
 * analysis: an Aggregator fed every request, the pipeline's counters. Its time
 * is the last capture time, so that it too is deterministic.
 */
export function buildSummary(events: readonly ImdsRequestEvent[], stats: PipelineStats, span: { firstUs: number | null; lastUs: number }): SummaryEvent {
  const aggregator = new Aggregator();
  for (const event of events) aggregator.add(event);
  return {
    event: 'summary',
    time: isoTime(span.lastUs),
    host: HOST,
    interface: null,
    file: 'fuzz-input.pcap',
    started: span.firstUs === null ? new Date(0).toISOString() : isoTime(span.firstUs),
    duration_s: span.firstUs === null ? 0 : Math.round((span.lastUs - span.firstUs) / 100_000) / 10,
    attribution_method: 'none',
    requests: stats.requests - aggregator.ownRequests,
    own_requests: aggregator.ownRequests,
    processes: aggregator.processes(),
    verdict: aggregator.verdict(),
    capture: { frames: stats.frames, connections: stats.connections, mid_stream_connections: stats.midStream, kernel_drops: 0, dropped: { ...stats.dropped }, not_evidence: null },
  };
}

/** Renders every output of one session. Throws what the sinks throw (the caller counts it as an exception). */
export function collectOutputs(events: readonly ImdsRequestEvent[], stats: PipelineStats, span: { firstUs: number | null; lastUs: number }): FuzzOutputs {
  const summary = buildSummary(events, stats, span);
  const summaryLines = renderSummary(summary).split('\n');
  return {
    jsonLines: [...events.map((e) => JSON.stringify(e)), JSON.stringify(summary)],
    tableLines: events.map((e) => formatRequestLine(e)),
    summaryLines,
    summaryForgedLines: summaryLines.length - renderSummary(withoutControls(summary)).split('\n').length,
  };
}
