// commands/: `imds-sniff config check` — validates a config file and prints the settings it gives; the `config` group, its flags and help.

import { loadConfig } from '../config/load.js';
import { showPath } from '../text/quote.js';
import { jsonTerminalSafe } from '../text/terminal-safe.js';
import { DEFAULT_CONFIG_PATH } from '../config/schema.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import type { Register } from './register.js';

const CONFIG_CHECK_HELP = `
Prints "ok" and the effective settings (defaults filled in) as JSON, or one line naming the
bad field and exits 2. Without --config it checks ${DEFAULT_CONFIG_PATH} (absent: the defaults); a file
given with --config must be there and hold a JSON object ({} for the defaults).`;

export async function runConfigCheck(flags: { config?: string }): Promise<ExitCodeValue> {
  const { config, source } = loadConfig(flags.config);
  process.stderr.write(`imds-sniff: config ${source === null ? `${DEFAULT_CONFIG_PATH} (absent: defaults)` : showPath(source)}: ok\n`);
  process.stdout.write(`${jsonTerminalSafe(JSON.stringify(config, null, 2))}\n`);
  return ExitCode.OK;
}

export const config: Register = (program, setResult) => {
  const group = program.command('config').description('work with the config file');
  group
    .command('check')
    .description('validate a config file and print the effective settings')
    .option('-c, --config <file>', 'config file (default /etc/imds-sniff/config.json)')
    .addHelpText('after', CONFIG_CHECK_HELP)
    .action((flags: { config?: string }) => setResult(runConfigCheck(flags)));
};
