// Pure: turns inet_sock_set_state transitions into "who connected this 4-tuple" for the tracefs finder.

import type { SockStateEvent } from './tracefs/trace-events.js';
import type { SocketKey } from './types.js';

const TCP_ESTABLISHED = 1;
const TCP_SYN_SENT = 2;
const TCP_FIN_WAIT1 = 4;
const TCP_CLOSE = 7;
const IPPROTO_TCP = 6;
/** How long a transition read before its socket's connect waits for it. */
const EARLY_MS = 5_000;
/**
 * Clock error allowed when a packet's capture time (wall clock, read in ms) is set against
 * kernel times (monotonic): the packet's socket connected before it was captured. A capture
 * stamp can come late (seen under qemu TCG: a container's SYN stamped after its socket had
 * closed), never early, so only "connected after the packet" is ever concluded from it.
 */
const CAPTURE_SLACK_S = 0.002;
/** A connection has a handful of transitions; more for one unknown socket is not a connection. */
const MAX_EARLY_PER_SOCKET = 8;
/** Connections kept per struct sock address: the kernel reuses one at once under a burst. */
const RECORDS_PER_SKADDR = 4;

/** One outgoing connection, from its CLOSE → SYN_SENT transition on. */
export interface ConnectRecord<P> {
  skaddr: string;
  /** Thread that called connect() (the transition fires in its context). */
  tid: number;
  tgid: number | null;
  /** Thread name when the event carried one; null otherwise. */
  comm: string | null;
  family: 4 | 6;
  /** Canonical text; null when the event did not carry addresses. */
  saddr: string | null;
  daddr: string | null;
  dport: number;
  /** Null until a later transition shows the bound source port. */
  sport: number | null;
  /** The transition that showed the port (kernel order decides whose it is when connects arrive late). */
  boundBy: SockStateEvent | null;
  /** The → CLOSE transition applied to it. */
  closedBy: SockStateEvent | null;
  /** Order of creation, to tell a newer connection from an older one on the same tuple. */
  seq: number;
  /** Kernel time of the connect (trace clock seconds). */
  connectTs: number;
  /** Kernel time of its → CLOSE transition; null while open. */
  closedTs: number | null;
  connectAtMs: number;
  boundAtMs: number | null;
  closedAtMs: number | null;
  /** Caller data made at connect time (the finder's /proc snapshot). */
  payload: P;
}

/**
 * A key two sockets claimed while both looked open: since when, and the two when known. Two
 * network namespaces using the same addresses and ports claim it at once; a port reused at
 * once, whose first socket's close a lagging CPU delivers late, only seems to.
 */
interface Contest<P> {
  sinceMs: number;
  claimants: [ConnectRecord<P>, ConnectRecord<P>] | null;
}

/** Options for {@link SocketStateIndex}. */
export interface SocketStateIndexOptions {
  /** A record is forgotten this long after its connect; default 30 s. */
  expiryMs?: number;
  /** At most this many records of each kind; default 10 000. */
  maxEntries?: number;
  /**
   * A connection that already closed still answers lookups for this long, because a
   * short-lived client can finish before the pipeline asks; default 5 s.
   */
  closedGraceMs?: number;
}

/** When the packet a lookup asks about was captured; each part optional. */
export interface AskedAt {
  /** On the lookup's clock (`nowMs`): a connection closed within the grace before it still answers. */
  askedAtMs?: number;
  /** On the trace clock: a connection made after it is a later socket on the tuple, not the packet's. */
  askedTs?: number | null;
}

/** What one transition did. */
export interface IndexUpdate<P> {
  /** Set on CLOSE → SYN_SENT: a new connection, whose payload was just made. */
  connected: ConnectRecord<P> | null;
  /** True when lookups may now answer differently (a port was bound or a socket closed). */
  changed: boolean;
}

/** True for the CLOSE → SYN_SENT transition of a TCP socket: connect() in the caller's context. */
export function isConnectTransition(ev: SockStateEvent): boolean {
  return ev.oldState === TCP_CLOSE && ev.newState === TCP_SYN_SENT && (ev.protocol === null || ev.protocol === IPPROTO_TCP);
}

/**
 * Index key. Both families key on the full 4-tuple; an IPv6 event without addresses (a
 * source that could not read the v6 fields) keys on the ports alone.
 */
function recordKey(r: { family: 4 | 6; saddr: string | null; daddr: string | null; sport: number; dport: number }): string {
  if (r.family === 6 && (r.saddr === null || r.daddr === null)) return `6|${r.sport}|${r.dport}`;
  return `${r.family}|${r.saddr}|${r.sport}|${r.daddr}|${r.dport}`;
}

