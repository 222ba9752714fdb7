// fleet/inventory/: pure: one scope's API answers → inventory items, each with whether it allows IMDSv1 and why.

import type { AutoScalingGroup, LaunchConfiguration } from '@aws-sdk/client-auto-scaling';
import type { Instance, InstanceMetadataDefaultsResponse, LaunchTemplate, LaunchTemplateVersion } from '@aws-sdk/client-ec2';
import type {
  AccountDefaultItem, AutoScalingGroupItem, HttpTokens, InstanceItem, LaunchConfigurationItem, LaunchSource, LaunchTemplateVersionItem, Scope, ScopeError,
} from '../model.js';
import { accountDefaultPosture, instancePosture, launchPosture, type AccountTokens } from './posture.js';

/** The API answers of one scope (the shape fleet/aws/collect-scope.ts fills). */
export interface ScopeAnswers {
  scope: Scope;
  instances: Instance[];
  imdsSupport: Map<string, string | null>;
  launchTemplates: LaunchTemplate[];
  launchTemplateVersions: LaunchTemplateVersion[];
  autoScalingGroups: AutoScalingGroup[];
  launchConfigurations: LaunchConfiguration[];
  metadataDefaults: InstanceMetadataDefaultsResponse | null;
  errors: ScopeError[];
}

export interface ScopeItems {
  instances: InstanceItem[];
  launchTemplateVersions: LaunchTemplateVersionItem[];
  launchConfigurations: LaunchConfigurationItem[];
  autoScalingGroups: AutoScalingGroupItem[];
  accountDefault: AccountDefaultItem | null;
}

function tokens(value: string | undefined | null): HttpTokens | null {
  return value === 'optional' || value === 'required' ? value : null;
}

function tagMap(tags: { Key?: string | undefined; Value?: string | undefined }[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of tags ?? []) if (t.Key !== undefined) out[t.Key] = t.Value ?? '';
  return out;
}

/** The account default item; null when it could not be read. */
export function accountDefaultItem(scope: Scope, d: InstanceMetadataDefaultsResponse | null): AccountDefaultItem | null {
  if (d === null) return null;
  const httpTokens = tokens(d.HttpTokens);
  const enforced = d.HttpTokensEnforced === 'enabled';
  return {
    ...scope,
    kind: 'account-default',
    httpTokens,
    hopLimit: d.HttpPutResponseHopLimit ?? null,
    endpoint: d.HttpEndpoint === 'enabled' || d.HttpEndpoint === 'disabled' ? d.HttpEndpoint : null,
    httpTokensEnforced: enforced,
    managedBy: d.ManagedBy ?? null,
    posture: accountDefaultPosture(httpTokens, enforced),
  };
}

/** What an Auto Scaling group names as its launch source. */
function launchSourceOf(g: AutoScalingGroup, versions: LaunchTemplateVersion[]): LaunchSource {
  const spec = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  if (spec) {
    const version = spec.Version ?? '$Default';
    const mine = versions.filter((v) => (spec.LaunchTemplateId ? v.LaunchTemplateId === spec.LaunchTemplateId : v.LaunchTemplateName === spec.LaunchTemplateName));
    const resolved = version === '$Default' ? mine.find((v) => v.DefaultVersion)
      : version === '$Latest' ? mine.reduce<LaunchTemplateVersion | undefined>((a, v) => ((v.VersionNumber ?? 0) > (a?.VersionNumber ?? -1) ? v : a), undefined)
        : mine.find((v) => String(v.VersionNumber) === version);
    return {
      type: 'launch-template',
      id: spec.LaunchTemplateId ?? resolved?.LaunchTemplateId ?? '',
      name: spec.LaunchTemplateName ?? resolved?.LaunchTemplateName ?? '',
      version,
      resolvedVersion: resolved?.VersionNumber ?? null,
      mixed: g.LaunchTemplate === undefined,
    };
  }
  if (g.LaunchConfigurationName) return { type: 'launch-configuration', name: g.LaunchConfigurationName };
  return { type: 'none' };
}

/**
 * The items of one scope. Instances are joined to their Auto Scaling group and
 * launch template through the tags EC2 puts on them; launch template versions
 * and launch configurations list the groups that launch from them.
 */
