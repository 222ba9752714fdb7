// sinks/: one JSON object per line (the `--format json` contract), written synchronously to stdout or a file.

import type { Sink } from '../contract/sink.js';
import type { OutputEvent } from '../contract/output-events.js';
import { LineWriter } from './line-writer.js';
import { jsonTerminalSafe } from '../text/terminal-safe.js';

/**
 * Writes each event as exactly one line of JSON to a file descriptor. Not
 * pino.destination (sonic-boom): its flushSync retries a full disk forever
 * (measured: `--format json > /dev/full` had to be killed); pino stays the
 * daemon's status log, where that cannot happen on a terminal.
 */
export class JsonLinesSink implements Sink {
  private readonly out: LineWriter;

  /** @param fd an open file descriptor (1 for stdout). */
  constructor(fd: number, onFailure?: (error: NodeJS.ErrnoException) => void) {
    this.out = new LineWriter(fd, onFailure);
  }

  /** The first write error, or null. */
  get failure(): NodeJS.ErrnoException | null {
    return this.out.failure;
  }

  write(event: OutputEvent): void {
    this.out.write(`${jsonTerminalSafe(JSON.stringify(event))}\n`);
  }

  async close(): Promise<void> {
    this.out.close();
  }
}
