// sinks/: the state file — per-process totals and IMDSv1 last-seen times that survive restarts.

import { renameSync, writeFileSync } from 'node:fs';
import { GAP_RECORD_MIN_MS, MAX_RECORDED_GAPS, gapsCompleteSince, readState, type AgentState, type ObservationGap, type ProcessTotals } from '../contract/agent-state.js';
import { processName } from '../contract/process-name.js';
import { OTHER_PROCESS } from '../contract/metric-names.js';
import { UsageError } from '../errors.js';
import { planFolds, type FoldCandidate } from '../summary/fold-plan.js';
import type { Sink } from '../contract/sink.js';
import type { OutputEvent } from '../contract/output-events.js';

/** How large the `processes` table may grow. */
export interface StateBounds {
  /** Names kept apart; past it the oldest non-IMDSv1 ones fold into buckets first. */
  maxProcesses: number;
  /** A name not seen for this long folds into `other` (its totals stay counted there). */
  retentionMs: number;
}

/** 500 names (a file of about 200 KB), kept for 35 days: longer than any gate window in use. */
export const DEFAULT_STATE_BOUNDS: Readonly<StateBounds> = Object.freeze({ maxProcesses: 500, retentionMs: 35 * 86_400_000 });

/** Expiry by age runs at most this often (at a flush). */
const EXPIRY_EVERY_MS = 60_000;

function emptyTotals(comm: string | null, exe: string | null, containerId: string | null, time: string): ProcessTotals {
  return { comm, exe, container_id: containerId, v1: 0, v2_token: 0, v2_get: 0, foreign_probe: 0, errors: 0, hop_limit_exceeded: 0, first_seen: time, last_seen: time, last_v1_seen: null, last_hop_limit_exceeded: null };
}

const later = (a: string | null | undefined, b: string | null | undefined): string | null => ((a ?? '') >= (b ?? '') ? (a ?? null) : (b ?? null));

/** A file from before 0.2 has hop-limit totals only: a failure at an unknown time counts as at `last_seen` (as the gate reads it). */
function lastHopLimitTime(p: ProcessTotals): string | null {
  return p.last_hop_limit_exceeded ?? (p.hop_limit_exceeded > 0 ? p.last_seen : null);
}

/** The latest time an entry gave the gate something to refuse on, or null. */
function evidenceTime(p: ProcessTotals): string | null {
  return later(p.last_v1_seen, lastHopLimitTime(p));
}

/** Adds `from`'s counts to the bucket `into`, keeping the earliest first and the latest last times. */
function mergeTotals(into: ProcessTotals, from: ProcessTotals): void {
  into.v1 += from.v1;
  into.v2_token += from.v2_token;
  into.v2_get += from.v2_get;
  into.foreign_probe = (into.foreign_probe ?? 0) + (from.foreign_probe ?? 0);
  into.errors += from.errors;
  into.hop_limit_exceeded += from.hop_limit_exceeded;
  into.folded = (into.folded ?? 0) + (from.folded ?? 1);
  if (from.first_seen < into.first_seen) into.first_seen = from.first_seen;
  into.last_seen = later(into.last_seen, from.last_seen) ?? into.last_seen;
  into.last_v1_seen = later(into.last_v1_seen, from.last_v1_seen);
  into.last_hop_limit_exceeded = later(lastHopLimitTime(into), lastHopLimitTime(from));
}

/**
 * Keeps the totals in memory and writes them atomically (temp file + rename,
 * mode 0640) on `flush()`, which the daemon calls every few seconds and at
 * exit: a SIGKILL loses at most those seconds of totals, never doubles them. A corrupt file is moved aside and a fresh count starts, with a warning.
 */
export class StateFile implements Sink {
  readonly state: AgentState;
  /** Keys of `state.processes` (kept so a write does not count them). */
  private names = 0;
  private lastExpiryMs = 0;

