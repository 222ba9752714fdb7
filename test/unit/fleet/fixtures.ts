// Fixtures for the fleet's pure parts: one scope's API answers in the SDK's shapes, as DescribeInstances & co. return them.

import type { ScopeAnswers } from '../../../src/fleet/inventory/assemble.js';
import type { InstanceMetrics } from '../../../src/fleet/report/model.js';

export const SCOPE = { account: '111122223333', region: 'eu-west-1' };
export const DAY = 86_400_000;
/** 2026-12-04 12:00 UTC. */
export const NOW = Date.UTC(2026, 11, 4, 12);

type Inst = ScopeAnswers['instances'][number];

function instance(id: string, tokens: 'optional' | 'required', tags: Record<string, string>, imageId = 'ami-legacy', endpoint: 'enabled' | 'disabled' = 'enabled'): Inst {
  return {
    InstanceId: id, InstanceType: 't3.small', ImageId: imageId, State: { Name: 'running' },
    Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
    MetadataOptions: { HttpTokens: tokens, HttpPutResponseHopLimit: 1, HttpEndpoint: endpoint, HttpProtocolIpv6: 'disabled', InstanceMetadataTags: 'disabled', State: 'applied' },
  };
}

/**
 * web-asg launches lt-web $Default (v1, optional); v2 requires but is not the default.
 * batch-asg launches lt-batch $Latest: no HttpTokens, an AMI with ImdsSupport v2.0.
 * legacy-asg launches the launch configuration legacy-lc (nothing set: EC2's default).
 */
export function scopeAnswers(over: Partial<ScopeAnswers> = {}): ScopeAnswers {
  return {
    scope: SCOPE,
    instances: [
      instance('i-0000000000000web1', 'optional', { 'aws:autoscaling:groupName': 'web-asg', 'aws:ec2launchtemplate:id': 'lt-web', 'aws:ec2launchtemplate:version': '1', env: 'prod' }),
      instance('i-000000000000batch', 'required', { 'aws:autoscaling:groupName': 'batch-asg', 'aws:ec2launchtemplate:id': 'lt-batch', 'aws:ec2launchtemplate:version': '1', env: 'dev' }, 'ami-modern'),
      instance('i-0000000000000pet1', 'optional', { Name: 'db-primary' }),
      instance('i-0000000000000pet2', 'required', { Name: 'hardened' }),
      instance('i-0000000000000off1', 'optional', { Name: 'no-imds' }, 'ami-legacy', 'disabled'),
    ],
    imdsSupport: new Map([['ami-legacy', null], ['ami-modern', 'v2.0']]),
    launchTemplates: [
      { LaunchTemplateId: 'lt-web', LaunchTemplateName: 'web', LatestVersionNumber: 2, DefaultVersionNumber: 1 },
      { LaunchTemplateId: 'lt-batch', LaunchTemplateName: 'batch', LatestVersionNumber: 1, DefaultVersionNumber: 1 },
    ],
    launchTemplateVersions: [
      { LaunchTemplateId: 'lt-web', LaunchTemplateName: 'web', VersionNumber: 1, DefaultVersion: true, LaunchTemplateData: { ImageId: 'ami-legacy', MetadataOptions: { HttpTokens: 'optional' } } },
      { LaunchTemplateId: 'lt-web', LaunchTemplateName: 'web', VersionNumber: 2, DefaultVersion: false, LaunchTemplateData: { ImageId: 'ami-legacy', MetadataOptions: { HttpTokens: 'required' } } },
      { LaunchTemplateId: 'lt-batch', LaunchTemplateName: 'batch', VersionNumber: 1, DefaultVersion: true, LaunchTemplateData: { ImageId: 'ami-modern' } },
    ],
    autoScalingGroups: [
      { AutoScalingGroupName: 'web-asg', LaunchTemplate: { LaunchTemplateName: 'web', Version: '$Default' }, MinSize: 0, MaxSize: 4, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0), Instances: [{ InstanceId: 'i-0000000000000web1', AvailabilityZone: 'eu-west-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false }] },
      { AutoScalingGroupName: 'batch-asg', LaunchTemplate: { LaunchTemplateId: 'lt-batch', Version: '$Latest' }, MinSize: 0, MaxSize: 4, DesiredCapacity: 1, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) },
      { AutoScalingGroupName: 'legacy-asg', LaunchConfigurationName: 'legacy-lc', MinSize: 0, MaxSize: 4, DesiredCapacity: 0, DefaultCooldown: 300, AvailabilityZones: [], HealthCheckType: 'EC2', CreatedTime: new Date(0) },
    ],
    launchConfigurations: [
      { LaunchConfigurationName: 'legacy-lc', ImageId: 'ami-legacy', InstanceType: 't2.micro', CreatedTime: new Date(0) },
      { LaunchConfigurationName: 'hardened-lc', ImageId: 'ami-legacy', InstanceType: 't2.micro', CreatedTime: new Date(0), MetadataOptions: { HttpTokens: 'required' } },
    ],
    metadataDefaults: {},
    errors: [],
    ...over,
  };
}

/** Daily series over the last `days` days ending today, each day `value` (or per-day values). */
export function daily(days: number, value: number | ((d: number) => number)): Map<number, number> {
  const today = Math.floor(NOW / DAY) * DAY;
  const m = new Map<number, number>();
  for (let d = 0; d < days; d++) m.set(today - d * DAY, typeof value === 'number' ? value : value(d));
  return m;
}

export function metrics(over: Partial<InstanceMetrics> = {}): InstanceMetrics {
  return { agentDays: new Map(), v1ByProcess: new Map(), metadataNoToken: new Map(), metadataNoTokenRejected: new Map(), ...over };
}
