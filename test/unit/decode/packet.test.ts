import { describe, expect, it } from 'vitest';
import { decodePacket } from '../../../src/decode/packet.js';
import { LinkType, linkTypeFromPcapName } from '../../../src/decode/link.js';
import { normalizeIp } from '../../../src/decode/ip-address.js';
import { TcpFlag } from '../../../src/decode/segment.js';
import { ethernetFrame, ipPacket, sllFrame } from '../../helpers/packet-builder.js';

const spec = { src: '10.0.0.2', dst: '169.254.169.254', sport: 40000, dport: 80, seq: 7, ack: 9, payload: 'GET / HTTP/1.1\r\n\r\n', ttl: 63 };

describe('decodePacket', () => {
  it.each([
    ['Linux cooked', LinkType.LINUX_SLL, sllFrame(spec)],
    ['Ethernet', LinkType.ETHERNET, ethernetFrame(spec)],
    ['raw IP', LinkType.RAW, ipPacket(spec)],
  ])('decodes IPv4/TCP behind %s', (_name, linkType, frame) => {
    const result = decodePacket(linkType, frame, 42);
    expect('segment' in result).toBe(true);
    if (!('segment' in result)) return;
    expect(result.segment).toMatchObject({ family: 4, srcIp: '10.0.0.2', dstIp: '169.254.169.254', srcPort: 40000, dstPort: 80, seq: 7, ack: 9, ttl: 63, timestampUs: 42 });
    expect(Buffer.from(result.segment.payload).toString()).toBe(spec.payload);
  });

  it('decodes IPv6 and compresses the addresses', () => {
    const frame = sllFrame({ ...spec, src: 'fd01:7:0:0:0:0:0:2', dst: 'fd00:ec2:0:0:0:0:0:254', ttl: 1 });
    const result = decodePacket(LinkType.LINUX_SLL, frame, 1);
    expect(result).toMatchObject({ segment: { family: 6, srcIp: 'fd01:7::2', dstIp: 'fd00:ec2::254', ttl: 1 } });
  });

  it('copies the payload out of a reused buffer', () => {
    const frame = sllFrame(spec);
    const result = decodePacket(LinkType.LINUX_SLL, frame, 1);
    frame.fill(0);
    expect('segment' in result && Buffer.from(result.segment.payload).toString()).toBe(spec.payload);
  });

  it('reads the SYN flag', () => {
    const result = decodePacket(LinkType.LINUX_SLL, sllFrame({ ...spec, payload: '', flags: TcpFlag.SYN }), 1);
    expect('segment' in result && result.segment.flags).toBe(TcpFlag.SYN);
  });

  it('never throws on any truncation of a valid frame', () => {
    const frame = sllFrame(spec);
    for (let n = 0; n < frame.length; n++) {
      const result = decodePacket(LinkType.LINUX_SLL, frame.subarray(0, n), 1);
      // A cut inside the payload still decodes (the capture length rules); a cut in a header is a drop.
      if (n < 16 + 20 + 20) expect(result).toHaveProperty('drop');
    }
  });

  it('keeps the wire length of a payload cut by the snap length, zero-filled', () => {
    const frame = sllFrame(spec);
    const result = decodePacket(LinkType.LINUX_SLL, frame.subarray(0, frame.length - 5), 1);
    expect('segment' in result && result.segment.truncated).toBe(true);
    if (!('segment' in result)) return;
    expect(result.segment.payload.length).toBe(spec.payload.length);
    expect(Buffer.from(result.segment.payload.subarray(0, spec.payload.length - 5)).toString()).toBe(spec.payload.slice(0, -5));
    expect([...result.segment.payload.subarray(spec.payload.length - 5)]).toEqual([0, 0, 0, 0, 0]);
  });

  it.each([
    ['not IP', (() => { const f = sllFrame(spec); f[14] = 0x08; f[15] = 0x06; return f; })(), 'not_ip', false],
    ['not TCP', (() => { const f = sllFrame(spec); f[16 + 9] = 17; return f; })(), 'not_tcp', true],
    ['bad IHL', (() => { const f = sllFrame(spec); f[16] = 0x41; return f; })(), 'bad_ip_header', false],
    ['bad TCP offset', (() => { const f = sllFrame(spec); f[16 + 20 + 12] = 0xf0; return f; })(), 'bad_tcp_header', true],
  ])('drops %s with a reason (and says whether it held an IP packet)', (_name, frame, reason, ip) => {
    expect(decodePacket(LinkType.LINUX_SLL, frame, 1)).toMatchObject({ drop: reason, ip });
  });

  it('names what the link layer carried, or the addresses, with a drop', () => {
    const arp = sllFrame(spec);
    arp[14] = 0x08;
    arp[15] = 0x06;
    expect(decodePacket(LinkType.LINUX_SLL, arp, 1)).toEqual({ drop: 'not_ip', ip: false, etherType: 0x0806 });
    const udp = sllFrame(spec);
    udp[16 + 9] = 17;
    expect(decodePacket(LinkType.LINUX_SLL, udp, 1)).toEqual({ drop: 'not_tcp', ip: true, addresses: [spec.src, spec.dst] });
  });

  it('drops unsupported link types', () => {
    expect(decodePacket(147, sllFrame(spec), 1)).toEqual({ drop: 'unsupported_link_type', ip: false });
  });

  it('keeps no view into the frame it was given (the capture reuses that buffer)', () => {
    const frame = sllFrame(spec);
    const result = decodePacket(LinkType.LINUX_SLL, frame, 1);
    if (!('segment' in result)) throw new Error('expected a segment');
    const before = Buffer.from(result.segment.payload).toString();
    frame.fill(0x41);
    expect(Buffer.from(result.segment.payload).toString()).toBe(before);
    expect(result.segment.payload.buffer).not.toBe(frame.buffer);
  });
});

describe('linkTypeFromPcapName', () => {
  it.each([
    ['LINKTYPE_LINUX_SLL', 113],
    ['LINKTYPE_ETHERNET', 1],
    ['Unknown linktype 276', 276],
    ['nonsense', null],
  ])('%s → %s', (name, expected) => expect(linkTypeFromPcapName(name)).toBe(expected));
});

describe('normalizeIp', () => {
  it.each([
    ['fd00:0ec2:0000:0000:0000:0000:0000:0254', 'fd00:ec2::254'],
    ['FD00:EC2::254', 'fd00:ec2::254'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:db8:0:1:0:0:0:1', '2001:db8:0:1::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['169.254.169.254', '169.254.169.254'],
    ['not:an:address', 'not:an:address'],
  ])('%s → %s', (input, expected) => expect(normalizeIp(input)).toBe(expected));
});
