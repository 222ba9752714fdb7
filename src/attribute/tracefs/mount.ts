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

/** Private mounts are named after the agent that made them: `imds-sniff-tracefs-<pid>-<random>`. */
const PRIVATE_MOUNT = /(?:^|\/)imds-sniff-tracefs-(\d+)-[^/]+$/;

/** The pid that made a private mount, or null for any other mount point. */
export function privateMountOwner(mountPoint: string): number | null {
  const m = PRIVATE_MOUNT.exec(mountPoint);
  return m ? Number(m[1]) : null;
}

/** Any agent's private mount, this version's or an earlier one's (`imds-sniff-tracefs-<random>`). */
export function isPrivateMount(mountPoint: string): boolean {
  return path.basename(mountPoint).startsWith('imds-sniff-tracefs-');
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Uses the first tracefs mount that has an `instances` directory; otherwise mounts tracefs
 * on a private temporary directory (Node has no mount(2), so this spawns mount/umount).
 * Another agent's private mount is never used (it unmounts it when it stops); one left by
 * an agent that was killed is unmounted, best effort.
 */
export async function acquireTracefs(mountsPath = '/proc/self/mounts'): Promise<TracefsMount> {
  let mounts = '';
  try {
    mounts = await readFile(mountsPath, 'utf8');
  } catch {
    // No mounts table: try mounting.
  }
  for (const root of tracefsMountPoints(mounts)) {
    if (isPrivateMount(root)) {
      const owner = privateMountOwner(root);
      if (owner !== null && owner !== process.pid && !isAlive(owner)) await run('umount', ['-l', root]).then(() => rmdir(root)).catch(() => {});
      continue;
    }
    try {
      await access(path.join(root, 'instances'));
      return { root, mountedByUs: false, release: async () => {}, releaseSync: () => {} };
    } catch {
      // Read-only or incomplete mount: try the next.
    }
  }
  const root = await mkdtemp(path.join(tmpdir(), `imds-sniff-tracefs-${process.pid}-`));
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
