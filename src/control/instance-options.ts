// control/: an instance's metadata options as control/ reasons about them: EC2's answer (aws/) read with EC2's defaults filled in.

import type { InstanceMetadataOptionsResponse } from '@aws-sdk/client-ec2';
import { describeMetadataOptions, type InstanceTarget } from '../aws/instance-metadata-options.js';
import { EC2_DEFAULT_OPTIONS, type InstanceMetadataOptions } from './metadata-options.js';

/** EC2's answer as options: a field left out (emulators drop them) means EC2's default. */
export function optionsFromEc2(raw: InstanceMetadataOptionsResponse | undefined): InstanceMetadataOptions {
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
export async function readInstanceOptions(target: InstanceTarget): Promise<InstanceMetadataOptions> {
  return optionsFromEc2(await describeMetadataOptions(target));
}
