// tcp/: Segments → per-connection, per-direction byte streams; NAT views of one connection merged.

import { TcpFlag, type Segment } from '../decode/segment.js';
import { Reassembler } from './reassembler.js';
import type { Endpoint } from '../capture/endpoints.js';

export type { Endpoint };

export type Direction = 'request' | 'response';

/** One logical TCP connection between a client and the metadata service. */
export interface Connection {
  /** Unique within a run, increasing. */
  id: number;
  family: 4 | 6;
  /** The client as its own socket sees itself: the first view captured, before NAT. */
  client: Endpoint;
  server: Endpoint;
  /** Every client address the connection was seen with (the first is `client`; later ones are NAT views). */
  views: Endpoint[];
  /** Capture time of the client's SYN, or of the first segment when joined mid-stream. */
  openedUs: number;
  lastSeenUs: number;
  /** Client initial sequence number; null when the SYN was not captured. */
  clientIsn: number | null;
}

export type StreamEvent =
  | { type: 'open'; conn: Connection; timestampUs: number; midStream: boolean }
  | { type: 'data'; conn: Connection; direction: Direction; bytes: Uint8Array; timestampUs: number; ttl: number }
  | { type: 'gap'; conn: Connection; direction: Direction }
  | { type: 'close'; conn: Connection; timestampUs: number; reason: 'fin' | 'rst' | 'idle' | 'evicted' | 'shutdown' };

export interface ConnectionTableOptions {
  /** True for the metadata service's address and port (the server side). */
  isServer(ip: string, port: number): boolean;
  /** A connection with no segment for this long (capture time) is closed. */
  idleTimeoutMs: number;
  /** Connections tracked at once; past it the least recently seen is closed. */
  maxConnections: number;
  /** Out-of-order bytes buffered per direction. */
  maxBufferedBytesPerDirection: number;
  /** Out-of-order bytes buffered by all connections together. */
  maxBufferedBytesTotal: number;
  /** Told about every segment or connection given up on, with the reason. */
  onDrop(reason: string): void;
}

interface Tracked {
  conn: Connection;
  viewKeys: string[];
  /** Key under which other views of this connection find it (client ISN, or first segment when joined mid-stream). */
  mergeKey: string;
  request: Reassembler;
  response: Reassembler;
  finFrom: Set<Direction>;
}

function viewKey(client: Endpoint, server: Endpoint): string {
  return `${client.ip}|${client.port}|${server.ip}|${server.port}`;
}

function isnKey(server: Endpoint, isn: number): string {
  return `${server.ip}|${server.port}|syn|${isn}`;
}

/** A connection joined mid-stream: NAT rewrites addresses and ports but not seq/ack, so the same packet seen on two interfaces has the same key. */
function joinKey(server: Endpoint, direction: Direction, seg: Segment): string {
  return `${server.ip}|${server.port}|${direction}|${seg.seq}|${seg.ack}`;
}

/**
 * Turns segments into per-connection byte streams. A container's connection
 * captured on `any` shows up once per interface it crosses, before and after
 * MASQUERADE; both views carry the same client ISN (or, joined mid-stream, the
 * same first segment), so they are merged into one Connection whose `client`
 * is the view captured first: the pre-NAT one.
 */
export class ConnectionTable {
  private readonly byView = new Map<string, Tracked>();
  private readonly byMergeKey = new Map<string, Tracked>();
  /** Out-of-order bytes held by all connections together. */
  private readonly budget = { usedBytes: 0, maxBytes: 0 };
  /** Insertion order = least recently seen first (re-inserted on every segment). */
  private readonly live = new Map<number, Tracked>();
  private nextId = 1;

  constructor(private readonly options: ConnectionTableOptions) {
    this.budget.maxBytes = options.maxBufferedBytesTotal;
  }

  get size(): number {
    return this.live.size;
  }

