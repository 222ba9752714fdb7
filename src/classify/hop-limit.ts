// classify/: detects token answers that could not reach a client behind a forwarding hop (containers).

import type { Connection } from '../tcp/connection-table.js';

/**
 * True when the client sits behind at least one forwarding hop from where we
 * capture: its connection was seen under two client addresses (NAT, the Docker
 * bridge default), or its address is not one of this host's own.
 */
export function isForwardedClient(conn: Connection, localAddresses: ReadonlySet<string> | null): boolean {
  if (new Set(conn.views.map((v) => v.ip)).size > 1) return true;
  return localAddresses !== null && localAddresses.size > 0 && !localAddresses.has(conn.client.ip);
}

/**
 * The answer arrived here with a TTL / hop limit that the forwarding hop
 * decrements to zero, so the client never got it. This is the classic
 * "IMDSv2 fails in containers" case: HttpPutResponseHopLimit is 1.
 */
export function exceedsHopLimit(forwarded: boolean, responseTtl: number | null): boolean {
  return forwarded && responseTtl !== null && responseTtl <= 1;
}
