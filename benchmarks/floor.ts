// The fixed costs under the agent, without its work: what a capture or a trace reader alone costs
// in this runtime, so the agent's own figures can be read against a floor.
// Usage (root, in the namespace to measure; load.js --floors runs it): node dist/benchmarks/floor.js pcap|trace
//   pcap       the pcap module on the agent's interface and filter, immediate delivery, a no-op per packet
//   trace      the agent's tracefs instance (same events, same kernel filter) and its per-CPU readers, a no-op per page
// Prints "floor: listening on …" to stderr once open; stops on SIGINT or SIGTERM.

import { loadPcap } from '../src/capture/pcap-module.js';
import { liveBpfFilterFor } from '../src/capture/bpf-filter.js';
import { IMDS_ENDPOINTS } from '../src/capture/endpoints.js';
import { CAPTURE_LIMITS } from '../src/pipeline/session.js';
import { TracefsInstance } from '../src/attribute/tracefs/instance.js';

const FLOOR_PARTS = ['pcap', 'trace'] as const;
type Part = (typeof FLOOR_PARTS)[number];

async function open(part: Part): Promise<() => Promise<void>> {
  if (part === 'trace') {
    const instance = await TracefsInstance.create();
    instance.stream(() => {});
    return () => instance.close();
  }
  const session = loadPcap().createSession('any', {
    filter: liveBpfFilterFor(IMDS_ENDPOINTS),
    buffer_timeout: 0,
    buffer_size: CAPTURE_LIMITS.kernelBufferBytes,
    snap_length: CAPTURE_LIMITS.snapLengthBytes,
  });
  let packets = 0;
  session.on('packet', () => void packets++);
  return async () => {
    session.close();
    process.stderr.write(`floor: ${packets} packets\n`);
  };
}

async function main(): Promise<void> {
  const part = process.argv[2] as Part;
  if (!FLOOR_PARTS.includes(part)) throw new Error(`usage: floor.js ${FLOOR_PARTS.join('|')}`);
  const close = await open(part);
  process.stderr.write(`floor: listening on ${part}\n`);
  const keepAlive = setInterval(() => {}, 1 << 30);
  const stop = (): void => {
    clearInterval(keepAlive);
    void close().finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  process.stderr.write(`floor failed: ${(error as Error).message}\n`);
  process.exit(1);
});
