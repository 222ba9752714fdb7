// pipeline/: wires decode → tcp → http → classify → attribute into imds_request events.

import type { OwnProgram } from '../attribute/own-program.js';
import { unknownProcess, type ProcessInfo, type SocketOwnerFinder } from '../attribute/types.js';
import { classifyRequest, probeCloudOf, type RequestKind } from '../classify/classify.js';
import { exceedsHopLimit, isForwardedClient } from '../classify/hop-limit.js';
import { hasOwnUserAgent } from '../classify/own-request.js';
import type { HttpRequest } from '../http/request.js';
import { decodePacket } from '../decode/packet.js';
import { parseIpv4, parseIpv6 } from '../decode/ip-address.js';
import { ExchangeTracker, type HttpExchange } from '../http/exchange-tracker.js';
import { DEFAULT_HTTP_LIMITS, type HttpLimits } from '../http/message-stream.js';
import { ConnectionTable, type Connection, type Endpoint, type StreamEvent } from '../tcp/connection-table.js';
import { buildRequestEvent } from './events.js';
import { type ImdsRequestEvent } from '../contract/imds-request-event.js';

export interface PipelineOptions {
  linkType: number;
  /** Metadata-service endpoints (server side of every connection). */
  endpoints: readonly Endpoint[];
  /** How connections are attributed to processes; null for offline analysis. */
  finder: SocketOwnerFinder | null;
  attributionTimeoutMs: number;
  /** This host's own addresses, to tell forwarded (container) clients; null when unknown. */
  localAddresses: ReadonlySet<string> | null;
  /** Inode of the agent's network namespace: a client in another one is forwarded. */
  ownNetns: number | null;
  /** Our own pid: requests from it are marked `own`. */
  ownPid: number;
  /** Source ports of our own IMDS calls: marked `own` even when attribution cannot tell. */
  ownLocalPorts?: ReadonlySet<number>;
  /**
   * The imds-sniff program (found once at start): a request with imds-sniff's User-Agent
   * is `own` only when its process runs it. Null (offline, or unknown) leaves such
   * requests counted like any other.
   */
  ownProgram: OwnProgram | null;
  idleTimeoutMs: number;
  maxConnections: number;
  maxBufferedBytesPerDirection: number;
  maxBufferedBytesTotal: number;
  /** Requests waiting for their answers per connection; past it the oldest is reported unanswered. */
  maxWaitingRequestsPerConnection: number;
  httpLimits?: HttpLimits;
  onEvent(event: ImdsRequestEvent): void;
}

const ETHERTYPE_ARP = 0x0806;
const ETHERTYPE_RARP = 0x8035;

/** Counters for the summary and `doctor`: nothing is dropped without being counted. */
export interface PipelineStats {
  frames: number;
  /** Frames that held an IP packet (whatever its protocol): a capture with none held nothing to analyse. */
  ipPackets: number;
  segments: number;
  connections: number;
  requests: number;
  dropped: Record<string, number>;
  /** Live connections by how their process was found (tracefs, exited, procfs, unknown). */
  attributed: Record<string, number>;
  /** Connections first seen after their SYN (open before the capture, or the SYN lost): /proc names them. */
  midStream: number;
  /** Lookups that failed (the event says unknown); the first reason is kept. */
  lookupErrors: number;
  firstLookupError: string | null;
}

function offlineProcess(): ProcessInfo {
  return { ...unknownProcess(), attribution: 'none' };
}

/** One capture's worth of state. Frames in, imds_request events out (in request order). */
export class Pipeline {
  private readonly table: ConnectionTable;
  private readonly tracker: ExchangeTracker;
  private readonly owners = new Map<number, Promise<ProcessInfo>>();
  private emitting: Promise<void> = Promise.resolve();
  private readonly endpointIps: ReadonlySet<string>;
  /** The endpoints' addresses as they stand in a packet, to recognise IMDS traffic in a frame that does not decode. */
  private readonly endpointBytes: Buffer[];
  readonly stats: PipelineStats = { frames: 0, ipPackets: 0, segments: 0, connections: 0, requests: 0, dropped: {}, attributed: {}, midStream: 0, lookupErrors: 0, firstLookupError: null };

  constructor(private readonly options: PipelineOptions) {
    const endpoints = new Set(options.endpoints.map((e) => `${e.ip}|${e.port}`));
    this.endpointIps = new Set(options.endpoints.map((e) => e.ip));
    this.endpointBytes = options.endpoints.map((e) => Buffer.from(parseIpv4(e.ip) ?? parseIpv6(e.ip) ?? []));
    this.table = new ConnectionTable({
      isServer: (ip, port) => endpoints.has(`${ip}|${port}`),
      idleTimeoutMs: options.idleTimeoutMs,
      maxConnections: options.maxConnections,
      maxBufferedBytesPerDirection: options.maxBufferedBytesPerDirection,
      maxBufferedBytesTotal: options.maxBufferedBytesTotal,
      onDrop: (reason) => this.drop(`tcp_${reason}`),
    });
    this.tracker = new ExchangeTracker(options.httpLimits ?? DEFAULT_HTTP_LIMITS, options.maxWaitingRequestsPerConnection);
  }

  /** Connections open right now. */
  get openConnections(): number {
    return this.table.size;
  }

