// What an agent's summary says about its own attribution: printed beside a failed burst's misses.

import type { SummaryEvent } from '../../src/contract/output-events.js';

export function agentHealth(s: SummaryEvent | null | undefined): string {
  return JSON.stringify({ counts: s?.attribution_counts, trace: s?.attribution_trace, errors: s?.attribution_errors, mid_stream: s?.capture.mid_stream_connections, kernel_drops: s?.capture.kernel_drops });
}
