// sinks/metrics/: appends Embedded Metric Format lines to the file the CloudWatch agent tails (mode 0640).

import { appendFileSync } from 'node:fs';

/**
 * Appends whole lines in one write per interval. The file is opened per
 * write, so a logrotate rename or truncate needs no reopen signal.
 */
export class EmfWriter {
  readonly stats = { lines: 0, failedWrites: 0 };

  constructor(readonly file: string) {}

  /** Appends the lines; throws the file system error (the sink logs it and goes on counting). */
  append(lines: readonly string[]): void {
    if (lines.length === 0) return;
    try {
      appendFileSync(this.file, `${lines.join('\n')}\n`, { mode: 0o640 });
    } catch (e) {
      this.stats.failedWrites += 1;
      throw e;
    }
    this.stats.lines += lines.length;
  }
}
