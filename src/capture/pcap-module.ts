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

// A single executable's entry (packaging/sea/entry.cjs) hands over the pcap package it bundled.
declare const IMDS_SNIFF_BUNDLED_PCAP: (() => PcapModule) | undefined;

/** The pcap package, loaded once. Throws CaptureError when libpcap or the binding is missing. */
export function loadPcap(): PcapModule {
  if (cached) return cached;
  const bundled = typeof IMDS_SNIFF_BUNDLED_PCAP === 'function' ? IMDS_SNIFF_BUNDLED_PCAP : null;
  try {
    cached = bundled ? bundled() : (createRequire(import.meta.url)('pcap') as PcapModule);
    return cached;
  } catch (cause) {
    const why = cause instanceof Error ? cause.message.split('\n')[0] : String(cause);
    throw new CaptureError('ERR_LIBPCAP_MISSING', `cannot load libpcap (the pcap module failed to load: ${why})`, {
      hint: bundled
          ? 'the binary brings its own libpcap beside it: reinstall the package'
          : 'install libpcap (apt-get install libpcap0.8) and run scripts/setup.sh again',
      cause,
    });
  }
}