  constructor(
    private readonly path: string,
    now: Date,
    warn: (message: string) => void,
    private readonly bounds: StateBounds = DEFAULT_STATE_BOUNDS,
  ) {
    let loaded: AgentState | null = null;
    try {
      loaded = readState(path);
    } catch (error) {
      // A file that cannot be read (permissions, a directory) is no corrupt file: moving it aside would lose the evidence.
      const code = (error as NodeJS.ErrnoException).code;
      if (typeof code === 'string') {
        throw new UsageError('ERR_STATE_UNREADABLE', `cannot read the state file ${path} (${code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code})`, {
          hint: 'run the daemon as root (the systemd unit does), or give it a stateDir it owns',
          cause: error,
        });
      }
      const aside = `${path}.corrupt-${now.getTime()}`;
      try {
        renameSync(path, aside);
      } catch {
        /* nothing to move */
      }
      warn(`state file ${path} could not be read (${(error as Error).message}); moved to ${aside}, counting from zero`);
    }
    this.state = loaded ?? { version: 1, observing_since: now.toISOString(), updated: now.toISOString(), processes: {}, gaps: [], extra: {} };
    // Names come from the watched host's programs: `__proto__` must be a key like any other.
    this.state.processes = Object.assign(Object.create(null) as AgentState['processes'], this.state.processes);
    this.names = Object.keys(this.state.processes).length;
    if (this.names > this.bounds.maxProcesses) this.fold(null);
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
    const processes = this.state.processes;
    const known = processes[name];
    const t = known ?? (processes[name] = emptyTotals(event.comm, event.exe, event.container_id, event.time));
    if (event.kind === 'foreign_probe') t.foreign_probe = (t.foreign_probe ?? 0) + 1;
    else if (event.kind !== 'other') t[event.kind] += 1;
    if (event.kind !== 'foreign_probe' && (event.status === null || event.status >= 400)) t.errors += 1;
    if (event.hop_limit_exceeded) {
      t.hop_limit_exceeded += 1;
      if ((t.last_hop_limit_exceeded ?? '') < event.time) t.last_hop_limit_exceeded = event.time;
    }
    if (event.time > t.last_seen) t.last_seen = event.time;
    if (event.kind === 'v1' && (t.last_v1_seen === null || event.time > t.last_v1_seen)) t.last_v1_seen = event.time;
    if (known === undefined && ++this.names > this.bounds.maxProcesses) this.fold(null);
  }

  /**
   * Keeps the table bounded: past `maxProcesses` names, and for names not seen
   * for `retentionMs` (`nowMs` given), entries fold into buckets (fold-plan.ts):
   * `<program>@*` for a container's, `other` for the rest. A bucket keeps the
   * latest IMDSv1 and hop-limit times of all it holds: the gate still refuses on
   * every IMDSv1 caller in its window, by program name or as `other`.
   */
  private fold(nowMs: number | null): void {
    const processes = this.state.processes;
    const candidates = (): FoldCandidate[] =>
      Object.entries(processes).map(([key, p]) => {
        // What the gate reads is the last IMDSv1 call (or lost token answer): an IMDSv1 caller is as recent as that.
        const evidence = evidenceTime(p);
        return {
          key,
          lastSeen: evidence ?? p.last_seen,
          evidence: evidence !== null,
          programKey: p.container_id === null ? null : `${processName({ exe: p.exe, comm: p.comm, container_id: null })}@*`,
          bucket: p.folded === undefined ? null : key === OTHER_PROCESS ? 'other' : 'program',
        };
      });
    if (nowMs !== null) {
      const oldest = new Date(nowMs - this.bounds.retentionMs).toISOString();
      for (const c of candidates()) if (c.bucket !== 'other' && c.lastSeen < oldest) this.foldOne(c.key, OTHER_PROCESS);
    }
    for (let round = 0; round < 3 && this.names > this.bounds.maxProcesses; round += 1) {
      for (const [key, target] of planFolds(candidates(), this.bounds.maxProcesses)) this.foldOne(key, target.into === 'other' ? OTHER_PROCESS : target.key);
    }
  }

  private foldOne(key: string, intoKey: string): void {
    const processes = this.state.processes;
    const from = processes[key];
    if (from === undefined || key === intoKey) return;
    delete processes[key];
    let into = processes[intoKey];
    if (into === undefined || into.folded === undefined) {
      // A program that happens to be called like a bucket joins it.
      const existing = into;
      into = processes[intoKey] = { ...emptyTotals(intoKey === OTHER_PROCESS ? null : from.comm, intoKey === OTHER_PROCESS ? null : from.exe, null, from.first_seen), folded: 0 };
      this.names += existing === undefined ? 1 : 0;
      if (existing !== undefined) mergeTotals(into, existing);
    }
    mergeTotals(into, from);
    this.names -= 1;
  }

  /** Process names kept apart now (buckets included). */
  get processCount(): number {
    return this.names;
  }

  /** Keeps `value` under `key` in the file (for another sink's restart). */
  setExtra(key: string, value: unknown): void {
    this.state.extra[key] = value;
  }

  /** Writes the file (also as a heartbeat: `updated` says the agent was observing). Throws on I/O errors (the caller logs them). */
  flush(now: Date): void {
    if (now.getTime() - this.lastExpiryMs >= EXPIRY_EVERY_MS) {
      this.lastExpiryMs = now.getTime();
      this.fold(now.getTime());
    }
    this.state.updated = now.toISOString();
    const tmp = `${this.path}.tmp-${process.pid}`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 1)}\n`, { mode: 0o640 });
    renameSync(tmp, this.path);
  }

  async close(): Promise<void> {
    this.flush(new Date());
  }
}
