// Picks the socket-owner method at start-up: tracefs when the kernel allows, else procfs, and why.

import { CaptureError } from '../errors.js';
import { LayeredOwnerFinder } from './layered-finder.js';
import { ProcfsOwnerFinder } from './procfs-owner.js';
import { TracefsOwnerFinder, type TracefsOwnerOptions } from './tracefs-owner.js';
import type { SocketOwnerFinder } from './types.js';

/** Options for {@link selectSocketOwnerFinder}. */
export interface SelectFinderOptions extends TracefsOwnerOptions {
  /** 'auto' (default) tries tracefs then procfs; the others insist on one method. */
  preferred?: 'auto' | 'tracefs' | 'procfs';
}

/** A started finder, which method it uses and a one-line reason for the start-up line and doctor. */
export interface FinderSelection {
  finder: SocketOwnerFinder;
  method: 'tracefs' | 'procfs';
  reason: string;
}

/**
 * Starts the best available finder. With 'auto', a tracefs failure (not root, no tracefs,
 * kernel lacks the event or a layout the raw reader needs) falls back to procfs and the reason says
 * so; with 'tracefs' the failure is thrown. Throws CaptureError ERR_ATTRIBUTION_UNAVAILABLE
 * when the chosen method (or procfs, as the last resort) cannot start.
 */
export async function selectSocketOwnerFinder(opts: SelectFinderOptions = {}): Promise<FinderSelection> {
  const preferred = opts.preferred ?? 'auto';
  let fallbackWhy = 'procfs requested';
  if (preferred !== 'procfs') {
    const uid = process.getuid?.();
    if (uid !== undefined && uid !== 0 && preferred === 'auto') {
      fallbackWhy = 'tracefs needs root';
    } else {
      const tracefs = new TracefsOwnerFinder(opts);
      try {
        await tracefs.start();
        const notes = tracefs.notes.length > 0 ? ` (${tracefs.notes.join('; ')})` : '';
        // Connections older than the agent never produce a trace line: /proc finds those.
        const layered = new LayeredOwnerFinder(tracefs, new ProcfsOwnerFinder(opts));
        await layered.start();
        return {
          finder: layered,
          method: 'tracefs',
          reason: `tracefs ring buffers read raw and decoded with this kernel's published event formats (sock:inet_sock_set_state, sched fork/exec, cgroup attach): short-lived processes are attributed; /proc for connections older than the agent${notes}`,
        };
      } catch (err) {
        await tracefs.close().catch(() => {});
        if (preferred === 'tracefs') {
          throw new CaptureError('ERR_ATTRIBUTION_UNAVAILABLE', `tracefs attribution unavailable: ${(err as Error).message}`, {
            hint: 'run as root on Linux with tracefs, or use --attribution procfs',
            cause: err,
          });
        }
        fallbackWhy = `tracefs unavailable: ${(err as Error).message}`;
      }
    }
  }
  const procfs = new ProcfsOwnerFinder(opts);
  try {
    await procfs.start();
  } catch (err) {
    throw new CaptureError('ERR_ATTRIBUTION_UNAVAILABLE', `${fallbackWhy}; ${(err as Error).message}`, { cause: err });
  }
  return {
    finder: procfs,
    method: 'procfs',
    reason: `${fallbackWhy}; using /proc scans, which only see sockets still open (short-lived clients stay unknown)`,
  };
}
