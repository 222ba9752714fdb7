// sinks/: the audit trail of metadata-options changes — one JSON line per change in the events log (or stderr).

import { appendFileSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../errors.js';
import { jsonTerminalSafe, terminalSafe } from '../text/terminal-safe.js';

/** One change, as written: `{"event":"metadata_options_change", …}`. */
export type AuditEntry = Record<string, unknown> & { time: string; action: string; result: string };

/**
 * Appends audit lines to the agent's events log, where the operator's log
 * shipping already looks; with no events file, to stderr. The file is opened
 * (and its directory created, mode 0750) by `check()` before any change, so a
 * change is never made that could not be audited.
 */
export class AuditLog {
  constructor(readonly path: string | null, private readonly event = 'metadata_options_change') {}

  /** Throws UsageError when the file cannot be appended to. */
  check(): void {
    if (this.path === null) return;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      closeSync(openSync(this.path, 'a', 0o640));
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      throw new UsageError('ERR_STATE_UNREADABLE', `cannot append to the audit log ${this.path} (${code === 'EACCES' ? 'permission denied' : (cause as Error).message})`, {
        hint: 'run as root, or give --events-file a file you can write; nothing was changed',
        cause,
      });
    }
  }

  /** Writes one line. An I/O failure here (after the change) is reported on stderr, never thrown. */
  write(entry: AuditEntry): void {
    const line = `${jsonTerminalSafe(JSON.stringify({ event: this.event, ...entry }))}\n`;
    if (this.path === null) {
      process.stderr.write(line);
      return;
    }
    try {
      appendFileSync(this.path, line, { mode: 0o640 });
    } catch (error) {
      process.stderr.write(`imds-sniff: warning: audit line not written to ${terminalSafe(this.path)} (${terminalSafe((error as Error).message)}): ${line}`);
    }
  }
}
