// aws/: the raw EC2 calls on one instance's metadata options (DescribeInstances, ModifyInstanceMetadataOptions); control/ decides what they mean.

import {
  DescribeInstancesCommand,
  ModifyInstanceMetadataOptionsCommand,
  type EC2Client,
  type HttpTokensState,
  type InstanceMetadataEndpointState,
  type InstanceMetadataOptionsResponse,
  type InstanceMetadataProtocolState,
  type InstanceMetadataTagsState,
} from '@aws-sdk/client-ec2';
import { AwsApiError } from '../errors.js';
import { awsCall, dryRunIgnored, isDryRunSuccess, toAwsApiError, type AwsCallContext } from './aws-errors.js';

/** The IAM actions the control commands need on an instance. */
export const INSTANCE_IAM_ACTIONS = ['ec2:DescribeInstances', 'ec2:ModifyInstanceMetadataOptions'] as const;

/** An instance to act on. */
export interface InstanceTarget {
  client: EC2Client;
  instanceId: string;
  region: string;
}

/** The five settings ModifyInstanceMetadataOptions sets, as EC2 names their values. */
export interface MetadataSettings {
  httpTokens: HttpTokensState;
  httpEndpoint: InstanceMetadataEndpointState;
  hopLimit: number;
  httpProtocolIpv6: InstanceMetadataProtocolState;
  instanceMetadataTags: InstanceMetadataTagsState;
}

/**
 * The instance's MetadataOptions as DescribeInstances returns them (undefined
 * when EC2 leaves them out). Throws AwsApiError (not found, IAM, credentials, throttled).
 */
export async function describeMetadataOptions(target: InstanceTarget): Promise<InstanceMetadataOptionsResponse | undefined> {
  const context: AwsCallContext = { action: 'DescribeInstances', iamActions: INSTANCE_IAM_ACTIONS, resource: target.instanceId, region: target.region };
  const answer = await awsCall(context, () => target.client.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] })));
  const instance = answer.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === target.instanceId);
  if (instance === undefined) {
    throw new AwsApiError('ERR_AWS_INSTANCE_NOT_FOUND', `instance ${target.instanceId} not found in ${target.region}`, { hint: 'check --instance-id and --region' });
  }
  return instance.MetadataOptions;
}

/**
 * Sets all five options. With `dryRun`, EC2 only checks the request and the
 * caller's permission: resolves when it would have succeeded, throws otherwise.
 */
export async function modifyMetadataOptions(target: InstanceTarget, options: MetadataSettings, dryRun: boolean): Promise<void> {
  const context: AwsCallContext = { action: 'ModifyInstanceMetadataOptions', iamActions: INSTANCE_IAM_ACTIONS, resource: target.instanceId, region: target.region };
  const command = new ModifyInstanceMetadataOptionsCommand({
    InstanceId: target.instanceId,
    HttpTokens: options.httpTokens,
    HttpEndpoint: options.httpEndpoint,
    HttpPutResponseHopLimit: options.hopLimit,
    HttpProtocolIpv6: options.httpProtocolIpv6,
    InstanceMetadataTags: options.instanceMetadataTags,
    DryRun: dryRun,
  });
  try {
    await target.client.send(command);
  } catch (error) {
    if (dryRun && isDryRunSuccess(error)) return;
    throw toAwsApiError(error, context);
  }
  if (dryRun) throw dryRunIgnored('ModifyInstanceMetadataOptions', target.instanceId);
}