export function assembleScope(answers: ScopeAnswers): ScopeItems {
  const { scope } = answers;
  const accountDefault = accountDefaultItem(scope, answers.metadataDefaults);
  const account: AccountTokens = accountDefault ?? undefined;
  const ami = (id: string | undefined | null): string | null => (id ? answers.imdsSupport.get(id) ?? null : null);

  const latestOf = new Map<string, number>();
  for (const lt of answers.launchTemplates) if (lt.LaunchTemplateId) latestOf.set(lt.LaunchTemplateId, lt.LatestVersionNumber ?? 0);

  const groups: AutoScalingGroupItem[] = [];
  const usedByVersion = new Map<string, string[]>();
  const usedByConfig = new Map<string, string[]>();
  for (const g of answers.autoScalingGroups) {
    const source = launchSourceOf(g, answers.launchTemplateVersions);
    if (source.type === 'launch-template' && source.resolvedVersion !== null) {
      const key = `${source.id}:${source.resolvedVersion}`;
      usedByVersion.set(key, [...(usedByVersion.get(key) ?? []), g.AutoScalingGroupName ?? '']);
    }
    if (source.type === 'launch-configuration') usedByConfig.set(source.name, [...(usedByConfig.get(source.name) ?? []), g.AutoScalingGroupName ?? '']);
    groups.push({
      ...scope,
      kind: 'auto-scaling-group',
      name: g.AutoScalingGroupName ?? '',
      source,
      instanceIds: (g.Instances ?? []).map((i) => i.InstanceId ?? '').filter((id) => id !== '').sort(),
      tags: tagMap(g.Tags),
      posture: null,
    });
  }

  const versions: LaunchTemplateVersionItem[] = answers.launchTemplateVersions.map((v) => {
    const data = v.LaunchTemplateData;
    const httpTokens = tokens(data?.MetadataOptions?.HttpTokens);
    const id = v.LaunchTemplateId ?? '';
    const version = v.VersionNumber ?? 0;
    return {
      ...scope,
      kind: 'launch-template-version',
      id,
      name: v.LaunchTemplateName ?? '',
      version,
      isDefault: v.DefaultVersion === true,
      isLatest: latestOf.get(id) === version,
      usedBy: (usedByVersion.get(`${id}:${version}`) ?? []).sort(),
      httpTokens,
      imageId: data?.ImageId ?? null,
      imdsSupport: ami(data?.ImageId),
      posture: launchPosture(httpTokens, ami(data?.ImageId), account),
    };
  });

  const configs: LaunchConfigurationItem[] = answers.launchConfigurations.map((lc) => {
    const httpTokens = tokens(lc.MetadataOptions?.HttpTokens);
    return {
      ...scope,
      kind: 'launch-configuration',
      name: lc.LaunchConfigurationName ?? '',
      usedBy: (usedByConfig.get(lc.LaunchConfigurationName ?? '') ?? []).sort(),
      httpTokens,
      imageId: lc.ImageId ?? null,
      imdsSupport: ami(lc.ImageId),
      posture: launchPosture(httpTokens, ami(lc.ImageId), account),
    };
  });

  for (const g of groups) {
    if (g.source.type === 'launch-template') {
      const { id, resolvedVersion } = g.source;
      g.posture = versions.find((v) => v.id === id && v.version === resolvedVersion)?.posture ?? null;
    } else if (g.source.type === 'launch-configuration') {
      const name = g.source.name;
      g.posture = configs.find((c) => c.name === name)?.posture ?? null;
    }
  }

  const versionTokens = new Map(versions.map((v) => [`${v.id}:${v.version}`, v.httpTokens]));
  const instances: InstanceItem[] = answers.instances.map((i) => {
    const tags = tagMap(i.Tags);
    const ltId = tags['aws:ec2launchtemplate:id'];
    const ltVersion = tags['aws:ec2launchtemplate:version'];
    const m = i.MetadataOptions;
    const metadata = {
      httpTokens: tokens(m?.HttpTokens) ?? 'optional',
      hopLimit: m?.HttpPutResponseHopLimit ?? 1,
      endpoint: m?.HttpEndpoint === 'disabled' ? 'disabled' as const : 'enabled' as const,
      ipv6: m?.HttpProtocolIpv6 === 'enabled' ? 'enabled' as const : 'disabled' as const,
      tags: m?.InstanceMetadataTags === 'enabled' ? 'enabled' as const : 'disabled' as const,
    };
    const imdsSupport = ami(i.ImageId);
    return {
      ...scope,
      kind: 'instance',
      id: i.InstanceId ?? '',
      state: i.State?.Name ?? 'unknown',
      type: i.InstanceType ?? '',
      name: tags['Name'] ?? null,
      tags,
      autoScalingGroup: tags['aws:autoscaling:groupName'] ?? null,
      launchTemplate: ltId ? { id: ltId, version: ltVersion ?? '' } : null,
      imageId: i.ImageId ?? '',
      imdsSupport,
      metadata,
      posture: instancePosture(metadata, ltId ? versionTokens.get(`${ltId}:${ltVersion ?? ''}`) : undefined, imdsSupport, account),
    };
  });

  const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return {
    instances: instances.sort((a, b) => (a.id < b.id ? -1 : 1)),
    launchTemplateVersions: versions.sort((a, b) => byName(a, b) || a.version - b.version),
    launchConfigurations: configs.sort(byName),
    autoScalingGroups: groups.sort(byName),
    accountDefault,
  };
}