/** An unspecified address: the socket has not chosen that end yet. */
function unspecified(ip: string | null): boolean {
  return ip === null || ip === '0.0.0.0' || ip === '::';
}

/**
 * The CLOSE → SYN_SENT transition runs in the connecting thread (right pid and comm) but
 * before the source port is chosen; the next transition of the same skaddr (→ ESTABLISHED,
 * or → CLOSE on refusal) carries the port. This index joins the two and answers
 * lookups by the client's 4-tuple.
 */
export class SocketStateIndex<P> {
  private readonly expiryMs: number;
  private readonly maxEntries: number;
  private readonly closedGraceMs: number;
  /**
   * The recent connections on each struct sock address, oldest connect first. A transition
   * belongs to the newest one whose connect came before it in kernel time and that had not
   * closed by then: a lagging CPU can deliver an older socket's connect after a newer one on
   * the same (reused) address, and its transitions must not go to the newer one, nor the
   * newer one's port to it.
   */
  private readonly bySkaddr = new Map<string, ConnectRecord<P>[]>();
  private readonly byKey = new Map<string, ConnectRecord<P>>();
  /**
   * Keys two sockets claimed while both looked open (see {@link Contest}): lookups on them
   * answer nothing rather than guess, unless the packet's capture time tells them apart.
   */
  private readonly ambiguous = new Map<string, Contest<P>>();
  /**
   * Transitions of a socket whose connect has not been applied yet: another CPU's reader
   * can lag past the reorder holdback (a starved host), so the ESTABLISHED transition,
   * handled in softirq on the CPU that took the SYN-ACK, may come first. They wait here,
   * briefly, for their connect.
   */
  private readonly early = new Map<string, { events: SockStateEvent[]; atMs: number }>();
  private seq = 0;

  constructor(opts: SocketStateIndexOptions = {}) {
    this.expiryMs = opts.expiryMs ?? 30_000;
    this.maxEntries = opts.maxEntries ?? 10_000;
    this.closedGraceMs = opts.closedGraceMs ?? 5_000;
  }

  /** Applies one transition. `makePayload` runs once per new connection, at CLOSE → SYN_SENT. */
  apply(ev: SockStateEvent, nowMs: number, makePayload: (ev: SockStateEvent) => P): IndexUpdate<P> {
    if (ev.protocol !== null && ev.protocol !== IPPROTO_TCP) return { connected: null, changed: false };
    if (ev.oldState === TCP_CLOSE && ev.newState === TCP_SYN_SENT) {
      const record: ConnectRecord<P> = {
        skaddr: ev.skaddr,
        tid: ev.tid,
        tgid: ev.tgid,
        comm: ev.comm,
        family: ev.family,
        saddr: ev.saddr,
        daddr: ev.daddr,
        dport: ev.dport,
        sport: null,
        boundBy: null,
        closedBy: null,
        seq: ++this.seq,
        connectTs: ev.timestamp,
        closedTs: null,
        connectAtMs: nowMs,
        boundAtMs: null,
        closedAtMs: null,
        payload: makePayload(ev),
      };
      // The kernel reuses struct sock memory: a new connect on a known skaddr is a new socket,
      // placed in kernel time order (a lagging CPU's connect can be older than one applied).
      const list = (this.bySkaddr.get(ev.skaddr) ?? []).filter((r) => nowMs - r.connectAtMs <= this.expiryMs);
      list.push(record);
      list.sort((a, b) => a.connectTs - b.connectTs || a.seq - b.seq);
      this.bySkaddr.delete(ev.skaddr);
      this.bySkaddr.set(ev.skaddr, list.slice(-RECORDS_PER_SKADDR));
      this.prune(nowMs);
      let changed = this.takeFromPrevious(record, nowMs);
      // Later transitions of this socket that were read before its connect.
      changed = this.replayHeld(record, nowMs) || changed;
      return { connected: record, changed };
    }
    const record = this.owner(ev);
    if (!record) {
      this.keepEarly(ev, nowMs);
      return { connected: null, changed: false };
    }
    const changed = this.advance(record, ev, nowMs);
    // Bound now: a close held because it named this port (read before the binding) is its own.
    if (changed) this.replayHeld(record, nowMs);
    return { connected: null, changed };
  }

