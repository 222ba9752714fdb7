// commands/: builds the sink for `--format` / `--output`.

import { JsonLinesSink } from '../sinks/json-lines.js';
import { TableSink } from '../sinks/table.js';
import type { Sink } from '../sinks/sink.js';
import { UsageError } from '../errors.js';

export type OutputFormat = 'table' | 'json';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'json') return value;
  throw new UsageError(`--format: "${value}" is not one of table, json`);
}

/** The sink for the chosen format, on stdout or appended to a file. */
export function openOutput(format: OutputFormat, file: string | undefined): Sink {
  try {
    if (format === 'json') return new JsonLinesSink(file ?? 1);
    return new TableSink(file ?? 'stdout');
  } catch (cause) {
    throw new UsageError(`--output: cannot write ${file}: ${(cause as Error).message}`, { cause });
  }
}
