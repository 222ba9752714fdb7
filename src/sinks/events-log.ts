// sinks/: the events log file — request events as JSON lines (IMDSv1 always), interval summaries, reopen on SIGHUP.

import { closeSync, openSync, writeSync } from 'node:fs';
import type { IntervalSummaryEvent } from '../contract/output-events.js';
import type { ImdsRequestEvent } from '../contract/imds-request-event.js';
import type { Sink } from '../contract/sink.js';
import type { OutputEvent } from '../contract/output-events.js';
import { processName } from '../contract/process-name.js';
import { jsonTerminalSafe } from '../text/terminal-safe.js';

export type LogV2 = 'all' | 'summary' | 'none';


/** Errors while writing, for the daemon's warnings (the capture goes on regardless). */
export interface LogProblem {
  message: string;
}

/**
 * Appends events to a file (mode 0640), one synchronous write per line on a
 * file descriptor of its own. (pino.destination was tried: on a full disk
 * sonic-boom emitted 179 errors for 200 lines and then never returned from
 * flushSync, which would hang the shutdown; a plain write either lands or
 * throws.) IMDSv1, `foreign_probe` and `other` requests are always written; IMDSv2 ones per
 * `logV2`. A file that cannot be opened or written (unwritable directory, full
 * disk) is reported through `onProblem`, its lines counted as dropped, and
 * opening is retried at the next line: the capture never stops for it.
 */
export class EventsLog implements Sink {
  private fd: number | null = null;
  /** A write was cut short (disk full): the next line starts on a fresh line. */
  private partial = false;
  /** Problems already reported, so a full disk is said once, not per line. */
  private reported = new Set<string>();
  private counts = new Map<string, IntervalSummaryEvent['processes'][number]>();
  private intervalStartMs: number;
  /** Lines that could not be written. */
  droppedLines = 0;

  constructor(
    readonly path: string,
    private logV2: LogV2,
    private readonly summaryIntervalSeconds: number,
    private readonly onProblem: (problem: LogProblem) => void,
    nowMs: number,
  ) {
    this.intervalStartMs = nowMs;
    this.open();
  }

  private open(): boolean {
    if (this.fd !== null) return true;
    try {
      this.fd = openSync(this.path, 'a', 0o640);
      return true;
    } catch (error) {
      this.problem(error as Error);
      return false;
    }
  }

  private problem(error: Error): void {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ENOSPC' ? 'disk full' : code === 'EACCES' || code === 'EROFS' ? 'not writable' : code === 'ENOENT' ? 'no such directory' : error.message;
    if (this.reported.has(why)) return;
    this.reported.add(why);
    this.onProblem({ message: `events log ${this.path}: ${why}; lines are dropped (and counted) until it can be written` });
  }

  private line(object: object): void {
    if (!this.open()) {
      this.droppedLines += 1;
      return;
    }
    try {
      const text = `${this.partial ? '\n' : ''}${jsonTerminalSafe(JSON.stringify(object))}\n`;
      const written = writeSync(this.fd as number, text);
      if (written < Buffer.byteLength(text)) {
        this.partial = true;
        throw Object.assign(new Error('short write'), { code: 'ENOSPC' });
      }
      this.partial = false;
      if (this.reported.size > 0) {
        this.reported.clear();
        this.onProblem({ message: `events log ${this.path}: writable again (${this.droppedLines} lines were dropped)` });
      }
    } catch (error) {
      this.droppedLines += 1;
      // A failed write may still have put part of the line in the file.
      if ((error as NodeJS.ErrnoException).code === 'ENOSPC') this.partial = true;
      this.problem(error as Error);
    }
  }

  write(event: OutputEvent): void {
    if (event.event !== 'imds_request') return;
    this.count(event);
    const isV2 = event.kind === 'v2_token' || event.kind === 'v2_get';
    if (isV2 && this.logV2 !== 'all') return;
    this.line(event);
  }

  private count(e: ImdsRequestEvent): void {
    if (e.own) return;
    if ((e.kind === 'v2_token' || e.kind === 'v2_get') && this.logV2 === 'none') return;
    const name = processName(e);
    let c = this.counts.get(name);
    if (!c) {
      c = { process: name, v1: 0, v2_token: 0, v2_get: 0, foreign_probe: 0, other: 0, errors: 0 };
      this.counts.set(name, c);
    }
    c[e.kind] += 1;
    // A foreign probe's 404 (401 once tokens are required) is its expected answer, not an error.
    if (e.kind !== 'foreign_probe' && (e.status === null || e.status >= 400)) c.errors += 1;
  }

  /** Writes the interval summary when the interval is over. Returns it (for the status log), or null. */
  tick(nowMs: number): IntervalSummaryEvent | null {
    if (nowMs - this.intervalStartMs < this.summaryIntervalSeconds * 1000) return null;
    const summary: IntervalSummaryEvent = {
      event: 'interval_summary',
      time: new Date(nowMs).toISOString(),
      interval_start: new Date(this.intervalStartMs).toISOString(),
      interval_seconds: this.summaryIntervalSeconds,
      processes: [...this.counts.values()].sort((a, b) => b.v1 - a.v1 || a.process.localeCompare(b.process)),
    };
    this.counts = new Map();
    this.intervalStartMs = nowMs;
    this.line(summary);
    return summary;
  }

  /** SIGHUP: reopen the file (logrotate moved it) and take a new logV2 setting. */
  reopen(logV2: LogV2): void {
    this.logV2 = logV2;
    this.closeFd();
    this.open();
  }

  private closeFd(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already gone */
    }
    this.fd = null;
  }

  async close(): Promise<void> {
    this.closeFd();
  }
}
