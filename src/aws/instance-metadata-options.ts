// aws/: reads and changes one instance's metadata options (DescribeInstances, ModifyInstanceMetadataOptions) and waits for them to apply.

import { DescribeInstancesCommand, ModifyInstanceMetadataOptionsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { AwsApiError } from '../errors.js';
import { describeOptions, metadataOptionsFromEc2, sameOptions, type InstanceMetadataOptions, type MetadataOptions } from '../control/metadata-options.js';
import { awsCall, isDryRunSuccess, toAwsApiError } from './aws-errors.js';

/** The IAM actions the control commands need on an instance. */
export const INSTANCE_IAM_ACTIONS = ['ec2:DescribeInstances', 'ec2:ModifyInstanceMetadataOptions'] as const;

/** An instance to act on. */
export interface InstanceTarget {
  client: EC2Client;
  instanceId: string;
  region: string;
}

/** The instance's metadata options now. Throws AwsApiError (not found, IAM, credentials, throttled). */
export async function describeMetadataOptions(target: InstanceTarget): Promise<InstanceMetadataOptions> {
  const context = { action: 'DescribeInstances', iamActions: INSTANCE_IAM_ACTIONS, resource: target.instanceId, region: target.region };
  const answer = await awsCall(context, () => target.client.send(new DescribeInstancesCommand({ InstanceIds: [target.instanceId] })));
  const instance = answer.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === target.instanceId);
  if (instance === undefined) {
    throw new AwsApiError('ERR_AWS_INSTANCE_NOT_FOUND', `instance ${target.instanceId} not found in ${target.region}`, { hint: 'check --instance-id and --region' });
  }
  return metadataOptionsFromEc2(instance.MetadataOptions);
}

/**
 * Sets all five options. With `dryRun`, EC2 only checks the request and the
 * caller's permission: resolves when it would have succeeded, throws otherwise.
 */
export async function modifyMetadataOptions(target: InstanceTarget, options: MetadataOptions, dryRun: boolean): Promise<void> {
  const context = { action: 'ModifyInstanceMetadataOptions', iamActions: INSTANCE_IAM_ACTIONS, resource: target.instanceId, region: target.region };
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
  if (dryRun) {
    throw new AwsApiError('ERR_AWS_DRY_RUN_IGNORED', `ModifyInstanceMetadataOptions on ${target.instanceId}: the endpoint ignored DryRun and may have changed the instance`, {
      hint: 'check it with imds-sniff status; real EC2 answers DryRunOperation',
    });
  }
}

/** How waiting for a change to apply went. */
export interface WaitResult {
  options: InstanceMetadataOptions;
  waitedMs: number;
}

/**
 * Polls DescribeInstances until the options read back as `expected` with state
 * `applied`. Reads that still show `before` count as pending (EC2 reads are
 * eventually consistent). Throws when they read back as neither (someone else
 * changed the instance meanwhile) or stay pending past `timeoutMs`.
 */
export async function waitUntilApplied(
  target: InstanceTarget,
  expected: MetadataOptions,
  before: MetadataOptions,
  timeoutMs: number,
  pollMs = 1_000,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => number = Date.now,
): Promise<WaitResult> {
  const started = now();
  for (;;) {
    const options = await describeMetadataOptions(target);
    const stale = !sameOptions(options, expected) && sameOptions(options, before);
    if (!sameOptions(options, expected) && !stale) {
      throw new AwsApiError('ERR_CHANGED_MEANWHILE', `instance ${target.instanceId} now reads ${describeOptions(options)}, not what was just set (${describeOptions(expected)}): someone else changed it meanwhile`, {
        hint: 'find who (CloudTrail ModifyInstanceMetadataOptions), then run imds-sniff status and decide again',
      });
    }
    const waitedMs = now() - started;
    if (options.state === 'applied' && !stale) return { options, waitedMs };
    if (waitedMs >= timeoutMs) {
      throw new AwsApiError('ERR_NOT_APPLIED', `instance ${target.instanceId}: the change is still ${stale ? 'not visible' : options.state} after ${Math.round(waitedMs / 1000)} s`, {
        hint: 'EC2 accepted it; check again with imds-sniff status, or wait longer with --timeout',
      });
    }
    await sleep(Math.min(pollMs, timeoutMs - waitedMs));
  }
}
