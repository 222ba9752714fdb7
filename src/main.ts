#!/usr/bin/env node
// argv → command → exit code. The only place that catches for the user and calls process.exit.

import { Command, CommanderError } from 'commander';
import { ExitCode, ImdsSniffError, InternalError, OutputError, UsageError, type ExitCodeValue } from './errors.js';
import { versionText } from './version.js';
import { loadPcap } from './capture/pcap-module.js';
import { COMMANDS } from './commands/index.js';
import { secondSignal } from './commands/signals.js';
import { jsonTerminalSafe, terminalSafe } from './text/terminal-safe.js';

// On Node < 22 the AWS SDK prints a five-line warning at its first client: its releases after
// January 2027 will need Node 22. The versions this build pins run on Node 20, the operator can
// do nothing about it, and the daemon's stderr is its status log. (Set to "false" to see it.)
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

function buildProgram(setResult: (p: Promise<ExitCodeValue>) => void): Command {
  const program = new Command('imds-sniff')
    .description('Find which process on this instance still calls the EC2 metadata service with IMDSv1.')
    // main() answers -V before any command is built (the start-up a version check pays for); here for --help.
    .option('-V, --version', 'print the version, the commit, and the Node and libpcap versions')
    .option('--debug', 'print stack traces on errors')
    // Options of the default command and of subcommands share names (--format): keep them apart.
    .enablePositionalOptions()
    .exitOverride()
    // One error format for everything: `imds-sniff: <what>` then a hint, as main() prints its own.
    .configureOutput({ outputError: (text, write) => write(`imds-sniff: ${escapeLines(text.replace(/^error: /, '').replace(/\n/, ' [ERR_USAGE]\n'))}`) })
    .showHelpAfterError('  hint: run imds-sniff --help')
    .helpCommand('help [command]', 'show help for a command');
  for (const register of COMMANDS) register(program, setResult);
  // A bad flag of a subcommand points at that subcommand's help, where its flags are.
  const pointAtOwnHelp = (command: Command, path: string): void => {
    for (const sub of command.commands) {
      sub.showHelpAfterError(`  hint: run ${path} ${sub.name()} --help`);
      pointAtOwnHelp(sub, `${path} ${sub.name()}`);
    }
  };
  pointAtOwnHelp(program, 'imds-sniff');
  return program;
}

/** Commander's text, line by line: an argument echoed in it (an unknown option) may hold terminal controls. */
function escapeLines(text: string): string {
  return text.split('\n').map(terminalSafe).join('\n');
}

/** `--format json` / `-f json` / `--format=json`: the run's errors go to stdout as JSON too. */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some((arg, i) => arg === '--format=json' || arg === '-fjson' || ((arg === '--format' || arg === '-f') && argv[i + 1] === 'json'));
}

/**
 * The one-line error on stderr, `imds-sniff: <what> [ERR_…]`, then a hint; in
 * JSON mode also `{"event":"error","code",…}` on stdout, unless the command's
 * own JSON report already carries the code.
 */
function report(error: unknown, debug: boolean, json: boolean): ExitCodeValue {
  // The reader of the output went away (`| head`): say nothing, like any tool in a pipeline.
  if (error instanceof ImdsSniffError && error.code === 'ERR_OUTPUT_CLOSED') return error.exitCode;
  const known = error instanceof ImdsSniffError
    ? error
    : new InternalError(`internal error: ${error instanceof Error ? error.message : String(error)}`, { hint: debug ? undefined : 'run again with --debug and report the output', cause: error });
  // Messages name files, flags and config keys the user gave: one line, nothing the terminal acts on.
  process.stderr.write(`imds-sniff: ${terminalSafe(known.message)} [${known.code}]\n`);
  if (known.hint) process.stderr.write(`  hint: ${terminalSafe(known.hint)}\n`);
  if (debug) process.stderr.write(`${(error as Error)?.stack}\n`);
  // Not when the output itself is what failed: stdout may be the full disk.
  if (json && !known.reported && !(known instanceof OutputError)) process.stdout.write(`${jsonTerminalSafe(JSON.stringify(known))}\n`);
  return known.exitCode;
}

// The AWS SDK warns on every start under Node 20 that its 2027 releases need Node 22: the operator
// cannot act on it from here (README says which Node to run), so use the SDK's own switch to quiet it.
process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
// The agent itself must never be an IMDSv1 caller: the SDK's instance-role credential provider
// otherwise falls back to token-less requests when the token PUT fails.
process.env['AWS_EC2_METADATA_V1_DISABLED'] ??= 'true';

// A reader that went away (`imds-sniff status | head`) is not an error worth a stack trace, nor a
// verdict: exit 141 (128 + SIGPIPE) as a shell reports a tool it killed, never 0 ("safe", "ready").
// Any other failure to write (a full disk) is one line on stderr, where it can still be said.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.OUTPUT_CLOSED);
    if (stream === process.stdout) {
      process.stderr.write(`imds-sniff: cannot write the output: ${error.code ?? error.message}; this run has no result\n`);
      process.exit(ExitCode.CANNOT_CAPTURE);
    }
    process.exit(ExitCode.INTERNAL);
  });
}

/** `imds-sniff --version`: what was built from which commit, and what it runs on. */
function printVersion(): ExitCodeValue {
  let libpcap: string;
  try {
    libpcap = loadPcap().lib_version;
  } catch (error) {
    libpcap = `not loaded (${error instanceof ImdsSniffError ? error.message : String(error)})`;
  }
  process.stdout.write(versionText(libpcap));
  return ExitCode.OK;
}

async function main(argv: string[]): Promise<ExitCodeValue> {
  const debug = argv.includes('--debug');
  const isVersion = (arg: string): boolean => arg === '--version' || arg === '-V';
  // First: answered before anything else loads (the start-up figure is this path).
  if (isVersion(argv[2] ?? '')) return printVersion();
  let result: Promise<ExitCodeValue> | null = null;
  const program = buildProgram((p) => {
    result = p;
  });
  // Among the capture's own options (`imds-sniff --format json -V`) it is the version too; after a
  // command (`imds-sniff enforce --version`) it is no option of that command: a usage error.
  const commands = new Set(program.commands.flatMap((c) => [c.name(), ...c.aliases()]));
  if (argv.slice(2).some(isVersion) && !argv.slice(2).some((arg) => commands.has(arg))) return printVersion();
  try {
    // --debug may stand anywhere (`imds-sniff status --debug`), not only before the command.
    await program.parseAsync(debug ? argv.filter((arg, i) => i < 2 || arg !== '--debug') : argv);
    // A second SIGINT/SIGTERM ends the run here at once (130), without the command's clean-up.
    return result === null ? ExitCode.OK : await Promise.race([result, secondSignal()]);
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
        return ExitCode.OK;
      }
      // commander already printed the message on stderr; a JSON reader gets it too.
      if (wantsJson(argv)) process.stdout.write(`${jsonTerminalSafe(JSON.stringify(new UsageError(error.message.replace(/^error: /, ''))))}\n`);
      return ExitCode.USAGE;
    }
    return report(error, debug, wantsJson(argv));
  }
}


main(process.argv).then(
  (code) => {
    process.exitCode = code;
    // pcap and child processes can keep handles open after a capture: leave now the work is done.
    setImmediate(() => process.exit(code));
  },
  (error: unknown) => process.exit(report(error, process.argv.includes('--debug'), wantsJson(process.argv))),
);
