// sinks/metrics/: pure: imds_request events → per-process counts per aligned interval, with the cardinality guard.

import type { ImdsRequestEvent } from '../../contract/imds-request-event.js';
import { METRIC_NAMES, OTHER_PROCESS, type MetricName } from '../../contract/metric-names.js';
import { processName, sanitizeDimensionValue } from '../../contract/process-name.js';

/** One process's counts in one interval. */
export type ProcessCounts = Record<MetricName, number>;


/** A finished interval, ready to be turned into datums or EMF lines. */
export interface ClosedInterval {
  /** Unique per interval and run: the ledger uses it to refuse resuming an interval twice. */
  id: string;
  startMs: number;
  endMs: number;
  /** False when closed in order at its end; true for events that came after their interval had closed, or one resumed from an earlier run. */
  late: boolean;
  processes: ReadonlyMap<string, Readonly<ProcessCounts>>;
}

/** The open intervals as JSON, for the state file: a restart resumes them. */
export interface OpenIntervalsState {
  version: 1;
  /** Process names that kept their own dimension, in the order they were first seen. */
  processes: string[];
  intervals: { id: string; startMs: number; endMs: number; counts: Record<string, ProcessCounts> }[];
}

export interface ImportResult {
  imported: number;
  /** Intervals the ledger says were already closed (spooled or sent) before the restart: not counted twice. */
  skippedClosed: number;
  /** Why the state was ignored, when it was not a valid export. */
  invalid: string | null;
}

export interface IntervalCountsOptions {
  intervalSeconds: number;
  maxProcesses: number;
  /** Random per run: makes interval ids unique across restarts. */
  runId: string;
  /** Counting starts with the interval holding this time (the agent's start). */
  startMs: number;
}

/** After a longer gap (suspend, clock jump) empty intervals are not filled in with zeros. */
const MAX_EMPTY_CATCH_UP = 60;
/** Folded names remembered to report each once; beyond this they are folded silently. */
/** A process name not counted for this long gives its dimension place to a new one. */
export const KEPT_NAME_IDLE_MS = 24 * 3600 * 1000;
const MAX_FOLDED_REMEMBERED = 1000;

interface OpenInterval {
  id: string;
  startMs: number;
  endMs: number;
  processes: Map<string, ProcessCounts>;
}

/** Zero for every metric. */
export function zeroCounts(): ProcessCounts {
  return { IMDSv1Calls: 0, IMDSv2TokenCalls: 0, IMDSv2Calls: 0, IMDSv1Rejected: 0, IMDSErrors: 0, ForeignCloudProbes: 0 };
}

/** Adds one event to a process's counts: the metric definitions in one place. */
export function countEvent(counts: ProcessCounts, event: Pick<ImdsRequestEvent, 'kind' | 'status'>): void {
  if (event.kind === 'v1') counts.IMDSv1Calls += 1;
  if (event.kind === 'v2_token') counts.IMDSv2TokenCalls += 1;
  if (event.kind === 'v2_get') counts.IMDSv2Calls += 1;
  if (event.kind === 'v1' && event.status === 401) counts.IMDSv1Rejected += 1;
  if (event.kind === 'foreign_probe') counts.ForeignCloudProbes += 1;
  // A probe for another cloud's path gets 404 (401 once tokens are required) by design: not an IMDS error.
  else if (event.status === null || event.status >= 400) counts.IMDSErrors += 1;
}

/**
 * Counts the workload's requests per process into intervals aligned to
 * `intervalSeconds` of the event's capture time, and hands finished intervals
 * out oldest first. The first `maxProcesses` names keep their own Process
 * dimension for the run; later ones are counted as `other` and reported once.
 */
export class IntervalCounts {
  private readonly lengthMs: number;
  private readonly open = new Map<number, OpenInterval>();
  /** Start of the first interval not yet closed in order. */
  private cursorMs: number;
  private nextSeq = 0;
  /** Names that have their own dimension, with when each was last counted. */
  private readonly kept = new Map<string, number>();
  private readonly folded = new Set<string>();
  private newlyFolded: string[] = [];
  /** What was counted and what was left out. */
  readonly stats = { counted: 0, own: 0, invalidTime: 0, skippedEmptyIntervals: 0 };

