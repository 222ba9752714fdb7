// fleet/launch/: pure: the changes that make new launches IMDSv2-only: per Auto Scaling group that still launches with
// IMDSv1, a new launch template version (or a launch configuration copy) with HttpTokens=required and the group moved to it.

import type { AutoScalingGroupItem, Inventory, Scope } from '../model.js';

export type LaunchStep =
  | { kind: 'template-version'; scope: Scope; templateId: string; templateName: string; sourceVersion: number; setDefault: boolean; /** Its source is the template's latest version: made after the template's other new versions. */ latest: boolean; groups: string[] }
  | { kind: 'configuration-copy'; scope: Scope; source: string; copy: string; groups: string[] }
  | { kind: 'group-update'; scope: Scope; group: string; to: { templateId: string; sourceVersion: number } | { configuration: string } }
  | { kind: 'instance-refresh'; scope: Scope; group: string };

export interface LaunchPlan {
  steps: LaunchStep[];
  /** Groups left alone, and why. */
  skipped: { scope: Scope; group: string; why: string }[];
}

/** The name of a launch configuration's IMDSv2-only copy. */
export function copyName(name: string): string {
  return `${name.slice(0, 255 - '-imdsv2'.length)}-imdsv2`;
}

/**
 * For each group whose launches allow IMDSv1: a template-backed group gets one
 * new version of its template (shared by the groups on the same source
 * version), made from the version it launches, with HttpTokens=required; the
 * group then names that version (a group on $Latest follows the copy of the
 * latest version, made last; a group on $Default follows when `setDefault`
 * makes the copy of the default version the default). A group that launches
 * from a mixed instances policy is left to the operator (listed as skipped). A
 * configuration-backed group gets a copy of its configuration with
 * HttpTokens=required (configurations cannot change) and is moved to it.
 * `refresh` adds an instance refresh per group, so running instances are replaced.
 */
export function launchPlan(inventory: Inventory, options: { setDefault: boolean; refresh: boolean }): LaunchPlan {
  const plan: LaunchPlan = { steps: [], skipped: [] };
  const open = inventory.autoScalingGroups.filter((g) => g.posture?.allowsV1 === true);
  const scopeOf = (g: AutoScalingGroupItem): Scope => ({ account: g.account, region: g.region });
  const versions = new Map<string, Extract<LaunchStep, { kind: 'template-version' }>>();
  const copies = new Map<string, Extract<LaunchStep, { kind: 'configuration-copy' }>>();
  for (const g of inventory.autoScalingGroups.filter((x) => x.posture === null)) plan.skipped.push({ scope: scopeOf(g), group: g.name, why: 'its launch source was not found' });
  for (const g of open) {
    const scope = scopeOf(g);
    const key = `${g.account}/${g.region}`;
    if (g.source.type === 'launch-template') {
      const { id, name, version, resolvedVersion, mixed } = g.source;
      if (resolvedVersion === null) continue;
      if (mixed) {
        // UpdateAutoScalingGroup would need the whole MixedInstancesPolicy: not rewritten here.
        plan.skipped.push({ scope, group: g.name, why: `launches from a mixed instances policy: make a version of ${name || id} with HttpTokens=required and set it in the policy by hand` });
        continue;
      }
      const source = inventory.launchTemplateVersions.find((v) => v.account === g.account && v.region === g.region && v.id === id && v.version === resolvedVersion);
      const vKey = `${key}/${id}/${resolvedVersion}`;
      const step = versions.get(vKey) ?? {
        kind: 'template-version' as const, scope, templateId: id, templateName: name, sourceVersion: resolvedVersion,
        // Only the copy of the current default becomes the default: a copy of an older version would change what $Default launches.
        setDefault: options.setDefault && source?.isDefault === true, latest: source?.isLatest === true, groups: [],
      };
      step.groups.push(g.name);
      if (!versions.has(vKey)) {
        versions.set(vKey, step);
        plan.steps.push(step);
      }
      // A group on $Latest follows the copy of the latest version (made last of its template's); one on $Default the new default.
      const follows = (version === '$Latest' && step.latest) || (version === '$Default' && step.setDefault);
      if (!follows) plan.steps.push({ kind: 'group-update', scope, group: g.name, to: { templateId: id, sourceVersion: resolvedVersion } });
    } else if (g.source.type === 'launch-configuration') {
      const cKey = `${key}/${g.source.name}`;
      const step = copies.get(cKey) ?? { kind: 'configuration-copy' as const, scope, source: g.source.name, copy: copyName(g.source.name), groups: [] };
      step.groups.push(g.name);
      if (!copies.has(cKey)) {
        copies.set(cKey, step);
        plan.steps.push(step);
      }
      plan.steps.push({ kind: 'group-update', scope, group: g.name, to: { configuration: step.copy } });
    } else {
      plan.skipped.push({ scope, group: g.name, why: 'no launch template or configuration' });
      continue;
    }
    if (options.refresh) plan.steps.push({ kind: 'instance-refresh', scope, group: g.name });
  }
  // Versions and copies first (of each template the copy of its latest version last, so $Latest is
  // that copy), then the groups that use them, then the refreshes.
  const order = (x: LaunchStep): number => ({ 'template-version': x.kind === 'template-version' && x.latest ? 1 : 0, 'configuration-copy': 0, 'group-update': 2, 'instance-refresh': 3 })[x.kind];
  plan.steps.sort((a, b) => order(a) - order(b));
  return plan;
}

/** One line per step, for the dry-run plan and the audit. */
export function describeStep(s: LaunchStep): string {
  const where = `${s.scope.account} ${s.scope.region}`;
  switch (s.kind) {
    case 'template-version':
      return `${where}: new version of launch template ${s.templateName || s.templateId} from v${s.sourceVersion} with HttpTokens=required${s.setDefault ? ', made the default' : ''} (for ${s.groups.join(', ')})`;
    case 'configuration-copy':
      return `${where}: copy launch configuration ${s.source} to ${s.copy} with HttpTokens=required (for ${s.groups.join(', ')})`;
    case 'group-update':
      return `${where}: Auto Scaling group ${s.group} launches from ${'configuration' in s.to ? `launch configuration ${s.to.configuration}` : `the new version of ${s.to.templateId} made from v${s.to.sourceVersion}`}`;
    case 'instance-refresh':
      return `${where}: instance refresh of ${s.group} (its instances replaced by IMDSv2-only ones)`;
  }
}
