// uid → user name from <hostRoot>/etc/passwd, cached and re-read on a miss at most every few seconds.

import { readFile } from 'node:fs/promises';
import path from 'node:path';

/** Pure: `name:x:uid:gid:…` lines → uid → first name listed for it. */
export function parsePasswd(text: string): Map<number, string> {
  const byUid = new Map<number, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const fields = line.split(':');
    const uid = Number(fields[2]);
    const name = fields[0];
    if (!name || fields[2] === '' || !Number.isInteger(uid) || byUid.has(uid)) continue;
    byUid.set(uid, name);
  }
  return byUid;
}

/** Options for {@link UserNames}. */
export interface UserNamesOptions {
  /** Directory holding etc/passwd; '/' on a host, a fixture tree in tests. */
  hostRoot?: string;
  /** A uid not in the cache triggers a re-read no more often than this. */
  minRefreshMs?: number;
  /** Clock, swappable in tests. */
  now?: () => number;
}

/** Resolves uids to user names; users added after start are picked up on the next miss. */
export class UserNames {
  private readonly passwdPath: string;
  private readonly minRefreshMs: number;
  private readonly now: () => number;
  private byUid = new Map<number, string>();
  private loadedAtMs = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | null = null;

  constructor(options: UserNamesOptions = {}) {
    this.passwdPath = path.join(options.hostRoot ?? '/', 'etc', 'passwd');
    this.minRefreshMs = options.minRefreshMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** The user name for `uid`, or null when passwd does not list it (common inside containers). */
  async name(uid: number): Promise<string | null> {
    const cached = this.byUid.get(uid);
    if (cached !== undefined) return cached;
    if (this.now() - this.loadedAtMs >= this.minRefreshMs) await this.reload();
    else if (this.loading) await this.loading;
    return this.byUid.get(uid) ?? null;
  }

  private reload(): Promise<void> {
    this.loading ??= (async () => {
      this.loadedAtMs = this.now();
      try {
        this.byUid = parsePasswd(await readFile(this.passwdPath, 'utf8'));
      } catch {
        // No passwd (minimal image, fixture without one): every uid stays nameless.
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }
}

const shared = new Map<string, UserNames>();

/** One cache per host root, shared by every reader of that root. */
export function userNamesFor(hostRoot = '/'): UserNames {
  let names = shared.get(hostRoot);
  if (!names) {
    names = new UserNames({ hostRoot });
    shared.set(hostRoot, names);
  }
  return names;
}
