// pipeline/: runs one capture (live or from a file) end to end: source → Pipeline → sinks → summary.

import { Pipeline, type PipelineOptions } from './pipeline.js';
import { Aggregator } from '../summary/aggregator.js';
import { isoTime } from './events.js';
import { type ImdsRequestEvent } from '../contract/imds-request-event.js';
import type { Sink } from '../contract/sink.js';
import type { HostFacts, OutputEvent, SummaryEvent } from '../contract/output-events.js';
import { LiveCapture } from '../capture/live.js';
import { openCaptureFile } from '../capture/pcap-file.js';
import { LinkType } from '../decode/link.js';
import { captureLosses, fileProblems } from './evidence.js';
import { bpfFilterFor, liveBpfFilterFor } from '../capture/bpf-filter.js';
import { IMDS_ENDPOINTS } from '../capture/endpoints.js';
import type { SocketOwnerFinder } from '../attribute/types.js';
import type { OwnProgram } from '../attribute/own-program.js';
import type { Endpoint } from '../capture/endpoints.js';
import { ownNetns } from './host-facts.js';

import { VERSION } from '../version.js';

/** Bounds that keep memory flat whatever the traffic (README "Limits"). */
export const CAPTURE_LIMITS = {
  idleTimeoutMs: 30_000,
  maxConnections: 4096,
  maxBufferedBytesPerDirection: 64 * 1024,
  maxBufferedBytesTotal: 16 * 1024 * 1024,
  maxWaitingRequestsPerConnection: 64,
  /**
   * Immediate mode (prompt delivery) makes libpcap use a TPACKET_V2 ring of
   * fixed slots of about the snap length: 65535-byte slots leave an 8 MiB ring
   * ~127 packets, which a burst of 25 curls overflows (measured: 26 kernel
   * drops). An HTTP head to IMDS fits in 4 KiB; longer segments (GSO on
   * veth/lo) keep their length and have the cut-off body bytes zero-filled.
   * 4 MiB of 4 KiB slots holds ~950 packets (a burst of 25 curls is ~150;
   * the benchmark's bursts drop none); the ring counts fully in RSS (measured:
   * 2 MiB → 51 MiB RSS, 8 → 63, 32 → 110; the agent's peak at 100 new
   * connections/s 99 MiB with 8 MiB, 91 with 4).
   */
  snapLengthBytes: 4096,
  kernelBufferBytes: 4 * 1024 * 1024,
} as const;

export interface SessionCommon {
  sinks: Sink[];
  endpoints?: readonly Endpoint[];
  /** Called with every request event, after the sinks (tests, demo). */
  onRequest?: (event: ImdsRequestEvent) => void;
}

export interface LiveSessionOptions extends SessionCommon {
  interfaceName: string;
  durationMs: number | null;
  finder: SocketOwnerFinder | null;
  attributionNote: string;
  attributionTimeoutMs: number;
  localAddresses: ReadonlySet<string>;
  /** Source ports of the agent's own IMDS calls (filled by `afterOpen`). */
  ownLocalPorts?: ReadonlySet<number>;
  /** The imds-sniff program (OwnProgram.current()): the control commands' calls from it are `own`. */
  ownProgram: OwnProgram | null;
  /** Resolves when capture should stop (signals); the duration also stops it. */
  stop: Promise<void>;
  /** Called once the capture is open and the start event written, before waiting (e.g. the agent's own identity call). */
  afterOpen?: () => Promise<string | null>;
  hostFacts: (instanceId: string | null) => Promise<HostFacts>;
}

function fanOut(sinks: Sink[], aggregator: Aggregator, onRequest?: (e: ImdsRequestEvent) => void) {
  return (event: OutputEvent): void => {
    if (event.event === 'imds_request') {
      aggregator.add(event);
      onRequest?.(event);
    }
    for (const sink of sinks) sink.write(event);
  };
}

