// fleet/aws/: which accounts and regions a fleet command covers: the flags, else AWS Organizations' active accounts and the regions enabled.

import { paginateListAccounts } from '@aws-sdk/client-organizations';
import { DescribeRegionsCommand } from '@aws-sdk/client-ec2';
import { awsCall, type AwsCallContext } from '../../aws/aws-errors.js';
import type { Scope } from '../model.js';
import type { FleetAws } from './session.js';
import { throttleSafe } from './throttle-safe.js';

export interface ScopeChoice {
  /** Account ids, 'organization' for every active account of the organization, or null for the caller's only. */
  accounts: string[] | 'organization' | null;
  /** Region names, or null for every region enabled in the caller's account. */
  regions: string[] | null;
}

/** The accounts in scope, sorted. */
export async function resolveAccounts(aws: FleetAws, choice: ScopeChoice['accounts'], homeRegion: string): Promise<string[]> {
  if (Array.isArray(choice)) return [...new Set(choice)].sort();
  if (choice === null) return [await awsCall({ action: 'GetCallerIdentity', iamActions: ['sts:GetCallerIdentity'], region: homeRegion }, () => aws.account())];
  const accounts: string[] = [];
  const context: AwsCallContext = { action: 'ListAccounts', iamActions: ['organizations:ListAccounts'], region: homeRegion };
  await awsCall(context, async () => {
    for await (const page of paginateListAccounts({ client: aws.organizations() }, {})) {
      for (const a of page.Accounts ?? []) if (a.Id && (a.Status ?? 'ACTIVE') === 'ACTIVE') accounts.push(a.Id);
    }
  });
  return accounts.sort();
}

/** The regions in scope, sorted: the flag's, or those enabled for the caller (DescribeRegions). */
export async function resolveRegions(aws: FleetAws, choice: ScopeChoice['regions'], homeRegion: string): Promise<string[]> {
  if (choice !== null) return [...new Set(choice)].sort();
  const scope = { account: await aws.account(), region: homeRegion };
  const out = await awsCall({ action: 'DescribeRegions', iamActions: ['ec2:DescribeRegions'], region: homeRegion }, () =>
    throttleSafe(() => aws.ec2(scope).send(new DescribeRegionsCommand({}))),
  );
  return (out.Regions ?? []).map((r) => r.RegionName ?? '').filter((r) => r !== '').sort();
}

/** Every account × region pair. */
export function scopesOf(accounts: string[], regions: string[]): Scope[] {
  return accounts.flatMap((account) => regions.map((region) => ({ account, region })));
}
