// fleet/aws/: carries out a launch-path step: a launch template version, a launch configuration copy, a group update, an instance refresh.

import {
  CreateLaunchConfigurationCommand, DescribeLaunchConfigurationsCommand, StartInstanceRefreshCommand, UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand, ModifyLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import type { LaunchStep } from '../launch/plan.js';
import type { FleetAws } from './session.js';
import { throttleSafe } from './throttle-safe.js';

/** What a step made: the new template version number, the copy's name, the refresh id. */
export type StepResult = { created?: string };

/** New versions made by earlier steps, per template and source version (a group update names the one made for it). */
export type MadeVersions = Map<string, number>;

export async function applyLaunchStep(aws: FleetAws, step: LaunchStep, made: MadeVersions): Promise<StepResult> {
  const ec2 = aws.ec2(step.scope);
  const asg = aws.autoScaling(step.scope);
  switch (step.kind) {
    case 'template-version': {
      const out = await throttleSafe(() => ec2.send(new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: step.templateId,
        SourceVersion: String(step.sourceVersion),
        VersionDescription: 'imds-sniff fleet: IMDSv2 required',
        LaunchTemplateData: { MetadataOptions: { HttpTokens: 'required' } },
      })));
      const version = out.LaunchTemplateVersion?.VersionNumber;
      if (version === undefined) throw new Error(`CreateLaunchTemplateVersion on ${step.templateId} returned no version`);
      made.set(`${step.scope.account}/${step.scope.region}/${step.templateId}/${step.sourceVersion}`, version);
      if (step.setDefault) await throttleSafe(() => ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: step.templateId, DefaultVersion: String(version) })));
      return { created: `${step.templateId} v${version}` };
    }
    case 'configuration-copy': {
      const found = await throttleSafe(() => asg.send(new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [step.source] })));
      const lc = found.LaunchConfigurations?.[0];
      if (!lc) throw new Error(`launch configuration ${step.source} is gone`);
      // Everything the source has, and IMDSv2 required (the hop limit kept, 2 when unset: containers need it).
      await throttleSafe(() => asg.send(new CreateLaunchConfigurationCommand({
        LaunchConfigurationName: step.copy,
        ImageId: lc.ImageId, InstanceType: lc.InstanceType, KeyName: lc.KeyName || undefined, SecurityGroups: lc.SecurityGroups,
        UserData: lc.UserData || undefined, IamInstanceProfile: lc.IamInstanceProfile, BlockDeviceMappings: lc.BlockDeviceMappings,
        InstanceMonitoring: lc.InstanceMonitoring, SpotPrice: lc.SpotPrice, EbsOptimized: lc.EbsOptimized, AssociatePublicIpAddress: lc.AssociatePublicIpAddress,
        PlacementTenancy: lc.PlacementTenancy, KernelId: lc.KernelId || undefined, RamdiskId: lc.RamdiskId || undefined,
        MetadataOptions: { HttpTokens: 'required', HttpEndpoint: lc.MetadataOptions?.HttpEndpoint ?? 'enabled', HttpPutResponseHopLimit: lc.MetadataOptions?.HttpPutResponseHopLimit ?? 2 },
      })));
      return { created: step.copy };
    }
    case 'group-update': {
      if ('configuration' in step.to) {
        const name = step.to.configuration;
        await throttleSafe(() => asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: step.group, LaunchConfigurationName: name })));
        return {};
      }
      const { templateId, sourceVersion } = step.to;
      const version = made.get(`${step.scope.account}/${step.scope.region}/${templateId}/${sourceVersion}`);
      if (version === undefined) throw new Error(`no new version of ${templateId} from v${sourceVersion} was made`);
      await throttleSafe(() => asg.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: step.group, LaunchTemplate: { LaunchTemplateId: templateId, Version: String(version) } })));
      return {};
    }
    case 'instance-refresh': {
      const out = await throttleSafe(() => asg.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: step.group, Preferences: { MinHealthyPercentage: 90 } })));
      return { created: out.InstanceRefreshId ?? '' };
    }
  }
}
