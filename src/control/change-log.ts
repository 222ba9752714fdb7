// control/: the record of every metadata-options change (`<stateDir>/changes.json`): what it was before, who ran it; `rollback` reads it.

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname } from 'node:path';
import { readAncestors } from '../attribute/process-info.js';
import { redactCmdline } from '../attribute/redact-cmdline.js';
import { UsageError } from '../errors.js';
import { ChangeLock } from './change-lock.js';
import type { MetadataOptions } from './metadata-options.js';

/** Who or what ran a change: the user, the parent chain (sshd, ssm-document-worker…), the command. */
export interface Actor {
  user: string;
  uid: number;
  /** The user behind sudo, if any. */
  sudo_user: string | null;
  host: string;
  pid: number;
  /** Parent processes, nearest first: `bash < sudo < sshd`. */
  parents: string;
  /** The command line, with secret-looking values redacted. */
  command: string;
}

/** What a change acted on. */
export type ChangeTarget = { kind: 'instance'; instance_id: string; region: string } | { kind: 'launch-template'; launch_template_id: string; region: string };

/** A launch template's side of a change: its default version before, and the version created. */
export interface TemplateVersions {
  default_version: number;
  created_version: number | null;
}

/** One line of the record. */
export interface ChangeRecord {
  id: string;
  time: string;
  action: 'enforce' | 'rollback';
  target: ChangeTarget;
  before: MetadataOptions | TemplateVersions;
  after: MetadataOptions | TemplateVersions;
  /** The gate was overridden with --force. */
  forced: boolean;
  /** The instance was the host this ran on (so rollback can verify IMDS here). */
  local: boolean;
  /**
   * `requested` until EC2 accepted the change (`applied`); `failed` when it
   * refused it; `unknown` when the call got no answer (it may have been made,
   * so the record stays open for rollback).
   */
  result: 'requested' | 'applied' | 'failed' | 'unknown';
  by: Actor;
  /** Set on an enforce record once `rollback` restored its `before`. */
  rolled_back_at: string | null;
  /** For a rollback: the id of the change it undid. */
  undoes: string | null;
}

interface ChangeFile {
  version: 1;
  changes: ChangeRecord[];
}

/** Keep the most recent changes only. */
const MAX_RECORDS = 200;

/** Who is running this process, from the OS (no AWS call). */
export function currentActor(argv: readonly string[] = process.argv): Actor {
  let user = 'unknown';
  let uid = -1;
  try {
    const info = userInfo();
    user = info.username;
    uid = info.uid;
  } catch {
    /* no passwd entry: keep unknown */
  }
  const parents = readAncestors(process.ppid)
    .slice(0, 5)
    .map((a) => a.comm)
    .join(' < ');
  return {
    user,
    uid,
    sudo_user: process.env['SUDO_USER'] ?? null,
    host: hostname(),
    pid: process.pid,
    parents,
    command: ['imds-sniff', ...redactCmdline(argv.slice(2))].join(' '),
  };
}

/** An enforce that EC2 accepted and that was not rolled back yet. */
function isOpen(r: ChangeRecord): boolean {
  return r.action === 'enforce' && r.rolled_back_at === null && r.result !== 'failed';
}

/** The same target (instance or template) in the same region. */
export function sameTarget(a: ChangeTarget, b: ChangeTarget): boolean {
  if (a.region !== b.region || a.kind !== b.kind) return false;
  return a.kind === 'instance' ? a.instance_id === (b as typeof a).instance_id : a.launch_template_id === (b as typeof a).launch_template_id;
}

/** `instance i-0abc (us-east-1)` */
export function describeTarget(t: ChangeTarget): string {
  return t.kind === 'instance' ? `instance ${t.instance_id} (${t.region})` : `launch template ${t.launch_template_id} (${t.region})`;
}

/** The changes file of a state directory. Written atomically, mode 0640. */
export class ChangeLog {
  constructor(readonly path: string) {}

  /** Every record, oldest first. Throws UsageError on a file that is not a change log. */
  read(): ChangeRecord[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new UsageError('ERR_STATE_UNREADABLE', `cannot read ${this.path} (${code === 'EACCES' ? 'permission denied' : (cause as Error).message})`, { hint: 'run as root, or point --state-dir at your own directory; nothing was changed', cause });
    }
    try {
      const file = JSON.parse(text) as ChangeFile;
      if (file.version !== 1 || !Array.isArray(file.changes)) throw new Error('not version 1');
      return file.changes;
    } catch (cause) {
      throw new UsageError('ERR_STATE_UNREADABLE', `${this.path} is not an imds-sniff change log (${(cause as Error).message})`, { hint: 'move it aside; rollback needs the record enforce wrote', cause });
    }
  }

  /** Adds a record and returns it with its id. */
  append(record: Omit<ChangeRecord, 'id'>): ChangeRecord {
    const full: ChangeRecord = { id: `${record.time.replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`, ...record };
    const records = [...this.read(), full].slice(-MAX_RECORDS);
    this.write(records);
    return full;
  }

  /** Updates the record with `id` (its result, rolled back). */
  update(id: string, patch: Partial<ChangeRecord>): void {
    this.write(this.read().map((r) => (r.id === id ? { ...r, ...patch } : r)));
  }

  /** The newest enforce record for `target` that was not rolled back, or null. */
  lastOpenChange(target: ChangeTarget): ChangeRecord | null {
    const open = this.read().filter((r) => isOpen(r) && sameTarget(r.target, target));
    return open[open.length - 1] ?? null;
  }

  /** The newest enforce record not rolled back, whatever its target (rollback without flags). */
  lastOpenAny(): ChangeRecord | null {
    const open = this.read().filter((r) => isOpen(r));
    return open[open.length - 1] ?? null;
  }

  /**
   * Takes `<path>.lock` for one change (see ChangeLock): two enforce / rollback
   * runs on the same state directory (an SSM retry, two operators) would each
   * rewrite the file and one record would be lost. Returns the release function.
   */
  lock(): () => void {
    return new ChangeLock(`${this.path}.lock`).acquire((path, cause) => this.cannotWrite(path, cause));
  }

  private cannotWrite(path: string, cause: unknown): never {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError('ERR_STATE_UNREADABLE', `cannot write the change record ${path} (${code === 'EACCES' ? 'permission denied' : code === 'EROFS' ? 'read-only file system' : (cause as Error).message})`, {
      hint: 'run as root, or give --state-dir a directory you can write; nothing was changed',
      cause,
    });
  }

  private write(records: ChangeRecord[]): void {
    const tmp = `${this.path}.tmp-${process.pid}`;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
      writeFileSync(tmp, `${JSON.stringify({ version: 1, changes: records } satisfies ChangeFile, null, 1)}\n`, { mode: 0o640 });
      renameSync(tmp, this.path);
    } catch (cause) {
      this.cannotWrite(this.path, cause);
    }
  }
}