  /**
   * Applies the held transitions that are `record`'s: those after its connect and before the
   * next connect on its address, in kernel order up to its close, except another socket's port.
   */
  private replayHeld(record: ConnectRecord<P>, nowMs: number): boolean {
    const held = this.early.get(record.skaddr);
    const list = this.bySkaddr.get(record.skaddr) ?? [];
    const at = list.indexOf(record);
    if (!held || at < 0) return false;
    const next = list[at + 1]?.connectTs ?? Infinity;
    const mine = held.events.filter((later) => later.timestamp >= record.connectTs && later.timestamp < next).sort((a, b) => a.timestamp - b.timestamp);
    const taken = new Set<SockStateEvent>();
    let changed = false;
    for (const later of mine) {
      if (record.closedTs !== null && later.timestamp > record.closedTs) break;
      if (foreign(record, later)) continue; // stays held for its own connect
      changed = this.advance(record, later, nowMs) || changed;
      taken.add(later);
    }
    held.events = held.events.filter((later) => !taken.has(later));
    if (held.events.length === 0) this.early.delete(record.skaddr);
    return changed;
  }

  /**
   * A connect read late, after transitions that came after it in kernel time went to the
   * previous socket on its address: the port and close those showed are this one's (the
   * previous socket had closed before the address was reused). The previous socket waits
   * for its own, still unread, transitions.
   */
  private takeFromPrevious(record: ConnectRecord<P>, nowMs: number): boolean {
    const list = this.bySkaddr.get(record.skaddr) ?? [];
    const prev = list[list.indexOf(record) - 1];
    if (!prev) return false;
    const moved: SockStateEvent[] = [];
    if (prev.boundBy && prev.boundBy.timestamp > record.connectTs) {
      moved.push(prev.boundBy);
      this.unbind(prev);
    }
    if (prev.closedBy && prev.closedBy.timestamp > record.connectTs) {
      moved.push(prev.closedBy);
      prev.closedBy = null;
      prev.closedTs = null;
      prev.closedAtMs = null;
    }
    if (moved.length === 0) return false;
    for (const later of moved.sort((a, b) => a.timestamp - b.timestamp)) this.advance(record, later, nowMs);
    // The previous socket, unbound again, may own a transition held because it named another port.
    this.replayHeld(prev, nowMs);
    return true;
  }

