// sinks/metrics/: the bounded on-disk buffer of PutMetricData batches waiting for CloudWatch (survives restarts).

import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { MetricDatum } from '@aws-sdk/client-cloudwatch';

/** One PutMetricData call's worth of one interval: only names and counts, never a secret. */
export interface SpoolBatch {
  version: 1;
  intervalId: string;
  intervalStartMs: number;
  namespace: string;
  datums: MetricDatum[];
}

/** A batch waiting in the buffer, oldest interval first. */
export interface SpoolItem {
  readonly name: string;
  readonly intervalId: string;
  readonly intervalStartMs: number;
  readonly bytes: number;
  /** Kept in memory because the file could not be written (full disk, unwritable directory). */
  readonly inMemory: boolean;
}

export interface SpoolLimits {
  maxAgeSeconds: number;
  maxBytes: number;
}

/** Batches given up on, to log and count. */
export interface SpoolDrop {
  reason: 'age' | 'bytes';
  batches: number;
  intervals: number;
  oldestStartMs: number;
}

const FILE_NAME = /^(\d{15})_([0-9A-Za-z-]+)_(\d+)\.json$/;

function encode(batch: SpoolBatch): string {
  return `${JSON.stringify(batch)}\n`;
}

/** Reads a batch back; null when the file is not one (damaged, or from another version). */
export function decodeSpoolBatch(text: string): SpoolBatch | null {
  try {
    const raw = JSON.parse(text) as Partial<SpoolBatch> & { datums?: (Omit<MetricDatum, 'Timestamp'> & { Timestamp?: string })[] };
    if (raw.version !== 1 || typeof raw.intervalId !== 'string' || typeof raw.namespace !== 'string' || !Array.isArray(raw.datums)) return null;
    if (typeof raw.intervalStartMs !== 'number') return null;
    const datums = raw.datums.map((d) => ({ ...d, Timestamp: d.Timestamp === undefined ? undefined : new Date(d.Timestamp) }));
    return { version: 1, intervalId: raw.intervalId, intervalStartMs: raw.intervalStartMs, namespace: raw.namespace, datums };
  } catch {
    return null;
  }
}

/**
 * A directory of batch files, one per PutMetricData call, each written
 * atomically (temporary file, fsync, rename; mode 0640) before it is sent and
 * removed only after CloudWatch accepted it. Oldest first; bounded by age and
 * bytes. One agent per directory.
 */
export class Spool {
  private items: SpoolItem[] = [];
  private readonly memory = new Map<string, SpoolBatch>();
  private writes = 0;

  constructor(readonly dir: string, private readonly limits: SpoolLimits) {}

  /** Creates the directory, removes temporary files a crash left, and indexes what an earlier run left. */
  open(): { recovered: number; removedTemporary: number } {
    mkdirSync(this.dir, { recursive: true, mode: 0o750 });
    let removedTemporary = 0;
    const items: SpoolItem[] = [];
    for (const name of readdirSync(this.dir)) {
      if (name.endsWith('.tmp')) {
        unlinkSync(join(this.dir, name));
        removedTemporary += 1;
        continue;
      }
      const m = FILE_NAME.exec(name);
      if (m === null) continue;
      items.push({ name, intervalId: m[2] as string, intervalStartMs: Number(m[1]), bytes: statSync(join(this.dir, name)).size, inMemory: false });
    }
    this.items = items.sort((a, b) => (a.name < b.name ? -1 : 1));
    return { recovered: items.length, removedTemporary };
  }

  /** Batches waiting, and their bytes. */
  get size(): { batches: number; bytes: number } {
    return { batches: this.items.length, bytes: this.items.reduce((n, i) => n + i.bytes, 0) };
  }

  /**
   * Adds a batch. When the file cannot be written the batch is kept in memory
   * (sent all the same, lost on a crash) and the error is returned to log.
   */
  write(batch: SpoolBatch, batchIndex: number): { item: SpoolItem; error: Error | null } {
    const name = `${String(batch.intervalStartMs).padStart(15, '0')}_${batch.intervalId}_${batchIndex}.json`;
    const text = encode(batch);
    let error: Error | null = null;
    try {
      const tmp = join(this.dir, `.${name}.${process.pid}.${this.writes++}.tmp`);
      const fd = openSync(tmp, 'wx', 0o640);
      try {
        writeSync(fd, text);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, join(this.dir, name));
    } catch (e) {
      error = e as Error;
      this.memory.set(name, batch);
    }
    const item: SpoolItem = { name, intervalId: batch.intervalId, intervalStartMs: batch.intervalStartMs, bytes: Buffer.byteLength(text), inMemory: error !== null };
    this.items = [...this.items.filter((i) => i.name !== name), item].sort((a, b) => (a.name < b.name ? -1 : 1));
    return { item, error };
  }

  /** The batch to send next. */
  oldest(): SpoolItem | undefined {
    return this.items[0];
  }

  /** Whether a batch of this interval is still waiting. */
  hasInterval(intervalId: string): boolean {
    return this.items.some((i) => i.intervalId === intervalId);
  }

  /** The batch's content; null when its file is damaged or gone (the caller removes and counts it). */
  read(item: SpoolItem): SpoolBatch | null {
    if (item.inMemory) return this.memory.get(item.name) ?? null;
    try {
      return decodeSpoolBatch(readFileSync(join(this.dir, item.name), 'utf8'));
    } catch {
      return null;
    }
  }

  /** Forgets a batch: after CloudWatch accepted it, or when it is given up on. */
  remove(item: SpoolItem): void {
    if (item.inMemory) {
      this.items = this.items.filter((i) => i.name !== item.name);
      this.memory.delete(item.name);
      return;
    }
    // Unlink first: a batch whose file could not be removed stays listed, rather than being sent again after a restart unnoticed.
    try {
      unlinkSync(join(this.dir, item.name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    this.items = this.items.filter((i) => i.name !== item.name);
  }

  /** Drops the oldest batches beyond the age and size limits; says what was dropped. */
  prune(nowMs: number): SpoolDrop[] {
    const drops: SpoolDrop[] = [];
    const dropWhile = (reason: SpoolDrop['reason'], beyond: (item: SpoolItem) => boolean): void => {
      const dropped: SpoolItem[] = [];
      for (let first = this.items[0]; first !== undefined && beyond(first); first = this.items[0]) {
        dropped.push(first);
        this.remove(first);
      }
      if (dropped.length === 0) return;
      const oldestStartMs = (dropped[0] as SpoolItem).intervalStartMs;
      drops.push({ reason, batches: dropped.length, intervals: new Set(dropped.map((d) => d.intervalId)).size, oldestStartMs });
    };
    const maxAgeMs = this.limits.maxAgeSeconds * 1000;
    dropWhile('age', (item) => item.intervalStartMs < nowMs - maxAgeMs);
    let bytes = this.size.bytes;
    dropWhile('bytes', (item) => {
      if (bytes <= this.limits.maxBytes) return false;
      bytes -= item.bytes;
      return true;
    });
    return drops;
  }
}
