// sinks/metrics/: which intervals were already closed (spooled or written), so a restart from an older state file cannot count one twice.

import { mkdirSync, readdirSync, unlinkSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const ID = /^(\d+)-[0-9A-Za-z-]+$/;

/**
 * One empty marker file per closed interval id in `<spoolDir>/closed/`,
 * created right after the interval's batches are in the spool (or its EMF
 * lines in the file). The state file holding the open interval is written by
 * someone else at its own pace: when it is older than the close, the marker
 * (or the batch still in the spool) says not to resume that interval.
 */
export class ClosedLedger {
  private readonly dir: string;

  /** @param maxAgeMs markers of intervals older than this are forgotten (no resume is older than the buffer). */
  constructor(spoolDir: string, private readonly maxAgeMs: number) {
    this.dir = join(spoolDir, 'closed');
  }

  /** Creates the directory. */
  open(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
  }

  /** Records that an interval was closed. */
  mark(intervalId: string): void {
    if (!ID.test(intervalId)) throw new Error(`not an interval id: ${intervalId}`);
    writeFileSync(join(this.dir, intervalId), '', { mode: 0o640 });
  }

  /** Whether an interval was closed by this run or an earlier one. */
  has(intervalId: string): boolean {
    return ID.test(intervalId) && existsSync(join(this.dir, intervalId));
  }

  /** Forgets markers of intervals that started before `nowMs - maxAgeMs`; returns how many. */
  prune(nowMs: number): number {
    let removed = 0;
    for (const name of readdirSync(this.dir)) {
      const m = ID.exec(name);
      if (m === null || Number(m[1]) >= nowMs - this.maxAgeMs) continue;
      unlinkSync(join(this.dir, name));
      removed += 1;
    }
    return removed;
  }
}
