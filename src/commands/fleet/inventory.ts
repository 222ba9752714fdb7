// commands/fleet/: `imds-sniff fleet inventory` — which instances, templates, configurations, groups and account defaults allow IMDSv1; its flags and help.

import { Option } from 'commander';
import { ExitCode, type ExitCodeValue } from '../../errors.js';
import { jsonTerminalSafe } from '../../text/terminal-safe.js';
import type { Register } from '../register.js';
import { FLEET_HELP, scopeFlags, scopeOptions, writeOutput, type ScopeFlags } from './shared.js';

interface InventoryFlags extends ScopeFlags {
  format: 'table' | 'json' | 'csv';
}

async function inventoryAction(flags: InventoryFlags): Promise<ExitCodeValue> {
  const scope = scopeOptions(flags);
  const [{ runInventory }, render, { progressReporter }] = await Promise.all([import('../../fleet/run.js'), import('../../fleet/render/inventory.js'), import('../../fleet/render/progress.js')]);
  const progress = progressReporter();
  const { inventory } = await runInventory(scope, progress.update).finally(progress.done);
  const text = flags.format === 'json' ? jsonTerminalSafe(render.inventoryJson(inventory)) : flags.format === 'csv' ? render.inventoryCsv(inventory) : render.inventoryText(inventory, { allInstances: flags.all === true });
  writeOutput(text, flags.output);
  return inventory.errors.length > 0 ? ExitCode.AWS_API : ExitCode.OK;
}

export const inventory: Register = (fleet, setResult) => {
  scopeFlags(fleet.command('inventory').description('instances, launch templates, launch configurations, Auto Scaling groups and account defaults: which allow IMDSv1, and why'))
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'json', 'csv']).default('table'))
    .option('--all', 'with the table format: every instance, not only those that allow IMDSv1')
    .addHelpText('after', FLEET_HELP)
    .action((flags: InventoryFlags) => setResult(inventoryAction(flags)));
};
