// The capture path hands every frame over in one reused Buffer (libpcap): a request whose head spans
// segments must survive the next packet overwriting that buffer.

import { describe, expect, it } from 'vitest';
import { frameFromPcapPacket } from '../../../src/capture/frame.js';
import { TcpFlag } from '../../../src/decode/segment.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { sllFrame } from '../../helpers/packet-builder.js';
import { testPipelineOptions } from '../../helpers/pipeline-options.js';

const CLIENT = '10.0.0.2';
const SERVER = '169.254.169.254';

/** Frames of one connection whose request is written in `pieces`, each its own segment. */
function splitConversation(pieces: string[], response: string): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let cseq = 1000;
  let sseq = 5000;
  const c = (flags: number, payload = ''): void => {
    frames.push(sllFrame({ src: CLIENT, dst: SERVER, sport: 40000, dport: 80, seq: cseq, ack: sseq, flags, payload }));
    cseq += payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
  };
  const s = (flags: number, payload = ''): void => {
    frames.push(sllFrame({ src: SERVER, dst: CLIENT, sport: 80, dport: 40000, seq: sseq, ack: cseq, flags, payload }));
    sseq += payload.length + (flags & (TcpFlag.SYN | TcpFlag.FIN) ? 1 : 0);
  };
  c(TcpFlag.SYN);
  s(TcpFlag.SYN | TcpFlag.ACK);
  c(TcpFlag.ACK);
  for (const piece of pieces) {
    c(TcpFlag.ACK | TcpFlag.PSH, piece);
    s(TcpFlag.ACK); // the server's ACK is the next packet: it lands in the same capture buffer
  }
  s(TcpFlag.ACK | TcpFlag.PSH, response);
  c(TcpFlag.FIN | TcpFlag.ACK);
  s(TcpFlag.FIN | TcpFlag.ACK);
  return frames;
}

/** Feeds frames the way pcap does: copied one after the other into the same Buffer. */
async function throughReusedBuffer(frames: Uint8Array[]): Promise<ImdsRequestEvent[] & { dropped?: Record<string, number> }> {
  const events: ImdsRequestEvent[] = [];
  const pipeline = new Pipeline(testPipelineOptions((e) => events.push(e)));
  const buf = Buffer.alloc(4096);
  const header = Buffer.alloc(16);
  let t = 1_700_000_000;
  for (const frame of frames) {
    buf.fill(0xee); // what the next packet leaves behind
    buf.set(frame);
    header.writeUInt32LE(t++, 0);
    header.writeUInt32LE(0, 4);
    header.writeUInt32LE(frame.length, 8);
    header.writeUInt32LE(frame.length, 12);
    const { bytes, timestampUs } = frameFromPcapPacket(buf, header);
    pipeline.handleFrame(bytes, timestampUs);
  }
  await pipeline.flush(t * 1_000_000);
  return Object.assign(events, { dropped: pipeline.stats.dropped });
}

const REQUEST = 'GET /latest/meta-data/instance-id HTTP/1.1\r\nHost: 169.254.169.254\r\nUser-Agent: split/1\r\n\r\n';
const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 19\r\n\r\ni-0123456789abcdef0';

describe('requests split across segments, through one reused capture buffer', () => {
  const cuts = [1, 4, 20, REQUEST.indexOf('Host: 169.') + 'Host: 169.'.length, REQUEST.length - 3, REQUEST.length - 1];
  it.each(cuts)('a head cut at byte %i is reported once, whole', async (cut) => {
    const events = await throughReusedBuffer(splitConversation([REQUEST.slice(0, cut), REQUEST.slice(cut)], OK));
    expect(events.map((e) => [e.kind, e.method, e.path, e.status, e.user_agent])).toEqual([['v1', 'GET', '/latest/meta-data/instance-id', 200, 'split/1']]);
  });

  it('a head written one byte per segment is reported once, whole', async () => {
    const events = await throughReusedBuffer(splitConversation([...REQUEST], OK));
    expect(events.map((e) => [e.kind, e.path, e.status, e.user_agent])).toEqual([['v1', '/latest/meta-data/instance-id', 200, 'split/1']]);
  });
});

describe('a request head the connection closes on', () => {
  it('is counted as lost (http_request_incomplete_head), not silently forgotten', async () => {
    const events = await throughReusedBuffer(splitConversation(['GET /latest/meta-data/ HTTP/1.1\r\nHost: 169.'], ''));
    expect(events.length).toBe(0);
    expect(events.dropped).toEqual({ http_request_incomplete_head: 1 });
  });
});
