// commands/: the default command — capture (or --read a file), print requests live, then the summary; its flags and help.

import { Option, type Command } from 'commander';
import { OwnProgram } from '../attribute/own-program.js';
import { selectSocketOwnerFinder } from '../attribute/select-finder.js';
import { fetchInstanceId } from '../aws/instance-identity.js';
import { parseDuration } from '../config/duration.js';
import { ExitCode, UsageError, type ExitCodeValue } from '../errors.js';
import { collectHostFacts, localAddresses } from '../pipeline/host-facts.js';
import { runLiveSession, runOfflineSession } from '../pipeline/session.js';
import type { SummaryEvent } from '../contract/output-events.js';
import { openOutput, type OutputFormat } from './output.js';
import type { SocketOwnerFinder } from '../attribute/types.js';
import { assertCanCapture } from './privileges.js';
import type { Register } from './register.js';
import { stopOnSignals } from './signals.js';
import { terminalSafe } from '../text/terminal-safe.js';

export interface SniffFlags {
  duration?: string;
  interface: string;
  format: OutputFormat;
  output?: string;
  read?: string;
  attribution: 'auto' | 'tracefs' | 'procfs' | 'none';
  attributionTimeout: string;
  identity: boolean;
  /** Live-capture flags given on the command line (camelCase names): refused with --read. */
  liveFlagsGiven?: string[];
}

const FLAG_NAMES: Record<string, string> = {
  duration: '--duration',
  interface: '--interface',
  attribution: '--attribution',
  attributionTimeout: '--attribution-timeout',
  identity: '--no-identity',
};

const SNIFF_HELP = `
Examples:
  imds-sniff --duration 10m                 capture for 10 minutes, then print the summary
  imds-sniff --format json --output ev.jsonl one JSON object per line to a file
  imds-sniff --read capture.pcap            analyse a tcpdump capture (no attribution)

Exit codes: 0 safe to require IMDSv2 (no IMDSv1 seen), 1 internal error, 2 bad usage,
3 not safe (IMDSv1 seen, or token answers lost at the hop limit), 4 cannot capture.`;

/**
 * Exit code for a finished capture: 3 when it is not safe to require IMDSv2 (IMDSv1 seen,
 * or token answers lost at the hop); else 4 when the capture cannot stand as evidence.
 */
export function exitCodeFor(summary: SummaryEvent): ExitCodeValue {
  const { verdict } = summary;
  if (verdict.v1_processes.length > 0 || verdict.hop_limit_processes.length > 0) return ExitCode.IMDSV1_SEEN;
  if (summary.capture.not_evidence !== null) return ExitCode.CANNOT_CAPTURE;
  return verdict.safe_to_require_imdsv2 ? ExitCode.OK : ExitCode.IMDSV1_SEEN;
}

/** The exit code; a capture that cannot stand as evidence says why on stderr too, for whoever scripts the run. */
function finish(summary: SummaryEvent): ExitCodeValue {
  if (summary.capture.not_evidence !== null) {
    process.stderr.write(`imds-sniff: ${terminalSafe(summary.capture.not_evidence)}\n  hint: this capture is no evidence that IMDSv2 can be required\n`);
  }
  return exitCodeFor(summary);
}

export async function runSniff(flags: SniffFlags): Promise<ExitCodeValue> {
  const { format, attribution } = flags; // commander checked both against their choices
  const durationMs = flags.duration === undefined ? null : parseDuration(flags.duration, '--duration');
  const attributionTimeoutMs = parseDuration(flags.attributionTimeout, '--attribution-timeout');
  if (flags.read !== undefined) {
    const live = (flags.liveFlagsGiven ?? (flags.duration !== undefined ? ['duration'] : []))[0];
    if (live !== undefined) throw new UsageError(`--read and ${FLAG_NAMES[live] ?? live} do not go together (a file is analysed, not captured)`);
    const sink = openOutput(format, flags.output, { notTheSameAs: flags.read });
    if (flags.output !== undefined) process.stderr.write(`imds-sniff: reading ${terminalSafe(flags.read)}, writing ${format} to ${terminalSafe(flags.output)}\n`);
    try {
      const summary = await runOfflineSession({ path: flags.read, sinks: [sink], hostFacts: collectHostFacts });
      sink.check();
      return finish(summary);
    } finally {
      await sink.close();
    }
  }
  assertCanCapture();
  const sink = openOutput(format, flags.output);
  let selected: { finder: SocketOwnerFinder | null; reason: string } = { finder: null, reason: 'disabled with --attribution none' };
  const signals = stopOnSignals();
  const ownPorts = new Set<number>();
  try {
    if (attribution !== 'none') selected = await selectSocketOwnerFinder({ preferred: attribution });
    const summary = await runLiveSession({
      interfaceName: flags.interface,
      durationMs,
      finder: selected.finder,
      attributionNote: selected.reason,
      attributionTimeoutMs,
      localAddresses: localAddresses(),
      ownLocalPorts: ownPorts,
      ownProgram: OwnProgram.current(),
      // A full disk or a closed pipe ends the capture: nobody would read what follows.
      stop: Promise.race([signals.stop, sink.failed]),
      sinks: [sink],
      afterOpen: () => {
        // With --output the terminal would otherwise stay silent: say that capture runs.
        if (flags.output !== undefined) process.stderr.write(`imds-sniff: capturing on ${terminalSafe(flags.interface)}, writing ${format} to ${terminalSafe(flags.output)}\n`);
        return flags.identity ? fetchInstanceId(1000, ownPorts) : Promise.resolve(null);
      },
      hostFacts: collectHostFacts,
    });
    sink.check();
    return finish(summary);
  } finally {
    signals.dispose();
    await selected.finder?.close();
    await sink.close();
  }
}

export const sniff: Register = (program, setResult) => {
  program
    .option('-d, --duration <time>', 'capture for this long (90s, 10m, 1h); default: until Ctrl-C / SIGTERM')
    .option('-i, --interface <name>', 'interface to capture on', 'any')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('-o, --output <file>', 'write the output to FILE (appended, mode 0640) instead of stdout')
    .option('-r, --read <file>', 'analyse a tcpdump capture file instead of capturing (no attribution)')
    .addOption(
      new Option('--attribution <method>', 'how requests are tied to processes').choices(['auto', 'tracefs', 'procfs', 'none']).default('auto'),
    )
    .option('--attribution-timeout <time>', 'how long to wait for a connection owner', '500ms')
    .option('--no-identity', 'do not ask IMDS (IMDSv2) for this instance id')
    .addHelpText('after', SNIFF_HELP)
    .action((flags: SniffFlags, command: Command) => {
      // Flags of live capture that a `--read` run would otherwise accept and ignore.
      const given = ['duration', 'interface', 'attribution', 'attributionTimeout', 'identity'].filter((name) => command.getOptionValueSource(name) === 'cli');
      setResult(runSniff({ ...flags, liveFlagsGiven: given }));
    });
};
