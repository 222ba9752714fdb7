// sinks/: one JSON object per line (the `--format json` contract), through pino's fast writer.

import pino from 'pino';
import type { OutputEvent, Sink } from './sink.js';
import { jsonTerminalSafe } from '../text/terminal-safe.js';

type Destination = ReturnType<typeof pino.destination>;

/**
 * Writes each event as exactly one line of JSON to a file descriptor or path,
 * through pino.destination (sonic-boom) — not a pino logger, whose level/time
 * fields are not part of the contract, and not a transport, whose worker files
 * do not survive bundling into a single binary.
 */
export class JsonLinesSink implements Sink {
  private readonly destination: Destination;

  /** @param fd an open file descriptor (1 for stdout). */
  constructor(fd: number) {
    this.destination = pino.destination({ dest: fd, sync: true });
  }

  write(event: OutputEvent): void {
    this.destination.write(`${jsonTerminalSafe(JSON.stringify(event))}\n`);
  }

  async close(): Promise<void> {
    try {
      this.destination.flushSync();
    } catch {
      /* nothing buffered */
    }
  }
}
