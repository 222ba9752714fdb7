// Hot path: one captured frame → Segment.
import { bench, describe } from 'vitest';
import { decodePacket } from '../src/decode/packet.js';
import { sllFrame, SLL } from '../test/helpers/packet-builder.js';

const request = sllFrame({ src: '10.0.0.2', dst: '169.254.169.254', sport: 40000, dport: 80, seq: 1, payload: 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: curl/7.88.1\r\n\r\n' });
const v6 = sllFrame({ src: 'fd00:7::2', dst: 'fd00:ec2::254', sport: 40000, dport: 80, seq: 1, payload: 'x'.repeat(200) });

describe('decode', () => {
  bench('IPv4 request frame', () => {
    decodePacket(SLL, request, 1);
  });
  bench('IPv6 frame', () => {
    decodePacket(SLL, v6, 1);
  });
});