  /** The connection a transition belongs to: the newest connect before it on its address, not closed before it. */
  private owner(ev: SockStateEvent): ConnectRecord<P> | undefined {
    const list = this.bySkaddr.get(ev.skaddr);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const r = list[i]!;
      if (r.connectTs > ev.timestamp) continue;
      return r.closedTs === null || r.closedTs >= ev.timestamp ? r : undefined;
    }
    return undefined;
  }

  /** Holds a transition of a socket with no connect yet (bounded, forgotten after EARLY_MS). */
  private keepEarly(ev: SockStateEvent, nowMs: number): void {
    const held = this.early.get(ev.skaddr);
    if (held && nowMs - held.atMs <= EARLY_MS) {
      if (held.events.length < MAX_EARLY_PER_SOCKET) held.events.push(ev);
    } else {
      this.early.delete(ev.skaddr);
      this.early.set(ev.skaddr, { events: [ev], atMs: nowMs });
    }
    for (const [k, e] of this.early) {
      if (this.early.size <= this.maxEntries && nowMs - e.atMs <= EARLY_MS) break;
      this.early.delete(k);
    }
  }

  /** Forgets the port a connection was joined to (its key stops naming it). */
  private unbind(record: ConnectRecord<P>): void {
    if (record.sport === null) return;
    const key = recordKey({ ...record, sport: record.sport });
    if (this.byKey.get(key) === record) this.byKey.delete(key);
    record.sport = null;
    record.boundBy = null;
    record.boundAtMs = null;
  }

  /** A transition after the connect: the port bound, or the socket closed. True when lookups may answer differently. */
  private advance(record: ConnectRecord<P>, ev: SockStateEvent, nowMs: number): boolean {
    let changed = false;
    if (foreign(record, ev)) {
      // A newer socket's transition, its connect not read yet (this one's close lagging too): it waits for that connect.
      this.keepEarly(ev, nowMs);
      return false;
    }
    if (record.sport !== null && ev.sport !== 0 && ev.sport !== record.sport) {
      // The connecting thread itself closing with another port: that port is its own, and the
      // one it was joined to was another socket's (a reused struct sock read out of order).
      // That one answers nothing from now on: unknown, never this process.
      this.ambiguous.set(recordKey({ ...record, sport: record.sport }), { sinceMs: nowMs, claimants: null });
      this.unbind(record);
      changed = true;
    }
    if (record.sport === null && ev.sport !== 0) {
      record.sport = ev.sport;
      record.boundBy = ev;
      record.boundAtMs = nowMs;
      // The source address may only be chosen with the port on some paths.
      if (!unspecified(ev.saddr)) record.saddr = ev.saddr;
      if (!unspecified(ev.daddr)) record.daddr = ev.daddr;
      const key = recordKey({ ...record, sport: ev.sport });
      const other = this.byKey.get(key);
      if (other && other !== record && other.closedAtMs === null && nowMs - other.connectAtMs <= this.expiryMs) {
        this.ambiguous.set(key, { sinceMs: nowMs, claimants: [other, record] });
      }
      this.byKey.delete(key);
      this.byKey.set(key, record);
      changed = true;
    }
    if (ev.newState === TCP_CLOSE && record.closedTs === null) {
      record.closedAtMs = nowMs;
      record.closedTs = ev.timestamp;
      record.closedBy = ev;
      changed = true;
      this.settleContest(record);
    }
    return changed;
  }

  /**
   * A socket that claimed a key beside another has closed: if the older of the two closed
   * before the newer connected (kernel time), they were one after the other, the port reused
   * at once and the close read late, and the newer holds the key. Two that overlapped stay
   * ambiguous.
   */
  private settleContest(record: ConnectRecord<P>): void {
    if (record.sport === null) return;
    const key = recordKey({ ...record, sport: record.sport });
    const claimants = this.ambiguous.get(key)?.claimants;
    if (!claimants?.includes(record)) return;
    const [older, newer] = claimants[0].connectTs <= claimants[1].connectTs ? claimants : [claimants[1], claimants[0]];
    if (older.closedTs === null || older.closedTs > newer.connectTs) return;
    this.ambiguous.delete(key);
    if (newer.sport === record.sport) {
      this.byKey.delete(key);
      this.byKey.set(key, newer);
    }
  }

  /**
   * The connection `key` belongs to, or null if not (yet) known. An IPv4 key also matches
   * an AF_INET6 socket on the v4-mapped addresses (a dual-stack socket).
   * A closed connection is returned only if it closed at most closedGraceMs before
   * `askedAtMs` (when the packet asked about was captured; default now), and not while a
   * newer, still-unbound connect could turn out to be the one that reused the tuple.
   */
  lookup(key: SocketKey, nowMs: number, at: AskedAt = {}): ConnectRecord<P> | null {
    const askedTs = at.askedTs ?? null;
    let record = this.holder(key, nowMs);
    // The tuple held by a socket newer than the packet, or claimed by two: the one that had it when the packet was captured.
    if (askedTs !== null && (record === undefined ? this.contested(key, nowMs) : record.connectTs > askedTs + CAPTURE_SLACK_S)) {
      record = this.latestBefore(key, askedTs);
    }
    if (!record || nowMs - record.connectAtMs > this.expiryMs) return null;
    if (record.closedAtMs === null) return record;
    if (Math.min(at.askedAtMs ?? nowMs, nowMs) - record.closedAtMs > this.closedGraceMs) return null;
    for (const list of this.bySkaddr.values()) {
      for (const pending of list) {
        if (pending.sport !== null || pending.closedTs !== null || pending.seq <= record.seq || !couldBe(pending, key)) continue;
        // A connect after the packet was captured cannot be the packet's socket.
        if (askedTs === null || pending.connectTs <= askedTs + CAPTURE_SLACK_S) return null;
      }
    }
    return record;
  }

  /** Whether `key` is claimed by two sockets (see {@link Contest}). */
  private contested(key: SocketKey, nowMs: number): boolean {
    return candidateKeys(key).some((k) => {
      const contest = this.ambiguous.get(k);
      return contest !== undefined && nowMs - contest.sinceMs <= this.expiryMs;
    });
  }

  /**
   * The latest connection on `key` that connected before kernel time `ts`; undefined if none,
   * or if an earlier one on the key was still open when it connected (two namespaces at once,
   * or a close not read yet: no telling which).
   */
  private latestBefore(key: SocketKey, ts: number): ConnectRecord<P> | undefined {
    const keys = candidateKeys(key);
    const before: ConnectRecord<P>[] = [];
    for (const list of this.bySkaddr.values()) {
      for (const r of list) {
        if (r.sport === key.srcPort && r.connectTs <= ts + CAPTURE_SLACK_S && keys.includes(recordKey({ ...r, sport: r.sport }))) before.push(r);
      }
    }
    const latest = before.reduce<ConnectRecord<P> | undefined>((a, r) => (a === undefined || r.connectTs > a.connectTs ? r : a), undefined);
    if (latest === undefined) return undefined;
    return before.every((r) => r === latest || (r.closedTs !== null && r.closedTs <= latest.connectTs)) ? latest : undefined;
  }

  /**
   * The connection bound to `key` and not made ambiguous, whatever its age or state: after a
   * wait, whether the one found before still holds the port (no late connect took it).
   */
  holder(key: SocketKey, nowMs: number): ConnectRecord<P> | undefined {
    for (const k of candidateKeys(key)) {
      const since = this.ambiguous.get(k)?.sinceMs;
      const record = since !== undefined && nowMs - since <= this.expiryMs ? undefined : this.byKey.get(k);
      if (record) return record;
    }
    return undefined;
  }

  /** What the index holds that could bear on `key` (same ports): for a debug line when a lookup finds nothing. */
  explain(key: SocketKey, nowMs: number): Record<string, unknown> {
    const brief = (r: ConnectRecord<P>) => ({ tid: r.tid, family: r.family, saddr: r.saddr, daddr: r.daddr, sport: r.sport, connectTs: r.connectTs, closedTs: r.closedTs, ageMs: Math.round(nowMs - r.connectAtMs) });
    const samePort = [...this.byKey.values()].filter((r) => r.sport === key.srcPort).map(brief);
    const unbound: ReturnType<typeof brief>[] = [];
    for (const list of this.bySkaddr.values()) for (const r of list) if (r.sport === null) unbound.push(brief(r));
    const early = [...this.early.values()].flatMap((e) => e.events).filter((e) => e.sport === key.srcPort).map((e) => ({ skaddr: e.skaddr, old: e.oldState, new: e.newState, ts: e.timestamp, saddr: e.saddr }));
    const ambiguous = [...this.ambiguous.keys()].filter((k) => k.includes(`|${key.srcPort}|`));
    return { samePort, unbound: unbound.slice(-10), unboundCount: unbound.length, early, ambiguous };
  }

  /** Records held, for stats and tests. */
  get size(): { connecting: number; bound: number; early: number } {
    let connecting = 0;
    for (const list of this.bySkaddr.values()) connecting += list.filter((r) => r.closedTs === null).length;
    return { connecting, bound: this.byKey.size, early: this.early.size };
  }

  /** Drops records older than expiryMs and the oldest beyond maxEntries. */
  prune(nowMs: number): void {
    for (const [k, contest] of this.ambiguous) {
      if (nowMs - contest.sinceMs <= this.expiryMs && this.ambiguous.size <= this.maxEntries) break;
      this.ambiguous.delete(k);
    }
    for (const [k, list] of this.bySkaddr) {
      const newest = list[list.length - 1];
      if (this.bySkaddr.size <= this.maxEntries && newest !== undefined && nowMs - newest.connectAtMs <= this.expiryMs) break;
      this.bySkaddr.delete(k);
    }
    for (const [k, r] of this.byKey) {
      if (this.byKey.size <= this.maxEntries && nowMs - r.connectAtMs <= this.expiryMs) break;
      this.byKey.delete(k);
    }
  }
}

