// tcp/: turns one direction of a TCP connection back into in-order bytes (retransmits, reordering).

import { seqAdd, seqDiff } from './sequence.js';

/** What one pushed segment made available. */
export interface ReassembledBytes {
  /** Newly contiguous bytes, in order. Empty when the segment filled no hole. */
  chunks: Uint8Array[];
  /** True when bytes were given up on (a hole never filled within the buffer limit). */
  gap: boolean;
}

/** Limits that keep a hostile or broken peer from growing memory or CPU use without bound. */
export interface ReassemblerLimits {
  /** Out-of-order bytes held while waiting for a hole to fill; past it, the hole is skipped. */
  maxBufferedBytes: number;
  /** A budget shared by every reassembler of a table: past it, holes are skipped too. */
  shared?: { usedBytes: number; maxBytes: number };
}

/** Out-of-order segments held per direction (each costs a Map entry): past it, the hole is skipped. */
export const MAX_PENDING_SEGMENTS = 128;
/** What holding one segment costs besides its bytes, for the byte limits. */
const SEGMENT_OVERHEAD_BYTES = 64;

const NOTHING: ReassembledBytes = { chunks: [], gap: false };

/** Turns one direction of a TCP connection back into in-order bytes. */
export class Reassembler {
  /** The sequence number of the next byte the stream expects; null until known. */
  private nextSeq: number | null = null;
  private readonly pending = new Map<number, Uint8Array>();
  private pendingBytes = 0;
  private finished = false;

  constructor(private readonly limits: ReassemblerLimits) {}

  /** A SYN carries the initial sequence number: data starts one after it. */
  synchronize(isn: number): void {
    if (this.nextSeq === null) this.nextSeq = seqAdd(isn, 1);
  }

  /** Bytes held out of order right now. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Feeds one segment's payload; returns what became contiguous. */
  push(seq: number, payload: Uint8Array): ReassembledBytes {
    if (payload.length === 0 || this.finished) return NOTHING;
    // Joined mid-stream (SYN not captured): take the first data we see as the start.
    if (this.nextSeq === null) this.nextSeq = seq;
    const offset = seqDiff(this.nextSeq, seq);
    if (offset >= payload.length) return NOTHING; // pure retransmission
    if (offset < 0) {
      this.hold(seq, payload);
      return this.drainOrSkip();
    }
    const fresh = offset > 0 ? payload.subarray(offset) : payload;
    this.nextSeq = seqAdd(this.nextSeq, fresh.length);
    const chunks = [fresh];
    this.drainInto(chunks);
    return { chunks, gap: false };
  }

  /** Stops accepting bytes and frees the buffer (connection closed or expired). */
  finish(): void {
    this.finished = true;
    this.account(-this.pendingBytes);
    this.pending.clear();
  }

  private account(delta: number): void {
    this.pendingBytes += delta;
    if (this.limits.shared) this.limits.shared.usedBytes += delta;
  }

  private cost(payload: Uint8Array): number {
    return payload.length + SEGMENT_OVERHEAD_BYTES;
  }

  private hold(seq: number, payload: Uint8Array): void {
    const existing = this.pending.get(seq);
    if (existing && existing.length >= payload.length) return;
    if (existing) this.account(-this.cost(existing));
    this.pending.set(seq, payload);
    this.account(this.cost(payload));
  }

  private overLimit(): boolean {
    const shared = this.limits.shared;
    return (
      this.pendingBytes > this.limits.maxBufferedBytes ||
      this.pending.size > MAX_PENDING_SEGMENTS ||
      (shared !== undefined && shared.usedBytes > shared.maxBytes)
    );
  }

  private drainOrSkip(): ReassembledBytes {
    if (!this.overLimit()) return NOTHING;
    // The hole is not going to be filled in time: skip to the earliest held byte.
    let earliest: number | null = null;
    for (const seq of this.pending.keys()) {
      if (earliest === null || seqDiff(seq, earliest) < 0) earliest = seq;
    }
    this.nextSeq = earliest;
    const chunks: Uint8Array[] = [];
    this.drainInto(chunks);
    return { chunks, gap: true };
  }

  /** Moves every held segment that is now contiguous into `chunks`. */
  private drainInto(chunks: Uint8Array[]): void {
    while (this.pending.size > 0) {
      const next = this.nextSeq as number;
      // The common case, a segment starting exactly where the stream stands, is one lookup.
      let seq: number | undefined = this.pending.has(next) ? next : undefined;
      if (seq === undefined) {
        for (const held of this.pending.keys()) {
          if (seqDiff(next, held) >= 0) {
            seq = held;
            break;
          }
        }
      }
      if (seq === undefined) return;
      const payload = this.pending.get(seq) as Uint8Array;
      this.pending.delete(seq);
      this.account(-this.cost(payload));
      const offset = seqDiff(next, seq);
      if (offset < payload.length) {
        const fresh = payload.subarray(offset);
        chunks.push(fresh);
        this.nextSeq = seqAdd(next, fresh.length);
      }
    }
  }
}
