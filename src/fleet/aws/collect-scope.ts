// fleet/aws/: reads one account and region: instances, their AMIs' ImdsSupport, launch templates and versions, launch configurations, Auto Scaling groups, the metadata defaults.

import { DescribeAutoScalingGroupsCommand, DescribeLaunchConfigurationsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import {
  DescribeImagesCommand, DescribeInstancesCommand, DescribeLaunchTemplatesCommand, DescribeLaunchTemplateVersionsCommand,
  GetInstanceMetadataDefaultsCommand,
} from '@aws-sdk/client-ec2';
import { awsErrorCode } from '../../aws/aws-errors.js';
import type { ScopeAnswers } from '../inventory/assemble.js';
import type { Scope } from '../model.js';
import type { FleetAws } from './session.js';
import { allPages, mapLimit, throttleSafe } from './throttle-safe.js';

/** What the APIs answered for one scope, before any judgement (fleet/inventory/assemble.ts makes the items). */
export type ScopeRaw = ScopeAnswers;

/** Instances in these states are counted; terminated ones are gone for good. */
const LIVE_STATES = ['pending', 'running', 'stopping', 'stopped'];
/** Calls at a time within one scope (each account and region has its own API rate). */
const CALLS_PER_SCOPE = 4;
/** EC2 filters take at most 200 values. */
const FILTER_VALUES = 200;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The versions an Auto Scaling group names: "$Default", "$Latest" or a number, per launch template id or name. */
function versionsNamed(groups: AutoScalingGroup[]): { ids: Map<string, Set<string>>; names: Map<string, Set<string>> } {
  const ids = new Map<string, Set<string>>();
  const names = new Map<string, Set<string>>();
  for (const g of groups) {
    const spec = g.LaunchTemplate ?? g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
    if (!spec) continue;
    const version = spec.Version ?? '$Default';
    if (spec.LaunchTemplateId) ids.set(spec.LaunchTemplateId, (ids.get(spec.LaunchTemplateId) ?? new Set()).add(version));
    else if (spec.LaunchTemplateName) names.set(spec.LaunchTemplateName, (names.get(spec.LaunchTemplateName) ?? new Set()).add(version));
  }
  return { ids, names };
}

/**
 * Reads one scope. A call that fails (not authorized, the API missing in the
 * region) becomes an error on the scope and the rest is still read; only
 * throttling is retried until it passes.
 */
export async function collectScope(aws: FleetAws, scope: Scope): Promise<ScopeRaw> {
  const ec2 = aws.ec2(scope);
  const asg = aws.autoScaling(scope);
  const raw: ScopeRaw = {
    scope, instances: [], imdsSupport: new Map(), launchTemplates: [], launchTemplateVersions: [], autoScalingGroups: [], launchConfigurations: [], metadataDefaults: null, errors: [],
  };
  const step = async (what: string, run: () => Promise<void>): Promise<void> => {
    try {
      await run();
    } catch (error) {
      raw.errors.push({ ...scope, what, code: awsErrorCode(error), message: ((error as Error).message ?? String(error)).split('\n')[0]?.slice(0, 300) ?? '' });
    }
  };

  await Promise.all([
    step('instances', async () => {
      const pages = await allPages(
        (NextToken) => ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: 'instance-state-name', Values: LIVE_STATES }], MaxResults: 1000, NextToken })),
        (p) => p.NextToken,
      );
      raw.instances = pages.flatMap((p) => (p.Reservations ?? []).flatMap((r) => r.Instances ?? []));
    }),
    step('auto scaling groups', async () => {
      const pages = await allPages((NextToken) => asg.send(new DescribeAutoScalingGroupsCommand({ MaxRecords: 100, NextToken })), (p) => p.NextToken);
      raw.autoScalingGroups = pages.flatMap((p) => p.AutoScalingGroups ?? []);
    }),
    step('launch configurations', async () => {
      const pages = await allPages((NextToken) => asg.send(new DescribeLaunchConfigurationsCommand({ MaxRecords: 100, NextToken })), (p) => p.NextToken);
      raw.launchConfigurations = pages.flatMap((p) => p.LaunchConfigurations ?? []);
    }),
    step('launch templates', async () => {
      const pages = await allPages((NextToken) => ec2.send(new DescribeLaunchTemplatesCommand({ MaxResults: 200, NextToken })), (p) => p.NextToken);
      raw.launchTemplates = pages.flatMap((p) => p.LaunchTemplates ?? []);
    }),
    step('instance metadata defaults', async () => {
      const out = await throttleSafe(() => ec2.send(new GetInstanceMetadataDefaultsCommand({})));
      raw.metadataDefaults = out.AccountLevel ?? {};
    }),
  ]);

  await step('launch template versions', async () => {
    const named = versionsNamed(raw.autoScalingGroups);
    const perTemplate = await mapLimit(raw.launchTemplates.filter((lt) => lt.LaunchTemplateId), CALLS_PER_SCOPE, async (lt) => {
      const versions = new Set(['$Default', '$Latest', ...(named.ids.get(lt.LaunchTemplateId ?? '') ?? []), ...(named.names.get(lt.LaunchTemplateName ?? '') ?? [])]);
      const pages = await allPages(
        (NextToken) => ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.LaunchTemplateId, Versions: [...versions], NextToken })),
        (p) => p.NextToken,
      );
      // $Default and $Latest may be one version: keep it once.
      const byNumber = new Map(pages.flatMap((p) => p.LaunchTemplateVersions ?? []).map((v) => [v.VersionNumber, v]));
      return [...byNumber.values()];
    });
    raw.launchTemplateVersions = perTemplate.flat();
  });

  await step('images', async () => {
    const ids = new Set<string>();
    for (const i of raw.instances) if (i.ImageId) ids.add(i.ImageId);
    for (const v of raw.launchTemplateVersions) if (v.LaunchTemplateData?.ImageId) ids.add(v.LaunchTemplateData.ImageId);
    for (const lc of raw.launchConfigurations) if (lc.ImageId) ids.add(lc.ImageId);
    for (const chunk of chunks([...ids].sort(), FILTER_VALUES)) {
      // A filter, not ImageIds: an AMI deregistered since is simply absent (ImageIds would fail the whole call).
      const pages = await allPages(
        (NextToken) => ec2.send(new DescribeImagesCommand({ Filters: [{ Name: 'image-id', Values: chunk }], IncludeDeprecated: true, NextToken })),
        (p) => p.NextToken,
      );
      for (const image of pages.flatMap((p) => p.Images ?? [])) if (image.ImageId) raw.imdsSupport.set(image.ImageId, image.ImdsSupport ?? null);
    }
  });
  return raw;
}
