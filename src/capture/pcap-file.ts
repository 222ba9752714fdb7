// capture/: reads a tcpdump capture file (--read) in chunks → RawFrame, through one reused buffer as live capture does.

import { constants } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { PcapFileError } from '../errors.js';
import { IMDS_IPV4, IMDS_IPV6 } from '../imds-endpoint.js';
import { CaptureFileParser, captureFormatOf, MAX_BLOCK_LENGTH, type CaptureFileDamage, type CaptureFormat } from './capture-file-parser.js';
import type { RawFrame } from './frame.js';

/** How far a file could be read, and what was wrong with it. */
export interface CaptureFileResult {
  format: CaptureFormat;
  /** Packet records (pcap) or blocks (pcapng) read whole. */
  records: number;
  /** Frames handed to `onFrame`. */
  frames: number;
  /** Records skipped although the file went on, by reason. */
  skipped: Record<string, number>;
  /** The file stops making sense here; nothing after it was read. */
  damage: CaptureFileDamage | null;
  /** The file ends inside a record (tcpdump killed, copy cut short): that record is lost. */
  truncated: boolean;
  /** Packets the capturing program recorded as dropped (pcapng interface statistics; 0 for classic pcap, which cannot say). */
  captureDrops: number;
}

/** An opened capture file; `read` feeds its frames once. */
export interface CaptureFile {
  format: CaptureFormat;
  /** Feeds every frame, with its link type, to `onFrame`. `frame.bytes` is valid only during the call. */
  read(onFrame: (frame: RawFrame, linkType: number) => void): Promise<CaptureFileResult>;
}

/** Bytes read at a time; a record longer than this grows the buffer (bounded by the parser's limits). */
const CHUNK_BYTES = 1024 * 1024;
const HINT = `record one with: tcpdump -i any -w FILE host ${IMDS_IPV4} or host ${IMDS_IPV6}`;

/**
 * Opens `path` and checks that it is a regular file holding a pcap or pcapng
 * capture. Throws PcapFileError with a one-line reason before anything is read.
 * Opening never blocks: a FIFO without a writer is refused, not waited on.
 */
export async function openCaptureFile(path: string): Promise<CaptureFile> {
  let handle: FileHandle;
  try {
    // Looked at before it is opened: opening a device can act on it (a tape rewinds, a modem hangs up).
    const before = await stat(path);
    if (!before.isFile()) throw new PcapFileError(`cannot read capture file ${path}: ${kindOf(before)}, not a regular file`, { hint: kindHint(before) });
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    if (cause instanceof PcapFileError) throw cause;
    throw new PcapFileError(`cannot read capture file ${path}: ${describeErrno(cause)}`, { cause });
  }
  try {
    const opened = await handle.stat(); // again: it may have been swapped since
    if (!opened.isFile()) throw new PcapFileError(`cannot read capture file ${path}: ${kindOf(opened)}, not a regular file`, { hint: kindHint(opened) });
    const head = new Uint8Array(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    const format = captureFormatOf(head.subarray(0, bytesRead));
    if (format !== 'pcap' && format !== 'pcapng') throw new PcapFileError(`${path} is not a pcap capture file (${format})`, { hint: HINT });
    return {
      format,
      read: async (onFrame) => {
        try {
          return await readCaptureFile(async (into, at, length, position) => (await handle.read(into, at, length, position)).bytesRead, format, onFrame);
        } finally {
          await handle.close();
        }
      },
    };
  } catch (error) {
    await handle.close();
    if (error instanceof PcapFileError) throw error;
    throw new PcapFileError(`cannot read capture file ${path}: ${describeErrno(error)}`, { cause: error });
  }
}

/** Reads up to `length` bytes at file `position` into `into[at…]`; resolves with how many (0 at the end). */
export type ReadAt = (into: Uint8Array, at: number, length: number, position: number) => Promise<number>;

/**
 * Reads a whole capture through `readAt` in chunks of `chunkBytes`, into one
 * reused buffer (grown only for a record longer than it, within the parser's
 * limits), and hands every frame to `onFrame` as a view into that buffer.
 */
export async function readCaptureFile(
  readAt: ReadAt,
  format: CaptureFormat,
  onFrame: (frame: RawFrame, linkType: number) => void,
  chunkBytes = CHUNK_BYTES,
): Promise<CaptureFileResult> {
  const parser = new CaptureFileParser();
  let frames = 0;
  const deliver = (record: { linkType: number; timestampUs: number; bytes: Uint8Array }): void => {
    frames += 1;
    onFrame({ bytes: record.bytes, timestampUs: record.timestampUs }, record.linkType);
  };
  let buffer = new Uint8Array(chunkBytes);
  /** File offset of buffer[0]; the unconsumed bytes are buffer[start, end). */
  let base = 0;
  let start = 0;
  let end = 0;
  let eof = false;
  let damage: CaptureFileDamage | null = null;
  while (true) {
    const step = parser.parse(buffer.subarray(start, end), base + start, deliver);
    start += step.consumed;
    if (step.kind === 'damaged') {
      damage = step.damage;
      break;
    }
    if (eof) break;
    // Keep the unconsumed tail, then fill the rest of the buffer from the file.
    if (start > 0) {
      buffer.copyWithin(0, start, end);
      base += start;
      end -= start;
      start = 0;
    }
    if (step.needBytes > buffer.length) {
      const grown = new Uint8Array(Math.min(Math.max(step.needBytes, buffer.length * 2), MAX_BLOCK_LENGTH + 64));
      grown.set(buffer.subarray(0, end));
      buffer = grown;
    }
    const bytesRead = await readAt(buffer, end, buffer.length - end, base + end);
    if (bytesRead === 0) eof = true;
    end += bytesRead;
  }
  return {
    format,
    records: parser.records,
    frames,
    skipped: { ...parser.skipped },
    damage,
    truncated: damage === null && start < end,
    captureDrops: parser.capturedDrops,
  };
}

/** What to do instead: a FIFO's data belongs in a file; a directory holds files. */
function kindHint(stat: { isFIFO(): boolean; isDirectory(): boolean }): string | undefined {
  if (stat.isFIFO()) return 'write the capture to a file, then read that: tcpdump -i any -w FILE …';
  if (stat.isDirectory()) return 'give one capture file in it';
  return undefined;
}

function kindOf(stat: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'a special file';
}

function describeErrno(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'a directory, not a regular file';
    case 'ELOOP':
      return 'too many symbolic links';
    default:
      return (cause as Error).message.replace(/^[A-Z]+: /, '').replace(/, (open|read) .*$/, '');
  }
}
