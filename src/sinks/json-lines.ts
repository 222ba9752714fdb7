// sinks/: one JSON object per line (the `--format json` contract), through pino's fast writer.

import pino from 'pino';
import type { OutputEvent, Sink } from './sink.js';

/**
 * Writes each event as one line of JSON to a file descriptor or path. Uses
 * pino.destination (sonic-boom), not a transport: transports spawn worker
 * files that do not survive bundling into a single binary.
 */
export class JsonLinesSink implements Sink {
  private readonly destination: pino.DestinationStream & { flushSync(): void; end(): void };
  private readonly logger: pino.Logger;

  constructor(target: number | string) {
    this.destination = pino.destination({ dest: target, sync: true, mkdir: typeof target === 'string' }) as never;
    this.logger = pino(
      {
        base: null,
        timestamp: false,
        formatters: { level: () => ({}) },
      },
      this.destination,
    );
  }

  write(event: OutputEvent): void {
    this.logger.info(event);
  }

  async close(): Promise<void> {
    try {
      this.destination.flushSync();
    } catch {
      /* nothing buffered */
    }
  }
}
