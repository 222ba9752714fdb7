// contract/: the state file's format (version 1), the gate's evidence: per-process totals, IMDSv1 last-seen times and the agent's stops.

import { readFileSync } from 'node:fs';

/** Totals for one process name since the agent first ran on this host. */
export interface ProcessTotals {
  comm: string | null;
  exe: string | null;
  container_id: string | null;
  v1: number;
  v2_token: number;
  v2_get: number;
  /** Probes for another cloud's metadata paths: never IMDSv1 (absent in files of earlier versions: 0). */
  foreign_probe?: number;
  /** Requests answered 4xx/5xx or not at all; a foreign probe's expected 404 or 401 is not counted. */
  errors: number;
  hop_limit_exceeded: number;
  first_seen: string;
  last_seen: string;
  /** The last IMDSv1 call: what a gate on "no IMDSv1 for N hours" reads. */
  last_v1_seen: string | null;
  /** The last token answer lost at the hop limit (absent in files written before 0.2). */
  last_hop_limit_exceeded?: string | null;
  /**
   * A bucket only: how many names were folded into it. `<program>@*` holds a
   * program's containers past the cap; `other` the rest, and names not seen for
   * the retention time. Its times are the latest of what it holds.
   */
  folded?: number;
}

/** A time the agent was not observing: between the last write of one run and the start of the next. */
export interface ObservationGap {
  from: string;
  to: string;
}

/** Gaps shorter than this (a quick restart) are not recorded. */
export const GAP_RECORD_MIN_MS = 5_000;
/** Only the most recent gaps are kept. */
export const MAX_RECORDED_GAPS = 100;

/** The file's content (version 1). Read by the control commands. */
export interface AgentState {
  version: 1;
  /** When this host's agent first started observing (kept across restarts). */
  observing_since: string;
  /** Last time the running agent wrote the file. */
  updated: string;
  /** By process name, the same as the metrics' Process dimension. */
  processes: Record<string, ProcessTotals>;
  /** Times the agent was stopped, oldest first (absent in files written before 0.2). */
  gaps?: ObservationGap[];
  /**
   * `gaps` lists every stop since this time: older ones were dropped (more than
   * MAX_RECORDED_GAPS) or never recorded (a file from before 0.2). Absent: since observing_since.
   */
  gaps_complete_since?: string;
  /** Opaque data other sinks keep across restarts (the open metrics interval). */
  extra: Record<string, unknown>;
}

/** Reads a state file; null when there is none. Throws on a file that exists but is not a state file. */
export function readState(path: string): AgentState | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const state = JSON.parse(text) as AgentState;
  if (state.version !== 1 || typeof state.processes !== 'object' || state.processes === null) throw new Error('not an imds-sniff state file (version 1)');
  // The enforce gate compares these times: one that does not parse must not read as "long ago".
  const bad = (t: unknown, nullable: boolean): boolean => !((nullable && (t === null || t === undefined)) || (typeof t === 'string' && !Number.isNaN(Date.parse(t))));
  if (bad(state.observing_since, false) || bad(state.updated, false)) throw new Error('observing_since / updated are not times');
  for (const [name, p] of Object.entries(state.processes)) {
    if (bad(p.last_seen, false) || bad(p.last_v1_seen, true) || bad(p.last_hop_limit_exceeded, true) || typeof p.v1 !== 'number' || !(p.foreign_probe === undefined || typeof p.foreign_probe === 'number')) throw new Error(`process ${JSON.stringify(name).slice(0, 80)}: bad times or counts`);
  }
  for (const g of state.gaps ?? []) if (bad(g.from, false) || bad(g.to, false)) throw new Error('gaps: bad times');
  if (bad(state.gaps_complete_since, true)) throw new Error('gaps_complete_since: not a time');
  state.extra ??= {};
  return state;
}

/** From when the file's `gaps` lists every stop; null: since `observing_since`. A file from before 0.2 kept none: since its last write. */
export function gapsCompleteSince(state: AgentState): string | null {
  return state.gaps_complete_since ?? (state.gaps === undefined ? state.updated : null);
}
