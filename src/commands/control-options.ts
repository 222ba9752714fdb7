// commands/: the flags status, enforce and rollback share: which instance, where AWS and the agent's files are.

import { Option, type Command } from 'commander';

/** Adds the shared control flags to `command` (with `withAudit`, --events-file for the audit line). */
export function controlOptions(command: Command, withAudit: boolean): Command {
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