  /**
   * One captured frame. The bytes may be the capture's reused buffer: nothing
   * keeps a view of them past this call. `linkType` defaults to the pipeline's
   * (a pcapng file may mix interfaces of different link types).
   */
  handleFrame(bytes: Uint8Array, timestampUs: number, linkType = this.options.linkType): void {
    this.stats.frames += 1;
    const decoded = decodePacket(linkType, bytes, timestampUs);
    if ('drop' in decoded) {
      if (decoded.ip) this.stats.ipPackets += 1;
      this.drop(`decode_${decoded.drop}`);
      if (this.lostImdsFrame(decoded, bytes)) this.drop('imds_frame_undecodable');
      return;
    }
    this.stats.ipPackets += 1;
    this.stats.segments += 1;
    if (decoded.segment.truncated) this.drop('decode_snaplen_truncated');
    this.handleStreamEvents(this.table.push(decoded.segment));
  }

  /**
   * A frame that could not be decoded but was to or from the metadata service (by
   * its IP addresses, or, where the link layer could not be read, by the address
   * bytes it holds): a request may have been in it. ICMP and UDP to IMDS, and ARP
   * for its address, are not requests.
   */
  private lostImdsFrame(decoded: { drop: string; addresses?: [string, string]; etherType?: number }, bytes: Uint8Array): boolean {
    if (decoded.drop === 'not_tcp') return false;
    if (decoded.addresses !== undefined) return this.endpointIps.has(decoded.addresses[0]) || this.endpointIps.has(decoded.addresses[1]);
    if (decoded.etherType === ETHERTYPE_ARP || decoded.etherType === ETHERTYPE_RARP) return false;
    const haystack = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 256));
    return this.endpointBytes.some((address) => haystack.indexOf(address) >= 0);
  }

  /** Closes idle connections (call about once a second with the current time). */
  tick(nowUs: number): void {
    this.handleStreamEvents(this.table.expire(nowUs));
  }

  /** Ends the capture: every open request is reported (status null when unanswered). */
  async flush(nowUs: number): Promise<void> {
    this.handleStreamEvents(this.table.closeAll(nowUs));
    await this.emitting;
  }

  private handleStreamEvents(events: StreamEvent[]): void {
    for (const event of events) {
      if (event.type === 'open') {
        this.stats.connections += 1;
        if (event.midStream) this.stats.midStream += 1;
        this.owners.set(event.conn.id, this.findOwner(event.conn, event.midStream));
      }
      const out = this.tracker.handle(event);
      for (const reason of out.drops) this.drop(`http_${reason}`);
      for (const exchange of out.exchanges) this.emit(exchange);
      if (event.type === 'close') this.owners.delete(event.conn.id);
    }
  }

  private findOwner(conn: Connection, midStream: boolean): Promise<ProcessInfo> {
    const finder = this.options.finder;
    if (!finder) return Promise.resolve(offlineProcess());
    const key = { family: conn.family, srcIp: conn.client.ip, srcPort: conn.client.port, dstIp: conn.server.ip, dstPort: conn.server.port };
    return finder
      // A live capture's packet times are the kernel's wall clock: how far behind this question comes.
      .find(key, this.options.attributionTimeoutMs, { midStream, capturedAgoMs: Date.now() - conn.openedUs / 1000 })
      .catch((err: unknown) => {
        this.stats.lookupErrors += 1;
        this.stats.firstLookupError ??= err instanceof Error ? err.message : String(err);
        return unknownProcess();
      })
      .then((info) => {
        this.stats.attributed[info.attribution] = (this.stats.attributed[info.attribution] ?? 0) + 1;
        return info;
      });
  }

  private emit(exchange: HttpExchange): void {
    this.stats.requests += 1;
    const owner = this.owners.get(exchange.conn.id) ?? Promise.resolve(this.options.finder ? unknownProcess() : offlineProcess());
    const kind = classifyRequest(exchange.request);
    this.emitting = this.emitting.then(async () => {
      try {
        await this.emitOne(exchange, owner, kind);
      } catch {
        // One request that cannot be turned into an event must not stop every later one.
        this.drop('event_error');
      }
    });
  }

  private async emitOne(exchange: HttpExchange, owner: Promise<ProcessInfo>, kind: RequestKind): Promise<void> {
    const process = await owner;
    const forwarded = isForwardedClient(exchange.conn, {
      clientNetns: process.netns,
      ownNetns: this.options.ownNetns,
      localAddresses: this.options.localAddresses,
    });
    this.deliver(
      buildRequestEvent(exchange, process, {
        kind,
        probeCloud: probeCloudOf(exchange.request, kind),
        forwarded,
        hopLimitExceeded: exceedsHopLimit(kind, forwarded, exchange.responseTtl),
        own: this.isOwn(exchange.conn, process) || this.isFromOwnProgram(exchange.request, process),
      }),
    );
  }

  private isOwn(conn: Connection, process: ProcessInfo): boolean {
    if (process.pid !== null) return process.pid === this.options.ownPid;
    return conn.views.length === 1 && (this.options.ownLocalPorts?.has(conn.client.port) ?? false);
  }

  /** The control commands' calls: our User-Agent, sent by a process that runs imds-sniff (the header alone proves nothing). */
  private isFromOwnProgram(request: HttpRequest, process: ProcessInfo): boolean {
    return hasOwnUserAgent(request) && (this.options.ownProgram?.runs(process) ?? false);
  }

  /** A failing sink must not stop later events: count it and go on. */
  private deliver(event: ImdsRequestEvent): void {
    try {
      this.options.onEvent(event);
    } catch {
      this.drop('sink_error');
    }
  }

  private drop(reason: string): void {
    this.stats.dropped[reason] = (this.stats.dropped[reason] ?? 0) + 1;
  }
}
