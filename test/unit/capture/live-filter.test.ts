import { readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bpfFilterFor, liveBpfFilterFor } from '../../../src/capture/bpf-filter.js';
import { IMDS_ENDPOINTS } from '../../../src/capture/endpoints.js';
import { frameFromPcapPacket } from '../../../src/capture/frame.js';
import { loadPcap } from '../../../src/capture/pcap-module.js';
import { linkTypeFromPcapName } from '../../../src/decode/link.js';
import type { ImdsRequestEvent } from '../../../src/contract/imds-request-event.js';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import { testPipelineOptions } from '../../helpers/pipeline-options.js';

const PCAPS = fileURLToPath(new URL('../../../fixtures/pcap/', import.meta.url));

/** The recorded capture through libpcap with `filter` (compiled and run by libpcap, as live), then through the pipeline. */
async function through(file: string, filter: string): Promise<{ frames: number; events: ImdsRequestEvent[] }> {
  const pcap = loadPcap();
  const session = pcap.createOfflineSession(path.join(PCAPS, file), { filter });
  const linkType = linkTypeFromPcapName(session.link_type);
  if (linkType === null) throw new Error(`${file}: link type ${session.link_type}`);
  const events: ImdsRequestEvent[] = [];
  const pipeline = new Pipeline(testPipelineOptions((e) => events.push(e), { linkType }));
  let frames = 0;
  let lastUs = 0;
  await new Promise<void>((resolve) => {
    session.on('packet', (packet) => {
      const frame = frameFromPcapPacket(packet.buf, packet.header);
      frames += 1;
      lastUs = frame.timestampUs;
      pipeline.handleFrame(frame.bytes, frame.timestampUs);
    });
    session.on('complete', () => resolve());
  });
  session.close();
  await pipeline.flush(lastUs + 1);
  return { frames, events };
}

describe('the live capture filter (pure ACKs stay in the kernel)', () => {
  const files = readdirSync(PCAPS).filter((f) => f.endsWith('.pcap'));

  it.each(files)('%s: the same requests, answers and connections from fewer frames', async (file) => {
    const all = await through(file, bpfFilterFor(IMDS_ENDPOINTS));
    const live = await through(file, liveBpfFilterFor(IMDS_ENDPOINTS));
    expect(all.events.length).toBeGreaterThan(0);
    expect(live.events).toEqual(all.events);
    expect(live.frames).toBeLessThan(all.frames);
  });

  it('drops about 40 % of the frames of a plain curl session (IPv4 and IPv6)', async () => {
    for (const file of ['curl.pcap', 'ipv6.pcap']) {
      const all = await through(file, bpfFilterFor(IMDS_ENDPOINTS));
      const live = await through(file, liveBpfFilterFor(IMDS_ENDPOINTS));
      expect(live.frames / all.frames).toBeCloseTo(18 / 30, 2);
    }
  });
});
