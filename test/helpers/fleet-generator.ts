// Test helper: generates a fleet in moto (through the FleetEmulator) with the real SDK: AMIs, launch templates, launch
// configurations, Auto Scaling groups, instances, account defaults, agent metrics for a mix of processes, and EC2's MetadataNoToken.

import { AutoScalingClient, CreateAutoScalingGroupCommand, CreateLaunchConfigurationCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, PutMetricDataCommand, type MetricDatum } from '@aws-sdk/client-cloudwatch';
import {
  CreateLaunchTemplateCommand, CreateLaunchTemplateVersionCommand, CreateTagsCommand, EC2Client, ModifyInstanceMetadataDefaultsCommand, ModifyInstanceMetadataOptionsCommand,
  RegisterImageCommand, RunInstancesCommand, type Tag,
} from '@aws-sdk/client-ec2';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';

export const FLEET_ACCOUNTS = ['123456789012', '210987654321'] as const;
export const FLEET_REGIONS = ['eu-west-1', 'us-east-1', 'us-west-2'] as const;
export const FLEET_ROLE = 'ImdsSniffAudit';
const DAY_MS = 86_400_000;

type Credentials = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** What the generator made on purpose, for the tests to check the report against. */
export interface FleetTruth {
  instances: Map<string, {
    account: string; region: string; httpTokens: 'optional' | 'required';
    /** The agent reports; for the whole window (fullAgent) or only its last days. */
    agent: boolean; fullAgent: boolean;
    blockers: Map<string, number>; noToken: number; group: string | null; tags: Record<string, string>;
  }>;
  /** Auto Scaling group → whether its launches allow IMDSv1. */
  groupsAllowV1: Map<string, boolean>;
}

export interface FleetSpec {
  endpoint: string;
  /** Instances per account and region (6 scopes): 170 makes 1020. */
  perScope: number;
  days: number;
  nowMs: number;
  namespace: string;
}

/** Processes the agents report, and how often each appears as an IMDSv1 caller. */
const CALLERS = ['python3', 'curl', 'java@3f9a1c2b7d4e', 'aws', 'node', 'telegraf'];