/**
 * A transition that names another port than the one the connection is bound to, and is not
 * its own thread closing it (ESTABLISHED → FIN_WAIT1 in that thread): a socket's port never
 * changes, so it is a newer socket's on the reused address.
 */
function foreign(record: ConnectRecord<unknown>, ev: SockStateEvent): boolean {
  if (record.sport === null || ev.sport === 0 || ev.sport === record.sport) return false;
  return !(ev.tid === record.tid && ev.oldState === TCP_ESTABLISHED && ev.newState === TCP_FIN_WAIT1);
}

/**
 * The index keys a socket behind `key` may be under, most specific first: an IPv4 key also
 * matches an AF_INET6 socket on the v4-mapped addresses, and a v6 event without addresses keys
 * on the ports alone.
 */
function candidateKeys(key: SocketKey): string[] {
  const [saddr, daddr] = key.family === 4 ? [`::ffff:${key.srcIp}`, `::ffff:${key.dstIp}`] : [key.srcIp, key.dstIp];
  const v6Key = recordKey({ family: 6, saddr, daddr, sport: key.srcPort, dport: key.dstPort });
  const portsOnly = `6|${key.srcPort}|${key.dstPort}`;
  if (key.family === 6) return [v6Key, portsOnly];
  return [recordKey({ family: 4, saddr: key.srcIp, daddr: key.dstIp, sport: key.srcPort, dport: key.dstPort }), v6Key, portsOnly];
}

/** Whether an unbound connect may be the socket behind `key` once its port shows. */
function couldBe(pending: ConnectRecord<unknown>, key: SocketKey): boolean {
  if (pending.dport !== key.dstPort) return false;
  if (pending.family === 6) return true; // its v6 source may still be unchosen, or v4-mapped
  return key.family === 4 && (unspecified(pending.saddr) || pending.saddr === key.srcIp) && pending.daddr === key.dstIp;
}
