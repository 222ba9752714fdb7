import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChangeLock, procHost, type HostProcesses, type LockHolder } from '../../../src/control/change-lock.js';

let dir: string;
let path: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'imds-sniff-lock-'));
  path = join(dir, 'state', 'changes.json.lock');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A host where pid 777 runs since tick 100, this process since tick 5, and nothing else runs. */
const host: HostProcesses = { bootId: () => 'boot-a', startTime: (pid) => (pid === 777 ? '100' : pid === process.pid ? '5' : null) };
const cannotWrite = (p: string, cause: unknown): never => {
  throw new Error(`cannot write ${p}: ${(cause as Error).message}`);
};
const holder = (over: Partial<LockHolder>): string => JSON.stringify({ pid: 777, boot: 'boot-a', start: '100', nonce: 'other', ...over });
const refusal = (): unknown => {
  try {
    new ChangeLock(path, host).acquire(cannotWrite);
  } catch (error) {
    return error;
  }
  return null;
};

describe('ChangeLock', () => {
  it('writes its holder atomically, and a release removes only its own lock', () => {
    const release = new ChangeLock(path, host).acquire(cannotWrite);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid, boot: 'boot-a', start: '5', nonce: expect.any(String) });
    expect(readdirSync(join(dir, 'state'))).toEqual(['changes.json.lock']); // no temp file left
    release();
    expect(existsSync(path)).toBe(false);

    const stale = new ChangeLock(path, host).acquire(cannotWrite);
    writeFileSync(path, holder({})); // taken over by pid 777 meanwhile
    stale();
    expect(readFileSync(path, 'utf8')).toBe(holder({}));
  });

  it('refuses while a live process holds it, naming the pid (exit 6)', () => {
    new ChangeLock(path, host).acquire(cannotWrite)(); // creates the directory
    writeFileSync(path, holder({}));
    expect(refusal()).toMatchObject({ code: 'ERR_CHANGE_IN_PROGRESS', exitCode: 6, message: expect.stringMatching(/another imds-sniff enforce or rollback \(pid 777\) is changing options recorded in .*changes\.json; nothing was changed/) });
    expect(readFileSync(path, 'utf8')).toBe(holder({}));
  });

  it.each([
    ['its process is gone', holder({ pid: 888 })],
    ['its pid now runs a process started later', holder({ start: '50' })],
    ['it is from before a reboot', holder({ boot: 'boot-b' })],
    ['it names this very process (a pid reused inside a container)', holder({ pid: process.pid, start: '5' })],
  ])('takes over a lock when %s', (_n, stale) => {
    new ChangeLock(path, host).acquire(cannotWrite)();
    writeFileSync(path, stale);
    const release = new ChangeLock(path, host).acquire(cannotWrite);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    release();
    expect(readdirSync(join(dir, 'state'))).toEqual([]);
  });

  it('refuses a lock file it cannot read as one, and says to remove it', () => {
    new ChangeLock(path, host).acquire(cannotWrite)();
    writeFileSync(path, 'garbage');
    expect(refusal()).toMatchObject({ code: 'ERR_CHANGE_IN_PROGRESS', hint: expect.stringMatching(/not a lock imds-sniff wrote: if no enforce or rollback runs, remove it/) });
  });

  it('reports a directory it cannot create', () => {
    writeFileSync(join(dir, 'state'), '');
    expect(() => new ChangeLock(path, host).acquire(cannotWrite)).toThrow(/cannot write .*changes\.json\.lock/);
  });

  it("reads this host's boot id and process start times from /proc", () => {
    const proc = procHost();
    expect(proc.bootId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(proc.startTime(process.pid)).toMatch(/^\d+$/);
    expect(proc.startTime(process.pid)).toBe(proc.startTime(process.pid));
    expect(proc.startTime(2 ** 22 + 1)).toBeNull(); // above pid_max
  });
});