  constructor(private readonly options: IntervalCountsOptions) {
    this.lengthMs = options.intervalSeconds * 1000;
    this.cursorMs = this.alignDown(options.startMs);
  }

  private alignDown(ms: number): number {
    return Math.floor(ms / this.lengthMs) * this.lengthMs;
  }

  private newInterval(startMs: number, endMs: number): OpenInterval {
    return { id: `${startMs}-${this.options.runId}-${this.nextSeq++}`, startMs, endMs, processes: new Map() };
  }

  /**
   * The cardinality guard: the name to count `name` under. A name not counted
   * for KEPT_NAME_IDLE_MS gives its place up, so containers that come and go
   * (their names carry the container id) do not push every later process into
   * `other` for good.
   */
  private dimensionFor(name: string, atMs: number): string {
    if (name === OTHER_PROCESS) return name;
    if (this.kept.has(name)) {
      this.kept.set(name, Math.max(atMs, this.kept.get(name) ?? 0));
      return name;
    }
    if (this.kept.size >= this.options.maxProcesses) {
      for (const [kept, lastMs] of this.kept) if (lastMs < atMs - KEPT_NAME_IDLE_MS) this.kept.delete(kept);
    }
    if (this.kept.size < this.options.maxProcesses) {
      this.kept.set(name, atMs);
      this.folded.delete(name);
      return name;
    }
    if (!this.folded.has(name) && this.folded.size < MAX_FOLDED_REMEMBERED) {
      this.folded.add(name);
      this.newlyFolded.push(name);
    }
    return OTHER_PROCESS;
  }

  /** Counts an imds_request event; the agent's own requests are left out. */
  add(event: ImdsRequestEvent): void {
    if (event.own) {
      this.stats.own += 1;
      return;
    }
    const timeMs = Date.parse(event.time);
    if (!Number.isFinite(timeMs)) {
      this.stats.invalidTime += 1;
      return;
    }
    const startMs = this.alignDown(timeMs);
    let interval = this.open.get(startMs);
    if (interval === undefined) {
      interval = this.newInterval(startMs, startMs + this.lengthMs);
      this.open.set(startMs, interval);
    }
    const name = this.dimensionFor(processName(event), timeMs);
    let counts = interval.processes.get(name);
    if (counts === undefined) {
      counts = zeroCounts();
      interval.processes.set(name, counts);
    }
    countEvent(counts, event);
    this.stats.counted += 1;
  }

  /** Names folded into `other` since the last call, each reported once per run. */
  takeNewlyFolded(): string[] {
    const names = this.newlyFolded;
    this.newlyFolded = [];
    return names;
  }

  /**
   * Closes every interval that ended at or before `nowMs`, oldest first.
   * Intervals without events are closed too (as zeros) so a silent instance
   * still reports, except after a gap longer than 60 intervals.
   */
  closeBefore(nowMs: number): ClosedInterval[] {
    const closed: ClosedInterval[] = [];
    const finishedBefore = this.alignDown(nowMs);
    const due = Math.max(0, (finishedBefore - this.cursorMs) / this.lengthMs);
    if (due <= MAX_EMPTY_CATCH_UP) {
      for (let start = this.cursorMs; start < finishedBefore; start += this.lengthMs) {
        closed.push(this.freeze(this.open.get(start) ?? this.newInterval(start, start + this.lengthMs), false));
        this.open.delete(start);
      }
    } else {
      // Walk the open intervals, not the (possibly years long) gap.
      for (const [start, interval] of this.open) {
        if (start < this.cursorMs || start >= finishedBefore) continue;
        closed.push(this.freeze(interval, false));
        this.open.delete(start);
      }
      this.stats.skippedEmptyIntervals += due - closed.length;
    }
    this.cursorMs = Math.max(this.cursorMs, finishedBefore);
    for (const [start, interval] of this.open) {
      if (interval.endMs > nowMs) continue;
      this.open.delete(start);
      closed.push(this.freeze(interval, true));
    }
    return closed.sort((a, b) => a.startMs - b.startMs);
  }

