// Hot path: segments → per-connection streams (connection table + reassembler), whole conversations.
import { bench, describe } from 'vitest';
import { ConnectionTable } from '../src/tcp/connection-table.js';
import { decodePacket } from '../src/decode/packet.js';
import type { Segment } from '../src/decode/segment.js';
import { conversation, SLL } from '../test/helpers/packet-builder.js';

const V2 = `GET /latest/meta-data/instance-id HTTP/1.1\r\nX-aws-ec2-metadata-token: ${'T'.repeat(56)}\r\n\r\n`;
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\ni-0123456789abcdef0';
const segments: Segment[] = [];
for (let c = 0; c < 100; c++) {
  for (const f of conversation({ client: '10.0.0.2', cport: 30000 + c, isn: c * 1000, exchanges: [{ request: V2, response: OK }, { request: V2, response: OK }] })) {
    const d = decodePacket(SLL, f.frame, f.timestampUs);
    if ('segment' in d) segments.push(d.segment);
  }
}
const shuffled = [...segments].reverse();

function table(): ConnectionTable {
  return new ConnectionTable({ isServer: (ip, port) => ip === '169.254.169.254' && port === 80, idleTimeoutMs: 30_000, maxConnections: 4096, maxBufferedBytesPerDirection: 65536, maxBufferedBytesTotal: 1 << 24, onDrop: () => {} });
}

describe(`reassembly (${segments.length} segments, 100 connections)`, () => {
  bench('in order', () => {
    const t = table();
    for (const s of segments) t.push(s);
  });
  bench('reverse order', () => {
    const t = table();
    for (const s of shuffled) t.push(s);
  });
});
