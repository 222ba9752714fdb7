// contract/: the lines of the output contract besides imds_request: start, warning, summary and interval summary.

import type { AttributionCounters } from '../attribute/types.js';
import type { ImdsRequestEvent } from './imds-request-event.js';
import type { ProcessSummary, Verdict } from './process-summary.js';

/** Facts an operator pastes into a ticket. */
export interface HostFacts {
  hostname: string;
  os: string;
  kernel: string;
  instance_id: string | null;
}

export interface StartEvent {
  event: 'start';
  time: string;
  version: string;
  mode: 'live' | 'offline';
  interface: string | null;
  file: string | null;
  filter: string;
  attribution_method: string;
  attribution_note: string;
  duration_s: number | null;
}

export interface WarningEvent {
  event: 'warning';
  time: string;
  code: string;
  message: string;
}

export interface SummaryEvent {
  event: 'summary';
  time: string;
  host: HostFacts;
  interface: string | null;
  file: string | null;
  started: string;
  duration_s: number;
  attribution_method: string;
  /** Live runs only: connections by how their process was found (tracefs, exited, procfs, unknown). */
  attribution_counts?: Record<string, number>;
  /** Live tracefs runs only: the trace reader's own counts; lost events explain an `unknown`. */
  attribution_trace?: AttributionCounters;
  /** Lookups that failed with an error (their events say unknown), and the first error; only when there were some. */
  attribution_errors?: { count: number; first: string };
  requests: number;
  own_requests: number;
  processes: ProcessSummary[];
  verdict: Verdict;
  capture: {
    frames: number;
    connections: number;
    /** Connections whose SYN was not seen (open before the capture started, or the SYN lost). */
    mid_stream_connections: number;
    kernel_drops: number;
    dropped: Record<string, number>;
    /** Why this capture cannot stand as evidence (a damaged or undecodable file), or null. */
    not_evidence: string | null;
  };
}

export type OutputEvent = ImdsRequestEvent | StartEvent | WarningEvent | SummaryEvent;

/** Per-process counts of one summary interval. */
export interface IntervalSummaryEvent {
  event: 'interval_summary';
  time: string;
  interval_start: string;
  interval_seconds: number;
  processes: Array<{ process: string; v1: number; v2_token: number; v2_get: number; foreign_probe: number; other: number; errors: number }>;
}
