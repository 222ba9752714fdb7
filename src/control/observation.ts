// control/: pure: what the agent observed on an instance (from its state file or its CloudWatch metrics), in one shape for the gate.

import { gapsCompleteSince, type AgentState, type ObservationGap } from '../contract/agent-state.js';

/** One calling process (the metrics' Process name) and what it did. */
export interface ObservedProcess {
  name: string;
  v1: number;
  v2Token: number;
  v2Get: number;
  /** Probes for another cloud's metadata paths: shown, never counted as IMDSv1 (a `disable-endpoint` gate counts them as calls). */
  foreignProbes: number;
  /** Token answers lost at the hop limit; null when the source cannot tell (CloudWatch). */
  hopLimitExceeded: number | null;
  lastSeen: string | null;
  lastV1Seen: string | null;
  lastHopLimitExceeded: string | null;
}

/** What the agent saw, and over which time. */
export interface Observation {
  source: 'state-file' | 'cloudwatch';
  /** The file, or `CloudWatch <namespace>`. */
  location: string;
  /** First observation; null when there is none. */
  observingSince: string | null;
  /** Last sign of the agent observing (the state file's heartbeat, the last metrics interval). */
  lastUpdate: string | null;
  /** Times it was not observing, oldest first. */
  gaps: ObservationGap[];
  /** `gaps` is complete only from this time on (older stops unknown); null: since observingSince. */
  gapsCompleteSince: string | null;
  processes: ObservedProcess[];
}

/** The Observation of a state file (null state: the agent never ran with this state directory). */
export function observationFromState(state: AgentState | null, location: string): Observation {
  if (state === null) return { source: 'state-file', location, observingSince: null, lastUpdate: null, gaps: [], gapsCompleteSince: null, processes: [] };
  const processes = Object.entries(state.processes).map(([name, t]) => ({
    name,
    v1: t.v1,
    v2Token: t.v2_token,
    v2Get: t.v2_get,
    foreignProbes: t.foreign_probe ?? 0,
    hopLimitExceeded: t.hop_limit_exceeded,
    lastSeen: t.last_seen,
    lastV1Seen: t.last_v1_seen,
    // Files from before 0.2 have totals only: a failure at an unknown time counts as recent.
    lastHopLimitExceeded: t.last_hop_limit_exceeded ?? (t.hop_limit_exceeded > 0 ? t.last_seen : null),
  }));
  processes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { source: 'state-file', location, observingSince: state.observing_since, lastUpdate: state.updated, gaps: state.gaps ?? [], gapsCompleteSince: gapsCompleteSince(state), processes };
}

/** Per-bucket sums read back from CloudWatch for one instance. */
export interface MetricBuckets {
  location: string;
  periodMs: number;
  nowMs: number;
  /** Start times of the buckets that hold the instance aggregate (the agent reports every interval, zeros too). */
  heartbeat: number[];
  /** Per Process dimension: bucket start → sum, for each call kind. */
  processes: Map<string, { v1: Map<number, number>; v2Token: Map<number, number>; v2Get: Map<number, number>; foreignProbes: Map<number, number> }>;
}

function lastBucketWithCalls(...series: Map<number, number>[]): number | null {
  let last: number | null = null;
  for (const s of series) for (const [t, v] of s) if (v > 0 && (last === null || t > last)) last = t;
  return last;
}

function total(series: Map<number, number>): number {
  let sum = 0;
  for (const v of series.values()) sum += v;
  return sum;
}

/**
 * The Observation of an instance's metrics. Times are bucket ends (capped at
 * now): a call in a bucket happened by then. A run of empty buckets between
 * two reporting ones is a gap; hop-limit failures are not in the metrics.
 */
export function observationFromMetrics(m: MetricBuckets): Observation {
  const iso = (ms: number): string => new Date(Math.min(ms, m.nowMs)).toISOString();
  const beats = [...new Set(m.heartbeat)].sort((a, b) => a - b);
  const gaps = [];
  for (let i = 1; i < beats.length; i++) {
    const prevEnd = (beats[i - 1] as number) + m.periodMs;
    if ((beats[i] as number) > prevEnd) gaps.push({ from: iso(prevEnd), to: iso(beats[i] as number) });
  }
  const processes: ObservedProcess[] = [...m.processes.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, s]) => {
      const lastV1 = lastBucketWithCalls(s.v1);
      const lastAny = lastBucketWithCalls(s.v1, s.v2Token, s.v2Get, s.foreignProbes);
      return {
        name,
        v1: total(s.v1),
        v2Token: total(s.v2Token),
        v2Get: total(s.v2Get),
        foreignProbes: total(s.foreignProbes),
        hopLimitExceeded: null,
        lastSeen: lastAny === null ? null : iso(lastAny + m.periodMs),
        lastV1Seen: lastV1 === null ? null : iso(lastV1 + m.periodMs),
        lastHopLimitExceeded: null,
      };
    })
    .filter((p) => p.lastSeen !== null);
  const first = beats[0];
  const last = beats[beats.length - 1];
  return {
    source: 'cloudwatch',
    location: m.location,
    observingSince: first === undefined ? null : iso(first),
    lastUpdate: last === undefined ? null : iso(last + m.periodMs),
    gaps,
    gapsCompleteSince: null,
    processes,
  };
}