/** A deterministic pseudo-random stream, so the fleet is the same every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Credentials in one of the fleet's accounts: moto's default keys, or the role assumed through the emulator. */
export async function accountCredentials(endpoint: string, account: string): Promise<Credentials> {
  const base = { accessKeyId: 'test', secretAccessKey: 'test' };
  if (account === FLEET_ACCOUNTS[0]) return base;
  const sts = new STSClient({ region: 'us-east-1', endpoint, credentials: base });
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${FLEET_ROLE}`, RoleSessionName: 'fleet-generator' }));
  const c = out.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole gave no credentials');
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}) };
}

const tags = (t: Record<string, string>): Tag[] => Object.entries(t).map(([Key, Value]) => ({ Key, Value }));

export async function generateFleet(spec: FleetSpec): Promise<FleetTruth> {
  const truth: FleetTruth = { instances: new Map(), groupsAllowV1: new Map() };
  const random = rng(42);
  const today = Math.floor(spec.nowMs / DAY_MS) * DAY_MS;
  for (const account of FLEET_ACCOUNTS) {
    const credentials = await accountCredentials(spec.endpoint, account);
    for (const region of FLEET_REGIONS) {
      const config = { region, endpoint: spec.endpoint, credentials };
      const ec2 = new EC2Client(config);
      const asg = new AutoScalingClient(config);
      const cw = new CloudWatchClient(config);
      // Account defaults: eu-west-1 of the first account already requires IMDSv2 for new launches.
      if (account === FLEET_ACCOUNTS[0] && region === 'eu-west-1') await ec2.send(new ModifyInstanceMetadataDefaultsCommand({ HttpTokens: 'required' }));

      const legacyAmi = (await ec2.send(new RegisterImageCommand({ Name: `legacy-${region}` }))).ImageId ?? '';
      const modernAmi = (await ec2.send(new RegisterImageCommand({ Name: `modern-${region}`, ImdsSupport: 'v2.0' }))).ImageId ?? '';

      const web = await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'web', LaunchTemplateData: { ImageId: legacyAmi, InstanceType: 't3.small', MetadataOptions: { HttpTokens: 'optional' } } }));
      const webId = web.LaunchTemplate?.LaunchTemplateId ?? '';
      // v2 requires IMDSv2 but is not the default: the group on $Default still launches v1.
      await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: webId, SourceVersion: '1', LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } } }));
      await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'batch', LaunchTemplateData: { ImageId: modernAmi, InstanceType: 'c6g.large' } }));
      await ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: 'api', LaunchTemplateData: { ImageId: legacyAmi, InstanceType: 'm6i.large' } }));
      await asg.send(new CreateLaunchConfigurationCommand({ LaunchConfigurationName: 'legacy-lc', ImageId: legacyAmi, InstanceType: 't2.micro' }));
      await asg.send(new CreateLaunchConfigurationCommand({ LaunchConfigurationName: 'hardened-lc', ImageId: legacyAmi, InstanceType: 't3.micro', MetadataOptions: { HttpTokens: 'required' } }));

      const zone = `${region}a`;
      const accountRequires = account === FLEET_ACCOUNTS[0] && region === 'eu-west-1';
      const groups: { name: string; create: ConstructorParameters<typeof CreateAutoScalingGroupCommand>[0]; tokens: 'optional' | 'required'; env: string }[] = [
        { name: 'web-asg', tokens: 'optional', env: 'prod', create: { AutoScalingGroupName: 'web-asg', LaunchTemplate: { LaunchTemplateName: 'web', Version: '$Default' }, MinSize: 0, MaxSize: 40, AvailabilityZones: [zone] } },
        { name: 'batch-asg', tokens: 'required', env: 'dev', create: { AutoScalingGroupName: 'batch-asg', LaunchTemplate: { LaunchTemplateName: 'batch', Version: '$Latest' }, MinSize: 0, MaxSize: 40, AvailabilityZones: [zone] } },
        { name: 'api-asg', tokens: accountRequires ? 'required' : 'optional', env: 'test', create: { AutoScalingGroupName: 'api-asg', LaunchTemplate: { LaunchTemplateName: 'api', Version: '1' }, MinSize: 0, MaxSize: 40, AvailabilityZones: [zone] } },
        { name: 'legacy-asg', tokens: accountRequires ? 'required' : 'optional', env: 'prod', create: { AutoScalingGroupName: 'legacy-asg', LaunchConfigurationName: 'legacy-lc', MinSize: 0, MaxSize: 40, AvailabilityZones: [zone] } },
      ];
      const perGroup = Math.floor(spec.perScope / 8);
      const instances: { id: string; tokens: 'optional' | 'required'; group: string | null; tags: Record<string, string> }[] = [];
      for (const g of groups) {
        await asg.send(new CreateAutoScalingGroupCommand({ ...g.create, DesiredCapacity: perGroup, Tags: [{ Key: 'env', Value: g.env, PropagateAtLaunch: true }] }));
        truth.groupsAllowV1.set(`${account}/${region}/${g.name}`, g.tokens === 'optional');
        const described = await asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [g.name] }));
        for (const i of described.AutoScalingGroups?.[0]?.Instances ?? []) {
          const id = i.InstanceId ?? '';
          // moto launches with its own defaults; a real launch applies the template, the account default and the AMI.
          await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: id, HttpTokens: g.tokens }));
          instances.push({ id, tokens: g.tokens, group: g.name, tags: { env: g.env } });
        }
      }
      // Hand-built instances: a tenth already require IMDSv2, some carry an exception or a wave tag.
      const standalone = spec.perScope - instances.length;
      for (let k = 0; k < standalone; k += 50) {
        const n = Math.min(50, standalone - k);
        const out = await ec2.send(new RunInstancesCommand({ ImageId: legacyAmi, InstanceType: 'm5.large', MinCount: n, MaxCount: n, TagSpecifications: [{ ResourceType: 'instance', Tags: tags({ env: 'prod', role: 'pet' }) }] }));
        for (const i of out.Instances ?? []) instances.push({ id: i.InstanceId ?? '', tokens: 'optional', group: null, tags: { env: 'prod', role: 'pet' } });
      }
      for (const [n, inst] of instances.entries()) {
        if (inst.group !== null) continue;
        const extra: Record<string, string> = {};
        if (n % 10 === 3) {
          await ec2.send(new ModifyInstanceMetadataOptionsCommand({ InstanceId: inst.id, HttpTokens: 'required' }));
          inst.tokens = 'required';
        }
        if (n % 20 === 5) extra['imds-sniff:exception'] = 'vendor appliance, ticket SEC-123;until=2099-12-31';
        if (n % 20 === 15) extra['imds-sniff:exception'] = 'old batch job;until=2020-01-31';
        if (n % 20 === 7) extra['imds-sniff:wave'] = '1';
        if (Object.keys(extra).length > 0) {
          await ec2.send(new CreateTagsCommand({ Resources: [inst.id], Tags: tags(extra) }));
          Object.assign(inst.tags, extra);
        }
      }

      // Metrics: the agent runs on about two thirds; a quarter of those still have an IMDSv1 caller.
      const datums: MetricDatum[] = [];
      for (const inst of instances) {
        const agent = random() < 0.67;
        let fullAgent = false;
        const blockers = new Map<string, number>();
        let noToken = 0;
        if (agent) {
          // A tenth started two days ago: not enough data yet. The others one day more than the window, and callers
          // only inside it less a day: a report run after midnight sees the same fleet.
          const startDay = random() < 0.9 ? spec.days : 2;
          fullAgent = startDay === spec.days;
          const caller = inst.tokens === 'optional' && random() < 0.25 ? CALLERS[Math.floor(random() * CALLERS.length)] ?? 'curl' : null;
          for (let d = startDay; d >= 0; d--) {
            const ts = new Date(today - d * DAY_MS + 3_600_000);
            const calls = caller !== null && d % 2 === 0 && d < spec.days - 1 ? 1 + Math.floor(random() * 20) : 0;
            datums.push({ MetricName: 'IMDSv1Calls', Dimensions: [{ Name: 'InstanceId', Value: inst.id }], Value: calls, Unit: 'Count', Timestamp: ts });
            if (caller !== null && calls > 0) {
              datums.push({ MetricName: 'IMDSv1Calls', Dimensions: [{ Name: 'InstanceId', Value: inst.id }, { Name: 'Process', Value: caller }], Value: calls, Unit: 'Count', Timestamp: ts });
              blockers.set(caller, (blockers.get(caller) ?? 0) + calls);
            }
          }
        } else if (inst.tokens === 'optional' && random() < 0.3) {
          noToken = 5 + Math.floor(random() * 50);
          await cw.send(new PutMetricDataCommand({ Namespace: 'AWS/EC2', MetricData: [{ MetricName: 'MetadataNoToken', Dimensions: [{ Name: 'InstanceId', Value: inst.id }], Value: noToken, Unit: 'Count', Timestamp: new Date(today - DAY_MS + 3_600_000) }] }));
        }
        truth.instances.set(inst.id, { account, region, httpTokens: inst.tokens, agent, fullAgent, blockers, noToken, group: inst.group, tags: inst.tags });
      }
      for (let k = 0; k < datums.length; k += 1000) await cw.send(new PutMetricDataCommand({ Namespace: spec.namespace, MetricData: datums.slice(k, k + 1000) }));
    }
  }
  return truth;
}
