// fleet/aws/: the whole inventory: every scope read with bounded concurrency, progress reported as each finishes.

import type { Inventory, Scope } from '../model.js';
import { assembleScope } from '../inventory/assemble.js';
import { collectScope } from './collect-scope.js';
import type { FleetAws } from './session.js';
import { mapLimit } from './throttle-safe.js';

/** Scopes read at a time (each has its own API rate in AWS). */
export const SCOPES_AT_ONCE = 8;

export interface CollectProgress {
  done: number;
  total: number;
  scope: Scope;
  instances: number;
}

/** Reads every scope; `onProgress` after each. A scope's failed calls are in `errors`, never thrown. */
export async function collectInventory(aws: FleetAws, scopes: Scope[], onProgress: (p: CollectProgress) => void = () => {}, now: () => Date = () => new Date()): Promise<Inventory> {
  const inventory: Inventory = {
    collectedAt: now().toISOString(),
    scopes,
    instances: [],
    launchTemplateVersions: [],
    launchConfigurations: [],
    autoScalingGroups: [],
    accountDefaults: [],
    errors: [],
    calls: aws.calls,
  };
  let done = 0;
  const perScope = await mapLimit(scopes, SCOPES_AT_ONCE, async (scope) => {
    const raw = await collectScope(aws, scope);
    const items = assembleScope(raw);
    done += 1;
    onProgress({ done, total: scopes.length, scope, instances: items.instances.length });
    return { items, errors: raw.errors };
  });
  for (const { items, errors } of perScope) {
    inventory.instances.push(...items.instances);
    inventory.launchTemplateVersions.push(...items.launchTemplateVersions);
    inventory.launchConfigurations.push(...items.launchConfigurations);
    inventory.autoScalingGroups.push(...items.autoScalingGroups);
    if (items.accountDefault) inventory.accountDefaults.push(items.accountDefault);
    inventory.errors.push(...errors);
  }
  inventory.calls = { ...aws.calls };
  return inventory;
}
