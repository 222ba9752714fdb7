// classify/: detects token answers that could not reach a client behind a forwarding hop (containers).

import type { Connection } from '../tcp/connection-table.js';
import type { RequestKind } from './classify.js';

/** What is known about where a client sits, besides its connection. */
export interface ClientPlace {
  /** Network namespace of the client process and of the agent, when known. */
  clientNetns: number | null;
  ownNetns: number | null;
  /** This host's addresses (when the netns is unknown); null when unknown too. */
  localAddresses: ReadonlySet<string> | null;
}

/**
 * True when the client sits behind at least one forwarding hop from where we
 * capture: its connection was seen under two client addresses (NAT, the Docker
 * bridge default), its process lives in another network namespace, or (when
 * that is unknown) its address is not one of this host's own.
 */
export function isForwardedClient(conn: Connection, place: ClientPlace): boolean {
  if (new Set(conn.views.map((v) => v.ip)).size > 1) return true;
  if (place.clientNetns !== null && place.ownNetns !== null) return place.clientNetns !== place.ownNetns;
  const local = place.localAddresses;
  return local !== null && local.size > 0 && !local.has(conn.client.ip);
}

/**
 * A token answer arrived here with a TTL / hop limit that the forwarding hop
 * decrements to zero, so the client never got it: the classic "IMDSv2 fails in
 * containers" case, HttpPutResponseHopLimit 1. Only token PUT answers carry the
 * lowered limit, so only they are judged.
 */
export function exceedsHopLimit(kind: RequestKind, forwarded: boolean, responseTtl: number | null): boolean {
  return kind === 'v2_token' && forwarded && responseTtl !== null && responseTtl <= 1;
}
