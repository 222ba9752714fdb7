// commands/: the list of commands; each registers itself on the program (help and examples included).

import { Command, Option } from 'commander';
import { runSniff, SNIFF_HELP, type SniffFlags } from './sniff.js';
import { runDoctor, DOCTOR_HELP } from './doctor.js';
import type { DaemonFlags } from './daemon.js';
import { runConfigCheck, CONFIG_CHECK_HELP } from './config-check.js';
import { DAEMON_HELP, DEMO_HELP, ENFORCE_HELP, ROLLBACK_HELP, STATUS_HELP } from './command-help.js';
import type { StatusFlags } from './status.js';
import type { EnforceFlags } from './enforce.js';
import type { RollbackFlags } from './rollback.js';
import { fleet } from './fleet.js';

import type { Register } from './register.js';

export type { Register };

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
    .action((flags: SniffFlags, command: Command) => {
      // Flags of live capture that a `--read` run would otherwise accept and ignore.
      const given = ['duration', 'interface', 'attribution', 'attributionTimeout', 'identity'].filter((name) => command.getOptionValueSource(name) === 'cli');
      setResult(runSniff({ ...flags, liveFlagsGiven: given }));
    });
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
    .action((flags: { format: 'table' | 'json' }) => setResult(import('./demo.js').then((m) => m.runDemo(flags))));
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
    .option('--ready-file <file>', 'write this file (the pid) once capturing, remove it at stop (systemd ExecStartPost waits for it)')
    .addHelpText('after', DAEMON_HELP)
    .action((flags: DaemonFlags) => setResult(import('./daemon.js').then((m) => m.runDaemon(flags))));
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

/** The options status, enforce and rollback share: which instance, where AWS and the agent's files are. Their modules load on use (the EC2 client is large). */
function controlOptions(command: Command, withAudit: boolean): Command {
  command
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'))
    .option('--instance-id <id>', "act on this instance (default: this host's own, from IMDS)")
    .option('--region <region>', "its region (default: this host's own)")
    .option('--endpoint-url <url>', 'EC2 endpoint (VPC endpoint, emulator)')
    .option('--cloudwatch-endpoint-url <url>', 'CloudWatch endpoint, for the metrics of another instance')
    .option('-c, --config <file>', "the agent's config file (default /etc/imds-sniff/config.json)")
    .option('--state-dir <dir>', "the agent's state directory (state file, change record)");
  if (withAudit) command.option('--events-file <file>', 'events log that gets the audit line, or "none" for stderr');
  return command;
}

const status: Register = (program, setResult) => {
  controlOptions(program.command('status').description("this instance's metadata options, what the agent saw, and whether IMDSv2 can be required"), false)
    .option('--min-observation <time>', 'observation window the verdict needs', '24h')
    .addHelpText('after', STATUS_HELP)
    .action((flags: StatusFlags) => setResult(import('./status.js').then((m) => m.runStatus(flags))));
};

const enforce: Register = (program, setResult) => {
  controlOptions(program.command('enforce').description('require IMDSv2 (HttpTokens=required) when the agent saw no IMDSv1 caller; verify; record for rollback'), true)
    .option('--min-observation <time>', 'how long the agent must have observed, with no IMDSv1 call', '24h')
    .option('--force', 'change even when the gate refuses (said in the audit line)')
    .option('--hop-limit <n>', 'set HttpPutResponseHopLimit (default: keep; raised to 2 when container token requests were lost at the hop)')
    .option('--disable-endpoint', 'turn IMDS off (HttpEndpoint=disabled); gated on no IMDS call at all')
    .option('--dry-run', 'check the gate and the IAM permission (EC2 DryRun); change nothing')
    .option('--timeout <time>', 'how long to wait for State=applied and for IMDS to answer as expected', '2m')
    .option('--launch-template <id>', 'harden this launch template (lt-… or name) instead of the instance: new version with HttpTokens=required')
    .option('--set-default', 'with --launch-template: make the new version the default')
    .addHelpText('after', ENFORCE_HELP)
    .action((flags: EnforceFlags) => setResult(import('./enforce.js').then((m) => m.runEnforce(flags))));
};

const rollback: Register = (program, setResult) => {
  controlOptions(program.command('rollback').description('restore the options the last enforce recorded; verify'), true)
    .option('--force', 'restore even when the instance was changed by someone else since')
    .option('--dry-run', 'check the IAM permission (EC2 DryRun); change nothing')
    .option('--timeout <time>', 'how long to wait for State=applied and for IMDS to answer as expected', '2m')
    .option('--launch-template <id>', 'roll back the last enforce of this launch template')
    .addHelpText('after', ROLLBACK_HELP)
    .action((flags: RollbackFlags) => setResult(import('./rollback.js').then((m) => m.runRollback(flags))));
};

/** Every command, in help order. */
export const COMMANDS: Register[] = [sniff, daemon, status, enforce, rollback, fleet, config, doctor, demo];
