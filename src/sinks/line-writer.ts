// sinks/: writes lines to a file descriptor synchronously; a write that fails stops the writer, never the process.

import { closeSync, writeSync } from 'node:fs';

/** How long one write waits, in total, for a full pipe (EAGAIN) to drain before it counts as failed. */
const MAX_PIPE_WAIT_MS = 60_000;

/**
 * Synchronous line output to stdout or an `--output` file. Unlike sonic-boom's
 * flushSync (measured: `--format json > /dev/full` never returned) and a stream's
 * 'error' event (an uncaught stack trace on ENOSPC), a failed write here is
 * recorded once, told to `onFailure`, and every later write is skipped: the
 * caller ends the run and says why.
 */
export class LineWriter {
  /** The first write error (ENOSPC, EPIPE, EIO …), or null. */
  failure: NodeJS.ErrnoException | null = null;
  private readonly pause = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly fd: number,
    private readonly onFailure: (error: NodeJS.ErrnoException) => void = () => {},
  ) {}

  write(text: string): void {
    if (this.failure !== null) return;
    const bytes = Buffer.from(text);
    let offset = 0;
    let waitedMs = 0;
    while (offset < bytes.length) {
      try {
        offset += writeSync(this.fd, bytes, offset);
      } catch (error) {
        const e = error as NodeJS.ErrnoException;
        // A pipe whose reader is slow: wait for it (bounded), as a blocking write would.
        if (e.code === 'EAGAIN' && waitedMs < MAX_PIPE_WAIT_MS) {
          Atomics.wait(this.pause, 0, 0, 5);
          waitedMs += 5;
          continue;
        }
        this.failure = e;
        this.onFailure(e);
        return;
      }
    }
  }

  /** Closes the descriptor unless it is stdout or stderr. */
  close(): void {
    if (this.fd > 2) {
      try {
        closeSync(this.fd);
      } catch {
        /* already closed */
      }
    }
  }
}
