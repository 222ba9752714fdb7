// Finds a tracefs mount, or mounts a private one (ip netns exec remounts /sys and hides it).

import { execFile, spawnSync } from 'node:child_process';
import { access, mkdtemp, readFile, rmdir } from 'node:fs/promises';
import { rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Pure: tracefs mount points listed in /proc/self/mounts (octal escapes such as \040 decoded). */
export function tracefsMountPoints(mountsText: string): string[] {
  const points: string[] = [];
  for (const line of mountsText.split('\n')) {
    const [, mountPoint, fsType] = line.split(' ');
    if (fsType === 'tracefs' && mountPoint) {
      points.push(mountPoint.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8))));
    }
  }
  return points;
}

/** A usable tracefs root and how to give it back. */
export interface TracefsMount {
  root: string;
  /** True when this process mounted it (and so unmounts it on release). */
  mountedByUs: boolean;
  release(): Promise<void>;
  /** For process 'exit' handlers, which cannot wait. */
  releaseSync(): void;
}

/**
 * Uses the first tracefs mount that has an `instances` directory; otherwise mounts tracefs
 * on a private temporary directory (Node has no mount(2), so this spawns mount/umount).
 */
export async function acquireTracefs(mountsPath = '/proc/self/mounts'): Promise<TracefsMount> {
  let mounts = '';
  try {
    mounts = await readFile(mountsPath, 'utf8');
  } catch {
    // No mounts table: try mounting.
  }
  for (const root of tracefsMountPoints(mounts)) {
    try {
      await access(path.join(root, 'instances'));
      return { root, mountedByUs: false, release: async () => {}, releaseSync: () => {} };
    } catch {
      // Read-only or incomplete mount: try the next.
    }
  }
  const root = await mkdtemp(path.join(tmpdir(), 'imds-sniff-tracefs-'));
  try {
    await run('mount', ['-t', 'tracefs', 'nodev', root]);
  } catch (cause) {
    await rmdir(root).catch(() => {});
    const detail = cause instanceof Error ? cause.message.trim() : String(cause);
    throw new Error(`tracefs is not mounted and mounting it failed (${detail})`, { cause });
  }
  let released = false;
  return {
    root,
    mountedByUs: true,
    release: async () => {
      if (released) return;
      released = true;
      await run('umount', [root]).catch(() => run('umount', ['-l', root]).catch(() => {}));
      await rmdir(root).catch(() => {});
    },
    releaseSync: () => {
      if (released) return;
      released = true;
      const r = spawnSync('umount', [root]);
      if (r.status !== 0) spawnSync('umount', ['-l', root]);
      try {
        rmdirSync(root);
      } catch {
        // Still busy: left for tmp cleaning.
      }
    },
  };
}
