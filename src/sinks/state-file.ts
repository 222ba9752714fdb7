// sinks/: the state file — per-process totals and IMDSv1 last-seen times that survive restarts.

import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { processName } from './metrics/process-name.js';
import type { OutputEvent, Sink } from './sink.js';

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

/**
 * Keeps the totals in memory and writes them atomically (temp file + rename,
 * mode 0640) on `flush()`, which the daemon calls every few seconds and at
 * exit: a SIGKILL loses at most those seconds of totals, never doubles them. A corrupt file is moved aside and a fresh count starts, with a warning.
 */
export class StateFile implements Sink {
  readonly state: AgentState;

  constructor(
    private readonly path: string,
    now: Date,
    warn: (message: string) => void,
  ) {
    let loaded: AgentState | null = null;
    try {
      loaded = readState(path);
    } catch (error) {
      const aside = `${path}.corrupt-${now.getTime()}`;
      try {
        renameSync(path, aside);
      } catch {
        /* nothing to move */
      }
      warn(`state file ${path} could not be read (${(error as Error).message}); moved to ${aside}, counting from zero`);
    }
    this.state = loaded ?? { version: 1, observing_since: now.toISOString(), updated: now.toISOString(), processes: {}, gaps: [], extra: {} };
    if (loaded === null) return;
    // A file from before 0.2 (no `gaps`) says nothing of the stops before its last write.
    const complete = gapsCompleteSince(loaded);
    if (complete !== null) this.state.gaps_complete_since = complete;
    const gaps = (this.state.gaps ??= []);
    // The time since the last run's final write was not observed: the control gate must know.
    if (now.getTime() - Date.parse(loaded.updated) >= GAP_RECORD_MIN_MS) {
      gaps.push({ from: loaded.updated, to: now.toISOString() });
      if (gaps.length > MAX_RECORDED_GAPS) {
        const dropped = gaps.splice(0, gaps.length - MAX_RECORDED_GAPS);
        this.state.gaps_complete_since = (dropped[dropped.length - 1] as ObservationGap).to;
      }
    }
  }

  write(event: OutputEvent): void {
    if (event.event !== 'imds_request' || event.own) return;
    const name = processName(event); // the same name as the metrics' Process dimension
    const t = (this.state.processes[name] ??= {
      comm: event.comm,
      exe: event.exe,
      container_id: event.container_id,
      v1: 0,
      v2_token: 0,
      v2_get: 0,
      foreign_probe: 0,
      errors: 0,
      hop_limit_exceeded: 0,
      first_seen: event.time,
      last_seen: event.time,
      last_v1_seen: null,
      last_hop_limit_exceeded: null,
    });
    if (event.kind === 'foreign_probe') t.foreign_probe = (t.foreign_probe ?? 0) + 1;
    else if (event.kind !== 'other') t[event.kind] += 1;
    if (event.kind !== 'foreign_probe' && (event.status === null || event.status >= 400)) t.errors += 1;
    if (event.hop_limit_exceeded) {
      t.hop_limit_exceeded += 1;
      if ((t.last_hop_limit_exceeded ?? '') < event.time) t.last_hop_limit_exceeded = event.time;
    }
    if (event.time > t.last_seen) t.last_seen = event.time;
    if (event.kind === 'v1' && (t.last_v1_seen === null || event.time > t.last_v1_seen)) t.last_v1_seen = event.time;
  }

  /** Keeps `value` under `key` in the file (for another sink's restart). */
  setExtra(key: string, value: unknown): void {
    this.state.extra[key] = value;
  }

  /** Writes the file (also as a heartbeat: `updated` says the agent was observing). Throws on I/O errors (the caller logs them). */
  flush(now: Date): void {
    this.state.updated = now.toISOString();
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 1)}\n`, { mode: 0o640 });
    renameSync(tmp, this.path);
  }

  async close(): Promise<void> {
    this.flush(new Date());
  }
}
