// capture/: loads the native pcap binding, turning a missing libpcap into a clear error.

import { createRequire } from 'node:module';
import { CaptureError } from '../errors.js';

/** The subset of the pcap package's API that imds-sniff uses. */
export interface PcapPacket {
  buf: Buffer;
  header: Buffer;
}
export interface PcapSessionLike {
  link_type: string;
  on(event: 'packet', listener: (packet: PcapPacket) => void): void;
  on(event: 'complete', listener: () => void): void;
  close(): void;
  stats(): { ps_recv: number; ps_drop: number; ps_ifdrop: number };
}
export interface PcapModule {
  createSession(device: string, options: Record<string, unknown>): PcapSessionLike;
  createOfflineSession(path: string, options: Record<string, unknown>): PcapSessionLike;
  findalldevs(): Array<{ name: string }>;
  lib_version: string;
}

let cached: PcapModule | null = null;

/** The pcap package, loaded once. Throws CaptureError when libpcap or the binding is missing. */
export function loadPcap(): PcapModule {
  if (cached) return cached;
  try {
    const require = createRequire(import.meta.url);
    cached = require('pcap') as PcapModule;
    return cached;
  } catch (cause) {
    throw new CaptureError('ERR_LIBPCAP_MISSING', 'cannot load libpcap (the pcap module failed to load)', {
      hint: 'install libpcap (apt-get install libpcap0.8) and run scripts/setup.sh again',
      cause,
    });
  }
}
