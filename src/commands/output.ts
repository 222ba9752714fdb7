// commands/: builds the sink for `--format` / `--output`, opened so that no path can make the run hang or write where it should not.

import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { JsonLinesSink } from '../sinks/json-lines.js';
import { TableSink } from '../sinks/table.js';
import type { Sink } from '../contract/sink.js';
import { OutputError, UsageError } from '../errors.js';

export type OutputFormat = 'table' | 'json';

/** A sink on stdout or a file, that tells when a write failed (full disk, closed pipe). */
export interface Output extends Sink {
  readonly failure: NodeJS.ErrnoException | null;
  /** Resolves at the first failed write: a live capture stops there. */
  readonly failed: Promise<void>;
  /** Throws OutputError when a write failed. */
  check(): void;
}

const OPEN_REASONS: Record<string, string> = {
  ENOENT: 'no such directory',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
  EROFS: 'read-only file system',
  ELOOP: 'it is a symbolic link (give the file it points to)',
  ENXIO: 'it is a FIFO with no reader',
};

/**
 * The sink for the chosen format, on stdout or appended to `file`. The file is
 * opened here, synchronously, with mode 0640 (it names processes and users), so
 * a bad path is a one-line usage error before any capture starts; no directory
 * is created. The open never blocks (a FIFO without a reader is refused), never
 * follows a symbolic link another user may have planted, and refuses the capture
 * file given to `--read` (appending would spoil the evidence).
 */
export function openOutput(format: OutputFormat, file: string | undefined, opts: { notTheSameAs?: string } = {}): Output {
  let fd = 1;
  if (file !== undefined) {
    try {
      fd = openSync(file, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o640);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code ?? '';
      throw new UsageError(`--output: cannot write ${file}: ${OPEN_REASONS[code] ?? (cause as Error).message.replace(/^[A-Z]+: /, '')}`, { cause });
    }
    if (opts.notTheSameAs !== undefined && sameFile(fd, opts.notTheSameAs)) {
      closeSync(fd);
      throw new UsageError(`--output: ${file} is the capture file given to --read`);
    }
  }
  const where = file ?? 'stdout';
  let failed: () => void = () => {};
  const failedPromise = new Promise<void>((resolve) => {
    failed = resolve;
  });
  const sink = format === 'json' ? new JsonLinesSink(fd, () => failed()) : new TableSink(fd, () => failed());
  return {
    write: (event) => sink.write(event),
    close: () => sink.close(),
    get failure() {
      return sink.failure;
    },
    failed: failedPromise,
    check() {
      if (sink.failure !== null) throw new OutputError(sink.failure, where);
    },
  };
}

function sameFile(fd: number, path: string): boolean {
  try {
    const a = fstatSync(fd);
    const b = statSync(path);
    return a.dev === b.dev && a.ino === b.ino;
  } catch {
    return false;
  }
}