  /** Closes everything at shutdown, the interval holding `nowMs` included (partial, timestamped at its start). */
  closeAll(nowMs: number): ClosedInterval[] {
    const closed = this.closeBefore(this.alignDown(nowMs) + this.lengthMs);
    const rest = [...this.open.values()].map((i) => this.freeze(i, true));
    this.open.clear();
    return [...closed, ...rest].sort((a, b) => a.startMs - b.startMs);
  }

  private freeze(interval: OpenInterval, late: boolean): ClosedInterval {
    return { id: interval.id, startMs: interval.startMs, endMs: interval.endMs, late, processes: interval.processes };
  }

  /** The open intervals and the guard's names as plain JSON. */
  exportOpen(): OpenIntervalsState {
    return {
      version: 1,
      processes: [...this.kept.keys()],
      intervals: [...this.open.values()].map((i) => ({
        id: i.id,
        startMs: i.startMs,
        endMs: i.endMs,
        counts: Object.fromEntries([...i.processes].map(([name, c]) => [name, { ...c }])),
      })),
    };
  }

  /**
   * Resumes what an earlier run exported; call before counting. `isClosed`
   * says whether an interval id was already closed (its datums spooled or
   * sent): a state file older than that close must not count it twice.
   */
  importOpen(state: unknown, isClosed: (id: string) => boolean): ImportResult {
    const invalid = validateState(state);
    if (invalid !== null) return { imported: 0, skippedClosed: 0, invalid };
    const valid = state as OpenIntervalsState;
    // Names resumed from a state file count as seen now: they keep their place for a day at most.
    for (const name of valid.processes) this.dimensionFor(sanitizeDimensionValue(name), this.options.startMs);
    this.newlyFolded = [];
    let imported = 0;
    let skippedClosed = 0;
    for (const saved of valid.intervals) {
      if (isClosed(saved.id)) {
        skippedClosed += 1;
        continue;
      }
      const interval = this.open.get(saved.startMs) ?? { ...this.newInterval(saved.startMs, saved.endMs), id: saved.id };
      this.open.set(saved.startMs, interval);
      for (const [rawName, counts] of Object.entries(saved.counts)) {
        const name = this.dimensionFor(sanitizeDimensionValue(rawName), saved.startMs);
        const into = interval.processes.get(name) ?? zeroCounts();
        for (const metric of METRIC_NAMES) into[metric] += counts[metric] ?? 0;
        interval.processes.set(name, into);
      }
      imported += 1;
    }
    return { imported, skippedClosed, invalid: null };
  }
}

/** Metrics that exports of earlier versions do not have. */
const OPTIONAL_IN_EXPORT: Partial<Record<MetricName, true>> = { ForeignCloudProbes: true };

function isCount(value: unknown): boolean {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Checks an export read back from a state file, which may be damaged or from another version. */
function validateState(state: unknown): string | null {
  if (typeof state !== 'object' || state === null) return 'not an object';
  const s = state as Partial<OpenIntervalsState>;
  if (s.version !== 1) return `unknown version ${String(s.version)}`;
  if (!Array.isArray(s.processes) || !s.processes.every((p) => typeof p === 'string')) return 'processes is not a list of names';
  if (!Array.isArray(s.intervals)) return 'intervals is not a list';
  for (const i of s.intervals as unknown[]) {
    const iv = i as Partial<OpenIntervalsState['intervals'][number]> | null;
    if (iv === null || typeof iv !== 'object' || typeof iv.id !== 'string' || !isCount(iv.startMs) || !isCount(iv.endMs)) return 'an interval has no id, startMs or endMs';
    if ((iv.endMs as number) <= (iv.startMs as number)) return 'an interval ends before it starts';
    if (typeof iv.counts !== 'object' || iv.counts === null) return 'an interval has no counts';
    for (const c of Object.values(iv.counts as object) as unknown[]) {
      // A metric added since the export was written (ForeignCloudProbes) may be missing: it counted nothing then.
      if (typeof c !== 'object' || c === null || !METRIC_NAMES.every((m) => isCount((c as Record<string, unknown>)[m]) || (m in OPTIONAL_IN_EXPORT && (c as Record<string, unknown>)[m] === undefined))) return 'an interval has a bad count';
    }
  }
  return null;
}
