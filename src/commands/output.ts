// commands/: builds the sink for `--format` / `--output`.

import { JsonLinesSink } from '../sinks/json-lines.js';
import { TableSink } from '../sinks/table.js';
import type { Sink } from '../sinks/sink.js';
import { openSync } from 'node:fs';
import { UsageError } from '../errors.js';

export type OutputFormat = 'table' | 'json';

/**
 * The sink for the chosen format, on stdout or appended to `file`. The file is
 * opened here, synchronously, with mode 0640 (it names processes and users), so
 * a bad path is a one-line usage error before any capture starts; no directory
 * is created.
 */
export function openOutput(format: OutputFormat, file: string | undefined): Sink {
  let fd = 1;
  if (file !== undefined) {
    try {
      fd = openSync(file, 'a', 0o640);
    } catch (cause) {
      const reasons: Record<string, string> = { ENOENT: 'no such directory', EISDIR: 'it is a directory', EACCES: 'permission denied', EROFS: 'read-only file system' };
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      const reason = reasons[code] ?? (cause as Error).message.replace(/^[A-Z]+: /, '');
      throw new UsageError(`--output: cannot write ${file}: ${reason}`, { cause });
    }
  }
  return format === 'json' ? new JsonLinesSink(fd) : new TableSink(fd);
}
