// commands/: the default command — capture (or --read a file), print requests live, then the summary.

import { selectSocketOwnerFinder } from '../attribute/select-finder.js';
import { fetchInstanceId } from '../aws/instance-identity.js';
import { parseDuration } from '../config/duration.js';
import { ExitCode, UsageError, type ExitCodeValue } from '../errors.js';
import { collectHostFacts, localAddresses } from '../pipeline/host-facts.js';
import { runLiveSession, runOfflineSession } from '../pipeline/session.js';
import type { SummaryEvent } from '../sinks/sink.js';
import { openOutput, parseFormat } from './output.js';
import { assertCanCapture } from './privileges.js';
import { stopOnSignals } from './signals.js';

export interface SniffFlags {
  duration?: string;
  interface: string;
  format: string;
  output?: string;
  read?: string;
  attribution: string;
  attributionTimeout: string;
  identity: boolean;
}

export const SNIFF_HELP = `
Examples:
  imds-sniff --duration 10m                 capture for 10 minutes, then print the summary
  imds-sniff --format json --output ev.jsonl one JSON object per line to a file
  imds-sniff --read capture.pcap            analyse a tcpdump capture (no attribution)

Exit codes: 0 no IMDSv1 seen, 1 internal error, 2 bad usage, 3 IMDSv1 seen, 4 cannot capture.`;

const ATTRIBUTION = ['auto', 'tracefs', 'procfs', 'none'] as const;
type AttributionChoice = (typeof ATTRIBUTION)[number];

function parseAttribution(value: string): AttributionChoice {
  if ((ATTRIBUTION as readonly string[]).includes(value)) return value as AttributionChoice;
  throw new UsageError(`--attribution: "${value}" is not one of ${ATTRIBUTION.join(', ')}`);
}

/** Exit code for a finished capture: 3 when the workload used IMDSv1. */
export function exitCodeFor(summary: SummaryEvent): ExitCodeValue {
  return summary.verdict.safe_to_require_imdsv2 ? ExitCode.OK : ExitCode.IMDSV1_SEEN;
}

export async function runSniff(flags: SniffFlags): Promise<ExitCodeValue> {
  const format = parseFormat(flags.format);
  const attribution = parseAttribution(flags.attribution);
  const durationMs = flags.duration === undefined ? null : parseDuration(flags.duration, '--duration');
  const attributionTimeoutMs = parseDuration(flags.attributionTimeout, '--attribution-timeout');
  if (flags.read !== undefined) {
    if (flags.duration !== undefined) throw new UsageError('--read and --duration do not go together');
    const sink = openOutput(format, flags.output);
    try {
      return exitCodeFor(await runOfflineSession({ path: flags.read, sinks: [sink], hostFacts: collectHostFacts }));
    } finally {
      await sink.close();
    }
  }
  assertCanCapture();
  const selected =
    attribution === 'none'
      ? { finder: null, method: 'none', reason: 'disabled with --attribution none' }
      : await selectSocketOwnerFinder({ preferred: attribution });
  const signals = stopOnSignals();
  const sink = openOutput(format, flags.output);
  try {
    const summary = await runLiveSession({
      interfaceName: flags.interface,
      durationMs,
      finder: selected.finder,
      attributionNote: selected.reason,
      attributionTimeoutMs,
      localAddresses: localAddresses(),
      stop: signals.stop,
      sinks: [sink],
      afterOpen: () => {
        // With --output the terminal would otherwise stay silent: say that capture runs.
        if (flags.output !== undefined) process.stderr.write(`imds-sniff: capturing on ${flags.interface}, writing ${format} to ${flags.output}\n`);
        return flags.identity ? fetchInstanceId(1000) : Promise.resolve(null);
      },
      hostFacts: collectHostFacts,
    });
    return exitCodeFor(summary);
  } finally {
    signals.dispose();
    await selected.finder?.close();
    await sink.close();
  }
}
