// fleet/inventory/: pure: whether an instance, a launch source or an account default allows IMDSv1, and which setting decides it.

import type { AccountDefaultItem, HttpTokens, InstanceMetadata, Posture } from '../model.js';

/** The account default's part in a launch: HttpTokens when set (null: no preference). */
export type AccountTokens = Pick<AccountDefaultItem, 'httpTokens'> | undefined;

/**
 * What a launch gets, in EC2's order of precedence: the launch source's own
 * HttpTokens, else the account default in the region, else the AMI (ImdsSupport
 * v2.0 means required), else EC2's default, optional.
 */
export function launchPosture(own: HttpTokens | null, imdsSupport: string | null, account: AccountTokens): Posture {
  if (own !== null) return { allowsV1: own === 'optional', source: 'explicit' };
  if (account?.httpTokens != null) return { allowsV1: account.httpTokens === 'optional', source: 'account-default' };
  if (imdsSupport === 'v2.0') return { allowsV1: false, source: 'ami' };
  return { allowsV1: true, source: 'ec2-default' };
}

/**
 * A running instance: IMDSv1 is allowed while HttpTokens is optional and the
 * endpoint is on. Its options are what EC2 reports now; the source is the
 * setting that explains them: its launch template's version, the account
 * default, the AMI or EC2's default, and `explicit` when none does (set at
 * launch or changed since).
 */
export function instancePosture(metadata: InstanceMetadata, launchTemplateTokens: HttpTokens | null | undefined, imdsSupport: string | null, account: AccountTokens): Posture {
  const allowsV1 = metadata.httpTokens === 'optional' && metadata.endpoint === 'enabled';
  if (metadata.endpoint === 'disabled') return { allowsV1, source: 'explicit' };
  if (launchTemplateTokens != null) return { allowsV1, source: launchTemplateTokens === metadata.httpTokens ? 'launch-template' : 'explicit' };
  const launched = launchPosture(null, imdsSupport, account);
  const launchedTokens: HttpTokens = launched.allowsV1 ? 'optional' : 'required';
  return { allowsV1, source: launchedTokens === metadata.httpTokens ? launched.source : 'explicit' };
}

/** What a launch with nothing set gets from the account default (and EC2's default without one). */
export function accountDefaultPosture(httpTokens: HttpTokens | null, httpTokensEnforced: boolean): Posture {
  if (httpTokensEnforced) return { allowsV1: false, source: 'account-default' };
  return launchPosture(null, null, { httpTokens });
}
