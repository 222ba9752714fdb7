// fleet/render/: pure: the inventory as a table for people, CSV (one row per item) or JSON.

import type { Inventory, InventoryItem, Posture } from '../model.js';
import { csv } from './csv.js';
import { textTable } from './text-table.js';

const yes = (p: Posture | null): string => (p === null ? '?' : p.allowsV1 ? 'YES' : 'no');

/** The inventory's counts of items that still allow IMDSv1. */
export function inventoryCounts(inv: Inventory): Record<string, { total: number; allowV1: number }> {
  const count = (items: { posture: Posture | null }[]): { total: number; allowV1: number } => ({ total: items.length, allowV1: items.filter((i) => i.posture?.allowsV1 === true).length });
  return {
    instances: count(inv.instances),
    launchTemplateVersions: count(inv.launchTemplateVersions),
    launchConfigurations: count(inv.launchConfigurations),
    autoScalingGroups: count(inv.autoScalingGroups),
    accountDefaults: count(inv.accountDefaults),
  };
}

export function inventoryText(inv: Inventory, opts: { allInstances?: boolean } = {}): string {
  const c = inventoryCounts(inv);
  const out: string[] = [];
  out.push(`IMDS inventory of ${inv.scopes.length} account/region scopes, ${inv.collectedAt}`);
  out.push(textTable(['', 'total', 'allow IMDSv1'], [
    ['instances', c['instances']?.total ?? 0, c['instances']?.allowV1 ?? 0],
    ['launch template versions', c['launchTemplateVersions']?.total ?? 0, c['launchTemplateVersions']?.allowV1 ?? 0],
    ['launch configurations', c['launchConfigurations']?.total ?? 0, c['launchConfigurations']?.allowV1 ?? 0],
    ['auto scaling groups', c['autoScalingGroups']?.total ?? 0, c['autoScalingGroups']?.allowV1 ?? 0],
    ['account defaults', c['accountDefaults']?.total ?? 0, c['accountDefaults']?.allowV1 ?? 0],
  ]));
  out.push('', 'Account defaults');
  out.push(textTable(['account', 'region', 'HttpTokens', 'enforced', 'managed by', 'IMDSv1', 'from'], inv.accountDefaults.map((d) => [
    d.account, d.region, d.httpTokens ?? 'no-preference', d.httpTokensEnforced ? 'yes' : 'no', d.managedBy ?? '-', yes(d.posture), d.posture.source,
  ])));
  out.push('', 'Auto Scaling groups');
  out.push(textTable(['account', 'region', 'group', 'launches from', 'instances', 'IMDSv1', 'from'], inv.autoScalingGroups.map((g) => [
    g.account, g.region, g.name,
    g.source.type === 'launch-template' ? `${g.source.name || g.source.id} ${g.source.version}${g.source.resolvedVersion !== null ? ` (v${g.source.resolvedVersion})` : ''}` : g.source.type === 'launch-configuration' ? `config ${g.source.name}` : '-',
    g.instanceIds.length, yes(g.posture), g.posture?.source ?? '-',
  ])));
  out.push('', 'Launch template versions');
  out.push(textTable(['account', 'region', 'template', 'version', 'HttpTokens', 'used by', 'IMDSv1', 'from'], inv.launchTemplateVersions.map((v) => [
    v.account, v.region, `${v.name} (${v.id})`, `${v.version}${v.isDefault ? ' default' : ''}${v.isLatest ? ' latest' : ''}`, v.httpTokens ?? '-', v.usedBy.join(' ') || '-', yes(v.posture), v.posture.source,
  ])));
  out.push('', 'Launch configurations');
  out.push(textTable(['account', 'region', 'configuration', 'HttpTokens', 'used by', 'IMDSv1', 'from'], inv.launchConfigurations.map((l) => [
    l.account, l.region, l.name, l.httpTokens ?? '-', l.usedBy.join(' ') || '-', yes(l.posture), l.posture.source,
  ])));
  const shown = opts.allInstances ? inv.instances : inv.instances.filter((i) => i.posture.allowsV1);
  out.push('', opts.allInstances ? 'Instances' : `Instances that allow IMDSv1 (${shown.length}; --all for every instance)`);
  out.push(textTable(['account', 'region', 'instance', 'state', 'type', 'group', 'HttpTokens', 'hop', 'endpoint', 'IMDSv1', 'from'], shown.map((i) => [
    i.account, i.region, i.id, i.state, i.type, i.autoScalingGroup ?? '-', i.metadata.httpTokens, i.metadata.hopLimit, i.metadata.endpoint, yes(i.posture), i.posture.source,
  ])));
  if (inv.errors.length > 0) {
    out.push('', 'Not read');
    out.push(textTable(['account', 'region', 'what', 'error'], inv.errors.map((e) => [e.account, e.region, e.what, `${e.code}: ${e.message}`])));
  }
  return `${out.join('\n')}\n`;
}

const CSV_HEADER = ['kind', 'account', 'region', 'id', 'name', 'allows_imdsv1', 'source', 'http_tokens', 'hop_limit', 'endpoint', 'state', 'instance_type', 'auto_scaling_group', 'launch_template', 'image_id', 'imds_support', 'used_by'];

function csvRow(item: InventoryItem): (string | number | boolean | null)[] {
  const allows = item.posture === null ? null : item.posture.allowsV1;
  const source = item.posture?.source ?? null;
  switch (item.kind) {
    case 'instance':
      return [item.kind, item.account, item.region, item.id, item.name, allows, source, item.metadata.httpTokens, item.metadata.hopLimit, item.metadata.endpoint, item.state, item.type, item.autoScalingGroup,
        item.launchTemplate ? `${item.launchTemplate.id}:${item.launchTemplate.version}` : null, item.imageId, item.imdsSupport, null];
    case 'launch-template-version':
      return [item.kind, item.account, item.region, `${item.id}:${item.version}`, item.name, allows, source, item.httpTokens, null, null, null, null, null, null, item.imageId, item.imdsSupport, item.usedBy.join(' ')];
    case 'launch-configuration':
      return [item.kind, item.account, item.region, item.name, item.name, allows, source, item.httpTokens, null, null, null, null, null, null, item.imageId, item.imdsSupport, item.usedBy.join(' ')];
    case 'auto-scaling-group':
      return [item.kind, item.account, item.region, item.name, item.name, allows, source, null, null, null, null, null, item.name,
        item.source.type === 'launch-template' ? `${item.source.id}:${item.source.version}` : item.source.type === 'launch-configuration' ? item.source.name : null, null, null, item.instanceIds.join(' ')];
    case 'account-default':
      return [item.kind, item.account, item.region, `${item.account}/${item.region}`, null, allows, source, item.httpTokens ?? 'no-preference', item.hopLimit, item.endpoint, item.httpTokensEnforced ? 'enforced' : null, null, null, null, null, null, item.managedBy];
  }
}

export function inventoryCsv(inv: Inventory): string {
  const items: InventoryItem[] = [...inv.accountDefaults, ...inv.autoScalingGroups, ...inv.launchTemplateVersions, ...inv.launchConfigurations, ...inv.instances];
  return csv(CSV_HEADER, items.map(csvRow));
}

export function inventoryJson(inv: Inventory): string {
  return `${JSON.stringify(inv, null, 2)}\n`;
}
