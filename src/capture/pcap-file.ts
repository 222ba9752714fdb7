// capture/: reads a tcpdump capture file (--read) → RawFrame, all frames then done.

import { accessSync, constants, statSync } from 'node:fs';
import { PcapFileError } from '../errors.js';
import { linkTypeFromPcapName } from '../decode/link.js';
import { frameFromPcapPacket, type RawFrame } from './frame.js';
import { loadPcap } from './pcap-module.js';

/** Feeds every frame of `path` (that passes `filter`) to `onFrame`; resolves with the link type. */
export function readPcapFile(path: string, filter: string, onFrame: (frame: RawFrame, linkType: number) => void): Promise<number> {
  try {
    if (!statSync(path).isFile()) throw new Error('not a regular file');
    accessSync(path, constants.R_OK);
  } catch (cause) {
    throw new PcapFileError(`cannot read capture file ${path}: ${(cause as Error).message.replace(/^[A-Z]+: /, '')}`, { cause });
  }
  const pcap = loadPcap();
  let session;
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
  return new Promise((resolve) => {
    session.on('packet', (packet) => onFrame(frameFromPcapPacket(packet.buf, packet.header), linkType));
    session.on('complete', () => resolve(linkType));
  });
}
