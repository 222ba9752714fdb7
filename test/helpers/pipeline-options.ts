// Test helper: the options of an offline Pipeline (no attribution) with the agent's own limits, for unit and fuzz tests.

import { IMDS_ENDPOINTS } from '../../src/capture/endpoints.js';
import { LinkType } from '../../src/decode/link.js';
import type { ImdsRequestEvent } from '../../src/contract/imds-request-event.js';
import type { PipelineOptions } from '../../src/pipeline/pipeline.js';
import { CAPTURE_LIMITS } from '../../src/pipeline/session.js';

/** Linux cooked frames to the IMDS endpoints, the capture limits of a real run; `over` changes what a test needs. */
export function testPipelineOptions(onEvent: (event: ImdsRequestEvent) => void, over: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    linkType: LinkType.LINUX_SLL,
    endpoints: IMDS_ENDPOINTS,
    finder: null,
    attributionTimeoutMs: 0,
    localAddresses: null,
    ownNetns: null,
    ownPid: process.pid,
    ownProgram: null,
    idleTimeoutMs: CAPTURE_LIMITS.idleTimeoutMs,
    maxConnections: CAPTURE_LIMITS.maxConnections,
    maxBufferedBytesPerDirection: CAPTURE_LIMITS.maxBufferedBytesPerDirection,
    maxBufferedBytesTotal: CAPTURE_LIMITS.maxBufferedBytesTotal,
    maxWaitingRequestsPerConnection: CAPTURE_LIMITS.maxWaitingRequestsPerConnection,
    onEvent,
    ...over,
  };
}
