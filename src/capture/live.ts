// capture/: live capture through libpcap (default interface `any`, Linux cooked capture) → RawFrame.

import { CaptureError } from '../errors.js';
import { linkTypeFromPcapName } from '../decode/link.js';
import { frameFromPcapPacket, type RawFrame } from './frame.js';
import { loadPcap, type PcapSessionLike } from './pcap-module.js';

export interface LiveCaptureOptions {
  interfaceName: string;
  filter: string;
  /** Kernel buffer; a burst larger than this is dropped and counted (`ps_drop`). */
  bufferSizeBytes: number;
  /** Bytes kept of each packet. */
  snapLengthBytes: number;
}

export interface CaptureStats {
  received: number;
  /** Packets the kernel dropped because the ring was full: requests may be missing. */
  droppedByKernel: number;
}

/** A running capture. `onFrame` is called synchronously for every frame. */
export class LiveCapture {
  readonly linkType: number;
  private session: PcapSessionLike | null;

  private constructor(session: PcapSessionLike, linkType: number) {
    this.session = session;
    this.linkType = linkType;
  }

  /** Opens the interface. Throws CaptureError with a one-line reason and hint. */
  static open(options: LiveCaptureOptions, onFrame: (frame: RawFrame) => void): LiveCapture {
    const pcap = loadPcap();
    if (options.interfaceName !== 'any') {
      const names = pcap.findalldevs().map((d) => d.name);
      if (!names.includes(options.interfaceName)) {
        throw new CaptureError('ERR_UNKNOWN_INTERFACE', `unknown interface "${options.interfaceName}"`, {
          hint: `available: ${names.join(', ') || 'none'}`,
        });
      }
    }
    let session: PcapSessionLike;
    try {
      session = pcap.createSession(options.interfaceName, {
        filter: options.filter,
        // pcap's default 1 s buffer timeout delays every packet, and with it every attribution.
        buffer_timeout: 0,
        buffer_size: options.bufferSizeBytes,
        snap_length: options.snapLengthBytes,
      });
    } catch (cause) {
      throw captureOpenError(options.interfaceName, cause);
    }
    const linkType = linkTypeFromPcapName(session.link_type);
    if (linkType === null) {
      session.close();
      throw new CaptureError('ERR_LINK_TYPE', `interface ${options.interfaceName} has an unsupported link type (${session.link_type})`);
    }
    session.on('packet', (packet) => onFrame(frameFromPcapPacket(packet.buf, packet.header)));
    return new LiveCapture(session, linkType);
  }

  stats(): CaptureStats {
    if (!this.session) return { received: 0, droppedByKernel: 0 };
    try {
      const s = this.session.stats();
      return { received: s.ps_recv, droppedByKernel: s.ps_drop };
    } catch {
      return { received: 0, droppedByKernel: 0 };
    }
  }

  /**
   * Stops delivery. pcap@3.1.0's close only takes effect at the next packet, so
   * this returns at once and nobody waits on it.
   */
  close(): void {
    const session = this.session;
    this.session = null;
    if (session) {
      try {
        session.close();
      } catch {
        /* already closed */
      }
    }
  }
}

function captureOpenError(interfaceName: string, cause: unknown): CaptureError {
  const text = cause instanceof Error ? cause.message : String(cause);
  if (/permission|not permitted|EPERM|socket: Operation/i.test(text)) {
    return new CaptureError('ERR_CAPTURE_PERMISSION', `no permission to capture on ${interfaceName}`, {
      hint: 'run as root or give the binary CAP_NET_RAW and CAP_NET_ADMIN (setcap cap_net_raw,cap_net_admin+eip)',
      cause,
    });
  }
  if (/no such device|doesn't exist|No such device exists/i.test(text)) {
    return new CaptureError('ERR_UNKNOWN_INTERFACE', `unknown interface "${interfaceName}"`, { cause });
  }
  return new CaptureError('ERR_CAPTURE_OPEN', `cannot capture on ${interfaceName}: ${text}`, { cause });
}