function summaryOf(
  aggregator: Aggregator,
  pipeline: Pipeline,
  extra: Pick<SummaryEvent, 'host' | 'interface' | 'file' | 'started' | 'duration_s' | 'attribution_method' | 'attribution_trace'>,
  kernelDrops: number,
  fileProblem: string | null = null,
): SummaryEvent {
  const verdict = aggregator.verdict();
  const notEvidence = fileProblem ?? captureLosses(pipeline.stats, kernelDrops);
  return {
    event: 'summary',
    time: new Date().toISOString(),
    ...extra,
    ...(extra.attribution_method === 'none' ? {} : { attribution_counts: { ...pipeline.stats.attributed } }),
    ...(pipeline.stats.lookupErrors > 0 ? { attribution_errors: { count: pipeline.stats.lookupErrors, first: pipeline.stats.firstLookupError ?? '' } } : {}),
    requests: pipeline.stats.requests - aggregator.ownRequests,
    own_requests: aggregator.ownRequests,
    processes: aggregator.processes(),
    // A capture that cannot stand as evidence never says "safe"; IMDSv1 it did see still counts.
    verdict:
      notEvidence !== null && verdict.safe_to_require_imdsv2
        ? { ...verdict, safe_to_require_imdsv2: false, message: `cannot tell whether IMDSv2 can be required: ${notEvidence}` }
        : verdict,
    capture: {
      frames: pipeline.stats.frames,
      connections: pipeline.stats.connections,
      mid_stream_connections: pipeline.stats.midStream,
      kernel_drops: kernelDrops,
      dropped: { ...pipeline.stats.dropped },
      not_evidence: notEvidence,
    },
  };
}

function pipelineOptions(
  linkType: number,
  endpoints: readonly Endpoint[],
  rest: Pick<PipelineOptions, 'finder' | 'attributionTimeoutMs' | 'localAddresses' | 'ownNetns' | 'ownLocalPorts' | 'ownProgram' | 'onEvent'>,
): PipelineOptions {
  return { linkType, endpoints, ownPid: process.pid, ...CAPTURE_LIMITS, ...rest };
}

/** Captures until `durationMs` or `stop`; returns the summary (already written to the sinks). */
export async function runLiveSession(options: LiveSessionOptions): Promise<SummaryEvent> {
  const endpoints = options.endpoints ?? IMDS_ENDPOINTS;
  const filter = liveBpfFilterFor(endpoints);
  const aggregator = new Aggregator(ownNetns());
  const emit = fanOut(options.sinks, aggregator, options.onRequest);
  let pipeline: Pipeline | null = null;
  let capturing = true;
  const capture = LiveCapture.open(
    {
      interfaceName: options.interfaceName,
      filter,
      bufferSizeBytes: CAPTURE_LIMITS.kernelBufferBytes,
      snapLengthBytes: CAPTURE_LIMITS.snapLengthBytes,
    },
    // pcap's close takes effect at the next packet: frames after the stop are not this run's.
    (frame) => capturing && pipeline?.handleFrame(frame.bytes, frame.timestampUs),
  );
  pipeline = new Pipeline(
    pipelineOptions(capture.linkType, endpoints, {
      finder: options.finder,
      attributionTimeoutMs: options.attributionTimeoutMs,
      localAddresses: options.localAddresses,
      ownNetns: ownNetns(),
      ownLocalPorts: options.ownLocalPorts,
      ownProgram: options.ownProgram,
      onEvent: emit,
    }),
  );
  const started = Date.now();
  emit({
    event: 'start',
    time: isoTime(started * 1000),
    version: VERSION,
    mode: 'live',
    interface: options.interfaceName,
    file: null,
    filter,
    attribution_method: options.finder?.method ?? 'none',
    attribution_note: options.attributionNote,
    duration_s: options.durationMs === null ? null : options.durationMs / 1000,
  });
  const active = pipeline;
  let warnedFailure = false;
  const ticker = setInterval(() => {
    active.tick(Date.now() * 1000);
    const failure = options.finder?.failure ?? null;
    if (failure !== null && !warnedFailure) {
      warnedFailure = true;
      emit({
        event: 'warning',
        time: new Date().toISOString(),
        code: 'ATTRIBUTION_DEGRADED',
        message: `tracefs attribution stopped (${failure}); using /proc from now on: short-lived processes will be missed`,
      });
    }
  }, 1000);
  let timer: NodeJS.Timeout | undefined;
  try {
    const instanceId = options.afterOpen ? options.afterOpen() : Promise.resolve(null);
    const durationDone = new Promise<void>((resolve) => {
      if (options.durationMs !== null) timer = setTimeout(resolve, options.durationMs);
    });
    await Promise.race([durationDone, options.stop]);
    // Let answers already on the wire arrive before closing (bounded, not a guess at timing).
    await new Promise((resolve) => setTimeout(resolve, 50));
    const stats = capture.stats();
    capturing = false;
    capture.close();
    await active.flush(Date.now() * 1000);
    const host = await options.hostFacts(await instanceId);
    const trace = options.finder?.counters?.();
    const summary = summaryOf(
      aggregator,
      active,
      {
        host,
        interface: options.interfaceName,
        file: null,
        started: new Date(started).toISOString(),
        duration_s: Math.round((Date.now() - started) / 100) / 10,
        attribution_method: options.finder?.method ?? 'none',
        ...(trace ? { attribution_trace: trace } : {}),
      },
      stats.droppedByKernel,
    );
    emit(summary);
    return summary;
  } finally {
    clearInterval(ticker);
    if (timer) clearTimeout(timer);
    capture.close();
  }
}

