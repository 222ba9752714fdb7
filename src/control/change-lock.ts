// control/: one enforce / rollback at a time per state directory — a lock file naming its holder (pid, boot, start time).

import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { GateRefusedError } from '../errors.js';

/** Who holds a lock: enough to tell a live holder from a pid reused after it died or after a reboot. */
export interface LockHolder {
  pid: number;
  /** /proc/sys/kernel/random/boot_id: a lock from before a reboot is stale whatever its pid. */
  boot: string | null;
  /** Start time of the pid in clock ticks since boot (/proc/<pid>/stat field 22). */
  start: string | null;
  /** Unique per lock taken, so a holder releases only its own lock. */
  nonce: string;
}

/** How the host answers questions about processes (swappable for tests: a fake /proc root). */
export interface HostProcesses {
  bootId(): string | null;
  /** Start time of `pid`, or null when there is no such process. */
  startTime(pid: number): string | null;
}

function readOrNull(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** The host's own /proc. */
export function procHost(procRoot = '/proc'): HostProcesses {
  return {
    bootId: () => readOrNull(`${procRoot}/sys/kernel/random/boot_id`)?.trim() ?? null,
    startTime: (pid) => {
      const stat = readOrNull(`${procRoot}/${pid}/stat`);
      // comm (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
      return stat === null ? null : (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null);
    },
  };
}

function parseHolder(text: string | null): LockHolder | null {
  if (text === null) return null;
  try {
    const h = JSON.parse(text) as LockHolder;
    return Number.isInteger(h.pid) && h.pid > 0 && typeof h.nonce === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** A holder that is gone: another boot, or its pid now runs another process (or none). */
function isStale(h: LockHolder, host: HostProcesses): boolean {
  if (h.pid === process.pid) return true; // this process holds no lock yet: the pid was reused
  const boot = host.bootId();
  if (h.boot !== null && boot !== null && h.boot !== boot) return true;
  const start = host.startTime(h.pid);
  return start === null || (h.start !== null && start !== h.start);
}

export class ChangeLock {
  constructor(
    /** The lock file, `<stateDir>/changes.json.lock`. */
    readonly path: string,
    private readonly host: HostProcesses = procHost(),
  ) {}

  /**
   * Takes the lock or throws ERR_CHANGE_IN_PROGRESS (exit 6) naming the live
   * holder. The file appears with its content at once (written aside, then
   * hard-linked into place), so no reader ever sees it empty. A stale lock is
   * moved aside and taken over; when two runs race for the same stale lock,
   * the one that moved away a fresh lock instead puts it back.
   * `cannotWrite` reports a state directory that cannot be written.
   */
  acquire(cannotWrite: (path: string, cause: unknown) => never): () => void {
    const me: LockHolder = { pid: process.pid, boot: this.host.bootId(), start: this.host.startTime(process.pid), nonce: randomBytes(8).toString('hex') };
    const text = JSON.stringify(me);
    const tmp = `${this.path}.${me.nonce}`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      writeFileSync(tmp, text, { mode: 0o640 });
    } catch (cause) {
      cannotWrite(this.path, cause);
    }
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          linkSync(tmp, this.path);
          return () => {
            if (readOrNull(this.path) === text) rmSync(this.path, { force: true });
          };
        } catch (cause) {
          if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') cannotWrite(this.path, cause);
        }
        const seen = readOrNull(this.path);
        const holder = parseHolder(seen);
        if (seen === null) continue; // released meanwhile
        if (holder !== null && !isStale(holder, this.host)) throw this.busy(holder);
        if (holder === null) throw this.busy(null);
        this.takeOver(seen);
      }
      throw this.busy(parseHolder(readOrNull(this.path)));
    } finally {
      rmSync(tmp, { force: true });
    }
  }

  /** Moves a stale lock aside; if what was moved is not that lock any more (another run took it over first), puts it back. */
  private takeOver(stale: string): void {
    const aside = `${this.path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return; // gone already
    }
    if (readOrNull(aside) !== stale) {
      try {
        linkSync(aside, this.path);
      } catch {
        /* a third run holds it now */
      }
    }
    rmSync(aside, { force: true });
  }

  private busy(holder: LockHolder | null): GateRefusedError {
    const changes = this.path.replace(/\.lock$/, '');
    return new GateRefusedError('ERR_CHANGE_IN_PROGRESS', `another imds-sniff enforce or rollback${holder === null ? '' : ` (pid ${holder.pid})`} is changing options recorded in ${changes}; nothing was changed`, {
      hint: holder === null ? `${this.path} is not a lock imds-sniff wrote: if no enforce or rollback runs, remove it` : 'wait for it to finish and run this again',
    });
  }
}
