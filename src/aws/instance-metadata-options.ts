// aws/: reads and changes one instance's metadata options (DescribeInstances, ModifyInstanceMetadataOptions) and waits for them to apply.

import { DescribeInstancesCommand, ModifyInstanceMetadataOptionsCommand, type EC2Client, type InstanceMetadataOptionsResponse } from '@aws-sdk/client-ec2';
import { AwsApiError } from '../errors.js';
import { describeOptions, EC2_DEFAULT_OPTIONS, sameOptions, type InstanceMetadataOptions, type MetadataOptions } from '../control/metadata-options.js';
import { awsCall, dryRunIgnored, isDryRunSuccess, isTransientAwsError, toAwsApiError } from './aws-errors.js';

/** The IAM actions the control commands need on an instance. */
export const INSTANCE_IAM_ACTIONS = ['ec2:DescribeInstances', 'ec2:ModifyInstanceMetadataOptions'] as const;

/** An instance to act on. */
export interface InstanceTarget {
  client: EC2Client;
  instanceId: string;
  region: string;
}

/** EC2's answer as options: a field left out (emulators drop them) means EC2's default. */
function metadataOptionsFromEc2(raw: InstanceMetadataOptionsResponse | undefined): InstanceMetadataOptions {
  const d = EC2_DEFAULT_OPTIONS;
  return {
    state: raw?.State ?? 'applied',
    httpTokens: raw?.HttpTokens === 'required' ? 'required' : d.httpTokens,
    httpEndpoint: raw?.HttpEndpoint === 'disabled' ? 'disabled' : d.httpEndpoint,
    hopLimit: raw?.HttpPutResponseHopLimit ?? d.hopLimit,
    httpProtocolIpv6: raw?.HttpProtocolIpv6 === 'enabled' ? 'enabled' : d.httpProtocolIpv6,
    instanceMetadataTags: raw?.InstanceMetadataTags === 'enabled' ? 'enabled' : d.instanceMetadataTags,
  };
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
  if (dryRun) throw dryRunIgnored('ModifyInstanceMetadataOptions', target.instanceId);
}

/** Polls start at this interval and grow by half each time up to the cap: a fleet-wide run stays under EC2's rate limits. */
const POLL_FIRST_MS = 1_000;
const POLL_MAX_MS = 5_000;

/**
 * Polls DescribeInstances until the options read back as `expected` with state
 * `applied`. Reads that still show `before` count as pending (EC2 reads are
 * eventually consistent), and so do reads that fail on throttling or the network
 * (EC2 accepted the change; a busy API does not undo it). Throws when they read
 * back as neither (someone else changed the instance meanwhile), on a
 * permanent error, or when still pending at `deadlineMs`. Resolves with the milliseconds waited.
 */
export async function waitUntilApplied(
  target: InstanceTarget,
  expected: MetadataOptions,
  before: MetadataOptions,
  deadlineMs: number,
): Promise<number> {
  const started = Date.now();
  let pollMs = POLL_FIRST_MS;
  for (;;) {
    let state: string;
    try {
      const options = await describeMetadataOptions(target);
      const stale = !sameOptions(options, expected) && sameOptions(options, before);
      if (!sameOptions(options, expected) && !stale) {
        throw new AwsApiError('ERR_CHANGED_MEANWHILE', `instance ${target.instanceId} now reads ${describeOptions(options)}, not what was just set (${describeOptions(expected)}): someone else changed it meanwhile`, {
          hint: 'find who (CloudTrail ModifyInstanceMetadataOptions), then run imds-sniff status and decide again',
        });
      }
      if (options.state === 'applied' && !stale) return Date.now() - started;
      state = stale ? 'not visible' : options.state;
    } catch (error) {
      if (!isTransientAwsError(error)) throw error;
      state = `unreadable (${(error as Error).message})`;
    }
    const left = deadlineMs - Date.now();
    if (left <= 0) {
      throw new AwsApiError('ERR_NOT_APPLIED', `instance ${target.instanceId}: the change is still ${state} after ${Math.round((Date.now() - started) / 1000)} s`, {
        hint: 'EC2 accepted it; check again with imds-sniff status, or wait longer with --timeout',
      });
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
    pollMs = Math.min(POLL_MAX_MS, Math.round(pollMs * 1.5));
  }
}