  /** Feeds one segment; returns what it opened, delivered or closed. */
  push(seg: Segment): StreamEvent[] {
    let direction: Direction;
    let client: Endpoint;
    let server: Endpoint;
    if (this.options.isServer(seg.dstIp, seg.dstPort)) {
      direction = 'request';
      client = { ip: seg.srcIp, port: seg.srcPort };
      server = { ip: seg.dstIp, port: seg.dstPort };
    } else if (this.options.isServer(seg.srcIp, seg.srcPort)) {
      direction = 'response';
      client = { ip: seg.dstIp, port: seg.dstPort };
      server = { ip: seg.srcIp, port: seg.srcPort };
    } else {
      this.count('not_imds');
      return [];
    }
    const events: StreamEvent[] = [];
    const isSyn = (seg.flags & TcpFlag.SYN) !== 0;
    const key = viewKey(client, server);
    let tracked = this.byView.get(key);

    if (isSyn && direction === 'request' && !(seg.flags & TcpFlag.ACK)) {
      if (tracked && tracked.conn.clientIsn !== seg.seq) {
        this.close(tracked, 'fin', seg.timestampUs, events); // 4-tuple reused by a new connection
        tracked = undefined;
      }
      tracked ??= this.viewOf(isnKey(server, seg.seq), client, key) ?? this.open(seg, client, server, key, isnKey(server, seg.seq), seg.seq, events);
      tracked.request.synchronize(seg.seq);
    } else if (!tracked) {
      // Joined mid-stream: only worth tracking when it carries bytes.
      // (Final ACKs and FINs after a close land here too: no bytes, nothing lost.)
      if (seg.payload.length === 0 || (seg.flags & TcpFlag.RST) !== 0) return events;
      const merge = joinKey(server, direction, seg);
      tracked = this.viewOf(merge, client, key) ?? this.open(seg, client, server, key, merge, null, events);
    }

    const conn = tracked.conn;
    conn.lastSeenUs = seg.timestampUs;
    this.live.delete(conn.id);
    this.live.set(conn.id, tracked);

    if (isSyn && direction === 'response') tracked.response.synchronize(seg.seq);
    if (seg.payload.length > 0) {
      const reassembler = direction === 'request' ? tracked.request : tracked.response;
      const result = reassembler.push(seg.seq, seg.payload);
      if (result.gap) events.push({ type: 'gap', conn, direction });
      for (const bytes of result.chunks) {
        events.push({ type: 'data', conn, direction, bytes, timestampUs: seg.timestampUs, ttl: seg.ttl });
      }
    }
    if (seg.flags & TcpFlag.RST) {
      this.close(tracked, 'rst', seg.timestampUs, events);
    } else if (seg.flags & TcpFlag.FIN) {
      tracked.finFrom.add(direction);
      if (tracked.finFrom.size === 2) this.close(tracked, 'fin', seg.timestampUs, events);
    }
    if (this.live.size > this.options.maxConnections) {
      const oldest = this.live.values().next().value as Tracked;
      this.close(oldest, 'evicted', seg.timestampUs, events);
    }
    return events;
  }

  /** Closes connections idle since before `nowUs - idleTimeoutMs`. */
  expire(nowUs: number): StreamEvent[] {
    const events: StreamEvent[] = [];
    const cutoff = nowUs - this.options.idleTimeoutMs * 1000;
    for (const tracked of this.live.values()) {
      if (tracked.conn.lastSeenUs > cutoff) break;
      this.close(tracked, 'idle', nowUs, events);
    }
    return events;
  }

  /** Closes everything (end of capture). */
  closeAll(nowUs: number): StreamEvent[] {
    const events: StreamEvent[] = [];
    for (const tracked of [...this.live.values()]) this.close(tracked, 'shutdown', nowUs, events);
    return events;
  }

  /** The connection another view registered under `mergeKey`, with this view added to it. */
  private viewOf(mergeKey: string, client: Endpoint, key: string): Tracked | undefined {
    const tracked = this.byMergeKey.get(mergeKey);
    if (!tracked) return undefined;
    tracked.viewKeys.push(key);
    this.byView.set(key, tracked);
    if (!tracked.conn.views.some((v) => v.ip === client.ip && v.port === client.port)) tracked.conn.views.push(client);
    return tracked;
  }

  private open(
    seg: Segment,
    client: Endpoint,
    server: Endpoint,
    key: string,
    mergeKey: string,
    isn: number | null,
    events: StreamEvent[],
  ): Tracked {
    const limits = { maxBufferedBytes: this.options.maxBufferedBytesPerDirection, shared: this.budget };
    const conn: Connection = {
      id: this.nextId++,
      family: seg.family,
      client,
      server,
      views: [client],
      openedUs: seg.timestampUs,
      lastSeenUs: seg.timestampUs,
      clientIsn: isn,
    };
    const tracked: Tracked = {
      conn,
      viewKeys: [key],
      mergeKey,
      request: new Reassembler(limits),
      response: new Reassembler(limits),
      finFrom: new Set(),
    };
    this.byView.set(key, tracked);
    this.byMergeKey.set(mergeKey, tracked);
    this.live.set(conn.id, tracked);
    events.push({ type: 'open', conn, timestampUs: seg.timestampUs, midStream: isn === null });
    return tracked;
  }

  private close(tracked: Tracked, reason: 'fin' | 'rst' | 'idle' | 'evicted' | 'shutdown', nowUs: number, events: StreamEvent[]): void {
    if (!this.live.delete(tracked.conn.id)) return;
    for (const key of tracked.viewKeys) {
      if (this.byView.get(key) === tracked) this.byView.delete(key);
    }
    if (this.byMergeKey.get(tracked.mergeKey) === tracked) this.byMergeKey.delete(tracked.mergeKey);
    // Request bytes still waiting for a hole to fill when the connection ends are a request (part) never seen.
    if (tracked.request.bufferedBytes > 0) this.count('request_bytes_unfilled_at_close');
    tracked.request.finish();
    tracked.response.finish();
    if (reason === 'evicted') this.count('evicted_connection');
    events.push({ type: 'close', conn: tracked.conn, timestampUs: nowUs, reason });
  }

  private count(reason: string): void {
    this.options.onDrop(reason);
  }
}
