// commands/: the list of commands; each registers itself on the program (help and examples included).

import { Command, Option } from 'commander';
import type { ExitCodeValue } from '../errors.js';
import { runSniff, SNIFF_HELP, type SniffFlags } from './sniff.js';
import { runDoctor, DOCTOR_HELP } from './doctor.js';
import { runDemo, DEMO_HELP } from './demo.js';
import { runDaemon, DAEMON_HELP, type DaemonFlags } from './daemon.js';
import { runConfigCheck, CONFIG_CHECK_HELP } from './config-check.js';

export type Register = (program: Command, setResult: (p: Promise<ExitCodeValue>) => void) => void;

const sniff: Register = (program, setResult) => {
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
    .action((flags: SniffFlags) => setResult(runSniff(flags)));
};

const doctor: Register = (program, setResult) => {
  program
    .command('doctor')
    .description('check the prerequisites and say what is missing')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addHelpText('after', DOCTOR_HELP)
    .action((flags: { format: 'table' | 'json' }) => setResult(runDoctor(flags)));
};

const demo: Register = (program, setResult) => {
  program
    .command('demo')
    .description('build a throw-away testbed with a mock IMDS, run real clients, capture them, tear down')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addHelpText('after', DEMO_HELP)
    .action((flags: { format: 'table' | 'json' }) => setResult(runDemo(flags)));
};

const daemon: Register = (program, setResult) => {
  program
    .command('daemon')
    .alias('run')
    .description('run as a service: events log, state file and per-process CloudWatch metrics')
    .option('-c, --config <file>', 'config file (default /etc/imds-sniff/config.json)')
    .option('-i, --interface <name>', 'interface to capture on')
    .addOption(new Option('--attribution <method>', 'how requests are tied to processes').choices(['auto', 'tracefs', 'procfs', 'none']))
    .option('--events-file <file>', 'events log file, or "none"')
    .addOption(new Option('--log-v2 <mode>', 'IMDSv2 requests in the events log').choices(['all', 'summary', 'none']))
    .option('--state-dir <dir>', 'state file and metrics buffer directory')
    .addOption(new Option('--metrics-sink <sink>', 'where metrics go').choices(['cloudwatch', 'emf', 'none']))
    .option('--namespace <name>', 'CloudWatch namespace')
    .option('--interval <time>', 'metrics interval (e.g. 60s)')
    .option('--endpoint-url <url>', 'CloudWatch endpoint (VPC endpoint, tests)')
    .option('--region <region>', 'AWS region (default: the instance\'s own)')
    .option('--instance-id <id>', 'instance id (default: from IMDS)')
    .addHelpText('after', DAEMON_HELP)
    .action((flags: DaemonFlags) => setResult(runDaemon(flags)));
};

const config: Register = (program, setResult) => {
  const group = program.command('config').description('work with the config file');
  group
    .command('check')
    .description('validate a config file and print the effective settings')
    .option('-c, --config <file>', 'config file (default /etc/imds-sniff/config.json)')
    .addHelpText('after', CONFIG_CHECK_HELP)
    .action((flags: { config?: string }) => setResult(runConfigCheck(flags)));
};

/** Every command, in help order. */
export const COMMANDS: Register[] = [sniff, daemon, config, doctor, demo];
