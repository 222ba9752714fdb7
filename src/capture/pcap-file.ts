// capture/: reads a tcpdump capture file (--read) → RawFrame, all frames then done.

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { checkPcap, type PcapCheck } from './pcap-check.js';
import { PcapFileError } from '../errors.js';
import { linkTypeFromPcapName } from '../decode/link.js';
import { frameFromPcapPacket, type RawFrame } from './frame.js';
import { loadPcap } from './pcap-module.js';

/** An opened, checked capture file; `read` feeds its frames. */
export interface PcapFile {
  check: PcapCheck;
  /** Feeds every frame (that passes the filter) to `onFrame`; resolves with the link type. */
  read(onFrame: (frame: RawFrame, linkType: number) => void): Promise<number>;
}

/**
 * Checks `path` (readable, a pcap/pcapng file, whole or cut short) and opens it
 * with libpcap. Throws PcapFileError with a one-line reason before anything is read.
 */
export function openPcapFile(path: string, filter: string): PcapFile {
  let check: PcapCheck | string;
  try {
    const fd = openSync(path, 'r');
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISFILE' });
      check = checkPcap(stat.size, (offset, length) => {
        const buffer = new Uint8Array(length);
        readSync(fd, buffer, 0, length, offset);
        return buffer;
      });
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw new PcapFileError(`cannot read capture file ${path}: ${(cause as Error).message.replace(/^[A-Z]+: /, '').replace(/, open .*$/, '')}`, { cause });
  }
  if (typeof check === 'string') {
    throw new PcapFileError(`${path} is not a pcap capture file (${check})`, { hint: 'record one with: tcpdump -i any -w FILE host 169.254.169.254' });
  }
  const pcap = loadPcap();
  let session: ReturnType<typeof pcap.createOfflineSession>;
  try {
    session = pcap.createOfflineSession(path, { filter });
  } catch (cause) {
    throw new PcapFileError(`${path} is not a pcap capture file (${(cause as Error).message})`, {
      hint: 'record one with: tcpdump -i any -w FILE host 169.254.169.254',
      cause,
    });
  }
  const linkType = linkTypeFromPcapName(session.link_type);
  if (linkType === null) throw new PcapFileError(`${path}: unsupported link type ${session.link_type}`);
  const opened = session;
  return {
    check,
    read: (onFrame) =>
      new Promise((resolve) => {
        opened.on('packet', (packet) => onFrame(frameFromPcapPacket(packet.buf, packet.header), linkType));
        opened.on('complete', () => resolve(linkType));
      }),
  };
}