export interface OfflineSessionOptions extends SessionCommon {
  path: string;
  hostFacts: (instanceId: string | null) => Promise<HostFacts>;
}

/** Analyses a capture file (no attribution); returns the summary. */
export async function runOfflineSession(options: OfflineSessionOptions): Promise<SummaryEvent> {
  const endpoints = options.endpoints ?? IMDS_ENDPOINTS;
  const filter = bpfFilterFor(endpoints);
  const aggregator = new Aggregator();
  const emit = fanOut(options.sinks, aggregator, options.onRequest);
  const file = await openCaptureFile(options.path); // throws before any line is written
  emit({
    event: 'start',
    time: new Date().toISOString(),
    version: VERSION,
    mode: 'offline',
    interface: null,
    file: options.path,
    filter,
    attribution_method: 'none',
    attribution_note: 'offline analysis: processes cannot be attributed from a capture file',
    duration_s: null,
  });
  const linkTypes = new Set<number>();
  let firstLinkType: number | null = null;
  const pipeline = new Pipeline(
    pipelineOptions(LinkType.LINUX_SLL2, endpoints, { finder: null, attributionTimeoutMs: 0, localAddresses: null, ownNetns: null, ownProgram: null, onEvent: emit }),
  );
  let firstUs: number | null = null;
  let lastUs = 0;
  const result = await file.read((frame, linkType) => {
    firstLinkType ??= linkType;
    linkTypes.add(linkType);
    firstUs ??= frame.timestampUs;
    lastUs = Math.max(lastUs, frame.timestampUs);
    pipeline.handleFrame(frame.bytes, frame.timestampUs, linkType);
  });
  await pipeline.flush(lastUs);
  const problems = fileProblems(options.path, result, pipeline.stats, [...linkTypes]);
  for (const warning of problems.warnings) emit({ event: 'warning', time: new Date().toISOString(), ...warning });
  const summary = summaryOf(
    aggregator,
    pipeline,
    {
      host: await options.hostFacts(null),
      interface: null,
      file: options.path,
      started: firstUs === null ? new Date(0).toISOString() : isoTime(firstUs),
      duration_s: firstUs === null ? 0 : Math.round((lastUs - firstUs) / 100_000) / 10,
      attribution_method: 'none',
    },
    0,
    problems.notEvidence,
  );
  emit(summary);
  return summary;
}
